package crypto

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
)

// ShamirSS is the scheme "ss-shamir" (also "ss" with Config.Threshold = t > 0): Shamir t-of-(N+1)
// secret sharing over GF(2^61-1). The holders are the N data owners (owner
// i at x = i+1) and the secure worker (x = N+1). Each data owner encodes
// weight*update and weight in fixed point, maps them into the field and
// shares every value with a fresh random polynomial of degree t-1; any t
// holders' partial sums reveal the aggregate by Lagrange interpolation at
// 0, and any t-1 shares of one update are uniform and independent of it.
//
// The polynomial is fixed by its value at 0 and by t-1 uniformly random
// shares, which travel as 32-byte ChaCha8 seeds to t-1 other data owners
// (all N when t = N+1); the other holders' shares are interpolated and
// travel in full. Every share and partial carries its holder's x and the
// set of contributing owners, so that holders add only shares of the same
// x and the model owner interpolates only partials over the same
// contributors, from whichever t holders answer: up to N+1-t holders may
// be silent.
type ShamirSS struct {
	cfg  Config
	t    int
	nb   int // bytes of a contributor bitmap
	wire wire
}

func newShamirSS(cfg Config) (*ShamirSS, error) {
	cfg.Params = ""
	if cfg.Threshold == 0 {
		cfg.Threshold = DefaultShamirThreshold(cfg.Owners)
	}
	if cfg.Threshold < 2 || cfg.Threshold > cfg.Owners+1 {
		return nil, fmt.Errorf("threshold %d not in [2, %d] (N+1 holders; 1 would hand every holder the update)",
			cfg.Threshold, cfg.Owners+1)
	}
	if err := cfg.FixedPoint.check(cfg.Owners, 61); err != nil {
		return nil, fmt.Errorf("shamir sharing over GF(2^61-1): %w", err)
	}
	s := &ShamirSS{cfg: cfg, t: cfg.Threshold, nb: (cfg.Owners + 7) / 8}
	s.wire = newWire(idSSShamir, "ss-shamir", s.Literal(), cfg)
	return s, nil
}

// DefaultShamirThreshold is ss-shamir's threshold when Config.Threshold is
// 0: a majority of the N+1 holders, at least 2.
func DefaultShamirThreshold(owners int) int { return max(2, (owners+1)/2+1) }

// Name returns "ss-shamir".
func (s *ShamirSS) Name() string { return "ss-shamir" }

// Literal returns an AdditiveLiteral with Ring "GF(2^61-1)" and the threshold.
func (s *ShamirSS) Literal() any {
	return AdditiveLiteral{Ring: "GF(2^61-1)", FixedPoint: s.cfg.FixedPoint, Holders: s.cfg.Owners + 1, Threshold: s.t}
}

// Holders returns N, every data owner holding shares, and that any t of
// the N+1 holders' partials suffice (Holding).
func (s *ShamirSS) Holders() (owners, needed int) { return s.cfg.Owners, s.t }

// NewRevealer returns the model owner's role; it holds no key.
func (s *ShamirSS) NewRevealer(io.Reader) (Revealer, error) {
	setup := s.wire.header(kindSetup, 1, 0)
	return &ShamirSSRevealer{s: s, w: s.wire.bind(setup), setup: setup}, nil
}

// NewProtector returns data owner owner's role, drawing polynomial seeds
// from rand.
func (s *ShamirSS) NewProtector(owner int, setup []byte, rand io.Reader) (Protector, error) {
	if owner < 0 || owner >= s.cfg.Owners {
		return nil, fmt.Errorf("ss: new protector: owner %d not in [0,%d)", owner, s.cfg.Owners)
	}
	if _, _, err := s.wire.open(setup, kindSetup, 0); err != nil {
		return nil, fmt.Errorf("ss: new protector: %w", err)
	}
	p := &ShamirSSProtector{s: s, w: s.wire.bind(setup), owner: owner, rand: rand}
	// Seed holders: the t-1 data owners after this one (all N when t = N+1).
	n := s.cfg.Owners
	seeded := make([]bool, n+1)
	for k := 0; k < s.t-1; k++ {
		h := (owner + 1 + k) % n // never owner itself unless t-1 = N
		seeded[h] = true
		p.seedHolders = append(p.seedHolders, h)
	}
	pts := []uint64{0}
	for _, h := range p.seedHolders {
		pts = append(pts, uint64(h+1))
	}
	for h := 0; h <= n; h++ {
		if seeded[h] {
			continue
		}
		l, err := lagrange(pts, uint64(h+1))
		if err != nil {
			return nil, fmt.Errorf("ss: new protector: %w", err)
		}
		p.fullHolders = append(p.fullHolders, h)
		p.coef = append(p.coef, l)
	}
	return p, nil
}

