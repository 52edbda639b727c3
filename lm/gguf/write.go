package gguf

import (
	"bufio"
	"encoding/binary"
	"io"
	"math"
	"os"
	"sort"
)

// Write writes f as a GGUF file to w and returns the number of bytes
// written. The header comes from f.Version (2 or 3), f.KV and f.Tensors
// (in that order, with their Offsets, which must be multiples of the
// alignment and must not overlap); the alignment is general.alignment (a
// u32 power of two) or 32, and a non-zero f.Alignment must agree with it;
// f.DataOffset and f.Size are ignored (recomputed). The header is padded
// with zeros to the alignment; then, in increasing offset order, each
// tensor's data is produced by data(i, w), which must write exactly
// Tensors[i].Bytes() bytes to the writer it is given; gaps between tensors
// are zero-filled and the data section is zero-padded to a multiple of the
// alignment (as llama.cpp and gguf-py write files).
//
// Output is buffered, so data may write in small pieces. Errors are
// *Error values: ErrInvalid for a File that would not parse back, ErrIO
// (wrapping the cause) for a failed write or a data callback's error.
func Write(w io.Writer, f *File, data func(i int, w io.Writer) error) (int64, error) {
	hdr, dataOff, align, order, err := encodeHeader(f)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	cw := &countWriter{w: bw}
	if _, err := cw.Write(hdr); err != nil {
		return cw.n, wrapf(ErrIO, err, "writing header")
	}
	if err := writeZeros(cw, int64(dataOff)-cw.n); err != nil {
		return cw.n, wrapf(ErrIO, err, "writing header padding")
	}
	var pos uint64 // within the data section
	for _, i := range order {
		t := &f.Tensors[i]
		if t.Offset > pos {
			// A gap, or the offset of an empty tensor past the last data:
			// zero-fill so the offset stays inside the file.
			if err := writeZeros(cw, int64(t.Offset-pos)); err != nil {
				return cw.n, wrapf(ErrIO, err, "writing padding before tensor %q", t.Name)
			}
			pos = t.Offset
		}
		n := t.Bytes()
		if n == 0 {
			continue
		}
		ew := &exactWriter{w: cw, left: n, name: t.Name}
		if err := data(i, ew); err != nil {
			if ew.err != nil {
				return cw.n, ew.err
			}
			return cw.n, wrapf(ErrIO, err, "tensor %q: data", t.Name)
		}
		if ew.err != nil {
			return cw.n, ew.err
		}
		if ew.left != 0 {
			return cw.n, errf(ErrInvalid, "tensor %q: data wrote %d bytes, want %d", t.Name, n-ew.left, n)
		}
		pos = t.Offset + n
	}
	if err := writeZeros(cw, int64(alignUp(pos, align)-pos)); err != nil {
		return cw.n, wrapf(ErrIO, err, "writing final padding")
	}
	if err := bw.Flush(); err != nil {
		return cw.n, wrapf(ErrIO, err, "writing")
	}
	return cw.n, nil
}

func alignUp(x, a uint64) uint64 { return (x + a - 1) / a * a }

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// exactWriter passes at most left bytes through and records an error if
// more are written.
type exactWriter struct {
	w    io.Writer
	left uint64
	name string
	err  error
}

