package wire

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// This file renders JSON values the way CPython's str() renders the values pydantic makes
// of them, because Bittensor's body hash is sha3(str(model_dump()[field])) per field. It
// is pure: bytes in, bytes out, no I/O.
//
// The rendering is driven by the raw JSON (so the order of dict keys is the order in the
// body, as in a Python dict built by json.loads) and by the Go type of the field (so a
// number sent as 1 to a float field renders as "1.0", the way pydantic coerces it before
// hashing). A nil type means "any": integers stay ints and everything else follows the
// JSON.
//
// Known limits, none of which a well-formed Bittensor request reaches: CPython's idea of
// a printable character follows its Unicode tables (Go's are newer); NaN and Infinity are
// not JSON and are refused; a lone UTF-16 surrogate renders as Python's repr shows it
// ('\ud800') inside containers and as U+FFFD at the top level, where CPython would fail
// to encode it at all.

// maxPyDepth bounds the nesting the renderer follows, so that hostile input cannot
// exhaust the stack.
const maxPyDepth = 256

// PyStr renders the JSON value raw as Python's str() of the value pydantic would build
// for a field of Go type typ (nil: any). It is what the body hash hashes for each
// required hash field.
func PyStr(raw []byte, typ reflect.Type) (string, error) {
	b, err := AppendPyStr(nil, raw, typ)
	return string(b), err
}

// AppendPyStr appends PyStr(raw, typ) to dst.
func AppendPyStr(dst, raw []byte, typ reflect.Type) ([]byte, error) {
	p := pyParser{src: raw, out: dst}
	p.skipSpace()
	if err := p.value(typ, true, 0); err != nil {
		return dst, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return dst, p.errorf("trailing data after the JSON value")
	}
	return p.out, nil
}

// AppendPyFloat appends Python's repr() of f: the shortest string that reads back as f,
// in fixed notation when 1e-4 <= |f| < 1e16 (always with a fractional part, "1.0") and
// in scientific notation otherwise, with a signed exponent of at least two digits
// ("1e-05", "1.5e+16"); "inf", "-inf" and "nan" for the special values.
func AppendPyFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "nan"...)
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case f == 0:
		if math.Signbit(f) {
			return append(b, "-0.0"...)
		}
		return append(b, "0.0"...)
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // [-]d[.ddd]e±XX
	if e[0] == '-' {
		b = append(b, '-')
		e = e[1:]
	}
	ei := 0
	for e[ei] != 'e' {
		ei++
	}
	var digits [24]byte
	nd := 0
	for _, c := range e[:ei] {
		if c != '.' {
			digits[nd] = c
			nd++
		}
	}
	exp, _ := strconv.Atoi(string(e[ei+1:]))
	decpt := exp + 1 // the value is 0.DIGITS × 10^decpt
	if decpt > -4 && decpt <= 16 {
		switch {
		case decpt <= 0:
			b = append(b, '0', '.')
			for i := 0; i < -decpt; i++ {
				b = append(b, '0')
			}
			return append(b, digits[:nd]...)
		case decpt >= nd:
			b = append(b, digits[:nd]...)
			for i := nd; i < decpt; i++ {
				b = append(b, '0')
			}
			return append(b, '.', '0')
		default:
			b = append(b, digits[:decpt]...)
			b = append(b, '.')
			return append(b, digits[decpt:nd]...)
		}
	}
	b = append(b, digits[0])
	if nd > 1 {
		b = append(b, '.')
		b = append(b, digits[1:nd]...)
	}
	b = append(b, 'e')
	if exp < 0 {
		b = append(b, '-')
		exp = -exp
	} else {
		b = append(b, '+')
	}
	if exp < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(exp), 10)
}

// AppendPyRepr appends Python's repr() of the string s: single quotes unless s holds a
// single quote and no double quote, backslash escapes for the quote, the backslash, \t,
// \n and \r, \xNN / \uNNNN / \UNNNNNNNN for characters that are not printable, and
// printable non-ASCII characters as they are.
func AppendPyRepr(b []byte, s string) []byte {
	return appendPyRepr(b, s, nil)
}

