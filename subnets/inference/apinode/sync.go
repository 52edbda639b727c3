package apinode

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/subnets/inference/mlnode"
	"github.com/tessera-net/tessera/tx"
)

func joinHostPort(host string, port uint16) string {
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}

// hostPort splits a base URL into its host and port (the scheme's default when absent).
func hostPort(raw string) (string, uint16, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return "", 0, fmt.Errorf("%q is not a URL with a host", raw)
	}
	p := u.Port()
	if p == "" {
		p = "80"
		if u.Scheme == "https" {
			p = "443"
		}
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil || port == 0 {
		return "", 0, fmt.Errorf("%q: port %q is not 1..65535", raw, p)
	}
	return u.Hostname(), uint16(port), nil
}

// Declaration is the MLNode as it is declared on chain: the host and port of its
// inference URL, the port of its management URL (the PoC port), its hardware and models.
func (m MLNode) Declaration() (inference.MLNode, error) {
	host, ip, err := hostPort(m.Client.Inference)
	if err != nil {
		return inference.MLNode{}, fmt.Errorf("mlnode %s: inference url: %w", m.ID, err)
	}
	_, mp, err := hostPort(m.Client.Management)
	if err != nil {
		return inference.MLNode{}, fmt.Errorf("mlnode %s: management url: %w", m.ID, err)
	}
	d := inference.MLNode{ID: m.ID, Host: host, InferencePort: ip, PoCPort: mp, Hardware: m.Hardware, Models: m.Models}
	return d, d.Validate()
}

// Diff is the hardware diff that turns the chain's declaration into want: the nodes new
// or changed, and the ids no longer wanted; ok is false when they already agree.
func Diff(netuid uint16, chain, want []inference.MLNode) (inference.HardwareDiff, bool) {
	d := inference.HardwareDiff{Netuid: netuid}
	have := map[string]inference.MLNode{}
	for _, c := range chain {
		have[c.ID] = c
	}
	wanted := map[string]bool{}
	for _, w := range want {
		wanted[w.ID] = true
		if c, ok := have[w.ID]; !ok || !sameNode(c, w) {
			d.Add = append(d.Add, w)
		}
	}
	for _, c := range chain {
		if !wanted[c.ID] {
			d.Remove = append(d.Remove, c.ID)
		}
	}
	return d, len(d.Add)+len(d.Remove) > 0
}

func sameNode(a, b inference.MLNode) bool {
	return a.ID == b.ID && a.Host == b.Host && a.InferencePort == b.InferencePort && a.PoCPort == b.PoCPort &&
		slices.Equal(a.Hardware, b.Hardware) && slices.Equal(a.Models, b.Models)
}

// syncRetry is how many blocks the API node waits before it retries a refused
// declaration or serve_axon.
const syncRetry = 10

// sync declares the MLNodes and serves the axon when the chain's differ from ours. An
// unregistered hotkey declares nothing (registration is the operator's: tessera subnets
// register).
func (n *Node) sync(ctx context.Context, v *view) error {
	n.mu.Lock()
	due := !n.synced || v.height() >= n.syncAt
	n.mu.Unlock()
	if !due {
		return nil
	}
	if _, ok := v.registered[n.self]; !ok {
		return nil
	}
	var msgs []tx.Msg
	var want []inference.MLNode
	for _, m := range n.cfg.MLNodes {
		d, err := m.Declaration()
		if err != nil {
			return err
		}
		want = append(want, d)
	}
	var parts []inference.ParticipantView
	if err := n.cfg.Chain.Query(ctx, fmt.Sprintf("/inference/participants/%d", n.cfg.Netuid), &parts); err != nil {
		return err
	}
	var have []inference.MLNode
	for _, p := range parts {
		if p.Hotkey == n.self {
			have = p.Nodes
		}
	}
	if d, ok := Diff(n.cfg.Netuid, have, want); ok && len(want) > 0 {
		m, err := inference.NewHardwareDiff(d)
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
	}
	if n.cfg.PublicURL != "" {
		if u, _ := v.url(n.self); u != n.cfg.PublicURL {
			ip, port, err := AxonOf(n.cfg.PublicURL)
			if err != nil {
				return err
			}
			m, err := subnets.NewServeAxon(n.cfg.Netuid, ip, port, 1)
			if err != nil {
				return err
			}
			msgs = append(msgs, m)
		}
	}
	n.mu.Lock()
	n.synced, n.syncAt = true, v.height()+syncRetry
	n.mu.Unlock()
	if len(msgs) == 0 {
		return nil
	}
	return n.cfg.Chain.Send(ctx, msgs...)
}

