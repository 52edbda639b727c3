package gguf

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ValueKind is the type of a metadata value, the gguf_type enum. The
// numbers are part of the file format.
type ValueKind uint32

// The metadata value kinds.
const (
	KindUint8   ValueKind = 0
	KindInt8    ValueKind = 1
	KindUint16  ValueKind = 2
	KindInt16   ValueKind = 3
	KindUint32  ValueKind = 4
	KindInt32   ValueKind = 5
	KindFloat32 ValueKind = 6
	KindBool    ValueKind = 7
	KindString  ValueKind = 8
	KindArray   ValueKind = 9
	KindUint64  ValueKind = 10
	KindInt64   ValueKind = 11
	KindFloat64 ValueKind = 12
)

var kindNames = [...]string{"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"}

// String returns the kind's short name ("u32", "string", "array", ...).
func (k ValueKind) String() string {
	if uint64(k) < uint64(len(kindNames)) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint32(k))
}

func (k ValueKind) valid() bool { return k <= KindFloat64 }

// scalarSize is the encoded size of a fixed-size kind, 0 for string and
// array.
func (k ValueKind) scalarSize() int {
	switch k {
	case KindUint8, KindInt8, KindBool:
		return 1
	case KindUint16, KindInt16:
		return 2
	case KindUint32, KindInt32, KindFloat32:
		return 4
	case KindUint64, KindInt64, KindFloat64:
		return 8
	}
	return 0
}

// minSize is the smallest encoded size of one value of kind k: what every
// array count is checked against before allocation.
func (k ValueKind) minSize() int {
	switch k {
	case KindString:
		return 8 // u64 length
	case KindArray:
		return 12 // u32 element kind + u64 count
	}
	return k.scalarSize()
}

// Value is one metadata value: a kind and its payload. The zero Value is
// invalid (IsValid reports false). Arrays hold a typed Go slice: []uint8,
// []int8, []uint16, []int16, []uint32, []int32, []float32, []bool,
// []string, []uint64, []int64, []float64, or []Value for an array of
// arrays (each element itself an array Value). Slices inside a Value are
// shared, never copied: do not modify a slice after building a Value from
// it, nor one a getter returned.
type Value struct {
	tag uint32 // kind+1; 0 = invalid
	num uint64 // integers (signed ones sign-extended), bool 0/1, float bits
	str string
	arr any
}

func scalar(k ValueKind, n uint64) Value { return Value{tag: uint32(k) + 1, num: n} }

// Uint8 returns a u8 Value.
func Uint8(v uint8) Value { return scalar(KindUint8, uint64(v)) }

// Int8 returns an i8 Value.
func Int8(v int8) Value { return scalar(KindInt8, uint64(int64(v))) }

// Uint16 returns a u16 Value.
func Uint16(v uint16) Value { return scalar(KindUint16, uint64(v)) }

// Int16 returns an i16 Value.
func Int16(v int16) Value { return scalar(KindInt16, uint64(int64(v))) }

// Uint32 returns a u32 Value.
func Uint32(v uint32) Value { return scalar(KindUint32, uint64(v)) }

// Int32 returns an i32 Value.
func Int32(v int32) Value { return scalar(KindInt32, uint64(int64(v))) }

// Uint64 returns a u64 Value.
func Uint64(v uint64) Value { return scalar(KindUint64, v) }

// Int64 returns an i64 Value.
func Int64(v int64) Value { return scalar(KindInt64, uint64(v)) }

// Float32 returns an f32 Value (the bits are kept exactly, NaN payloads
// included).
func Float32(v float32) Value { return scalar(KindFloat32, uint64(math.Float32bits(v))) }

// Float64 returns an f64 Value (the bits are kept exactly).
func Float64(v float64) Value { return scalar(KindFloat64, math.Float64bits(v)) }

// Bool returns a bool Value.
func Bool(v bool) Value {
	if v {
		return scalar(KindBool, 1)
	}
	return scalar(KindBool, 0)
}

// String returns a string Value. GGUF strings are byte strings; s need not
// be valid UTF-8.
func String(s string) Value { return Value{tag: uint32(KindString) + 1, str: s} }

// ArrayElem is the set of Go element types an array Value can hold.
type ArrayElem interface {
	uint8 | int8 | uint16 | int16 | uint32 | int32 | float32 | bool | string | uint64 | int64 | float64 | Value
}

