package tokenizer

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// A minimal GGUF v2/v3 metadata reader for the tests only (the real reader
// is package lm/gguf, which this package must not import). It reads the
// header and the key/value section and stops before the tensor infos.

type ggufKV map[string]any

func readGGUFMeta(r io.Reader) (ggufKV, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var hdr struct {
		Magic   [4]byte
		Version uint32
	}
	if err := binary.Read(br, binary.LittleEndian, &hdr); err != nil {
		return nil, err
	}
	if string(hdr.Magic[:]) != "GGUF" || (hdr.Version != 2 && hdr.Version != 3) {
		return nil, fmt.Errorf("not GGUF v2/v3: %q v%d", hdr.Magic, hdr.Version)
	}
	var counts struct{ NTensors, NKV uint64 }
	if err := binary.Read(br, binary.LittleEndian, &counts); err != nil {
		return nil, err
	}
	if counts.NKV > 1<<20 {
		return nil, errors.New("too many kv pairs")
	}
	u32 := func() (uint32, error) {
		var v uint32
		err := binary.Read(br, binary.LittleEndian, &v)
		return v, err
	}
	u64 := func() (uint64, error) {
		var v uint64
		err := binary.Read(br, binary.LittleEndian, &v)
		return v, err
	}
	str := func() (string, error) {
		n, err := u64()
		if err != nil {
			return "", err
		}
		if n > 1<<24 {
			return "", errors.New("string too long")
		}
		b := make([]byte, n)
		_, err = io.ReadFull(br, b)
		return string(b), err
	}
	var value func(typ uint32) (any, error)
	value = func(typ uint32) (any, error) {
		var fixed any
		switch typ {
		case 0:
			fixed = new(uint8)
		case 1:
			fixed = new(int8)
		case 2:
			fixed = new(uint16)
		case 3:
			fixed = new(int16)
		case 4:
			fixed = new(uint32)
		case 5:
			fixed = new(int32)
		case 6:
			fixed = new(float32)
		case 7:
			fixed = new(bool)
		case 10:
			fixed = new(uint64)
		case 11:
			fixed = new(int64)
		case 12:
			fixed = new(float64)
		case 8:
			return str()
		case 9:
			et, err := u32()
			if err != nil {
				return nil, err
			}
			n, err := u64()
			if err != nil {
				return nil, err
			}
			if n > 1<<24 {
				return nil, errors.New("array too long")
			}
			out := make([]any, 0, n)
			for i := uint64(0); i < n; i++ {
				v, err := value(et)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			return out, nil
		default:
			return nil, fmt.Errorf("bad gguf type %d", typ)
		}
		if err := binary.Read(br, binary.LittleEndian, fixed); err != nil {
			return nil, err
		}
		switch p := fixed.(type) {
		case *uint8:
			return *p, nil
		case *int8:
			return *p, nil
		case *uint16:
			return *p, nil
		case *int16:
			return *p, nil
		case *uint32:
			return *p, nil
		case *int32:
			return *p, nil
		case *float32:
			return *p, nil
		case *bool:
			return *p, nil
		case *uint64:
			return *p, nil
		case *int64:
			return *p, nil
		default:
			return *(fixed.(*float64)), nil
		}
	}
	kv := ggufKV{}
	for i := uint64(0); i < counts.NKV; i++ {
		key, err := str()
		if err != nil {
			return nil, err
		}
		typ, err := u32()
		if err != nil {
			return nil, err
		}
		v, err := value(typ)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", key, err)
		}
		kv[key] = v
	}
	return kv, nil
}

func asInt32(v any) (int32, bool) {
	switch x := v.(type) {
	case uint32:
		if x <= math.MaxInt32 {
			return int32(x), true
		}
	case int32:
		return x, true
	case uint64:
		if x <= math.MaxInt32 {
			return int32(x), true
		}
	case int64:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			return int32(x), true
		}
	}
	return 0, false
}

