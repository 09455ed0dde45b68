package crypto

import (
	"crypto/rand"
	"fmt"
	"io"
	"math/big"
	"runtime"
)

// PaillierLiteral records the paillier parameters.
type PaillierLiteral struct {
	// Bits is the size of the modulus n (2048: about 112-bit security,
	// 3072: about 128-bit).
	Bits int
	// FixedPoint is the encoding of each value.
	FixedPoint FixedPoint
	// SlotBits is the width of one packed value: the value bits, a sign
	// offset bit and headroom for summing Owners values.
	SlotBits int
	// Slots is the number of values packed into one plaintext.
	Slots int
}

// Paillier is the additively homomorphic scheme "paillier" on math/big with
// g = n+1, so that encryption is (1 + m*n) * r^n mod n^2. Each value is
// encoded in fixed point, offset to be non-negative and packed with Slots
// values per plaintext; the slot width leaves room for the sum of Owners
// values, checked when the scheme is made, so slots never carry into each
// other. The model owner decrypts with the CRT.
type Paillier struct {
	cfg   Config
	lit   PaillierLiteral
	wire  wire
	k     int      // ciphertexts per update
	off   *big.Int // offset added to every encoded value: 2^ValueBits
	ctLen int      // bytes per ciphertext: 2*Bits/8
}

func newPaillier(cfg Config) (*Paillier, error) {
	switch cfg.Params {
	case "", "2048":
		cfg.Params = "2048"
	case "3072":
	default:
		return nil, fmt.Errorf("unknown paillier preset %q (have 2048, 3072)", cfg.Params)
	}
	cfg.Threshold = 0
	bits := 2048
	if cfg.Params == "3072" {
		bits = 3072
	}
	fp := cfg.FixedPoint
	if err := fp.check(cfg.Owners, 62); err != nil {
		return nil, err
	}
	vb := fp.ValueBits()
	headroom := 0
	for 1<<headroom < cfg.Owners {
		headroom++
	}
	slotBits := vb + 2 + headroom
	lit := PaillierLiteral{Bits: bits, FixedPoint: fp, SlotBits: slotBits, Slots: (bits - 2) / slotBits}
	s := &Paillier{cfg: cfg, lit: lit, wire: newWire(idPaillier, "paillier", lit, cfg),
		off: new(big.Int).Lsh(big.NewInt(1), uint(vb)), ctLen: 2 * bits / 8}
	s.k = (cfg.Len + 1 + lit.Slots - 1) / lit.Slots
	return s, nil
}

// Name returns "paillier".
func (s *Paillier) Name() string { return "paillier" }

// Literal returns the PaillierLiteral in use.
func (s *Paillier) Literal() any { return s.lit }

// NewRevealer generates the key pair from rand.
func (s *Paillier) NewRevealer(rnd io.Reader) (Revealer, error) {
	bits := s.lit.Bits
	for {
		p, err := rand.Prime(rnd, bits/2)
		if err != nil {
			return nil, fmt.Errorf("paillier: new revealer: %w", err)
		}
		q, err := rand.Prime(rnd, bits/2)
		if err != nil {
			return nil, fmt.Errorf("paillier: new revealer: %w", err)
		}
		n := new(big.Int).Mul(p, q)
		if p.Cmp(q) == 0 || n.BitLen() != bits {
			continue
		}
		r := &PaillierRevealer{s: s, pk: newPaillierKey(n), sk: newPaillierSecretKey(n, p, q)}
		r.w = s.wire.bind(r.Setup())
		return r, nil
	}
}

// paillierKey is the public key n with cached n^2.
type paillierKey struct {
	n, n2 *big.Int
}

func newPaillierKey(n *big.Int) paillierKey {
	return paillierKey{n: n, n2: new(big.Int).Mul(n, n)}
}

// publicKey decodes the set-up: n, big endian, Bits/8 bytes.
func (s *Paillier) publicKey(setup []byte) (paillierKey, error) {
	_, body, err := s.wire.open(setup, kindSetup, s.lit.Bits/8)
	if err != nil {
		return paillierKey{}, err
	}
	n := new(big.Int).SetBytes(body)
	if n.BitLen() != s.lit.Bits || n.Bit(0) == 0 {
		return paillierKey{}, fmt.Errorf("%w: modulus is not an odd %d-bit number", ErrBadPayload, s.lit.Bits)
	}
	return newPaillierKey(n), nil
}

// NewProtector returns a data owner's role holding the public key.
func (s *Paillier) NewProtector(owner int, setup []byte, rnd io.Reader) (Protector, error) {
	pk, err := s.publicKey(setup)
	if err != nil {
		return nil, fmt.Errorf("paillier: new protector: %w", err)
	}
	return &PaillierProtector{s: s, w: s.wire.bind(setup), pk: pk, rand: rnd}, nil
}

