package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refForward evaluates layers on one example x of shape in with params p
// by the textbook definitions in float64 (PyTorch semantics and layouts,
// no dropout), independently of the fused ops.
func refForward(in Shape, layers []Layer, p []float32, x []float64) []float64 {
	off := 0
	for _, l := range layers {
		switch l.kind {
		case kindConv:
			if pd := l.pad(); pd > 0 { // border x with zeros
				c, h, w := in[0], in[1], in[2]
				hp, wp := h+2*pd, w+2*pd
				y := make([]float64, c*hp*wp)
				for ci := 0; ci < c; ci++ {
					for i := 0; i < h; i++ {
						copy(y[(ci*hp+i+pd)*wp+pd:], x[(ci*h+i)*w:(ci*h+i+1)*w])
					}
				}
				x, in = y, Shape{c, hp, wp}
			}
			c, h, w, k, f := in[0], in[1], in[2], l.size, l.n
			oh, ow := h-k+1, w-k+1
			wt := p[off : off+f*c*k*k]
			b := p[off+f*c*k*k : off+f*c*k*k+f]
			off += f*c*k*k + f
			y := make([]float64, f*oh*ow)
			for o := 0; o < f; o++ {
				for i := 0; i < oh; i++ {
					for j := 0; j < ow; j++ {
						s := float64(b[o])
						for ci := 0; ci < c; ci++ {
							for di := 0; di < k; di++ {
								for dj := 0; dj < k; dj++ {
									s += float64(wt[((o*c+ci)*k+di)*k+dj]) * x[(ci*h+i+di)*w+j+dj]
								}
							}
						}
						y[(o*oh+i)*ow+j] = s
					}
				}
			}
			x, in = y, Shape{f, oh, ow}
		case kindPool:
			c, h, w, q := in[0], in[1], in[2], l.n
			oh, ow := h/q, w/q
			y := make([]float64, c*oh*ow)
			for ci := 0; ci < c; ci++ {
				for i := 0; i < oh; i++ {
					for j := 0; j < ow; j++ {
						m := math.Inf(-1)
						for di := 0; di < q; di++ {
							for dj := 0; dj < q; dj++ {
								m = max(m, x[(ci*h+i*q+di)*w+j*q+dj])
							}
						}
						y[(ci*oh+i)*ow+j] = m
					}
				}
			}
			x, in = y, Shape{c, oh, ow}
		case kindReLU:
			y := make([]float64, len(x))
			for i, v := range x {
				y[i] = max(v, 0)
			}
			x = y
		case kindFlatten:
			in = Shape{in.Size()}
		case kindDense:
			n, u := in[0], l.n
			y := make([]float64, u)
			for o := 0; o < u; o++ {
				s := float64(p[off+u*n+o])
				for i := 0; i < n; i++ {
					s += float64(p[off+o*n+i]) * x[i]
				}
				y[o] = s
			}
			off += u*n + u
			x, in = y, Shape{u}
		}
	}
	return x
}

// TestForwardMatchesReference checks the fused, batched forward pass (and
// so the parameter layout) against refForward for every model shape, on
// both one and several workers' chunk sizes.
func TestForwardMatchesReference(t *testing.T) {
	cases := append([]struct {
		name   string
		input  Shape
		layers []Layer
	}{}, gradCases...)
	for _, name := range Models() {
		m, err := New(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct {
			name   string
			input  Shape
			layers []Layer
		}{name, m.InputShape(), m.Layers()})
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 99))
			m, err := NewModel(tc.input, tc.layers, rng)
			if err != nil {
				t.Fatal(err)
			}
			for j := range m.w {
				if m.w[j] == 0 {
					m.w[j] = 0.1 * float32(rng.NormFloat64())
				}
			}
			const n = 3
			src := randomSource(rng, n, tc.input.Size(), m.Classes())
			w := newWork(m.a, n, false)
			if err := w.load(src, []int{0, 1, 2}); err != nil {
				t.Fatal(err)
			}
			logits := w.forward(m.w, n, &fwdCtx{})
			d := tc.input.Size()
			for e := 0; e < n; e++ {
				x := make([]float64, d)
				for j := range x {
					x[j] = float64(src.x[e*d+j])
				}
				want := refForward(tc.input, tc.layers, m.w, x)
				got := logits[e*m.Classes() : (e+1)*m.Classes()]
				for j := range want {
					if math.Abs(float64(got[j])-want[j]) > 1e-4*(1+math.Abs(want[j])) {
						t.Fatalf("example %d logit %d: got %v, want %v", e, j, got[j], want[j])
					}
				}
			}
		})
	}
}
