package crypto

import (
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/tuneinsight/lattigo/v5/core/rlwe"
	"github.com/tuneinsight/lattigo/v5/mhe"
	"github.com/tuneinsight/lattigo/v5/ring"
	"github.com/tuneinsight/lattigo/v5/utils/sampling"
)

// DefaultSmudgingLogSigma is log2 of the standard deviation of the noise each
// data owner adds to its key-switch share; see SECURITY in doc.go.
const DefaultSmudgingLogSigma = 55

// ThresholdCKKSLiteral records the ckks-threshold parameters.
type ThresholdCKKSLiteral struct {
	CKKSLiteral
	// SmudgingLogSigma is log2 of the key-switch smudging noise's standard
	// deviation (bounded at 6 sigma).
	SmudgingLogSigma float64
	// Owners and Threshold: any Threshold of the Owners data owners can
	// reveal; Threshold == Owners means every owner is needed.
	Owners, Threshold int
}

// ThresholdCKKS is the multiparty CKKS scheme "ckks-threshold" built on
// Lattigo's mhe package. The data owners each hold a secret-key share and
// generate a collective public key under which they encrypt; the secure
// worker adds ciphertexts; revealing needs a public-key-switch share from
// every data owner (or any Threshold of them, after Shamir sharing the key
// shares), which moves the aggregate to the model owner's own key.
//
// Fresh ciphertexts sit at level 1 with two 60-bit primes q0, q1 and scale
// 2^40*q1; the model owner rescales by q1 after key switching, which
// divides the smudging noise by q1, then decrypts at level 0.
type ThresholdCKKS struct {
	cfg  Config
	lit  ThresholdCKKSLiteral
	core *ckksCore
	wire wire
}

func newThresholdCKKS(cfg Config) (*ThresholdCKKS, error) {
	if cfg.Params == "" {
		cfg.Params = DefaultCKKSPreset
	}
	if cfg.Threshold == 0 {
		cfg.Threshold = cfg.Owners
	}
	if cfg.Threshold < 1 || cfg.Threshold > cfg.Owners {
		return nil, fmt.Errorf("threshold %d not in [1, %d]", cfg.Threshold, cfg.Owners)
	}
	logScale := ckksLogScale(cfg.FixedPoint.MaxAbs, cfg.Owners)
	cfg.FixedPoint = FixedPoint{}
	cl, err := ckksPreset(cfg.Params, 2, logScale)
	if err != nil {
		return nil, err
	}
	cfg.Params = cl.Name
	lit := ThresholdCKKSLiteral{CKKSLiteral: cl, SmudgingLogSigma: DefaultSmudgingLogSigma, Owners: cfg.Owners, Threshold: cfg.Threshold}
	core, err := newCKKSCore(cl, cfg)
	if err != nil {
		return nil, err
	}
	return &ThresholdCKKS{cfg: cfg, lit: lit, core: core, wire: newWire(idThresholdCKKS, "ckks-threshold", lit, cfg)}, nil
}

// Name returns "ckks-threshold".
func (s *ThresholdCKKS) Name() string { return "ckks-threshold" }

// Literal returns the ThresholdCKKSLiteral in use.
func (s *ThresholdCKKS) Literal() any { return s.lit }

// MaxAbs returns the largest magnitude a data owner may send.
func (s *ThresholdCKKS) MaxAbs() float64 { return s.core.bound }

func (s *ThresholdCKKS) smudging() ring.DiscreteGaussian {
	sigma := math.Exp2(s.lit.SmudgingLogSigma)
	return ring.DiscreteGaussian{Sigma: sigma, Bound: 6 * sigma}
}

func (s *ThresholdCKKS) polyLen(polys int) int {
	return polys * (s.core.level + 1) * s.core.params.N() * 8
}

// NewRevealer makes the model owner's key pair (the target of the key
// switch) and the public seed for the collective key's common random
// KeysEveryRound returns false: the collective key is made once, at
// set-up (KeyGen).
func (s *ThresholdCKKS) KeysEveryRound() bool { return false }

// Quorum returns the threshold t and that the t answering owners are
// fixed in advance: each key-switch share depends on the set
// (RevealSharing).
func (s *ThresholdCKKS) Quorum() (threshold int, fixed bool) { return s.cfg.Threshold, true }

