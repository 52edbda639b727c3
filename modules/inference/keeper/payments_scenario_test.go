package keeper_test

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/gtank/merlin"
	r255 "github.com/gtank/ristretto255"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module/scenario"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/tx"
)

// recordLabels names the scenario's inference records: an id is random (the user's
// sr25519 signature is), so a scenario names each record it starts ("as=r1" or r<N>
// in order), refers to it by that name in later messages and as "@r1" in query paths,
// and reads "@r1" wherever the chain prints the id.
type recordLabels struct {
	ids    map[string]inference.Hash
	names  map[inference.Hash]string
	sigs   map[string][]byte // a request signed once: the same line replays it
	next   int
	signer map[string]*keys.Pair
}

func newRecordLabels() *recordLabels {
	return &recordLabels{ids: map[string]inference.Hash{}, names: map[inference.Hash]string{}, sigs: map[string][]byte{}, signer: map[string]*keys.Pair{}}
}

func (l *recordLabels) pair(name string) (*keys.Pair, error) {
	if p, ok := l.signer[name]; ok {
		return p, nil
	}
	p, err := keys.FromURI(scenario.URI(name))
	if err != nil {
		return nil, err
	}
	l.signer[name] = p
	return p, nil
}

func (l *recordLabels) id(label string) (inference.Hash, error) {
	if id, ok := l.ids[label]; ok {
		return id, nil
	}
	if raw, err := hex.DecodeString(label); err == nil && len(raw) == 32 {
		var id inference.Hash
		copy(id[:], raw)
		return id, nil
	}
	return inference.Hash{}, fmt.Errorf("%w: no record named %q", scenario.ErrBadArg, label)
}

