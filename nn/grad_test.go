package nn

import (
	"math/rand/v2"
	"testing"
)

// Steps and tolerances for finite differences through float32 arithmetic.
var gradSteps = []float64{3e-3, 1e-3, 3e-4, 1e-4, 3e-5}

const (
	gradAtol = 2e-4
	gradRtol = 1e-2
)

var gradCases = []struct {
	name   string
	input  Shape
	layers []Layer
}{
	{"conv", Shape{2, 6, 6}, []Layer{Conv2D(3, 3), Flatten(), Dense(4)}},
	{"conv-relu", Shape{2, 6, 6}, []Layer{Conv2D(3, 3), ReLU(), Flatten(), Dense(4)}},
	{"conv-pool", Shape{2, 7, 7}, []Layer{Conv2D(3, 2), MaxPool2D(2), Flatten(), Dense(4)}},
	{"conv-relu-pool", Shape{1, 8, 8}, []Layer{Conv2D(4, 3), ReLU(), MaxPool2D(2), Flatten(), Dense(3)}},
	{"conv-relu-pool3", Shape{2, 8, 8}, []Layer{Conv2D(3, 2), ReLU(), MaxPool2D(3), Flatten(), Dense(3)}},
	{"conv-conv", Shape{2, 8, 8}, []Layer{Conv2D(3, 3), ReLU(), Conv2D(4, 2), ReLU(), MaxPool2D(2), Flatten(), Dense(3)}},
	{"standalone-pool-relu", Shape{2, 7, 7}, []Layer{Conv2D(3, 2), Dropout(0.25), MaxPool2D(3), ReLU(), Flatten(), Dense(3)}},
	{"dense", Shape{12}, []Layer{Dense(5)}},
	{"dense-relu", Shape{12}, []Layer{Dense(7), ReLU(), Dense(6), ReLU(), Dense(3)}},
	{"dropout", Shape{12}, []Layer{Dense(9), Dropout(0.5), Dense(3)}},
	{"flatten-first", Shape{2, 3, 3}, []Layer{Flatten(), ReLU(), Dense(3)}},
	{"same", Shape{2, 5, 6}, []Layer{Conv2DSame(3, 3), Flatten(), Dense(4)}},
	{"same-relu-pool", Shape{1, 8, 10}, []Layer{Conv2DSame(4, 5), ReLU(), MaxPool2D(2), Flatten(), Dense(3)}},
	{"same-pool3", Shape{2, 7, 7}, []Layer{Conv2DSame(3, 3), ReLU(), MaxPool2D(3), Flatten(), Dense(3)}},
	{"same-second", Shape{2, 8, 7}, []Layer{Conv2D(3, 3), ReLU(), Conv2DSame(4, 5), ReLU(), MaxPool2D(2), Flatten(), Dense(3)}},
	{"same-second-nopool", Shape{2, 6, 6}, []Layer{Conv2DSame(3, 3), ReLU(), Conv2DSame(2, 3), Flatten(), Dense(3)}},
	{"same-1x1", Shape{3, 4, 4}, []Layer{Conv2D(2, 1), Conv2DSame(4, 1), Flatten(), Dense(3)}},
}

// TestGradients checks every layer type, alone and fused, against finite
// differences on all parameters.
func TestGradients(t *testing.T) {
	for i, tc := range gradCases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			m, err := NewModel(tc.input, tc.layers, rng)
			if err != nil {
				t.Fatal(err)
			}
			// Nonzero biases so that bias gradients matter.
			for j := range m.w {
				if m.w[j] == 0 {
					m.w[j] = 0.1 * float32(rng.NormFloat64())
				}
			}
			src := randomSource(rng, 5, tc.input.Size(), m.Classes())
			idx := []int{0, 1, 2, 3, 4}
			_, grad, err := lossGrad(m, src, idx, 42)
			if err != nil {
				t.Fatal(err)
			}
			coords := make([]int, m.NumParams())
			for j := range coords {
				coords[j] = j
			}
			if err := checkGrad(m, src, idx, 42, grad, coords, gradSteps, gradAtol, gradRtol); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestGradientCNN checks the full cnn, dropout on with a fixed mask, on
// sampled coordinates of every layer.
func TestGradientCNN(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m, err := New(CNN, rng)
	if err != nil {
		t.Fatal(err)
	}
	checkSampledGrad(t, m, rng, 25)
}

// TestGradientMcMahanCNN checks McMahan et al.'s CNN, whose convolutions
// have 'same' padding, on a few sampled coordinates of every layer.
func TestGradientMcMahanCNN(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	m, err := New(McMahanCNN, rng)
	if err != nil {
		t.Fatal(err)
	}
	for j := range m.w { // nonzero biases
		if m.w[j] == 0 {
			m.w[j] = 0.05 * float32(rng.NormFloat64())
		}
	}
	checkSampledGrad(t, m, rng, 6)
}

// checkSampledGrad checks m's gradient on two random MNIST-sized examples
// (dropout mask seed 9) against finite differences at up to perLayer
// random coordinates of every layer and its last (bias) parameter.
func checkSampledGrad(t *testing.T, m *Model, rng *rand.Rand, perLayer int) {
	t.Helper()
	src := randomSource(rng, 2, m.InputSize(), m.Classes())
	idx := []int{0, 1}
	_, grad, err := lossGrad(m, src, idx, 9)
	if err != nil {
		t.Fatal(err)
	}
	var coords []int
	for l, off := range m.a.offs {
		n := m.a.counts[l]
		for range min(n, perLayer) {
			coords = append(coords, off+rng.IntN(n))
		}
		if n > 0 {
			coords = append(coords, off+n-1) // a bias
		}
	}
	if err := checkGrad(m, src, idx, 9, grad, coords, gradSteps, gradAtol, gradRtol); err != nil {
		t.Error(err)
	}
}

// TestGradientCheckFails makes sure the check catches wrong gradients.
func TestGradientCheckFails(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	m, err := NewModel(Shape{1, 8, 8}, []Layer{Conv2D(4, 3), ReLU(), MaxPool2D(2), Flatten(), Dense(3)}, rng)
	if err != nil {
		t.Fatal(err)
	}
	src := randomSource(rng, 3, 64, 3)
	idx := []int{0, 1, 2}
	_, grad, err := lossGrad(m, src, idx, 1)
	if err != nil {
		t.Fatal(err)
	}
	coords := make([]int, m.NumParams())
	for j := range coords {
		coords[j] = j
	}
	for _, bug := range []struct {
		name string
		f    func(g []float32)
	}{
		{"scaled by 1.1", func(g []float32) {
			for j := range g {
				g[j] *= 1.1
			}
		}},
		{"one kernel weight off", func(g []float32) { g[5] += 0.05 }},
		{"bias sign flipped", func(g []float32) { g[36] = -g[36] + 0.01 }},
		{"dense gradient transposed", func(g []float32) {
			off := m.a.offs[4]
			g[off+1], g[off+36] = g[off+36], g[off+1]+0.01
		}},
	} {
		bad := append([]float32(nil), grad...)
		bug.f(bad)
		if err := checkGrad(m, src, idx, 1, bad, coords, gradSteps, gradAtol, gradRtol); err == nil {
			t.Errorf("%s: wrong gradient not caught", bug.name)
		}
	}
}
