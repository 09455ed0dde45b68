package dp

import (
	"fmt"
	"math"
)

// Clip bounds the L2 norm of a data owner's update delta by bound.
//
// The delta is update − reference: the owner's locally trained parameters
// minus the global parameters it started the round from. A nil reference
// stands for the zero vector, so Clip(delta, nil, C) clips a delta the
// caller already holds. If the delta's norm exceeds bound, Clip rewrites
// update in place to reference + delta·bound/‖delta‖, so that the delta's
// norm equals bound up to rounding; otherwise update is left as it is.
// reference is never modified. Clip returns the factor applied to the
// delta, in (0, 1]; 1 means nothing was clipped.
//
// Clip returns an error and leaves update untouched if bound is not finite
// and positive (ErrInvalidParameter), if reference is not nil and its
// length differs from update's (ErrLengthMismatch), or if an element of
// update, reference or the delta is NaN or infinite (ErrNotFinite).
func Clip(update, reference []float64, bound float64) (scale float64, err error) {
	if !(bound > 0) || math.IsInf(bound, 1) {
		return 0, fmt.Errorf("dp: clip: bound %v is not finite and positive: %w", bound, ErrInvalidParameter)
	}
	if reference != nil && len(reference) != len(update) {
		return 0, fmt.Errorf("dp: clip: update has %d elements, reference %d: %w", len(update), len(reference), ErrLengthMismatch)
	}
	norm, err := deltaNorm(update, reference)
	if err != nil {
		return 0, fmt.Errorf("dp: clip: %w", err)
	}
	if norm <= bound {
		return 1, nil
	}
	scale = bound / norm
	for i, u := range update {
		if reference == nil {
			update[i] = u * scale
			continue
		}
		r := reference[i]
		update[i] = r + (u-r)*scale
	}
	return scale, nil
}

// deltaNorm returns the L2 norm of update − reference (of update alone if
// reference is nil) without overflow or underflow in the sum of squares,
// or an ErrNotFinite error naming the first offending index.
func deltaNorm(update, reference []float64) (float64, error) {
	at := func(i int) float64 {
		if reference == nil {
			return update[i]
		}
		return update[i] - reference[i]
	}
	// First pass: the largest magnitude, and a check that all is finite.
	var largest float64
	for i := range update {
		d := at(i)
		if math.IsNaN(d) || math.IsInf(d, 0) {
			return 0, fmt.Errorf("delta element %d is %v: %w", i, d, ErrNotFinite)
		}
		largest = max(largest, math.Abs(d))
	}
	if largest == 0 {
		return 0, nil
	}
	// Second pass: sum of squares relative to the largest magnitude.
	var sum float64
	for i := range update {
		d := at(i) / largest
		sum += d * d
	}
	return largest * math.Sqrt(sum), nil
}
