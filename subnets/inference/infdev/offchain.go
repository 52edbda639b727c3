package infdev

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/subnets/inference/signed"
)

// The off-chain half of the devnet's inference network (docs/inference.md): each
// participant runs, as processes of the tessera binary, one MLNode service per
// declared MLNode (`tessera mlnode serve`, serving the shared tiny GGUF or an engine
// random model) and one API node (`tessera inference-api`), which declares the MLNodes,
// drives their PoC and serving, routes and pays the requests sent to it, and checks
// the others' work. A devnet user sends chat completions through the API nodes in
// turn, so the commentary has requests, checks and refunds to show.

// running is a started process.
type running struct {
	Process
	cmd  *exec.Cmd
	done chan struct{}
	err  *error
}

// Processes are the inference network's processes, once Start has returned.
func (e *Extension) Processes() []Process {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Process, len(e.procs))
	for i, p := range e.procs {
		out[i] = p.Process
	}
	return out
}

// Serves reports whether the extension runs the MLNode and API node processes (and so
// serves inference), rather than only the PoC in process.
func (e *Extension) Serves() bool { return e.o.Binary != "" }

// APIURLs are the participants' API nodes started so far, in participant order.
func (e *Extension) APIURLs() []string {
	var out []string
	for _, p := range e.Processes() {
		if p.Kind == "api" {
			out = append(out, p.API)
		}
	}
	return out
}

// ModelSource is what the MLNodes serve for every model: the GGUF's path, or
// random:tiny (an engine random model). A participant joining the devnet must serve the
// same, or the others' exact replays fail on its answers.
func (e *Extension) ModelSource() string {
	if e.o.ModelFile != "" {
		return e.o.ModelFile
	}
	return "random:tiny"
}

// modelSpec is the --model value an MLNode serves id with.
func (e *Extension) modelSpec(id string) string { return id + "=" + e.ModelSource() }

// startOffchain starts every participant's MLNodes, then its API node.
func (e *Extension) startOffchain(ctx context.Context, rpc string, netuid uint16) error {
	for i, p := range e.o.Participants {
		hot := e.pairs[i].Public()
		log := e.o.Logger.With("part", "inference", "participant", p.URI)
		apiArgs := []string{"inference-api", "--node", rpc, "--from-uri", p.URI, "--netuid", strconv.Itoa(int(netuid)),
			"--addr", "127.0.0.1:0", "-o", "json"}
		if p.Forge > 0 {
			apiArgs = append(apiArgs, "--forge", strconv.FormatUint(p.Forge, 10))
		}
		if e.o.Budget > 0 {
			apiArgs = append(apiArgs, "--budget", strconv.FormatUint(e.o.Budget, 10))
		}
		for _, n := range p.Nodes {
			args := []string{"mlnode", "serve", "--api-node", hot.String(), "--mgmt-addr", "127.0.0.1:0",
				"--inference-addr", "127.0.0.1:0", "--threads", "1", "-o", "json"}
			for _, m := range e.o.Models {
				args = append(args, "--model", e.modelSpec(m.ID))
			}
			if p.AlterEvery > 0 {
				args = append(args, "--alter-every", strconv.FormatUint(p.AlterEvery, 10))
			}
			var b struct {
				Management string `json:"management_url"`
				Inference  string `json:"inference_url"`
			}
			r, err := e.launch(ctx, log.With("mlnode", n.ID), args, &b)
			if err != nil {
				return fmt.Errorf("participant %s, MLNode %s: %w", p.URI, n.ID, err)
			}
			r.Kind, r.Participant, r.MLNode, r.Management, r.Inference = "mlnode", p.URI[2:], n.ID, b.Management, b.Inference
			apiArgs = append(apiArgs, "--mlnode", fmt.Sprintf("%s=%s,%s,%s,hardware=cpu:1", n.ID, b.Management, b.Inference, strings.Join(n.Models, "+")))
		}
		var b struct {
			URL string `json:"url"`
		}
		r, err := e.launch(ctx, log.With("api", true), apiArgs, &b)
		if err != nil {
			return fmt.Errorf("participant %s's API node: %w", p.URI, err)
		}
		r.Kind, r.Participant, r.API = "api", p.URI[2:], b.URL
	}
	return nil
}

func (e *Extension) launch(ctx context.Context, log *slog.Logger, args []string, banner any) (*running, error) {
	cmd, done, werr, err := startProc(ctx, log, e.o.Binary, args, banner)
	if err != nil {
		return nil, err
	}
	r := &running{cmd: cmd, done: done, err: werr}
	r.PID = cmd.Process.Pid
	e.mu.Lock()
	e.procs = append(e.procs, r)
	e.mu.Unlock()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		<-done
		if ctx.Err() == nil {
			log.Warn("inference process exited", "args", strings.Join(args[:2], " "), "err", *werr)
		}
	}()
	return r, nil
}

// UserURI is the devnet's inference user: funded at genesis, it pays for the requests
// the devnet sends.
const UserURI = "//InferenceUser"

// GatewayURI is the account the devnet's gateway pays the inference network with:
// funded at genesis like the user.
const GatewayURI = "//InferenceGateway"

// userLoad sends a chat completion through the API nodes in turn every interval, each
// signed by the user, alternating the models; it logs each answer's executor.
func (e *Extension) userLoad(ctx context.Context, user *keys.Pair, every time.Duration) {
	hc := &http.Client{Timeout: 30 * time.Second}
	t := time.NewTicker(every)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		apis := e.APIURLs()
		if len(apis) == 0 || len(e.o.Models) == 0 {
			continue
		}
		model := e.o.Models[i%len(e.o.Models)].ID
		body, _ := json.Marshal(map[string]any{"model": model, "max_tokens": 16,
			"messages": []map[string]string{{"role": "user", "content": fmt.Sprintf("Tell me about request %d.", i)}}})
		status, executor, err := sendChat(ctx, hc, apis[i%len(apis)], user, body)
		e.mu.Lock()
		if err == nil && status == http.StatusOK {
			e.served++
		} else {
			e.failed++
		}
		e.mu.Unlock()
		e.o.Logger.Debug("devnet inference request", "api", apis[i%len(apis)], "model", model, "status", status, "executor", executor, "err", err)
	}
}

// sendChat posts a signed chat completion to an API node and returns the status and the
// executor that served it.
func sendChat(ctx context.Context, hc *http.Client, api string, user *keys.Pair, body []byte) (int, string, error) {
	req, _, err := signed.NewPost(ctx, strings.TrimSuffix(api, "/")+"/v1/chat/completions", body, user, time.Now())
	if err != nil {
		return 0, "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Tessera-Executor"), nil
}

// Requests are how many of the devnet user's requests were answered and how many failed.
func (e *Extension) Requests() (served, failed uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.served, e.failed
}
