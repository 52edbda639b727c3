package gguf

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/bits"
	"sort"
	"strconv"
)

// Format constants and the limits Read enforces.
const (
	// Magic is the first four bytes of every GGUF file.
	Magic = "GGUF"
	// DefaultAlignment is the data alignment of a file without a
	// general.alignment key.
	DefaultAlignment = 32
	// AlignmentKey is the metadata key that sets the alignment (a u32, a
	// power of two).
	AlignmentKey = "general.alignment"
	// MaxKeyLen is the longest metadata key accepted, in bytes (keys are
	// also non-empty).
	MaxKeyLen = 65535
	// MaxTensorNameLen is the longest tensor name accepted, in bytes
	// (names are also non-empty). ggml itself accepts at most 63.
	MaxTensorNameLen = 255
	// MaxStringLen is the longest string value accepted, in bytes.
	MaxStringLen = 1 << 28
	// MaxArrayDepth is the deepest array nesting accepted: an array of
	// scalars has depth 1, an array of such arrays depth 2, and so on.
	MaxArrayDepth = 4
)

// minKVBytes and minTensorInfoBytes are the smallest encodings of one
// metadata pair (u64 key length, a 1-byte key, u32 kind, a 1-byte value)
// and of one tensor info (u64 name length, a 1-byte name, u32 ndims, one
// u64 dim, u32 type, u64 offset): the bounds counts are checked against.
const (
	minKVBytes         = 8 + 1 + 4 + 1
	minTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8
)

// KV is one metadata key/value pair.
type KV struct {
	Key   string
	Value Value
}

// File is the parsed header of a GGUF file: its metadata and tensor
// directory. Read fills every field; a File given to Write needs Version,
// KV and Tensors (Alignment and DataOffset are derived).
type File struct {
	// Version is the format version, 2 or 3.
	Version uint32
	// KV is the metadata in file order.
	KV []KV
	// Tensors is the tensor directory in file order.
	Tensors []TensorInfo
	// Alignment is the data alignment: general.alignment, or 32.
	Alignment uint64
	// DataOffset is the file offset of the data section: the end of the
	// header rounded up to Alignment. Tensor i's data starts at
	// DataOffset + Tensors[i].Offset.
	DataOffset int64
	// Size is the size of the file Read parsed.
	Size int64

	kvIndex     map[string]int
	tensorIndex map[string]int
}

// Read parses the header of a GGUF v2 or v3 file of size bytes read
// through r: metadata, tensor directory, alignment and data offset. It
// reads no tensor data but checks that every tensor's data range lies
// inside the file, is aligned and overlaps no other. Every count and
// length in the file is checked against the bytes that remain before
// anything is allocated for it, so a hostile header costs at most a small
// multiple of its own size in memory. Errors are *Error values of kind
// ErrFormat, ErrTruncated, ErrUnsupported or ErrIO.
func Read(r io.ReaderAt, size int64) (*File, error) {
	if size < 0 {
		return nil, errf(ErrInvalid, "negative file size %d", size)
	}
	p := &parser{r: r, size: size}
	f, err := p.header()
	if err != nil {
		return nil, err
	}
	return f, nil
}

type parser struct {
	r      io.ReaderAt
	size   int64
	pos    int64
	win    []byte // buffered bytes of the file starting at winOff
	winOff int64
}

const windowSize = 64 << 10

// take returns the next n bytes and advances. The slice is valid until the
// next call. n must have been checked against p.size - p.pos... take
// checks it again and reports ErrTruncated naming what.
func (p *parser) take(n int64, what where) ([]byte, error) {
	if n < 0 || n > p.size-p.pos {
		return nil, errf(ErrTruncated, "%s: needs %d bytes at offset %d, file size %d", what, n, p.pos, p.size)
	}
	if p.pos >= p.winOff && p.pos+n <= p.winOff+int64(len(p.win)) {
		b := p.win[p.pos-p.winOff : p.pos-p.winOff+n]
		p.pos += n
		return b, nil
	}
	var dst []byte
	if n <= windowSize {
		w := int64(windowSize)
		if rem := p.size - p.pos; rem < w {
			w = rem
		}
		if int64(cap(p.win)) < w {
			p.win = make([]byte, w)
		}
		p.win = p.win[:w]
		p.winOff = p.pos
		dst = p.win
	} else {
		dst = make([]byte, n) // n <= p.size - p.pos: bounded by the file
	}
	if err := readFull(p.r, dst, p.pos); err != nil {
		p.win = p.win[:0]
		return nil, p.ioErr(err, what)
	}
	b := dst[:n]
	p.pos += n
	return b, nil
}