func (e *exactWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if uint64(len(p)) > e.left {
		e.err = errf(ErrInvalid, "tensor %q: data callback wrote more bytes than the tensor holds", e.name)
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.left -= uint64(n)
	if err != nil {
		e.err = wrapf(ErrIO, err, "tensor %q: writing data", e.name)
	}
	return n, e.err
}

var zeros [4096]byte

func writeZeros(w io.Writer, n int64) error {
	for n > 0 {
		m := min(n, int64(len(zeros)))
		if _, err := w.Write(zeros[:m]); err != nil {
			return err
		}
		n -= m
	}
	return nil
}

// encodeHeader validates f and returns its encoded header (up to, not
// including, the alignment padding), the data section offset, the
// alignment and the tensor indices in offset order.
func encodeHeader(f *File) (hdr []byte, dataOff, align uint64, order []int, err error) {
	if f.Version != 2 && f.Version != 3 {
		return nil, 0, 0, nil, errf(ErrInvalid, "version %d (want 2 or 3)", f.Version)
	}
	keys := make(map[string]bool, len(f.KV))
	for i := range f.KV {
		kv := &f.KV[i]
		if err := checkKey(kv.Key, kv.Value); err != nil {
			return nil, 0, 0, nil, err
		}
		if keys[kv.Key] {
			return nil, 0, 0, nil, errf(ErrInvalid, "metadata key %q: duplicate", kv.Key)
		}
		keys[kv.Key] = true
	}
	align, err = alignmentOf(f)
	if err != nil {
		return nil, 0, 0, nil, errf(ErrInvalid, "%s", err.(*Error).Msg)
	}
	if f.Alignment != 0 && f.Alignment != align {
		return nil, 0, 0, nil, errf(ErrInvalid, "File.Alignment %d disagrees with the alignment %d set by %s", f.Alignment, align, AlignmentKey)
	}
	names := make(map[string]bool, len(f.Tensors))
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if err := checkTensor(t, align); err != nil {
			return nil, 0, 0, nil, err
		}
		if names[t.Name] {
			return nil, 0, 0, nil, errf(ErrInvalid, "tensor %q: duplicate name", t.Name)
		}
		names[t.Name] = true
	}
	order = make([]int, len(f.Tensors))
	for i := range order {
		order[i] = i
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
			return nil, 0, 0, nil, errf(ErrInvalid, "tensor %q: data at offset %d overlaps tensor %q (ends at %d)",
				t.Name, t.Offset, f.Tensors[prev].Name, end)
		}
		if t.Offset > math.MaxInt64-n {
			return nil, 0, 0, nil, errf(ErrInvalid, "tensor %q: offset %d + %d bytes overflows", t.Name, t.Offset, n)
		}
		end, prev = t.Offset+n, i
	}

	hdr = append(hdr, Magic...)
	hdr = binary.LittleEndian.AppendUint32(hdr, f.Version)
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(len(f.Tensors)))
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(len(f.KV)))
	for i := range f.KV {
		hdr = appendString(hdr, f.KV[i].Key)
		hdr = binary.LittleEndian.AppendUint32(hdr, uint32(f.KV[i].Value.Kind()))
		hdr = appendValue(hdr, f.KV[i].Value)
	}
	for i := range f.Tensors {
		t := &f.Tensors[i]
		hdr = appendString(hdr, t.Name)
		hdr = binary.LittleEndian.AppendUint32(hdr, uint32(len(t.Dims)))
		for _, d := range t.Dims {
			hdr = binary.LittleEndian.AppendUint64(hdr, d)
		}
		hdr = binary.LittleEndian.AppendUint32(hdr, uint32(t.Type))
		hdr = binary.LittleEndian.AppendUint64(hdr, t.Offset)
	}
	dataOff = alignUp(uint64(len(hdr)), align)
	if end > math.MaxInt64-dataOff-align {
		return nil, 0, 0, nil, errf(ErrInvalid, "data section of %d bytes too large", end)
	}
	return hdr, dataOff, align, order, nil
}

// checkKey checks a metadata key and its value for writing.
func checkKey(key string, v Value) error {
	if key == "" {
		return errf(ErrInvalid, "empty metadata key")
	}
	if len(key) > MaxKeyLen {
		return errf(ErrInvalid, "metadata key %.40q...: %d bytes, limit %d", key, len(key), MaxKeyLen)
	}
	if err := checkValue(v, 0); err != nil {
		return errf(ErrInvalid, "metadata key %q: %s", key, err.(*Error).Msg)
	}
	return nil
}

// checkValue checks that v can be written and read back: valid, strings
// within MaxStringLen, arrays nested at most MaxArrayDepth deep with
// array-valued elements in a []Value.
func checkValue(v Value, depth int) error {
	if !v.IsValid() || !v.Kind().valid() {
		return errf(ErrInvalid, "invalid value")
	}
	switch v.Kind() {
	case KindString:
		if len(v.str) > MaxStringLen {
			return errf(ErrInvalid, "string of %d bytes, limit %d", len(v.str), MaxStringLen)
		}
	case KindArray:
		if depth+1 > MaxArrayDepth {
			return errf(ErrInvalid, "arrays nested deeper than %d", MaxArrayDepth)
		}
		switch a := v.arr.(type) {
		case []string:
			for i, s := range a {
				if len(s) > MaxStringLen {
					return errf(ErrInvalid, "element %d: string of %d bytes, limit %d", i, len(s), MaxStringLen)
				}
			}
		case []Value:
			for i, e := range a {
				if !e.is(KindArray) {
					return errf(ErrInvalid, "element %d of an array of arrays is a %s", i, e.Kind())
				}
				if err := checkValue(e, depth+1); err != nil {
					return errf(ErrInvalid, "element %d: %s", i, err.(*Error).Msg)
				}
			}
		default:
			if _, ok := v.ElemKind(); !ok {
				return errf(ErrInvalid, "array of unsupported Go type %T", v.arr)
			}
		}
	}
	return nil
}

