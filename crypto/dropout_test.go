package crypto

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"math"
	"math/big"
	mrand "math/rand/v2"
	"slices"
	"testing"
)

func TestFieldArithmetic(t *testing.T) {
	p := new(big.Int).SetUint64(fieldP)
	edge := []uint64{0, 1, 2, fieldP - 1, fieldP - 2, fieldP / 2, fieldP/2 + 1, 1 << 60, 1<<32 - 1, 1 << 32}
	r := mrand.New(mrand.NewPCG(1, 2))
	for range 200 {
		edge = append(edge, r.Uint64N(fieldP))
	}
	for _, a := range edge {
		for _, b := range edge[:40] {
			A, B := new(big.Int).SetUint64(a), new(big.Int).SetUint64(b)
			want := new(big.Int).Mod(new(big.Int).Mul(A, B), p).Uint64()
			if got := fMul(a, b); got != want {
				t.Fatalf("fMul(%d, %d) = %d, want %d", a, b, got, want)
			}
			if got, want := fAdd(a, b), new(big.Int).Mod(new(big.Int).Add(A, B), p).Uint64(); got != want {
				t.Fatalf("fAdd(%d, %d) = %d, want %d", a, b, got, want)
			}
			if got, want := fSub(a, b), new(big.Int).Mod(new(big.Int).Sub(A, B), p).Uint64(); got != want {
				t.Fatalf("fSub(%d, %d) = %d, want %d", a, b, got, want)
			}
		}
		if a != 0 && fMul(a, fInv(a)) != 1 {
			t.Fatalf("%d * inv(%d) != 1", a, a)
		}
	}
	// Signed values round-trip, including fixed-point encodings of negatives
	// and the extremes of the centred range.
	for _, v := range []int64{0, 1, -1, 42, -42, fieldP / 2, -(fieldP / 2), 1 << 59, -(1 << 59)} {
		x := fromSigned(v)
		if x >= fieldP || toSigned(x) != v {
			t.Errorf("signed %d: field %d, back %d", v, x, toSigned(x))
		}
	}
	fp := DefaultFixedPoint
	for _, f := range []float64{-0.1, -1e6, 1e6, -3.25e-10} {
		e, err := fp.Encode(f)
		if err != nil {
			t.Fatal(err)
		}
		// A sum of two negatives wraps below 0 in the field and comes back.
		s := fAdd(fromSigned(e), fromSigned(e))
		if got := fp.Decode(toSigned(s)); math.Abs(got-2*f) > 1e-9 {
			t.Errorf("2 * %g decodes to %g", f, got)
		}
	}
}

func TestShamirSplitCombine(t *testing.T) {
	r := mrand.New(mrand.NewPCG(3, 4))
	for range 50 {
		n := 1 + r.IntN(12)
		th := 1 + r.IntN(n)
		secret := make([]uint64, 1+r.IntN(5))
		for i := range secret {
			secret[i] = r.Uint64N(fieldP)
		}
		xs := make([]uint64, n)
		for i := range xs {
			xs[i] = uint64(i + 1)
		}
		shares, err := shamirSplit(secret, th, xs, testRand(byte(n)))
		if err != nil {
			t.Fatal(err)
		}
		// Any th shares, chosen at random, give the secret back.
		idx := r.Perm(n)[:th]
		sx, sy := make([]uint64, th), make([][]uint64, th)
		for k, i := range idx {
			sx[k], sy[k] = xs[i], shares[i]
		}
		got, err := shamirCombine(sx, sy)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, secret) {
			t.Fatalf("n %d t %d: shares %v give %v, want %v", n, th, idx, got, secret)
		}
		if th > 1 {
			// th-1 shares interpolate to something else (a degree th-2
			// polynomial through them), with overwhelming probability.
			got, err := shamirCombine(sx[:th-1], sy[:th-1])
			if err != nil {
				t.Fatal(err)
			}
			if slices.Equal(got, secret) {
				t.Fatalf("n %d t %d: %d shares reveal the secret", n, th, th-1)
			}
		}
	}
	if _, err := shamirCombine([]uint64{1, 1}, [][]uint64{{1}, {2}}); !errors.Is(err, ErrMismatch) {
		t.Errorf("two shares at one x: %v", err)
	}
}