// NewCombiner returns a holder's role.
func (s *ShamirSS) NewCombiner(setup []byte) (Combiner, error) {
	if _, _, err := s.wire.open(setup, kindSetup, 0); err != nil {
		return nil, fmt.Errorf("ss: new combiner: %w", err)
	}
	return &ShamirSSCombiner{s: s, w: s.wire.bind(setup)}, nil
}

// holderParty returns the party holding share index h (x = h+1).
func (s *ShamirSS) holderParty(h int) Party {
	if h == s.cfg.Owners {
		return SecureWorker
	}
	return Party(h)
}

// shamirShare is a decoded share or partial sum: the holder's x, the
// contributing owners and either a seed or the values.
type shamirShare struct {
	count  int
	x      uint64
	owners []byte // bitmap, bit i for owner i
	seed   []byte // 32 bytes for a seed share, else nil
	vals   []byte // 8*(Len+1) bytes of elements below p, else nil
}

// header returns a payload of kind k with x and the bitmap filled in and
// room for dataLen more bytes.
func (s *ShamirSS) header(w wire, k kind, count int, x uint64, owners []byte, dataLen int) []byte {
	p := w.header(k, count, 8+s.nb+dataLen)
	binary.LittleEndian.PutUint64(p[headerLen:], x)
	copy(p[headerLen+8:], owners)
	return p
}

// parse decodes a seed share or a full share of session w.
func (s *ShamirSS) parse(w wire, p []byte) (sh shamirShare, err error) {
	k := kindOf(p)
	dataLen := 8 * (s.cfg.Len + 1)
	if k == kindSeedShare {
		dataLen = 32
	} else {
		k = kindUpdate
	}
	count, body, err := w.open(p, k, 8+s.nb+dataLen)
	if err != nil {
		return sh, err
	}
	sh.count = count
	sh.x = binary.LittleEndian.Uint64(body)
	if sh.x < 1 || sh.x > uint64(s.cfg.Owners+1) {
		return sh, fmt.Errorf("%w: holder x = %d not in [1, %d]", ErrBadPayload, sh.x, s.cfg.Owners+1)
	}
	sh.owners = body[8 : 8+s.nb]
	if err := checkBitmap(sh.owners, s.cfg.Owners, count); err != nil {
		return sh, err
	}
	data := body[8+s.nb:]
	if k == kindSeedShare {
		sh.seed = data
		return sh, nil
	}
	for i := 0; i+8 <= len(data); i += 8 {
		if binary.LittleEndian.Uint64(data[i:]) >= fieldP {
			return sh, fmt.Errorf("%w: share value %d not reduced modulo 2^61-1", ErrBadPayload, i/8)
		}
	}
	sh.vals = data
	return sh, nil
}

// checkBitmap reports whether bitmap marks exactly count owners below n.
func checkBitmap(bitmap []byte, n, count int) error {
	ones, err := bitmapOnes(bitmap, n)
	if err != nil {
		return err
	}
	if ones != count {
		return fmt.Errorf("%w: contributor bitmap marks %d owners, count says %d", ErrBadPayload, ones, count)
	}
	return nil
}

// bitmapOnes returns the number of owners bitmap marks, checking that it
// marks none at or beyond n.
func bitmapOnes(bitmap []byte, n int) (int, error) {
	ones := 0
	for i, b := range bitmap {
		if i == len(bitmap)-1 && n%8 != 0 && b>>(n%8) != 0 {
			return 0, fmt.Errorf("%w: contributor bitmap marks owners beyond %d", ErrBadPayload, n)
		}
		ones += bits.OnesCount8(b)
	}
	return ones, nil
}