func checkTensor(t *TensorInfo, align uint64) error {
	if t.Name == "" {
		return errf(ErrInvalid, "tensor with an empty name")
	}
	if len(t.Name) > MaxTensorNameLen {
		return errf(ErrInvalid, "tensor %.40q...: name of %d bytes, limit %d", t.Name, len(t.Name), MaxTensorNameLen)
	}
	if _, _, err := t.size(); err != nil {
		return errf(ErrInvalid, "%s", err.(*Error).Msg)
	}
	if t.Offset%align != 0 {
		return errf(ErrInvalid, "tensor %q: offset %d is not a multiple of the alignment %d", t.Name, t.Offset, align)
	}
	return nil
}

func appendString(dst []byte, s string) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, uint64(len(s)))
	return append(dst, s...)
}

// appendValue appends the encoding of v (checked by checkValue), without
// its kind.
func appendValue(dst []byte, v Value) []byte {
	le := binary.LittleEndian
	switch v.Kind() {
	case KindUint8, KindInt8, KindBool:
		return append(dst, byte(v.num))
	case KindUint16, KindInt16:
		return le.AppendUint16(dst, uint16(v.num))
	case KindUint32, KindInt32, KindFloat32:
		return le.AppendUint32(dst, uint32(v.num))
	case KindUint64, KindInt64, KindFloat64:
		return le.AppendUint64(dst, v.num)
	case KindString:
		return appendString(dst, v.str)
	}
	ek, _ := v.ElemKind()
	dst = le.AppendUint32(dst, uint32(ek))
	dst = le.AppendUint64(dst, uint64(v.Len()))
	switch a := v.arr.(type) {
	case []uint8:
		return append(dst, a...)
	case []int8:
		for _, x := range a {
			dst = append(dst, byte(x))
		}
	case []bool:
		for _, x := range a {
			if x {
				dst = append(dst, 1)
			} else {
				dst = append(dst, 0)
			}
		}
	case []uint16:
		for _, x := range a {
			dst = le.AppendUint16(dst, x)
		}
	case []int16:
		for _, x := range a {
			dst = le.AppendUint16(dst, uint16(x))
		}
	case []uint32:
		for _, x := range a {
			dst = le.AppendUint32(dst, x)
		}
	case []int32:
		for _, x := range a {
			dst = le.AppendUint32(dst, uint32(x))
		}
	case []float32:
		for _, x := range a {
			dst = le.AppendUint32(dst, math.Float32bits(x))
		}
	case []uint64:
		for _, x := range a {
			dst = le.AppendUint64(dst, x)
		}
	case []int64:
		for _, x := range a {
			dst = le.AppendUint64(dst, uint64(x))
		}
	case []float64:
		for _, x := range a {
			dst = le.AppendUint64(dst, math.Float64bits(x))
		}
	case []string:
		for _, s := range a {
			dst = appendString(dst, s)
		}
	case []Value:
		for _, e := range a {
			dst = appendValue(dst, e)
		}
	}
	return dst
}

// Builder assembles a GGUF file: metadata in the order added, tensors in
// the order added, each tensor's data placed at the next multiple of the
// alignment after the previous one (the layout llama.cpp and gguf-py
// write). Tensor data is given as bytes or as a callback that streams it
// at write time, so a file larger than memory can be written. A Builder is
// not safe for concurrent use.
type Builder struct {
	version uint32
	kv      []KV
	keys    map[string]bool
	tensors []TensorInfo
	names   map[string]bool
	srcs    []func(w io.Writer) error
}

// NewBuilder returns an empty Builder for a version 3 file.
func NewBuilder() *Builder {
	return &Builder{version: 3, keys: map[string]bool{}, names: map[string]bool{}}
}

// SetVersion sets the format version written, 2 or 3 (the encodings are
// identical; 3 is the default).
func (b *Builder) SetVersion(v uint32) error {
	if v != 2 && v != 3 {
		return errf(ErrInvalid, "version %d (want 2 or 3)", v)
	}
	b.version = v
	return nil
}