// NewCombiner returns the secure worker's role holding the public key.
func (s *Paillier) NewCombiner(setup []byte) (Combiner, error) {
	pk, err := s.publicKey(setup)
	if err != nil {
		return nil, fmt.Errorf("paillier: new combiner: %w", err)
	}
	return &PaillierCombiner{s: s, w: s.wire.bind(setup), pk: pk}, nil
}

// ciphertexts decodes k ciphertexts, each in [1, n^2).
func (s *Paillier) ciphertexts(w wire, pk paillierKey, p []byte) (count int, cts []*big.Int, err error) {
	count, body, err := w.open(p, kindUpdate, s.k*s.ctLen)
	if err != nil {
		return 0, nil, err
	}
	cts = make([]*big.Int, s.k)
	for i := range cts {
		c := new(big.Int).SetBytes(body[i*s.ctLen : (i+1)*s.ctLen])
		if c.Sign() == 0 || c.Cmp(pk.n2) >= 0 {
			return 0, nil, fmt.Errorf("%w: ciphertext %d not in [1, n^2)", ErrBadPayload, i)
		}
		cts[i] = c
	}
	return count, cts, nil
}

func (s *Paillier) marshal(w wire, count int, cts []*big.Int) []byte {
	out := w.header(kindUpdate, count, s.k*s.ctLen)
	for i, c := range cts {
		c.FillBytes(out[headerLen+i*s.ctLen : headerLen+(i+1)*s.ctLen])
	}
	return out
}

// PaillierRevealer is the model owner's role: it holds the secret key.
type PaillierRevealer struct {
	s  *Paillier
	w  wire
	pk paillierKey
	sk *paillierSecretKey
}

// paillierSecretKey is the factorisation of n with CRT constants.
type paillierSecretKey struct {
	p, q   *big.Int
	p2, q2 *big.Int // p^2, q^2
	hp, hq *big.Int // L_p(g^(p-1) mod p^2)^-1 mod p, same for q
	qInvP  *big.Int // q^-1 mod p
}

func newPaillierSecretKey(n, p, q *big.Int) *paillierSecretKey {
	one := big.NewInt(1)
	r := &paillierSecretKey{p: p, q: q}
	r.p2 = new(big.Int).Mul(r.p, r.p)
	r.q2 = new(big.Int).Mul(r.q, r.q)
	g := new(big.Int).Add(n, one)
	h := func(p, p2 *big.Int) *big.Int {
		pm1 := new(big.Int).Sub(p, one)
		x := new(big.Int).Exp(new(big.Int).Mod(g, p2), pm1, p2)
		x.Sub(x, one).Div(x, p)
		return x.ModInverse(x, p)
	}
	r.hp, r.hq = h(r.p, r.p2), h(r.q, r.q2)
	r.qInvP = new(big.Int).ModInverse(r.q, r.p)
	return r
}

// decrypt returns the plaintext of c by the CRT.
func (r *paillierSecretKey) decrypt(c *big.Int) *big.Int {
	one := big.NewInt(1)
	part := func(p, p2, h *big.Int) *big.Int {
		pm1 := new(big.Int).Sub(p, one)
		x := new(big.Int).Exp(new(big.Int).Mod(c, p2), pm1, p2)
		x.Sub(x, one).Div(x, p)
		x.Mul(x, h).Mod(x, p)
		return x
	}
	mp, mq := part(r.p, r.p2, r.hp), part(r.q, r.q2, r.hq)
	// m = mq + q * ((mp - mq) * q^-1 mod p)
	m := new(big.Int).Sub(mp, mq)
	m.Mul(m, r.qInvP).Mod(m, r.p)
	m.Mul(m, r.q).Add(m, mq)
	return m
}

// Setup returns the public modulus n.
func (r *PaillierRevealer) Setup() []byte {
	out := r.s.wire.header(kindSetup, 1, r.s.lit.Bits/8)
	r.pk.n.FillBytes(out[headerLen:])
	return out
}

// Reveal decrypts the aggregate and unpacks the sums.
func (r *PaillierRevealer) Reveal(partials [][]byte, _ []byte) ([]float64, float64, error) {
	s := r.s
	if len(partials) == 0 {
		return nil, 0, fmt.Errorf("paillier: reveal: %w: no aggregate", ErrTooFewShares)
	}
	agg, err := sumPayloads(&PaillierCombiner{s: s, w: r.w, pk: r.pk}, partials)
	if err != nil {
		return nil, 0, fmt.Errorf("paillier: reveal: %w", err)
	}
	count, cts, err := s.ciphertexts(r.w, r.pk, agg)
	if err != nil {
		return nil, 0, fmt.Errorf("paillier: reveal: %w", err)
	}
	n := s.cfg.Len + 1
	v := make([]float64, s.k*s.lit.Slots)
	offset := new(big.Int).Mul(s.off, big.NewInt(int64(count)))
	mask := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(s.lit.SlotBits)), big.NewInt(1))
	bad := make([]bool, s.k)
	parallelFor(s.k, runtime.GOMAXPROCS(0), func(_, i int) {
		m := r.sk.decrypt(cts[i])
		slot := new(big.Int)
		for j := 0; j < s.lit.Slots; j++ {
			slot.Rsh(m, uint(j*s.lit.SlotBits)).And(slot, mask).Sub(slot, offset)
			if !slot.IsInt64() {
				bad[i] = true
				return
			}
			v[i*s.lit.Slots+j] = s.lit.FixedPoint.Decode(slot.Int64())
		}
	})
	for i, b := range bad {
		if b {
			return nil, 0, fmt.Errorf("paillier: reveal: %w: plaintext %d does not unpack", ErrBadPayload, i)
		}
	}
	if err := checkMean(v[:n-1], v[n-1], s.cfg.MaxNorm); err != nil {
		return nil, 0, fmt.Errorf("paillier: reveal: %w", err)
	}
	return v[: n-1 : n-1], v[n-1], nil
}