// appendPyRepr is AppendPyRepr over a string given as runes (when runes is not nil,
// which lets lone surrogates through) or as s.
func appendPyRepr(b []byte, s string, runes []rune) []byte {
	hasSingle, hasDouble := false, false
	scan := func(r rune) {
		switch r {
		case '\'':
			hasSingle = true
		case '"':
			hasDouble = true
		}
	}
	if runes != nil {
		for _, r := range runes {
			scan(r)
		}
	} else {
		for i := 0; i < len(s); i++ {
			scan(rune(s[i]))
		}
	}
	quote := byte('\'')
	if hasSingle && !hasDouble {
		quote = '"'
	}
	b = append(b, quote)
	if runes != nil {
		for _, r := range runes {
			b = appendPyReprRune(b, r, quote)
		}
	} else {
		for _, r := range s {
			b = appendPyReprRune(b, r, quote)
		}
	}
	return append(b, quote)
}

const lowerHex = "0123456789abcdef"

func appendPyReprRune(b []byte, r rune, quote byte) []byte {
	switch {
	case r == rune(quote) || r == '\\':
		return append(b, '\\', byte(r))
	case r == '\t':
		return append(b, '\\', 't')
	case r == '\n':
		return append(b, '\\', 'n')
	case r == '\r':
		return append(b, '\\', 'r')
	case r >= 0x20 && r < 0x7f:
		return append(b, byte(r))
	case r >= 0x7f && r <= 0x10ffff && !(r >= 0xd800 && r <= 0xdfff) && unicode.IsPrint(r):
		return utf8.AppendRune(b, r)
	case r < 0x100:
		return append(b, '\\', 'x', lowerHex[r>>4], lowerHex[r&0xf])
	case r < 0x10000:
		return append(b, '\\', 'u', lowerHex[r>>12], lowerHex[r>>8&0xf], lowerHex[r>>4&0xf], lowerHex[r&0xf])
	default:
		b = append(b, '\\', 'U')
		for shift := 28; shift >= 0; shift -= 4 {
			b = append(b, lowerHex[r>>uint(shift)&0xf])
		}
		return b
	}
}

// pyParser is a small recursive-descent JSON reader that writes Python's str()/repr()
// of what it reads. It validates the JSON as it goes.
type pyParser struct {
	src   []byte
	pos   int
	out   []byte
	runes []rune // scratch for strings with escapes
}

var errPyDepth = errors.New("JSON nests deeper than 256 levels")

func (p *pyParser) errorf(format string, args ...any) error {
	return fmt.Errorf("JSON at byte %d: %s", p.pos, fmt.Sprintf(format, args...))
}

// end checks that only white space follows.
func (p *pyParser) end() error {
	p.skipSpace()
	if p.pos != len(p.src) {
		return p.errorf("trailing data after the JSON value")
	}
	return nil
}

