package textgen

import (
	"bufio"
	_ "embed"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind names a family of tasks.
type Kind string

// The task families. Every kind but Free has one right answer that Check compares with.
const (
	Arithmetic Kind = "arithmetic" // evaluate an integer expression with + - * and parentheses
	Sort       Kind = "sort"       // sort integers in ascending order
	Reverse    Kind = "reverse"    // reverse the characters of a word
	Upper      Kind = "upper"      // write a text in upper case
	Vowels     Kind = "vowels"     // count the vowels of a text
	Capital    Kind = "capital"    // look up a country's capital in the corpus
	Symbol     Kind = "symbol"     // look up an element's chemical symbol in the corpus
	Free       Kind = "free"       // a free prompt, scored by similarity to a reference
)

// Kinds lists every task kind, checkable ones first.
var Kinds = []Kind{Arithmetic, Sort, Reverse, Upper, Vowels, Capital, Symbol, Free}

// Checkable reports whether tasks of kind k have one right answer.
func (k Kind) Checkable() bool { return k != Free }

// Task is one prompt with, for a checkable kind, its right answer.
type Task struct {
	Kind   Kind   `json:"kind"`   // the task's family
	Prompt string `json:"prompt"` // what the miner is asked
	// Answer is the right answer of a checkable task ("" for Free).
	Answer string `json:"answer,omitempty"`
}

// The prompt of each checkable kind is a fixed lead followed by the task's data, so
// that the built-in backend can read the task back from the prompt (ParseTask).
const (
	leadArithmetic = "Compute the value of this expression and answer with the number only: "
	leadSort       = "Sort these numbers in ascending order and answer with them separated by single spaces: "
	leadReverse    = "Reverse the characters of this word and answer with the result only: "
	leadUpper      = "Write this text in upper case and answer with the result only: "
	leadVowels     = "Count the vowels (a, e, i, o, u) in this text and answer with the number only: "
	leadCapital    = "What is the capital of "
	tailCapital    = "? Answer with the name only."
	leadSymbol     = "What is the chemical symbol of "
	tailSymbol     = "? Answer with the symbol only."
)

//go:embed corpus.tsv
var corpusTSV string

// Corpus is the table of facts lookup tasks ask about: relation → key → value.
type Corpus struct {
	facts map[string]map[string]string
	keys  map[string][]string // relation → keys, in file order
}

// ParseCorpus reads a corpus: one fact a line, "relation<TAB>key<TAB>value"; blank
// lines and lines starting with # are skipped.
func ParseCorpus(text string) (*Corpus, error) {
	c := &Corpus{facts: map[string]map[string]string{}, keys: map[string][]string{}}
	sc := bufio.NewScanner(strings.NewReader(text))
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		f := strings.Split(s, "\t")
		if len(f) != 3 || f[0] == "" || f[1] == "" || f[2] == "" {
			return nil, fmt.Errorf("corpus line %d: want relation<TAB>key<TAB>value, got %q", line, s)
		}
		m := c.facts[f[0]]
		if m == nil {
			m = map[string]string{}
			c.facts[f[0]] = m
		}
		if _, dup := m[strings.ToLower(f[1])]; dup {
			return nil, fmt.Errorf("corpus line %d: %s of %q given twice", line, f[0], f[1])
		}
		m[strings.ToLower(f[1])] = f[2]
		c.keys[f[0]] = append(c.keys[f[0]], f[1])
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	return c, nil
}

// DefaultCorpus returns the bundled corpus (capitals of 40 countries, symbols of 30
// elements).
func DefaultCorpus() *Corpus {
	c, err := ParseCorpus(corpusTSV)
	if err != nil {
		panic("textgen: bundled corpus: " + err.Error()) // a build defect, caught by tests
	}
	return c
}

// Lookup returns the value of relation for key (case-insensitive).
func (c *Corpus) Lookup(relation, key string) (string, bool) {
	v, ok := c.facts[relation][strings.ToLower(strings.TrimSpace(key))]
	return v, ok
}

// Keys returns the keys of a relation in file order.
func (c *Corpus) Keys(relation string) []string { return c.keys[relation] }

// ParseTask reads a task back from its prompt: the kind, and for a checkable kind the
// right answer. A prompt of no known form is a Free task. ok is false when the prompt
// has a checkable form but its data are bad (a malformed expression, an unknown
// country); such a task has no right answer.
func ParseTask(prompt string, c *Corpus) (t Task, ok bool) {
	p := strings.TrimSpace(prompt)
	t = Task{Kind: Free, Prompt: prompt}
	var err error
	switch {
	case strings.HasPrefix(p, leadArithmetic):
		t.Kind = Arithmetic
		var v int64
		if v, err = EvalExpr(strings.TrimSuffix(strings.TrimPrefix(p, leadArithmetic), ".")); err == nil {
			t.Answer = strconv.FormatInt(v, 10)
		}
	case strings.HasPrefix(p, leadSort):
		t.Kind = Sort
		t.Answer, err = sortAnswer(strings.TrimPrefix(p, leadSort))
	case strings.HasPrefix(p, leadReverse):
		t.Kind = Reverse
		r := []rune(strings.TrimPrefix(p, leadReverse))
		slices.Reverse(r)
		t.Answer = string(r)
	case strings.HasPrefix(p, leadUpper):
		t.Kind = Upper
		t.Answer = strings.ToUpper(strings.TrimPrefix(p, leadUpper))
	case strings.HasPrefix(p, leadVowels):
		t.Kind = Vowels
		t.Answer = strconv.Itoa(countVowels(strings.TrimPrefix(p, leadVowels)))
	case strings.HasPrefix(p, leadCapital) && strings.HasSuffix(p, tailCapital):
		t.Kind = Capital
		t.Answer, err = lookup(c, "capital", strings.TrimSuffix(strings.TrimPrefix(p, leadCapital), tailCapital))
	case strings.HasPrefix(p, leadSymbol) && strings.HasSuffix(p, tailSymbol):
		t.Kind = Symbol
		t.Answer, err = lookup(c, "symbol", strings.TrimSuffix(strings.TrimPrefix(p, leadSymbol), tailSymbol))
	default:
		return t, true
	}
	if err != nil || t.Answer == "" {
		t.Answer = ""
		return t, false
	}
	return t, true
}

func lookup(c *Corpus, relation, key string) (string, error) {
	if c == nil {
		return "", fmt.Errorf("no corpus")
	}
	v, ok := c.Lookup(relation, key)
	if !ok {
		return "", fmt.Errorf("no %s of %q in the corpus", relation, key)
	}
	return v, nil
}

func sortAnswer(list string) (string, error) {
	f := strings.Fields(list)
	if len(f) == 0 {
		return "", fmt.Errorf("no numbers")
	}
	ns := make([]int64, len(f))
	for i, s := range f {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return "", fmt.Errorf("%q is not an integer", s)
		}
		ns[i] = v
	}
	slices.Sort(ns)
	out := make([]string, len(ns))
	for i, v := range ns {
		out[i] = strconv.FormatInt(v, 10)
	}
	return strings.Join(out, " "), nil
}