// addInto adds share sh's values into dst (little-endian field elements);
// with set it overwrites dst.
func (sh shamirShare) addInto(dst []byte, set bool) {
	var g *rand.ChaCha8
	if sh.seed != nil {
		g = rand.NewChaCha8([32]byte(sh.seed))
	}
	for i := 0; i+8 <= len(dst); i += 8 {
		var x uint64
		if g != nil {
			x = fieldElem(g)
		} else if i+8 <= len(sh.vals) {
			x = binary.LittleEndian.Uint64(sh.vals[i:])
		}
		if !set {
			x = fAdd(x, binary.LittleEndian.Uint64(dst[i:]))
		}
		binary.LittleEndian.PutUint64(dst[i:], x)
	}
}

// ShamirSSRevealer is the model owner's role in Shamir ss; it holds no key.
type ShamirSSRevealer struct {
	s     *ShamirSS
	w     wire
	setup []byte
}

// Setup returns an empty set-up message.
func (r *ShamirSSRevealer) Setup() []byte { return r.setup }

// Reveal interpolates the sum from Threshold partials of distinct holders
// over the same contributors. Partials over other contributor sets (a
// holder that missed or got an extra update) are set aside; the largest
// contributor set with enough holders wins.
func (r *ShamirSSRevealer) Reveal(partials [][]byte, _ []byte) ([]float64, float64, error) {
	s := r.s
	groups := map[string][]shamirShare{}
	var order []string
	for i, p := range partials {
		sh, err := s.parse(r.w, p)
		if err != nil {
			return nil, 0, fmt.Errorf("ss: reveal: partial %d: %w", i, err)
		}
		key := string(sh.owners)
		g, ok := groups[key]
		if !ok {
			order = append(order, key)
		}
		dup := false
		for _, o := range g {
			dup = dup || o.x == sh.x
		}
		if !dup {
			groups[key] = append(g, sh)
		}
	}
	var best []shamirShare
	for _, key := range order {
		if g := groups[key]; len(g) >= s.t && (best == nil || g[0].count > best[0].count) {
			best = g
		}
	}
	if best == nil {
		return nil, 0, fmt.Errorf("ss: reveal: %w: %d partials, need %d from distinct holders over the same contributors",
			ErrTooFewShares, len(partials), s.t)
	}
	best = best[:s.t]
	xs := make([]uint64, s.t)
	for k, sh := range best {
		xs[k] = sh.x
	}
	l, err := lagrange(xs, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("ss: reveal: %w", err)
	}
	n := s.cfg.Len + 1
	acc := make([]uint64, n)
	buf := make([]byte, 8*n)
	for k, sh := range best {
		sh.addInto(buf, true)
		for j := range acc {
			acc[j] = fAdd(acc[j], fMul(l[k], binary.LittleEndian.Uint64(buf[8*j:])))
		}
	}
	sum := make([]float64, n)
	for j, x := range acc {
		sum[j] = s.cfg.FixedPoint.Decode(toSigned(x))
	}
	if err := checkMean(sum[:n-1], sum[n-1], s.cfg.MaxNorm); err != nil {
		return nil, 0, fmt.Errorf("ss: reveal: %w", err)
	}
	return sum[: n-1 : n-1], sum[n-1], nil
}

// ShamirSSProtector is a data owner's role in Shamir ss. It holds only an
// entropy source and the public interpolation coefficients.
type ShamirSSProtector struct {
	s           *ShamirSS
	w           wire
	owner       int
	rand        io.Reader
	seedHolders []int      // holders whose share is a seed
	fullHolders []int      // the others
	coef        [][]uint64 // per full holder: Lagrange coefficients from (0, seed holders)
}

