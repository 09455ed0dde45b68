package crypto

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/tuneinsight/lattigo/v5/core/rlwe"
	"github.com/tuneinsight/lattigo/v5/he/hefloat"
	"github.com/tuneinsight/lattigo/v5/ring"
)

// CKKSLiteral is a named CKKS parameter set.
type CKKSLiteral struct {
	// Name is the preset's name, e.g. "logN14".
	Name string
	// Params are the Lattigo parameters. There is no P modulus: nothing in
	// an add-only aggregation needs key switching with a gadget.
	Params hefloat.ParametersLiteral
	// LogQP is the total modulus size, for checking against the HE standard.
	LogQP int
	// MaxLogQP is the HE standard's bound for 128-bit classical security
	// with a ternary secret at this LogN.
	MaxLogQP int
}

// heStandardMaxLogQP gives the HE standard's largest log2(QP) for 128-bit
// security (ternary secret) by LogN.
var heStandardMaxLogQP = map[int]int{12: 109, 13: 218, 14: 438, 15: 881, 16: 1761}

// ckksLogScale is the largest scale (log2) at which owners messages of
// magnitude maxAbs sum below q0/4 with a 60-bit q0, so that CKKS accepts the
// same range as the fixed-point schemes; it stays within [20, 40].
func ckksLogScale(maxAbs float64, owners int) int {
	return min(40, max(20, 58-int(math.Ceil(math.Log2(maxAbs*float64(owners))))))
}

// ckksPreset returns the preset literal for name with nQ primes of 60 bits
// and the default scale 2^logScale.
func ckksPreset(name string, nQ, logScale int) (CKKSLiteral, error) {
	var logN int
	switch name {
	case "13", "14", "15":
		name = "logN" + name
	}
	switch name {
	case "logN13":
		logN = 13
	case "logN14":
		logN = 14
	case "logN15":
		logN = 15
	default:
		return CKKSLiteral{}, fmt.Errorf("unknown CKKS preset %q (have logN13, logN14, logN15)", name)
	}
	logQ := make([]int, nQ)
	for i := range logQ {
		logQ[i] = 60
	}
	return CKKSLiteral{
		Name:     name,
		Params:   hefloat.ParametersLiteral{LogN: logN, LogQ: logQ, LogDefaultScale: logScale},
		LogQP:    60 * nQ,
		MaxLogQP: heStandardMaxLogQP[logN],
	}, nil
}

// ckksCore is what ckks and ckks-threshold share: the packing of an update
// into ciphertexts at one level, their wire format and their addition.
type ckksCore struct {
	params hefloat.Parameters
	level  int        // level of fresh ciphertexts
	slots  int        // values per ciphertext
	values int        // Len+1: the update and its weight
	k      int        // ciphertexts per update
	bound  float64    // largest |value| one owner may send
	scale  rlwe.Scale // scale of fresh ciphertexts
	lift   uint64     // >1: encode at DefaultScale, then multiply by lift (= q1)
}

func newCKKSCore(lit CKKSLiteral, cfg Config) (*ckksCore, error) {
	if lit.LogQP > lit.MaxLogQP {
		return nil, fmt.Errorf("preset %s: logQP %d exceeds %d (128-bit security)", lit.Name, lit.LogQP, lit.MaxLogQP)
	}
	params, err := hefloat.NewParametersFromLiteral(lit.Params)
	if err != nil {
		return nil, fmt.Errorf("preset %s: %w", lit.Name, err)
	}
	c := &ckksCore{params: params, level: params.MaxLevel(), slots: params.MaxSlots(), values: cfg.Len + 1}
	c.k = (c.values + c.slots - 1) / c.slots
	c.scale = params.DefaultScale()
	if c.level > 0 {
		c.lift = params.Q()[c.level]
		c.scale = c.scale.Mul(rlwe.NewScale(c.lift))
	}
	// The sum of Owners messages times the level-0 scale must stay below
	// q0/4, leaving a bit of headroom for noise.
	c.bound = math.Exp2(math.Log2(float64(params.Q()[0]))-2-float64(lit.Params.LogDefaultScale)) / float64(cfg.Owners)
	return c, nil
}

