package crypto

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
)

// fieldP is the Mersenne prime 2^61-1; Shamir shares (ss with a threshold,
// secagg's key shares) live in GF(fieldP).
const fieldP = 1<<61 - 1

// fAdd returns a+b mod p for a, b < p.
func fAdd(a, b uint64) uint64 {
	c := a + b
	if c >= fieldP {
		c -= fieldP
	}
	return c
}

// fSub returns a-b mod p for a, b < p.
func fSub(a, b uint64) uint64 {
	if a >= b {
		return a - b
	}
	return a + fieldP - b
}

// fMul returns a*b mod p for a, b < p. Since 2^61 = 1 mod p, the 122-bit
// product folds into its low 61 bits plus the bits above.
func fMul(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	c := lo&fieldP + (lo>>61 | hi<<3)
	if c >= fieldP {
		c -= fieldP
	}
	return c
}

// fInv returns a^-1 mod p (a^(p-2)) for 0 < a < p.
func fInv(a uint64) uint64 {
	r, e := uint64(1), uint64(fieldP-2)
	for ; e > 0; e >>= 1 {
		if e&1 == 1 {
			r = fMul(r, a)
		}
		a = fMul(a, a)
	}
	return r
}

// fromSigned maps v to v mod p.
func fromSigned(v int64) uint64 {
	r := v % fieldP
	if r < 0 {
		r += fieldP
	}
	return uint64(r)
}

// toSigned maps x < p to the representative in (-p/2, p/2].
func toSigned(x uint64) int64 {
	if x > fieldP/2 {
		return int64(x) - fieldP
	}
	return int64(x)
}

// fieldElem draws a uniform element of GF(p) from g by rejection.
func fieldElem(g *rand.ChaCha8) uint64 {
	for {
		if x := g.Uint64() >> 3; x < fieldP {
			return x
		}
	}
}

// lagrange returns the coefficients l_k such that f(at) = sum_k l_k f(xs[k])
// for every polynomial f of degree below len(xs). The xs must be distinct
// and below p.
func lagrange(xs []uint64, at uint64) ([]uint64, error) {
	l := make([]uint64, len(xs))
	for k, xk := range xs {
		if xk >= fieldP {
			return nil, fmt.Errorf("%w: x coordinate %d outside the field", ErrBadPayload, xk)
		}
		num, den := uint64(1), uint64(1)
		for j, xj := range xs {
			if j == k {
				continue
			}
			if xj == xk {
				return nil, fmt.Errorf("%w: two shares at x = %d", ErrMismatch, xk)
			}
			num = fMul(num, fSub(at, xj))
			den = fMul(den, fSub(xk, xj))
		}
		l[k] = fMul(num, fInv(den))
	}
	return l, nil
}

// shamirSplit shares each element of secret (all below p) with a fresh
// random polynomial of degree t-1 and returns the shares at xs: shares[h][i]
// is f_i(xs[h]). The coefficients come from a ChaCha8 stream keyed from rand.
func shamirSplit(secret []uint64, t int, xs []uint64, rnd io.Reader) ([][]uint64, error) {
	if t < 1 {
		return nil, fmt.Errorf("shamir threshold %d < 1", t)
	}
	var seed [32]byte
	if _, err := io.ReadFull(rnd, seed[:]); err != nil {
		return nil, fmt.Errorf("seeding shamir polynomials: %w", err)
	}
	g := rand.NewChaCha8(seed)
	clear(seed[:])
	shares := make([][]uint64, len(xs))
	for h := range shares {
		shares[h] = make([]uint64, len(secret))
	}
	coef := make([]uint64, t)
	for i, s := range secret {
		coef[0] = s
		for j := 1; j < t; j++ {
			coef[j] = fieldElem(g)
		}
		for h, x := range xs {
			// Horner's rule.
			y := uint64(0)
			for j := t - 1; j >= 0; j-- {
				y = fAdd(fMul(y, x), coef[j])
			}
			shares[h][i] = y
		}
	}
	clear(coef)
	return shares, nil
}

// shamirCombine interpolates at 0 from shares ys[k] taken at xs[k]: any t
// shares of a degree t-1 sharing give the secret. Every share must have
// the same length.
func shamirCombine(xs []uint64, ys [][]uint64) ([]uint64, error) {
	l, err := lagrange(xs, 0)
	if err != nil {
		return nil, err
	}
	out := make([]uint64, len(ys[0]))
	for k, y := range ys {
		for i := range out {
			out[i] = fAdd(out[i], fMul(l[k], y[i]))
		}
	}
	return out, nil
}

// pack32 splits 32 secret bytes into 5 field elements of 7, 7, 7, 7 and 4
// bytes.
func pack32(b []byte) []uint64 {
	out := make([]uint64, 5)
	var buf [8]byte
	for i := range out {
		clear(buf[:])
		copy(buf[:], b[7*i:min(len(b), 7*i+7)])
		out[i] = binary.LittleEndian.Uint64(buf[:])
	}
	return out
}

// unpack32 inverts pack32, rejecting elements too large to come from it.
func unpack32(v []uint64) ([]byte, error) {
	out := make([]byte, 0, 40)
	for i, x := range v {
		if x>>56 != 0 || i == 4 && x>>32 != 0 {
			return nil, fmt.Errorf("%w: reconstructed secret element %d out of range", ErrMismatch, i)
		}
		out = binary.LittleEndian.AppendUint64(out, x)[:7*(i+1)]
	}
	return out[:32], nil
}