func (p *pyParser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value renders one JSON value. top reports whether it is the field value itself (a
// string renders bare) or inside a container (a string renders as its repr).
func (p *pyParser) value(t reflect.Type, top bool, depth int) error {
	if depth > maxPyDepth {
		return errPyDepth
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if p.pos >= len(p.src) {
		return p.errorf("unexpected end of input")
	}
	switch c := p.src[p.pos]; {
	case c == 'n':
		if err := p.literal("null"); err != nil {
			return err
		}
		p.out = append(p.out, "None"...)
	case c == 't':
		if err := p.literal("true"); err != nil {
			return err
		}
		p.out = append(p.out, "True"...)
	case c == 'f':
		if err := p.literal("false"); err != nil {
			return err
		}
		p.out = append(p.out, "False"...)
	case c == '"':
		return p.str(top)
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number(t)
	case c == '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		return p.array(elem, depth)
	case c == '{':
		if t != nil && t.Kind() == reflect.Struct {
			return p.structObject(t, depth)
		}
		var key, elem reflect.Type
		if t != nil && t.Kind() == reflect.Map {
			key, elem = t.Key(), t.Elem()
		}
		return p.object(key, elem, depth)
	default:
		return p.errorf("unexpected character %q", c)
	}
	return nil
}

func (p *pyParser) literal(word string) error {
	if len(p.src)-p.pos < len(word) || string(p.src[p.pos:p.pos+len(word)]) != word {
		return p.errorf("invalid literal, want %s", word)
	}
	p.pos += len(word)
	return nil
}

// scanNumber checks the JSON number grammar and returns the literal and whether it has a
// fraction or an exponent.
func (p *pyParser) scanNumber() ([]byte, bool, error) {
	start := p.pos
	isFloat := false
	if p.src[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		n := 0
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.pos < len(p.src) && p.src[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return nil, false, p.errorf("invalid number")
	}
	if p.pos < len(p.src) && p.src[p.pos] == '.' {
		p.pos++
		isFloat = true
		if digits() == 0 {
			return nil, false, p.errorf("invalid number: no digits after the decimal point")
		}
	}
	if p.pos < len(p.src) && (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
		p.pos++
		isFloat = true
		if p.pos < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, false, p.errorf("invalid number: no digits in the exponent")
		}
	}
	return p.src[start:p.pos], isFloat, nil
}

func (p *pyParser) number(t reflect.Type) error {
	lit, isFloat, err := p.scanNumber()
	if err != nil {
		return err
	}
	kind := reflect.Invalid
	if t != nil {
		kind = t.Kind()
	}
	switch kind {
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(string(lit), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return p.errorf("invalid number %s", lit)
		}
		p.out = AppendPyFloat(p.out, f)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if isFloat {
			// pydantic (lax mode) takes 2.0 for an int field and makes it 2.
			f, err := strconv.ParseFloat(string(lit), 64)
			if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<63 {
				return p.errorf("number %s is not an integer", lit)
			}
			p.out = strconv.AppendInt(p.out, int64(f), 10)
			return nil
		}
	default:
		if isFloat {
			f, err := strconv.ParseFloat(string(lit), 64)
			if err != nil && !errors.Is(err, strconv.ErrRange) {
				return p.errorf("invalid number %s", lit)
			}
			p.out = AppendPyFloat(p.out, f)
			return nil
		}
	}
	// An integer literal: JSON has no leading zeros, so the text is Python's str() of
	// the int, of any size, except that -0 is 0.
	if string(lit) == "-0" {
		lit = lit[1:]
	}
	p.out = append(p.out, lit...)
	return nil
}

// str reads a JSON string. Strings without escapes are copied straight from the input.
func (p *pyParser) str(top bool) error {
	p.pos++ // opening quote
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '"' {
			s := p.src[start:p.pos]
			p.pos++
			if !utf8.Valid(s) {
				return p.errorf("string is not valid UTF-8")
			}
			if top {
				p.out = append(p.out, s...)
			} else {
				p.out = appendPyRepr(p.out, string(s), nil)
			}
			return nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		p.pos++
	}
	// Slow path: decode escapes into runes.
	p.pos = start
	runes := p.runes[:0]
	for {
		if p.pos >= len(p.src) {
			return p.errorf("unterminated string")
		}
		c := p.src[p.pos]
		switch {
		case c == '"':
			p.pos++
			p.runes = runes
			if top {
				for _, r := range runes {
					if r >= 0xd800 && r <= 0xdfff {
						r = utf8.RuneError
					}
					p.out = utf8.AppendRune(p.out, r)
				}
			} else {
				p.out = appendPyRepr(p.out, "", runes)
			}
			return nil
		case c < 0x20:
			return p.errorf("control character %#x in string", c)
		case c == '\\':
			if p.pos+1 >= len(p.src) {
				return p.errorf("unterminated escape")
			}
			e := p.src[p.pos+1]
			p.pos += 2
			switch e {
			case '"', '\\', '/':
				runes = append(runes, rune(e))
			case 'b':
				runes = append(runes, '\b')
			case 'f':
				runes = append(runes, '\f')
			case 'n':
				runes = append(runes, '\n')
			case 'r':
				runes = append(runes, '\r')
			case 't':
				runes = append(runes, '\t')
			case 'u':
				r, err := p.hex4()
				if err != nil {
					return err
				}
				if utf16.IsSurrogate(r) && r < 0xdc00 && p.pos+6 <= len(p.src) && p.src[p.pos] == '\\' && p.src[p.pos+1] == 'u' {
					save := p.pos
					p.pos += 2
					r2, err := p.hex4()
					if err == nil && r2 >= 0xdc00 && r2 <= 0xdfff {
						r = utf16.DecodeRune(r, r2)
					} else {
						p.pos = save
					}
				}
				runes = append(runes, r)
			default:
				return p.errorf("invalid escape \\%c", e)
			}
		default:
			r, size := utf8.DecodeRune(p.src[p.pos:])
			if r == utf8.RuneError && size == 1 {
				return p.errorf("string is not valid UTF-8")
			}
			runes = append(runes, r)
			p.pos += size
		}
	}
}

func (p *pyParser) hex4() (rune, error) {
	if p.pos+4 > len(p.src) {
		return 0, p.errorf("short \\u escape")
	}
	v, err := strconv.ParseUint(string(p.src[p.pos:p.pos+4]), 16, 16)
	if err != nil {
		return 0, p.errorf("invalid \\u escape %q", p.src[p.pos:p.pos+4])
	}
	p.pos += 4
	return rune(v), nil
}

func (p *pyParser) array(elem reflect.Type, depth int) error {
	p.pos++
	p.out = append(p.out, '[')
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		p.out = append(p.out, ']')
		return nil
	}
	for i := 0; ; i++ {
		if i > 0 {
			p.out = append(p.out, ", "...)
		}
		p.skipSpace()
		if err := p.value(elem, false, depth+1); err != nil {
			return err
		}
		p.skipSpace()
		if p.pos >= len(p.src) {
			return p.errorf("unterminated array")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			p.out = append(p.out, ']')
			return nil
		default:
			return p.errorf("want , or ] in array, got %q", p.src[p.pos])
		}
	}
}

// member is one key of a JSON object: the key as Python text and the raw value span.
type member struct {
	key              string
	keyStart, keyEnd int // the key's JSON text, quotes included
	start, end       int // the value's JSON text
}

// members reads the members of an object without rendering them. A repeated key keeps
// its first position and its last value, as a Python dict built by json.loads does.
func (p *pyParser) members(depth int) ([]member, error) {
	p.pos++
	ms := make([]member, 0, 16)
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		return ms, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			return nil, p.errorf("want a string key in object")
		}
		keyStart := p.pos
		key, err := p.keyString()
		keyEnd := p.pos
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return nil, p.errorf("want : after object key")
		}
		p.pos++
		p.skipSpace()
		start := p.pos
		// Skip the value (checking its syntax); the values that matter are rendered
		// for real, with their types, later.
		if err := p.skip(depth + 1); err != nil {
			return nil, err
		}
		m := member{key: key, keyStart: keyStart, keyEnd: keyEnd, start: start, end: p.pos}
		replaced := false
		for i := range ms {
			if ms[i].key == key {
				ms[i].start, ms[i].end = m.start, m.end
				replaced = true
				break
			}
		}
		if !replaced {
			ms = append(ms, m)
		}
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, p.errorf("unterminated object")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return ms, nil
		default:
			return nil, p.errorf("want , or } in object, got %q", p.src[p.pos])
		}
	}
}