// AddKV appends a metadata pair. Keys must be unique and non-empty; the
// value must be valid (strings at most MaxStringLen bytes, arrays at most
// MaxArrayDepth deep). general.alignment, if given, must be a u32 power of
// two and sets the alignment of the data. v's slices are not copied.
func (b *Builder) AddKV(key string, v Value) error {
	if err := checkKey(key, v); err != nil {
		return err
	}
	if b.keys[key] {
		return errf(ErrInvalid, "metadata key %q: duplicate", key)
	}
	if key == AlignmentKey {
		if _, err := alignmentOf(&File{KV: []KV{{key, v}}}); err != nil {
			return errf(ErrInvalid, "%s", err.(*Error).Msg)
		}
	}
	b.keys[key] = true
	b.kv = append(b.kv, KV{Key: key, Value: v})
	return nil
}

// AddTensor appends a tensor whose data is data (not copied: do not modify
// it before the file is written). len(data) must equal the tensor's
// Bytes(); dims are in ggml order (Dims[0] is the row length).
func (b *Builder) AddTensor(name string, typ GGMLType, dims []uint64, data []byte) error {
	t := TensorInfo{Name: name, Type: typ, Dims: dims}
	if err := b.checkNew(&t); err != nil {
		return err
	}
	if uint64(len(data)) != t.Bytes() {
		return errf(ErrInvalid, "tensor %q: %d bytes of data, want %d (%s %v)", name, len(data), t.Bytes(), typ, dims)
	}
	return b.addTensor(t, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// AddTensorFunc appends a tensor whose data write produces at write time:
// it must write exactly the tensor's Bytes() bytes to w (in as many pieces
// as it likes; output is buffered). This streams large tensors without
// holding them in memory. write is called once per WriteTo.
func (b *Builder) AddTensorFunc(name string, typ GGMLType, dims []uint64, write func(w io.Writer) error) error {
	t := TensorInfo{Name: name, Type: typ, Dims: dims}
	if err := b.checkNew(&t); err != nil {
		return err
	}
	if write == nil {
		return errf(ErrInvalid, "tensor %q: nil write function", name)
	}
	return b.addTensor(t, write)
}

func (b *Builder) checkNew(t *TensorInfo) error {
	if err := checkTensor(t, 1); err != nil {
		return err
	}
	if b.names[t.Name] {
		return errf(ErrInvalid, "tensor %q: duplicate name", t.Name)
	}
	return nil
}

func (b *Builder) addTensor(t TensorInfo, src func(w io.Writer) error) error {
	t.Dims = append([]uint64(nil), t.Dims...)
	b.names[t.Name] = true
	b.tensors = append(b.tensors, t)
	b.srcs = append(b.srcs, src)
	return nil
}

// File returns the header the Builder would write: Version, KV, Tensors
// with their Offsets, Alignment, DataOffset, and Size (the length of the
// file). The slices are copies.
func (b *Builder) File() (*File, error) {
	f := &File{Version: b.version, KV: append([]KV(nil), b.kv...)}
	align, err := alignmentOf(f)
	if err != nil {
		return nil, err
	}
	f.Alignment = align
	var pos uint64
	f.Tensors = make([]TensorInfo, len(b.tensors))
	for i, t := range b.tensors {
		t.Dims = append([]uint64(nil), t.Dims...)
		t.Offset = alignUp(pos, align)
		n := t.Bytes()
		if t.Offset > math.MaxInt64/2 || n > math.MaxInt64/2 {
			return nil, errf(ErrInvalid, "tensor %q: data section too large", t.Name)
		}
		pos = t.Offset + n
		f.Tensors[i] = t
	}
	_, dataOff, _, _, err := encodeHeader(f)
	if err != nil {
		return nil, err
	}
	f.DataOffset = int64(dataOff)
	f.Size = int64(dataOff + alignUp(pos, align))
	return f, nil
}

// WriteTo writes the file to w (see Write for the layout) and returns the
// number of bytes written.
func (b *Builder) WriteTo(w io.Writer) (int64, error) {
	f, err := b.File()
	if err != nil {
		return 0, err
	}
	return Write(w, f, func(i int, w io.Writer) error { return b.srcs[i](w) })
}

// WriteFile writes the file to path (created or truncated, mode 0644). On
// error the partial file is removed.
func (b *Builder) WriteFile(path string) error {
	osf, err := os.Create(path)
	if err != nil {
		return wrapf(ErrIO, err, "create %s", path)
	}
	_, err = b.WriteTo(osf)
	if cerr := osf.Close(); err == nil && cerr != nil {
		err = wrapf(ErrIO, cerr, "close %s", path)
	}
	if err != nil {
		os.Remove(path)
		return err
	}
	return nil
}