// Array returns an array Value holding s (not copied). For []Value every
// element must itself be an array Value; a Builder checks that (and the
// nesting depth) when the value is added.
func Array[T ArrayElem](s []T) Value {
	if s == nil {
		s = []T{}
	}
	return Value{tag: uint32(KindArray) + 1, arr: s}
}

// ValueOf converts a Go value to a Value: a Value is returned as is; the
// scalar types uint8, int8, uint16, int16, uint32, int32, uint64, int64,
// float32, float64, bool, string and slices of them or of Value become the
// matching kind. Other types (int, uint, []int, ...) are refused with
// ErrInvalid, since their encoded width would be ambiguous.
func ValueOf(v any) (Value, error) {
	switch x := v.(type) {
	case Value:
		return x, nil
	case uint8:
		return Uint8(x), nil
	case int8:
		return Int8(x), nil
	case uint16:
		return Uint16(x), nil
	case int16:
		return Int16(x), nil
	case uint32:
		return Uint32(x), nil
	case int32:
		return Int32(x), nil
	case uint64:
		return Uint64(x), nil
	case int64:
		return Int64(x), nil
	case float32:
		return Float32(x), nil
	case float64:
		return Float64(x), nil
	case bool:
		return Bool(x), nil
	case string:
		return String(x), nil
	case []uint8:
		return Array(x), nil
	case []int8:
		return Array(x), nil
	case []uint16:
		return Array(x), nil
	case []int16:
		return Array(x), nil
	case []uint32:
		return Array(x), nil
	case []int32:
		return Array(x), nil
	case []uint64:
		return Array(x), nil
	case []int64:
		return Array(x), nil
	case []float32:
		return Array(x), nil
	case []float64:
		return Array(x), nil
	case []bool:
		return Array(x), nil
	case []string:
		return Array(x), nil
	case []Value:
		return Array(x), nil
	}
	return Value{}, errf(ErrInvalid, "no GGUF value kind for Go type %T", v)
}

// IsValid reports whether v holds a value (the zero Value does not).
func (v Value) IsValid() bool { return v.tag != 0 }

// Kind returns v's kind. It is meaningless for an invalid Value.
func (v Value) Kind() ValueKind { return ValueKind(v.tag - 1) }

func (v Value) is(k ValueKind) bool { return v.tag == uint32(k)+1 }

// ElemKind returns the element kind of an array Value (KindArray for an
// array of arrays); ok is false if v is not an array.
func (v Value) ElemKind() (k ValueKind, ok bool) {
	if !v.is(KindArray) {
		return 0, false
	}
	switch v.arr.(type) {
	case []uint8:
		return KindUint8, true
	case []int8:
		return KindInt8, true
	case []uint16:
		return KindUint16, true
	case []int16:
		return KindInt16, true
	case []uint32:
		return KindUint32, true
	case []int32:
		return KindInt32, true
	case []float32:
		return KindFloat32, true
	case []bool:
		return KindBool, true
	case []string:
		return KindString, true
	case []uint64:
		return KindUint64, true
	case []int64:
		return KindInt64, true
	case []float64:
		return KindFloat64, true
	case []Value:
		return KindArray, true
	}
	return 0, false
}

// Len returns the number of elements of an array Value, the byte length of
// a string Value, and 0 otherwise.
func (v Value) Len() int {
	switch {
	case v.is(KindString):
		return len(v.str)
	case v.is(KindArray):
		switch a := v.arr.(type) {
		case []uint8:
			return len(a)
		case []int8:
			return len(a)
		case []uint16:
			return len(a)
		case []int16:
			return len(a)
		case []uint32:
			return len(a)
		case []int32:
			return len(a)
		case []float32:
			return len(a)
		case []bool:
			return len(a)
		case []string:
			return len(a)
		case []uint64:
			return len(a)
		case []int64:
			return len(a)
		case []float64:
			return len(a)
		case []Value:
			return len(a)
		}
	}
	return 0
}

// Index returns element i of an array Value as a Value; ok is false if v
// is not an array or i is out of range.
func (v Value) Index(i int) (Value, bool) {
	if !v.is(KindArray) || i < 0 || i >= v.Len() {
		return Value{}, false
	}
	switch a := v.arr.(type) {
	case []uint8:
		return Uint8(a[i]), true
	case []int8:
		return Int8(a[i]), true
	case []uint16:
		return Uint16(a[i]), true
	case []int16:
		return Int16(a[i]), true
	case []uint32:
		return Uint32(a[i]), true
	case []int32:
		return Int32(a[i]), true
	case []float32:
		return Float32(a[i]), true
	case []bool:
		return Bool(a[i]), true
	case []string:
		return String(a[i]), true
	case []uint64:
		return Uint64(a[i]), true
	case []int64:
		return Int64(a[i]), true
	case []float64:
		return Float64(a[i]), true
	case []Value:
		return a[i], true
	}
	return Value{}, false
}

