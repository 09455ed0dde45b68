package nn

import (
	"fmt"
	"math/rand/v2"
)

// memSource is an in-memory Source for tests.
type memSource struct {
	d int
	x []float32
	y []int
}

func (s *memSource) Len() int       { return len(s.y) }
func (s *memSource) InputSize() int { return s.d }
func (s *memSource) Read(i int, dst []float32) int {
	copy(dst[:s.d], s.x[i*s.d:(i+1)*s.d])
	return s.y[i]
}

// randomSource returns n examples of d uniform [0,1) features with random
// labels in [0, classes).
func randomSource(rng *rand.Rand, n, d, classes int) *memSource {
	s := &memSource{d: d, x: make([]float32, n*d), y: make([]int, n)}
	for i := range s.x {
		s.x[i] = rng.Float32()
	}
	for i := range s.y {
		s.y[i] = rng.IntN(classes)
	}
	return s
}

// blobSource returns a learnable problem: each class has a random
// prototype image and examples are noisy copies of it.
func blobSource(rng *rand.Rand, n, d, classes int, noise float32) *memSource {
	protos := make([]float32, classes*d)
	for i := range protos {
		if rng.Float32() < 0.3 {
			protos[i] = 1
		}
	}
	s := &memSource{d: d, x: make([]float32, n*d), y: make([]int, n)}
	for i := range s.y {
		c := rng.IntN(classes)
		s.y[i] = c
		for j := 0; j < d; j++ {
			v := protos[c*d+j] + noise*float32(rng.NormFloat64())
			s.x[i*d+j] = min(max(v, 0), 1)
		}
	}
	return s
}

// lossGrad returns the mean loss of m on the examples idx of src and its
// gradient, in training mode with dropout masks drawn from seed, on one
// worker.
func lossGrad(m *Model, src Source, idx []int, seed uint64) (float64, []float32, error) {
	w := newWork(m.a, len(idx), true)
	if err := w.load(src, idx); err != nil {
		return 0, nil, err
	}
	n := len(idx)
	c := fwdCtx{train: true, seed: seed, pcg: &w.pcg}
	logits := w.forward(m.w, n, &c)
	l, _ := softmaxCE(logits, w.labels, n, m.a.classes, float32(1/float64(n)), w.dlogits)
	grad := make([]float32, m.NumParams())
	w.backward(m.w, grad, n, false)
	return l / float64(n), grad, nil
}

// checkGrad compares the analytic gradient grad of m's mean loss with
// central finite differences at the parameter coordinates coords. ReLU and
// max-pool kinks make any single step unreliable (a step that crosses a
// kink measures a mix of two slopes), so a coordinate passes if the
// difference quotient for any of the steps hs agrees to within
// atol + 1e-7/h + rtol·max(|analytic|, |numeric|), the middle term
// allowing for float32 rounding of the loss. It returns an error naming the
// first coordinate that fails for every step.
func checkGrad(m *Model, src Source, idx []int, seed uint64, grad []float32, coords []int, hs []float64, atol, rtol float64) error {
	return checkGradOf(m, grad, coords, hs, atol, rtol, func() (float64, error) {
		l, _, err := lossGrad(m, src, idx, seed)
		return l, err
	})
}

// checkGradOf is checkGrad for any loss: loss returns m's loss at its
// current parameters.
func checkGradOf(m *Model, grad []float32, coords []int, hs []float64, atol, rtol float64, loss func() (float64, error)) error {
	for _, j := range coords {
		orig := m.w[j]
		ana := float64(grad[j])
		var nums []float64
		ok := false
		for _, h := range hs {
			up, down := orig+float32(h), orig-float32(h)
			m.w[j] = up
			lp, err := loss()
			if err != nil {
				return err
			}
			m.w[j] = down
			lm, err := loss()
			if err != nil {
				return err
			}
			m.w[j] = orig
			num := (lp - lm) / (float64(up) - float64(down))
			nums = append(nums, num)
			// float32 rounding of the loss (~1e-7) divided by the step.
			noise := 1e-7 / h
			if abs(num-ana) <= atol+noise+rtol*max(abs(num), abs(ana)) {
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Errorf("parameter %d: analytic %.6g, numeric %.6g (steps %v)", j, ana, nums, hs)
		}
	}
	return nil
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
