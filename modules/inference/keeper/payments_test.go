package keeper_test

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

var payT0 = time.Unix(1_700_000_000, 0).UTC()

// doAt runs a message through its handler at height h with the block time of h.
func (n *benchNet) doAt(h int64, signer keys.PublicKey) func(tx.Msg, error) *module.Context {
	return func(m tx.Msg, err error) *module.Context {
		n.b.Helper()
		n.must(err)
		ctx := n.ctx(h)
		ctx.Time = payT0.Add(time.Duration(h) * time.Second)
		handle, ok := n.set.Inference.Handlers()[m.Type]
		if !ok {
			n.b.Fatalf("no handler for %s", m.Type)
		}
		n.must(handle(ctx, signer, m))
		return ctx
	}
}

// starts signs count start entries of user's, at height h's time, routed by Choose
// over the group in force.
func (n *benchNet) starts(h int64, users []*keys.Signer, count int, seq *uint64) ([]inference.StartEntry, []inference.FinishEntry) {
	g, err := n.set.Inference.Current(n.kv, 1)
	n.must(err)
	cands := inference.Eligible(g, "m-a", false)
	ts := payT0.Add(time.Duration(h) * time.Second).UnixNano()
	var ss []inference.StartEntry
	var fs []inference.FinishEntry
	for i := 0; i < count; i++ {
		*seq++
		u := users[*seq%uint64(len(users))]
		body := sha256.Sum256(binary.BigEndian.AppendUint64(nil, *seq))
		sig := u.Sign(inference.RequestPayload("POST", inference.PathChat, ts, body))
		exec, ok := inference.Choose(cands, sha256.Sum256(sig))
		if !ok {
			n.b.Fatal("no eligible executor")
		}
		ss = append(ss, inference.StartEntry{User: inference.Account(u.PublicKey()), Model: "m-a", Path: inference.PathChat, Timestamp: ts,
			BodyHash: body, Signature: sig, Executor: exec, PromptTokens: 64, MaxTokens: 256})
		fs = append(fs, inference.FinishEntry{ID: inference.RequestID(sig), PromptTokens: 50, CompletionTokens: 100, ResponseHash: body})
	}
	return ss, fs
}

func (n *benchNet) users(count int, balance uint64) []*keys.Signer {
	var out []*keys.Signer
	for i := 0; i < count; i++ {
		p, err := keys.FromURI(fmt.Sprintf("//payuser%d", i))
		n.must(err)
		s, err := keys.NewSigner(p)
		n.must(err)
		n.must(n.set.Accounts.Credit(n.kv, p.Public(), balance))
		out = append(out, s)
	}
	return out
}

func (n *benchNet) balance(pub keys.PublicKey) uint64 {
	a, err := n.set.Accounts.Account(n.kv, pub)
	n.must(err)
	return a.Balance
}

// finishBy groups finish entries by their records' executors.
func finishBy(ss []inference.StartEntry, fs []inference.FinishEntry) map[inference.Account][]inference.FinishEntry {
	out := map[inference.Account][]inference.FinishEntry{}
	for i := range ss {
		out[ss[i].Executor] = append(out[ss[i].Executor], fs[i])
	}
	return out
}

// A dissolved subnet refunds every record still in escrow (in full when started, its
// cost when finished) and leaves no inference state.
func TestDissolveRefundsRecords(t *testing.T) {
	n := newBenchNet(t, 3, 2)
	n.epoch(1, "")
	const balance = 1_000_000_000
	users := n.users(4, balance)
	seq := uint64(0)
	ss, fs := n.starts(33, users, 12, &seq)
	ctx := n.doAt(33, n.hots[0])(inference.NewStart(inference.Start{Netuid: 1, Entries: ss}))
	for _, e := range ctx.Events() {
		if e.Type == "inference_refused" {
			t.Fatalf("refused: %v", e.Attributes)
		}
	}
	by := finishBy(ss[:6], fs[:6]) // half finished, half still started
	for _, h := range n.hots {
		if f := by[inference.Account(h)]; len(f) > 0 {
			n.doAt(34, h)(inference.NewFinish(inference.Finish{Netuid: 1, Entries: f}))
		}
	}
	if n.balance(inference.EscrowAccount) == 0 {
		t.Fatal("nothing in escrow")
	}
	n.must(n.set.Inference.Dissolve(n.kv, 1))
	for _, u := range users {
		if got := n.balance(u.PublicKey()); got != balance {
			t.Errorf("user %s has %d after the dissolve, want %d back", u.PublicKey(), got, balance)
		}
	}
	if got := n.balance(inference.EscrowAccount); got != 0 {
		t.Errorf("escrow holds %d after the dissolve", got)
	}
	left := 0
	n.must(n.kv.Iterate([]byte("inf/"), func(k, _ []byte) (bool, error) { left++; return true, nil }))
	if left != 0 {
		t.Fatalf("%d inference keys left", left)
	}
}

