// Package promtest checks that a component's constructor keeps package prom's
// contract: a nil Registerer is accepted, and a second component of the same name on
// one registry is refused with a *prom.CollisionError rather than a panic.
package promtest

import (
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom"
)

// CheckCollision calls build with a nil Registerer, then twice with one registry. build
// constructs the component on reg with a fixed name, releases it (t.Cleanup will do),
// and returns the constructor's error. The first two calls must succeed and the third
// must fail with a *prom.CollisionError.
func CheckCollision(t testing.TB, build func(reg prometheus.Registerer) error) {
	t.Helper()
	if err := build(nil); err != nil {
		t.Fatalf("with a nil Registerer: %v", err)
	}
	reg := prometheus.NewRegistry()
	if err := build(reg); err != nil {
		t.Fatalf("first on a registry: %v", err)
	}
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("the second on the same registry panicked: %v", p)
		}
	}()
	err := build(reg)
	var ce *prom.CollisionError
	if !errors.As(err, &ce) {
		t.Fatalf("the second on the same registry: err = %v, want a *prom.CollisionError", err)
	}
}