// TestShamirBelowThresholdUniform checks with a chi-square test that t-1
// shares of a fixed secret are uniform: their top bits fall evenly into 64
// bins, and jointly the pair's top 3 bits each do too.
func TestShamirBelowThresholdUniform(t *testing.T) {
	const th, reps = 3, 20000
	xs := []uint64{1, 2, 3, 4, 5}
	var single [64]float64
	var joint [64]float64
	g := testRand(5)
	for range reps {
		sh, err := shamirSplit([]uint64{42}, th, xs, g)
		if err != nil {
			t.Fatal(err)
		}
		a, b := sh[1][0], sh[4][0] // holders x = 2 and x = 5
		single[a>>55]++
		joint[(a>>58)<<3|b>>58]++
	}
	for name, c := range map[string][64]float64{"single": single, "joint": joint} {
		chi2 := 0.0
		for _, x := range c {
			d := x - reps/64.0
			chi2 += d * d / (reps / 64.0)
		}
		// 63 degrees of freedom: P(chi2 > 103.4) = 0.001.
		if chi2 > 103.4 {
			t.Errorf("%s: chi-square %.1f over 63 dof", name, chi2)
		}
	}
}

// variant is a scheme in one configuration, under a test label.
type variant struct {
	scheme string
	cfg    Config
}

// dropoutConfigs are the instances with 10 owners, by label.
func dropoutConfigs() map[string]variant {
	return map[string]variant{
		"plain":          {"plain", Config{Owners: 10, Len: 64}},
		"ss":             {"ss", Config{Owners: 10, Len: 64}},
		"ss-shamir":      {"ss-shamir", Config{Owners: 10, Len: 64, Threshold: 6}},
		"ss-committee":   {"ss", Config{Owners: 10, Len: 64, Committee: 3}},
		"ckks":           {"ckks", Config{Owners: 10, Len: 64}},
		"ckks-threshold": {"ckks-threshold", Config{Owners: 10, Len: 64, Threshold: 6}},
		"paillier":       {"paillier", Config{Owners: 4, Len: 64}},
		"secagg":         {"secagg", Config{Owners: 10, Len: 64}}, // t = 6
	}
}

func TestDropouts(t *testing.T) {
	for label, v := range dropoutConfigs() {
		cfg := v.cfg
		t.Run(label, func(t *testing.T) {
			s, err := New(v.scheme, cfg)
			if err != nil {
				t.Fatal(err)
			}
			n := cfg.Owners
			ups, ws := testUpdates(uint64(n), n, cfg.Len)
			drop := []int{1, 4, 7}
			if n < 10 {
				drop = []int{2}
			}
			if cfg.Committee > 0 {
				drop = []int{4, 7, 9} // outside the committee: they hold no shares
			}
			// Up to N-t owners may be silent in the unmasking step; N+1-t
			// for ss (the secure worker holds a share too).
			var tooMany []int
			switch label {
			case "ss-committee":
				tooMany = []int{2, 4} // a committee member among them
			case "ss-shamir":
				tooMany = []int{0, 1, 2, 3, 4, 5}
			case "ckks-threshold", "secagg":
				tooMany = []int{0, 2, 4, 6, 8}
			}
			cases := []struct {
				name    string
				d       Dropouts
				wantErr error
			}{
				{"before", Dropouts{Before: drop}, nil},
				{"after", Dropouts{After: drop}, nil},
			}
			if label == "ss" {
				cases[0].wantErr, cases[1].wantErr = ErrTooFewShares, ErrTooFewShares
			}
			if tooMany != nil {
				cases = append(cases,
					struct {
						name    string
						d       Dropouts
						wantErr error
					}{"too many after", Dropouts{After: tooMany}, ErrTooFewShares},
					struct {
						name    string
						d       Dropouts
						wantErr error
					}{"too many mixed", Dropouts{Before: tooMany[:2], After: tooMany[2:]}, ErrTooFewShares})
			}
			for _, c := range cases {
				got, gw, _, err := RunDropouts(s, ups, ws, c.d, testRand(9))
				if c.wantErr != nil {
					if !errors.Is(err, c.wantErr) {
						t.Errorf("%s %+v: got %v, want %v", c.name, c.d, err, c.wantErr)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s %+v: %v", c.name, c.d, err)
					continue
				}
				var cu [][]float64
				var cw []float64
				for i := range ups {
					if !slices.Contains(c.d.Before, i) {
						cu, cw = append(cu, ups[i]), append(cw, ws[i])
					}
				}
				want, ww := plainSum(cu, cw)
				if e := maxAbsErr(got, want, gw, ww); e > tolerance[label] {
					t.Errorf("%s %+v: error %g > %g", c.name, c.d, e, tolerance[label])
				}
			}
		})
	}
}

// secAggRound runs one secagg round among all owners of l's scheme (which
// must be secagg) and returns each owner's masked update.
func secAggRound(t *testing.T, l *life, ups [][]float64, ws []float64) [][]byte {
	t.Helper()
	if _, err := keyExchange(l.sw, l.owners, nil); err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for i, o := range l.owners {
		msgs, err := o.Protect(ups[i], ws[i])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, msgs[0].Payload)
	}
	return out
}

