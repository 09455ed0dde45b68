package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

func TestZZOpProfile(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m, _ := New(CNN, rng)
	src := randomSource(rng, 16, 784, 10)
	idx := make([]int, 16)
	for i := range idx {
		idx[i] = i
	}
	w := newWork(m.a, 16, true)
	w.load(src, idx)
	grad := make([]float32, m.NumParams())
	nops := len(m.a.ops)
	fw := make([]time.Duration, nops)
	bw := make([]time.Duration, nops)
	const iters = 300
	for it := 0; it < iters; it++ {
		c := fwdCtx{train: true, seed: 1, pcg: &w.pcg}
		x := w.x[:16*784]
		for i, o := range m.a.ops {
			w.acts[i] = x
			off, np := o.span()
			t0 := time.Now()
			x = o.forward(&w.sc[i], m.w[off:off+np], x, 16, &c)
			fw[i] += time.Since(t0)
		}
		softmaxCE(x, w.labels, 16, 10, 1.0/16, w.dlogits)
		d := w.dlogits[:160]
		for i := nops - 1; i >= 0; i-- {
			o := m.a.ops[i]
			off, np := o.span()
			t0 := time.Now()
			d = o.backward(&w.sc[i], m.w[off:off+np], grad[off:off+np], w.acts[i], d, 16, i > 0, false)
			bw[i] += time.Since(t0)
		}
	}
	var tot time.Duration
	for i := range fw {
		fmt.Printf("op %d %T: fwd %.1f us/sample, bwd %.1f us/sample\n", i, m.a.ops[i], float64(fw[i].Microseconds())/iters/16, float64(bw[i].Microseconds())/iters/16)
		tot += fw[i] + bw[i]
	}
	fmt.Printf("total %.1f us/sample\n", float64(tot.Microseconds())/iters/16)
}
