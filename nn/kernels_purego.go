//go:build !openblas

package nn

// The pure-Go build runs the convolution's data-movement kernels in Go.

func (o *convOp) im2col(col, in []float32, n int)   { o.im2colGo(col, in, n) }
func (o *convOp) col2im(din, dcol []float32, n int) { o.col2imGo(din, dcol, n) }

func (o *convOp) pool2(pre, out []float32, code []uint8, bias []float32, n int, _ []float32, _ []uint8) {
	o.pool2Go(pre, out, code, bias, n)
}

func (o *convOp) unpool2(dpre, dout []float32, code []uint8, gb []float32, n int, acc bool) {
	o.unpool2Go(dpre, dout, code, gb, n, acc)
}

func (o *convOp) sparseGrad(_ *scratch, in, dout []float32, code []uint8, gw, gb []float32, n int, acc bool) {
	o.sparseGradGo(in, dout, code, gw, gb, n, acc)
}

// direct reports whether forward skips im2col and the matrix product for
// a fused direct kernel; the pure-Go build has none.
func (o *convOp) direct() bool { return false }

func (o *convOp) convPool2(s *scratch, wt, bias, in []float32, code []uint8, n int) {
	panic("nn: no direct convolution kernel in the pure-Go build")
}