func TestSecAggMasksCancel(t *testing.T) {
	cfg := Config{Owners: 4, Len: 40}
	l := newLife(t, "secagg", cfg)
	ups, ws := testUpdates(3, cfg.Owners, cfg.Len)
	masked := secAggRound(t, l, ups, ws)
	s := l.s.(*SecAgg)
	w := sessionWire(l)
	agg, err := sumPayloads(l.sw, masked)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.parseUpdate(w, agg)
	if err != nil {
		t.Fatal(err)
	}
	// Removing only the self masks leaves exactly the sum of encodings:
	// every pairwise mask cancelled.
	acc := make([]uint64, cfg.Len+1)
	for j := range acc {
		acc[j] = binary.LittleEndian.Uint64(m.vals[8*j:])
	}
	want := make([]uint64, cfg.Len+1)
	for i, o := range l.owners {
		addStream(acc, [32]byte(o.(*SecAggProtector).b), true)
		v, _ := withWeight(ups[i], ws[i], s.cfg)
		for j, x := range v {
			e, _ := s.cfg.FixedPoint.Encode(x)
			want[j] += uint64(e)
		}
	}
	if !slices.Equal(acc, want) {
		t.Error("pairwise masks do not cancel in the sum")
	}
	// One masked update alone looks nothing like its encoding.
	m0, _ := s.parseUpdate(w, masked[0])
	e0, _ := s.cfg.FixedPoint.Encode(ws[0] * ups[0][0])
	if binary.LittleEndian.Uint64(m0.vals) == uint64(e0) {
		t.Error("first value of a masked update is unmasked")
	}
	// A second Protect in the same round is refused.
	if _, err := l.owners[0].Protect(ups[0], ws[0]); err == nil {
		t.Error("second update under the same masks accepted")
	}
}

