package nn

import (
	"math/rand/v2"
	"testing"
)

func TestDropoutMask(t *testing.T) {
	for _, rate := range []float64{0, 0.25, 0.5, 0.9} {
		o := &dropoutOp{size: 1000, rate: rate, salt: 1}
		var s scratch
		o.alloc(&s, 20, true)
		in := make([]float32, 20*1000)
		for i := range in {
			in[i] = 1
		}
		pcg := rand.NewPCG(0, 0)
		out := o.forward(&s, nil, in, 20, &fwdCtx{train: true, seed: 5, pcg: pcg})
		var kept int
		var sum float64
		for _, v := range out {
			if v != 0 {
				kept++
				if want := float32(1 / (1 - rate)); v != want {
					t.Fatalf("rate %v: kept value %v, want %v", rate, v, want)
				}
			}
			sum += float64(v)
		}
		frac := float64(kept) / float64(len(out))
		if d := frac - (1 - rate); d > 0.02 || d < -0.02 {
			t.Errorf("rate %v: kept fraction %v", rate, frac)
		}
		if mean := sum / float64(len(out)); mean < 0.95 || mean > 1.05 {
			t.Errorf("rate %v: mean %v, want about 1 (inverted dropout)", rate, mean)
		}
		// Same seed and position, same mask; evaluation is the identity.
		again := append([]float32(nil), out...)
		out2 := o.forward(&s, nil, in, 20, &fwdCtx{train: true, seed: 5, pcg: pcg})
		for i := range again {
			if again[i] != out2[i] {
				t.Fatalf("rate %v: mask not reproducible", rate)
			}
		}
		if ev := o.forward(&s, nil, in, 20, &fwdCtx{}); &ev[0] != &in[0] {
			t.Errorf("rate %v: evaluation is not the identity", rate)
		}
	}
}
