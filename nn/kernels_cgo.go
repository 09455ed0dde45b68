//go:build openblas

package nn

/*
#cgo CFLAGS: -O3
#include <stdint.h>
#include <string.h>

// The openblas build, which needs cgo anyway, runs the convolution's
// data-movement kernels in C: gcc vectorises them, and target_clones picks
// an AVX2 version at load time where the CPU has it. Each mirrors the Go
// kernel of the same name in conv.go (and is tested against it).

typedef struct {
	int64_t cin, h, w, k, oh, ow, ph, pw, cout, npos, in_size, out_size;
} geom;

__attribute__((target_clones("avx2", "default")))
void nn_im2col(const geom *g, float *col, const float *in, int64_t n) {
	int64_t ld = n * g->npos, hw = g->h * g->w;
	for (int64_t c = 0; c < g->cin; c++)
	for (int64_t ky = 0; ky < g->k; ky++)
	for (int64_t kx = 0; kx < g->k; kx++) {
		float *row = col + ((c * g->k + ky) * g->k + kx) * ld;
		for (int64_t e = 0; e < n; e++) {
			const float *x = in + e * g->in_size + c * hw;
			float *dst = row + e * g->npos;
			for (int64_t oy = 0; oy < g->oh; oy++) {
				// An inline loop: rows are too short for a memcpy call.
				float *restrict d = dst + oy * g->ow;
				const float *restrict r = x + (oy + ky) * g->w + kx;
				for (int64_t i = 0; i < g->ow; i++)
					d[i] = r[i];
			}
		}
	}
}

// nn_col2im visits the k shifted rows that add into one din row one after
// another, while that row is in L1.
__attribute__((target_clones("avx2", "default")))
void nn_col2im(const geom *g, float *din, const float *dcol, int64_t n) {
	int64_t ld = n * g->npos, hw = g->h * g->w, k = g->k, ow = g->ow;
	memset(din, 0, n * g->in_size * sizeof(float));
	for (int64_t c = 0; c < g->cin; c++)
	for (int64_t ky = 0; ky < k; ky++)
	for (int64_t e = 0; e < n; e++) {
		float *x = din + e * g->in_size + c * hw;
		for (int64_t oy = 0; oy < g->oh; oy++) {
			float *drow = x + (oy + ky) * g->w;
			for (int64_t kx = 0; kx < k; kx++) {
				const float *restrict r = dcol + ((c * k + ky) * k + kx) * ld + e * g->npos + oy * ow;
				float *restrict d = drow + kx;
				for (int64_t i = 0; i < ow; i++)
					d[i] += r[i];
			}
		}
	}
}

// nn_pool2 pools each (channel, example) plane in two vectorisable
// passes: a vertical max over row pairs into vm (with the winning row in
// vb), then a horizontal max over column pairs. The argmax rule (ties go
// to the top row, then the left column) matches pool2Go.
__attribute__((target_clones("avx2", "default")))
void nn_pool2(const geom *g, const float *pre, float *out, uint8_t *code,
		const float *bias, int relu, int64_t n, float *vm, uint8_t *vb) {
	int64_t ld = n * g->npos, np = g->ph * g->pw, ow = g->ow, pw = g->pw, ph = g->ph;
	for (int64_t ch = 0; ch < g->cout; ch++) {
		float b = bias[ch];
		for (int64_t e = 0; e < n; e++) {
			const float *plane = pre + ch * ld + e * g->npos;
			int64_t j = e * g->out_size + ch * np;
			for (int64_t py = 0; py < ph; py++) {
				const float *restrict r0 = plane + 2 * py * ow, *restrict r1 = r0 + ow;
				float *restrict m = vm + py * ow;
				uint8_t *restrict bits = vb + py * ow;
				for (int64_t x = 0; x < ow; x++) {
					float a = r0[x], c = r1[x];
					m[x] = c > a ? c : a;
					bits[x] = c > a;
				}
			}
			for (int64_t py = 0; py < ph; py++) {
				const float *restrict m = vm + py * ow;
				const uint8_t *restrict bits = vb + py * ow;
				float *restrict o = out + j + py * pw;
				uint8_t *restrict cd = code ? code + j + py * pw : 0;
				if (cd) {
					for (int64_t px = 0; px < pw; px++) {
						// Arithmetic rather than ?: on ints so that gcc
						// emits no branches.
						float l = m[2 * px], r = m[2 * px + 1];
						int h = r > l;
						float v = (r > l ? r : l) + b;
						int k = h + 2 * bits[2 * px + h];
						if (relu) {
							int pos = v > 0;
							k = pos * k + (1 - pos) * 4;
							v = v > 0 ? v : 0;
						}
						o[px] = v;
						cd[px] = (uint8_t)k;
					}
				} else {
					for (int64_t px = 0; px < pw; px++) {
						float l = m[2 * px], r = m[2 * px + 1];
						float v = (r > l ? r : l) + b;
						if (relu)
							v = v > 0 ? v : 0;
						o[px] = v;
					}
				}
			}
		}
	}
}

__attribute__((target_clones("avx2", "default")))
void nn_unpool2(const geom *g, float *dpre, const float *dout, const uint8_t *code,
		float *gb, int64_t n, int acc) {
	int64_t ld = n * g->npos, np = g->ph * g->pw, ow = g->ow, pw = g->pw;
	memset(dpre, 0, g->cout * ld * sizeof(float));
	const int64_t offs[5] = {0, 1, ow, ow + 1, 0};
	const float keep[5] = {1, 1, 1, 1, 0};
	for (int64_t ch = 0; ch < g->cout; ch++) {
		float sum = 0;
		for (int64_t e = 0; e < n; e++) {
			float *dplane = dpre + ch * ld + e * g->npos;
			int64_t j = e * g->out_size + ch * np;
			for (int64_t py = 0; py < g->ph; py++)
			for (int64_t px = 0; px < pw; px++) {
				uint8_t k = code[j + py * pw + px] % 5;
				float v = dout[j + py * pw + px] * keep[k];
				dplane[2 * py * ow + 2 * px + offs[k]] = v;
				sum += v;
			}
		}
		gb[ch] = acc ? gb[ch] + sum : sum;
	}
}
__attribute__((target_clones("avx2", "default")))
void nn_sparse_grad(const geom *g, const float *in, const float *dout, const uint8_t *code,
		float *gw, float *gb, int64_t n, int acc) {
	int64_t k = g->k, w = g->w, kk = g->cin * k * k, hw = g->h * w, np = g->ph * g->pw;
	if (!acc) {
		memset(gw, 0, g->cout * kk * sizeof(float));
		memset(gb, 0, g->cout * sizeof(float));
	}
	if (k == 3) {
		// Nine register accumulators per input channel; a cut window
		// contributes zero instead of branching.
		for (int64_t e = 0; e < n; e++)
		for (int64_t ch = 0; ch < g->cout; ch++) {
			int64_t j = e * g->out_size + ch * np;
			float bsum = 0;
			for (int64_t i = 0; i < np; i++) {
				float gr = dout[j + i];
				bsum += code[j + i] == 4 ? 0 : gr;
			}
			gb[ch] += bsum;
			for (int64_t ci = 0; ci < g->cin; ci++) {
				const float *x = in + e * g->in_size + ci * hw;
				float a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0, a8 = 0;
				for (int64_t py = 0; py < g->ph; py++)
				for (int64_t px = 0; px < g->pw; px++) {
					int c = code[j + py * g->pw + px];
					float gr = dout[j + py * g->pw + px];
					gr = c == 4 ? 0 : gr;
					c &= 3;
					const float *b = x + (2 * py + (c >> 1)) * w + 2 * px + (c & 1);
					a0 += gr * b[0]; a1 += gr * b[1]; a2 += gr * b[2];
					a3 += gr * b[w]; a4 += gr * b[w + 1]; a5 += gr * b[w + 2];
					a6 += gr * b[2 * w]; a7 += gr * b[2 * w + 1]; a8 += gr * b[2 * w + 2];
				}
				float *wk = gw + ch * kk + ci * 9;
				wk[0] += a0; wk[1] += a1; wk[2] += a2;
				wk[3] += a3; wk[4] += a4; wk[5] += a5;
				wk[6] += a6; wk[7] += a7; wk[8] += a8;
			}
		}
		return;
	}
	for (int64_t e = 0; e < n; e++) {
		const float *x = in + e * g->in_size;
		for (int64_t ch = 0; ch < g->cout; ch++) {
			int64_t j = e * g->out_size + ch * np;
			float *restrict wrow = gw + ch * kk;
			float bsum = 0;
			for (int64_t py = 0; py < g->ph; py++)
			for (int64_t px = 0; px < g->pw; px++) {
				int c = code[j + py * g->pw + px];
				if (c == 4)
					continue;
				float gr = dout[j + py * g->pw + px];
				bsum += gr;
				const float *base = x + (2 * py + (c >> 1)) * w + 2 * px + (c & 1);
				for (int64_t ci = 0; ci < g->cin; ci++)
				for (int64_t ky = 0; ky < k; ky++) {
					const float *row = base + ci * hw + ky * w;
					float *wk = wrow + (ci * k + ky) * k;
					for (int64_t kx = 0; kx < k; kx++)
						wk[kx] += gr * row[kx];
				}
			}
			gb[ch] += bsum;
		}
	}
}
// conv_pool2_window accumulates the pre-activations of one 2×2 window's
// four positions for CC channels (vectorised over channels, kernel
// transposed to wt [kk][CC]) and pools them with the argmax rule of
// nn_pool2. With CC a constant the accumulators live in registers.
static inline __attribute__((always_inline)) void conv_pool2_window(const geom *g,
		const float *x, const float *wt, const float *bias, float *out, uint8_t *code,
		int relu, int64_t py, int64_t px, int64_t o, const int64_t CC) {
	int64_t k = g->k, w = g->w, hw = g->h * g->w, np = g->ph * g->pw;
	float a0[CC], a1[CC], a2[CC], a3[CC];
	for (int64_t c = 0; c < CC; c++)
		a0[c] = a1[c] = a2[c] = a3[c] = 0;
	for (int64_t ci = 0; ci < g->cin; ci++)
	for (int64_t ky = 0; ky < k; ky++)
	for (int64_t kx = 0; kx < k; kx++) {
		const float *restrict wr = wt + ((ci * k + ky) * k + kx) * CC;
		const float *p = x + ci * hw + (2 * py + ky) * w + 2 * px + kx;
		float x00 = p[0], x01 = p[1], x10 = p[w], x11 = p[w + 1];
		for (int64_t c = 0; c < CC; c++) {
			float wv = wr[c];
			a0[c] += x00 * wv;
			a1[c] += x01 * wv;
			a2[c] += x10 * wv;
			a3[c] += x11 * wv;
		}
	}
	float v[CC];
	int32_t kc[CC];
	float fb = relu ? 0 : -__builtin_inff();
	for (int64_t c = 0; c < CC; c++) {
		// Left column (0,0)/(1,0), right column (0,1)/(1,1); integer
		// arithmetic on 32-bit lanes so that the loop vectorises.
		int32_t bl = a2[c] > a0[c], br = a3[c] > a1[c];
		float l = a2[c] > a0[c] ? a2[c] : a0[c];
		float r = a3[c] > a1[c] ? a3[c] : a1[c];
		int32_t h = r > l;
		float vv = (r > l ? r : l) + bias[c];
		int32_t kk = h + 2 * (bl + h * (br - bl));
		int32_t pos = vv > fb;
		kc[c] = pos * kk + (1 - pos) * 4;
		v[c] = vv > fb ? vv : 0;
	}
	for (int64_t c = 0; c < CC; c++)
		out[o + c * np] = v[c];
	if (code)
		for (int64_t c = 0; c < CC; c++)
			code[o + c * np] = (uint8_t)kc[c];
}

// nn_conv_pool2 computes a small first-layer convolution directly, with
// bias, ReLU and 2×2 pooling fused, storing no pre-activations.
__attribute__((target_clones("avx512f", "avx2", "default")))
void nn_conv_pool2(const geom *g, const float *in, const float *wt, const float *bias,
		float *out, uint8_t *code, int relu, int64_t n) {
	for (int64_t e = 0; e < n; e++) {
		const float *x = in + e * g->in_size;
		for (int64_t py = 0; py < g->ph; py++)
		for (int64_t px = 0; px < g->pw; px++) {
			int64_t o = e * g->out_size + py * g->pw + px;
			if (g->cout == 32)
				conv_pool2_window(g, x, wt, bias, out, code, relu, py, px, o, 32);
			else if (g->cout == 16)
				conv_pool2_window(g, x, wt, bias, out, code, relu, py, px, o, 16);
			else
				conv_pool2_window(g, x, wt, bias, out, code, relu, py, px, o, g->cout);
		}
	}
}
// sparse_grad_window adds one window's contribution to the transposed
// kernel gradient acc [kk][CC] and the bias gradient bacc, vectorised over
// channels: G[pos][c] is channel c's window gradient if its argmax is pos.
static inline __attribute__((always_inline)) void sparse_grad_window(const geom *g,
		const float *x, const float *dout, const uint8_t *code, float *restrict acc,
		float *restrict bacc, int64_t py, int64_t px, int64_t o, const int64_t CC) {
	int64_t k = g->k, w = g->w, hw = g->h * g->w, np = g->ph * g->pw;
	float G0[CC], G1[CC], G2[CC], G3[CC];
	for (int64_t c = 0; c < CC; c++) {
		int32_t kc = code[o + c * np];
		float gv = dout[o + c * np];
		G0[c] = kc == 0 ? gv : 0;
		G1[c] = kc == 1 ? gv : 0;
		G2[c] = kc == 2 ? gv : 0;
		G3[c] = kc == 3 ? gv : 0;
		bacc[c] += kc < 4 ? gv : 0;
	}
	for (int64_t ci = 0; ci < g->cin; ci++)
	for (int64_t ky = 0; ky < k; ky++)
	for (int64_t kx = 0; kx < k; kx++) {
		const float *p = x + ci * hw + (2 * py + ky) * w + 2 * px + kx;
		float p00 = p[0], p01 = p[1], p10 = p[w], p11 = p[w + 1];
		float *restrict aj = acc + ((ci * k + ky) * k + kx) * CC;
		for (int64_t c = 0; c < CC; c++)
			aj[c] += p00 * G0[c] + p01 * G1[c] + p10 * G2[c] + p11 * G3[c];
	}
}

// nn_sparse_grad_direct is nn_sparse_grad for the layers nn_conv_pool2
// serves, vectorised over channels; acc needs (kk+1)·cout floats.
__attribute__((target_clones("avx512f", "avx2", "default")))
void nn_sparse_grad_direct(const geom *g, const float *in, const float *dout, const uint8_t *code,
		float *gw, float *gb, int64_t n, int acc_out, float *acc) {
	int64_t C = g->cout, kk = g->cin * g->k * g->k;
	float *bacc = acc + kk * C;
	memset(acc, 0, (kk + 1) * C * sizeof(float));
	for (int64_t e = 0; e < n; e++) {
		const float *x = in + e * g->in_size;
		for (int64_t py = 0; py < g->ph; py++)
		for (int64_t px = 0; px < g->pw; px++) {
			int64_t o = e * g->out_size + py * g->pw + px;
			if (C == 32)
				sparse_grad_window(g, x, dout, code, acc, bacc, py, px, o, 32);
			else if (C == 16)
				sparse_grad_window(g, x, dout, code, acc, bacc, py, px, o, 16);
			else
				sparse_grad_window(g, x, dout, code, acc, bacc, py, px, o, C);
		}
	}
	for (int64_t c = 0; c < C; c++) {
		for (int64_t j = 0; j < kk; j++)
			gw[c * kk + j] = acc_out ? gw[c * kk + j] + acc[j * C + c] : acc[j * C + c];
		gb[c] = acc_out ? gb[c] + bacc[c] : bacc[c];
	}
}
*/
import "C"