func countVowels(s string) int {
	n := 0
	for _, r := range strings.ToLower(s) {
		if strings.ContainsRune("aeiou", r) {
			n++
		}
	}
	return n
}

// EvalExpr evaluates an integer expression of decimal numbers, + - * (the usual
// precedence), unary minus and parentheses. Overflow, a bad character or a malformed
// expression is an error.
func EvalExpr(s string) (int64, error) {
	p := exprParser{s: s}
	v, err := p.sum(0)
	if err != nil {
		return 0, err
	}
	p.space()
	if p.i != len(p.s) {
		return 0, fmt.Errorf("expression %q: unexpected %q at %d", s, p.s[p.i], p.i)
	}
	return v, nil
}

type exprParser struct {
	s string
	i int
}

const maxExprDepth = 64

func (p *exprParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *exprParser) sum(depth int) (int64, error) {
	v, err := p.product(depth)
	if err != nil {
		return 0, err
	}
	for {
		p.space()
		if p.i >= len(p.s) || (p.s[p.i] != '+' && p.s[p.i] != '-') {
			return v, nil
		}
		op := p.s[p.i]
		p.i++
		w, err := p.product(depth)
		if err != nil {
			return 0, err
		}
		if op == '-' {
			w = -w
		}
		if (w > 0 && v > maxInt-w) || (w < 0 && v < minInt-w) {
			return 0, fmt.Errorf("expression %q overflows", p.s)
		}
		v += w
	}
}

const (
	maxInt = int64(1<<63 - 1)
	minInt = -maxInt - 1
)

func (p *exprParser) product(depth int) (int64, error) {
	v, err := p.unary(depth)
	if err != nil {
		return 0, err
	}
	for {
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != '*' {
			return v, nil
		}
		p.i++
		w, err := p.unary(depth)
		if err != nil {
			return 0, err
		}
		if v != 0 && w != 0 {
			r := v * w
			if r/w != v || (v == -1 && w == minInt) || (w == -1 && v == minInt) {
				return 0, fmt.Errorf("expression %q overflows", p.s)
			}
			v = r
		} else {
			v = 0
		}
	}
}

