package dp

import (
	"errors"
	"math"
	"testing"
)

// classicEpsilon is the conversion of Mironov (2017, Proposition 3),
// ε = min over α of RDP(α) + log(1/δ)/(α−1), which TensorFlow Privacy's
// get_privacy_spent used when the figures below were published. The package
// itself uses the tighter conversion; this one serves to reproduce them.
func classicEpsilon(t *testing.T, a *Accountant, rounds int) float64 {
	t.Helper()
	rdp, orders, err := a.rdp(rounds)
	if err != nil {
		t.Fatal(err)
	}
	best := math.Inf(1)
	for i, o := range orders {
		best = min(best, rdp[i]-math.Log(a.Delta)/(o-1))
	}
	return best
}

// tfOrders are the orders of TensorFlow Privacy's MNIST tutorial and of its
// compute_dp_sgd_privacy script: 1.1, 1.2, ..., 10.9, then 12 to 63.
func tfOrders() []float64 {
	var o []float64
	for x := 1; x < 100; x++ {
		o = append(o, 1+float64(x)/10)
	}
	for a := 12; a < 64; a++ {
		o = append(o, float64(a))
	}
	return o
}

// TestPublishedMNIST reproduces the ε that TensorFlow Privacy publishes for
// DP-SGD on MNIST (60,000 examples, batches of 256, so q = 256/60000, and
// δ = 1e−5), printed with two decimals, using their order grid and the
// classic conversion they used. Two README versions are covered:
//
//   - the first (mnist_dpsgd_tutorial.py with noise multiplier 1.12, 234
//     steps per epoch): ε = 1.00 after 1 epoch, 1.04 after 2, 2.92 after 60;
//     its table of parameters adds 1.2 for 10 epochs at z = 1.2 (and 9.74
//     for 30 epochs at z = 0.6, where we get 9.747; not checked, as it is
//     the one figure that does not round to the published value);
//   - the later one (z = 1.1): 1.03 after 1 epoch, 1.11 after 2, and 3.01
//     for 60 epochs, which compute_dp_sgd_privacy also prints for
//     ceil(60·60000/256) = 14063 steps; its table adds 1.19 for 15 epochs
//     at z = 1.3 and 7.10 for 45 epochs at z = 0.7.
//
// The brief that asked for this package quoted 2.92 for z = 1.1; that
// figure belongs to z = 1.12 (with z = 1.1 and 14063 steps one gets 3.01).
func TestPublishedMNIST(t *testing.T) {
	cases := []struct {
		z      float64
		rounds int
		want   float64
	}{
		{1.12, 234, 1.00},
		{1.12, 2 * 234, 1.04},
		{1.12, 60 * 234, 2.92},
		{1.2, 10 * 234, 1.20},
		{1.1, 234, 1.03},
		{1.1, 2 * 234, 1.11},
		{1.1, 60 * 234, 3.01},
		{1.1, 14063, 3.01},
		{1.3, 15 * 234, 1.19},
		{0.7, 45 * 234, 7.10},
	}
	for _, c := range cases {
		a := &Accountant{SampleRate: 256.0 / 60000, Multiplier: c.z, Delta: 1e-5, Orders: tfOrders()}
		got := classicEpsilon(t, a, c.rounds)
		if math.Abs(got-c.want) > 0.005 {
			t.Errorf("z=%v after %d steps: classic ε = %.4f, published %.2f", c.z, c.rounds, got, c.want)
		}
	}
}

// TestDefaultMNIST checks what the package reports, with its own orders
// and the improved conversion, for the two 60-epoch settings above. The
// reference values were computed independently (once, outside the
// repository) by 40-digit mpmath quadrature of A_α at every default order
// up to 64, composition and the same conversion: 2.597080 at order 8 for
// z = 1.1 and 14063 steps, 2.519421 at order 8 for z = 1.12 and 14040. The
// same computation with the classic conversion over tfOrders gave 3.008381
// and 2.919891, the figures TestPublishedMNIST rounds. The improved
// conversion is about 0.4 tighter here.
func TestDefaultMNIST(t *testing.T) {
	cases := []struct {
		z      float64
		rounds int
		want   float64
	}{
		{1.1, 14063, 2.597080},
		{1.12, 14040, 2.519421},
	}
	for _, c := range cases {
		a := &Accountant{SampleRate: 256.0 / 60000, Multiplier: c.z, Delta: 1e-5}
		got, order, err := a.Epsilon(c.rounds)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-c.want) > 2e-6 || order != 8 {
			t.Errorf("z=%v after %d rounds: ε = %.6f at order %v, want %.6f at 8", c.z, c.rounds, got, order, c.want)
		}
		if classic := classicEpsilon(t, a, c.rounds); !(got < classic) {
			t.Errorf("z=%v: improved ε %v not below classic %v", c.z, got, classic)
		}
	}
}