// PaillierProtector is a data owner's role: the public key and an entropy
// source.
type PaillierProtector struct {
	s    *Paillier
	w    wire
	pk   paillierKey
	rand io.Reader
}

// Protect encodes, packs and encrypts weight*update and weight. It uses up
// to GOMAXPROCS goroutines.
func (p *PaillierProtector) Protect(update []float64, weight float64) ([]Message, error) {
	s := p.s
	v, err := withWeight(update, weight, s.cfg)
	if err != nil {
		return nil, fmt.Errorf("paillier: protect: %w", err)
	}
	enc := make([]int64, len(v))
	for i, x := range v {
		if enc[i], err = s.lit.FixedPoint.Encode(x); err != nil {
			return nil, fmt.Errorf("paillier: protect: value %d: %w", i, err)
		}
	}
	// Draw all randomness first: rand need not be safe for concurrent use.
	rbytes := s.lit.Bits/8 + 8
	rs := make([]byte, s.k*rbytes)
	if _, err := io.ReadFull(p.rand, rs); err != nil {
		return nil, fmt.Errorf("paillier: protect: reading randomness: %w", err)
	}
	cts := make([]*big.Int, s.k)
	parallelFor(s.k, runtime.GOMAXPROCS(0), func(_, i int) {
		m := s.pack(enc, i)
		r := new(big.Int).SetBytes(rs[i*rbytes : (i+1)*rbytes])
		r.Mod(r, p.pk.n)
		if r.Sign() == 0 {
			r.SetInt64(1)
		}
		c := new(big.Int).Exp(r, p.pk.n, p.pk.n2)
		m.Mul(m, p.pk.n).Add(m, big.NewInt(1)) // g^m = 1 + m*n mod n^2
		c.Mul(c, m).Mod(c, p.pk.n2)
		cts[i] = c
	})
	return []Message{{To: SecureWorker, Payload: s.marshal(p.w, 1, cts)}}, nil
}

// pack returns plaintext i: the encoded values enc[i*Slots:(i+1)*Slots],
// offset to be non-negative, value j of the pack in slot j. Slots beyond
// the vector's end stay zero (they decode to -offset and are dropped).
func (s *Paillier) pack(enc []int64, i int) *big.Int {
	m, e := new(big.Int), new(big.Int)
	for j := min(len(enc), (i+1)*s.lit.Slots) - 1; j >= i*s.lit.Slots; j-- {
		e.SetInt64(enc[j]).Add(e, s.off)
		m.Lsh(m, uint(s.lit.SlotBits)).Or(m, e)
	}
	return m
}

// PaillierCombiner is the secure worker's role: the public key only.
type PaillierCombiner struct {
	s  *Paillier
	w  wire
	pk paillierKey
}

// Combine multiplies ciphertexts modulo n^2, adding the packed plaintexts.
func (c *PaillierCombiner) Combine(a, b []byte) ([]byte, error) {
	s := c.s
	ca, xa, err := s.ciphertexts(c.w, c.pk, a)
	if err != nil {
		return nil, fmt.Errorf("paillier: combine: first operand: %w", err)
	}
	cb, xb, err := s.ciphertexts(c.w, c.pk, b)
	if err != nil {
		return nil, fmt.Errorf("paillier: combine: second operand: %w", err)
	}
	if ca+cb > s.cfg.Owners {
		return nil, fmt.Errorf("paillier: combine: %w: %d+%d > %d", ErrTooManyContributions, ca, cb, s.cfg.Owners)
	}
	parallelFor(s.k, runtime.GOMAXPROCS(0), func(_, i int) {
		xa[i].Mul(xa[i], xb[i]).Mod(xa[i], c.pk.n2)
	})
	return s.marshal(c.w, ca+cb, xa), nil
}

// Check decodes payload as one encrypted update of this session.
func (c *PaillierCombiner) Check(payload []byte, contributions int) error {
	count, _, err := c.s.ciphertexts(c.w, c.pk, payload)
	if err == nil && count != contributions {
		err = fmt.Errorf("%w: %d contributions, want %d", ErrMismatch, count, contributions)
	}
	if err != nil {
		return fmt.Errorf("paillier: check: %w", err)
	}
	return nil
}