// BenchmarkStartFinish1024 is the keeper's share of one batch of 1024 records: the
// start message (1024 user signatures verified, escrow moved, records written) and the
// executors' finish messages, on a write buffer over a 100-participant group. Signing
// is not timed.
func BenchmarkStartFinish1024(b *testing.B) {
	n := newBenchNet(b, 100, 2)
	n.epoch(1, "")
	users := n.users(256, 1<<50)
	base := n.kv
	seq := uint64(0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		n.kv = store.NewCache(base)
		ss, fs := n.starts(33, users, 1024, &seq)
		by := finishBy(ss, fs)
		b.StartTimer()
		n.doAt(33, n.hots[0])(inference.NewStart(inference.Start{Netuid: 1, Entries: ss}))
		for _, h := range n.hots {
			if f := by[inference.Account(h)]; len(f) > 0 {
				n.doAt(34, h)(inference.NewFinish(inference.Finish{Netuid: 1, Entries: f}))
			}
		}
	}
	b.ReportMetric(float64(b.N*1024)/b.Elapsed().Seconds(), "records/s")
}

// FuzzPaymentHandlers runs arbitrary message bodies through the paid inference's
// handlers over a subnet with a group in force and records in every status: nothing
// panics, a failed message is a coded refusal, and the escrow always holds exactly what
// the records in progress owe.
func FuzzPaymentHandlers(f *testing.F) {
	n := newBenchNet(f, 3, 2)
	n.epoch(1, "")
	users := n.users(2, 1<<40)
	seq := uint64(0)
	ss, fs := n.starts(33, users, 4, &seq)
	n.doAt(33, n.hots[0])(inference.NewStart(inference.Start{Netuid: 1, Entries: ss}))
	for h, f := range finishBy(ss[:2], fs[:2]) {
		n.doAt(34, keys.PublicKey(h))(inference.NewFinish(inference.Finish{Netuid: 1, Entries: f}))
	}
	for _, m := range []func() (tx.Msg, error){
		func() (tx.Msg, error) { return inference.NewStart(inference.Start{Netuid: 1, Entries: ss[2:]}) },
		func() (tx.Msg, error) { return inference.NewFinish(inference.Finish{Netuid: 1, Entries: fs}) },
		func() (tx.Msg, error) {
			return inference.NewValidate(inference.Validate{Netuid: 1, Entries: []inference.Check{{ID: fs[0].ID}, {ID: fs[1].ID, Valid: true}}})
		},
		func() (tx.Msg, error) {
			return inference.NewVote(inference.Vote{Netuid: 1, Entries: []inference.Check{{ID: fs[0].ID}}})
		},
	} {
		msg, err := m()
		n.must(err)
		f.Add(uint8(0), []byte(msg.Body))
	}
	base := n.kv
	types := []string{inference.MsgStart, inference.MsgFinish, inference.MsgValidate, inference.MsgVote}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		if len(body) > 4096 {
			t.Skip("bodies past 4 KiB only repeat entries (each a signature check)")
		}
		n.kv = store.NewCache(base)
		n.b = t
		m := tx.Msg{Type: types[int(which)%len(types)], Body: body}
		handle := n.set.Inference.Handlers()[m.Type]
		for i, signer := range n.hots {
			ctx := n.ctx(35 + int64(i))
			ctx.Time = payT0.Add(time.Duration(35+i) * time.Second)
			if err := handle(ctx, signer, m); err != nil && tx.CodeOf(err) == tx.CodeInternal {
				t.Fatalf("%s: uncoded refusal: %v", m.Type, err)
			}
		}
		for h := int64(35); h < 60; h++ {
			n.endBlock(h)
		}
		if got := n.balance(inference.EscrowAccount); got != 0 {
			t.Fatalf("escrow holds %d once every record is final", got)
		}
	})
}