func (p *exprParser) unary(depth int) (int64, error) {
	if depth > maxExprDepth {
		return 0, fmt.Errorf("expression %q nests too deeply", p.s)
	}
	p.space()
	if p.i >= len(p.s) {
		return 0, fmt.Errorf("expression %q ends early", p.s)
	}
	switch c := p.s[p.i]; {
	case c == '-':
		p.i++
		v, err := p.unary(depth + 1)
		if err != nil {
			return 0, err
		}
		if v == minInt {
			return 0, fmt.Errorf("expression %q overflows", p.s)
		}
		return -v, nil
	case c == '(':
		p.i++
		v, err := p.sum(depth + 1)
		if err != nil {
			return 0, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ')' {
			return 0, fmt.Errorf("expression %q: missing )", p.s)
		}
		p.i++
		return v, nil
	case c >= '0' && c <= '9':
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		v, err := strconv.ParseInt(p.s[p.i:j], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("expression %q: number %q is out of range", p.s, p.s[p.i:j])
		}
		p.i = j
		return v, nil
	default:
		return 0, fmt.Errorf("expression %q: unexpected %q at %d", p.s, c, p.i)
	}
}

// GeneratorConfig configures a Generator.
type GeneratorConfig struct {
	// Seed seeds the generator: the same seed gives the same tasks.
	Seed uint64
	// Kinds are the kinds to draw, uniformly (default: all of Kinds).
	Kinds []Kind
	// Corpus is the lookup corpus (default DefaultCorpus()).
	Corpus *Corpus
}

// Generator draws tasks. It is deterministic for a seed and not safe for concurrent use.
type Generator struct {
	rng    *rand.Rand
	kinds  []Kind
	corpus *Corpus
}

// NewGenerator makes a generator; an unknown kind is an error.
func NewGenerator(cfg GeneratorConfig) (*Generator, error) {
	kinds := cfg.Kinds
	if len(kinds) == 0 {
		kinds = Kinds
	}
	for _, k := range kinds {
		if !slices.Contains(Kinds, k) {
			return nil, fmt.Errorf("textgen: unknown task kind %q", k)
		}
	}
	c := cfg.Corpus
	if c == nil {
		c = DefaultCorpus()
	}
	for _, rel := range []string{"capital", "symbol"} {
		if len(c.Keys(rel)) == 0 && (slices.Contains(kinds, Capital) || slices.Contains(kinds, Symbol)) {
			return nil, fmt.Errorf("textgen: the corpus has no %q facts for lookup tasks", rel)
		}
	}
	return &Generator{rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), kinds: slices.Clone(kinds), corpus: c}, nil
}

// Kinds returns the kinds the generator draws.
func (g *Generator) Kinds() []Kind { return slices.Clone(g.kinds) }

// Next draws a task.
func (g *Generator) Next() Task {
	return g.Make(g.kinds[g.rng.IntN(len(g.kinds))])
}

// Make draws a task of kind k (an unknown kind gives a Free task).
func (g *Generator) Make(k Kind) Task {
	var prompt string
	switch k {
	case Arithmetic:
		prompt = leadArithmetic + g.expr(0) + "."
	case Sort:
		n := 3 + g.rng.IntN(6)
		f := make([]string, n)
		for i := range f {
			f[i] = strconv.Itoa(g.rng.IntN(1000) - 100)
		}
		prompt = leadSort + strings.Join(f, " ")
	case Reverse:
		prompt = leadReverse + g.word()
	case Upper:
		prompt = leadUpper + g.word() + " " + g.word() + " " + g.word()
	case Vowels:
		prompt = leadVowels + g.word() + " " + g.word()
	case Capital:
		keys := g.corpus.Keys("capital")
		prompt = leadCapital + keys[g.rng.IntN(len(keys))] + tailCapital
	case Symbol:
		keys := g.corpus.Keys("symbol")
		prompt = leadSymbol + keys[g.rng.IntN(len(keys))] + tailSymbol
	default:
		prompt = fmt.Sprintf(freeTemplates[g.rng.IntN(len(freeTemplates))], freeTopics[g.rng.IntN(len(freeTopics))])
	}
	t, _ := ParseTask(prompt, g.corpus) // generated prompts always parse
	return t
}

var freeTemplates = []string{
	"Write a short paragraph about %s.",
	"Explain %s to a curious child in a few sentences.",
	"Give three facts about %s.",
	"Describe %s in plain words.",
}

var freeTopics = []string{
	"the ocean", "volcanoes", "the moon", "bees", "rivers", "bridges", "libraries",
	"trains", "mountains", "clocks", "rain", "maps", "bread", "chess", "the alphabet",
}

