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

// NewRevealer returns the model owner's role.
func (s *Plain) NewRevealer(io.Reader) (Revealer, error) {
	setup := s.wire.header(kindSetup, 1, 0)
	return &PlainRevealer{s: s, w: s.wire.bind(setup), setup: setup}, nil
}

// NewProtector returns data owner owner's role.
func (s *Plain) NewProtector(owner int, setup []byte, _ io.Reader) (Protector, error) {
	if _, _, err := s.wire.open(setup, kindSetup, 0); err != nil {
		return nil, fmt.Errorf("plain: new protector: %w", err)
	}
	return &PlainProtector{s: s, w: s.wire.bind(setup)}, nil
}

// NewCombiner returns the secure worker's role.
func (s *Plain) NewCombiner(setup []byte) (Combiner, error) {
	if _, _, err := s.wire.open(setup, kindSetup, 0); err != nil {
		return nil, fmt.Errorf("plain: new combiner: %w", err)
	}
	return &PlainCombiner{s: s, w: s.wire.bind(setup)}, nil
}

// PlainRevealer is the model owner's role in plain.
type PlainRevealer struct {
	s     *Plain
	w     wire
	setup []byte
}

// Setup returns an empty set-up message.
func (r *PlainRevealer) Setup() []byte { return r.setup }

// Reveal adds the partials.
func (r *PlainRevealer) Reveal(partials [][]byte, _ []byte) ([]float64, float64, error) {
	if len(partials) == 0 {
		return nil, 0, fmt.Errorf("plain: reveal: %w: no partials", ErrTooFewShares)
	}
	acc, err := sumPayloads(&PlainCombiner{s: r.s, w: r.w}, partials)
	if err != nil {
		return nil, 0, fmt.Errorf("plain: reveal: %w", err)
	}
	_, v, err := r.s.unmarshal(r.w, acc)
	if err != nil {
		return nil, 0, fmt.Errorf("plain: reveal: %w", err)
	}
	n := r.s.cfg.Len
	if err := checkMean(v[:n], v[n], r.s.cfg.MaxNorm); err != nil {
		return nil, 0, fmt.Errorf("plain: reveal: %w", err)
	}
	return v[:n:n], v[n], nil
}

// PlainProtector is a data owner's role in plain.
type PlainProtector struct {
	s *Plain
	w wire
}

// Protect sends weight*update and weight in the clear to the secure worker.
func (p *PlainProtector) Protect(update []float64, weight float64) ([]Message, error) {
	v, err := withWeight(update, weight, p.s.cfg)
	if err != nil {
		return nil, fmt.Errorf("plain: protect: %w", err)
	}
	return []Message{{To: SecureWorker, Payload: p.s.marshalUpdate(p.w, v, 1)}}, nil
}

// PlainCombiner is the secure worker's role in plain. (It sees plaintext
// updates: plain is the trusted-aggregator baseline.)
type PlainCombiner struct {
	s *Plain
	w wire
}

// Combine adds two payloads. It rejects non-finite values and, with
// Config.MaxNorm, an operand whose mean exceeds the bound.
func (c *PlainCombiner) Combine(a, b []byte) ([]byte, error) {
	s := c.s
	if s.cfg.MaxNorm > 0 {
		// Decode fully to check each operand's mean.
		if _, _, err := s.unmarshal(c.w, a); err != nil {
			return nil, fmt.Errorf("plain: combine: first operand: %w", err)
		}
		if _, _, err := s.unmarshal(c.w, b); err != nil {
			return nil, fmt.Errorf("plain: combine: second operand: %w", err)
		}
	}
	count, ba, bb, err := c.w.combineCounts(a, b, kindUpdate, 8*(s.cfg.Len+1))
	if err != nil {
		return nil, fmt.Errorf("plain: combine: %w", err)
	}
	out := c.w.header(kindUpdate, count, len(ba))
	o := out[headerLen:]
	for i := 0; i+8 <= len(ba) && i+8 <= len(bb) && i+8 <= len(o); i += 8 {
		x, y := math.Float64frombits(binary.LittleEndian.Uint64(ba[i:])), math.Float64frombits(binary.LittleEndian.Uint64(bb[i:]))
		if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
			return nil, fmt.Errorf("plain: combine: %w: value %d is not finite", ErrBadPayload, i/8)
		}
		binary.LittleEndian.PutUint64(o[i:], math.Float64bits(x+y))
	}
	return out, nil
}

// Check decodes payload as one update and checks its values and norm.
func (c *PlainCombiner) Check(payload []byte, contributions int) error {
	count, _, err := c.s.unmarshal(c.w, payload)
	if err == nil && count != contributions {
		err = fmt.Errorf("%w: %d contributions, want %d", ErrMismatch, count, contributions)
	}
	if err != nil {
		return fmt.Errorf("plain: check: %w", err)
	}
	return nil
}

func (s *Plain) marshalUpdate(w wire, v []float64, count int) []byte {
	p := w.header(kindUpdate, count, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(p[headerLen+8*i:], math.Float64bits(x))
	}
	return p
}

// unmarshal decodes an update or partial sum of session w: Len values then
// the weight, all finite and, with MaxNorm, of bounded mean.
func (s *Plain) unmarshal(w wire, p []byte) (count int, v []float64, err error) {
	count, body, err := w.open(p, kindUpdate, 8*(s.cfg.Len+1))
	if err != nil {
		return 0, nil, err
	}
	v = make([]float64, s.cfg.Len+1)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(body[8*i:]))
		if math.IsNaN(v[i]) || math.IsInf(v[i], 0) {
			return 0, nil, fmt.Errorf("%w: value %d is %g", ErrBadPayload, i, v[i])
		}
	}
	n := s.cfg.Len
	if err := checkMean(v[:n], v[n], s.cfg.MaxNorm); err != nil {
		return 0, nil, err
	}
	return count, v, nil
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
