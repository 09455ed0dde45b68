package crypto

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
)

// Additive is the additive secret-sharing scheme "ss". Each data owner
// encodes weight*update and weight in fixed point, reads them as elements of
// the ring Z/2^64, and splits the vector into K+1 additive shares: one for
// each of the K holding data owners (all N by default, itself included; the
// first Config.Committee otherwise) and one for the secure worker. The K
// data owners' shares are ChaCha8 streams, each keyed with 32 fresh bytes
// from the owner's entropy source, and travel as that 32-byte seed; the
// secure worker's share makes the sum right and travels in full. Any K of
// one owner's K+1 shares are uniformly distributed and independent of the
// update (computationally, as ChaCha8 output).
//
// Every holder adds the shares it receives into a partial sum; the model
// owner adds the K+1 partials. The secure worker alone learns nothing; the
// model owner learns only the aggregate unless it colludes with holders.
type Additive struct {
	cfg  Config
	wire wire
}

// AdditiveLiteral records the ss parameters.
type AdditiveLiteral struct {
	// Ring is where shares live: "Z/2^64" (additive) or "GF(2^61-1)"
	// (Shamir).
	Ring string
	// FixedPoint is the encoding of each value.
	FixedPoint FixedPoint
	// Holders is the number of share holders, K+1: the holding data
	// owners and the secure worker.
	Holders int
	// Threshold is the number of holders whose partials reveal the sum with
	// Shamir sharing; 0 for additive sharing (all N+1 are needed).
	Threshold int
}

func newAdditive(cfg Config) (*Additive, error) {
	cfg.Params, cfg.Threshold = "", 0
	if cfg.Committee == 0 {
		cfg.Committee = cfg.Owners
	}
	if err := cfg.FixedPoint.check(cfg.Owners, 64); err != nil {
		return nil, err
	}
	s := &Additive{cfg: cfg}
	s.wire = newWire(idAdditive, "ss", s.Literal(), cfg)
	return s, nil
}

// Name returns "ss".
func (s *Additive) Name() string { return "ss" }

// Literal returns an AdditiveLiteral.
func (s *Additive) Literal() any {
	return AdditiveLiteral{Ring: "Z/2^64", FixedPoint: s.cfg.FixedPoint, Holders: s.cfg.Committee + 1}
}

// Holders returns the committee (all N owners by default) and that every
// one of its K+1 holders' partials is needed (Holding).
func (s *Additive) Holders() (owners, needed int) { return s.cfg.Committee, s.cfg.Committee + 1 }

// NewRevealer returns the model owner's role; it holds no key.
func (s *Additive) NewRevealer(io.Reader) (Revealer, error) {
	setup := s.wire.header(kindSetup, 1, 0)
	return &AdditiveRevealer{s: s, w: s.wire.bind(setup), setup: setup}, nil
}

// NewProtector returns data owner owner's role, drawing share seeds from rand.
func (s *Additive) NewProtector(owner int, setup []byte, rand io.Reader) (Protector, error) {
	if owner < 0 || owner >= s.cfg.Owners {
		return nil, fmt.Errorf("ss: new protector: owner %d not in [0,%d)", owner, s.cfg.Owners)
	}
	if _, _, err := s.wire.open(setup, kindSetup, 0); err != nil {
		return nil, fmt.Errorf("ss: new protector: %w", err)
	}
	return &AdditiveProtector{s: s, w: s.wire.bind(setup), rand: rand}, nil
}

// NewCombiner returns a holder's role.
func (s *Additive) NewCombiner(setup []byte) (Combiner, error) {
	if _, _, err := s.wire.open(setup, kindSetup, 0); err != nil {
		return nil, fmt.Errorf("ss: new combiner: %w", err)
	}
	return &AdditiveCombiner{s: s, w: s.wire.bind(setup)}, nil
}

// AdditiveRevealer is the model owner's role in ss.
type AdditiveRevealer struct {
	s     *Additive
	w     wire
	setup []byte
}

// Setup returns an empty set-up message.
func (r *AdditiveRevealer) Setup() []byte { return r.setup }

// Reveal adds the partial sums of all K+1 holders and decodes them.
func (r *AdditiveRevealer) Reveal(partials [][]byte, _ []byte) ([]float64, float64, error) {
	s := r.s
	if len(partials) != s.cfg.Committee+1 {
		return nil, 0, fmt.Errorf("ss: reveal: %w: %d partials, want one per holder (%d)",
			ErrTooFewShares, len(partials), s.cfg.Committee+1)
	}
	n := s.cfg.Len + 1
	acc := make([]byte, 8*n)
	count := -1
	for i, p := range partials {
		c, err := s.addShare(r.w, acc, p, i == 0)
		if err != nil {
			return nil, 0, fmt.Errorf("ss: reveal: partial %d: %w", i, err)
		}
		if count >= 0 && c != count {
			return nil, 0, fmt.Errorf("ss: reveal: %w: partial %d sums %d shares, others %d", ErrMismatch, i, c, count)
		}
		count = c
	}
	sum := make([]float64, n)
	for j := range sum {
		sum[j] = s.cfg.FixedPoint.Decode(int64(binary.LittleEndian.Uint64(acc[8*j:])))
	}
	if err := checkMean(sum[:n-1], sum[n-1], s.cfg.MaxNorm); err != nil {
		return nil, 0, fmt.Errorf("ss: reveal: %w", err)
	}
	return sum[: n-1 : n-1], sum[n-1], nil
}