import "unsafe"

// cgeom returns o's geometry in the C layout.
func (o *convOp) cgeom() *C.geom { return (*C.geom)(unsafe.Pointer(&o.geom)) }

func fptr(s []float32) *C.float { return (*C.float)(unsafe.Pointer(unsafe.SliceData(s))) }

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

func (o *convOp) im2col(col, in []float32, n int) {
	_, _ = col[n*o.npos*o.kk-1], in[n*o.inSize-1]
	C.nn_im2col(o.cgeom(), fptr(col), fptr(in), C.int64_t(n))
}

func (o *convOp) col2im(din, dcol []float32, n int) {
	_, _ = din[n*o.inSize-1], dcol[n*o.npos*o.kk-1]
	C.nn_col2im(o.cgeom(), fptr(din), fptr(dcol), C.int64_t(n))
}

func (o *convOp) pool2(pre, out []float32, code []uint8, bias []float32, n int, vm []float32, vb []uint8) {
	_, _, _ = pre[n*o.npos*o.cout-1], out[n*o.outSize-1], bias[o.cout-1]
	_, _ = vm[o.ph*o.ow-1], vb[o.ph*o.ow-1]
	var cp *C.uint8_t
	if code != nil {
		_ = code[n*o.outSize-1]
		cp = (*C.uint8_t)(unsafe.SliceData(code))
	}
	C.nn_pool2(o.cgeom(), fptr(pre), fptr(out), cp, fptr(bias), cbool(o.relu), C.int64_t(n),
		fptr(vm), (*C.uint8_t)(unsafe.SliceData(vb)))
}