// polynomial, read from rand.
func (s *ThresholdCKKS) NewRevealer(rand io.Reader) (Revealer, error) {
	var seed [32]byte
	if _, err := io.ReadFull(rand, seed[:]); err != nil {
		return nil, fmt.Errorf("ckks-threshold: new revealer: reading seed: %w", err)
	}
	sk, pk := rlwe.NewKeyGenerator(s.core.params).GenKeyPairNew()
	l := s.core.level
	setup := putPolys(s.wire.header(kindSetup, 1, 0), l, pk.Value[0].Q, pk.Value[1].Q)
	setup = append(setup, seed[:]...)
	return &ThresholdCKKSRevealer{s: s, w: s.wire.bind(setup), sk: sk, dec: s.core.newDecryptors(sk), setup: setup}, nil
}

// parseSetup returns the model owner's public key and the CRP.
func (s *ThresholdCKKS) parseSetup(setup []byte) (*rlwe.PublicKey, mhe.PublicKeyGenCRP, error) {
	_, body, err := s.wire.open(setup, kindSetup, s.polyLen(2)+32)
	if err != nil {
		return nil, mhe.PublicKeyGenCRP{}, err
	}
	pk := rlwe.NewPublicKey(s.core.params)
	rest, err := getPolys(body, s.core.params.Q(), s.core.level, pk.Value[0].Q, pk.Value[1].Q)
	if err != nil {
		return nil, mhe.PublicKeyGenCRP{}, err
	}
	prng, err := sampling.NewKeyedPRNG(rest)
	if err != nil {
		return nil, mhe.PublicKeyGenCRP{}, err
	}
	crp := mhe.NewPublicKeyGenProtocol(s.core.params).SampleCRP(prng)
	return pk, crp, nil
}

// NewProtector generates data owner owner's secret-key share.
func (s *ThresholdCKKS) NewProtector(owner int, setup []byte, rand io.Reader) (Protector, error) {
	if owner < 0 || owner >= s.cfg.Owners {
		return nil, fmt.Errorf("ckks-threshold: new protector: owner %d not in [0,%d)", owner, s.cfg.Owners)
	}
	target, crp, err := s.parseSetup(setup)
	if err != nil {
		return nil, fmt.Errorf("ckks-threshold: new protector: %w", err)
	}
	pcks, err := mhe.NewPublicKeySwitchProtocol(s.core.params, s.smudging())
	if err != nil {
		return nil, fmt.Errorf("ckks-threshold: new protector: %w", err)
	}
	p := &ThresholdCKKSProtector{s: s, w: s.wire.bind(setup), owner: owner, target: target, crp: crp, rand: rand,
		sk: rlwe.NewKeyGenerator(s.core.params).GenSecretKeyNew()}
	for w := 0; w < s.core.workers(); w++ {
		if w > 0 {
			pcks = pcks.ShallowCopy()
		}
		p.pcks = append(p.pcks, pcks)
	}
	if s.cfg.Threshold < s.cfg.Owners {
		thr := mhe.NewThresholdizer(s.core.params)
		p.thr = &thr
		p.received = make([]bool, s.cfg.Owners)
	}
	return p, nil
}

// NewCombiner returns the secure worker's role: parameters and the common
// random polynomial for the collective key.
func (s *ThresholdCKKS) NewCombiner(setup []byte) (Combiner, error) {
	_, crp, err := s.parseSetup(setup)
	if err != nil {
		return nil, fmt.Errorf("ckks-threshold: new combiner: %w", err)
	}
	return &ThresholdCKKSCombiner{s: s, w: s.wire.bind(setup), crp: crp}, nil
}

// ThresholdCKKSRevealer is the model owner's role: the secret key to which
// the aggregate is switched. It never holds a data owner's key share.
type ThresholdCKKSRevealer struct {
	s     *ThresholdCKKS
	w     wire
	sk    *rlwe.SecretKey
	dec   *decryptors
	setup []byte
}

// Setup returns the model owner's public key and the collective key seed.
func (r *ThresholdCKKSRevealer) Setup() []byte { return r.setup }

// Reveal applies the combined key-switch share to the aggregate and
// decrypts with the model owner's key. The share must come from at least
// Threshold data owners (all of them when Threshold == Owners).
func (r *ThresholdCKKSRevealer) Reveal(partials [][]byte, revealShare []byte) ([]float64, float64, error) {
	s := r.s
	if len(partials) == 0 {
		return nil, 0, fmt.Errorf("ckks-threshold: reveal: %w: no aggregate", ErrTooFewShares)
	}
	agg, err := sumPayloads(&ThresholdCKKSCombiner{s: s, w: r.w}, partials)
	if err != nil {
		return nil, 0, fmt.Errorf("ckks-threshold: reveal: %w", err)
	}
	_, body, err := r.w.open(agg, kindUpdate, s.core.bodyLen())
	if err != nil {
		return nil, 0, fmt.Errorf("ckks-threshold: reveal: %w", err)
	}
	cts, err := s.core.ciphertexts(body)
	if err != nil {
		return nil, 0, fmt.Errorf("ckks-threshold: reveal: %w", err)
	}
	if len(revealShare) == 0 {
		return nil, 0, fmt.Errorf("ckks-threshold: reveal: %w: no reveal share", ErrTooFewShares)
	}
	count, shareBody, err := r.w.open(revealShare, kindRevealShare, s.core.bodyLen())
	if err != nil {
		return nil, 0, fmt.Errorf("ckks-threshold: reveal: reveal share: %w", err)
	}
	if count < s.cfg.Threshold {
		return nil, 0, fmt.Errorf("ckks-threshold: reveal: %w: %d key-switch shares, need %d", ErrTooFewShares, count, s.cfg.Threshold)
	}
	return r.reveal(cts, shareBody)
}