// isSigned reports whether k is a signed integer kind.
func (k ValueKind) isSigned() bool {
	return k == KindInt8 || k == KindInt16 || k == KindInt32 || k == KindInt64
}

func (k ValueKind) isInteger() bool {
	switch k {
	case KindUint8, KindInt8, KindUint16, KindInt16, KindUint32, KindInt32, KindUint64, KindInt64:
		return true
	}
	return false
}

// AsUint64 returns v as a uint64 if v has an integer kind and a value >= 0.
func (v Value) AsUint64() (uint64, bool) {
	if !v.IsValid() || !v.Kind().isInteger() {
		return 0, false
	}
	if v.Kind().isSigned() && int64(v.num) < 0 {
		return 0, false
	}
	return v.num, true
}

// AsInt64 returns v as an int64 if v has an integer kind and its value
// fits.
func (v Value) AsInt64() (int64, bool) {
	if !v.IsValid() || !v.Kind().isInteger() {
		return 0, false
	}
	if v.is(KindUint64) && v.num > math.MaxInt64 {
		return 0, false
	}
	return int64(v.num), true
}

// AsFloat64 returns v as a float64 if v is f32 (converted exactly) or f64.
func (v Value) AsFloat64() (float64, bool) {
	switch {
	case v.is(KindFloat32):
		return float64(math.Float32frombits(uint32(v.num))), true
	case v.is(KindFloat64):
		return math.Float64frombits(v.num), true
	}
	return 0, false
}

// AsFloat32 returns v as a float32 if v is f32, or f64 holding a value a
// float32 represents exactly (NaN included).
func (v Value) AsFloat32() (float32, bool) {
	switch {
	case v.is(KindFloat32):
		return math.Float32frombits(uint32(v.num)), true
	case v.is(KindFloat64):
		f := math.Float64frombits(v.num)
		g := float32(f)
		if float64(g) == f || math.IsNaN(f) {
			return g, true
		}
	}
	return 0, false
}

// AsBool returns v as a bool if v is a bool.
func (v Value) AsBool() (bool, bool) {
	if !v.is(KindBool) {
		return false, false
	}
	return v.num != 0, true
}

// AsString returns v's string if v is a string.
func (v Value) AsString() (string, bool) {
	if !v.is(KindString) {
		return "", false
	}
	return v.str, true
}

// AsStrings returns the elements of a string array (shared, not copied).
func (v Value) AsStrings() ([]string, bool) {
	a, ok := v.arr.([]string)
	return a, ok && v.is(KindArray)
}

// AsFloat32s returns the elements of an f32 array (shared, not copied), or
// a copy of an f64 array if every element converts to float32 exactly.
func (v Value) AsFloat32s() ([]float32, bool) {
	if !v.is(KindArray) {
		return nil, false
	}
	switch a := v.arr.(type) {
	case []float32:
		return a, true
	case []float64:
		out := make([]float32, len(a))
		for i, f := range a {
			g := float32(f)
			if float64(g) != f && !math.IsNaN(f) {
				return nil, false
			}
			out[i] = g
		}
		return out, true
	}
	return nil, false
}

// intArray calls fn on every element of an integer array as an int64 (a
// u64 element above MaxInt64 is passed as ok=false), stopping at the first
// false fn returns. It reports false if v is not an integer array.
func (v Value) intArray(fn func(x int64, ok bool) bool) bool {
	if !v.is(KindArray) {
		return false
	}
	switch a := v.arr.(type) {
	case []uint8:
		for _, x := range a {
			if !fn(int64(x), true) {
				break
			}
		}
	case []int8:
		for _, x := range a {
			if !fn(int64(x), true) {
				break
			}
		}
	case []uint16:
		for _, x := range a {
			if !fn(int64(x), true) {
				break
			}
		}
	case []int16:
		for _, x := range a {
			if !fn(int64(x), true) {
				break
			}
		}
	case []uint32:
		for _, x := range a {
			if !fn(int64(x), true) {
				break
			}
		}
	case []int32:
		for _, x := range a {
			if !fn(int64(x), true) {
				break
			}
		}
	case []uint64:
		for _, x := range a {
			if !fn(int64(x), x <= math.MaxInt64) {
				break
			}
		}
	case []int64:
		for _, x := range a {
			if !fn(x, true) {
				break
			}
		}
	default:
		return false
	}
	return true
}

