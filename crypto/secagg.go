package crypto

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
)

// SecAggLiteral records the secagg parameters.
type SecAggLiteral struct {
	// Ring is where masked updates live: "Z/2^64".
	Ring string
	// FixedPoint is the encoding of each value.
	FixedPoint FixedPoint
	// KeyAgreement is the pairwise key agreement: "X25519", fresh per round.
	KeyAgreement string
	// ShareField is the field of the Shamir shares of round keys and seeds.
	ShareField string
	// Owners and Threshold: any Threshold data owners' reveal shares unmask
	// the aggregate of at least Threshold contributors.
	Owners, Threshold int
}

// SecAgg is the pairwise-masking secure aggregation scheme "secagg", after
// Bonawitz et al., "Practical Secure Aggregation for Privacy-Preserving
// Machine Learning" (CCS 2017), for a semi-honest secure worker.
//
// Every round each data owner u draws a fresh X25519 key pair (sk_u, pk_u)
// and a 32-byte self-mask seed b_u, advertises pk_u through the secure
// worker, and Shamir-shares sk_u and b_u (threshold t, over GF(2^61-1))
// among the data owners. Its protected update is the fixed-point encoding
// of weight*update and weight in Z/2^64 plus PRG(b_u) plus, for every other
// owner v in the round's key list, PRG(KDF(ECDH(sk_u, pk_v))) added when
// u < v and subtracted when u > v, so the pairwise masks cancel in the sum.
// To unmask, data owners send, encrypted to the model owner, their shares
// of b_u for each contributor u and of sk_v for each listed owner v that
// did not contribute; the model owner rebuilds them from any t shares,
// removes the self masks and the dropped owners' pairwise masks. The
// secure worker sees only masked vectors and sealed shares.
type SecAgg struct {
	cfg  Config
	lit  SecAggLiteral
	nb   int // bytes of a contributor bitmap
	wire wire
}

func newSecAgg(cfg Config) (*SecAgg, error) {
	cfg.Params = ""
	if cfg.Threshold == 0 {
		cfg.Threshold = cfg.Owners/2 + 1
	}
	if cfg.Threshold < 1 || cfg.Threshold > cfg.Owners {
		return nil, fmt.Errorf("threshold %d not in [1, %d]", cfg.Threshold, cfg.Owners)
	}
	if err := cfg.FixedPoint.check(cfg.Owners, 64); err != nil {
		return nil, err
	}
	lit := SecAggLiteral{Ring: "Z/2^64", FixedPoint: cfg.FixedPoint, KeyAgreement: "X25519",
		ShareField: "GF(2^61-1)", Owners: cfg.Owners, Threshold: cfg.Threshold}
	return &SecAgg{cfg: cfg, lit: lit, nb: (cfg.Owners + 7) / 8, wire: newWire(idSecAgg, "secagg", lit, cfg)}, nil
}

// Name returns "secagg".
func (s *SecAgg) Name() string { return "secagg" }

// Literal returns the SecAggLiteral in use.
func (s *SecAgg) Literal() any { return s.lit }

// Sizes on the wire.
const (
	secAggKeyEntry   = 4 + 32     // owner index, X25519 public key
	secAggSecretLen  = 5          // field elements per 32-byte secret
	secAggPeerLen    = 32 + 8*2*5 // sender's public key, shares of sk and b
	secAggPlainEntry = 1 + 8*5    // present flag and one share, per listed owner
)

// Domain labels of the key derivations.
const (
	labelPairMask = "fedactor secagg pairwise mask v1"
	labelReveal   = "fedactor secagg reveal share v1"
	labelKeyList  = "fedactor secagg key list v1"
)

// NewRevealer makes the model owner's X25519 key pair, to which data owners
// KeysEveryRound returns true: every round's owners make fresh keys
// (KeyGen).
func (s *SecAgg) KeysEveryRound() bool { return true }

// Quorum returns the threshold t: any t owners' reveal shares unmask
// (RevealSharing).
func (s *SecAgg) Quorum() (threshold int, fixed bool) { return s.cfg.Threshold, false }

// seal their reveal shares, from 32 bytes of rand.
func (s *SecAgg) NewRevealer(rand io.Reader) (Revealer, error) {
	sk, err := newX25519(rand)
	if err != nil {
		return nil, fmt.Errorf("secagg: new revealer: %w", err)
	}
	setup := s.wire.header(kindSetup, 1, 32)
	copy(setup[headerLen:], sk.PublicKey().Bytes())
	w := s.wire.bind(setup)
	return &SecAggRevealer{s: s, w: w, sk: sk, setup: setup, c: &SecAggCombiner{s: s, w: w}}, nil
}

// newX25519 returns a private key made from 32 bytes of rand.
func newX25519(rand io.Reader) (*ecdh.PrivateKey, error) {
	var b [32]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return nil, fmt.Errorf("reading key: %w", err)
	}
	defer clear(b[:])
	return ecdh.X25519().NewPrivateKey(b[:])
}