// reveal key-switches and decrypts without checking the share count.
func (r *ThresholdCKKSRevealer) reveal(cts []*rlwe.Ciphertext, shareBody []byte) ([]float64, float64, error) {
	s := r.s
	shares, err := s.core.ciphertexts(shareBody)
	if err != nil {
		return nil, 0, fmt.Errorf("ckks-threshold: reveal: reveal share: %w", err)
	}
	ringQ := s.core.params.RingQ().AtLevel(s.core.level)
	for i, ct := range cts {
		ringQ.Add(ct.Value[0], shares[i].Value[0], ct.Value[0])
		ct.Value[1].Copy(shares[i].Value[1])
	}
	v, err := s.core.decrypt(r.dec, cts)
	if err != nil {
		return nil, 0, fmt.Errorf("ckks-threshold: reveal: %w", err)
	}
	n := s.cfg.Len
	if err := checkMean(v[:n], v[n], s.cfg.MaxNorm); err != nil {
		return nil, 0, fmt.Errorf("ckks-threshold: reveal: %w", err)
	}
	return v[:n:n], v[n], nil
}

// ThresholdCKKSProtector is a data owner's role: its own secret-key share
// (after t-out-of-N set-up, its Shamir share instead), the collective
// public key and the model owner's public key.
type ThresholdCKKSProtector struct {
	s      *ThresholdCKKS
	w      wire
	owner  int
	target *rlwe.PublicKey
	crp    mhe.PublicKeyGenCRP
	sk     *rlwe.SecretKey
	pcks   []mhe.PublicKeySwitchProtocol
	enc    *encryptors
	rand   io.Reader

	// t-out-of-N state.
	thr      *mhe.Thresholdizer
	tsk      *mhe.ShamirSecretShare
	received []bool
}

func (s *ThresholdCKKS) shamirPoint(owner int) mhe.ShamirPublicPoint {
	return mhe.ShamirPublicPoint(owner + 1)
}

// KeyShares returns the collective-key share for the secure worker and,
// for t < N, one Shamir share of the secret-key share for every other data
// owner. Shamir shares are secret: the actor layer must send them over
// confidential owner-to-owner channels, never through the secure worker.
func (p *ThresholdCKKSProtector) KeyShares() ([]Message, error) {
	s := p.s
	ckg := mhe.NewPublicKeyGenProtocol(s.core.params)
	share := ckg.AllocateShare()
	ckg.GenShare(p.sk, p.crp, &share)
	msgs := []Message{{To: SecureWorker, Payload: putPolys(p.w.header(kindKeyShare, 1, 0), s.core.level, share.Value.Q)}}
	if s.cfg.Threshold == s.cfg.Owners {
		return msgs, nil
	}
	if p.received[p.owner] {
		return nil, fmt.Errorf("ckks-threshold: key shares: already generated")
	}
	thr := p.thr
	poly, err := thr.GenShamirPolynomial(s.cfg.Threshold, p.sk)
	if err != nil {
		return nil, fmt.Errorf("ckks-threshold: key shares: %w", err)
	}
	for j := 0; j < s.cfg.Owners; j++ {
		sh := thr.AllocateThresholdSecretShare()
		thr.GenShamirSecretShare(s.shamirPoint(j), poly, &sh)
		if j == p.owner {
			p.addPeerShare(j, sh)
			continue
		}
		msgs = append(msgs, Message{To: Party(j), Payload: putPolys(p.w.header(kindPeerShare, 1, 0), s.core.level, sh.Poly.Q)})
	}
	return msgs, nil
}

func (p *ThresholdCKKSProtector) addPeerShare(from int, sh mhe.ShamirSecretShare) {
	p.received[from] = true
	if p.tsk == nil {
		p.tsk = &sh
		return
	}
	p.thr.AggregateShares(*p.tsk, sh, p.tsk)
	if !slices.Contains(p.received, false) {
		p.sk = nil // from now on only the Shamir share is used
	}
}

