package nn

// convOp is Conv2D with optionally fused ReLU and max pooling.
//
// A micro-batch of n examples is convolved as one GEMM on a transposed im2col
// matrix: col is [kk][n·P] (kk = cin·k·k patch values, P = oh·ow output
// positions per example), so pre = W·col is [cout][n·P] and each
// (channel, example) pre-activation plane is a contiguous oh×ow image. The
// epilogue adds the bias, applies ReLU and pools plane by plane, writing
// NCHW output and, in training, the argmax code of each window. The
// openblas build computes a small first layer directly instead (see
// direct).
//
// With padding (Conv2DSame), forward first copies the input into
// zero-bordered planes (scratch.pad) and every kernel works on those: h, w
// and inSize describe the padded input. backward forms the input gradient
// on the padded planes (scratch.dpad) and crops it. Without padding the
// input is used in place, exactly as before padding existed.
type convOp struct {
	off                int
	cin, h, w, cout, k int
	pad                int // zeros on each side of the input
	rawSize            int // cin·(h-2·pad)·(w-2·pad), the unpadded input
	oh, ow             int
	relu               bool
	pool               int // window; 1 means no pooling
	ph, pw             int // output height and width
	kk                 int // cin·k·k, the patch length
	npos               int // oh·ow
	outSize, inSize    int
	first              bool // no op before it has parameters: no input gradient
	// geom repeats the geometry as int64s for the C kernels of the
	// openblas build (cin, h, w, k, oh, ow, ph, pw, cout, npos, inSize,
	// outSize), so that no per-call struct escapes to the heap.
	geom [12]int64
}

// dcolBlock is the number of examples whose im2col gradient is formed at
// once in backward.
const dcolBlock = 4

func newConvOp(off int, in Shape, filters, k int, relu bool, pool int) *convOp {
	return newPaddedConvOp(off, in, filters, k, 0, relu, pool)
}

// newPaddedConvOp is newConvOp for an input bordered by pad zeros on every
// side.
func newPaddedConvOp(off int, in Shape, filters, k, pad int, relu bool, pool int) *convOp {
	o := &convOp{off: off, cin: in[0], h: in[1] + 2*pad, w: in[2] + 2*pad, cout: filters, k: k, pad: pad, relu: relu, pool: pool}
	o.rawSize = in.Size()
	o.oh, o.ow = o.h-k+1, o.w-k+1
	o.ph, o.pw = o.oh/pool, o.ow/pool
	o.kk = o.cin * k * k
	o.npos = o.oh * o.ow
	o.outSize = o.cout * o.ph * o.pw
	o.inSize = o.cin * o.h * o.w
	for i, v := range []int{o.cin, o.h, o.w, o.k, o.oh, o.ow, o.ph, o.pw, o.cout, o.npos, o.inSize, o.outSize} {
		o.geom[i] = int64(v)
	}
	return o
}

func (o *convOp) span() (int, int) { return o.off, o.cout*o.kk + o.cout }

func (o *convOp) alloc(s *scratch, n int, train bool) {
	if !o.direct() {
		s.col = grow(s.col, n*o.npos*o.kk)
		s.pre = grow(s.pre, n*o.npos*o.cout)
	}
	s.out = grow(s.out, n*o.outSize)
	if o.direct() {
		s.wt = grow(s.wt, o.kk*o.cout)
		if train {
			s.gacc = grow(s.gacc, (o.kk+1)*o.cout)
		}
	}
	if o.pool == 2 {
		s.vm = grow(s.vm, o.ph*o.ow)
		s.vb = growCode(s.vb, o.ph*o.ow)
	}
	if train {
		if o.pool == 2 {
			s.code = growCode(s.code, n*o.outSize)
		} else if o.pool > 1 {
			s.idx = growInt(s.idx, n*o.outSize)
		}
		if !o.first || o.pool != 2 {
			s.dpre = grow(s.dpre, n*o.npos*o.cout)
		}
		if !o.first {
			s.dcol = grow(s.dcol, min(n, dcolBlock)*o.npos*o.kk)
			s.din = grow(s.din, n*o.rawSize)
			if o.pad > 0 {
				s.dpad = grow(s.dpad, n*o.inSize)
			}
		}
	}
	if o.pad > 0 {
		s.pad = grow(s.pad, n*o.inSize)
	}
}