// modelOwnerKey decodes the set-up: the model owner's public key.
func (s *SecAgg) modelOwnerKey(setup []byte) (*ecdh.PublicKey, error) {
	_, body, err := s.wire.open(setup, kindSetup, 32)
	if err != nil {
		return nil, err
	}
	pk, err := ecdh.X25519().NewPublicKey(body)
	if err != nil {
		return nil, fmt.Errorf("%w: model owner key: %v", ErrBadPayload, err)
	}
	return pk, nil
}

// NewProtector returns data owner owner's role; rand supplies its round
// keys, seeds and polynomial coefficients.
func (s *SecAgg) NewProtector(owner int, setup []byte, rand io.Reader) (Protector, error) {
	if owner < 0 || owner >= s.cfg.Owners {
		return nil, fmt.Errorf("secagg: new protector: owner %d not in [0,%d)", owner, s.cfg.Owners)
	}
	mo, err := s.modelOwnerKey(setup)
	if err != nil {
		return nil, fmt.Errorf("secagg: new protector: %w", err)
	}
	return &SecAggProtector{s: s, w: s.wire.bind(setup), owner: owner, mo: mo, rand: rand}, nil
}

// NewCombiner returns the secure worker's role: parameters only.
func (s *SecAgg) NewCombiner(setup []byte) (Combiner, error) {
	if _, err := s.modelOwnerKey(setup); err != nil {
		return nil, fmt.Errorf("secagg: new combiner: %w", err)
	}
	return &SecAggCombiner{s: s, w: s.wire.bind(setup)}, nil
}

// keyEntry is one owner's advertised public key.
type keyEntry struct {
	owner int
	pk    []byte
}

// parseKeys decodes a key list of kind k: count entries, strictly
// increasing by owner.
func (s *SecAgg) parseKeys(w wire, p []byte, k kind) (keys []keyEntry, body []byte, err error) {
	if len(p) < headerLen {
		return nil, nil, fmt.Errorf("%w: %d bytes, shorter than the header", ErrBadPayload, len(p))
	}
	count, body, err := w.open(p, k, -1)
	if err != nil {
		return nil, nil, err
	}
	if len(body) != count*secAggKeyEntry {
		return nil, nil, fmt.Errorf("%w: %v body of %d bytes, want %d", ErrBadPayload, k, len(body), count*secAggKeyEntry)
	}
	keys, err = s.decodeKeys(body)
	return keys, body, err
}

// decodeKeys decodes len(body)/36 key entries.
func (s *SecAgg) decodeKeys(body []byte) ([]keyEntry, error) {
	keys := make([]keyEntry, len(body)/secAggKeyEntry)
	for i := range keys {
		e := body[i*secAggKeyEntry : (i+1)*secAggKeyEntry]
		o := binary.LittleEndian.Uint32(e)
		if o >= uint32(s.cfg.Owners) || i > 0 && int(o) <= keys[i-1].owner {
			return nil, fmt.Errorf("%w: key list entry %d: owner %d out of order or range", ErrBadPayload, i, o)
		}
		keys[i] = keyEntry{owner: int(o), pk: e[4:]}
	}
	return keys, nil
}

// keyDigest fingerprints a key list body.
func keyDigest(keysBody []byte) []byte {
	h := sha256.New()
	h.Write([]byte(labelKeyList))
	h.Write(keysBody)
	return h.Sum(nil)[:8]
}

// pairSeed derives the pairwise mask seed of owners u and v from their
// X25519 shared secret.
func pairSeed(w wire, u, v int, shared []byte) [32]byte {
	lo, hi := min(u, v), max(u, v)
	h := sha256.New()
	h.Write([]byte(labelPairMask))
	h.Write(binary.LittleEndian.AppendUint64(nil, w.fp))
	h.Write(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, uint32(lo)), uint32(hi)))
	h.Write(shared)
	return [32]byte(h.Sum(nil))
}

// addStream adds (or with neg subtracts) a ChaCha8 stream keyed by seed to
// acc, modulo 2^64.
func addStream(acc []uint64, seed [32]byte, neg bool) {
	g := rand.NewChaCha8(seed)
	if neg {
		for i := range acc {
			acc[i] -= g.Uint64()
		}
		return
	}
	for i := range acc {
		acc[i] += g.Uint64()
	}
}