func (g *Generator) expr(depth int) string {
	n := 2 + g.rng.IntN(3)
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString([]string{" + ", " - ", " * "}[g.rng.IntN(3)])
		}
		if depth < 1 && g.rng.IntN(4) == 0 {
			b.WriteString("(" + g.expr(depth+1) + ")")
		} else {
			b.WriteString(strconv.Itoa(1 + g.rng.IntN(99)))
		}
	}
	return b.String()
}

func (g *Generator) word() string {
	const cons, vows = "bcdfghjklmnprstvwz", "aeiou"
	n := 2 + g.rng.IntN(3)
	b := make([]byte, 0, 2*n)
	for range n {
		b = append(b, cons[g.rng.IntN(len(cons))], vows[g.rng.IntN(len(vows))])
	}
	return string(b)
}

// Normalize prepares a completion for comparison: surrounding space and a final full
// stop removed, inner runs of white space made one space.
func Normalize(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.TrimSpace(strings.TrimSuffix(s, "."))
}

// Check scores a completion of a checkable task: 1 when it is the right answer (case
// ignored for lookups), 0.5 when the right answer ends its last line ("… is 42"),
// otherwise 0. For a Free task it returns 0; use Similarity against a reference.
func Check(t Task, completion string) float64 {
	if !t.Kind.Checkable() || t.Answer == "" {
		return 0
	}
	fold := t.Kind == Capital || t.Kind == Symbol
	eq := func(a, b string) bool {
		if fold {
			return strings.EqualFold(a, b)
		}
		return a == b
	}
	got := Normalize(completion)
	if eq(got, t.Answer) {
		return 1
	}
	lines := strings.Split(strings.TrimSpace(completion), "\n")
	last := Normalize(lines[len(lines)-1])
	if len(last) > len(t.Answer) {
		tail := last[len(last)-len(t.Answer):]
		before, _ := utf8.DecodeLastRuneInString(last[:len(last)-len(t.Answer)])
		if eq(tail, t.Answer) && !unicode.IsLetter(before) && !unicode.IsDigit(before) && before != '-' {
			return 0.5
		}
	}
	return 0
}

// words splits a text into lower-case words of letters and digits.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// Similarity is the token F1 of a completion against a reference: the harmonic mean of
// the share of the completion's words found in the reference and the share of the
// reference's words found in the completion, counting repeats (as SQuAD scores
// answers). Case and punctuation are ignored. Two empty texts are identical (1).
func Similarity(reference, completion string) float64 {
	ref, got := words(reference), words(completion)
	if len(ref) == 0 && len(got) == 0 {
		return 1
	}
	if len(ref) == 0 || len(got) == 0 {
		return 0
	}
	counts := make(map[string]int, len(ref))
	for _, w := range ref {
		counts[w]++
	}
	common := 0
	for _, w := range got {
		if counts[w] > 0 {
			counts[w]--
			common++
		}
	}
	if common == 0 {
		return 0
	}
	p := float64(common) / float64(len(got))
	r := float64(common) / float64(len(ref))
	return 2 * p * r / (p + r)
}

// TestBackendMarker opens every free-text answer of the built-in backend: the text
// after it is filler from the corpus, not a language model's answer.
const TestBackendMarker = "[built-in test backend: no language model]"

// FreeText is the built-in backend's deterministic answer to a free prompt:
// TestBackendMarker, then a few sentences built from the prompt's words and facts of
// the corpus, chosen by a hash of the prompt and seed. The same prompt and seed always
// give the same text. It is filler for tests and devnets, not a reference to judge
// anyone's free text by.
func FreeText(prompt string, seed int64, c *Corpus) string {
	h := fnv.New64a()
	h.Write([]byte(prompt))
	rng := rand.New(rand.NewPCG(h.Sum64(), uint64(seed)))
	topic := strings.Join(words(prompt), " ")
	if len(topic) > 120 {
		topic = topic[:120]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s Here is an answer about %q.", TestBackendMarker, topic)
	for range 3 {
		rel := "capital"
		if rng.IntN(2) == 1 {
			rel = "symbol"
		}
		keys := c.Keys(rel)
		if len(keys) == 0 {
			continue
		}
		k := keys[rng.IntN(len(keys))]
		v, _ := c.Lookup(rel, k)
		if rel == "capital" {
			fmt.Fprintf(&b, " The capital of %s is %s.", k, v)
		} else {
			fmt.Fprintf(&b, " The chemical symbol of %s is %s.", k, v)
		}
	}
	b.WriteString(" That is all I can say for now.")
	return b.String()
}