// vocabFromGGUF builds a Vocab from GGUF metadata the way the lm package is
// expected to: llama defaults bos 1, eos 2, unk 0, add_bos true, add_eos
// false, add_space_prefix true, overridden by the keys present.
func vocabFromGGUF(kv ggufKV) (Vocab, error) {
	v := Vocab{BOS: 1, EOS: 2, UNK: 0, AddBOS: true, AddSpacePrefix: true}
	if m, _ := kv["tokenizer.ggml.model"].(string); m != "llama" {
		return v, fmt.Errorf("tokenizer.ggml.model = %q", m)
	}
	toks, _ := kv["tokenizer.ggml.tokens"].([]any)
	for _, x := range toks {
		s, ok := x.(string)
		if !ok {
			return v, errors.New("token not a string")
		}
		v.Tokens = append(v.Tokens, s)
	}
	if sc, ok := kv["tokenizer.ggml.scores"].([]any); ok {
		for _, x := range sc {
			f, ok := x.(float32)
			if !ok {
				return v, errors.New("score not f32")
			}
			v.Scores = append(v.Scores, f)
		}
	}
	if ty, ok := kv["tokenizer.ggml.token_type"].([]any); ok {
		for _, x := range ty {
			i, ok := asInt32(x)
			if !ok {
				return v, errors.New("type not int")
			}
			v.Types = append(v.Types, i)
		}
	}
	for key, dst := range map[string]*int32{
		"tokenizer.ggml.bos_token_id": &v.BOS, "tokenizer.ggml.eos_token_id": &v.EOS,
		"tokenizer.ggml.unknown_token_id": &v.UNK,
	} {
		if x, ok := kv[key]; ok {
			if i, ok := asInt32(x); ok {
				*dst = i
			}
		}
	}
	for key, dst := range map[string]*bool{
		"tokenizer.ggml.add_bos_token": &v.AddBOS, "tokenizer.ggml.add_eos_token": &v.AddEOS,
		"tokenizer.ggml.add_space_prefix": &v.AddSpacePrefix,
	} {
		if b, ok := kv[key].(bool); ok {
			*dst = b
		}
	}
	v.ChatTemplate, _ = kv["tokenizer.chat_template"].(string)
	return v, nil
}

// fixturePath walks up from the working directory to the directory holding
// go.mod and returns ../shared/models/llama-2-tiny-random.gguf from there.
func fixturePath() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "models", "llama-2-tiny-random.gguf")
		}
		up := filepath.Dir(dir)
		if up == dir {
			return ""
		}
		dir = up
	}
}

var (
	llamaOnce  sync.Once
	llamaVocab Vocab
	llamaErr   error
)

// loadLlama2 reads the real llama-2 vocabulary from the fixture, once.
func loadLlama2() (Vocab, error) {
	llamaOnce.Do(func() {
		p := fixturePath()
		if p == "" {
			llamaErr = errors.New("no go.mod above the working directory")
			return
		}
		f, err := os.Open(p)
		if err != nil {
			llamaErr = fmt.Errorf("fixture %s absent (%v)", p, err)
			return
		}
		defer f.Close()
		kv, err := readGGUFMeta(f)
		if err != nil {
			llamaErr = fmt.Errorf("fixture %s: %w", p, err)
			return
		}
		llamaVocab, llamaErr = vocabFromGGUF(kv)
	})
	return llamaVocab, llamaErr
}

// llama2 returns the real llama-2 vocabulary from the fixture, or skips.
func llama2(tb testing.TB) Vocab {
	tb.Helper()
	if _, err := loadLlama2(); err != nil {
		tb.Skipf("skipping: needs the llama-2 vocabulary from ../shared/models/llama-2-tiny-random.gguf: %v", err)
	}
	return llamaVocab
}

func llama2Tok(tb testing.TB) *Tokenizer {
	tb.Helper()
	tok, err := New(llama2(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}