// skip moves past one JSON value, checking its syntax but rendering nothing. This is
// the hot part of finding the hash fields in a body, so strings are scanned for their
// closing quote without being decoded (their escapes and UTF-8 are checked only when a
// value is rendered, and by the JSON decoder that reads the body).
func (p *pyParser) skip(depth int) error {
	if depth > maxPyDepth {
		return errPyDepth
	}
	if p.pos >= len(p.src) {
		return p.errorf("unexpected end of input")
	}
	switch c := p.src[p.pos]; {
	case c == 'n':
		return p.literal("null")
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == '"':
		p.pos++
		for p.pos < len(p.src) {
			switch c := p.src[p.pos]; {
			case c == '"':
				p.pos++
				return nil
			case c == '\\':
				p.pos += 2
			case c < 0x20:
				return p.errorf("control character %#x in string", c)
			default:
				p.pos++
			}
		}
		return p.errorf("unterminated string")
	case c == '-' || (c >= '0' && c <= '9'):
		_, _, err := p.scanNumber()
		return err
	case c == '[' || c == '{':
		closer := byte(']')
		if c == '{' {
			closer = '}'
		}
		p.pos++
		p.skipSpace()
		if p.pos < len(p.src) && p.src[p.pos] == closer {
			p.pos++
			return nil
		}
		for {
			p.skipSpace()
			if c == '{' {
				if p.pos >= len(p.src) || p.src[p.pos] != '"' {
					return p.errorf("want a string key in object")
				}
				if err := p.skip(depth + 1); err != nil {
					return err
				}
				p.skipSpace()
				if p.pos >= len(p.src) || p.src[p.pos] != ':' {
					return p.errorf("want : after object key")
				}
				p.pos++
				p.skipSpace()
			}
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			p.skipSpace()
			if p.pos >= len(p.src) {
				return p.errorf("unterminated container")
			}
			switch p.src[p.pos] {
			case ',':
				p.pos++
			case closer:
				p.pos++
				return nil
			default:
				return p.errorf("want , or %c, got %q", closer, p.src[p.pos])
			}
		}
	default:
		return p.errorf("unexpected character %q", c)
	}
}

