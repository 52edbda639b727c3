package wire

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseRequestHeaders(f *testing.F) {
	f.Add("5HDvhV6WDCjCKyrXqGQSDYqQAzkzabNhctmiDYEqgBC66BsX", "1718000000000000000",
		"0xc460d4f9fb883d79680bcb6d6358ca1678daa141cf2732f017aac71e077aea67c9b32c8f93d1d4a4da2a27c4bc4f052d332bb229f273d4edc988161ae31f9f89",
		"5ecbd69c-1cec-11ee-b0dc-e29ce36fec1a", EmptyBodyHash, "12.0", "10002000", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY")
	f.Add("", "", "", "", "", "", "", "")
	f.Add("x", "-1", "0x", "a.b", "A7FF", "nan", "1e3", "\x00")
	f.Add("5HDv", "99999999999999999999", strings.Repeat("g", 130), strings.Repeat("u", 65), strings.Repeat("0", 64), "inf", "-5", "y")
	f.Fuzz(func(t *testing.T, hotkey, nonce, sig, uuid, hash, timeout, version, axonHotkey string) {
		h := http.Header{}
		for k, v := range map[string]string{
			canonDendriteHotkey: hotkey, canonDendriteNonce: nonce, canonDendriteSignature: sig,
			canonDendriteUUID: uuid, canonBodyHash: hash, canonTimeout: timeout,
			canonDendriteVersion: version, canonAxonHotkey: axonHotkey,
		} {
			if v != "" {
				h[k] = []string{v}
			}
		}
		r, err := parseRequestHeaders(h)
		if err != nil {
			var he *HeaderError
			if !errors.As(err, &he) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if s := he.Status(); s != 400 && s != 401 {
				t.Fatalf("status %d", s)
			}
			if he.Error() == "" {
				t.Fatal("empty message")
			}
			return
		}
		if r.hotkey == "" || len(r.hotkey) > maxHotkeyLen || r.nonce <= 0 || !(r.timeout > 0) || math.IsInf(r.timeout, 0) {
			t.Fatalf("accepted %+v", r)
		}
		if len(r.bodyHash) != 64 || !isLowerHex(r.bodyHash) || strings.Contains(r.uuid, ".") || r.uuid == "" {
			t.Fatalf("accepted %+v", r)
		}
		msg := appendSignedMessage(nil, r.nonce, r.hotkey, "axon", r.uuid, r.bodyHash)
		if strings.Count(string(msg), ".") != 4+strings.Count(r.hotkey, ".") {
			t.Fatalf("ambiguous message %q", msg)
		}
		if _, err := HeaderInputs(h); err != nil {
			t.Fatalf("HeaderInputs: %v", err)
		}
	})
}

func FuzzHeaderInputs(f *testing.F) {
	f.Add("bt_header_input_obj_key1", "WzEsIDIsIDMsIDRd")
	f.Add("bt_header_input_obj_x", "not base64")
	f.Add("bt_header_axon_nonce", "111")
	f.Fuzz(func(t *testing.T, k, v string) {
		h := http.Header{k: []string{v}}
		m, err := HeaderInputs(h)
		if err == nil && (m["axon"] == nil || m["dendrite"] == nil) {
			t.Fatal("terminal maps missing")
		}
	})
}

func FuzzPyStr(f *testing.F) {
	for _, s := range []string{`1`, `1.0`, `0.1`, `1e-05`, `1e+16`, `true`, `null`, `"hello"`, `"\u00e9"`, `[1, 2, 3]`,
		`["a", "b'c"]`, `{"k": "v", "n": 2}`, `[[1, 2], [3]]`, `"\ud800"`, `"\ud83d\ude00"`, `{"a":1,"a":2}`, `-0`, `1e400`,
		`"\t\n\u0007\u00a0'\""`, `[`, `{"a"}`, `"\x"`} {
		f.Add([]byte(s))
	}
	types := []reflect.Type{nil, reflect.TypeFor[float64](), reflect.TypeFor[int](), reflect.TypeFor[[]float32](),
		reflect.TypeFor[map[string]float64](), reflect.TypeFor[map[int]string](), reflect.TypeFor[TerminalInfo](), reflect.TypeFor[*string]()}
	f.Fuzz(func(t *testing.T, raw []byte) {
		out, err := PyStr(raw, nil)
		valid := json.Valid(raw) && utf8.Valid(raw) && len(raw) < 200
		if valid && err != nil {
			t.Fatalf("PyStr(%q) failed on valid JSON: %v", raw, err)
		}
		if err == nil {
			again, _ := PyStr(raw, nil)
			if again != out {
				t.Fatal("not deterministic")
			}
			// A plain string renders as its value.
			var s string
			if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil && utf8.ValidString(s) && !strings.ContainsRune(s, utf8.RuneError) && out != s {
				t.Fatalf("top-level string %q rendered as %q", s, out)
			}
		}
		for _, typ := range types {
			PyStr(raw, typ) // must not panic
		}
		// The body-hash scan must not panic either, and wiping keeps JSON valid.
		s, _ := schemaOf(&HashedSynapse{})
		body := append([]byte(nil), raw...)
		if _, body, err := s.bodyHashAndWipe(body); err == nil && json.Valid(raw) && !json.Valid(body) {
			t.Fatalf("wiping made %q invalid: %q", raw, body)
		}
	})
}

func FuzzPyFloat(f *testing.F) {
	for _, v := range []float64{0, 1, 0.1, 1e-05, 1e16, 1e15, 123.456, -2.5e-300, math.MaxFloat64, math.SmallestNonzeroFloat64, 1.0 / 3} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		s := string(AppendPyFloat(nil, v))
		switch {
		case math.IsNaN(v):
			if s != "nan" {
				t.Fatal(s)
			}
			return
		case math.IsInf(v, 0):
			if strings.TrimPrefix(s, "-") != "inf" {
				t.Fatal(s)
			}
			return
		}
		back, err := strconv.ParseFloat(s, 64)
		if err != nil || back != v || math.Signbit(back) != math.Signbit(v) {
			t.Fatalf("%v → %q → %v (%v)", v, s, back, err)
		}
		mant, exp, hasExp := strings.Cut(s, "e")
		if hasExp {
			if len(exp) < 3 || (exp[0] != '+' && exp[0] != '-') {
				t.Fatalf("%q: exponent must be signed with two digits or more", s)
			}
			if a := math.Abs(v); a >= 1e-4 && a < 1e16 {
				t.Fatalf("%q: Python writes %v in fixed notation", s, v)
			}
		} else {
			if !strings.Contains(mant, ".") {
				t.Fatalf("%q: a Python float always shows a fraction", s)
			}
			if a := math.Abs(v); a != 0 && (a < 1e-4 || a >= 1e16) {
				t.Fatalf("%q: Python writes %v with an exponent", s, v)
			}
		}
		// Shortest: dropping a digit of the mantissa must change the value.
		if back2, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', -1, 64), 64); back2 != back {
			t.Fatalf("%q is not the shortest round-trip form", s)
		}
	})
}

