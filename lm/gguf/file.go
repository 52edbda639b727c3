package gguf

import (
	"io"
	"math"
	"os"
)

// Lookup returns the value of key. It works on a File built by hand too
// (and after KV was modified): the index Read builds is only a hint.
func (f *File) Lookup(key string) (Value, bool) {
	if i, ok := f.kvIndex[key]; ok && i < len(f.KV) && f.KV[i].Key == key {
		return f.KV[i].Value, true
	}
	for i := range f.KV {
		if f.KV[i].Key == key {
			return f.KV[i].Value, true
		}
	}
	return Value{}, false
}

// String returns the string value of key; false if key is absent or not a
// string.
func (f *File) String(key string) (string, bool) {
	v, _ := f.Lookup(key)
	return v.AsString()
}

// Uint64 returns the value of key if it has any integer kind and is >= 0.
func (f *File) Uint64(key string) (uint64, bool) {
	v, _ := f.Lookup(key)
	return v.AsUint64()
}

// Uint32 returns the value of key if it has any integer kind and lies in
// [0, 2^32).
func (f *File) Uint32(key string) (uint32, bool) {
	u, ok := f.Uint64(key)
	if !ok || u > math.MaxUint32 {
		return 0, false
	}
	return uint32(u), true
}

// Int64 returns the value of key if it has any integer kind and fits an
// int64.
func (f *File) Int64(key string) (int64, bool) {
	v, _ := f.Lookup(key)
	return v.AsInt64()
}

// Int returns the value of key if it has any integer kind and fits an int.
func (f *File) Int(key string) (int, bool) {
	i, ok := f.Int64(key)
	if !ok || i < math.MinInt || i > math.MaxInt {
		return 0, false
	}
	return int(i), true
}

// Float32 returns the value of key if it is an f32, or an f64 a float32
// represents exactly.
func (f *File) Float32(key string) (float32, bool) {
	v, _ := f.Lookup(key)
	return v.AsFloat32()
}

// Float64 returns the value of key if it is an f32 or f64.
func (f *File) Float64(key string) (float64, bool) {
	v, _ := f.Lookup(key)
	return v.AsFloat64()
}

// Bool returns the value of key if it is a bool.
func (f *File) Bool(key string) (bool, bool) {
	v, _ := f.Lookup(key)
	return v.AsBool()
}

// Strings returns the value of key if it is an array of strings (shared:
// do not modify).
func (f *File) Strings(key string) ([]string, bool) {
	v, _ := f.Lookup(key)
	return v.AsStrings()
}

// Float32s returns the value of key if it is an f32 array (shared: do not
// modify), or an f64 array whose elements float32 represents exactly (a
// copy).
func (f *File) Float32s(key string) ([]float32, bool) {
	v, _ := f.Lookup(key)
	return v.AsFloat32s()
}

// Int32s returns the value of key if it is an i32 array (shared: do not
// modify), or another integer array whose elements all fit an int32 (a
// copy).
func (f *File) Int32s(key string) ([]int32, bool) {
	v, _ := f.Lookup(key)
	return v.AsInt32s()
}

// Uint32s returns the value of key if it is a u32 array (shared: do not
// modify), or another integer array whose elements all lie in [0, 2^32) (a
// copy).
func (f *File) Uint32s(key string) ([]uint32, bool) {
	v, _ := f.Lookup(key)
	return v.AsUint32s()
}

// Tensor returns the tensor called name. Like Lookup it works on a File
// built or modified by hand.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	if i, ok := f.tensorIndex[name]; ok && i < len(f.Tensors) && f.Tensors[i].Name == name {
		return &f.Tensors[i], true
	}
	for i := range f.Tensors {
		if f.Tensors[i].Name == name {
			return &f.Tensors[i], true
		}
	}
	return nil, false
}

// Reader is an open GGUF file: the parsed header (embedded, so its getters
// are Reader's) and the *os.File tensor data is read from. Its methods are
// safe for concurrent use (they only use ReadAt) until Close.
type Reader struct {
	*File
	f *os.File
}

// Open opens and parses the GGUF file at path. Close it when done.
func Open(path string) (*Reader, error) {
	osf, err := os.Open(path)
	if err != nil {
		return nil, wrapf(ErrIO, err, "open %s", path)
	}
	st, err := osf.Stat()
	if err != nil {
		osf.Close()
		return nil, wrapf(ErrIO, err, "stat %s", path)
	}
	f, err := Read(osf, st.Size())
	if err != nil {
		osf.Close()
		return nil, err
	}
	return &Reader{File: f, f: osf}, nil
}

// Close closes the underlying file.
func (r *Reader) Close() error { return r.f.Close() }

// ReadAt reads from the underlying file (io.ReaderAt).
func (r *Reader) ReadAt(p []byte, off int64) (int, error) { return r.f.ReadAt(p, off) }

func (r *Reader) tensor(name string) (*TensorInfo, error) {
	t, ok := r.Tensor(name)
	if !ok {
		return nil, errf(ErrNotFound, "tensor %q not found", name)
	}
	return t, nil
}

// TensorRaw returns the raw bytes of the tensor called name.
func (r *Reader) TensorRaw(name string) ([]byte, error) {
	t, err := r.tensor(name)
	if err != nil {
		return nil, err
	}
	return ReadTensorRaw(r.f, r.File, t)
}

// TensorF32 decodes the tensor called name to float32 (see ReadTensorF32).
func (r *Reader) TensorF32(name string) ([]float32, error) {
	t, err := r.tensor(name)
	if err != nil {
		return nil, err
	}
	return ReadTensorF32(r.f, r.File, t)
}

// TensorRows decodes the tensor called name one row at a time (see
// TensorRows).
func (r *Reader) TensorRows(name string, fn func(row int, vals []float32) error) error {
	t, err := r.tensor(name)
	if err != nil {
		return err
	}
	return TensorRows(r.f, r.File, t, fn)
}

// TensorRawRows passes the raw bytes of the tensor called name one row at
// a time (see TensorRawRows).
func (r *Reader) TensorRawRows(name string, fn func(row int, raw []byte) error) error {
	t, err := r.tensor(name)
	if err != nil {
		return err
	}
	return TensorRawRows(r.f, r.File, t, fn)
}

var _ io.ReaderAt = (*Reader)(nil)