// keyString reads a string and returns its decoded text (lone surrogates become U+FFFD).
func (p *pyParser) keyString() (string, error) {
	mark := len(p.out)
	if err := p.str(true); err != nil {
		return "", err
	}
	k := string(p.out[mark:])
	p.out = p.out[:mark]
	return k, nil
}

// renderAt renders the raw value at [start,end) of the source.
func (p *pyParser) renderAt(start, end int, t reflect.Type, depth int) error {
	sub := pyParser{src: p.src[:end], pos: start, out: p.out, runes: p.runes}
	if err := sub.value(t, false, depth); err != nil {
		return err
	}
	p.out, p.runes = sub.out, sub.runes
	return nil
}

func (p *pyParser) object(key, elem reflect.Type, depth int) error {
	ms, err := p.members(depth)
	if err != nil {
		return err
	}
	intKeys := key != nil && key.Kind() >= reflect.Int && key.Kind() <= reflect.Uint64
	p.out = append(p.out, '{')
	for i, m := range ms {
		if i > 0 {
			p.out = append(p.out, ", "...)
		}
		if intKeys {
			n, err := strconv.ParseInt(m.key, 10, 64)
			if err != nil {
				return fmt.Errorf("JSON object key %q is not an integer", m.key)
			}
			p.out = strconv.AppendInt(p.out, n, 10)
		} else {
			p.out = AppendPyRepr(p.out, m.key)
		}
		p.out = append(p.out, ": "...)
		if err := p.renderAt(m.start, m.end, elem, depth+1); err != nil {
			return err
		}
	}
	p.out = append(p.out, '}')
	return nil
}

// structObject renders a nested model: model_dump() gives a dict in the order the model
// declares its fields, whatever order the JSON had; a field missing from the JSON renders
// as None.
func (p *pyParser) structObject(t reflect.Type, depth int) error {
	ms, err := p.members(depth)
	if err != nil {
		return err
	}
	p.out = append(p.out, '{')
	for i, f := range jsonFields(t) {
		if i > 0 {
			p.out = append(p.out, ", "...)
		}
		p.out = AppendPyRepr(p.out, f.name)
		p.out = append(p.out, ": "...)
		found := false
		for _, m := range ms {
			if m.key == f.name {
				if err := p.renderAt(m.start, m.end, f.typ, depth+1); err != nil {
					return err
				}
				found = true
				break
			}
		}
		if !found {
			p.out = append(p.out, "None"...)
		}
	}
	p.out = append(p.out, '}')
	return nil
}
