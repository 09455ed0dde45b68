package dp

import "errors"

// Errors returned, wrapped with context, by the functions of this package.
// Test for them with errors.Is.
var (
	// ErrInvalidParameter reports a parameter outside its documented
	// range: a non-positive clipping bound or noise multiplier, a sample
	// rate outside (0, 1], a δ outside (0, 1), a negative round count and
	// the like.
	ErrInvalidParameter = errors.New("dp: invalid parameter")
	// ErrLengthMismatch reports vectors whose lengths should agree but do
	// not.
	ErrLengthMismatch = errors.New("dp: length mismatch")
	// ErrNotFinite reports a NaN or infinite element in a vector.
	ErrNotFinite = errors.New("dp: non-finite value")
)