func (p *parser) ioErr(err error, what where) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errf(ErrTruncated, "%s: file ends before offset %d (stated size %d)", what, p.pos, p.size)
	}
	return wrapf(ErrIO, err, "%s: reading at offset %d", what, p.pos)
}

// readFull reads len(dst) bytes at off, accepting io.EOF with a full read.
func readFull(r io.ReaderAt, dst []byte, off int64) error {
	n, err := r.ReadAt(dst, off)
	if n == len(dst) {
		return nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func (p *parser) u32(what where) (uint32, error) {
	b, err := p.take(4, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (p *parser) u64(what where) (uint64, error) {
	b, err := p.take(8, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// str reads a GGUF string (u64 length, bytes) of at most max bytes.
func (p *parser) str(max uint64, what where) (string, error) {
	n, err := p.u64(what)
	if err != nil {
		return "", err
	}
	if n > max {
		return "", errf(ErrFormat, "%s: string length %d exceeds the limit %d", what, n, max)
	}
	if n > uint64(p.size-p.pos) {
		return "", errf(ErrTruncated, "%s: string length %d at offset %d exceeds the %d bytes left", what, n, p.pos-8, p.size-p.pos)
	}
	b, err := p.take(int64(n), what)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// where names the structure being read, for error messages; it is
// formatted only when an error occurs, so reading costs no allocation.
type where struct {
	label  string // "magic", "metadata key", "tensor", ...
	name   string // if non-empty, appended quoted
	idx    int64  // if name is empty and idx >= 0, appended
	suffix string // appended after a colon
}

func at(label string) where { return where{label: label, idx: -1} }

func (w where) String() string {
	s := w.label
	switch {
	case w.name != "":
		s += " " + strconv.Quote(w.name)
	case w.idx >= 0:
		s += " " + strconv.FormatInt(w.idx, 10)
	}
	if w.suffix != "" {
		s += ": " + w.suffix
	}
	return s
}

func (p *parser) header() (*File, error) {
	if p.size < 4 {
		return nil, errf(ErrTruncated, "file of %d bytes is too short for the magic", p.size)
	}
	m, err := p.take(4, at("magic"))
	if err != nil {
		return nil, err
	}
	if string(m) != Magic {
		return nil, errf(ErrFormat, "bad magic %q (want %q)", m, Magic)
	}
	version, err := p.u32(at("version"))
	if err != nil {
		return nil, err
	}
	switch {
	case version == 2 || version == 3:
	case version == 1:
		return nil, errf(ErrUnsupported, "version 1 is not supported (only versions 2 and 3)")
	case version == 0:
		return nil, errf(ErrUnsupported, "version 0 is not a GGUF version")
	case bits.ReverseBytes32(version) <= 3:
		return nil, errf(ErrUnsupported, "big-endian file (version field %#08x): only little-endian files are supported", version)
	default:
		return nil, errf(ErrUnsupported, "unknown version %d (only versions 2 and 3)", version)
	}
	nTensors, err := p.u64(at("tensor count"))
	if err != nil {
		return nil, err
	}
	nKV, err := p.u64(at("metadata count"))
	if err != nil {
		return nil, err
	}
	rem := uint64(p.size - p.pos)
	if nKV > rem/minKVBytes {
		return nil, errf(ErrFormat, "metadata count %d needs at least %d bytes per pair, %d bytes left", nKV, minKVBytes, rem)
	}
	if nTensors > rem/minTensorInfoBytes {
		return nil, errf(ErrFormat, "tensor count %d needs at least %d bytes per tensor info, %d bytes left", nTensors, minTensorInfoBytes, rem)
	}
	if nKV*minKVBytes+nTensors*minTensorInfoBytes > rem {
		return nil, errf(ErrFormat, "metadata count %d and tensor count %d need more than the %d bytes left", nKV, nTensors, rem)
	}
	f := &File{
		Version:     version,
		Size:        p.size,
		KV:          make([]KV, 0, nKV), // 64 bytes per >= 14 in the file
		Tensors:     make([]TensorInfo, 0, nTensors),
		kvIndex:     make(map[string]int, nKV),
		tensorIndex: make(map[string]int, nTensors),
	}
	for i := uint64(0); i < nKV; i++ {
		key, err := p.str(MaxKeyLen, where{label: "metadata pair", idx: int64(i), suffix: "key"})
		if err != nil {
			return nil, err
		}
		if key == "" {
			return nil, errf(ErrFormat, "metadata pair %d: empty key", i)
		}
		if j, dup := f.kvIndex[key]; dup {
			return nil, errf(ErrFormat, "metadata key %q: duplicate (pairs %d and %d)", key, j, i)
		}
		wh := where{label: "metadata key", name: key}
		k, err := p.u32(wh)
		if err != nil {
			return nil, err
		}
		v, err := p.value(ValueKind(k), 0, wh)
		if err != nil {
			return nil, err
		}
		f.kvIndex[key] = len(f.KV)
		f.KV = append(f.KV, KV{Key: key, Value: v})
	}
	align, err := alignmentOf(f)
	if err != nil {
		return nil, err
	}
	f.Alignment = align

	for i := uint64(0); i < nTensors; i++ {
		name, err := p.str(MaxTensorNameLen, where{label: "tensor", idx: int64(i), suffix: "name"})
		if err != nil {
			return nil, err
		}
		if name == "" {
			return nil, errf(ErrFormat, "tensor %d: empty name", i)
		}
		if j, dup := f.tensorIndex[name]; dup {
			return nil, errf(ErrFormat, "tensor %q: duplicate name (tensors %d and %d)", name, j, i)
		}
		wh := where{label: "tensor", name: name}
		nd, err := p.u32(wh)
		if err != nil {
			return nil, err
		}
		if nd < 1 || nd > MaxDims {
			return nil, errf(ErrFormat, "tensor %q: %d dimensions (want 1..%d)", name, nd, MaxDims)
		}
		t := TensorInfo{Name: name, Dims: make([]uint64, nd)}
		for j := range t.Dims {
			if t.Dims[j], err = p.u64(wh); err != nil {
				return nil, err
			}
		}
		typ, err := p.u32(wh)
		if err != nil {
			return nil, err
		}
		t.Type = GGMLType(typ)
		if t.Offset, err = p.u64(wh); err != nil {
			return nil, err
		}
		if !t.Type.Known() {
			return nil, errf(ErrUnsupported, "tensor %q: unknown ggml type %d", name, typ)
		}
		if _, _, err := t.size(); err != nil {
			return nil, err
		}
		if t.Offset%align != 0 {
			return nil, errf(ErrFormat, "tensor %q: offset %d is not a multiple of the alignment %d", name, t.Offset, align)
		}
		f.tensorIndex[name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, t)
	}
	// The data section starts at the header's end rounded up to the
	// alignment; p.pos <= size < 2^63 and align <= 2^31, so no overflow.
	f.DataOffset = int64((uint64(p.pos) + align - 1) / align * align)
	if err := checkLayout(f); err != nil {
		return nil, err
	}
	return f, nil
}

// alignmentOf returns the alignment general.alignment sets (it must be a
// u32, a non-zero power of two), or DefaultAlignment.
func alignmentOf(f *File) (uint64, error) {
	v, ok := f.Lookup(AlignmentKey)
	if !ok {
		return DefaultAlignment, nil
	}
	if v.Kind() != KindUint32 {
		return 0, errf(ErrFormat, "metadata key %q: kind %s, want u32", AlignmentKey, v.Kind())
	}
	a, _ := v.AsUint64()
	if a == 0 || a&(a-1) != 0 {
		return 0, errf(ErrFormat, "metadata key %q: alignment %d is not a power of two", AlignmentKey, a)
	}
	return a, nil
}

// checkLayout checks that every tensor's data range lies inside the file
// and that no two ranges overlap. f.DataOffset and f.Size are set, and
// every tensor has passed size().
func checkLayout(f *File) error {
	if len(f.Tensors) == 0 {
		return nil
	}
	data := uint64(f.Size) - uint64(min(f.DataOffset, f.Size)) // bytes in the data section
	order := make([]int, len(f.Tensors))
	for i := range order {
		order[i] = i
	}
	for _, i := range order {
		t := &f.Tensors[i]
		n := t.Bytes()
		if t.Offset > data || f.DataOffset > f.Size {
			return errf(ErrFormat, "tensor %q: offset %d (file offset %d) past end of file (size %d)",
				t.Name, t.Offset, uint64(f.DataOffset)+t.Offset, f.Size)
		}
		if n > data-t.Offset {
			return errf(ErrFormat, "tensor %q: data [%d, %d) runs past end of file (size %d)",
				t.Name, uint64(f.DataOffset)+t.Offset, uint64(f.DataOffset)+t.Offset+n, f.Size)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return f.Tensors[order[a]].Offset < f.Tensors[order[b]].Offset })
	var end uint64
	prev := -1
	for _, i := range order {
		t := &f.Tensors[i]
		n := t.Bytes()
		if n == 0 {
			continue
		}
		if prev >= 0 && t.Offset < end {
			return errf(ErrFormat, "tensor %q: data at offset %d overlaps tensor %q (ends at %d)",
				t.Name, t.Offset, f.Tensors[prev].Name, end)
		}
		end, prev = t.Offset+n, i
	}
	return nil
}

// value reads one value of kind k; depth is the array nesting depth of the
// enclosing array (0 at top level).
func (p *parser) value(k ValueKind, depth int, wh where) (Value, error) {
	switch k {
	case KindString:
		s, err := p.str(MaxStringLen, wh)
		if err != nil {
			return Value{}, err
		}
		return String(s), nil
	case KindArray:
		return p.array(depth+1, wh)
	}
	if !k.valid() {
		return Value{}, errf(ErrFormat, "%s: unknown value kind %d at offset %d", wh, uint32(k), p.pos-4)
	}
	b, err := p.take(int64(k.scalarSize()), wh)
	if err != nil {
		return Value{}, err
	}
	return scalarFromBytes(k, b, wh)
}

func scalarFromBytes(k ValueKind, b []byte, wh where) (Value, error) {
	switch k {
	case KindUint8:
		return Uint8(b[0]), nil
	case KindInt8:
		return Int8(int8(b[0])), nil
	case KindBool:
		if b[0] > 1 {
			return Value{}, errf(ErrFormat, "%s: bool byte %d (want 0 or 1)", wh, b[0])
		}
		return Bool(b[0] == 1), nil
	case KindUint16:
		return Uint16(binary.LittleEndian.Uint16(b)), nil
	case KindInt16:
		return Int16(int16(binary.LittleEndian.Uint16(b))), nil
	case KindUint32:
		return Uint32(binary.LittleEndian.Uint32(b)), nil
	case KindInt32:
		return Int32(int32(binary.LittleEndian.Uint32(b))), nil
	case KindFloat32:
		return Float32(math.Float32frombits(binary.LittleEndian.Uint32(b))), nil
	case KindUint64:
		return Uint64(binary.LittleEndian.Uint64(b)), nil
	case KindInt64:
		return Int64(int64(binary.LittleEndian.Uint64(b))), nil
	case KindFloat64:
		return Float64(math.Float64frombits(binary.LittleEndian.Uint64(b))), nil
	}
	return Value{}, errf(ErrFormat, "%s: unknown value kind %d", wh, uint32(k))
}

// array reads an array (u32 element kind, u64 count, elements) at nesting
// depth depth (1 for a top-level array).
func (p *parser) array(depth int, wh where) (Value, error) {
	if depth > MaxArrayDepth {
		return Value{}, errf(ErrFormat, "%s: arrays nested deeper than %d", wh, MaxArrayDepth)
	}
	ek, err := p.u32(wh)
	if err != nil {
		return Value{}, err
	}
	k := ValueKind(ek)
	if !k.valid() {
		return Value{}, errf(ErrFormat, "%s: unknown array element kind %d at offset %d", wh, ek, p.pos-4)
	}
	n, err := p.u64(wh)
	if err != nil {
		return Value{}, err
	}
	rem := uint64(p.size - p.pos)
	if least := uint64(k.minSize()); n > rem/least {
		return Value{}, errf(ErrFormat, "%s: array of %d %s needs at least %d bytes each, %d bytes left",
			wh, n, k, least, rem)
	}
	// From here n * minSize <= rem < 2^63, so n fits an int and every
	// slice below is at most 16/minSize times the bytes it is read from.
	switch k {
	case KindString:
		a := make([]string, n)
		for i := range a {
			if a[i], err = p.str(MaxStringLen, wh); err != nil {
				return Value{}, err
			}
		}
		return Array(a), nil
	case KindArray:
		a := make([]Value, n)
		for i := range a {
			if a[i], err = p.array(depth+1, wh); err != nil {
				return Value{}, err
			}
		}
		return Array(a), nil
	}
	return p.scalarArray(k, int(n), wh)
}

func (p *parser) scalarArray(k ValueKind, n int, wh where) (Value, error) {
	sz := k.scalarSize()
	switch k {
	case KindUint8:
		a := make([]uint8, n)
		err := chunks(p, a, 1, wh, func(dst []uint8, b []byte) { copy(dst, b) })
		return Array(a), err
	case KindInt8:
		a := make([]int8, n)
		err := chunks(p, a, 1, wh, func(dst []int8, b []byte) {
			for i := range dst {
				dst[i] = int8(b[i])
			}
		})
		return Array(a), err
	case KindBool:
		a := make([]bool, n)
		bad := -1
		err := chunks(p, a, 1, wh, func(dst []bool, b []byte) {
			for i := range dst {
				if b[i] > 1 && bad < 0 {
					bad = int(b[i])
				}
				dst[i] = b[i] == 1
			}
		})
		if err == nil && bad >= 0 {
			err = errf(ErrFormat, "%s: bool byte %d in array (want 0 or 1)", wh, bad)
		}
		return Array(a), err
	case KindUint16:
		a := make([]uint16, n)
		err := chunks(p, a, sz, wh, func(dst []uint16, b []byte) {
			for i := range dst {
				dst[i] = binary.LittleEndian.Uint16(b[2*i:])
			}
		})
		return Array(a), err
	case KindInt16:
		a := make([]int16, n)
		err := chunks(p, a, sz, wh, func(dst []int16, b []byte) {
			for i := range dst {
				dst[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
			}
		})
		return Array(a), err
	case KindUint32:
		a := make([]uint32, n)
		err := chunks(p, a, sz, wh, func(dst []uint32, b []byte) {
			for i := range dst {
				dst[i] = binary.LittleEndian.Uint32(b[4*i:])
			}
		})
		return Array(a), err
	case KindInt32:
		a := make([]int32, n)
		err := chunks(p, a, sz, wh, func(dst []int32, b []byte) {
			for i := range dst {
				dst[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
			}
		})
		return Array(a), err
	case KindFloat32:
		a := make([]float32, n)
		err := chunks(p, a, sz, wh, func(dst []float32, b []byte) {
			for i := range dst {
				dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		})
		return Array(a), err
	case KindUint64:
		a := make([]uint64, n)
		err := chunks(p, a, sz, wh, func(dst []uint64, b []byte) {
			for i := range dst {
				dst[i] = binary.LittleEndian.Uint64(b[8*i:])
			}
		})
		return Array(a), err
	case KindInt64:
		a := make([]int64, n)
		err := chunks(p, a, sz, wh, func(dst []int64, b []byte) {
			for i := range dst {
				dst[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
			}
		})
		return Array(a), err
	case KindFloat64:
		a := make([]float64, n)
		err := chunks(p, a, sz, wh, func(dst []float64, b []byte) {
			for i := range dst {
				dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
			}
		})
		return Array(a), err
	}
	return Value{}, errf(ErrFormat, "%s: unknown array element kind %d", wh, uint32(k))
}

// chunks fills dst from the next len(dst)*sz bytes, a window at a time.
func chunks[T any](p *parser, dst []T, sz int, wh where, conv func(dst []T, b []byte)) error {
	per := windowSize / sz
	for len(dst) > 0 {
		m := min(per, len(dst))
		b, err := p.take(int64(m*sz), wh)
		if err != nil {
			return err
		}
		conv(dst[:m], b)
		dst = dst[m:]
	}
	return nil
}
