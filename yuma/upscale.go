package yuma

import "math"

// roundHalfAway is substrate-fixed's round() for I32F32: to the nearest integer, halves away
// from zero.
func roundHalfAway(x Fixed) Fixed {
	if x >= 0 {
		if x > MaxFixed-half {
			return MaxFixed &^ (One - 1) // Rust would overflow; saturate to the largest integer
		}
		return (x + half) &^ (One - 1)
	}
	if x < MinFixed+half {
		return MinFixed
	}
	return -((-x + half) &^ (One - 1))
}

// MaxUpscaleU16 is subtensor's vec_u16_max_upscale_to_u16, which set_weights applies to
// submitted weights before storing them: the largest value becomes 65535 and the others
// round(v × 65535 / max) (halves away from zero), computed in I32F32 exactly as subtensor
// does (e.g. [43690, 21845] becomes [65535, 32768]). An all-zero vector stays zero.
func MaxUpscaleU16(v []uint16) []uint16 {
	f := make([]Fixed, len(v))
	for i, e := range v {
		f[i] = FixedFromU16(e)
	}
	return maxUpscaleToU16(f)
}

// maxUpscaleToU16 is vec_max_upscale_to_u16 for non-negative I32F32 input.
func maxUpscaleToU16(v []Fixed) []uint16 {
	out := make([]uint16, len(v))
	if len(v) == 0 {
		return out
	}
	u16max := FixedFromU16(math.MaxUint16)
	maxV := v[0]
	for _, e := range v {
		maxV = maxF(maxV, e)
	}
	switch {
	case maxV == 0:
		for i, e := range v {
			out[i] = e.SatMul(u16max).ToU16()
		}
	case maxV > FixedFromInt(32768):
		ratio := u16max.SafeDiv(maxV)
		for i, e := range v {
			out[i] = roundHalfAway(e.SatMul(ratio)).ToU16()
		}
	default:
		for i, e := range v {
			out[i] = roundHalfAway(e.SatMul(u16max).SafeDiv(maxV)).ToU16()
		}
	}
	return out
}