// ctLen is the wire size of one ciphertext (two polynomials) at level.
func (c *ckksCore) ctLen() int { return 2 * (c.level + 1) * c.params.N() * 8 }

// bodyLen is the wire size of a packed update.
func (c *ckksCore) bodyLen() int { return c.k * c.ctLen() }

// putPolys writes polys at level l as little-endian uint64 coefficients.
func putPolys(dst []byte, l int, polys ...ring.Poly) []byte {
	for _, p := range polys {
		for i := 0; i <= l; i++ {
			for _, x := range p.Coeffs[i] {
				dst = binary.LittleEndian.AppendUint64(dst, x)
			}
		}
	}
	return dst
}

// getPolys reads polys at level l from src, checking that every coefficient
// is reduced modulo its prime, and returns the rest of src.
func getPolys(src []byte, moduli []uint64, l int, polys ...ring.Poly) ([]byte, error) {
	need := len(polys) * (l + 1) * len(polys[0].Coeffs[0]) * 8
	if len(src) < need {
		return nil, fmt.Errorf("%w: truncated polynomial data", ErrBadPayload)
	}
	for _, p := range polys {
		for i := 0; i <= l; i++ {
			q := moduli[i]
			co := p.Coeffs[i]
			for j := range co {
				x := binary.LittleEndian.Uint64(src[8*j:])
				if x >= q {
					return nil, fmt.Errorf("%w: coefficient not reduced modulo q%d", ErrBadPayload, i)
				}
				co[j] = x
			}
			src = src[8*len(co):]
		}
	}
	return src, nil
}

// addBodies sets out = a + b coefficient-wise, where the bodies hold
// sequences of polynomials at level l; it checks every input coefficient.
func addBodies(out, a, b []byte, moduli []uint64, l, n int) error {
	segs := len(a) / (8 * n)
	var bad atomic.Bool
	parallelFor(segs, runtime.GOMAXPROCS(0), func(_, s int) {
		q := moduli[s%(l+1)]
		off := s * 8 * n
		as, bs, os := a[off:off+8*n], b[off:off+8*n], out[off:off+8*n]
		var over uint64
		for j := 0; j+8 <= len(as) && j+8 <= len(bs) && j+8 <= len(os); j += 8 {
			x, y := binary.LittleEndian.Uint64(as[j:j+8]), binary.LittleEndian.Uint64(bs[j:j+8])
			// Branch-free: q < 2^61, so x+y-q < 2^62 and its sign
			// says whether to add q back; an unreduced input sets a high
			// bit of over.
			over |= (q - 1 - x) | (q - 1 - y) | (x|y)>>61<<63
			z := x + y - q
			z += q & uint64(int64(z)>>63)
			binary.LittleEndian.PutUint64(os[j:j+8], z)
		}
		if over>>63 != 0 {
			bad.Store(true)
		}
	})
	if bad.Load() {
		return fmt.Errorf("%w: coefficient not reduced modulo its prime", ErrBadPayload)
	}
	return nil
}

// parallelFor calls f(worker, i) for i in [0, n) on up to workers goroutines.
func parallelFor(n, workers int, f func(worker, i int)) {
	workers = max(1, min(workers, n))
	if workers == 1 {
		for i := 0; i < n; i++ {
			f(0, i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(w, i)
			}
		}()
	}
	wg.Wait()
}

// workers is the number of goroutines for k ciphertexts.
func (c *ckksCore) workers() int { return max(1, min(runtime.GOMAXPROCS(0), c.k)) }

