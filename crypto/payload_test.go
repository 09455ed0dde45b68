package crypto

import (
	"bytes"
	"crypto/ecdh"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"reflect"
	"testing"

	"github.com/tuneinsight/lattigo/v5/core/rlwe"
	"github.com/tuneinsight/lattigo/v5/mhe"
	"github.com/tuneinsight/lattigo/v5/ring"
)

// testRand returns a deterministic entropy source for tests.
func testRand(seed byte) *mrand.ChaCha8 {
	var s [32]byte
	s[0] = seed
	return mrand.NewChaCha8(s)
}

// life holds the roles and one payload of every kind for a small instance.
type life struct {
	s        Scheme
	rev      Revealer
	owners   []Protector
	sw       Combiner
	payloads map[kind][]byte
	peer     map[kind][]byte // another payload of the kind, combinable with payloads[kind]
	to       map[kind]Party  // addressee of payloads[kind]
	agg      []byte
}

// smallConfigs are fast instances of every scheme, threshold with t < N so
// that peer shares exist, by registered name.
func smallConfigs() map[string]Config {
	return map[string]Config{
		"plain":          {Owners: 3, Len: 50},
		"ss":             {Owners: 3, Len: 50},
		"ss-shamir":      {Owners: 3, Len: 50, Threshold: 3},
		"ckks":           {Owners: 3, Len: 50, Params: "logN13"},
		"ckks-threshold": {Owners: 3, Len: 50, Params: "logN13", Threshold: 2},
		"paillier":       {Owners: 3, Len: 50},
		"secagg":         {Owners: 3, Len: 50},
	}
}

// record keeps p, sent to to, as the payload of kind k or, if it can be
// combined with it, as the peer payload. Updates are kept only when
// addressed to the secure worker.
func (l *life) record(k kind, to Party, p []byte) {
	if k == kindUpdate && to != SecureWorker {
		return
	}
	if _, ok := l.payloads[k]; !ok {
		l.payloads[k], l.to[k] = p, to
	} else if _, ok := l.peer[k]; !ok && l.to[k] == to {
		l.peer[k] = p
	}
}

// newLife runs set-up and one protect step and records payloads.
func newLife(t testing.TB, name string, cfg Config) *life {
	t.Helper()
	return newLifeRand(t, name, cfg, 1)
}

