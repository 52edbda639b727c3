package gguf

import (
	"fmt"
	"math/bits"
)

// GGMLType is a tensor element type, the ggml_type enum of ggml.h. The
// numbers are part of the file format.
type GGMLType uint32

// The ggml tensor types. Numbers absent from this list (4, 5, 31..33,
// 36..38: types removed from ggml) and numbers past TypeMXFP4 are unknown:
// Read refuses a tensor that uses one. Only the types listed in the package
// documentation can be decoded to float32; the others can be read raw.
const (
	TypeF32     GGMLType = 0
	TypeF16     GGMLType = 1
	TypeQ4_0    GGMLType = 2
	TypeQ4_1    GGMLType = 3
	TypeQ5_0    GGMLType = 6
	TypeQ5_1    GGMLType = 7
	TypeQ8_0    GGMLType = 8
	TypeQ8_1    GGMLType = 9
	TypeQ2_K    GGMLType = 10
	TypeQ3_K    GGMLType = 11
	TypeQ4_K    GGMLType = 12
	TypeQ5_K    GGMLType = 13
	TypeQ6_K    GGMLType = 14
	TypeQ8_K    GGMLType = 15
	TypeIQ2_XXS GGMLType = 16
	TypeIQ2_XS  GGMLType = 17
	TypeIQ3_XXS GGMLType = 18
	TypeIQ1_S   GGMLType = 19
	TypeIQ4_NL  GGMLType = 20
	TypeIQ3_S   GGMLType = 21
	TypeIQ2_S   GGMLType = 22
	TypeIQ4_XS  GGMLType = 23
	TypeI8      GGMLType = 24
	TypeI16     GGMLType = 25
	TypeI32     GGMLType = 26
	TypeI64     GGMLType = 27
	TypeF64     GGMLType = 28
	TypeIQ1_M   GGMLType = 29
	TypeBF16    GGMLType = 30
	TypeTQ1_0   GGMLType = 34
	TypeTQ2_0   GGMLType = 35
	TypeMXFP4   GGMLType = 39
)

type typeTraits struct {
	name       string
	blockSize  uint32 // elements per block
	blockBytes uint32 // bytes per block
}

// typeTable holds the block layout of every known type (ggml.c
// type_traits). An entry with blockSize 0 is an unknown type.
var typeTable = [...]typeTraits{
	TypeF32:     {"F32", 1, 4},
	TypeF16:     {"F16", 1, 2},
	TypeQ4_0:    {"Q4_0", 32, 18},
	TypeQ4_1:    {"Q4_1", 32, 20},
	TypeQ5_0:    {"Q5_0", 32, 22},
	TypeQ5_1:    {"Q5_1", 32, 24},
	TypeQ8_0:    {"Q8_0", 32, 34},
	TypeQ8_1:    {"Q8_1", 32, 36},
	TypeQ2_K:    {"Q2_K", 256, 84},
	TypeQ3_K:    {"Q3_K", 256, 110},
	TypeQ4_K:    {"Q4_K", 256, 144},
	TypeQ5_K:    {"Q5_K", 256, 176},
	TypeQ6_K:    {"Q6_K", 256, 210},
	TypeQ8_K:    {"Q8_K", 256, 292},
	TypeIQ2_XXS: {"IQ2_XXS", 256, 66},
	TypeIQ2_XS:  {"IQ2_XS", 256, 74},
	TypeIQ3_XXS: {"IQ3_XXS", 256, 98},
	TypeIQ1_S:   {"IQ1_S", 256, 50},
	TypeIQ4_NL:  {"IQ4_NL", 32, 18},
	TypeIQ3_S:   {"IQ3_S", 256, 110},
	TypeIQ2_S:   {"IQ2_S", 256, 82},
	TypeIQ4_XS:  {"IQ4_XS", 256, 136},
	TypeI8:      {"I8", 1, 1},
	TypeI16:     {"I16", 1, 2},
	TypeI32:     {"I32", 1, 4},
	TypeI64:     {"I64", 1, 8},
	TypeF64:     {"F64", 1, 8},
	TypeIQ1_M:   {"IQ1_M", 256, 56},
	TypeBF16:    {"BF16", 1, 2},
	TypeTQ1_0:   {"TQ1_0", 256, 54},
	TypeTQ2_0:   {"TQ2_0", 256, 66},
	TypeMXFP4:   {"MXFP4", 32, 17},
}

func (t GGMLType) traits() (typeTraits, bool) {
	if uint64(t) >= uint64(len(typeTable)) || typeTable[t].blockSize == 0 {
		return typeTraits{}, false
	}
	return typeTable[t], true
}

// Known reports whether t is a ggml type this package knows the block
// layout of (every type listed in the constants above).
func (t GGMLType) Known() bool {
	_, ok := t.traits()
	return ok
}

