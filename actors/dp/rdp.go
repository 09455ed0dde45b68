package dp

import (
	"fmt"
	"math"
)

// MaxOrder is the largest Rényi order SampledGaussianRDP accepts. The work
// grows with the order, and orders beyond a few hundred never give the
// smallest ε for useful parameters.
const MaxOrder = 1 << 16

// DefaultOrders returns a fresh copy of the Rényi orders an Accountant
// uses when its Orders field is nil: 1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5,
// 4, 4.5, the integers 5 to 64, then 128, 256 and 512. Fractional orders
// refine the grid where small ε (strong privacy) is optimised; large
// orders serve small ε at very large noise.
func DefaultOrders() []float64 {
	orders := []float64{1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5}
	for a := 5; a <= 64; a++ {
		orders = append(orders, float64(a))
	}
	return append(orders, 128, 256, 512)
}

// SampledGaussianRDP returns the Rényi differential privacy, at the given
// order α, of one application of the sampled Gaussian mechanism: each
// individual is included with probability q and the sum of contributions
// of L2 norm at most C gets Gaussian noise of standard deviation z·C. The
// value is (1/(α−1))·log A_α with
//
//	A_α = E_{x∼N(0,z²)} [ ((1−q) + q·exp((2x−1)/(2z²)))^α ],
//
// the bound of Mironov, Talwar and Zhang (2019, Theorem 4), which holds for
// adding or removing one individual.
//
// For integer α, A_α is the finite binomial sum
// Σ_k C(α,k)(1−q)^(α−k) q^k exp((k²−k)/(2z²)); for fractional α it is the
// paper's pair of convergent series (Section 3.3), split where
// q·exp((2x−1)/(2z²)) = 1−q and summed until the terms fall below 1e−16 of
// the total. Both are computed in log space, so large orders and small z
// do not overflow. Integer orders keep full relative precision for any q;
// the fractional series yield A_α itself, so there the result carries an
// absolute error near 1e−16/(α−1), which matters only relative to a tiny
// RDP (q below about 1e−3). For q = 1 the result is exactly α/(2z²), the RDP of the
// plain Gaussian mechanism.
//
// It returns an error wrapping ErrInvalidParameter if q is not in (0, 1],
// z is not finite and positive, or α is not in (1, MaxOrder].
func SampledGaussianRDP(q, z, order float64) (float64, error) {
	if err := checkSGM(q, z); err != nil {
		return 0, fmt.Errorf("dp: sampled gaussian rdp: %w", err)
	}
	if !(order > 1 && order <= MaxOrder) {
		return 0, fmt.Errorf("dp: sampled gaussian rdp: order %v is not in (1, %d]: %w", order, MaxOrder, ErrInvalidParameter)
	}
	if q == 1 {
		return order / (2 * z * z), nil
	}
	var logA float64
	if order == math.Trunc(order) {
		logA = logMomentInt(q, z, int(order))
	} else {
		var err error
		if logA, err = logMomentFrac(q, z, order); err != nil {
			return 0, fmt.Errorf("dp: sampled gaussian rdp: q=%v z=%v order %v: %w", q, z, order, err)
		}
	}
	// A_α ≥ 1 in exact arithmetic; rounding may leave a tiny negative.
	return max(logA, 0) / (order - 1), nil
}

// checkSGM validates a sample rate and noise multiplier.
func checkSGM(q, z float64) error {
	if !(q > 0 && q <= 1) {
		return fmt.Errorf("sample rate %v is not in (0, 1]: %w", q, ErrInvalidParameter)
	}
	if !(z > 0) || math.IsInf(z, 1) {
		return fmt.Errorf("noise multiplier %v is not finite and positive: %w", z, ErrInvalidParameter)
	}
	return nil
}

// logSum accumulates log(Σ exp(t)) over the terms t added to it without
// overflow. The zero value is the empty sum, log 0 = −∞.
type logSum struct {
	max float64 // largest term so far
	sum float64 // Σ exp(t − max)
}

// add adds exp(t) to the sum.
func (s *logSum) add(t float64) {
	switch {
	case math.IsInf(t, -1):
	case s.sum == 0:
		s.max, s.sum = t, 1
	case t > s.max:
		s.sum = s.sum*math.Exp(s.max-t) + 1
		s.max = t
	default:
		s.sum += math.Exp(t - s.max)
	}
}

// value returns the log of the sum.
func (s *logSum) value() float64 {
	if s.sum == 0 {
		return math.Inf(-1)
	}
	return s.max + math.Log(s.sum)
}

// logMomentInt returns log A_α for an integer order α ≥ 2 and q in (0, 1)
// from the binomial expansion. Since the binomial weights
// C(α,k)(1−q)^(α−k) q^k sum to 1,
//
//	A_α − 1 = Σ_{k=2..α} C(α,k) (1−q)^(α−k) q^k (exp((k²−k)/(2z²)) − 1),
//
// a sum of positive terms (those for k = 0 and 1 vanish), so A_α − 1 keeps
// full relative precision even when it is far below the rounding error of
// A_α itself, as for small q. The log binomial coefficient is updated term
// by term.
func logMomentInt(q, z float64, alpha int) float64 {
	logQ, log1mQ := math.Log(q), math.Log1p(-q)
	inv := 1 / (2 * z * z)
	a := float64(alpha)
	var s logSum
	logBinom := math.Log(a) // log C(α, 1)
	for k := 2; k <= alpha; k++ {
		fk := float64(k)
		logBinom += math.Log((a - fk + 1) / fk)
		s.add(logBinom + (a-fk)*log1mQ + fk*logQ + logExpm1(fk*(fk-1)*inv))
	}
	return log1pExp(s.value())
}

