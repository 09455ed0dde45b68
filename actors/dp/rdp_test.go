package dp

import (
	"errors"
	"math"
	"testing"
)

// TestRDPFullBatch checks that q = 1 gives exactly α/(2z²), the RDP of the
// Gaussian mechanism with sensitivity 1 and standard deviation z (Mironov
// 2017, Proposition 7), and that the general formulas approach it as
// q → 1.
func TestRDPFullBatch(t *testing.T) {
	for _, z := range []float64{0.3, 0.5, 1.1, 4} {
		for _, a := range DefaultOrders() {
			got, err := SampledGaussianRDP(1, z, a)
			if err != nil {
				t.Fatal(err)
			}
			if want := a / (2 * z * z); got != want {
				t.Errorf("z=%v α=%v: RDP = %v, want exactly %v", z, a, got, want)
			}
		}
		for _, a := range []float64{1.5, 2, 3.5, 8, 20} {
			got, err := SampledGaussianRDP(1-1e-9, z, a)
			if err != nil {
				t.Fatal(err)
			}
			if want := a / (2 * z * z); math.Abs(got-want) > 1e-6*want {
				t.Errorf("z=%v α=%v q=1−1e−9: RDP = %v, want about %v", z, a, got, want)
			}
		}
	}
}

// TestRDPOrderTwo checks the closed form at α = 2, where the binomial sum
// has three terms: A₂ = (1−q)² + 2q(1−q) + q²e^(1/z²) = 1 + q²(e^(1/z²) − 1).
func TestRDPOrderTwo(t *testing.T) {
	for _, q := range []float64{1e-4, 0.01, 256.0 / 60000, 0.3, 0.9} {
		for _, z := range []float64{0.5, 1, 1.1, 3} {
			got, err := SampledGaussianRDP(q, z, 2)
			if err != nil {
				t.Fatal(err)
			}
			want := math.Log1p(q * q * math.Expm1(1/(z*z)))
			if math.Abs(got-want) > 1e-10*want {
				t.Errorf("q=%v z=%v: RDP(2) = %v, want %v", q, z, got, want)
			}
		}
	}
}

// quadratureRDP computes the RDP of the sampled Gaussian mechanism at order
// a by integrating A_a − 1 = ∫ N(x; 0, z²)·(((1−q) + q·e^((2x−1)/(2z²)))^a − 1) dx
// with the trapezoidal rule, which converges faster than any power of the
// step for smooth, rapidly decaying integrands like this one. It shares no
// code with the series.
func quadratureRDP(q, z, a float64) float64 {
	lo, hi := -20*z, a+20*z
	h := z / 200
	n := int(math.Ceil((hi - lo) / h))
	h = (hi - lo) / float64(n)
	var sum float64
	for i := 0; i <= n; i++ {
		x := lo + float64(i)*h
		logMu := -x*x/(2*z*z) - math.Log(z*math.Sqrt(2*math.Pi))
		v := a * math.Log1p(q*math.Expm1((2*x-1)/(2*z*z)))
		var f float64
		if v < 1 {
			f = math.Exp(logMu) * math.Expm1(v)
		} else {
			f = math.Exp(logMu+v) - math.Exp(logMu)
		}
		if i == 0 || i == n {
			f /= 2
		}
		sum += f
	}
	return math.Log1p(sum*h) / (a - 1)
}

// rdpCases are (q, z, α) with reference RDP values from an independent
// 40-digit mpmath quadrature of A_α (run once, not part of the repository).
var rdpCases = []struct {
	q, z, order, want float64
}{
	{0.01, 1, 2, 0.00017181342207454794},
	{0.01, 1, 1.5, 0.00012725374332744984},
	{0.01, 1, 1.25, 0.00010539800509817623},
	{0.1, 0.8, 3.5, 0.17062506553777265},
	{0.5, 2, 7, 0.34427342676424969},
	{256.0 / 60000, 1.1, 10.7, 0.00013496856815127722},
	{0.3, 1.5, 16, 2.2745210146423559},
	{0.9, 1, 2.5, 1.116510250730583},
	{0.5, 1, 1.25, 0.18403840772767036},
}

func TestRDPReference(t *testing.T) {
	for _, c := range rdpCases {
		got, err := SampledGaussianRDP(c.q, c.z, c.order)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-c.want) > 1e-9*c.want {
			t.Errorf("q=%v z=%v α=%v: RDP = %.17g, mpmath %.17g", c.q, c.z, c.order, got, c.want)
		}
		quad := quadratureRDP(c.q, c.z, c.order)
		if math.Abs(got-quad) > 1e-8*quad {
			t.Errorf("q=%v z=%v α=%v: RDP = %.17g, quadrature %.17g", c.q, c.z, c.order, got, quad)
		}
	}
}

// TestRDPQuadrature compares the series with quadrature on a grid that
// mixes integer and fractional orders, small and large q and z.
func TestRDPQuadrature(t *testing.T) {
	for _, q := range []float64{0.001, 0.05, 0.4} {
		for _, z := range []float64{0.7, 1.3, 4} {
			for _, a := range []float64{1.25, 1.75, 2, 2.5, 5, 6.3, 12} {
				got, err := SampledGaussianRDP(q, z, a)
				if err != nil {
					t.Fatal(err)
				}
				quad := quadratureRDP(q, z, a)
				if math.Abs(got-quad) > 1e-8*quad {
					t.Errorf("q=%v z=%v α=%v: series %.15g, quadrature %.15g", q, z, a, got, quad)
				}
			}
		}
	}
}