func TestSecAggRevealRules(t *testing.T) {
	cfg := Config{Owners: 4, Len: 20, Threshold: 2}
	l := newLife(t, "secagg", cfg)
	ups, ws := testUpdates(4, cfg.Owners, cfg.Len)
	masked := secAggRound(t, l, ups, ws)
	all, _ := sumPayloads(l.sw, masked)
	first3, _ := sumPayloads(l.sw, masked[:3])

	// Owner 0 reveals b_3 (owner 3 contributed to all) ...
	if _, err := askRevealShare(l.owners[0], all, []int{0, 1, 2, 3}, []int{0, 1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	// ... and must then refuse sk_3 (owner 3 missing from first3).
	if _, err := askRevealShare(l.owners[0], first3, []int{0, 1, 2}, []int{0, 1, 2}); !errors.Is(err, ErrMismatch) {
		t.Errorf("revealing sk after b of the same owner: got %v, want a refusal", err)
	}
	// Another owner, not yet asked, answers first3; asking it again for the
	// same set is fine, for all four is not.
	s1, err := askRevealShare(l.owners[1], first3, []int{0, 1, 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := askRevealShare(l.owners[1], first3, []int{0, 1, 2}, nil); err != nil {
		t.Errorf("same request twice: %v", err)
	}
	if _, err := askRevealShare(l.owners[1], all, []int{0, 1, 2, 3}, nil); !errors.Is(err, ErrMismatch) {
		t.Errorf("revealing b after sk of the same owner: got %v", err)
	}
	// Contributors must match the aggregate and reach the threshold.
	if _, err := askRevealShare(l.owners[2], first3, []int{0, 1}, nil); !errors.Is(err, ErrMismatch) {
		t.Errorf("contributors differing from the aggregate: %v", err)
	}
	if _, err := askRevealShare(l.owners[2], masked[2], []int{2}, nil); !errors.Is(err, ErrTooFewShares) {
		t.Errorf("a single contributor: %v", err)
	}
	// Reveal shares over different contributor lists do not combine, nor
	// do those of another round's key list.
	s0all, err := askRevealShare(l.owners[2], all, []int{0, 1, 2, 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.sw.Combine(s1, s0all); !errors.Is(err, ErrMismatch) {
		t.Errorf("reveal shares with different contributors combined: %v", err)
	}
	if _, err := askRevealShare(l.owners[2], first3, []int{0, 1, 2}, nil); err == nil {
		t.Fatal("owner 2 revealed sk_3 after b_3")
	}
	keys := bytes.Clone(l.owners[0].(*SecAggProtector).keysBody)
	other := secAggRound(t, l, ups, ws) // a new round: fresh keys
	allNext, _ := sumPayloads(l.sw, other)
	next, err := askRevealShare(l.owners[3], allNext, []int{0, 1, 2, 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.sw.Combine(s0all, next); !errors.Is(err, ErrMismatch) {
		t.Errorf("reveal shares of two rounds' key lists combined: %v", err)
	}
	if _, err := l.sw.Combine(masked[0], other[1]); !errors.Is(err, ErrMismatch) {
		t.Errorf("updates of two rounds combined: %v", err)
	}
	if _, err := askRevealShare(l.owners[3], all, []int{0, 1, 2, 3}, nil); !errors.Is(err, ErrMismatch) {
		t.Errorf("reveal share for last round's aggregate: %v", err)
	}
	// Every round has fresh keys, so keys rebuilt for one round are useless
	// in the next.
	if bytes.Equal(l.owners[0].(*SecAggProtector).keysBody, keys) {
		t.Error("key list reused across rounds")
	}
}

func TestSecAggRevealFromAnyThreshold(t *testing.T) {
	cfg := Config{Owners: 5, Len: 30, Threshold: 3}
	l := newLife(t, "secagg", cfg)
	ups, ws := testUpdates(5, cfg.Owners, cfg.Len)
	masked := secAggRound(t, l, ups, ws)
	// Owners 1 and 3 dropped before sending; 0, 2, 4 contributed and answer.
	contrib := []int{0, 2, 4}
	agg, _ := sumPayloads(l.sw, [][]byte{masked[0], masked[2], masked[4]})
	var shares []byte
	for k, i := range contrib {
		sh, err := askRevealShare(l.owners[i], agg, contrib, contrib)
		if err != nil {
			t.Fatal(err)
		}
		if shares, err = fold(l.sw, shares, sh); err != nil {
			t.Fatal(err)
		}
		_, _, err = l.rev.Reveal([][]byte{agg}, shares)
		if k < 2 && !errors.Is(err, ErrTooFewShares) {
			t.Errorf("%d reveal shares: got %v, want ErrTooFewShares", k+1, err)
		}
	}
	got, gw, err := l.rev.Reveal([][]byte{agg}, shares)
	if err != nil {
		t.Fatal(err)
	}
	want, ww := plainSum([][]float64{ups[0], ups[2], ups[4]}, []float64{ws[0], ws[2], ws[4]})
	if e := maxAbsErr(got, want, gw, ww); e > tolerance["secagg"] {
		t.Errorf("error %g", e)
	}
	// The secure worker cannot open a reveal share: it is sealed to the
	// model owner (tampering breaks it).
	bad := bytes.Clone(shares)
	bad[len(bad)-1] ^= 1
	if _, _, err := l.rev.Reveal([][]byte{agg}, bad); !errors.Is(err, ErrBadPayload) {
		t.Errorf("tampered reveal share: %v", err)
	}
}

func TestSecAggCombineAssociative(t *testing.T) {
	cfg := Config{Owners: 3, Len: 20}
	l := newLife(t, "secagg", cfg)
	ups, ws := testUpdates(6, 3, cfg.Len)
	ps := secAggRound(t, l, ups, ws)
	ab, _ := l.sw.Combine(ps[0], ps[1])
	left, err := l.sw.Combine(ab, ps[2])
	if err != nil {
		t.Fatal(err)
	}
	bc, _ := l.sw.Combine(ps[1], ps[2])
	right, err := l.sw.Combine(ps[0], bc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(left, right) {
		t.Error("(a+b)+c != a+(b+c)")
	}
	if _, err := l.sw.Combine(ab, ps[0]); !errors.Is(err, ErrMismatch) {
		t.Errorf("an owner's update added twice: %v", err)
	}
	if _, err := l.sw.Combine(left, ps[0]); !errors.Is(err, ErrTooManyContributions) {
		t.Errorf("a fourth update among three owners: %v", err)
	}
}

func TestShamirSSCombineChecksX(t *testing.T) {
	l := newLife(t, "ss-shamir", smallConfigs()["ss-shamir"])
	// payloads[kindUpdate] is held by the secure worker, the seed share by
	// an owner.
	if _, err := l.sw.Combine(l.payloads[kindUpdate], l.payloads[kindSeedShare]); !errors.Is(err, ErrMismatch) {
		t.Errorf("shares of two holders combined: %v", err)
	}
	if _, err := New("ss", Config{Owners: 3, Len: 5, Threshold: 1}); err == nil {
		t.Error("threshold 1 accepted")
	}
	if _, err := New("ss", Config{Owners: 3, Len: 5, Threshold: 5}); err == nil {
		t.Error("threshold above N+1 accepted")
	}
	if _, err := New("ss", Config{Owners: 256, Len: 5, Threshold: 5}); err != nil {
		t.Errorf("256 owners' sums fit GF(2^61-1)'s signed range: %v", err)
	}
	if _, err := New("ss", Config{Owners: 257, Len: 5, Threshold: 5}); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("257 owners' sums beyond GF(2^61-1)'s signed range: %v", err)
	}
}

func TestCheck(t *testing.T) {
	for label, cfg := range smallConfigs() {
		t.Run(label, func(t *testing.T) {
			l := newLife(t, label, cfg)
			up := l.payloads[kindUpdate]
			if err := l.sw.Check(up, 1); err != nil {
				t.Fatalf("valid update rejected: %v", err)
			}
			if sd := l.payloads[kindSeedShare]; sd != nil {
				if err := l.sw.Check(sd, 1); err != nil {
					t.Fatalf("valid seed share rejected: %v", err)
				}
			}
			otherScheme := newLife(t, "plain", smallConfigs()["plain"]).payloads[kindUpdate]
			if label == "plain" {
				otherScheme = newLife(t, "ss", smallConfigs()["ss"]).payloads[kindUpdate]
			}
			ocfg := cfg
			ocfg.Len++
			bad := map[string][]byte{
				"truncated":        up[:len(up)-8],
				"header only":      up[:headerLen],
				"other scheme":     otherScheme,
				"other parameters": newLife(t, label, ocfg).payloads[kindUpdate],
			}
			if agg, err := l.sw.Combine(up, l.peer[kindUpdate]); err == nil {
				bad["two contributions"] = agg
			}
			switch label {
			case "ckks", "ckks-threshold", "paillier", "secagg":
				bad["other session"] = newLifeRand(t, label, cfg, 2).payloads[kindUpdate]
			}
			for what, p := range bad {
				if err := l.sw.Check(p, 1); err == nil {
					t.Errorf("%s: accepted", what)
				} else if what == "other session" && !errors.Is(err, ErrMismatch) {
					t.Errorf("%s: got %v, want ErrMismatch", what, err)
				}
			}
			if label == "plain" {
				for _, x := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
					p := bytes.Clone(up)
					binary.LittleEndian.PutUint64(p[headerLen+8*3:], math.Float64bits(x))
					if err := l.sw.Check(p, 1); !errors.Is(err, ErrBadPayload) {
						t.Errorf("%g: got %v", x, err)
					}
					if _, err := l.sw.Combine(l.peer[kindUpdate], p); !errors.Is(err, ErrBadPayload) {
						t.Errorf("combine %g: got %v", x, err)
					}
				}
			}
		})
	}
}

func TestMaxNorm(t *testing.T) {
	ups, _ := testUpdates(8, 3, 50)
	norm := 0.0
	for _, u := range ups {
		norm = math.Max(norm, l2Norm(u, 1))
	}
	bound := 2 * norm
	huge := make([]float64, 50)
	huge[0] = 10 * bound

	for _, name := range []string{"plain", "ss", "ss-shamir", "ckks", "secagg"} {
		cfg := smallConfigs()[name]
		cfg.MaxNorm = bound
		l := newLife(t, name, cfg)
		if keysEveryRound(l.s) {
			if _, err := keyExchange(l.sw, l.owners, nil); err != nil { // a new round
				t.Fatal(err)
			}
		}
		if _, err := l.owners[0].Protect(huge, 1); !errors.Is(err, ErrOutOfRange) {
			t.Errorf("%s: protecting norm %g under bound %g: %v", name, 10*bound, bound, err)
		}
	}

	// plain: the secure worker rejects a huge update at Check and Combine,
	// and a non-positive weight.
	cfg := Config{Owners: 3, Len: 50, MaxNorm: bound}
	l := newLife(t, "plain", cfg)
	ps := l.s.(*Plain)
	w := sessionWire(l)
	v, _ := withWeight(huge, 7, Config{Len: 50})
	big := ps.marshalUpdate(w, v, 1)
	if err := l.sw.Check(big, 1); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("plain check of a huge update: %v", err)
	}
	if _, err := l.sw.Combine(l.payloads[kindUpdate], big); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("plain combine of a huge update: %v", err)
	}
	v, _ = withWeight(ups[0], -3, Config{Len: 50})
	if err := l.sw.Check(ps.marshalUpdate(w, v, 1), 1); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("plain check of a negative weight: %v", err)
	}
	if err := l.sw.Check(l.payloads[kindUpdate], 1); err != nil {
		t.Errorf("plain check of a normal update: %v", err)
	}

	// ckks: only the revealed aggregate can be checked. Encrypt a huge
	// update directly, past the protector's check.
	cfg = Config{Owners: 3, Len: 50, MaxNorm: bound}
	lc := newLife(t, "ckks", cfg)
	cp := lc.owners[0].(*CKKSProtector)
	v, _ = withWeight(huge, 1, Config{Len: 50})
	out := cp.w.header(kindUpdate, 1, cp.s.core.bodyLen())
	if err := cp.s.core.encrypt(cp.enc, v, out[headerLen:]); err != nil {
		t.Fatal(err)
	}
	if _, _, err := lc.rev.Reveal([][]byte{out}, nil); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("ckks reveal of a huge aggregate: %v", err)
	}
	if _, _, err := lc.rev.Reveal([][]byte{lc.agg}, nil); err != nil {
		t.Errorf("ckks reveal of a normal aggregate: %v", err)
	}
	if _, err := New("plain", Config{Owners: 1, Len: 1, MaxNorm: math.NaN()}); err == nil {
		t.Error("NaN max norm accepted")
	}
}

// TestRunDropoutsArgs checks the driver's argument validation.
func TestRunDropoutsArgs(t *testing.T) {
	s, _ := New("plain", Config{Owners: 3, Len: 4})
	ups, ws := testUpdates(1, 3, 4)
	for _, d := range []Dropouts{{Before: []int{3}}, {Before: []int{1}, After: []int{1}}, {After: []int{-1}}} {
		if _, _, _, err := RunDropouts(s, ups, ws, d, rand.Reader); err == nil {
			t.Errorf("%+v accepted", d)
		}
	}
	if _, _, _, err := RunDropouts(s, ups, ws, Dropouts{Before: []int{0, 1, 2}}, rand.Reader); !errors.Is(err, ErrTooFewShares) {
		t.Errorf("everyone dropped: %v", err)
	}
}