// newLifeRand is newLife with the entropy source seeded by seed.
func newLifeRand(t testing.TB, name string, cfg Config, seed byte) *life {
	t.Helper()
	s, err := New(name, cfg)
	if err != nil {
		t.Fatal(err)
	}
	l := &life{s: s, payloads: map[kind][]byte{}, peer: map[kind][]byte{}, to: map[kind]Party{}}
	r := testRand(seed)
	if l.rev, err = s.NewRevealer(r); err != nil {
		t.Fatal(err)
	}
	setup := l.rev.Setup()
	l.payloads[kindSetup] = setup
	for i := 0; i < cfg.Owners; i++ {
		p, err := s.NewProtector(i, setup, r)
		if err != nil {
			t.Fatal(err)
		}
		l.owners = append(l.owners, p)
	}
	if l.sw, err = s.NewCombiner(setup); err != nil {
		t.Fatal(err)
	}
	if isKeyGen(s) {
		var acc []byte
		type peerMsg struct {
			from int
			m    Message
		}
		var peers []peerMsg
		for i, o := range l.owners {
			msgs, err := o.(KeyExchanger).KeyShares()
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				if m.To == SecureWorker {
					l.record(kindKeyShare, m.To, m.Payload)
					if acc, err = fold(l.sw, acc, m.Payload); err != nil {
						t.Fatal(err)
					}
				} else {
					l.payloads[kindPeerShare] = m.Payload
					peers = append(peers, peerMsg{i, m})
				}
			}
		}
		for _, p := range peers {
			if err := receiveKey(l.owners[p.m.To], Party(p.from), p.m.Payload); err != nil {
				t.Fatal(err)
			}
		}
		ck, err := l.sw.(KeyCombiner).CollectiveKey(acc)
		if err != nil {
			t.Fatal(err)
		}
		l.payloads[kindCollectiveKey] = ck
		for _, o := range l.owners {
			if err := receiveKey(o, SecureWorker, ck); err != nil {
				t.Fatal(err)
			}
		}
	}
	ups, ws := testUpdates(7, cfg.Owners, cfg.Len)
	for i, o := range l.owners {
		msgs, err := o.Protect(ups[i], ws[i])
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			l.record(kindOf(m.Payload), m.To, m.Payload)
			if m.To == SecureWorker {
				if l.agg, err = fold(l.sw, l.agg, m.Payload); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if isRevealSharing(s) {
		var all []int
		for i := range cfg.Owners {
			all = append(all, i)
		}
		active := all[:quorum(s)]
		for _, i := range active[:2] {
			share, err := askRevealShare(l.owners[i], l.agg, all, active)
			if err != nil {
				t.Fatal(err)
			}
			l.record(kindRevealShare, SecureWorker, share)
		}
	}
	return l
}

// consume feeds p as a payload of kind k to the role that reads it.
func (l *life) consume(k kind, p []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	other := l.peer[k]
	if other == nil {
		other = l.payloads[k]
	}
	switch k {
	case kindSetup:
		if _, err := l.s.NewCombiner(p); err != nil {
			return err
		}
		_, err = l.s.NewProtector(0, p, testRand(2))
	case kindUpdate, kindSeedShare:
		if _, err = l.sw.Combine(p, other); err != nil {
			return err
		}
		if _, err = l.sw.Combine(other, p); err != nil {
			return err
		}
		if err = l.sw.Check(p, 1); err != nil {
			return err
		}
		if _, ok := l.s.(*Additive); ok && k == kindSeedShare {
			_, _, err = l.rev.Reveal([][]byte{p, p, p, p}, nil)
		}
	case kindKeyShare, kindRevealShare:
		_, err = l.sw.Combine(p, other)
	case kindPeerShare, kindCollectiveKey:
		return l.consumeKey(k, p)
	}
	return err
}

// consumeKey hands p, a peer share or collective key, to a data owner.
func (l *life) consumeKey(k kind, p []byte) error {
	if !isKeyGen(l.s) {
		return fmt.Errorf("%v: %s makes no keys", k, l.s.Name())
	}
	switch k {
	case kindPeerShare:
		// A fresh owner that has not yet heard from owner 2.
		o, err := l.s.NewProtector(1, l.payloads[kindSetup], testRand(3))
		if err != nil {
			return err
		}
		if _, err := o.(KeyExchanger).KeyShares(); err != nil {
			return err
		}
		return receiveKey(o, Party(2), p)
	case kindCollectiveKey:
		if keysEveryRound(l.s) {
			// The round's owner accepts only the same list again.
			return receiveKey(l.owners[1], SecureWorker, p)
		}
		o, err := l.s.NewProtector(1, l.payloads[kindSetup], testRand(3))
		if err != nil {
			return err
		}
		return receiveKey(o, SecureWorker, p)
	}
	return fmt.Errorf("%v: not a key message", k)
}

// corruptions returns named bad variants of a valid payload p.
func corruptions(p []byte) map[string][]byte {
	mod := func(f func(q []byte) []byte) []byte { return f(bytes.Clone(p)) }
	header := p[:headerLen]
	if len(p) == headerLen {
		header = nil
	}
	return map[string][]byte{
		"empty":       {},
		"header only": header,
		"truncated":   p[:len(p)-1],
		"extended":    append(bytes.Clone(p), 0),
		"magic":       mod(func(q []byte) []byte { q[0] ^= 1; return q }),
		"version":     mod(func(q []byte) []byte { q[2] = 9; return q }),
		"scheme":      mod(func(q []byte) []byte { q[3] ^= 0x10; return q }),
		"kind":        mod(func(q []byte) []byte { q[4] ^= 0x10; return q }),
		"fingerprint": mod(func(q []byte) []byte { q[6] ^= 1; return q }),
		"count zero":  mod(func(q []byte) []byte { binary.LittleEndian.PutUint32(q[13:], 0); return q }),
		"count big":   mod(func(q []byte) []byte { binary.LittleEndian.PutUint32(q[13:], 1<<31); return q }),
		"first word": mod(func(q []byte) []byte {
			if len(q) >= headerLen+8 {
				binary.LittleEndian.PutUint64(q[headerLen:], 1<<64-1)
			}
			return q
		}),
	}
}

func TestPayloadsRejectBadBytes(t *testing.T) {
	for name, cfg := range smallConfigs() {
		l := newLife(t, name, cfg)
		// A payload of the same kind from another configuration.
		other := cfg
		other.Len++
		lo := newLife(t, name, other)
		for k, p := range l.payloads {
			t.Run(fmt.Sprintf("%s/%v", name, k), func(t *testing.T) {
				if err := l.consume(k, p); err != nil {
					t.Fatalf("valid payload rejected: %v", err)
				}
				for what, bad := range corruptions(p) {
					if what == "first word" && (len(p) < headerLen+8 || name == "ss" || (name == "paillier" || name == "secagg") && k == kindSetup || name == "secagg" && k == kindPeerShare) {
						continue // any word is valid in Z/2^64, any odd 2048-bit n a modulus, any 32 bytes an X25519 key (in a secagg set-up or peer share)
					}
					if err := l.consume(k, bad); err == nil {
						t.Errorf("%s: accepted", what)
					} else if !errors.Is(err, ErrBadPayload) && !errors.Is(err, ErrMismatch) && !errors.Is(err, ErrTooManyContributions) {
						t.Errorf("%s: error %v wraps no sentinel", what, err)
					}
				}
				if err := l.consume(k, lo.payloads[k]); !errors.Is(err, ErrMismatch) {
					t.Errorf("payload of other parameters: got %v, want ErrMismatch", err)
				}
			})
		}
	}
}

// sessionWire returns the wire the secure worker of l reads with.
func sessionWire(l *life) wire {
	switch c := l.sw.(type) {
	case *PlainCombiner:
		return c.w
	case *AdditiveCombiner:
		return c.w
	case *ShamirSSCombiner:
		return c.w
	case *CKKSCombiner:
		return c.w
	case *ThresholdCKKSCombiner:
		return c.w
	case *PaillierCombiner:
		return c.w
	case *SecAggCombiner:
		return c.w
	}
	panic(fmt.Sprintf("no session wire for %T", l.sw))
}

func TestPayloadRoundTrip(t *testing.T) {
	for name, cfg := range smallConfigs() {
		l := newLife(t, name, cfg)
		w := sessionWire(l)
		t.Run(name, func(t *testing.T) {
			up := l.payloads[kindUpdate]
			var again []byte
			switch s := l.s.(type) {
			case *Plain:
				_, v, err := s.unmarshal(w, up)
				if err != nil {
					t.Fatal(err)
				}
				again = s.marshalUpdate(w, v, 1)
			case *Additive:
				c, err := l.s.NewCombiner(l.payloads[kindSetup])
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.Combine(up, up); err != nil {
					t.Fatal(err)
				}
				again = up
			case *ShamirSS:
				sh, err := s.parse(w, up)
				if err != nil {
					t.Fatal(err)
				}
				again = append(s.header(w, kindUpdate, sh.count, sh.x, sh.owners, 0), sh.vals...)
			case *SecAgg:
				m, err := s.parseUpdate(w, up)
				if err != nil {
					t.Fatal(err)
				}
				again = append(append(append(w.header(kindUpdate, m.count, 0), m.digest...), m.owners...), m.vals...)
				rs, err := s.parseRevealShare(w, l.payloads[kindRevealShare])
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(s.marshalRevealShare(w, rs), l.payloads[kindRevealShare]) {
					t.Error("reveal share round trip differs")
				}
			case *CKKS:
				pk, err := s.publicKey(l.payloads[kindSetup])
				if err != nil {
					t.Fatal(err)
				}
				setup := putPolys(s.wire.header(kindSetup, 1, 0), 0, pk.Value[0].Q, pk.Value[1].Q)
				if !bytes.Equal(setup, l.payloads[kindSetup]) {
					t.Error("public key round trip differs")
				}
				_, body, _ := w.open(up, kindUpdate, s.core.bodyLen())
				cts, err := s.core.ciphertexts(body)
				if err != nil {
					t.Fatal(err)
				}
				again = w.header(kindUpdate, 1, 0)
				for _, ct := range cts {
					again = putPolys(again, 0, ct.Value[0], ct.Value[1])
				}
			case *ThresholdCKKS:
				_, body, _ := w.open(up, kindUpdate, s.core.bodyLen())
				cts, err := s.core.ciphertexts(body)
				if err != nil {
					t.Fatal(err)
				}
				again = w.header(kindUpdate, 1, 0)
				for _, ct := range cts {
					again = putPolys(again, s.core.level, ct.Value[0], ct.Value[1])
				}
			case *Paillier:
				pk, err := s.publicKey(l.payloads[kindSetup])
				if err != nil {
					t.Fatal(err)
				}
				c, cts, err := s.ciphertexts(w, pk, up)
				if err != nil {
					t.Fatal(err)
				}
				again = s.marshal(w, c, cts)
			}
			if !bytes.Equal(again, up) {
				t.Error("update round trip differs")
			}
		})
	}
}

// secretTypes are types no secure worker may reach.
var secretTypes = map[reflect.Type]string{
	reflect.TypeOf(rlwe.SecretKey{}):         "secret key",
	reflect.TypeOf(rlwe.Decryptor{}):         "decryptor",
	reflect.TypeOf(mhe.ShamirSecretShare{}):  "Shamir secret share",
	reflect.TypeOf(paillierSecretKey{}):      "Paillier secret key",
	reflect.TypeOf([]float64(nil)):           "plaintext vector",
	reflect.TypeOf(encryptors{}):             "encryptor",
	reflect.TypeOf(mhe.Thresholdizer{}):      "thresholdizer",
	reflect.TypeOf(PaillierRevealer{}):       "revealer",
	reflect.TypeOf(CKKSRevealer{}):           "revealer",
	reflect.TypeOf(ThresholdCKKSRevealer{}):  "revealer",
	reflect.TypeOf(ThresholdCKKSProtector{}): "protector",
	reflect.TypeOf(ecdh.PrivateKey{}):        "X25519 private key",
	reflect.TypeOf(peerShare{}):              "secagg peer share",
	reflect.TypeOf(SecAggProtector{}):        "protector",
	reflect.TypeOf(SecAggRevealer{}):         "revealer",
	reflect.TypeOf(ShamirSSProtector{}):      "protector",
}

// findSecret walks v's values and returns the path to a secret, if any.
func findSecret(v reflect.Value, path string, seen map[uintptr]bool) string {
	if !v.IsValid() {
		return ""
	}
	if what, ok := secretTypes[v.Type()]; ok {
		return path + " (" + what + ")"
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || seen[v.Pointer()] {
			return ""
		}
		seen[v.Pointer()] = true
		return findSecret(v.Elem(), path, seen)
	case reflect.Interface:
		return findSecret(v.Elem(), path, seen)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(big.Int{}) {
			return ""
		}
		for i := 0; i < v.NumField(); i++ {
			if p := findSecret(v.Field(i), path+"."+v.Type().Field(i).Name, seen); p != "" {
				return p
			}
		}
	case reflect.Slice, reflect.Array:
		switch v.Type().Elem().Kind() {
		case reflect.Uint64, reflect.Uint8, reflect.Int, reflect.Float64, reflect.Complex128:
			return ""
		}
		for i := 0; i < v.Len(); i++ {
			if p := findSecret(v.Index(i), fmt.Sprintf("%s[%d]", path, i), seen); p != "" {
				return p
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if p := findSecret(it.Value(), path+"[k]", seen); p != "" {
				return p
			}
		}
	}
	return ""
}

func TestCombinerHoldsNoSecret(t *testing.T) {
	// The check itself must see secrets where they are.
	l := newLife(t, "ckks", smallConfigs()["ckks"])
	if findSecret(reflect.ValueOf(l.rev), "revealer", map[uintptr]bool{}) == "" {
		t.Fatal("walk misses the revealer's secret key")
	}
	for name, cfg := range smallConfigs() {
		if name == "plain" {
			continue // the trusted aggregator sees plaintext by design
		}
		l := newLife(t, name, cfg)
		if name == "secagg" && findSecret(reflect.ValueOf(l.owners[0]), "owner", map[uintptr]bool{}) == "" {
			t.Error("walk misses the secagg owner's round key")
		}
		if p := findSecret(reflect.ValueOf(l.sw), "combiner", map[uintptr]bool{}); p != "" {
			t.Errorf("%s: secure worker reaches %s", name, p)
		}
	}
}

func TestCombineAssociative(t *testing.T) {
	for name, cfg := range smallConfigs() {
		t.Run(name, func(t *testing.T) {
			s, err := New(name, cfg)
			if err != nil {
				t.Fatal(err)
			}
			rev, _ := s.NewRevealer(testRand(1))
			setup := rev.Setup()
			c, _ := s.NewCombiner(setup)
			ups, ws := testUpdates(3, 3, cfg.Len)
			var ps [][]byte
			if isKeyGen(s) {
				t.Skip("covered by TestRunSchemes and TestSecAggCombineAssociative")
			}
			for i := range ups {
				o, _ := s.NewProtector(i, setup, testRand(byte(i)))
				msgs, err := o.Protect(ups[i], ws[i])
				if err != nil {
					t.Fatal(err)
				}
				ps = append(ps, msgs[len(msgs)-1].Payload)
			}
			ab, _ := c.Combine(ps[0], ps[1])
			left, err := c.Combine(ab, ps[2])
			if err != nil {
				t.Fatal(err)
			}
			bc, _ := c.Combine(ps[1], ps[2])
			right, err := c.Combine(ps[0], bc)
			if err != nil {
				t.Fatal(err)
			}
			if name != "plain" && !bytes.Equal(left, right) {
				t.Error("(a+b)+c != a+(b+c)")
			}
			if _, err := c.Combine(left, ps[0]); !errors.Is(err, ErrTooManyContributions) {
				t.Errorf("combining a fourth update among three owners: %v", err)
			}
		})
	}
}

// ringPoly returns a zero polynomial with levels moduli and n coefficients.
func ringPoly(levels, n int) ring.Poly {
	p := ring.Poly{Coeffs: make([][]uint64, levels)}
	for i := range p.Coeffs {
		p.Coeffs[i] = make([]uint64, n)
	}
	return p
}

// Capability helpers: what the protocol interfaces of s are.

func isHolding(s Scheme) bool       { _, ok := s.(Holding); return ok }
func isKeyGen(s Scheme) bool        { _, ok := s.(KeyGen); return ok }
func isRevealSharing(s Scheme) bool { _, ok := s.(RevealSharing); return ok }

// keysEveryRound reports whether s makes keys every round.
func keysEveryRound(s Scheme) bool { kg, ok := s.(KeyGen); return ok && kg.KeysEveryRound() }

// quorum returns a RevealSharing scheme's threshold.
func quorum(s Scheme) int { t, _ := s.(RevealSharing).Quorum(); return t }

// askRevealShare asks owner p, a RevealSharer, for its reveal share.
func askRevealShare(p Protector, aggregate []byte, contributors, active []int) ([]byte, error) {
	return p.(RevealSharer).RevealShare(aggregate, contributors, active)
}

// receiveKey hands a key message to owner p, a KeyExchanger.
func receiveKey(p Protector, from Party, payload []byte) error {
	_, err := p.(KeyExchanger).ReceiveKey(from, payload)
	return err
}