// sealKey derives the AEAD of a reveal share sealed with ephemeral key eph
// to the model owner's key mo, given their shared secret.
func sealKey(w wire, eph, mo, shared []byte) (cipher.AEAD, error) {
	h := sha256.New()
	h.Write([]byte(labelReveal))
	h.Write(binary.LittleEndian.AppendUint64(nil, w.fp))
	h.Write(eph)
	h.Write(mo)
	h.Write(shared)
	block, err := aes.NewCipher(h.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealAAD binds a sealed reveal share to its key list, contributors and
// responder.
func sealAAD(digest, contributors []byte, responder int) []byte {
	aad := append(slices.Clone(digest), contributors...)
	return binary.LittleEndian.AppendUint32(aad, uint32(responder))
}

// maskedUpdate is a decoded masked update or sum.
type maskedUpdate struct {
	count  int
	digest []byte // key list digest, 8 bytes
	owners []byte // contributor bitmap
	vals   []byte // 8*(Len+1) bytes, little-endian elements of Z/2^64
}

func (s *SecAgg) updateLen() int { return 8 + s.nb + 8*(s.cfg.Len+1) }

// parseUpdate decodes a masked update or sum of session w.
func (s *SecAgg) parseUpdate(w wire, p []byte) (m maskedUpdate, err error) {
	count, body, err := w.open(p, kindUpdate, s.updateLen())
	if err != nil {
		return m, err
	}
	m = maskedUpdate{count: count, digest: body[:8], owners: body[8 : 8+s.nb], vals: body[8+s.nb:]}
	if err := checkBitmap(m.owners, s.cfg.Owners, count); err != nil {
		return m, err
	}
	return m, nil
}

// revealShare is a decoded (combined) reveal share.
type revealShare struct {
	count        int
	keysBody     []byte // the round's key list
	keys         []keyEntry
	contributors []byte // bitmap
	sealed       [][]byte
	from         []int // responder of each sealed share
}

// sealedLen is the size of one responder's sealed share for nKeys owners.
func sealedLen(nKeys int) int { return 4 + 32 + nKeys*secAggPlainEntry + 16 }

// parseRevealShare decodes a reveal share of session w.
func (s *SecAgg) parseRevealShare(w wire, p []byte) (r revealShare, err error) {
	count, body, err := w.open(p, kindRevealShare, -1)
	if err != nil {
		return r, err
	}
	if len(body) < 4 {
		return r, fmt.Errorf("%w: truncated reveal share", ErrBadPayload)
	}
	nKeys := binary.LittleEndian.Uint32(body)
	if nKeys < 1 || nKeys > uint32(s.cfg.Owners) {
		return r, fmt.Errorf("%w: key list of %d owners", ErrBadPayload, nKeys)
	}
	n := int(nKeys)
	want := 4 + n*secAggKeyEntry + s.nb + count*sealedLen(n)
	if len(body) != want {
		return r, fmt.Errorf("%w: reveal share body of %d bytes, want %d", ErrBadPayload, len(body), want)
	}
	r.count = count
	r.keysBody = body[4 : 4+n*secAggKeyEntry]
	if r.keys, err = s.decodeKeys(r.keysBody); err != nil {
		return r, err
	}
	r.contributors = body[4+n*secAggKeyEntry : 4+n*secAggKeyEntry+s.nb]
	if _, err := bitmapOnes(r.contributors, s.cfg.Owners); err != nil {
		return r, err
	}
	for u := 0; u < s.cfg.Owners; u++ {
		if hasBit(r.contributors, u) && !slices.ContainsFunc(r.keys, func(e keyEntry) bool { return e.owner == u }) {
			return r, fmt.Errorf("%w: contributor %d is not in the key list", ErrMismatch, u)
		}
	}
	rest := body[4+n*secAggKeyEntry+s.nb:]
	for i := 0; i < count; i++ {
		blob := rest[i*sealedLen(n) : (i+1)*sealedLen(n)]
		o := binary.LittleEndian.Uint32(blob)
		if o >= uint32(s.cfg.Owners) || i > 0 && int(o) <= r.from[i-1] {
			return r, fmt.Errorf("%w: responder %d out of order or range", ErrBadPayload, o)
		}
		r.from = append(r.from, int(o))
		r.sealed = append(r.sealed, blob)
	}
	return r, nil
}

// hasBit reports whether bitmap marks owner i.
func hasBit(bitmap []byte, i int) bool { return bitmap[i/8]>>(i%8)&1 == 1 }

// marshalRevealShare encodes r's key list, contributors and sealed shares.
func (s *SecAgg) marshalRevealShare(w wire, r revealShare) []byte {
	n := len(r.keysBody) / secAggKeyEntry
	out := w.header(kindRevealShare, len(r.sealed), 0)
	out = binary.LittleEndian.AppendUint32(out, uint32(n))
	out = append(out, r.keysBody...)
	out = append(out, r.contributors...)
	for _, b := range r.sealed {
		out = append(out, b...)
	}
	return out
}

// SecAggRevealer is the model owner's role: the private key to which
// reveal shares are sealed.
type SecAggRevealer struct {
	s     *SecAgg
	w     wire
	sk    *ecdh.PrivateKey
	setup []byte
	c     *SecAggCombiner
}

// Setup returns the model owner's public key.
func (r *SecAggRevealer) Setup() []byte { return r.setup }

// Reveal unmasks the masked sum (the partials are added first) with the
// combined reveal share: it rebuilds b_u of every contributor and sk_v of
// every listed non-contributor from any Threshold shares and removes their
// masks. Fewer shares give ErrTooFewShares; a reveal share whose key list
// or contributors differ from the aggregate's gives ErrMismatch.
func (r *SecAggRevealer) Reveal(partials [][]byte, share []byte) ([]float64, float64, error) {
	s := r.s
	if len(partials) == 0 {
		return nil, 0, fmt.Errorf("secagg: reveal: %w: no aggregate", ErrTooFewShares)
	}
	if len(share) == 0 {
		return nil, 0, fmt.Errorf("secagg: reveal: %w: no reveal shares", ErrTooFewShares)
	}
	agg, err := sumPayloads(r.c, partials)
	if err != nil {
		return nil, 0, fmt.Errorf("secagg: reveal: %w", err)
	}
	m, err := s.parseUpdate(r.w, agg)
	if err != nil {
		return nil, 0, fmt.Errorf("secagg: reveal: %w", err)
	}
	rs, err := s.parseRevealShare(r.w, share)
	if err != nil {
		return nil, 0, fmt.Errorf("secagg: reveal: reveal share: %w", err)
	}
	if !bytes.Equal(keyDigest(rs.keysBody), m.digest) {
		return nil, 0, fmt.Errorf("secagg: reveal: %w: reveal share and aggregate have different key lists", ErrMismatch)
	}
	if !bytes.Equal(rs.contributors, m.owners) {
		return nil, 0, fmt.Errorf("secagg: reveal: %w: reveal share and aggregate name different contributors", ErrMismatch)
	}
	t := s.cfg.Threshold
	if m.count < t {
		return nil, 0, fmt.Errorf("secagg: reveal: %w: %d contributors, need %d", ErrTooFewShares, m.count, t)
	}
	if rs.count < t {
		return nil, 0, fmt.Errorf("secagg: reveal: %w: %d reveal shares, need %d", ErrTooFewShares, rs.count, t)
	}
	secrets, err := r.secrets(rs)
	if err != nil {
		return nil, 0, fmt.Errorf("secagg: reveal: %w", err)
	}
	n := s.cfg.Len + 1
	acc := make([]uint64, n)
	for j := range acc {
		acc[j] = binary.LittleEndian.Uint64(m.vals[8*j:])
	}
	for i, e := range rs.keys {
		if hasBit(m.owners, e.owner) {
			addStream(acc, [32]byte(secrets[i]), true)
			continue
		}
		sk, err := ecdh.X25519().NewPrivateKey(secrets[i])
		if err != nil || !bytes.Equal(sk.PublicKey().Bytes(), e.pk) {
			return nil, 0, fmt.Errorf("secagg: reveal: %w: rebuilt key of owner %d does not match its public key", ErrMismatch, e.owner)
		}
		for _, u := range rs.keys {
			if !hasBit(m.owners, u.owner) {
				continue
			}
			pk, err := ecdh.X25519().NewPublicKey(u.pk)
			if err != nil {
				return nil, 0, fmt.Errorf("secagg: reveal: %w: public key of owner %d: %v", ErrBadPayload, u.owner, err)
			}
			shared, err := sk.ECDH(pk)
			if err != nil {
				return nil, 0, fmt.Errorf("secagg: reveal: %w: key agreement of owners %d and %d: %v", ErrBadPayload, e.owner, u.owner, err)
			}
			// u added the mask when u < v: take it away; else put it back.
			addStream(acc, pairSeed(r.w, u.owner, e.owner, shared), u.owner < e.owner)
		}
	}
	sum := make([]float64, n)
	for j, x := range acc {
		sum[j] = s.cfg.FixedPoint.Decode(int64(x))
	}
	if err := checkMean(sum[:n-1], sum[n-1], s.cfg.MaxNorm); err != nil {
		return nil, 0, fmt.Errorf("secagg: reveal: %w", err)
	}
	return sum[: n-1 : n-1], sum[n-1], nil
}

// secrets opens the sealed shares and rebuilds, for every listed owner, the
// 32-byte secret they share (b_u or sk_u) from the first Threshold shares,
// checking any further ones against the result.
func (r *SecAggRevealer) secrets(rs revealShare) ([][]byte, error) {
	s := r.s
	nKeys := len(rs.keys)
	xs := make([][]uint64, nKeys)
	ys := make([][][]uint64, nKeys)
	for i, blob := range rs.sealed {
		eph := blob[4:36]
		pk, err := ecdh.X25519().NewPublicKey(eph)
		if err != nil {
			return nil, fmt.Errorf("%w: reveal share of owner %d: %v", ErrBadPayload, rs.from[i], err)
		}
		shared, err := r.sk.ECDH(pk)
		if err != nil {
			return nil, fmt.Errorf("%w: reveal share of owner %d: %v", ErrBadPayload, rs.from[i], err)
		}
		aead, err := sealKey(r.w, eph, r.sk.PublicKey().Bytes(), shared)
		if err != nil {
			return nil, err
		}
		plain, err := aead.Open(nil, make([]byte, aead.NonceSize()), blob[36:], sealAAD(keyDigest(rs.keysBody), rs.contributors, rs.from[i]))
		if err != nil || len(plain) != nKeys*secAggPlainEntry {
			return nil, fmt.Errorf("%w: reveal share of owner %d does not open", ErrBadPayload, rs.from[i])
		}
		for k := range nKeys {
			e := plain[k*secAggPlainEntry : (k+1)*secAggPlainEntry]
			switch e[0] {
			case 0:
				continue
			case 1:
			default:
				return nil, fmt.Errorf("%w: reveal share of owner %d: bad flag", ErrBadPayload, rs.from[i])
			}
			y := make([]uint64, secAggSecretLen)
			for j := range y {
				if y[j] = binary.LittleEndian.Uint64(e[1+8*j:]); y[j] >= fieldP {
					return nil, fmt.Errorf("%w: reveal share of owner %d: share not reduced", ErrBadPayload, rs.from[i])
				}
			}
			xs[k] = append(xs[k], uint64(rs.from[i]+1))
			ys[k] = append(ys[k], y)
		}
		clear(plain)
	}
	t := s.cfg.Threshold
	out := make([][]byte, nKeys)
	for k, e := range rs.keys {
		if len(xs[k]) < t {
			return nil, fmt.Errorf("%w: %d shares of owner %d's secret, need %d", ErrTooFewShares, len(xs[k]), e.owner, t)
		}
		v, err := shamirCombine(xs[k][:t], ys[k][:t])
		if err != nil {
			return nil, err
		}
		for extra := t; extra < len(xs[k]); extra++ {
			l, err := lagrange(xs[k][:t], xs[k][extra])
			if err != nil {
				return nil, err
			}
			for j := range v {
				y := uint64(0)
				for a := range t {
					y = fAdd(y, fMul(l[a], ys[k][a][j]))
				}
				if y != ys[k][extra][j] {
					return nil, fmt.Errorf("%w: shares of owner %d's secret disagree", ErrMismatch, e.owner)
				}
			}
		}
		if out[k], err = unpack32(v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// peerShare is what a data owner holds of another owner's round secrets.
type peerShare struct {
	pk []byte
	sk []uint64 // share of sk_u
	b  []uint64 // share of b_u
}

// SecAggProtector is a data owner's role: the model owner's public key and
// the current round's key pair, self-mask seed, key list and the Shamir
// shares it holds of the other owners' round secrets.
type SecAggProtector struct {
	s     *SecAgg
	w     wire
	owner int
	mo    *ecdh.PublicKey
	rand  io.Reader

	// Round state, reset by KeyShares.
	started   bool
	sk        *ecdh.PrivateKey
	b         []byte
	keysBody  []byte
	keys      []keyEntry
	digest    []byte
	peers     map[int]peerShare
	protected bool
	revealed  map[int]byte // per listed owner: 'b' or 's' once revealed
}

// KeyShares starts a round: it discards the previous round's keys, draws a
// fresh X25519 key pair and self-mask seed, and returns the public key for
// the secure worker and, for every other data owner, its Shamir shares of
// the private key and the seed (with the public key they belong to). Peer
// shares are secret: they must travel on confidential owner-to-owner
// channels, never through the secure worker.
func (p *SecAggProtector) KeyShares() ([]Message, error) {
	s := p.s
	*p = SecAggProtector{s: s, w: p.w, owner: p.owner, mo: p.mo, rand: p.rand, peers: map[int]peerShare{}, revealed: map[int]byte{}}
	sk, err := newX25519(p.rand)
	if err != nil {
		return nil, fmt.Errorf("secagg: key shares: %w", err)
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(p.rand, b); err != nil {
		return nil, fmt.Errorf("secagg: key shares: reading self-mask seed: %w", err)
	}
	secret := append(pack32(sk.Bytes()), pack32(b)...)
	xs := make([]uint64, s.cfg.Owners)
	for i := range xs {
		xs[i] = uint64(i + 1)
	}
	shares, err := shamirSplit(secret, s.cfg.Threshold, xs, p.rand)
	clear(secret)
	if err != nil {
		return nil, fmt.Errorf("secagg: key shares: %w", err)
	}
	pk := sk.PublicKey().Bytes()
	p.started, p.sk, p.b = true, sk, b
	adv := p.w.header(kindKeyShare, 1, secAggKeyEntry)
	binary.LittleEndian.PutUint32(adv[headerLen:], uint32(p.owner))
	copy(adv[headerLen+4:], pk)
	msgs := []Message{{To: SecureWorker, Payload: adv}}
	for v, sh := range shares {
		if v == p.owner {
			p.peers[v] = peerShare{pk: pk, sk: sh[:5], b: sh[5:]}
			continue
		}
		pl := p.w.header(kindPeerShare, 1, secAggPeerLen)
		copy(pl[headerLen:], pk)
		for j, x := range sh {
			binary.LittleEndian.PutUint64(pl[headerLen+32+8*j:], x)
		}
		clear(sh)
		msgs = append(msgs, Message{To: Party(v), Payload: pl})
	}
	return msgs, nil
}

// ReceiveKey takes this round's key list from the secure worker or a
// peer share from another data owner. The key list must hold this owner's
// key and at least Threshold owners; receiving the same list again is a
// no-op. The owner may protect once it has the key list: peer shares are
// needed only for reveal shares.
func (p *SecAggProtector) ReceiveKey(from Party, payload []byte) (complete bool, err error) {
	err = p.receiveKey(from, payload)
	return p.keys != nil, err
}

func (p *SecAggProtector) receiveKey(from Party, payload []byte) error {
	s := p.s
	if !p.started {
		return fmt.Errorf("secagg: receive key from %v: no round started (KeyShares first)", from)
	}
	switch {
	case from == SecureWorker:
		keys, body, err := s.parseKeys(p.w, payload, kindCollectiveKey)
		if err != nil {
			return fmt.Errorf("secagg: receive key list: %w", err)
		}
		if p.keys != nil {
			if !bytes.Equal(body, p.keysBody) {
				return fmt.Errorf("secagg: receive key list: %w: a second, different key list this round", ErrMismatch)
			}
			return nil
		}
		if len(keys) < s.cfg.Threshold {
			return fmt.Errorf("secagg: receive key list: %w: %d owners, threshold %d", ErrTooFewShares, len(keys), s.cfg.Threshold)
		}
		i := slices.IndexFunc(keys, func(e keyEntry) bool { return e.owner == p.owner })
		if i < 0 || !bytes.Equal(keys[i].pk, p.sk.PublicKey().Bytes()) {
			return fmt.Errorf("secagg: receive key list: %w: it lacks this owner's round key", ErrMismatch)
		}
		for v, sh := range p.peers {
			if j := slices.IndexFunc(keys, func(e keyEntry) bool { return e.owner == v }); j >= 0 && !bytes.Equal(keys[j].pk, sh.pk) {
				return fmt.Errorf("secagg: receive key list: %w: owner %d's key differs from its peer share's", ErrMismatch, v)
			}
		}
		p.keysBody, p.keys, p.digest = bytes.Clone(body), keys, keyDigest(body)
		for i := range p.keys {
			p.keys[i].pk = p.keysBody[i*secAggKeyEntry+4 : (i+1)*secAggKeyEntry]
		}
		return nil
	case int(from) >= 0 && int(from) < s.cfg.Owners && int(from) != p.owner:
		v := int(from)
		if _, ok := p.peers[v]; ok {
			return fmt.Errorf("secagg: receive peer share from %v: %w: second share this round", from, ErrMismatch)
		}
		_, body, err := p.w.open(payload, kindPeerShare, secAggPeerLen)
		if err != nil {
			return fmt.Errorf("secagg: receive peer share from %v: %w", from, err)
		}
		sh := peerShare{pk: bytes.Clone(body[:32]), sk: make([]uint64, 5), b: make([]uint64, 5)}
		for j := range 10 {
			x := binary.LittleEndian.Uint64(body[32+8*j:])
			if x >= fieldP {
				return fmt.Errorf("secagg: receive peer share from %v: %w: share not reduced", from, ErrBadPayload)
			}
			if j < 5 {
				sh.sk[j] = x
			} else {
				sh.b[j-5] = x
			}
		}
		if p.keys != nil {
			if j := slices.IndexFunc(p.keys, func(e keyEntry) bool { return e.owner == v }); j < 0 || !bytes.Equal(p.keys[j].pk, sh.pk) {
				return fmt.Errorf("secagg: receive peer share from %v: %w: key not in this round's list", from, ErrMismatch)
			}
		}
		p.peers[v] = sh
		return nil
	}
	return fmt.Errorf("secagg: receive key: unexpected sender %v", from)
}

// Protect masks weight*update and weight for the secure worker. It needs
// this round's key list and refuses a second update in the same round
// (two updates under the same masks would leak their difference).
func (p *SecAggProtector) Protect(update []float64, weight float64) ([]Message, error) {
	if p.keys == nil {
		return nil, fmt.Errorf("secagg: protect: no key list for this round yet")
	}
	if p.protected {
		return nil, fmt.Errorf("secagg: protect: already protected an update this round")
	}
	out, err := p.mask(update, weight)
	if err != nil {
		return nil, fmt.Errorf("secagg: protect: %w", err)
	}
	p.protected = true
	return []Message{{To: SecureWorker, Payload: out}}, nil
}

// mask returns the masked update payload.
func (p *SecAggProtector) mask(update []float64, weight float64) ([]byte, error) {
	s := p.s
	v, err := withWeight(update, weight, s.cfg)
	if err != nil {
		return nil, err
	}
	acc := make([]uint64, len(v))
	for i, x := range v {
		e, err := s.cfg.FixedPoint.Encode(x)
		if err != nil {
			return nil, fmt.Errorf("value %d: %w", i, err)
		}
		acc[i] = uint64(e)
	}
	addStream(acc, [32]byte(p.b), false)
	for _, e := range p.keys {
		if e.owner == p.owner {
			continue
		}
		pk, err := ecdh.X25519().NewPublicKey(e.pk)
		if err != nil {
			return nil, fmt.Errorf("%w: public key of owner %d: %v", ErrBadPayload, e.owner, err)
		}
		shared, err := p.sk.ECDH(pk)
		if err != nil {
			return nil, fmt.Errorf("%w: key agreement with owner %d: %v", ErrBadPayload, e.owner, err)
		}
		addStream(acc, pairSeed(p.w, p.owner, e.owner, shared), p.owner > e.owner)
	}
	out := p.w.header(kindUpdate, 1, s.updateLen())
	body := out[headerLen:]
	copy(body, p.digest)
	body[8+p.owner/8] = 1 << (p.owner % 8)
	for i, x := range acc {
		binary.LittleEndian.PutUint64(body[8+s.nb+8*i:], x)
	}
	return out, nil
}

// RevealShare returns, sealed to the model owner, this owner's Shamir share
// of b_u for every contributor u in the round's key list and of sk_v for
// every listed owner v that did not contribute, with the key list and the
// contributors in the clear for the secure worker's consistency check.
// contributors must match the aggregate and number at least Threshold;
// active is not needed (any Threshold answers suffice). Within a round it
// refuses a request that would reveal both b_u and sk_u of the same owner:
// that would unmask u's own update.
func (p *SecAggProtector) RevealShare(aggregate []byte, contributors, _ []int) ([]byte, error) {
	s := p.s
	if p.keys == nil {
		return nil, fmt.Errorf("secagg: reveal share: no key list for this round")
	}
	m, err := s.parseUpdate(p.w, aggregate)
	if err != nil {
		return nil, fmt.Errorf("secagg: reveal share: %w", err)
	}
	if !bytes.Equal(m.digest, p.digest) {
		return nil, fmt.Errorf("secagg: reveal share: %w: aggregate made under another key list", ErrMismatch)
	}
	bitmap := make([]byte, s.nb)
	for _, u := range contributors {
		if u < 0 || u >= s.cfg.Owners || hasBit(bitmap, u) {
			return nil, fmt.Errorf("secagg: reveal share: invalid contributors %v", contributors)
		}
		bitmap[u/8] |= 1 << (u % 8)
	}
	if !bytes.Equal(bitmap, m.owners) {
		return nil, fmt.Errorf("secagg: reveal share: %w: contributors %v differ from the aggregate's", ErrMismatch, contributors)
	}
	if len(contributors) < s.cfg.Threshold {
		return nil, fmt.Errorf("secagg: reveal share: %w: %d contributors, need %d", ErrTooFewShares, len(contributors), s.cfg.Threshold)
	}
	plain := make([]byte, len(p.keys)*secAggPlainEntry)
	which := make([]byte, len(p.keys))
	for i, e := range p.keys {
		which[i] = 's'
		if hasBit(bitmap, e.owner) {
			which[i] = 'b'
		}
		if prev, ok := p.revealed[e.owner]; ok && prev != which[i] {
			return nil, fmt.Errorf("secagg: reveal share: %w: owner %d's %s share was revealed earlier this round; refusing its %s share",
				ErrMismatch, e.owner, secretName(prev), secretName(which[i]))
		}
		sh, ok := p.peers[e.owner]
		if !ok || !bytes.Equal(sh.pk, e.pk) {
			continue // the owner's peer share did not reach us: others answer for it
		}
		y := sh.sk
		if which[i] == 'b' {
			y = sh.b
		}
		entry := plain[i*secAggPlainEntry:]
		entry[0] = 1
		for j, x := range y {
			binary.LittleEndian.PutUint64(entry[1+8*j:], x)
		}
	}
	eph, err := newX25519(p.rand)
	if err != nil {
		return nil, fmt.Errorf("secagg: reveal share: %w", err)
	}
	shared, err := eph.ECDH(p.mo)
	if err != nil {
		return nil, fmt.Errorf("secagg: reveal share: %w: model owner key: %v", ErrBadPayload, err)
	}
	aead, err := sealKey(p.w, eph.PublicKey().Bytes(), p.mo.Bytes(), shared)
	if err != nil {
		return nil, fmt.Errorf("secagg: reveal share: %w", err)
	}
	blob := binary.LittleEndian.AppendUint32(nil, uint32(p.owner))
	blob = append(blob, eph.PublicKey().Bytes()...)
	blob = aead.Seal(blob, make([]byte, aead.NonceSize()), plain, sealAAD(p.digest, bitmap, p.owner))
	clear(plain)
	for i, e := range p.keys {
		p.revealed[e.owner] = which[i]
	}
	return s.marshalRevealShare(p.w, revealShare{keysBody: p.keysBody, contributors: bitmap, sealed: [][]byte{blob}}), nil
}

// secretName names a revealed secret for error messages.
func secretName(w byte) string {
	if w == 'b' {
		return "self-mask seed"
	}
	return "private key"
}

// SecAggCombiner is the secure worker's role: parameters only. It adds
// masked updates, merges key advertisements and merges reveal shares,
// checking that they agree on the key list and the contributors.
type SecAggCombiner struct {
	s *SecAgg
	w wire
}

// Combine adds two masked updates modulo 2^64 (same key list, disjoint
// contributors), merges two key lists (disjoint owners) or merges two
// reveal shares (same key list and contributors, disjoint responders).
func (c *SecAggCombiner) Combine(a, b []byte) ([]byte, error) {
	var (
		out []byte
		err error
	)
	switch k := kindOf(a); k {
	case kindUpdate:
		out, err = c.combineUpdates(a, b)
	case kindKeyShare:
		out, err = c.combineKeys(a, b)
	case kindRevealShare:
		out, err = c.combineReveals(a, b)
	default:
		err = fmt.Errorf("%w: cannot combine a %v", ErrMismatch, k)
	}
	if err != nil {
		return nil, fmt.Errorf("secagg: combine: %w", err)
	}
	return out, nil
}

func (c *SecAggCombiner) combineUpdates(a, b []byte) ([]byte, error) {
	s := c.s
	ma, err := s.parseUpdate(c.w, a)
	if err != nil {
		return nil, fmt.Errorf("first operand: %w", err)
	}
	mb, err := s.parseUpdate(c.w, b)
	if err != nil {
		return nil, fmt.Errorf("second operand: %w", err)
	}
	if ma.count+mb.count > s.cfg.Owners {
		return nil, fmt.Errorf("%w: %d+%d > %d", ErrTooManyContributions, ma.count, mb.count, s.cfg.Owners)
	}
	if !bytes.Equal(ma.digest, mb.digest) {
		return nil, fmt.Errorf("%w: updates masked under different key lists", ErrMismatch)
	}
	out := c.w.header(kindUpdate, ma.count+mb.count, s.updateLen())
	body := out[headerLen:]
	copy(body, ma.digest)
	for i := range s.nb {
		if ma.owners[i]&mb.owners[i] != 0 {
			return nil, fmt.Errorf("%w: an owner's update is in both operands", ErrMismatch)
		}
		body[8+i] = ma.owners[i] | mb.owners[i]
	}
	o := body[8+s.nb:]
	for i := 0; i+8 <= len(o) && i+8 <= len(ma.vals) && i+8 <= len(mb.vals); i += 8 {
		binary.LittleEndian.PutUint64(o[i:], binary.LittleEndian.Uint64(ma.vals[i:])+binary.LittleEndian.Uint64(mb.vals[i:]))
	}
	return out, nil
}

func (c *SecAggCombiner) combineKeys(a, b []byte) ([]byte, error) {
	s := c.s
	ka, _, err := s.parseKeys(c.w, a, kindKeyShare)
	if err != nil {
		return nil, fmt.Errorf("first operand: %w", err)
	}
	kb, _, err := s.parseKeys(c.w, b, kindKeyShare)
	if err != nil {
		return nil, fmt.Errorf("second operand: %w", err)
	}
	if len(ka)+len(kb) > s.cfg.Owners {
		return nil, fmt.Errorf("%w: %d+%d > %d", ErrTooManyContributions, len(ka), len(kb), s.cfg.Owners)
	}
	merged := append(slices.Clone(ka), kb...)
	slices.SortFunc(merged, func(x, y keyEntry) int { return x.owner - y.owner })
	out := c.w.header(kindKeyShare, len(merged), 0)
	for i, e := range merged {
		if i > 0 && merged[i-1].owner == e.owner {
			return nil, fmt.Errorf("%w: owner %d advertised two keys", ErrMismatch, e.owner)
		}
		out = binary.LittleEndian.AppendUint32(out, uint32(e.owner))
		out = append(out, e.pk...)
	}
	return out, nil
}

func (c *SecAggCombiner) combineReveals(a, b []byte) ([]byte, error) {
	s := c.s
	ra, err := s.parseRevealShare(c.w, a)
	if err != nil {
		return nil, fmt.Errorf("first operand: %w", err)
	}
	rb, err := s.parseRevealShare(c.w, b)
	if err != nil {
		return nil, fmt.Errorf("second operand: %w", err)
	}
	if ra.count+rb.count > s.cfg.Owners {
		return nil, fmt.Errorf("%w: %d+%d > %d", ErrTooManyContributions, ra.count, rb.count, s.cfg.Owners)
	}
	if !bytes.Equal(ra.keysBody, rb.keysBody) {
		return nil, fmt.Errorf("%w: reveal shares answer different key lists", ErrMismatch)
	}
	if !bytes.Equal(ra.contributors, rb.contributors) {
		return nil, fmt.Errorf("%w: reveal shares answer different contributor lists", ErrMismatch)
	}
	type resp struct {
		from int
		blob []byte
	}
	var all []resp
	for i := range ra.sealed {
		all = append(all, resp{ra.from[i], ra.sealed[i]})
	}
	for i := range rb.sealed {
		all = append(all, resp{rb.from[i], rb.sealed[i]})
	}
	slices.SortFunc(all, func(x, y resp) int { return x.from - y.from })
	merged := revealShare{keysBody: ra.keysBody, contributors: ra.contributors}
	for i, r := range all {
		if i > 0 && all[i-1].from == r.from {
			return nil, fmt.Errorf("%w: two reveal shares from owner %d", ErrMismatch, r.from)
		}
		merged.sealed = append(merged.sealed, r.blob)
	}
	return s.marshalRevealShare(c.w, merged), nil
}

// CollectiveKey turns the merged key advertisements into the round's key
// list, to be sent to every data owner. It needs at least Threshold owners.
func (c *SecAggCombiner) CollectiveKey(keyShares []byte) ([]byte, error) {
	keys, body, err := c.s.parseKeys(c.w, keyShares, kindKeyShare)
	if err != nil {
		return nil, fmt.Errorf("secagg: collective key: %w", err)
	}
	if len(keys) < c.s.cfg.Threshold {
		return nil, fmt.Errorf("secagg: collective key: %w: %d owners advertised keys, threshold %d", ErrTooFewShares, len(keys), c.s.cfg.Threshold)
	}
	return append(c.w.header(kindCollectiveKey, len(keys), 0), body...), nil
}

// Check decodes payload as one masked update of this session.
func (c *SecAggCombiner) Check(payload []byte, contributions int) error {
	m, err := c.s.parseUpdate(c.w, payload)
	if err == nil && m.count != contributions {
		err = fmt.Errorf("%w: %d contributions, want %d", ErrMismatch, m.count, contributions)
	}
	if err != nil {
		return fmt.Errorf("secagg: check: %w", err)
	}
	return nil
}