// TestRDPMonotone checks that RDP grows with the order and the sample rate
// and shrinks with the noise, as it must.
func TestRDPMonotone(t *testing.T) {
	rdp := func(q, z, a float64) float64 {
		r, err := SampledGaussianRDP(q, z, a)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	prev := 0.0
	for _, a := range DefaultOrders() {
		r := rdp(0.01, 1, a)
		if r < prev {
			t.Errorf("RDP falls from %v to %v at order %v", prev, r, a)
		}
		prev = r
	}
	if !(rdp(0.01, 1, 4) < rdp(0.02, 1, 4) && rdp(0.02, 1, 4) < rdp(1, 1, 4)) {
		t.Error("RDP does not grow with q")
	}
	if !(rdp(0.01, 2, 4.5) < rdp(0.01, 1, 4.5)) {
		t.Error("RDP does not shrink with z")
	}
}

func TestLogHalfErfc(t *testing.T) {
	for x := -6.0; x <= 26; x += 0.25 {
		want := math.Log(math.Erfc(x) / 2)
		if got := logHalfErfc(x); math.Abs(got-want) > 1e-13*max(1, math.Abs(want)) {
			t.Errorf("logHalfErfc(%v) = %v, want %v", x, got, want)
		}
	}
	// Beyond math.Erfc's range: erfc(x) ~ e^(−x²)/(x√π) to first order.
	x := 1e4
	want := -x*x - math.Log(x*math.Sqrt(math.Pi)) - math.Ln2
	if got := logHalfErfc(x); math.Abs(got-want) > 1e-8*math.Abs(want) || math.IsInf(got, 0) {
		t.Errorf("logHalfErfc(%v) = %v, want about %v", x, got, want)
	}
}

func TestRDPErrors(t *testing.T) {
	cases := []struct{ q, z, order float64 }{
		{0, 1, 2}, {-0.1, 1, 2}, {1.1, 1, 2}, {math.NaN(), 1, 2},
		{0.1, 0, 2}, {0.1, -1, 2}, {0.1, math.NaN(), 2}, {0.1, math.Inf(1), 2},
		{0.1, 1, 1}, {0.1, 1, 0.5}, {0.1, 1, math.NaN()}, {0.1, 1, MaxOrder + 1}, {0.1, 1, math.Inf(1)},
	}
	for _, c := range cases {
		if _, err := SampledGaussianRDP(c.q, c.z, c.order); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("SampledGaussianRDP(%v, %v, %v) error = %v, want ErrInvalidParameter", c.q, c.z, c.order, err)
		}
	}
}

func TestEpsilonFromRDP(t *testing.T) {
	// One order by hand: 1 + log(1/2) − (log 1e−5 + log 2)/1.
	eps, order, err := EpsilonFromRDP([]float64{2}, []float64{1}, 1e-5)
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 - 2*math.Ln2 + 5*math.Ln10; math.Abs(eps-want) > 1e-12 || order != 2 {
		t.Errorf("ε = %v at order %v, want %v at 2", eps, order, want)
	}
	// The minimum is taken, infinite RDP skipped, negative ε clamped.
	eps, order, err = EpsilonFromRDP([]float64{2, 4, 8}, []float64{math.Inf(1), 0.5, 3}, 1e-5)
	if err != nil {
		t.Fatal(err)
	}
	if want := 0.5 + math.Log(0.75) - (math.Log(1e-5)+math.Log(4))/3; math.Abs(eps-want) > 1e-12 || order != 4 {
		t.Errorf("ε = %v at order %v, want %v at 4", eps, order, want)
	}
	if eps, _, _ := EpsilonFromRDP([]float64{512}, []float64{0}, 0.5); eps != 0 {
		t.Errorf("ε = %v, want clamped to 0", eps)
	}
	if eps, order, _ := EpsilonFromRDP([]float64{2}, []float64{math.Inf(1)}, 0.5); !math.IsInf(eps, 1) || order != 0 {
		t.Errorf("all infinite: ε = %v at %v, want +Inf at 0", eps, order)
	}

	bad := []struct {
		orders, rdp []float64
		delta       float64
		want        error
	}{
		{nil, nil, 1e-5, ErrLengthMismatch},
		{[]float64{2, 3}, []float64{1}, 1e-5, ErrLengthMismatch},
		{[]float64{2}, []float64{1}, 0, ErrInvalidParameter},
		{[]float64{2}, []float64{1}, 1, ErrInvalidParameter},
		{[]float64{2}, []float64{1}, math.NaN(), ErrInvalidParameter},
		{[]float64{1}, []float64{1}, 1e-5, ErrInvalidParameter},
		{[]float64{2}, []float64{-1}, 1e-5, ErrInvalidParameter},
		{[]float64{2}, []float64{math.NaN()}, 1e-5, ErrInvalidParameter},
	}
	for _, c := range bad {
		if _, _, err := EpsilonFromRDP(c.orders, c.rdp, c.delta); !errors.Is(err, c.want) {
			t.Errorf("EpsilonFromRDP(%v, %v, %v) error = %v, want %v", c.orders, c.rdp, c.delta, err, c.want)
		}
	}
}
