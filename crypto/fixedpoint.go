package crypto

import (
	"fmt"
	"math"
)

// FixedPoint is a signed fixed-point encoding: x is carried as the integer
// round(x * 2^FracBits). Inputs must satisfy |x| <= MaxAbs, and a scheme
// built with it checks at construction that the sum of Owners such values
// cannot wrap its modulus, so an overflow is an ErrOutOfRange when
// protecting, never silent garbage at reveal.
type FixedPoint struct {
	// FracBits is the number of fractional bits; the rounding error per
	// value is at most 2^-(FracBits+1).
	FracBits uint
	// MaxAbs bounds the magnitude of every encoded value, including the
	// weight and weight*update.
	MaxAbs float64
}

// DefaultFixedPoint has a resolution of 2^-32 (2.3e-10) and admits values up
// to 2^20 (about 1e6) in magnitude: 53 bits per value, so sums of up to 1024
// owners fit a signed 64-bit ring.
var DefaultFixedPoint = FixedPoint{FracBits: 32, MaxAbs: 1 << 20}

// ValueBits returns the number of bits of magnitude of one encoded value.
func (f FixedPoint) ValueBits() int {
	return int(math.Ceil(math.Log2(f.MaxAbs*math.Exp2(float64(f.FracBits)) + 1)))
}

// Precision returns the worst-case absolute error of a sum of n values.
func (f FixedPoint) Precision(n int) float64 {
	return float64(n) * math.Exp2(-float64(f.FracBits)-1)
}

// check reports whether sums of n encoded values fit in a signed integer of
// bits bits.
func (f FixedPoint) check(n int, bits int) error {
	if f.FracBits > 62 || !(f.MaxAbs > 0) || math.IsInf(f.MaxAbs, 0) {
		return fmt.Errorf("fixed point %+v: need 0 < MaxAbs < Inf and FracBits <= 62", f)
	}
	need := f.ValueBits() + int(math.Ceil(math.Log2(float64(n)))) + 1
	if need > bits {
		return fmt.Errorf("%w: fixed point %+v summed over %d owners needs %d bits, have %d",
			ErrOutOfRange, f, n, need, bits)
	}
	return nil
}

// Encode returns round(x * 2^FracBits) or ErrOutOfRange.
func (f FixedPoint) Encode(x float64) (int64, error) {
	if !(math.Abs(x) <= f.MaxAbs) { // also catches NaN
		return 0, fmt.Errorf("%w: |%g| > %g", ErrOutOfRange, x, f.MaxAbs)
	}
	return int64(math.Round(math.Ldexp(x, int(f.FracBits)))), nil
}

// Decode returns v / 2^FracBits.
func (f FixedPoint) Decode(v int64) float64 {
	return math.Ldexp(float64(v), -int(f.FracBits))
}

// withWeight returns weight*update followed by weight, checking the length
// of update against cfg.Len and, with cfg.MaxNorm, its L2 norm.
func withWeight(update []float64, weight float64, cfg Config) ([]float64, error) {
	n := cfg.Len
	if len(update) != n {
		return nil, fmt.Errorf("%w: update has %d values, want %d", ErrMismatch, len(update), n)
	}
	if math.IsNaN(weight) || math.IsInf(weight, 0) {
		return nil, fmt.Errorf("%w: weight %g", ErrOutOfRange, weight)
	}
	if cfg.MaxNorm > 0 {
		if norm := l2Norm(update, 1); !(norm <= cfg.MaxNorm) {
			return nil, fmt.Errorf("%w: update norm %g exceeds the bound %g", ErrOutOfRange, norm, cfg.MaxNorm)
		}
	}
	v := make([]float64, n+1)
	for i, x := range update {
		v[i] = weight * x
	}
	v[n] = weight
	return v, nil
}

// l2Norm returns the L2 norm of v/div, scaled to avoid overflow.
func l2Norm(v []float64, div float64) float64 {
	scale := 0.0
	for _, x := range v {
		scale = math.Max(scale, math.Abs(x))
	}
	if scale == 0 || math.IsInf(scale, 0) || math.IsNaN(scale) {
		if math.IsNaN(scale) {
			return math.NaN()
		}
		return scale / math.Abs(div)
	}
	ss := 0.0
	for _, x := range v {
		ss += (x / scale) * (x / scale)
	}
	return scale * math.Sqrt(ss) / math.Abs(div)
}

// checkMean reports whether the weighted sum sum with total weight weight
// has a positive, finite weight and a mean sum/weight of L2 norm at most
// maxNorm; with maxNorm 0 it accepts everything.
func checkMean(sum []float64, weight, maxNorm float64) error {
	if maxNorm == 0 {
		return nil
	}
	if !(weight > 0) || math.IsInf(weight, 0) {
		return fmt.Errorf("%w: total weight %g is not positive and finite", ErrOutOfRange, weight)
	}
	if norm := l2Norm(sum, weight); !(norm <= maxNorm) {
		return fmt.Errorf("%w: mean has norm %g, bound %g", ErrOutOfRange, norm, maxNorm)
	}
	return nil
}
