package textgen

import (
	"strings"
	"testing"
)

func TestEvalExpr(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  string
	}{
		{"1 + 2 * 3", 7, ""},
		{"(1 + 2) * 3", 9, ""},
		{"10 - 4 - 3", 3, ""},
		{"-5 * -5", 25, ""},
		{"2 * (3 - (4 + 5))", -12, ""},
		{"42", 42, ""},
		{"", 0, "ends early"},
		{"1 +", 0, "ends early"},
		{"(1 + 2", 0, "missing )"},
		{"1 / 2", 0, "unexpected"},
		{"1 2", 0, "unexpected"},
		{"9223372036854775807 + 1", 0, "overflows"},
		{"4611686018427387904 * 2", 0, "overflows"},
		{"99999999999999999999", 0, "out of range"},
		{strings.Repeat("(", 100) + "1" + strings.Repeat(")", 100), 0, "nests too deeply"},
	} {
		got, err := EvalExpr(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("EvalExpr(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("EvalExpr(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestParseTask(t *testing.T) {
	c := DefaultCorpus()
	for _, tc := range []struct {
		prompt string
		kind   Kind
		answer string
		ok     bool
	}{
		{leadArithmetic + "3 + 4 * 2.", Arithmetic, "11", true},
		{leadArithmetic + "3 +.", Arithmetic, "", false},
		{leadSort + "5 -3 10 0", Sort, "-3 0 5 10", true},
		{leadSort + "5 x", Sort, "", false},
		{leadReverse + "tessera", Reverse, "aresset", true},
		{leadUpper + "hello world", Upper, "HELLO WORLD", true},
		{leadVowels + "banana split", Vowels, "4", true},
		{leadCapital + "France" + tailCapital, Capital, "Paris", true},
		{leadCapital + "new zealand" + tailCapital, Capital, "Wellington", true},
		{leadCapital + "Atlantis" + tailCapital, Capital, "", false},
		{leadSymbol + "Gold" + tailSymbol, Symbol, "Au", true},
		{"Tell me a story.", Free, "", true},
	} {
		got, ok := ParseTask(tc.prompt, c)
		if got.Kind != tc.kind || got.Answer != tc.answer || ok != tc.ok {
			t.Errorf("ParseTask(%q) = %+v, %v; want %s %q %v", tc.prompt, got, ok, tc.kind, tc.answer, tc.ok)
		}
	}
}

func TestParseCorpusErrors(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{"capital\tFrance", "want relation<TAB>key<TAB>value"},
		{"capital\tFrance\tParis\ncapital\tfrance\tLyon", "given twice"},
		{"a\t\tb", "want relation"},
	} {
		if _, err := ParseCorpus(tc.in); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseCorpus(%q) error %v, want %q", tc.in, err, tc.err)
		}
	}
	c, err := ParseCorpus("# comment\n\nsymbol\tIron\tFe\n")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := c.Lookup("symbol", " iron "); !ok || v != "Fe" {
		t.Errorf("Lookup = %q %v", v, ok)
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		task Task
		got  string
		want float64
	}{
		{Task{Kind: Arithmetic, Answer: "42"}, "42", 1},
		{Task{Kind: Arithmetic, Answer: "42"}, " 42.\n", 1},
		{Task{Kind: Arithmetic, Answer: "42"}, "The answer is 42.", 0.5},
		{Task{Kind: Arithmetic, Answer: "42"}, "142", 0},
		{Task{Kind: Arithmetic, Answer: "2"}, "-2", 0},
		{Task{Kind: Arithmetic, Answer: "42"}, "43", 0},
		{Task{Kind: Sort, Answer: "1 2 3"}, "1  2 3", 1},
		{Task{Kind: Sort, Answer: "1 2 3"}, "1 3 2", 0},
		{Task{Kind: Upper, Answer: "ABC"}, "abc", 0},
		{Task{Kind: Capital, Answer: "Paris"}, "paris", 1},
		{Task{Kind: Capital, Answer: "Paris"}, "It is Paris.", 0.5},
		{Task{Kind: Symbol, Answer: "Au"}, "Ag", 0},
		{Task{Kind: Free}, "anything", 0},
		{Task{Kind: Arithmetic}, "1", 0},
	} {
		if got := Check(tc.task, tc.got); got != tc.want {
			t.Errorf("Check(%+v, %q) = %v, want %v", tc.task, tc.got, got, tc.want)
		}
	}
}

func TestSimilarity(t *testing.T) {
	for _, tc := range []struct {
		ref, got string
		want     float64
	}{
		{"", "", 1},
		{"a b", "", 0},
		{"", "a", 0},
		{"The cat sat.", "the CAT sat", 1},
		{"a b c d", "a b", 2 * 1 * 0.5 / 1.5},
		{"a a b", "a b b", 2.0 / 3},
		{"x y", "z w", 0},
	} {
		if got := Similarity(tc.ref, tc.got); got < tc.want-1e-12 || got > tc.want+1e-12 {
			t.Errorf("Similarity(%q, %q) = %v, want %v", tc.ref, tc.got, got, tc.want)
		}
	}
}

func TestCorruptDiffers(t *testing.T) {
	for _, ans := range []string{"42", "-7", "1 2 3", "1 1", "Paris", "Au", "a", "", "AB CD"} {
		for r := range uint64(600) {
			if got := Corrupt(ans, r*7919); got == ans || (ans != "" && strings.EqualFold(got, ans)) {
				t.Fatalf("Corrupt(%q, %d) = %q, the same answer", ans, r, got)
			}
		}
	}
}

func TestGeneratorTasksAreSolvedAndChecked(t *testing.T) {
	g, err := NewGenerator(GeneratorConfig{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewBuiltin(BuiltinConfig{})
	seen := map[Kind]int{}
	for range 2000 {
		task := g.Next()
		seen[task.Kind]++
		if task.Kind.Checkable() && task.Answer == "" {
			t.Fatalf("task without an answer: %+v", task)
		}
		ans := b.Answer(Request{Messages: []Message{{Role: "user", Content: task.Prompt}}})
		if task.Kind.Checkable() && Check(task, ans) != 1 {
			t.Fatalf("builtin answer %q to %+v does not check", ans, task)
		}
		if !task.Kind.Checkable() && Similarity(ans, FreeText(task.Prompt, 0, DefaultCorpus())) != 1 {
			t.Fatalf("free text is not deterministic for %q", task.Prompt)
		}
	}
	for _, k := range Kinds {
		if seen[k] == 0 {
			t.Errorf("kind %s never drawn", k)
		}
	}
	// The same seed draws the same tasks.
	g1, _ := NewGenerator(GeneratorConfig{Seed: 3})
	g2, _ := NewGenerator(GeneratorConfig{Seed: 3})
	for range 50 {
		if a, b := g1.Next(), g2.Next(); a != b {
			t.Fatalf("seeded generators differ: %+v vs %+v", a, b)
		}
	}
	if _, err := NewGenerator(GeneratorConfig{Kinds: []Kind{"poetry"}}); err == nil {
		t.Error("unknown kind accepted")
	}
}

func TestCountTokens(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"", 0}, {"a", 1}, {"a b c d e", 5}, {"abcdefgh", 2}, {"héllo wörld", 3},
	} {
		if got := CountTokens(tc.in); got != tc.want {
			t.Errorf("CountTokens(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestWrongFreeAnswerIsDissimilar(t *testing.T) {
	b, _ := NewBuiltin(BuiltinConfig{WrongRate: 1, Seed: 9})
	prompt := "Give three facts about rivers."
	right := FreeText(prompt, 0, DefaultCorpus())
	for range 20 {
		res, err := b.Generate(t.Context(), userReq(prompt), nil)
		if err != nil {
			t.Fatal(err)
		}
		if s := Similarity(right, res.Text); s > 0.9 {
			t.Fatalf("wrong answer %q is %.2f similar to %q", res.Text, s, right)
		}
	}
}