// ReceiveKey takes the collective public key from the secure worker or
// a Shamir share from another data owner. The owner is complete with the
// collective key and, for t < N, every other owner's Shamir share.
func (p *ThresholdCKKSProtector) ReceiveKey(from Party, payload []byte) (complete bool, err error) {
	err = p.receiveKey(from, payload)
	return p.enc != nil && (p.s.cfg.Threshold == p.s.cfg.Owners || !slices.Contains(p.received, false)), err
}

func (p *ThresholdCKKSProtector) receiveKey(from Party, payload []byte) error {
	s := p.s
	switch {
	case from == SecureWorker:
		_, body, err := p.w.open(payload, kindCollectiveKey, s.polyLen(2))
		if err != nil {
			return fmt.Errorf("ckks-threshold: receive collective key: %w", err)
		}
		pk := rlwe.NewPublicKey(s.core.params)
		if _, err := getPolys(body, s.core.params.Q(), s.core.level, pk.Value[0].Q, pk.Value[1].Q); err != nil {
			return fmt.Errorf("ckks-threshold: receive collective key: %w", err)
		}
		if p.enc, err = s.core.newEncryptors(pk, p.rand); err != nil {
			return fmt.Errorf("ckks-threshold: receive collective key: %w", err)
		}
		return nil
	case int(from) >= 0 && int(from) < s.cfg.Owners && int(from) != p.owner && s.cfg.Threshold < s.cfg.Owners:
		if p.received[from] {
			return fmt.Errorf("ckks-threshold: receive peer share: %w: second share from %v", ErrMismatch, from)
		}
		_, body, err := p.w.open(payload, kindPeerShare, s.polyLen(1))
		if err != nil {
			return fmt.Errorf("ckks-threshold: receive peer share from %v: %w", from, err)
		}
		sh := p.thr.AllocateThresholdSecretShare()
		if _, err := getPolys(body, s.core.params.Q(), s.core.level, sh.Poly.Q); err != nil {
			return fmt.Errorf("ckks-threshold: receive peer share from %v: %w", from, err)
		}
		p.addPeerShare(int(from), sh)
		return nil
	}
	return fmt.Errorf("ckks-threshold: receive key: unexpected sender %v", from)
}

// Protect encrypts weight*update and weight under the collective key.
func (p *ThresholdCKKSProtector) Protect(update []float64, weight float64) ([]Message, error) {
	if p.enc == nil {
		return nil, fmt.Errorf("ckks-threshold: protect: no collective key yet")
	}
	v, err := withWeight(update, weight, p.s.cfg)
	if err != nil {
		return nil, fmt.Errorf("ckks-threshold: protect: %w", err)
	}
	out := p.w.header(kindUpdate, 1, p.s.core.bodyLen())
	if err := p.s.core.encrypt(p.enc, v, out[headerLen:]); err != nil {
		return nil, fmt.Errorf("ckks-threshold: protect: %w", err)
	}
	return []Message{{To: SecureWorker, Payload: out}}, nil
}

// RevealShare returns this owner's public-key-switch share of aggregate
// towards the model owner's key, with smudging noise. active lists the
// data owners taking part: exactly Threshold of them (all when Threshold ==
// Owners), the same list for every participant. contributors is not
// needed: the aggregate's ciphertexts decrypt whatever they sum.
func (p *ThresholdCKKSProtector) RevealShare(aggregate []byte, _, active []int) ([]byte, error) {
	s := p.s
	sk, err := p.keyFor(active)
	if err != nil {
		return nil, fmt.Errorf("ckks-threshold: reveal share: %w", err)
	}
	_, body, err := p.w.open(aggregate, kindUpdate, s.core.bodyLen())
	if err != nil {
		return nil, fmt.Errorf("ckks-threshold: reveal share: %w", err)
	}
	cts, err := s.core.ciphertexts(body)
	if err != nil {
		return nil, fmt.Errorf("ckks-threshold: reveal share: %w", err)
	}
	out := p.w.header(kindRevealShare, 1, s.core.bodyLen())
	ctLen := s.core.ctLen()
	parallelFor(len(cts), len(p.pcks), func(w, i int) {
		share := p.pcks[w].AllocateShare(s.core.level)
		p.pcks[w].GenShare(sk, p.target, cts[i], &share)
		putPolys(out[headerLen+i*ctLen:headerLen+i*ctLen], s.core.level, share.Value[0], share.Value[1])
	})
	return out, nil
}