func (o *convOp) unpool2(dpre, dout []float32, code []uint8, gb []float32, n int, acc bool) {
	_, _, _, _ = dpre[n*o.npos*o.cout-1], dout[n*o.outSize-1], code[n*o.outSize-1], gb[o.cout-1]
	C.nn_unpool2(o.cgeom(), fptr(dpre), fptr(dout), (*C.uint8_t)(unsafe.SliceData(code)), fptr(gb), C.int64_t(n), cbool(acc))
}

func (o *convOp) sparseGrad(s *scratch, in, dout []float32, code []uint8, gw, gb []float32, n int, acc bool) {
	_, _, _ = in[n*o.inSize-1], dout[n*o.outSize-1], code[n*o.outSize-1]
	_, _ = gw[o.cout*o.kk-1], gb[o.cout-1]
	if o.direct() {
		_ = s.gacc[(o.kk+1)*o.cout-1]
		C.nn_sparse_grad_direct(o.cgeom(), fptr(in), fptr(dout), (*C.uint8_t)(unsafe.SliceData(code)),
			fptr(gw), fptr(gb), C.int64_t(n), cbool(acc), fptr(s.gacc))
		return
	}
	C.nn_sparse_grad(o.cgeom(), fptr(in), fptr(dout), (*C.uint8_t)(unsafe.SliceData(code)),
		fptr(gw), fptr(gb), C.int64_t(n), cbool(acc))
}

// direct reports whether forward uses nn_conv_pool2: for a first layer
// with 2×2 pooling and a short patch (few input channels), where a matrix
// product with inner dimension kk would be memory-bound.
func (o *convOp) direct() bool { return o.first && o.pool == 2 && o.kk <= 32 && o.cout <= 256 }

func (o *convOp) convPool2(s *scratch, wt, bias, in []float32, code []uint8, n int) {
	_, _, _ = wt[o.cout*o.kk-1], bias[o.cout-1], in[n*o.inSize-1]
	t := s.wt[:o.kk*o.cout]
	for c := 0; c < o.cout; c++ {
		for j := 0; j < o.kk; j++ {
			t[j*o.cout+c] = wt[c*o.kk+j]
		}
	}
	out := s.out[:n*o.outSize]
	var cp *C.uint8_t
	if code != nil {
		_ = code[n*o.outSize-1]
		cp = (*C.uint8_t)(unsafe.SliceData(code))
	}
	C.nn_conv_pool2(o.cgeom(), fptr(in), fptr(t), fptr(bias), fptr(out), cp, cbool(o.relu), C.int64_t(n))
}