// AdditiveProtector is a data owner's role in ss. It holds only an entropy
// source.
type AdditiveProtector struct {
	s    *Additive
	w    wire
	rand io.Reader
}

// Protect returns K+1 shares of weight*update and weight: one addressed to
// each holding data owner (this one, if it holds) and one to the secure
// worker.
func (p *AdditiveProtector) Protect(update []float64, weight float64) ([]Message, error) {
	s := p.s
	v, err := withWeight(update, weight, s.cfg)
	if err != nil {
		return nil, fmt.Errorf("ss: protect: %w", err)
	}
	last := make([]uint64, len(v))
	for i, x := range v {
		e, err := s.cfg.FixedPoint.Encode(x)
		if err != nil {
			return nil, fmt.Errorf("ss: protect: value %d: %w", i, err)
		}
		last[i] = uint64(e)
	}
	seeds := make([]byte, 32*s.cfg.Committee)
	if _, err := io.ReadFull(p.rand, seeds); err != nil {
		return nil, fmt.Errorf("ss: protect: seeding share generators: %w", err)
	}
	msgs := make([]Message, 0, s.cfg.Committee+1)
	for h := range s.cfg.Committee {
		pl := p.w.header(kindSeedShare, 1, 32)
		copy(pl[headerLen:], seeds[32*h:32*h+32])
		g := rand.NewChaCha8([32]byte(seeds[32*h : 32*h+32]))
		for i := range last {
			last[i] -= g.Uint64()
		}
		msgs = append(msgs, Message{To: Party(h), Payload: pl})
	}
	pl := p.w.header(kindUpdate, 1, 8*len(last))
	for i, x := range last {
		binary.LittleEndian.PutUint64(pl[headerLen+8*i:], x)
	}
	clear(seeds)
	return append(msgs, Message{To: SecureWorker, Payload: pl}), nil
}

// addShare adds a full or seed share (or a sum of shares) into dst, which
// holds little-endian elements of Z/2^64; with set it overwrites dst.
func (s *Additive) addShare(w wire, dst []byte, p []byte, set bool) (count int, err error) {
	if kindOf(p) == kindSeedShare {
		count, body, err := w.open(p, kindSeedShare, 32)
		if err != nil {
			return 0, err
		}
		g := rand.NewChaCha8([32]byte(body))
		for i := 0; i+8 <= len(dst); i += 8 {
			x := g.Uint64()
			if !set {
				x += binary.LittleEndian.Uint64(dst[i : i+8])
			}
			binary.LittleEndian.PutUint64(dst[i:i+8], x)
		}
		return count, nil
	}
	count, body, err := w.open(p, kindUpdate, len(dst))
	if err != nil {
		return 0, err
	}
	if set {
		copy(dst, body)
		return count, nil
	}
	for i := 0; i+8 <= len(dst) && i+8 <= len(body); i += 8 {
		binary.LittleEndian.PutUint64(dst[i:i+8], binary.LittleEndian.Uint64(dst[i:i+8])+binary.LittleEndian.Uint64(body[i:i+8]))
	}
	return count, nil
}

// AdditiveCombiner is a holder's role in ss: it adds shares and holds nothing.
type AdditiveCombiner struct {
	s *Additive
	w wire
}

// Combine adds two shares, given in full or by seed, modulo 2^64.
func (c *AdditiveCombiner) Combine(a, b []byte) ([]byte, error) {
	s := c.s
	out := c.w.header(kindUpdate, 1, 8*(s.cfg.Len+1))
	ca, err := s.addShare(c.w, out[headerLen:], a, true)
	if err != nil {
		return nil, fmt.Errorf("ss: combine: first operand: %w", err)
	}
	cb, err := s.addShare(c.w, out[headerLen:], b, false)
	if err != nil {
		return nil, fmt.Errorf("ss: combine: second operand: %w", err)
	}
	if ca+cb > s.cfg.Owners {
		return nil, fmt.Errorf("ss: combine: %w: %d+%d > %d", ErrTooManyContributions, ca, cb, s.cfg.Owners)
	}
	binary.LittleEndian.PutUint32(out[13:], uint32(ca+cb))
	return out, nil
}

// Check reports whether payload is one share made by Protect: a seed share
// or a full share of the right length.
func (c *AdditiveCombiner) Check(payload []byte, contributions int) error {
	var (
		count int
		err   error
	)
	if kindOf(payload) == kindSeedShare {
		count, _, err = c.w.open(payload, kindSeedShare, 32)
	} else {
		count, _, err = c.w.open(payload, kindUpdate, 8*(c.s.cfg.Len+1))
	}
	if err == nil && count != contributions {
		err = fmt.Errorf("%w: %d contributions, want %d", ErrMismatch, count, contributions)
	}
	if err != nil {
		return fmt.Errorf("ss: check: %w", err)
	}
	return nil
}
