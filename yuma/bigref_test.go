package yuma

import (
	"math"
	"math/big"
)

// bigInt is an exact reference for the fixed-point operations in tests.
type bigInt struct{ v *big.Int }

func newBig(x int64) *bigInt { return &bigInt{big.NewInt(x)} }

func (a *bigInt) add(b *bigInt) *bigInt { return &bigInt{new(big.Int).Add(a.v, b.v)} }
func (a *bigInt) sub(b *bigInt) *bigInt { return &bigInt{new(big.Int).Sub(a.v, b.v)} }
func (a *bigInt) mul(b *bigInt) *bigInt { return &bigInt{new(big.Int).Mul(a.v, b.v)} }
func (a *bigInt) lsh(n uint) *bigInt    { return &bigInt{new(big.Int).Lsh(a.v, n)} }

// quo is truncated division (Rust's integer division).
func (a *bigInt) quo(b *bigInt) *bigInt { return &bigInt{new(big.Int).Quo(a.v, b.v)} }

// floorShift is an arithmetic shift right (floor division by 2^n).
func (a *bigInt) floorShift(n uint) *bigInt { return &bigInt{new(big.Int).Rsh(a.v, n)} }

func (a *bigInt) fits() bool { return a.v.IsInt64() }

func (a *bigInt) sat() Fixed {
	switch {
	case a.v.Cmp(big.NewInt(math.MaxInt64)) > 0:
		return MaxFixed
	case a.v.Cmp(big.NewInt(math.MinInt64)) < 0:
		return MinFixed
	}
	return Fixed(a.v.Int64())
}
