package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// dist returns ‖w − a‖.
func dist(w []float32, a []float64) float64 {
	var s float64
	for i, x := range w {
		d := float64(x) - a[i]
		s += d * d
	}
	return math.Sqrt(s)
}

// TestProxOffIsIdentical checks that training with Prox 0 or a nil
// Anchor is bit for bit training without the proximal term, and that with
// both set it is not.
func TestProxOffIsIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	data := blobSource(rng, 200, 784, 10, 0.3)
	base, _ := New(LogReg, rng)
	far := make([]float64, base.NumParams())
	for i := range far {
		far[i] = 1 + rng.NormFloat64()
	}
	train := func(prox float64, anchor []float64) ([]float32, float64) {
		m := base.Clone()
		tr := Trainer{Model: m, Optimizer: &SGD{LR: 0.05, Momentum: 0.9}, BatchSize: 32, Threads: 2, Prox: prox, Anchor: anchor}
		var loss float64
		for e := range 2 {
			l, err := tr.TrainEpoch(data, nil, rand.New(rand.NewPCG(uint64(e), 9)))
			if err != nil {
				t.Fatal(err)
			}
			loss += l
		}
		return m.w, loss
	}
	w0, l0 := train(0, nil)
	for _, c := range []struct {
		name   string
		prox   float64
		anchor []float64
	}{
		{"Prox 0", 0, far},
		{"nil Anchor", 5, nil},
	} {
		w, l := train(c.prox, c.anchor)
		if !slices.Equal(w, w0) || l != l0 {
			t.Errorf("%s: training differs from training without the term (loss %v, want %v)", c.name, l, l0)
		}
	}
	if w, l := train(5, far); slices.Equal(w, w0) || l == l0 {
		t.Error("Prox 5 with an Anchor changes nothing")
	}
}

// TestProxStaysNearAnchor checks that a large μ keeps the trained weights
// close to the anchor while μ = 0 lets them move far from it.
func TestProxStaysNearAnchor(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	data := blobSource(rng, 300, 784, 10, 0.3)
	base, _ := New(LogReg, rng)
	anchor := base.Params(nil)
	moved := func(mu float64) float64 {
		m := base.Clone()
		tr := Trainer{Model: m, Optimizer: NewAdam(0.01), BatchSize: 32, Threads: 2, Prox: mu, Anchor: anchor}
		for e := range 3 {
			if _, err := tr.TrainEpoch(data, nil, rand.New(rand.NewPCG(uint64(e), 3))); err != nil {
				t.Fatal(err)
			}
		}
		return dist(m.w, anchor)
	}
	free, held := moved(0), moved(1000)
	t.Logf("distance from the anchor: μ=0 %.4f, μ=1000 %.4f", free, held)
	if free < 2 || held > 0.05 {
		t.Errorf("distance from the anchor: μ=0 %.4f (want >= 2), μ=1000 %.4f (want <= 0.05)", free, held)
	}
}

// TestProxGradient compares one plain SGD step with and without the
// proximal term from the same weights on the same batch: the weights must
// differ by exactly −LR·μ·(w − anchor) (up to float32 rounding) and the
// losses by μ/2·‖w − anchor‖².
func TestProxGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	data := randomSource(rng, 40, 784, 10)
	base, _ := New(LogReg, rng)
	anchor := base.Params(nil)
	var sq float64
	for i := range anchor {
		anchor[i] += 0.01 * rng.NormFloat64()
		d := float64(base.w[i] - float32(anchor[i]))
		sq += d * d
	}
	const lr, mu = 0.5, 0.3
	batch := []int{3, 1, 4, 15, 9, 26, 5, 35, 8, 39}
	step := func(prox float64) ([]float32, float64) {
		m := base.Clone()
		tr := Trainer{Model: m, Optimizer: &SGD{LR: lr}, BatchSize: 16, Threads: 1, Prox: prox, Anchor: anchor}
		l, err := tr.TrainBatch(data, batch, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		return m.w, l
	}
	plain, l0 := step(0)
	prox, l1 := step(mu)
	for i, w := range base.w {
		want := -lr * mu * float64(w-float32(anchor[i]))
		if got := float64(prox[i]) - float64(plain[i]); math.Abs(got-want) > 1e-7 {
			t.Fatalf("parameter %d: step changed by %.6g, want %.6g", i, got, want)
		}
	}
	if got, want := l1-l0, mu/2*sq; math.Abs(got-want) > 1e-9*want {
		t.Errorf("loss includes %.9g for the proximal term, want %.9g", got, want)
	}
}

func TestProxErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	data := randomSource(rng, 10, 784, 10)
	m, _ := New(LogReg, rng)
	anchor := m.Params(nil)
	for _, tc := range []struct {
		name   string
		prox   float64
		anchor []float64
		want   string
	}{
		{"negative Prox", -1, anchor, "Prox -1"},
		{"NaN Prox", math.NaN(), anchor, "Prox NaN"},
		{"infinite Prox", math.Inf(1), anchor, "Prox +Inf"},
		{"short Anchor", 0.1, anchor[:5], "Anchor has 5 values"},
	} {
		before := slices.Clone(m.w)
		tr := Trainer{Model: m, Optimizer: &SGD{LR: 0.1}, Prox: tc.prox, Anchor: tc.anchor}
		if _, err := tr.TrainEpoch(data, nil, rng); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: TrainEpoch error %v, want %q", tc.name, err, tc.want)
		}
		if !slices.Equal(before, m.w) {
			t.Errorf("%s: failed TrainEpoch changed the model", tc.name)
		}
	}
}

// TestProxAllocs checks that the proximal term adds no allocations to a
// warmed-up training step.
func TestProxAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	data := randomSource(rng, 32, 784, 10)
	m, _ := New(LogReg, rng)
	batch := make([]int, 32)
	for i := range batch {
		batch[i] = i
	}
	allocs := func(prox float64) float64 {
		tr := Trainer{Model: m, Optimizer: &SGD{LR: 0.1}, BatchSize: 32, Threads: 1, Prox: prox, Anchor: m.Params(nil)}
		return testing.AllocsPerRun(3, func() {
			if _, err := tr.TrainBatch(data, batch, rng); err != nil {
				t.Fatal(err)
			}
		})
	}
	if without, with := allocs(0), allocs(0.1); with > without {
		t.Errorf("%v allocations per step with the proximal term, %v without", with, without)
	}
}