// padInput copies n unpadded examples from in into the middle of
// zero-bordered planes in dst and returns them.
func (o *convOp) padInput(dst, in []float32, n int) []float32 {
	dst = dst[:n*o.inSize]
	p, w := o.pad, o.w
	ih, iw := o.h-2*p, o.w-2*p
	for pl := 0; pl < n*o.cin; pl++ {
		src := in[pl*ih*iw : (pl+1)*ih*iw]
		d := dst[pl*o.h*w : (pl+1)*o.h*w]
		clear(d[:p*w])
		clear(d[(o.h-p)*w:])
		for y := 0; y < ih; y++ {
			row := d[(y+p)*w : (y+p+1)*w]
			clear(row[:p])
			copy(row[p:p+iw], src[y*iw:(y+1)*iw])
			clear(row[p+iw:])
		}
	}
	return dst
}

// cropGrad writes to dst the middle of n padded gradient planes dpad: the
// adjoint of padInput.
func (o *convOp) cropGrad(dst, dpad []float32, n int) []float32 {
	dst = dst[:n*o.rawSize]
	p, w := o.pad, o.w
	ih, iw := o.h-2*p, o.w-2*p
	for pl := 0; pl < n*o.cin; pl++ {
		d := dst[pl*ih*iw : (pl+1)*ih*iw]
		src := dpad[pl*o.h*w : (pl+1)*o.h*w]
		for y := 0; y < ih; y++ {
			copy(d[y*iw:(y+1)*iw], src[(y+p)*w+p:(y+p)*w+p+iw])
		}
	}
	return dst
}

// im2colGo writes the patches of n examples of in to col as a [kk][n·P]
// matrix, rows ordered (channel, ky, kx) like the kernel.
func (o *convOp) im2colGo(col, in []float32, n int) {
	ld := n * o.npos
	hw := o.h * o.w
	ow := o.ow
	for c := 0; c < o.cin; c++ {
		for ky := 0; ky < o.k; ky++ {
			for kx := 0; kx < o.k; kx++ {
				j := (c*o.k+ky)*o.k + kx
				row := col[j*ld : (j+1)*ld]
				for e := 0; e < n; e++ {
					x := in[e*o.inSize+c*hw : e*o.inSize+(c+1)*hw]
					dst := row[e*o.npos : (e+1)*o.npos]
					for oy := 0; oy < o.oh; oy++ {
						src := x[(oy+ky)*o.w+kx : (oy+ky)*o.w+kx+ow]
						copy(dst[oy*ow:(oy+1)*ow], src)
					}
				}
			}
		}
	}
}

// col2imGo sets din to the adjoint of im2col applied to dcol.
func (o *convOp) col2imGo(din, dcol []float32, n int) {
	clear(din)
	ld := n * o.npos
	hw := o.h * o.w
	ow := o.ow
	for c := 0; c < o.cin; c++ {
		for ky := 0; ky < o.k; ky++ {
			for kx := 0; kx < o.k; kx++ {
				j := (c*o.k+ky)*o.k + kx
				row := dcol[j*ld : (j+1)*ld]
				for e := 0; e < n; e++ {
					x := din[e*o.inSize+c*hw : e*o.inSize+(c+1)*hw]
					src := row[e*o.npos : (e+1)*o.npos]
					for oy := 0; oy < o.oh; oy++ {
						d := x[(oy+ky)*o.w+kx : (oy+ky)*o.w+kx+ow]
						r := src[oy*ow : (oy+1)*ow]
						for i := range d {
							d[i] += r[i]
						}
					}
				}
			}
		}
	}
}