// AsInt32s returns the elements of an i32 array (shared, not copied), or a
// converted copy of any other integer array whose elements all fit in
// int32.
func (v Value) AsInt32s() ([]int32, bool) {
	if !v.is(KindArray) {
		return nil, false
	}
	if a, ok := v.arr.([]int32); ok {
		return a, true
	}
	out := make([]int32, 0, v.Len())
	fits := true
	isInt := v.intArray(func(x int64, ok bool) bool {
		if !ok || x < math.MinInt32 || x > math.MaxInt32 {
			fits = false
			return false
		}
		out = append(out, int32(x))
		return true
	})
	if !isInt || !fits {
		return nil, false
	}
	return out, true
}

// AsUint32s returns the elements of a u32 array (shared, not copied), or a
// converted copy of any other integer array whose elements all fit in
// uint32.
func (v Value) AsUint32s() ([]uint32, bool) {
	if !v.is(KindArray) {
		return nil, false
	}
	if a, ok := v.arr.([]uint32); ok {
		return a, true
	}
	out := make([]uint32, 0, v.Len())
	fits := true
	isInt := v.intArray(func(x int64, ok bool) bool {
		if !ok || x < 0 || x > math.MaxUint32 {
			fits = false
			return false
		}
		out = append(out, uint32(x))
		return true
	})
	if !isInt || !fits {
		return nil, false
	}
	return out, true
}

// Interface returns v's payload as a Go value: uint8, int8, uint16, int16,
// uint32, int32, float32, bool, string, uint64, int64, float64, or the
// array's slice (see Value). It returns nil for an invalid Value.
func (v Value) Interface() any {
	if !v.IsValid() {
		return nil
	}
	switch v.Kind() {
	case KindUint8:
		return uint8(v.num)
	case KindInt8:
		return int8(v.num)
	case KindUint16:
		return uint16(v.num)
	case KindInt16:
		return int16(v.num)
	case KindUint32:
		return uint32(v.num)
	case KindInt32:
		return int32(v.num)
	case KindUint64:
		return v.num
	case KindInt64:
		return int64(v.num)
	case KindFloat32:
		return math.Float32frombits(uint32(v.num))
	case KindFloat64:
		return math.Float64frombits(v.num)
	case KindBool:
		return v.num != 0
	case KindString:
		return v.str
	case KindArray:
		return v.arr
	}
	return nil
}

// Equal reports whether v and w have the same kind and payload: floats
// compare by bits (so NaN equals the same NaN, and 0 differs from -0),
// arrays element by element with the same element kind.
func (v Value) Equal(w Value) bool {
	if v.tag != w.tag {
		return false
	}
	switch {
	case !v.IsValid():
		return true
	case v.is(KindString):
		return v.str == w.str
	case !v.is(KindArray):
		return v.num == w.num
	}
	ek, _ := v.ElemKind()
	wk, _ := w.ElemKind()
	if ek != wk || v.Len() != w.Len() {
		return false
	}
	n := v.Len()
	for i := 0; i < n; i++ {
		a, _ := v.Index(i)
		b, _ := w.Index(i)
		if !a.Equal(b) {
			return false
		}
	}
	return true
}

// String formats v for people: numbers in Go syntax, strings quoted,
// arrays as "[kind x N: e0 e1 ...]" with at most 8 elements shown.
func (v Value) String() string {
	if !v.IsValid() {
		return "<invalid>"
	}
	switch v.Kind() {
	case KindString:
		return strconv.Quote(v.str)
	case KindArray:
		ek, _ := v.ElemKind()
		var sb strings.Builder
		fmt.Fprintf(&sb, "[%s x %d:", ek, v.Len())
		n := v.Len()
		for i := 0; i < n && i < 8; i++ {
			e, _ := v.Index(i)
			sb.WriteByte(' ')
			sb.WriteString(e.String())
		}
		if n > 8 {
			sb.WriteString(" ...")
		}
		sb.WriteByte(']')
		return sb.String()
	}
	return fmt.Sprint(v.Interface())
}