func TestPyReprTable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "''"},
		{"a", "'a'"},
		{"b'c", `"b'c"`},
		{`b'c"d`, `'b\'c"d'`},
		{`say "hi"`, `'say "hi"'`},
		{"tab\there", `'tab\there'`},
		{"new\nline\r", `'new\nline\r'`},
		{"back\\slash", `'back\\slash'`},
		{"bell\x07", `'bell\x07'`},
		{"del\x7f", `'del\x7f'`},
		{"nbsp\u00a0", `'nbsp\xa0'`},
		{"é", "'é'"},
		{"zero width\u200b", `'zero width\u200b'`},
		{"emoji 😀", "'emoji 😀'"},
		{"line sep\u2028", `'line sep\u2028'`},
		{"private \U000F0000", `'private \U000f0000'`},
	}
	for _, tc := range tests {
		if got := string(AppendPyRepr(nil, tc.in)); got != tc.want {
			t.Errorf("repr(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestPyFloatTable(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0.0"}, {math.Copysign(0, -1), "-0.0"}, {1, "1.0"}, {-1.5, "-1.5"}, {0.1, "0.1"}, {1e-05, "1e-05"},
		{0.0001, "0.0001"}, {1.5e-05, "1.5e-05"}, {1e16, "1e+16"}, {1e15, "1000000000000000.0"},
		{123456789012345678, "1.2345678901234568e+17"}, {1e22, "1e+22"}, {1.0 / 3, "0.3333333333333333"},
		{5e-324, "5e-324"}, {math.MaxFloat64, "1.7976931348623157e+308"}, {12, "12.0"},
		{math.Inf(1), "inf"}, {math.Inf(-1), "-inf"}, {math.NaN(), "nan"},
	}
	for _, tc := range tests {
		if got := string(AppendPyFloat(nil, tc.in)); got != tc.want {
			t.Errorf("repr(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestPyStrErrors(t *testing.T) {
	for _, raw := range []string{``, `[`, `{"a"}`, `"\x"`, `01`, `1.`, `tru`, `[1,]`, `"a` + "\x01" + `"`, `1 2`, strings.Repeat("[", 300) + strings.Repeat("]", 300)} {
		if _, err := PyStr([]byte(raw), nil); err == nil {
			t.Errorf("PyStr(%q) accepted malformed JSON", raw)
		}
	}
	if _, err := PyStr([]byte(`1.5`), reflect.TypeFor[int]()); err == nil {
		t.Error("1.5 accepted for an int field")
	}
	if got, _ := PyStr([]byte(`2.0`), reflect.TypeFor[int]()); got != "2" {
		t.Errorf("2.0 for an int field renders %q, want 2", got)
	}
	if got, _ := PyStr([]byte(`{"b": 1, "a": {"x": null}}`), reflect.TypeFor[map[string]map[string]*int]()); got != "{'b': 1, 'a': {'x': None}}" {
		t.Errorf("nested dict renders %q", got)
	}
	if got, _ := PyStr([]byte(`{"hotkey": "h", "ip": "1.2.3.4"}`), reflect.TypeFor[TerminalInfo]()); !strings.HasPrefix(got, "{'status_code': None, 'status_message': None, 'process_time': None, 'ip': '1.2.3.4'") {
		t.Errorf("nested model renders %q", got)
	}
}

// TestPyStrGolden checks PyStr against CPython's str() (and pydantic's coercion for
// typed fields) on 820 generated values: testdata/pystr-golden.json, made by
// testdata/gen_pystr_golden.py with CPython 3.11 and pydantic 2.13.
func TestPyStrGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/pystr-golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []struct{ Raw, Type, Str string }
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	types := map[string]reflect.Type{
		"any": nil, "float": reflect.TypeFor[float64](), "int": reflect.TypeFor[int64](),
		"list[float]": reflect.TypeFor[[]float64](), "dict[str,float]": reflect.TypeFor[map[string]float64](),
		"dict[str,int]": reflect.TypeFor[map[string]int](), "list[str]": reflect.TypeFor[[]string](), "str": reflect.TypeFor[string](),
	}
	failed := 0
	for _, c := range g.Cases {
		typ, ok := types[c.Type]
		if !ok {
			t.Fatalf("unknown type %q", c.Type)
		}
		got, err := PyStr([]byte(c.Raw), typ)
		if err != nil || got != c.Str {
			failed++
			if failed <= 10 {
				t.Errorf("PyStr(%s as %s) = %q (%v), CPython says %q", c.Raw, c.Type, got, err, c.Str)
			}
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d cases differ from CPython", failed, len(g.Cases))
	}
}