// logExpm1 returns log(exp(y) − 1) for y > 0 without overflow.
func logExpm1(y float64) float64 {
	if y > 1 {
		return y + math.Log1p(-math.Exp(-y))
	}
	return math.Log(math.Expm1(y))
}

// log1pExp returns log(1 + exp(x)) without overflow or loss of precision
// for very negative x.
func log1pExp(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// maxSeriesTerms caps the fractional-order series. Their terms decay like
// i^−(α+2), so even α near 1 with q near ½ needs far fewer.
const maxSeriesTerms = 2_000_000

// logMomentFrac returns log A_α for a fractional order α > 1 and q in
// (0, 1) from the two series of Mironov, Talwar and Zhang (2019, Section
// 3.3). With z₀ = z²·log(1/q − 1) + ½ and Φ the standard normal CDF,
//
//	A_α = Σ_i C(α,i) (1−q)^(α−i) q^i     exp((i²−i)/(2z²)) Φ((z₀−i)/z)
//	    + Σ_i C(α,i) (1−q)^i     q^(α−i) exp(((α−i)²−(α−i))/(2z²)) Φ((α−i−z₀)/z),
//
// the first from x ≤ z₀, where q·exp((2x−1)/(2z²)) ≤ 1−q, and the second
// from x > z₀. For i > α the generalised binomial C(α,i) alternates in
// sign, so positive and negative terms are summed apart in log space.
func logMomentFrac(q, z, alpha float64) (float64, error) {
	logQ, log1mQ := math.Log(q), math.Log1p(-q)
	inv := 1 / (2 * z * z)
	z0 := z*z*(log1mQ-logQ) + 0.5
	scale := math.Sqrt2 * z
	var pos, neg logSum
	logBinom, sign := 0.0, 1.0 // log|C(α,i)| and its sign
	for i := 0; i < maxSeriesTerms; i++ {
		fi := float64(i)
		j := alpha - fi
		t1 := logBinom + j*log1mQ + fi*logQ + fi*(fi-1)*inv + logHalfErfc((fi-z0)/scale)
		t2 := logBinom + fi*log1mQ + j*logQ + j*(j-1)*inv + logHalfErfc((z0-j)/scale)
		if sign > 0 {
			pos.add(t1)
			pos.add(t2)
		} else {
			neg.add(t1)
			neg.add(t2)
		}
		// Past the order, the terms shrink in magnitude and alternate,
		// so the error of stopping is below the last term.
		if fi > alpha+1 && max(t1, t2) < pos.value()-37 {
			p, n := pos.value(), neg.value()
			if !(n < p) {
				return 0, fmt.Errorf("series lost precision (log positive part %v, log negative part %v)", p, n)
			}
			return p + math.Log1p(-math.Exp(n-p)), nil
		}
		f := (alpha - fi) / (fi + 1)
		if f < 0 {
			sign = -sign
		}
		logBinom += math.Log(math.Abs(f))
	}
	return 0, fmt.Errorf("series did not converge in %d terms", maxSeriesTerms)
}

// logHalfErfc returns log(erfc(x)/2) = log Φ(−x√2), also where erfc(x)
// underflows: beyond x = 10 it uses the continued fraction
// erfc(x) = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))),
// whose first 16 levels give full double precision there.
func logHalfErfc(x float64) float64 {
	if x < 10 {
		return math.Log(math.Erfc(x) / 2)
	}
	t := x
	for n := 16; n >= 1; n-- {
		t = x + float64(n)/2/t
	}
	return -x*x - math.Log(t) - 0.5*math.Log(math.Pi) - math.Ln2
}

// EpsilonFromRDP converts a Rényi DP curve, rdp[i] at orders[i], into the
// smallest ε such that (ε, delta)-DP holds, and returns it with the order
// that attains it. It uses the conversion of Balle et al. (2020) and
// Canonne, Kamath and Steinke (2020):
//
//	ε(α) = rdp(α) + log((α−1)/α) − (log δ + log α)/(α−1),
//
// clamped at 0, since (ε, δ)-DP with ε < 0 is (0, δ)-DP. Infinite rdp
// entries are allowed and skipped; if all are infinite, ε is +Inf and the
// order 0.
//
// It returns an error if the slices are empty or of different lengths, an
// order is not finite and above 1, an rdp value is negative or NaN, or
// delta is not in (0, 1).
func EpsilonFromRDP(orders, rdp []float64, delta float64) (eps, order float64, err error) {
	if len(orders) == 0 || len(orders) != len(rdp) {
		return 0, 0, fmt.Errorf("dp: epsilon from rdp: %d orders, %d rdp values: %w", len(orders), len(rdp), ErrLengthMismatch)
	}
	if !(delta > 0 && delta < 1) {
		return 0, 0, fmt.Errorf("dp: epsilon from rdp: delta %v is not in (0, 1): %w", delta, ErrInvalidParameter)
	}
	eps = math.Inf(1)
	logDelta := math.Log(delta)
	for i, a := range orders {
		if !(a > 1) || math.IsInf(a, 1) {
			return 0, 0, fmt.Errorf("dp: epsilon from rdp: order %v is not finite and above 1: %w", a, ErrInvalidParameter)
		}
		r := rdp[i]
		if !(r >= 0) {
			return 0, 0, fmt.Errorf("dp: epsilon from rdp: rdp %v at order %v is negative or NaN: %w", r, a, ErrInvalidParameter)
		}
		e := r + math.Log1p(-1/a) - (logDelta+math.Log(a))/(a-1)
		if e < eps {
			eps, order = e, a
		}
	}
	return max(eps, 0), order, nil
}
