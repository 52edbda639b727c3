// Package prom is the one way Tessera's components build and register their
// Prometheus metrics.
//
// Every component takes a prometheus.Registerer in its configuration and behaves the
// same with it: a nil Registerer registers nothing (the metrics still count, nobody
// scrapes them), and a metric the Registerer already holds is a *CollisionError, never
// a panic. Registration is all or none: when one collector is refused, those registered
// before it are unregistered again, so the caller may retry with another name or
// registry.
package prom

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// CollisionError reports a collector whose metric the Registerer already holds: two
// components of the same kind with the same name, registered on one registry.
type CollisionError struct {
	// Desc describes the refused collector's metric: its name, help and labels.
	Desc string
	// Err is the Registerer's own error (it holds the existing collector).
	Err prometheus.AlreadyRegisteredError
}

func (e *CollisionError) Error() string {
	return "register metrics: " + e.Desc + " is already registered (give each component its own registry or name, or tell them apart with prometheus.WrapRegistererWith)"
}

// Unwrap returns the Registerer's prometheus.AlreadyRegisteredError.
func (e *CollisionError) Unwrap() error { return e.Err }

// Register registers cs on reg, in order, all or none. A nil reg registers nothing and
// returns nil. A collision is a *CollisionError; any other refusal is returned wrapped,
// with the refused metric's description.
func Register(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				reg.Unregister(done)
			}
			return refusal(c, err)
		}
	}
	return nil
}

// refusal explains why c was refused.
func refusal(c prometheus.Collector, err error) error {
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		return &CollisionError{Desc: describe(c), Err: are}
	}
	return fmt.Errorf("register metrics: %s: %w", describe(c), err)
}

// describe names c's metric by its first descriptor.
func describe(c prometheus.Collector) string {
	ch := make(chan *prometheus.Desc, 1)
	go func() {
		c.Describe(ch)
		close(ch)
	}()
	first := <-ch
	for range ch { // let Describe finish
	}
	if first == nil {
		return "a collector without descriptors"
	}
	return first.String()
}