func (o *convOp) forward(s *scratch, p, in []float32, n int, c *fwdCtx) []float32 {
	nk := o.cout * o.kk
	wt, bias := p[:nk], p[nk:nk+o.cout]
	ld := n * o.npos
	var code []uint8
	if c.train && o.pool == 2 {
		code = s.code
	}
	if o.pad > 0 {
		in = o.padInput(s.pad, in, n)
	}
	if o.direct() {
		o.convPool2(s, wt, bias, in, code, n)
		return s.out[:n*o.outSize]
	}
	o.im2col(s.col, in, n)
	sgemm(false, false, o.cout, ld, o.kk, wt, o.kk, s.col, ld, false, s.pre, ld)
	if o.pool == 2 {
		o.pool2(s.pre, s.out, code, bias, n, s.vm, s.vb)
		return s.out[:n*o.outSize]
	}
	np := o.ph * o.pw
	for ch := 0; ch < o.cout; ch++ {
		b := bias[ch]
		for e := 0; e < n; e++ {
			plane := s.pre[ch*ld+e*o.npos : ch*ld+(e+1)*o.npos]
			j := e*o.outSize + ch*np
			out := s.out[j : j+np]
			switch {
			case o.pool == 1:
				for i, v := range plane {
					v += b
					if o.relu {
						v = max(v, 0)
					}
					out[i] = v
				}
			case c.train:
				o.poolq(plane, out, s.idx[j:j+np], b)
			default:
				o.poolq(plane, out, nil, b)
			}
		}
	}
	return s.out[:n*o.outSize]
}

// Argmax codes of a 2×2 window: 0..3 for (0,0), (0,1), (1,0), (1,1) and
// cut when ReLU zeroed the output.
const cut = 4

// pool2Go max-pools the [cout][n·P] pre-activations with 2×2 windows,
// adding the bias and applying the ReLU if fused, and writes n NCHW
// examples to out; if code is not nil it records each window's argmax.
func (o *convOp) pool2Go(pre, out []float32, code []uint8, bias []float32, n int) {
	ow, pw := o.ow, o.pw
	ld := n * o.npos
	np := o.ph * pw
	for ch := 0; ch < o.cout; ch++ {
		b := bias[ch]
		for e := 0; e < n; e++ {
			plane := pre[ch*ld+e*o.npos : ch*ld+(e+1)*o.npos]
			j := e*o.outSize + ch*np
			for py := 0; py < o.ph; py++ {
				r0 := plane[2*py*ow : 2*py*ow+ow]
				r1 := plane[(2*py+1)*ow : (2*py+1)*ow+ow]
				orow := out[j+py*pw : j+py*pw+pw]
				for px := range orow {
					a0, a1, a2, a3 := r0[2*px], r0[2*px+1], r1[2*px], r1[2*px+1]
					// Vertical then horizontal: ties go to the top
					// row, then the left column (as the C kernel).
					l, r := max(a0, a2), max(a1, a3)
					m := max(l, r)
					v := m + b
					if o.relu {
						v = max(v, 0)
					}
					orow[px] = v
					if code != nil {
						k := uint8(0)
						if r > l {
							k = 1
							if a3 > a1 {
								k = 3
							}
						} else if a2 > a0 {
							k = 2
						}
						if o.relu && v <= 0 {
							k = cut
						}
						code[j+py*pw+px] = k
					}
				}
			}
		}
	}
}