// encryptors holds, per worker, an encoder, samplers driven by a ChaCha8
// stream keyed from the caller's entropy source, and buffers. Encryption
// under the public key (u*pk + (m+e0, e1), no P modulus) is done here
// rather than by rlwe.Encryptor so that the randomness comes from that
// stream: Lattigo's own blake2b PRNG cost a sixth of the time.
type encryptors struct {
	pk  *rlwe.PublicKey
	ecd []*hefloat.Encoder
	rng []*mrand.ChaCha8 // for u, uniform ternary
	xe  []ring.Sampler   // Gaussian, for e0 and e1
	pt  []*rlwe.Plaintext
	u   []ring.Poly
	e   []ring.Poly
	ct  []*rlwe.Ciphertext
	buf [][]float64
}

func (c *ckksCore) newEncryptors(pk *rlwe.PublicKey, rand io.Reader) (*encryptors, error) {
	e := &encryptors{pk: pk}
	ecd := hefloat.NewEncoder(c.params, 53)
	ringQ := c.params.RingQ()
	for w := 0; w < c.workers(); w++ {
		var seed [32]byte
		if _, err := io.ReadFull(rand, seed[:]); err != nil {
			return nil, fmt.Errorf("seeding encryption randomness: %w", err)
		}
		prng := mrand.NewChaCha8(seed)
		if xs, ok := c.params.Xs().(ring.Ternary); !ok || xs.P != 2/3.0 {
			return nil, fmt.Errorf("secret distribution %v is not uniform ternary", c.params.Xs())
		}
		xe, err := ring.NewSampler(prng, ringQ, c.params.Xe(), false)
		if err != nil {
			return nil, err
		}
		if w > 0 {
			ecd = ecd.ShallowCopy()
		}
		pt := hefloat.NewPlaintext(c.params, c.level)
		pt.IsNTT = false
		e.ecd, e.rng, e.xe, e.pt = append(e.ecd, ecd), append(e.rng, prng), append(e.xe, xe), append(e.pt, pt)
		e.u, e.e = append(e.u, ringQ.AtLevel(c.level).NewPoly()), append(e.e, ringQ.AtLevel(c.level).NewPoly())
		e.ct = append(e.ct, hefloat.NewCiphertext(c.params, 1, c.level))
		e.buf = append(e.buf, make([]float64, c.slots))
	}
	return e, nil
}

// encrypt checks the bound and packs v (length values) into k ciphertexts,
// written as one body into out.
func (c *ckksCore) encrypt(e *encryptors, v []float64, out []byte) error {
	for i, x := range v {
		if !(math.Abs(x) <= c.bound) {
			return fmt.Errorf("%w: value %d: |%g| > %g (ckks message bound for this many owners)", ErrOutOfRange, i, x, c.bound)
		}
	}
	errs := make([]error, c.k)
	ringQ := c.params.RingQ().AtLevel(c.level)
	pk0, pk1 := e.pk.Value[0].Q, e.pk.Value[1].Q
	parallelFor(c.k, len(e.ecd), func(w, i int) {
		buf := e.buf[w]
		clear(buf)
		copy(buf, v[i*c.slots:min(len(v), (i+1)*c.slots)])
		pt := e.pt[w]
		pt.Scale = c.params.DefaultScale()
		if err := e.ecd[w].Encode(buf, pt); err != nil {
			errs[i] = err
			return
		}
		if c.lift > 1 {
			ringQ.MulScalar(pt.Value, c.lift, pt.Value)
		}
		u, ee, ct := e.u[w], e.e[w], e.ct[w]
		sampleTernary(e.rng[w], u, c.params.Q()[:c.level+1])
		ringQ.NTT(u, u)
		ringQ.MulCoeffsMontgomery(u, pk0, ct.Value[0])
		ringQ.MulCoeffsMontgomery(u, pk1, ct.Value[1])
		e.xe[w].AtLevel(c.level).Read(ee)
		ringQ.Add(ee, pt.Value, ee)
		ringQ.NTT(ee, ee)
		ringQ.Add(ct.Value[0], ee, ct.Value[0])
		e.xe[w].AtLevel(c.level).Read(ee)
		ringQ.NTT(ee, ee)
		ringQ.Add(ct.Value[1], ee, ct.Value[1])
		putPolys(out[i*c.ctLen():i*c.ctLen()], c.level, ct.Value[0], ct.Value[1])
	})
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("encrypting: %w", err)
		}
	}
	return nil
}

