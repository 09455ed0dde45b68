package nn

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestConvKernels checks the build's convolution kernels (C in the
// openblas build) against the Go ones, including odd plane sizes whose
// last row and column no pooling window covers.
func TestConvKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	for _, tc := range []struct {
		in   Shape
		k, f int
		relu bool
	}{
		{Shape{1, 28, 28}, 3, 4, true},
		{Shape{3, 13, 13}, 3, 5, true},
		{Shape{2, 9, 8}, 2, 3, false},
	} {
		o := newConvOp(0, tc.in, tc.f, tc.k, tc.relu, 2)
		const n = 3
		in := fill(n * o.inSize)
		col1, col2 := make([]float32, n*o.npos*o.kk), make([]float32, n*o.npos*o.kk)
		o.im2col(col1, in, n)
		o.im2colGo(col2, in, n)
		if !slices.Equal(col1, col2) {
			t.Errorf("%v: im2col differs", tc.in)
		}
		dcol := fill(len(col1))
		din1, din2 := fill(len(in)), fill(len(in))
		o.col2im(din1, dcol, n)
		o.col2imGo(din2, dcol, n)
		for i := range din1 {
			if d := din1[i] - din2[i]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("%v: col2im differs at %d: %v vs %v", tc.in, i, din1[i], din2[i])
			}
		}
		pre := fill(n * o.npos * o.cout)
		pre[5] = pre[4] // a tie
		bias := fill(o.cout)
		out1, out2 := fill(n*o.outSize), fill(n*o.outSize)
		code1, code2 := make([]uint8, n*o.outSize), make([]uint8, n*o.outSize)
		for _, withCode := range []bool{false, true} {
			c1, c2 := code1, code2
			if !withCode {
				c1, c2 = nil, nil
			}
			o.pool2(pre, out1, c1, bias, n, make([]float32, o.ph*o.ow), make([]uint8, o.ph*o.ow))
			o.pool2Go(pre, out2, c2, bias, n)
			if !slices.Equal(out1, out2) || !slices.Equal(code1, code2) {
				t.Errorf("%v: pool2 (codes %v) differs", tc.in, withCode)
			}
		}
		dout := fill(n * o.outSize)
		dpre1, dpre2 := fill(len(pre)), fill(len(pre))
		gb1, gb2 := fill(o.cout), fill(o.cout)
		for _, acc := range []bool{false, true} {
			o.unpool2(dpre1, dout, code1, gb1, n, acc)
			o.unpool2Go(dpre2, dout, code2, gb2, n, acc)
			if !slices.Equal(dpre1, dpre2) {
				t.Errorf("%v: unpool2 differs", tc.in)
			}
			for i := range gb1 {
				if d := gb1[i] - gb2[i]; d > 1e-4 || d < -1e-4 {
					t.Errorf("%v: unpool2 bias gradient differs: %v vs %v", tc.in, gb1, gb2)
					break
				}
			}
		}
		gw1, gw2 := fill(o.cout*o.kk), fill(o.cout*o.kk)
		for _, acc := range []bool{false, true} {
			o.sparseGrad(&scratch{}, in, dout, code1, gw1, gb1, n, acc)
			o.sparseGradGo(in, dout, code2, gw2, gb2, n, acc)
			for i := range gw1 {
				if d := gw1[i] - gw2[i]; d > 1e-4 || d < -1e-4 {
					t.Fatalf("%v: sparseGrad differs at %d: %v vs %v", tc.in, i, gw1[i], gw2[i])
				}
			}
		}
		// sparseGrad agrees with the dense route (unpool2, then dpre·colᵀ).
		o.unpool2Go(dpre2, dout, code2, gb2, n, false)
		o.im2colGo(col2, in, n)
		dense := make([]float32, o.cout*o.kk)
		sgemm(false, true, o.cout, o.kk, n*o.npos, dpre2, n*o.npos, col2, n*o.npos, false, dense, o.kk)
		o.sparseGradGo(in, dout, code2, gw2, gb1, n, false)
		for i := range dense {
			if d := dense[i] - gw2[i]; d > 1e-4 || d < -1e-4 {
				t.Fatalf("%v: sparse and dense kernel gradients differ at %d: %v vs %v", tc.in, i, gw2[i], dense[i])
			}
		}
	}
}