// sparseGradGo writes (acc: adds) the kernel and bias gradients of a
// convolution with fused 2×2 pooling: each window's gradient dout meets
// only the input patch under its argmax cell.
func (o *convOp) sparseGradGo(in, dout []float32, code []uint8, gw, gb []float32, n int, acc bool) {
	if !acc {
		clear(gw)
		clear(gb)
	}
	k, w, kk := o.k, o.w, o.kk
	hw := o.h * w
	np := o.ph * o.pw
	if k == 3 {
		o.sparseGrad3(in, dout, code, gw, gb, n)
		return
	}
	for e := 0; e < n; e++ {
		x := in[e*o.inSize : (e+1)*o.inSize]
		for ch := 0; ch < o.cout; ch++ {
			j := e*o.outSize + ch*np
			cd, d := code[j:j+np], dout[j:j+np]
			wrow := gw[ch*kk : (ch+1)*kk]
			var bsum float32
			for py := 0; py < o.ph; py++ {
				for px := 0; px < o.pw; px++ {
					c := cd[py*o.pw+px]
					if c == cut {
						continue
					}
					g := d[py*o.pw+px]
					bsum += g
					base := (2*py+int(c>>1))*w + 2*px + int(c&1)
					for ci := 0; ci < o.cin; ci++ {
						for ky := 0; ky < k; ky++ {
							row := x[ci*hw+base+ky*w : ci*hw+base+ky*w+k]
							wk := wrow[(ci*k+ky)*k : (ci*k+ky)*k+k]
							for kx, v := range row {
								wk[kx] += g * v
							}
						}
					}
				}
			}
			gb[ch] += bsum
		}
	}
}

// sparseGrad3 is sparseGradGo for 3×3 kernels, accumulating in registers.
func (o *convOp) sparseGrad3(in, dout []float32, code []uint8, gw, gb []float32, n int) {
	w, hw, np := o.w, o.h*o.w, o.ph*o.pw
	keep := [5]float32{1, 1, 1, 1, 0}
	for e := 0; e < n; e++ {
		for ch := 0; ch < o.cout; ch++ {
			j := e*o.outSize + ch*np
			cd, d := code[j:j+np], dout[j:j+np]
			var bsum float32
			for i, c := range cd {
				bsum += d[i] * keep[c%5]
			}
			gb[ch] += bsum
			for ci := 0; ci < o.cin; ci++ {
				x := in[e*o.inSize+ci*hw : e*o.inSize+(ci+1)*hw]
				var a0, a1, a2, a3, a4, a5, a6, a7, a8 float32
				for py := 0; py < o.ph; py++ {
					for px := 0; px < o.pw; px++ {
						c := cd[py*o.pw+px] % 5
						g := d[py*o.pw+px] * keep[c]
						c &= 3
						base := (2*py+int(c>>1))*w + 2*px + int(c&1)
						r0 := x[base : base+3]
						r1 := x[base+w : base+w+3]
						r2 := x[base+2*w : base+2*w+3]
						a0 += g * r0[0]
						a1 += g * r0[1]
						a2 += g * r0[2]
						a3 += g * r1[0]
						a4 += g * r1[1]
						a5 += g * r1[2]
						a6 += g * r2[0]
						a7 += g * r2[1]
						a8 += g * r2[2]
					}
				}
				wk := gw[(ch*o.cin+ci)*9 : (ch*o.cin+ci)*9+9]
				wk[0] += a0
				wk[1] += a1
				wk[2] += a2
				wk[3] += a3
				wk[4] += a4
				wk[5] += a5
				wk[6] += a6
				wk[7] += a7
				wk[8] += a8
			}
		}
	}
}

// unpool2Go is the adjoint of pool2Go: it sets dpre ([cout][n·P]) to dout
// routed through the recorded argmax codes (zero elsewhere) and writes
// (acc: adds) the per-channel sums, the bias gradient, to gb.
func (o *convOp) unpool2Go(dpre, dout []float32, code []uint8, gb []float32, n int, acc bool) {
	clear(dpre[:n*o.npos*o.cout])
	ld := n * o.npos
	np := o.ph * o.pw
	// Branch-free scatter: offset and keep factor by argmax code (a cut
	// window writes 0 to its first cell).
	offs := [5]int{0, 1, o.ow, o.ow + 1, 0}
	keep := [5]float32{1, 1, 1, 1, 0}
	for ch := 0; ch < o.cout; ch++ {
		var sum float32
		for e := 0; e < n; e++ {
			dplane := dpre[ch*ld+e*o.npos : ch*ld+(e+1)*o.npos]
			j := e*o.outSize + ch*np
			d := dout[j : j+np]
			cd := code[j : j+np]
			for py := 0; py < o.ph; py++ {
				for px := 0; px < o.pw; px++ {
					k := cd[py*o.pw+px] % 5
					v := d[py*o.pw+px] * keep[k]
					dplane[2*py*o.ow+2*px+offs[k]] = v
					sum += v
				}
			}
		}
		if acc {
			gb[ch] += sum
		} else {
			gb[ch] = sum
		}
	}
}