// exactGaussianEpsilon returns the smallest ε for which the Gaussian
// mechanism with sensitivity/std ratio mu is (ε, δ)-DP, by bisection on the
// exact privacy profile of Balle and Wang (2018, Theorem 8):
// δ(ε) = Φ(μ/2 − ε/μ) − e^ε Φ(−μ/2 − ε/μ).
func exactGaussianEpsilon(mu, delta float64) float64 {
	phi := func(x float64) float64 { return math.Erfc(-x/math.Sqrt2) / 2 }
	profile := func(eps float64) float64 {
		return phi(mu/2-eps/mu) - math.Exp(eps)*phi(-mu/2-eps/mu)
	}
	lo, hi := 0.0, 200.0
	for range 200 {
		mid := (lo + hi) / 2
		if profile(mid) > delta {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// TestGaussianComposition covers q = 1, where T rounds of the Gaussian
// mechanism with multiplier z have RDP ρα with ρ = T/(2z²). Minimising the
// classic conversion ρα + log(1/δ)/(α−1) over real α > 1 gives the closed
// form ε* = ρ + 2√(ρ·log(1/δ)) at α* = 1 + √(log(1/δ)/ρ). The test checks
// that a fine order grid reproduces ε*, and that the accountant's ε lies
// between the exact ε of the composed mechanism (a Gaussian with
// sensitivity/std ratio √T/z, Balle and Wang 2018), which no valid bound can
// beat, and ε*, which the improved conversion stays below here even on the
// coarser default grid (for example 4.38 < 4.75 < 5.30 for z = 1, T = 1,
// δ = 1e−5).
func TestGaussianComposition(t *testing.T) {
	cases := []struct {
		z      float64
		rounds int
		delta  float64
	}{
		{1, 1, 1e-5},
		{5, 100, 1e-5},
		{20, 1000, 1e-6},
		{1.1, 50, 1e-3},
	}
	for _, c := range cases {
		rho := float64(c.rounds) / (2 * c.z * c.z)
		l := -math.Log(c.delta)
		closed := rho + 2*math.Sqrt(rho*l)
		alphaStar := 1 + math.Sqrt(l/rho)

		var fine []float64
		for o := 1.001; o < 4*alphaStar; o += 0.001 {
			fine = append(fine, o)
		}
		a := &Accountant{SampleRate: 1, Multiplier: c.z, Delta: c.delta, Orders: fine}
		if got := classicEpsilon(t, a, c.rounds); math.Abs(got-closed) > 1e-6*closed {
			t.Errorf("%+v: classic ε over a fine grid = %v, closed form %v", c, got, closed)
		}

		a = &Accountant{SampleRate: 1, Multiplier: c.z, Delta: c.delta}
		got, _, err := a.Epsilon(c.rounds)
		if err != nil {
			t.Fatal(err)
		}
		exact := exactGaussianEpsilon(math.Sqrt(float64(c.rounds))/c.z, c.delta)
		if !(exact <= got && got <= closed) {
			t.Errorf("%+v: ε = %v, want between exact %v and classic closed form %v", c, got, exact, closed)
		}
	}
}

// TestEpsilonMonotone checks that ε grows with rounds and sample rate and
// shrinks as the noise multiplier grows.
func TestEpsilonMonotone(t *testing.T) {
	eps := func(q, z float64, rounds int) float64 {
		a := &Accountant{SampleRate: q, Multiplier: z, Delta: 1e-5}
		e, _, err := a.Epsilon(rounds)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	prev := 0.0
	for _, r := range []int{1, 10, 100, 1000, 10000, 100000} {
		e := eps(0.01, 1, r)
		if !(e > prev) {
			t.Errorf("ε = %v after %d rounds, not above %v", e, r, prev)
		}
		prev = e
	}
	prev = math.Inf(1)
	for _, z := range []float64{0.5, 0.8, 1, 1.5, 3, 10} {
		e := eps(0.05, z, 500)
		if !(e < prev) {
			t.Errorf("ε = %v at z = %v, not below %v", e, z, prev)
		}
		prev = e
	}
	prev = 0
	for _, q := range []float64{0.001, 0.01, 0.1, 0.5, 1} {
		e := eps(q, 1.5, 100)
		if !(e > prev) {
			t.Errorf("ε = %v at q = %v, not above %v", e, q, prev)
		}
		prev = e
	}
}

func TestAccountantStep(t *testing.T) {
	a := &Accountant{SampleRate: 0.02, Multiplier: 1.2, Delta: 1e-6}
	if eps, order, err := a.Spent(); err != nil || eps != 0 || order != 0 {
		t.Errorf("nothing spent: ε = %v at %v, err %v; want 0 at 0", eps, order, err)
	}
	for range 3 {
		if err := a.Step(1); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Step(97); err != nil {
		t.Fatal(err)
	}
	if a.Rounds() != 100 {
		t.Fatalf("Rounds = %d, want 100", a.Rounds())
	}
	spent, order, err := a.Spent()
	if err != nil {
		t.Fatal(err)
	}
	eps, order2, err := a.Epsilon(100)
	if err != nil {
		t.Fatal(err)
	}
	if spent != eps || order != order2 || !(eps > 0) {
		t.Errorf("Spent = %v at %v, Epsilon(100) = %v at %v", spent, order, eps, order2)
	}
	if err := a.Step(-1); !errors.Is(err, ErrInvalidParameter) || a.Rounds() != 100 {
		t.Errorf("Step(-1): err %v, rounds %d", err, a.Rounds())
	}
	if err := a.Step(math.MaxInt); !errors.Is(err, ErrInvalidParameter) || a.Rounds() != 100 {
		t.Errorf("overflowing Step: err %v, rounds %d", err, a.Rounds())
	}
}

func TestAccountantErrors(t *testing.T) {
	good := Accountant{SampleRate: 0.1, Multiplier: 1, Delta: 1e-5}
	cases := []struct {
		name string
		edit func(*Accountant)
	}{
		{"q = 0", func(a *Accountant) { a.SampleRate = 0 }},
		{"q < 0", func(a *Accountant) { a.SampleRate = -0.5 }},
		{"q > 1", func(a *Accountant) { a.SampleRate = 1.01 }},
		{"q NaN", func(a *Accountant) { a.SampleRate = math.NaN() }},
		{"z = 0", func(a *Accountant) { a.Multiplier = 0 }},
		{"z < 0", func(a *Accountant) { a.Multiplier = -1 }},
		{"z NaN", func(a *Accountant) { a.Multiplier = math.NaN() }},
		{"z Inf", func(a *Accountant) { a.Multiplier = math.Inf(1) }},
		{"δ = 0", func(a *Accountant) { a.Delta = 0 }},
		{"δ = 1", func(a *Accountant) { a.Delta = 1 }},
		{"δ < 0", func(a *Accountant) { a.Delta = -1e-5 }},
		{"δ NaN", func(a *Accountant) { a.Delta = math.NaN() }},
		{"empty orders", func(a *Accountant) { a.Orders = []float64{} }},
		{"order 1", func(a *Accountant) { a.Orders = []float64{2, 1} }},
		{"order too large", func(a *Accountant) { a.Orders = []float64{MaxOrder * 2} }},
	}
	for _, c := range cases {
		a := good
		c.edit(&a)
		if err := a.Validate(); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("%s: Validate error = %v, want ErrInvalidParameter", c.name, err)
		}
		if _, _, err := a.Epsilon(10); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("%s: Epsilon error = %v, want ErrInvalidParameter", c.name, err)
		}
	}
	if _, _, err := good.Epsilon(-1); !errors.Is(err, ErrInvalidParameter) {
		t.Errorf("Epsilon(-1) error = %v, want ErrInvalidParameter", err)
	}
}
