package inference

import (
	"strings"
	"testing"

	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/tx"
)

func goodNode() MLNode {
	return MLNode{ID: "gpu-0", Host: "node1.example.org", InferencePort: 8000, PoCPort: 8080,
		Hardware: []Hardware{{Type: "H100", Count: 8}}, Models: []string{"m-a", "m-b"}}
}

// Every bad field of an MLNode is refused with the field named.
func TestMLNodeValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*MLNode)
		want string
	}{
		{"ok", func(*MLNode) {}, ""},
		{"ip host", func(n *MLNode) { n.Host = "2001:db8::1" }, ""},
		{"empty id", func(n *MLNode) { n.ID = "" }, "mlnode id"},
		{"id with slash", func(n *MLNode) { n.ID = "a/b" }, "mlnode id"},
		{"bad host", func(n *MLNode) { n.Host = "a..b" }, "not an IP address or a DNS name"},
		{"host label dash", func(n *MLNode) { n.Host = "-a.b" }, "not an IP address or a DNS name"},
		{"no ports", func(n *MLNode) { n.PoCPort = 0 }, "poc_port"},
		{"zero count", func(n *MLNode) { n.Hardware[0].Count = 0 }, "hardware[0] count"},
		{"no models", func(n *MLNode) { n.Models = nil }, "0 models"},
		{"twice", func(n *MLNode) { n.Models = []string{"m", "m"} }, "listed twice"},
		{"bad model", func(n *MLNode) { n.Models = []string{"a/b"} }, "models[0]"},
		{"many hardware", func(n *MLNode) { n.Hardware = make([]Hardware, MaxHardware+1) }, "hardware entries"},
	} {
		n := goodNode()
		c.edit(&n)
		err := n.Validate()
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || tx.CodeOf(err) != tx.CodeInvalidMessage) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func TestSchedule(t *testing.T) {
	p := models.Params{EpochBlocks: 20, PoCBlocks: 3, PoCExchange: 2, ValidationBlocks: 3, ValidationXchg: 2, LoadingBlocks: 2}
	for _, c := range []struct {
		h     uint64
		epoch uint64
		stage string
	}{
		{0, 0, StageInference}, {19, 0, StageInference}, {20, 1, StagePoC}, {22, 1, StagePoC}, {23, 1, StagePoCExchange},
		{24, 1, StagePoCExchange}, {25, 1, StageValidation}, {28, 1, StageValidationExchange}, {29, 1, StageValidationExchange},
		{30, 1, StageModelLoading}, {31, 1, StageModelLoading}, {32, 1, StageInference}, {39, 1, StageInference}, {40, 2, StagePoC},
	} {
		ph := Schedule(p, c.h)
		if ph.Epoch != c.epoch || ph.Stage != c.stage {
			t.Errorf("height %d: epoch %d stage %s, want %d %s", c.h, ph.Epoch, ph.Stage, c.epoch, c.stage)
		}
	}
	ph := Schedule(p, 26)
	if ph.PoCStart != 20 || ph.ValidationStart != 25 || ph.Formation != 30 || ph.Switch != 32 || ph.NextPoC != 40 {
		t.Fatalf("%+v", ph)
	}
	if !Schedule(p, 21).CommitOpen() || Schedule(p, 20).CommitOpen() || Schedule(p, 25).CommitOpen() {
		t.Fatal("commit window")
	}
	if !Schedule(p, 26).VerdictOpen() || Schedule(p, 25).VerdictOpen() || Schedule(p, 30).VerdictOpen() {
		t.Fatal("verdict window")
	}
}

// FuzzMessages decodes arbitrary bytes as each message body and validates it: nothing
// panics, and every refusal is a coded *tx.Error.
func FuzzMessages(f *testing.F) {
	for _, build := range []func() (tx.Msg, error){
		func() (tx.Msg, error) {
			return NewHardwareDiff(HardwareDiff{Netuid: 1, Add: []MLNode{goodNode()}, Remove: []string{"x"}})
		},
		func() (tx.Msg, error) { return NewCommit(Commit{Netuid: 1, Epoch: 2, MLNode: "gpu-0", Count: 7}) },
		func() (tx.Msg, error) {
			return NewVerdict(Verdict{Netuid: 1, Epoch: 2, Judgements: []Judgement{{Participant: make([]byte, 32), Sampled: 200, Failures: 3}}})
		},
		func() (tx.Msg, error) {
			return NewStart(Start{Netuid: 1, Entries: []StartEntry{{Model: "m-a", Path: PathChat, Timestamp: 5, Signature: make([]byte, 64), MaxTokens: 9}}})
		},
		func() (tx.Msg, error) {
			return NewFinish(Finish{Netuid: 1, Entries: []FinishEntry{{PromptTokens: 3, CompletionTokens: 4}}})
		},
		func() (tx.Msg, error) { return NewValidate(Validate{Netuid: 1, Entries: []Check{{Valid: true}}}) },
		func() (tx.Msg, error) { return NewVote(Vote{Netuid: 1, Entries: []Check{{}}}) },
	} {
		m, err := build()
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(m.Body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, typ := range []string{MsgMLNodes, MsgCommit, MsgVerdict, MsgStart, MsgFinish, MsgValidate, MsgVote} {
			m := tx.Msg{Type: typ, Body: body}
			var v interface{ Validate() error }
			switch typ {
			case MsgMLNodes:
				v = &HardwareDiff{}
			case MsgCommit:
				v = &Commit{}
			case MsgStart:
				v = &Start{}
			case MsgFinish:
				v = &Finish{}
			case MsgValidate:
				v = &Validate{}
			case MsgVote:
				v = &Vote{}
			default:
				v = &Verdict{}
			}
			if err := m.DecodeBody(v); err != nil {
				continue
			}
			if err := v.Validate(); err != nil {
				if tx.CodeOf(err) == tx.CodeInternal {
					t.Fatalf("%s: uncoded refusal %v", typ, err)
				}
			}
			if _, _, err := MsgFields([32]byte{}, m); err != nil {
				t.Fatalf("%s: decoded body does not describe: %v", typ, err)
			}
		}
	})
}