// keyFor returns the additive secret share to use with the active set.
func (p *ThresholdCKKSProtector) keyFor(active []int) (*rlwe.SecretKey, error) {
	s := p.s
	seen := map[int]bool{}
	for _, a := range active {
		if a < 0 || a >= s.cfg.Owners || seen[a] {
			return nil, fmt.Errorf("invalid active set %v", active)
		}
		seen[a] = true
	}
	if !seen[p.owner] {
		return nil, fmt.Errorf("owner %d not in active set %v", p.owner, active)
	}
	if len(active) < s.cfg.Threshold {
		return nil, fmt.Errorf("%w: %d active owners, need %d", ErrTooFewShares, len(active), s.cfg.Threshold)
	}
	if len(active) > s.cfg.Threshold {
		return nil, fmt.Errorf("active set %v: pick exactly %d owners", active, s.cfg.Threshold)
	}
	if s.cfg.Threshold == s.cfg.Owners {
		return p.sk, nil
	}
	if p.tsk == nil || slices.Contains(p.received, false) {
		return nil, fmt.Errorf("%w: peer key shares missing", ErrTooFewShares)
	}
	points := make([]mhe.ShamirPublicPoint, 0, len(active))
	var others []mhe.ShamirPublicPoint
	for j := 0; j < s.cfg.Owners; j++ {
		if j != p.owner {
			others = append(others, s.shamirPoint(j))
		}
	}
	for _, a := range active {
		points = append(points, s.shamirPoint(a))
	}
	cmb := mhe.NewCombiner(*s.core.params.GetRLWEParameters(), s.shamirPoint(p.owner), others, s.cfg.Threshold)
	sk := rlwe.NewSecretKey(s.core.params)
	if err := cmb.GenAdditiveShare(points, s.shamirPoint(p.owner), *p.tsk, sk); err != nil {
		return nil, err
	}
	return sk, nil
}

// ThresholdCKKSCombiner is the secure worker's role: parameters and the
// common random polynomial; it never holds a secret-key share.
type ThresholdCKKSCombiner struct {
	s   *ThresholdCKKS
	w   wire
	crp mhe.PublicKeyGenCRP
}

// Combine adds encrypted updates, collective-key shares or key-switch shares.
func (c *ThresholdCKKSCombiner) Combine(a, b []byte) ([]byte, error) {
	s := c.s
	var (
		out []byte
		err error
	)
	switch k := kindOf(a); k {
	case kindUpdate, kindRevealShare:
		out, err = combineCiphertexts(c.w, s.core, k, a, b)
	case kindKeyShare:
		var count int
		var ba, bb []byte
		count, ba, bb, err = c.w.combineCounts(a, b, k, s.polyLen(1))
		if err == nil {
			out = c.w.header(k, count, len(ba))
			err = addBodies(out[headerLen:], ba, bb, s.core.params.Q(), s.core.level, s.core.params.N())
		}
	default:
		err = fmt.Errorf("%w: cannot combine a %v", ErrMismatch, k)
	}
	if err != nil {
		return nil, fmt.Errorf("ckks-threshold: combine: %w", err)
	}
	return out, nil
}

// CollectiveKey turns the sum of all data owners' key shares into the
// collective public key, to be sent to every data owner.
func (c *ThresholdCKKSCombiner) CollectiveKey(keyShares []byte) ([]byte, error) {
	s := c.s
	count, body, err := c.w.open(keyShares, kindKeyShare, s.polyLen(1))
	if err != nil {
		return nil, fmt.Errorf("ckks-threshold: collective key: %w", err)
	}
	if count != s.cfg.Owners {
		return nil, fmt.Errorf("ckks-threshold: collective key: %w: %d of %d owners", ErrTooFewShares, count, s.cfg.Owners)
	}
	ckg := mhe.NewPublicKeyGenProtocol(s.core.params)
	share := ckg.AllocateShare()
	if _, err := getPolys(body, s.core.params.Q(), s.core.level, share.Value.Q); err != nil {
		return nil, fmt.Errorf("ckks-threshold: collective key: %w", err)
	}
	pk := rlwe.NewPublicKey(s.core.params)
	ckg.GenPublicKey(share, c.crp, pk)
	return putPolys(c.w.header(kindCollectiveKey, 1, 0), s.core.level, pk.Value[0].Q, pk.Value[1].Q), nil
}

// Check decodes payload as one encrypted update of this session.
func (c *ThresholdCKKSCombiner) Check(payload []byte, contributions int) error {
	if err := checkCiphertexts(c.w, c.s.core, payload, contributions); err != nil {
		return fmt.Errorf("ckks-threshold: check: %w", err)
	}
	return nil
}
