package crypto

import (
	"fmt"
	"io"

	"github.com/tuneinsight/lattigo/v5/core/rlwe"
)

// DefaultCKKSPreset is the preset used when Config.Params is empty. Every
// preset sends the same 1 MiB for the 30,514-value model (the slots used are
// the same); on the 2-core machine logN13 was 10-20% faster than logN14 and
// logN15 at protect and reveal (more, smaller ciphertexts balance better
// over the cores) and had the smallest error, at the same 128-bit security.
const DefaultCKKSPreset = "logN13"

// CKKS is the single-key CKKS scheme "ckks". The model owner generates the
// key pair; data owners encrypt with the public key; the secure worker adds
// ciphertexts; the model owner decrypts. An update and its weight are
// packed across ceil((Len+1)/slots) ciphertexts at level 0 with one 60-bit
// prime and the largest scale that fits the fixed-point range (see doc.go).
type CKKS struct {
	cfg  Config
	lit  CKKSLiteral
	core *ckksCore
	wire wire
}

func newCKKS(cfg Config) (*CKKS, error) {
	if cfg.Params == "" {
		cfg.Params = DefaultCKKSPreset
	}
	logScale := ckksLogScale(cfg.FixedPoint.MaxAbs, cfg.Owners)
	cfg.Threshold, cfg.FixedPoint = 0, FixedPoint{}
	lit, err := ckksPreset(cfg.Params, 1, logScale)
	if err != nil {
		return nil, err
	}
	cfg.Params = lit.Name
	core, err := newCKKSCore(lit, cfg)
	if err != nil {
		return nil, err
	}
	return &CKKS{cfg: cfg, lit: lit, core: core, wire: newWire(idCKKS, "ckks", lit, cfg)}, nil
}

// Name returns "ckks".
func (s *CKKS) Name() string { return "ckks" }

// Literal returns the CKKSLiteral in use.
func (s *CKKS) Literal() any { return s.lit }

// MaxAbs returns the largest magnitude a data owner may send (weight*update
// and weight): the sum over all owners must stay below the modulus.
func (s *CKKS) MaxAbs() float64 { return s.core.bound }

// NewRevealer generates the model owner's key pair. Lattigo draws the key
// randomness from its own PRNG seeded by crypto/rand; rand is unused.
func (s *CKKS) NewRevealer(io.Reader) (Revealer, error) {
	sk, pk := rlwe.NewKeyGenerator(s.core.params).GenKeyPairNew()
	r := &CKKSRevealer{s: s, sk: sk, dec: s.core.newDecryptors(sk)}
	r.setup = putPolys(s.wire.header(kindSetup, 1, 0), 0, pk.Value[0].Q, pk.Value[1].Q)
	r.w = s.wire.bind(r.setup)
	return r, nil
}

// publicKey decodes the model owner's set-up.
func (s *CKKS) publicKey(setup []byte) (*rlwe.PublicKey, error) {
	n := s.core.params.N()
	_, body, err := s.wire.open(setup, kindSetup, 2*n*8)
	if err != nil {
		return nil, err
	}
	pk := rlwe.NewPublicKey(s.core.params)
	if _, err := getPolys(body, s.core.params.Q(), 0, pk.Value[0].Q, pk.Value[1].Q); err != nil {
		return nil, err
	}
	return pk, nil
}

// NewProtector returns a data owner's role holding the public key. The
// encryption randomness comes from ChaCha8 streams keyed from rand.
func (s *CKKS) NewProtector(owner int, setup []byte, rand io.Reader) (Protector, error) {
	pk, err := s.publicKey(setup)
	if err != nil {
		return nil, fmt.Errorf("ckks: new protector: %w", err)
	}
	e, err := s.core.newEncryptors(pk, rand)
	if err != nil {
		return nil, fmt.Errorf("ckks: new protector: %w", err)
	}
	return &CKKSProtector{s: s, w: s.wire.bind(setup), enc: e}, nil
}

// NewCombiner returns the secure worker's role. It checks the set-up but
// keeps nothing from it: adding ciphertexts needs no key.
func (s *CKKS) NewCombiner(setup []byte) (Combiner, error) {
	if _, err := s.publicKey(setup); err != nil {
		return nil, fmt.Errorf("ckks: new combiner: %w", err)
	}
	return &CKKSCombiner{s: s, w: s.wire.bind(setup)}, nil
}

