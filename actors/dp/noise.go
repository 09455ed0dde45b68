package dp

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Mechanism is the Gaussian mechanism of DP-FedAvg: noise with standard
// deviation z·C on the sum of the contributors' deltas, each clipped to
// norm C by the Clip function. The zero value is not valid; both fields
// must be set.
type Mechanism struct {
	// Multiplier is the noise multiplier z > 0: the ratio of the
	// standard deviation of the noise on the sum to the clipping bound.
	// The Accountant takes the same z.
	Multiplier float64
	// Clip is the L2 bound C > 0 that every contributor's delta was
	// clipped to, and so the sensitivity of their sum.
	Clip float64
}

// Validate reports whether m's multiplier and clipping bound are finite and
// positive, with an error wrapping ErrInvalidParameter if not.
func (m Mechanism) Validate() error {
	if !(m.Multiplier > 0) || math.IsInf(m.Multiplier, 1) {
		return fmt.Errorf("dp: mechanism: multiplier %v is not finite and positive: %w", m.Multiplier, ErrInvalidParameter)
	}
	if !(m.Clip > 0) || math.IsInf(m.Clip, 1) {
		return fmt.Errorf("dp: mechanism: clip %v is not finite and positive: %w", m.Clip, ErrInvalidParameter)
	}
	return nil
}

// CentralStd returns z·C, the standard deviation of the noise that the
// model owner adds to each coordinate of the revealed sum of clipped
// deltas in central DP. It returns an error if m is not valid.
func (m Mechanism) CentralStd() (float64, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	return m.Multiplier * m.Clip, nil
}

// ShareStd returns z·C/√n, the standard deviation of the share of noise
// that each contributor adds to each coordinate of its own clipped delta
// in distributed DP, before protecting it. When n shares are summed the
// sum carries noise of variance z²C², as in central DP, yet nobody sees an
// update with less than its own share of noise on it.
//
// n must be the smallest number of contributors whose sum the protocol
// will reveal (for example its minimum number of contributors per round
// or its threshold), not the number of owners invited: if only m < n
// contributors survive dropouts, the revealed sum carries variance
// (m/n)·z²C², less than the Accountant assumes, so dividing by the minimum
// keeps the accounting an upper bound and costs extra noise whenever more
// than n contribute. The guarantee also assumes that contributors are
// honest: each adds its share faithfully and keeps it secret. Against a
// coalition of t colluding contributors, who can subtract their own
// shares, only n − t shares protect the others.
//
// ShareStd returns an error if m is not valid or n < 1.
func (m Mechanism) ShareStd(n int) (float64, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	if n < 1 {
		return 0, fmt.Errorf("dp: share std: %d contributors: %w", n, ErrInvalidParameter)
	}
	return m.Multiplier * m.Clip / math.Sqrt(float64(n)), nil
}

// AddNoise adds to every element of dst an independent draw from
// N(0, std²) taken from rng, in index order, so a source seeded alike gives
// the same noise. std = 0 leaves dst unchanged and draws nothing.
//
// AddNoise returns an error and leaves dst untouched if std is negative,
// NaN or infinite, or rng is nil.
func AddNoise(dst []float64, std float64, rng *rand.Rand) error {
	if !(std >= 0) || math.IsInf(std, 1) {
		return fmt.Errorf("dp: add noise: std %v is not finite and non-negative: %w", std, ErrInvalidParameter)
	}
	if rng == nil {
		return fmt.Errorf("dp: add noise: nil random source: %w", ErrInvalidParameter)
	}
	if std == 0 {
		return nil
	}
	for i := range dst {
		dst[i] += std * rng.NormFloat64()
	}
	return nil
}