// Protect returns N+1 Shamir shares of weight*update and weight: one
// addressed to each data owner (this one included) and one to the secure
// worker, t-1 of them as seeds.
func (p *ShamirSSProtector) Protect(update []float64, weight float64) ([]Message, error) {
	s := p.s
	v, err := withWeight(update, weight, s.cfg)
	if err != nil {
		return nil, fmt.Errorf("ss: protect: %w", err)
	}
	enc := make([]uint64, len(v))
	for i, x := range v {
		e, err := s.cfg.FixedPoint.Encode(x)
		if err != nil {
			return nil, fmt.Errorf("ss: protect: value %d: %w", i, err)
		}
		enc[i] = fromSigned(e)
	}
	seeds := make([]byte, 32*len(p.seedHolders))
	if _, err := io.ReadFull(p.rand, seeds); err != nil {
		return nil, fmt.Errorf("ss: protect: seeding shares: %w", err)
	}
	owners := make([]byte, s.nb)
	owners[p.owner/8] = 1 << (p.owner % 8)
	msgs := make([]Message, 0, s.cfg.Owners+1)
	gens := make([]*rand.ChaCha8, len(p.seedHolders))
	for k, h := range p.seedHolders {
		seed := seeds[32*k : 32*k+32]
		gens[k] = rand.NewChaCha8([32]byte(seed))
		pl := s.header(p.w, kindSeedShare, 1, uint64(h+1), owners, 32)
		copy(pl[headerLen+8+s.nb:], seed)
		msgs = append(msgs, Message{To: s.holderParty(h), Payload: pl})
	}
	clear(seeds)
	out := make([][]byte, len(p.fullHolders))
	for f, h := range p.fullHolders {
		out[f] = s.header(p.w, kindUpdate, 1, uint64(h+1), owners, 8*len(enc))
	}
	r := make([]uint64, len(gens))
	off := headerLen + 8 + s.nb
	for j, e := range enc {
		for k, g := range gens {
			r[k] = fieldElem(g)
		}
		for f, l := range p.coef {
			y := fMul(l[0], e)
			for k, rk := range r {
				y = fAdd(y, fMul(l[k+1], rk))
			}
			binary.LittleEndian.PutUint64(out[f][off+8*j:], y)
		}
	}
	clear(r)
	for f, h := range p.fullHolders {
		msgs = append(msgs, Message{To: s.holderParty(h), Payload: out[f]})
	}
	return msgs, nil
}

// ShamirSSCombiner is a holder's role in Shamir ss: it adds shares of one x
// and holds nothing.
type ShamirSSCombiner struct {
	s *ShamirSS
	w wire
}

// Combine adds two shares (or partial sums) of the same holder modulo
// 2^61-1. It refuses shares of different x and an owner counted twice.
func (c *ShamirSSCombiner) Combine(a, b []byte) ([]byte, error) {
	s := c.s
	sa, err := s.parse(c.w, a)
	if err != nil {
		return nil, fmt.Errorf("ss: combine: first operand: %w", err)
	}
	sb, err := s.parse(c.w, b)
	if err != nil {
		return nil, fmt.Errorf("ss: combine: second operand: %w", err)
	}
	if sa.count+sb.count > s.cfg.Owners {
		return nil, fmt.Errorf("ss: combine: %w: %d+%d > %d", ErrTooManyContributions, sa.count, sb.count, s.cfg.Owners)
	}
	if sa.x != sb.x {
		return nil, fmt.Errorf("ss: combine: %w: shares of holders x = %d and x = %d", ErrMismatch, sa.x, sb.x)
	}
	owners := make([]byte, s.nb)
	for i := range owners {
		if sa.owners[i]&sb.owners[i] != 0 {
			return nil, fmt.Errorf("ss: combine: %w: an owner's update is in both operands", ErrMismatch)
		}
		owners[i] = sa.owners[i] | sb.owners[i]
	}
	n := s.cfg.Len + 1
	out := s.header(c.w, kindUpdate, sa.count+sb.count, sa.x, owners, 8*n)
	dst := out[headerLen+8+s.nb:]
	sa.addInto(dst, true)
	sb.addInto(dst, false)
	return out, nil
}

// Check reports whether payload is one share made by Protect: a seed share
// or a full share of the right length, reduced, of one owner.
func (c *ShamirSSCombiner) Check(payload []byte, contributions int) error {
	sh, err := c.s.parse(c.w, payload)
	if err == nil && sh.count != contributions {
		err = fmt.Errorf("%w: %d contributions, want %d", ErrMismatch, sh.count, contributions)
	}
	if err != nil {
		return fmt.Errorf("ss: check: %w", err)
	}
	return nil
}