// CKKSRevealer is the model owner's role in ckks; it holds the secret key.
type CKKSRevealer struct {
	s     *CKKS
	w     wire
	sk    *rlwe.SecretKey
	dec   *decryptors
	setup []byte
}

// Setup returns the public key.
func (r *CKKSRevealer) Setup() []byte { return r.setup }

// Reveal decrypts the secure worker's aggregate (several partials are added first).
func (r *CKKSRevealer) Reveal(partials [][]byte, _ []byte) ([]float64, float64, error) {
	if len(partials) == 0 {
		return nil, 0, fmt.Errorf("ckks: reveal: %w: no aggregate", ErrTooFewShares)
	}
	agg, err := sumPayloads(&CKKSCombiner{s: r.s, w: r.w}, partials)
	if err != nil {
		return nil, 0, fmt.Errorf("ckks: reveal: %w", err)
	}
	_, body, err := r.w.open(agg, kindUpdate, r.s.core.bodyLen())
	if err != nil {
		return nil, 0, fmt.Errorf("ckks: reveal: %w", err)
	}
	cts, err := r.s.core.ciphertextsInto(r.dec.cts, body)
	if err != nil {
		return nil, 0, fmt.Errorf("ckks: reveal: %w", err)
	}
	r.dec.cts = cts
	v, err := r.s.core.decrypt(r.dec, cts)
	if err != nil {
		return nil, 0, fmt.Errorf("ckks: reveal: %w", err)
	}
	n := r.s.cfg.Len
	if err := checkMean(v[:n], v[n], r.s.cfg.MaxNorm); err != nil {
		return nil, 0, fmt.Errorf("ckks: reveal: %w", err)
	}
	return v[:n:n], v[n], nil
}

// CKKSProtector is a data owner's role in ckks: encryptors under the
// model owner's public key. It is not safe for concurrent use; Protect
// itself uses up to GOMAXPROCS goroutines.
type CKKSProtector struct {
	s   *CKKS
	w   wire
	enc *encryptors
}

// Protect encrypts weight*update and weight for the secure worker.
func (p *CKKSProtector) Protect(update []float64, weight float64) ([]Message, error) {
	v, err := withWeight(update, weight, p.s.cfg)
	if err != nil {
		return nil, fmt.Errorf("ckks: protect: %w", err)
	}
	out := p.w.header(kindUpdate, 1, p.s.core.bodyLen())
	if err := p.s.core.encrypt(p.enc, v, out[headerLen:]); err != nil {
		return nil, fmt.Errorf("ckks: protect: %w", err)
	}
	return []Message{{To: SecureWorker, Payload: out}}, nil
}

// CKKSCombiner is the secure worker's role in ckks: parameters only.
type CKKSCombiner struct {
	s *CKKS
	w wire
}

// Combine adds two encrypted updates (or partial sums).
func (c *CKKSCombiner) Combine(a, b []byte) ([]byte, error) {
	out, err := combineCiphertexts(c.w, c.s.core, kindUpdate, a, b)
	if err != nil {
		return nil, fmt.Errorf("ckks: combine: %w", err)
	}
	return out, nil
}

// Check decodes payload as one encrypted update of this session.
func (c *CKKSCombiner) Check(payload []byte, contributions int) error {
	if err := checkCiphertexts(c.w, c.s.core, payload, contributions); err != nil {
		return fmt.Errorf("ckks: check: %w", err)
	}
	return nil
}

// checkCiphertexts decodes p as a sum of contributions updates.
func checkCiphertexts(w wire, c *ckksCore, p []byte, contributions int) error {
	count, body, err := w.open(p, kindUpdate, c.bodyLen())
	if err != nil {
		return err
	}
	if count != contributions {
		return fmt.Errorf("%w: %d contributions, want %d", ErrMismatch, count, contributions)
	}
	_, err = c.ciphertexts(body)
	return err
}

// combineCiphertexts adds two payloads of kind k whose bodies are
// polynomials at the core's level.
func combineCiphertexts(w wire, c *ckksCore, k kind, a, b []byte) ([]byte, error) {
	count, ba, bb, err := w.combineCounts(a, b, k, c.bodyLen())
	if err != nil {
		return nil, err
	}
	out := w.header(k, count, len(ba))
	if err := addBodies(out[headerLen:], ba, bb, c.params.Q(), c.level, c.params.N()); err != nil {
		return nil, err
	}
	return out, nil
}