// String returns the ggml name of t ("F16", "Q8_0", ...), or "type(N)" for
// an unknown type.
func (t GGMLType) String() string {
	if tr, ok := t.traits(); ok {
		return tr.name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// BlockSize returns the number of elements in one block of t (1 for the
// plain types F32, F16, BF16, I8..I64, F64; 32 or 256 for the quantised
// ones), or 0 for an unknown type.
func (t GGMLType) BlockSize() int {
	tr, _ := t.traits()
	return int(tr.blockSize)
}

// BlockBytes returns the number of bytes one block of t occupies in a file,
// or 0 for an unknown type.
func (t GGMLType) BlockBytes() int {
	tr, _ := t.traits()
	return int(tr.blockBytes)
}

// CanDecode reports whether ReadTensorF32 and TensorRows can decode t:
// F32, F16, BF16, Q4_0, Q8_0, Q4_K and Q6_K.
func (t GGMLType) CanDecode() bool {
	switch t {
	case TypeF32, TypeF16, TypeBF16, TypeQ4_0, TypeQ8_0, TypeQ4_K, TypeQ6_K:
		return true
	}
	return false
}

// MaxDims is the largest number of dimensions a tensor may have (ggml's
// GGML_MAX_DIMS).
const MaxDims = 4

// TensorInfo describes one tensor of a file: its name, element type, shape
// and where its data lies.
type TensorInfo struct {
	// Name is the tensor's name, unique within a file.
	Name string
	// Type is the element type.
	Type GGMLType
	// Dims is the shape, ggml order: Dims[0] (ne[0]) is the number of
	// elements in a row, the fastest-varying index; 1 <= len(Dims) <= 4.
	Dims []uint64
	// Offset is the byte offset of the tensor's data from File.DataOffset;
	// a multiple of the file's alignment.
	Offset uint64
}

// Validate checks that t's shape and type are well formed: a known type,
// 1..MaxDims dimensions, Dims[0] a multiple of the type's block size, and
// the element count and byte size representable as int64. Tensors returned
// by Read and accepted by a Builder have passed it.
func (t *TensorInfo) Validate() error {
	_, _, err := t.size()
	return err
}

// size returns the element count and byte size of t, checking every bound
// listed in Validate.
func (t *TensorInfo) size() (elems, nbytes uint64, err error) {
	tr, ok := t.Type.traits()
	if !ok {
		return 0, 0, errf(ErrUnsupported, "tensor %q: unknown ggml type %d", t.Name, uint32(t.Type))
	}
	if len(t.Dims) < 1 || len(t.Dims) > MaxDims {
		return 0, 0, errf(ErrFormat, "tensor %q: %d dimensions (want 1..%d)", t.Name, len(t.Dims), MaxDims)
	}
	const maxInt64 = 1<<63 - 1
	elems = 1
	for i, d := range t.Dims {
		hi, lo := bits.Mul64(elems, d)
		if hi != 0 || lo > maxInt64 || d > maxInt64 {
			return 0, 0, errf(ErrFormat, "tensor %q: dims %v: element count overflows int64 at dim %d", t.Name, t.Dims, i)
		}
		elems = lo
	}
	if t.Dims[0]%uint64(tr.blockSize) != 0 {
		return 0, 0, errf(ErrFormat, "tensor %q: type %s: row length %d is not a multiple of the block size %d",
			t.Name, t.Type, t.Dims[0], tr.blockSize)
	}
	hi, lo := bits.Mul64(elems/uint64(tr.blockSize), uint64(tr.blockBytes))
	if hi != 0 || lo > maxInt64 {
		return 0, 0, errf(ErrFormat, "tensor %q: dims %v: byte size overflows int64", t.Name, t.Dims)
	}
	return elems, lo, nil
}

// Elements returns the number of elements of t (the product of Dims), or 0
// if t does not pass Validate.
func (t *TensorInfo) Elements() uint64 {
	e, _, err := t.size()
	if err != nil {
		return 0
	}
	return e
}

// Bytes returns the size in bytes of t's data, or 0 if t does not pass
// Validate.
func (t *TensorInfo) Bytes() uint64 {
	_, b, err := t.size()
	if err != nil {
		return 0
	}
	return b
}

// RowLen returns the number of elements in one row, Dims[0] (0 if Dims is
// empty).
func (t *TensorInfo) RowLen() uint64 {
	if len(t.Dims) == 0 {
		return 0
	}
	return t.Dims[0]
}

// Rows returns the number of rows, the product of Dims[1:] (1 for a
// one-dimensional tensor); 0 if Dims[0] is 0 (no elements) or if t does
// not pass Validate.
func (t *TensorInfo) Rows() uint64 {
	e, _, err := t.size()
	if err != nil || t.Dims[0] == 0 {
		return 0
	}
	return e / t.Dims[0]
}

// RowBytes returns the size in bytes of one row of t, or 0 if t does not
// pass Validate.
func (t *TensorInfo) RowBytes() uint64 {
	if t.Validate() != nil {
		return 0
	}
	return t.Dims[0] / uint64(t.Type.BlockSize()) * uint64(t.Type.BlockBytes())
}