// poolq max-pools one plane with q×q windows; idx receives the argmax
// offset in the plane, or -1 where the ReLU cut.
func (o *convOp) poolq(plane, out []float32, idx []int32, b float32) {
	q, ow, pw := o.pool, o.ow, o.pw
	for py := 0; py < o.ph; py++ {
		for px := 0; px < pw; px++ {
			bi := py*q*ow + px*q
			m := plane[bi]
			for dy := 0; dy < q; dy++ {
				for dx := 0; dx < q; dx++ {
					i := (py*q+dy)*ow + px*q + dx
					if plane[i] > m {
						m, bi = plane[i], i
					}
				}
			}
			v := m + b
			if o.relu && v <= 0 {
				v, bi = 0, -1
			}
			out[py*pw+px] = v
			if idx != nil {
				idx[py*pw+px] = int32(bi)
			}
		}
	}
}

func (o *convOp) backward(s *scratch, p, g, in, dout []float32, n int, needIn, acc bool) []float32 {
	C := o.cout
	nk := C * o.kk
	gw, gb := g[:nk], g[nk:nk+C]
	ld := n * o.npos
	np := o.ph * o.pw
	if o.pad > 0 {
		in = s.pad[:n*o.inSize] // the padded input of the last forward
	}
	if o.pool == 2 && !needIn {
		// First layer: only the kernel gradient is needed, and at most one
		// cell per window has a gradient, so gather it directly from the
		// input instead of forming dpre and multiplying.
		o.sparseGrad(s, in, dout, s.code, gw, gb, n, acc)
		return nil
	}
	dpre := s.dpre[:C*ld]
	switch o.pool {
	case 2:
		o.unpool2(dpre, dout, s.code, gb, n, acc)
	case 1:
		for ch := 0; ch < C; ch++ {
			var sum float32
			for e := 0; e < n; e++ {
				dplane := dpre[ch*ld+e*o.npos : ch*ld+(e+1)*o.npos]
				j := e*o.outSize + ch*np
				out := s.out[j : j+np]
				for i, v := range dout[j : j+np] {
					if o.relu && out[i] <= 0 {
						v = 0
					}
					dplane[i] = v
					sum += v
				}
			}
			if acc {
				gb[ch] += sum
			} else {
				gb[ch] = sum
			}
		}
	default:
		clear(dpre)
		for ch := 0; ch < C; ch++ {
			var sum float32
			for e := 0; e < n; e++ {
				dplane := dpre[ch*ld+e*o.npos : ch*ld+(e+1)*o.npos]
				j := e*o.outSize + ch*np
				d := dout[j : j+np]
				for i, a := range s.idx[j : j+np] {
					if a >= 0 {
						dplane[a] = d[i]
						sum += d[i]
					}
				}
			}
			if acc {
				gb[ch] += sum
			} else {
				gb[ch] = sum
			}
		}
	}
	sgemm(false, true, C, o.kk, ld, dpre, ld, s.col, ld, acc, gw, o.kk)
	if !needIn {
		return nil
	}
	// The input gradient goes through dcol a few examples at a time, so
	// that dcol stays in cache between the product and col2im.
	din := s.din[:n*o.rawSize]
	if o.pad > 0 {
		din = s.dpad[:n*o.inSize]
	}
	for e0 := 0; e0 < n; e0 += dcolBlock {
		nb := min(dcolBlock, n-e0)
		sgemm(true, false, o.kk, nb*o.npos, C, p[:nk], o.kk, dpre[e0*o.npos:], ld, false, s.dcol, nb*o.npos)
		o.col2im(din[e0*o.inSize:], s.dcol, nb)
	}
	if o.pad > 0 {
		return o.cropGrad(s.din, din, n)
	}
	return din
}
