package crypto

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Plain is the trusted-aggregator scheme "plain": updates travel in the
// clear and the secure worker sees them. It is the baseline for timing and
// accuracy, not a protection.
type Plain struct {
	cfg  Config
	wire wire
}

// PlainLiteral records the plain scheme's parameters (it has none).
type PlainLiteral struct{}

func newPlain(cfg Config) (*Plain, error) {
	cfg.Params, cfg.Threshold = "", 0
	return &Plain{cfg: cfg, wire: newWire(idPlain, "plain", PlainLiteral{}, cfg)}, nil
}

// Name returns "plain".
func (s *Plain) Name() string { return "plain" }

// Literal returns PlainLiteral{}.
func (s *Plain) Literal() any { return PlainLiteral{} }

// Flow returns the basic flow.
func (s *Plain) Flow() Flow { return Flow{Threshold: s.cfg.Owners} }

// NewRevealer returns the model owner's role.
func (s *Plain) NewRevealer(io.Reader) (Revealer, error) { return &PlainRevealer{s}, nil }

// NewProtector returns data owner owner's role.
func (s *Plain) NewProtector(owner int, setup []byte, _ io.Reader) (Protector, error) {
	if _, _, err := s.wire.open(setup, kindSetup, 0); err != nil {
		return nil, fmt.Errorf("plain: new protector: %w", err)
	}
	return &PlainProtector{noKeyGen{}, s}, nil
}

// NewCombiner returns the secure worker's role.
func (s *Plain) NewCombiner(setup []byte) (Combiner, error) {
	if _, _, err := s.wire.open(setup, kindSetup, 0); err != nil {
		return nil, fmt.Errorf("plain: new combiner: %w", err)
	}
	return &PlainCombiner{noCollectiveKey{}, s}, nil
}

// PlainRevealer is the model owner's role in plain.
type PlainRevealer struct{ s *Plain }

// Setup returns an empty set-up message.
func (r *PlainRevealer) Setup() []byte { return r.s.wire.header(kindSetup, 1, 0) }

// Reveal adds the partials.
func (r *PlainRevealer) Reveal(partials [][]byte, _ []byte) ([]float64, float64, error) {
	if len(partials) == 0 {
		return nil, 0, fmt.Errorf("plain: reveal: %w: no partials", ErrTooFewShares)
	}
	acc, err := sumPayloads(&PlainCombiner{s: r.s}, partials)
	if err != nil {
		return nil, 0, fmt.Errorf("plain: reveal: %w", err)
	}
	v, err := r.s.UnmarshalUpdate(acc)
	if err != nil {
		return nil, 0, fmt.Errorf("plain: reveal: %w", err)
	}
	n := r.s.cfg.Len
	return v[:n:n], v[n], nil
}

// PlainProtector is a data owner's role in plain.
type PlainProtector struct {
	noKeyGen
	s *Plain
}

// Protect sends weight*update and weight in the clear to the secure worker.
func (p *PlainProtector) Protect(update []float64, weight float64) ([]Message, error) {
	v, err := withWeight(update, weight, p.s.cfg.Len)
	if err != nil {
		return nil, fmt.Errorf("plain: protect: %w", err)
	}
	return []Message{{To: SecureWorker, Payload: p.s.marshalUpdate(v, 1)}}, nil
}

// PlainCombiner is the secure worker's role in plain. (It sees plaintext
// updates: plain is the trusted-aggregator baseline.)
type PlainCombiner struct {
	noCollectiveKey
	s *Plain
}

// Combine adds two payloads.
func (c *PlainCombiner) Combine(a, b []byte) ([]byte, error) {
	count, ba, bb, err := c.s.wire.combineCounts(a, b, kindUpdate, 8*(c.s.cfg.Len+1))
	if err != nil {
		return nil, fmt.Errorf("plain: combine: %w", err)
	}
	out := c.s.wire.header(kindUpdate, count, len(ba))
	o := out[headerLen:]
	for i := 0; i < len(ba); i += 8 {
		x, y := math.Float64frombits(binary.LittleEndian.Uint64(ba[i:])), math.Float64frombits(binary.LittleEndian.Uint64(bb[i:]))
		if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
			return nil, fmt.Errorf("plain: combine: %w: value %d is not finite", ErrBadPayload, i/8)
		}
		binary.LittleEndian.PutUint64(o[i:], math.Float64bits(x+y))
	}
	return out, nil
}

func (s *Plain) marshalUpdate(v []float64, count int) []byte {
	p := s.wire.header(kindUpdate, count, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(p[headerLen+8*i:], math.Float64bits(x))
	}
	return p
}

// UnmarshalUpdate decodes a plain update payload: Len values then the weight.
func (s *Plain) UnmarshalUpdate(p []byte) ([]float64, error) {
	_, body, err := s.wire.open(p, kindUpdate, 8*(s.cfg.Len+1))
	if err != nil {
		return nil, err
	}
	v := make([]float64, s.cfg.Len+1)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(body[8*i:]))
		if math.IsNaN(v[i]) || math.IsInf(v[i], 0) {
			return nil, fmt.Errorf("%w: value %d is %g", ErrBadPayload, i, v[i])
		}
	}
	return v, nil
}

// noKeyGen implements the key-generation and reveal-share steps of a
// Protector for schemes whose Flow has neither.
type noKeyGen struct{}

// KeyShares returns no messages.
func (noKeyGen) KeyShares() ([]Message, error) { return nil, nil }

// ReceiveSetup reports ErrNotSupported.
func (noKeyGen) ReceiveSetup(Party, []byte) error {
	return fmt.Errorf("receive setup: %w", ErrNotSupported)
}

// RevealShare reports ErrNotSupported.
func (noKeyGen) RevealShare([]byte, []int) ([]byte, error) {
	return nil, fmt.Errorf("reveal share: %w", ErrNotSupported)
}

// noCollectiveKey implements CollectiveKey for schemes without key generation.
type noCollectiveKey struct{}

// CollectiveKey reports ErrNotSupported.
func (noCollectiveKey) CollectiveKey([]byte) ([]byte, error) {
	return nil, fmt.Errorf("collective key: %w", ErrNotSupported)
}

// sumPayloads folds payloads with c.
func sumPayloads(c Combiner, ps [][]byte) ([]byte, error) {
	acc := ps[0]
	for _, p := range ps[1:] {
		var err error
		if acc, err = c.Combine(acc, p); err != nil {
			return nil, err
		}
	}
	return acc, nil
}