// sampleTernary fills p with coefficients drawn uniformly from {-1, 0, 1}
// (Lattigo's Ternary{P: 2/3}): each random byte below 243 = 3^5 yields five
// independent uniform trits.
func sampleTernary(r *mrand.ChaCha8, p ring.Poly, moduli []uint64) {
	n := p.N()
	i := 0
	for i < n {
		x := r.Uint64()
		for k := 0; k < 8 && i < n; k, x = k+1, x>>8 {
			b := uint8(x)
			if b >= 243 {
				continue
			}
			for t := 0; t < 5 && i < n; t, b = t+1, b/3 {
				d := uint64(b % 3) // 0, 1, 2 stand for 0, 1, -1
				for l, q := range moduli {
					p.Coeffs[l][i] = d&1 + (q-1)&-(d>>1)
				}
				i++
			}
		}
	}
}

// ciphertexts decodes a body of k ciphertexts at level, checking coefficients.
func (c *ckksCore) ciphertexts(body []byte) ([]*rlwe.Ciphertext, error) {
	return c.ciphertextsInto(nil, body)
}

// ciphertextsInto is ciphertexts reusing cts (k ciphertexts at level, as
// returned by an earlier call) when it is not nil.
func (c *ckksCore) ciphertextsInto(cts []*rlwe.Ciphertext, body []byte) ([]*rlwe.Ciphertext, error) {
	if len(cts) != c.k {
		cts = make([]*rlwe.Ciphertext, c.k)
	}
	var err error
	for i := range cts {
		ct := cts[i]
		if ct == nil || ct.Level() != c.level {
			ct = hefloat.NewCiphertext(c.params, 1, c.level)
		}
		ct.Scale = c.scale
		if body, err = getPolys(body, c.params.Q(), c.level, ct.Value[0], ct.Value[1]); err != nil {
			return nil, err
		}
		cts[i] = ct
	}
	return cts, nil
}

// decryptors holds one encoder, decryptor and evaluator per worker.
type decryptors struct {
	ecd []*hefloat.Encoder
	dec []*rlwe.Decryptor
	evl []*hefloat.Evaluator
	pt  []*rlwe.Plaintext
	cts []*rlwe.Ciphertext // reused by the revealer
}

func (c *ckksCore) newDecryptors(sk *rlwe.SecretKey) *decryptors {
	d := &decryptors{}
	ecd := hefloat.NewEncoder(c.params, 53)
	dec := rlwe.NewDecryptor(c.params, sk)
	evl := hefloat.NewEvaluator(c.params, nil)
	for w := 0; w < c.workers(); w++ {
		if w > 0 {
			ecd, dec, evl = ecd.ShallowCopy(), dec.ShallowCopy(), evl.ShallowCopy()
		}
		d.ecd, d.dec, d.evl = append(d.ecd, ecd), append(d.dec, dec), append(d.evl, evl)
		d.pt = append(d.pt, hefloat.NewPlaintext(c.params, 0))
	}
	return d
}

// decrypt rescales each ciphertext to level 0 if needed, decrypts and
// decodes it, and returns the first values values. It modifies cts.
func (c *ckksCore) decrypt(d *decryptors, cts []*rlwe.Ciphertext) ([]float64, error) {
	out := make([]float64, c.k*c.slots)
	errs := make([]error, c.k)
	parallelFor(c.k, len(d.dec), func(w, i int) {
		ct := cts[i]
		for ct.Level() > 0 {
			if err := d.evl[w].Rescale(ct, ct); err != nil {
				errs[i] = err
				return
			}
		}
		pt := d.pt[w]
		d.dec[w].Decrypt(ct, pt)
		errs[i] = d.ecd[w].Decode(pt, out[i*c.slots:(i+1)*c.slots])
	})
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("decrypting: %w", err)
		}
	}
	return out[:c.values], nil
}
