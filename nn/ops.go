package nn

import (
	"math"
	"math/rand/v2"
)

// An op is one step of a compiled model. Several Layers may compile to one
// op: Conv2D followed by ReLU and MaxPool2D runs as a single fused conv op.
//
// Activations are batch-major and NCHW within an example. An op reads its
// input of n examples from in and returns its output; the returned slice
// belongs to the op's scratch (or is in itself for ops that move no data).
// p and g are the op's slices of the flat parameter and gradient vectors.
type op interface {
	// span returns the offset and length of the op's parameters.
	span() (off, n int)
	// alloc sizes s for up to n examples; train adds backward buffers.
	alloc(s *scratch, n int, train bool)
	forward(s *scratch, p, in []float32, n int, c *fwdCtx) []float32
	// backward returns the gradient with respect to in (nil unless
	// needIn), having written (acc: added) the parameter gradient to g.
	backward(s *scratch, p, g, in, dout []float32, n int, needIn, acc bool) []float32
}

// scratch holds one op's buffers for one worker; an op uses the fields it
// needs.
type scratch struct {
	out  []float32 // forward output
	col  []float32 // im2col matrix
	pre  []float32 // conv pre-activations, [n·P][C]
	idx  []int32   // max-pool argmax (offset in plane or input), -1 if ReLU cut
	code []uint8   // 2×2 max-pool argmax codes
	vm   []float32 // 2×2 max-pool row-pair maxima of one plane (C kernel)
	vb   []uint8   // 2×2 max-pool row-pair winners of one plane (C kernel)
	wt   []float32 // transposed kernel [kk][cout] (direct C kernel)
	gacc []float32 // transposed kernel and bias gradient (direct C kernel)
	mask []float32 // dropout multipliers
	dpre []float32 // gradient of pre (or of a Dense pre-activation)
	dcol []float32 // gradient of col
	din  []float32 // gradient of the op's input
	pad  []float32 // zero-bordered copy of a padded convolution's input
	dpad []float32 // gradient of pad
}