// render replaces every labelled id (hex) in s by "@label".
func (l *recordLabels) render(s string) string {
	var pairs []string
	labels := make([]string, 0, len(l.ids))
	for label := range l.ids {
		labels = append(labels, label)
	}
	sort.Strings(labels)
	for _, label := range labels {
		id := l.ids[label]
		pairs = append(pairs, hex.EncodeToString(id[:]), "@"+label)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// path replaces "@label" segments of a query path by the ids.
func (l *recordLabels) path(p string) (string, error) {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if label, ok := strings.CutPrefix(s, "@"); ok {
			id, err := l.id(label)
			if err != nil {
				return "", err
			}
			segs[i] = hex.EncodeToString(id[:])
		}
	}
	return strings.Join(segs, "/"), nil
}

// deterministicSign is an sr25519 signature (schnorrkel, "substrate" context, as
// keys.Signer makes it) whose witness is derived from the secret and the message
// rather than drawn at random, so that a scenario's record ids, and so the order the
// chain lists and settles records in, are the same on every run. The chain verifies
// it as any other.
func deterministicSign(p *keys.Pair, msg []byte) []byte {
	secret := p.SecretBytes()
	x := r255.NewScalar()
	if err := x.Decode(secret[:32]); err != nil {
		panic(err)
	}
	wide := sha512.Sum512(append(append([]byte("scenario witness"), secret[:]...), msg...))
	r := r255.NewScalar().FromUniformBytes(wide[:])
	sig := make([]byte, 64)
	r255.NewElement().ScalarBaseMult(r).Encode(sig[:0])
	t := merlin.NewTranscript("SigningContext")
	t.AppendMessage([]byte(""), keys.SigningContext)
	t.AppendMessage([]byte("sign-bytes"), msg)
	t.AppendMessage([]byte("proto-name"), []byte("Schnorr-sig"))
	pub := p.Public()
	t.AppendMessage([]byte("sign:pk"), pub[:])
	t.AppendMessage([]byte("sign:R"), sig[:32])
	k := r255.NewScalar().FromUniformBytes(t.ExtractBytes([]byte("sign:c"), 64))
	s := r255.NewScalar().Multiply(k, x)
	s.Add(s, r)
	s.Encode(sig[32:32])
	sig[63] |= 0x80
	return sig
}

// paymentMsgs are the paid inference's message words:
//
//	inf_start netuid=N user=U model=M executor=E at=SECONDS [prompt=P] [max=T]
//	          [path=/v1/...] [body=WORD] [as=LABEL] [n=K] [sig=bad]
//	    one start entry (K entries, bodies WORD-0…, labels LABEL.0… with n) signed by
//	    user U at GenesisTime+SECONDS; the same line again replays the same signature
//	inf_finish netuid=N ids=L1,L2 [prompt=P] [completion=C] [response=WORD]
//	inf_validate netuid=N ids=L1,L2 valid=true|false
//	inf_vote netuid=N ids=L1,L2 valid=true|false
func paymentMsgs(l *recordLabels) scenario.MsgBuilders {
	ids := func(a *scenario.Args) ([]inference.Hash, error) {
		s, err := a.String("ids")
		if err != nil {
			return nil, err
		}
		var out []inference.Hash
		for _, label := range strings.Split(s, ",") {
			id, err := l.id(label)
			if err != nil {
				return nil, err
			}
			out = append(out, id)
		}
		return out, nil
	}
	u32 := func(a *scenario.Args, key string, def uint32) (uint32, error) {
		if !a.Has(key) {
			return def, nil
		}
		v, err := a.Uint(key, 32)
		return uint32(v), err
	}
	word := func(a *scenario.Args, key, def string) (string, error) {
		if !a.Has(key) {
			return def, nil
		}
		return a.String(key)
	}
	checks := func(a *scenario.Args) (uint16, []inference.Check, error) {
		netuid, err := a.Uint("netuid", 16)
		if err != nil {
			return 0, nil, err
		}
		list, err := ids(a)
		if err != nil {
			return 0, nil, err
		}
		v, err := a.String("valid")
		if err != nil {
			return 0, nil, err
		}
		valid, err := strconv.ParseBool(v)
		if err != nil {
			return 0, nil, fmt.Errorf("%w: valid=%q", scenario.ErrBadArg, v)
		}
		var cs []inference.Check
		for _, id := range list {
			cs = append(cs, inference.Check{ID: id, Valid: valid})
		}
		return uint16(netuid), cs, nil
	}
	return scenario.MsgBuilders{
		"inf_start": func(a *scenario.Args) (tx.Msg, error) {
			netuid, err := a.Uint("netuid", 16)
			if err != nil {
				return tx.Msg{}, err
			}
			userName, err := a.String("user")
			if err != nil {
				return tx.Msg{}, err
			}
			user, err := l.pair(userName)
			if err != nil {
				return tx.Msg{}, err
			}
			exec, err := a.Account("executor")
			if err != nil {
				return tx.Msg{}, err
			}
			model, err := a.String("model")
			if err != nil {
				return tx.Msg{}, err
			}
			atS, err := a.String("at")
			if err != nil {
				return tx.Msg{}, err
			}
			at, err := strconv.ParseInt(atS, 10, 32)
			if err != nil {
				return tx.Msg{}, fmt.Errorf("%w: at=%q: want seconds after the genesis time", scenario.ErrBadArg, atS)
			}
			prompt, err := u32(a, "prompt", 10)
			if err != nil {
				return tx.Msg{}, err
			}
			maxT, err := u32(a, "max", 20)
			if err != nil {
				return tx.Msg{}, err
			}
			path, err := word(a, "path", inference.PathChat)
			if err != nil {
				return tx.Msg{}, err
			}
			body, err := word(a, "body", "hello")
			if err != nil {
				return tx.Msg{}, err
			}
			label, err := word(a, "as", "")
			if err != nil {
				return tx.Msg{}, err
			}
			n, err := u32(a, "n", 0)
			if err != nil {
				return tx.Msg{}, err
			}
			bad := a.Has("sig")
			if bad {
				if s, _ := a.String("sig"); s != "bad" {
					return tx.Msg{}, fmt.Errorf("%w: sig=%q: only sig=bad", scenario.ErrBadArg, s)
				}
			}
			ts := scenario.GenesisTime().Add(time.Duration(at) * time.Second).UnixNano()
			one := func(body, label string) inference.StartEntry {
				bh := inference.Hash(sha256.Sum256([]byte(body)))
				key := fmt.Sprintf("%s|%s|%d|%s|%v", userName, path, ts, body, bad)
				sig, ok := l.sigs[key]
				if !ok {
					sig = deterministicSign(user, inference.RequestPayload("POST", path, ts, bh))
					if bad {
						sig[5] ^= 1
					}
					l.sigs[key] = sig
				}
				e := inference.StartEntry{User: inference.Account(user.Public()), Model: model, Path: path, Timestamp: ts, BodyHash: bh,
					Signature: sig, Executor: inference.Account(exec), PromptTokens: prompt, MaxTokens: maxT}
				id := e.ID()
				if _, named := l.names[id]; !named {
					if label == "" {
						l.next++
						label = fmt.Sprintf("r%d", l.next)
					}
					l.ids[label], l.names[id] = id, label
				}
				return e
			}
			s := inference.Start{Netuid: uint16(netuid)}
			if n == 0 {
				s.Entries = append(s.Entries, one(body, label))
			} else {
				for i := uint32(0); i < n; i++ {
					sub := ""
					if label != "" {
						sub = fmt.Sprintf("%s.%d", label, i)
					}
					s.Entries = append(s.Entries, one(fmt.Sprintf("%s-%d", body, i), sub))
				}
			}
			return inference.NewStart(s)
		},
		"inf_finish": func(a *scenario.Args) (tx.Msg, error) {
			netuid, err := a.Uint("netuid", 16)
			if err != nil {
				return tx.Msg{}, err
			}
			list, err := ids(a)
			if err != nil {
				return tx.Msg{}, err
			}
			prompt, err := u32(a, "prompt", 10)
			if err != nil {
				return tx.Msg{}, err
			}
			completion, err := u32(a, "completion", 5)
			if err != nil {
				return tx.Msg{}, err
			}
			resp, err := word(a, "response", "answer")
			if err != nil {
				return tx.Msg{}, err
			}
			f := inference.Finish{Netuid: uint16(netuid)}
			for _, id := range list {
				f.Entries = append(f.Entries, inference.FinishEntry{ID: id, PromptTokens: prompt, CompletionTokens: completion, ResponseHash: sha256.Sum256([]byte(resp))})
			}
			return inference.NewFinish(f)
		},
		"inf_validate": func(a *scenario.Args) (tx.Msg, error) {
			netuid, cs, err := checks(a)
			if err != nil {
				return tx.Msg{}, err
			}
			return inference.NewValidate(inference.Validate{Netuid: netuid, Entries: cs})
		},
		"inf_vote": func(a *scenario.Args) (tx.Msg, error) {
			netuid, cs, err := checks(a)
			if err != nil {
				return tx.Msg{}, err
			}
			return inference.NewVote(inference.Vote{Netuid: netuid, Entries: cs})
		},
	}
}

// runPayments runs a scenario file with the paid inference's words and record labels.
func runPayments(t *testing.T, path string, tables ...scenario.MsgBuilders) {
	t.Helper()
	l := newRecordLabels()
	msgs, err := scenario.Merge(append(tables, paymentMsgs(l))...)
	if err != nil {
		t.Fatal(err)
	}
	h := scenario.New(scenario.NewApp, msgs)
	datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
		if d.Cmd == "query" && len(d.CmdArgs) == 1 {
			p, err := l.path(d.CmdArgs[0].Key)
			if err != nil {
				d.Fatalf(t, "%v", err)
			}
			d.CmdArgs[0].Key = p
		}
		out, err := h.Command(d)
		if err != nil {
			d.Fatalf(t, "%v", err)
		}
		return l.render(out)
	})
}