// loadModels brings every MLNode up on its model of the group in force, with the epoch
// snapshot's args (the MLNode merges its local ones under them), once per group; before
// any group, on its first model. A node that fails is retried at the next poll.
func (n *Node) loadModels(ctx context.Context, v *view) error {
	g := v.group()
	var errs []error
	for _, m := range n.cfg.MLNodes {
		model, args, epoch := m.Models[0], []string(nil), uint64(0)
		if g != nil {
			epoch = g.Epoch
			for _, id := range m.Models {
				if sg, ok := v.subgroup(id); ok {
					model, args = id, sg.Model.Args
					break
				}
			}
		}
		key := fmt.Sprintf("%d/%s", epoch, model)
		n.mu.Lock()
		done := n.loaded[m.ID] == key
		n.mu.Unlock()
		if done {
			continue
		}
		if err := m.Client.InferenceUp(ctx, model, args); err != nil {
			errs = append(errs, fmt.Errorf("mlnode %s: inference up %s: %w", m.ID, model, err))
			continue
		}
		n.cfg.Log.Info("mlnode serving", "mlnode", m.ID, "model", model, "epoch", epoch, "args", args)
		n.mu.Lock()
		n.loaded[m.ID] = key
		n.mu.Unlock()
	}
	if len(errs) > 0 {
		return fmt.Errorf("%v", errs)
	}
	return nil
}

// ParseMLNode reads an MLNode given as
//
//	ID=MANAGEMENT_URL,INFERENCE_URL,MODEL[+MODEL...][,hardware=TYPE:N]...
//
// (the form of tessera inference-api --mlnode). The client it returns has no key yet:
// New gives it the API node's.
func ParseMLNode(spec string) (MLNode, error) {
	id, rest, ok := strings.Cut(spec, "=")
	fields := strings.Split(rest, ",")
	if !ok || id == "" || len(fields) < 3 {
		return MLNode{}, fmt.Errorf("mlnode %q: want ID=MANAGEMENT_URL,INFERENCE_URL,MODEL[+MODEL...][,hardware=TYPE:N]", spec)
	}
	m := MLNode{ID: id, Client: &mlnode.Client{Management: fields[0], Inference: fields[1]}, Models: strings.Split(fields[2], "+")}
	for _, u := range fields[:2] {
		if _, _, err := hostPort(u); err != nil || !(strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")) {
			return MLNode{}, fmt.Errorf("mlnode %s: %q is not an http(s) URL with a host", id, u)
		}
	}
	for _, f := range fields[3:] {
		hw, ok := strings.CutPrefix(f, "hardware=")
		typ, count, ok2 := strings.Cut(hw, ":")
		c, err := strconv.ParseUint(count, 10, 32)
		if !ok || !ok2 || typ == "" || err != nil || c == 0 {
			return MLNode{}, fmt.Errorf("mlnode %s: %q is not hardware=TYPE:COUNT (hardware=H100:8)", id, f)
		}
		m.Hardware = append(m.Hardware, inference.Hardware{Type: typ, Count: uint32(c)})
	}
	if _, err := m.Declaration(); err != nil {
		return MLNode{}, err
	}
	return m, nil
}

// forgetLoaded makes the next poll bring an MLNode up again (it lost its model).
func (n *Node) forgetLoaded(id string) {
	n.mu.Lock()
	delete(n.loaded, id)
	n.mu.Unlock()
}
