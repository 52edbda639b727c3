package modelmgr

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func benchManager(b *testing.B, size int, cfg Config[[]byte]) *Manager[[]byte] {
	b.Helper()
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i)
	}
	path := filepath.Join(b.TempDir(), "model.bin")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256(data)
	cfg.Loader = func(_ context.Context, a Artifact) ([]byte, error) { return nil, nil }
	mg, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := mg.Register(Spec{ID: "m", Version: "1", Path: path, SHA256: hex.EncodeToString(sum[:])}); err != nil {
		b.Fatal(err)
	}
	return mg
}

// BenchmarkAcquireHit is the per-request path of a miner: lease a cached
// model and give it back.
func BenchmarkAcquireHit(b *testing.B) {
	mg := benchManager(b, 1024, Config[[]byte]{})
	ctx := context.Background()
	if _, err := mg.Load(ctx, "m", "1"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l, err := mg.Acquire(ctx, "m", "1")
			if err != nil {
				b.Error(err)
				return
			}
			l.Release()
		}
	})
}

// BenchmarkObserve records latency and health for one call.
func BenchmarkObserve(b *testing.B) {
	mg := benchManager(b, 1, Config[[]byte]{})
	errTimeout := errors.New("timeout")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		var err error
		if i%16 == 0 {
			err = errTimeout
		}
		mg.Observe("m", "1", 12*time.Millisecond, err)
	}
}

// BenchmarkLoadVerify16MiB measures a cold load: open, SHA-256 of 16 MiB,
// loader call. b.SetBytes makes the output a hashing throughput.
func BenchmarkLoadVerify16MiB(b *testing.B) {
	const size = 16 << 20
	mg := benchManager(b, size, Config[[]byte]{MaxModels: 1})
	ctx := context.Background()
	spec, err := mg.Spec("m", "1")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	for b.Loop() {
		if _, err := mg.Load(ctx, "m", "1"); err != nil {
			b.Fatal(err)
		}
		// Unregister drops the cached model so the next Load is cold.
		if err := mg.Unregister("m", "1"); err != nil {
			b.Fatal(err)
		}
		if err := mg.Register(spec); err != nil {
			b.Fatal(err)
		}
	}
}