// fwdCtx carries what a forward pass needs besides data.
type fwdCtx struct {
	train bool
	seed  uint64    // dropout seed of the batch
	base  int       // position in the batch of the micro-batch's first example
	pcg   *rand.PCG // worker's generator, reseeded per example
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

func growCode(b []uint8, n int) []uint8 {
	if cap(b) < n {
		return make([]uint8, n)
	}
	return b[:n]
}

func growInt(b []int32, n int) []int32 {
	if cap(b) < n {
		return make([]int32, n)
	}
	return b[:n]
}

// denseOp is Dense with an optionally fused ReLU.
type denseOp struct {
	off, in, out int
	relu         bool
}

func (o *denseOp) span() (int, int) { return o.off, o.out*o.in + o.out }

func (o *denseOp) alloc(s *scratch, n int, train bool) {
	s.out = grow(s.out, n*o.out)
	if train {
		if o.relu {
			s.dpre = grow(s.dpre, n*o.out)
		}
		s.din = grow(s.din, n*o.in)
	}
}

func (o *denseOp) forward(s *scratch, p, in []float32, n int, _ *fwdCtx) []float32 {
	nw := o.out * o.in
	out := s.out[:n*o.out]
	sgemm(false, true, n, o.out, o.in, in, o.in, p[:nw], o.in, false, out, o.out)
	bias := p[nw : nw+o.out]
	for e := 0; e < n; e++ {
		row := out[e*o.out : (e+1)*o.out]
		for j := range row {
			v := row[j] + bias[j]
			if o.relu && v < 0 {
				v = 0
			}
			row[j] = v
		}
	}
	return out
}

func (o *denseOp) backward(s *scratch, p, g, in, dout []float32, n int, needIn, acc bool) []float32 {
	nw := o.out * o.in
	dy := dout[:n*o.out]
	if o.relu {
		dy = s.dpre[:n*o.out]
		for j, y := range s.out[:n*o.out] {
			if y > 0 {
				dy[j] = dout[j]
			} else {
				dy[j] = 0
			}
		}
	}
	sgemm(true, false, o.out, o.in, n, dy, o.out, in, o.in, acc, g[:nw], o.in)
	gb := g[nw : nw+o.out]
	if !acc {
		clear(gb)
	}
	for e := 0; e < n; e++ {
		for j, v := range dy[e*o.out : (e+1)*o.out] {
			gb[j] += v
		}
	}
	if !needIn {
		return nil
	}
	din := s.din[:n*o.in]
	sgemm(false, false, n, o.in, o.out, dy, o.out, p[:nw], o.in, false, din, o.in)
	return din
}

// poolOp is a standalone max pooling on NCHW activations.
type poolOp struct {
	c, h, w, q, ph, pw int
}

func (o *poolOp) span() (int, int) { return 0, 0 }

func (o *poolOp) alloc(s *scratch, n int, train bool) {
	s.out = grow(s.out, n*o.c*o.ph*o.pw)
	s.idx = growInt(s.idx, n*o.c*o.ph*o.pw)
	if train {
		s.din = grow(s.din, n*o.c*o.h*o.w)
	}
}

func (o *poolOp) forward(s *scratch, _, in []float32, n int, _ *fwdCtx) []float32 {
	j := 0
	for ch := 0; ch < n*o.c; ch++ {
		base := ch * o.h * o.w
		for py := 0; py < o.ph; py++ {
			for px := 0; px < o.pw; px++ {
				bi := base + py*o.q*o.w + px*o.q
				bv := in[bi]
				for dy := 0; dy < o.q; dy++ {
					for dx := 0; dx < o.q; dx++ {
						i := base + (py*o.q+dy)*o.w + px*o.q + dx
						if in[i] > bv {
							bv, bi = in[i], i
						}
					}
				}
				s.out[j], s.idx[j] = bv, int32(bi)
				j++
			}
		}
	}
	return s.out[:j]
}

func (o *poolOp) backward(s *scratch, _, _, _, dout []float32, n int, needIn, _ bool) []float32 {
	if !needIn {
		return nil
	}
	din := s.din[:n*o.c*o.h*o.w]
	clear(din)
	for j, a := range s.idx[:n*o.c*o.ph*o.pw] {
		din[a] += dout[j]
	}
	return din
}

// reluOp is a standalone ReLU.
type reluOp struct{ size int }

func (o *reluOp) span() (int, int) { return 0, 0 }

func (o *reluOp) alloc(s *scratch, n int, train bool) {
	s.out = grow(s.out, n*o.size)
	if train {
		s.din = grow(s.din, n*o.size)
	}
}

func (o *reluOp) forward(s *scratch, _, in []float32, n int, _ *fwdCtx) []float32 {
	out := s.out[:n*o.size]
	for i, v := range in[:n*o.size] {
		out[i] = max(v, 0)
	}
	return out
}

func (o *reluOp) backward(s *scratch, _, _, _, dout []float32, n int, needIn, _ bool) []float32 {
	if !needIn {
		return nil
	}
	din := s.din[:n*o.size]
	for i, y := range s.out[:n*o.size] {
		if y > 0 {
			din[i] = dout[i]
		} else {
			din[i] = 0
		}
	}
	return din
}

// flattenOp moves no data: NCHW examples are already flat in C, H, W order.
type flattenOp struct{}

func (flattenOp) span() (int, int)                                                { return 0, 0 }
func (flattenOp) alloc(*scratch, int, bool)                                       {}
func (flattenOp) forward(_ *scratch, _, in []float32, _ int, _ *fwdCtx) []float32 { return in }
func (flattenOp) backward(_ *scratch, _, _, _, dout []float32, _ int, _, _ bool) []float32 {
	return dout
}

// dropoutOp is inverted dropout. Masks are drawn per example from the
// batch seed, the op's salt and the example's position in the batch, so
// they do not depend on how a batch is split across workers.
type dropoutOp struct {
	size int
	rate float64
	salt uint64
}

func (o *dropoutOp) span() (int, int) { return 0, 0 }

func (o *dropoutOp) alloc(s *scratch, n int, train bool) {
	if train {
		s.out = grow(s.out, n*o.size)
		s.mask = grow(s.mask, n*o.size)
		s.din = grow(s.din, n*o.size)
	}
}

func (o *dropoutOp) forward(s *scratch, _, in []float32, n int, c *fwdCtx) []float32 {
	if !c.train || o.rate == 0 {
		return in
	}
	scale := float32(1 / (1 - o.rate))
	// A value survives when a uniform 16-bit draw is below thr, so each
	// 64-bit draw decides four values; rate is rounded to a multiple of
	// 2⁻¹⁶ (exact for 0.5).
	thr := uint64(math.Round((1 - o.rate) * (1 << 16)))
	// keep[b] is the multiplier for survival bit b; the bit is the borrow
	// of draw - thr, so no branch depends on the random draw.
	keep := [2]float32{0, scale}
	mask := s.mask[:n*o.size]
	out := s.out[:n*o.size]
	in = in[:n*o.size]
	for e := 0; e < n; e++ {
		c.pcg.Seed(c.seed^o.salt, uint64(c.base+e))
		m := mask[e*o.size : (e+1)*o.size]
		x := in[e*o.size : (e+1)*o.size]
		y := out[e*o.size : (e+1)*o.size]
		j := 0
		for ; j+4 <= len(m); j += 4 {
			r := c.pcg.Uint64()
			m0 := keep[((r&0xffff)-thr)>>63]
			m1 := keep[((r>>16&0xffff)-thr)>>63]
			m2 := keep[((r>>32&0xffff)-thr)>>63]
			m3 := keep[((r>>48)-thr)>>63]
			mm, xx, yy := m[j:j+4], x[j:j+4], y[j:j+4]
			mm[0], mm[1], mm[2], mm[3] = m0, m1, m2, m3
			yy[0], yy[1], yy[2], yy[3] = xx[0]*m0, xx[1]*m1, xx[2]*m2, xx[3]*m3
		}
		if j < len(m) {
			r := c.pcg.Uint64()
			for ; j < len(m); j++ {
				m[j] = keep[((r&0xffff)-thr)>>63]
				y[j] = x[j] * m[j]
				r >>= 16
			}
		}
	}
	return out
}

func (o *dropoutOp) backward(s *scratch, _, _, _, dout []float32, n int, needIn, _ bool) []float32 {
	if !needIn {
		return nil
	}
	if o.rate == 0 {
		return dout
	}
	din := s.din[:n*o.size]
	for i, m := range s.mask[:n*o.size] {
		din[i] = dout[i] * m
	}
	return din
}
