package crypto

import (
	"bytes"
	"crypto/rand"
	"errors"
	"math"
	"testing"
)

// TestShareUniform checks with a chi-square test that the bytes of one
// share of a constant update are uniform.
func TestShareUniform(t *testing.T) {
	const owners = 3
	s, err := New("ss", Config{Owners: owners, Len: modelLen})
	if err != nil {
		t.Fatal(err)
	}
	rev, _ := s.NewRevealer(nil)
	r := testRand(9)
	p, err := s.NewProtector(0, rev.Setup(), r)
	if err != nil {
		t.Fatal(err)
	}
	update := make([]float64, modelLen)
	for i := range update {
		update[i] = 0.25
	}
	for _, holder := range []int{0, 1, owners} { // own share, a peer's, the secure worker's
		var counts [256]float64
		total := 0.0
		for rep := 0; rep < 8; rep++ {
			msgs, err := p.Protect(update, 100)
			if err != nil {
				t.Fatal(err)
			}
			share := make([]byte, 8*(modelLen+1))
			if _, err := s.(*Additive).addShare(p.(*AdditiveProtector).w, share, msgs[holder].Payload, true); err != nil {
				t.Fatal(err)
			}
			for _, b := range share {
				counts[b]++
				total++
			}
		}
		chi2 := 0.0
		for _, c := range counts {
			d := c - total/256
			chi2 += d * d / (total / 256)
		}
		// 255 degrees of freedom: P(chi2 > 330.5) = 0.001.
		if chi2 > 330.5 {
			t.Errorf("share for holder %d: chi-square %.1f over 255 dof", holder, chi2)
		}
		t.Logf("share for holder %d: chi-square %.1f (255 dof)", holder, chi2)
	}
}

func TestOutOfRange(t *testing.T) {
	for _, name := range []string{"ss", "ckks", "paillier", "ckks-threshold"} {
		cfg := smallConfigs()[name]
		l := newLife(t, name, cfg)
		big := make([]float64, cfg.Len)
		big[3] = 1e12
		if _, err := l.owners[0].Protect(big, 1); !errors.Is(err, ErrOutOfRange) {
			t.Errorf("%s: protect 1e12: got %v, want ErrOutOfRange", name, err)
		}
		big[3] = math.NaN()
		if _, err := l.owners[0].Protect(big, 1); !errors.Is(err, ErrOutOfRange) {
			t.Errorf("%s: protect NaN: got %v, want ErrOutOfRange", name, err)
		}
		if _, err := l.owners[0].Protect(big[1:], 1); !errors.Is(err, ErrMismatch) {
			t.Errorf("%s: protect short vector: got %v, want ErrMismatch", name, err)
		}
	}
	// A range that cannot be summed without wrapping is refused up front.
	if _, err := New("ss", Config{Owners: 4096, Len: 1}); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("ss with 4096 owners at the default range: %v", err)
	}
}

func TestCKKSFreshCiphertexts(t *testing.T) {
	l := newLife(t, "ckks", Config{Owners: 2, Len: 100})
	u := make([]float64, 100)
	a, err := l.owners[0].Protect(u, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := l.owners[0].Protect(u, 1)
	if bytes.Equal(a[0].Payload, b[0].Payload) {
		t.Error("encrypting the same vector twice gave the same ciphertext")
	}
}

func TestThresholdNeedsEveryShare(t *testing.T) {
	const owners = 3
	s, err := New("ckks-threshold", Config{Owners: owners, Len: modelLen})
	if err != nil {
		t.Fatal(err)
	}
	l := newLife(t, "ckks-threshold", Config{Owners: owners, Len: modelLen})
	_ = s
	ts := l.s.(*ThresholdCKKS)
	all := []int{0, 1, 2}
	var partial []byte // shares of owners 0 and 1 only
	var full []byte
	for i, o := range l.owners {
		sh, err := askRevealShare(o, l.agg, all, all)
		if err != nil {
			t.Fatal(err)
		}
		if full, err = fold(l.sw, full, sh); err != nil {
			t.Fatal(err)
		}
		if i < owners-1 {
			partial = full
		}
	}
	ups, ws := testUpdates(7, owners, modelLen)
	want, ww := plainSum(ups, ws)
	got, gw, err := l.rev.Reveal([][]byte{l.agg}, full)
	if err != nil {
		t.Fatal(err)
	}
	if e := maxAbsErr(got, want, gw, ww); e > tolerance["ckks-threshold"] {
		t.Fatalf("all shares: error %g", e)
	}
	if _, _, err := l.rev.Reveal([][]byte{l.agg}, partial); !errors.Is(err, ErrTooFewShares) {
		t.Errorf("N-1 shares: got %v, want ErrTooFewShares", err)
	}
	// Forcing the key switch with N-1 shares yields noise.
	w := sessionWire(l)
	_, body, _ := w.open(l.agg, kindUpdate, ts.core.bodyLen())
	cts, _ := ts.core.ciphertexts(body)
	_, shareBody, _ := w.open(partial, kindRevealShare, ts.core.bodyLen())
	got, _, err = l.rev.(*ThresholdCKKSRevealer).reveal(cts, shareBody)
	if err != nil {
		t.Fatal(err)
	}
	if e := maxAbsErr(got, want, gw, ww); e < 1e6 {
		t.Errorf("N-1 shares revealed something close to the sum: error %g", e)
	} else {
		t.Logf("N-1 shares: max abs error %.3g", e)
	}
}

func TestThresholdTOutOfN(t *testing.T) {
	const owners, threshold = 4, 2
	s, err := New("ckks-threshold", Config{Owners: owners, Threshold: threshold, Len: 5000})
	if err != nil {
		t.Fatal(err)
	}
	ups, ws := testUpdates(5, owners, 5000)
	want, ww := plainSum(ups, ws)
	// Owners silent after sending their update: {2,3} leaves {0,1}
	// to reveal, {0,2} leaves {1,3}, {1} leaves {0,2,3} (the first two answer).
	for _, silent := range [][]int{{2, 3}, {0, 2}, {1}} {
		got, gw, _, err := RunDropouts(s, ups, ws, Dropouts{After: silent}, rand.Reader)
		if err != nil {
			t.Fatalf("silent %v: %v", silent, err)
		}
		if e := maxAbsErr(got, want, gw, ww); e > tolerance["ckks-threshold"] {
			t.Errorf("silent %v: error %g", silent, e)
		}
	}
	if _, _, _, err := RunDropouts(s, ups, ws, Dropouts{After: []int{0, 1, 3}}, rand.Reader); !errors.Is(err, ErrTooFewShares) {
		t.Errorf("one active owner of threshold 2: got %v", err)
	}
}

// TestThresholdRelativeError checks the stated 1e-6 bound on the error
// relative to the largest weighted-sum value.
func TestThresholdRelativeError(t *testing.T) {
	s, err := New("ckks-threshold", Config{Owners: 10, Len: modelLen})
	if err != nil {
		t.Fatal(err)
	}
	ups, ws := testUpdates(11, 10, modelLen)
	got, gw, _, err := Run(s, ups, ws, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	want, ww := plainSum(ups, ws)
	scale := 0.0
	for _, x := range want {
		scale = math.Max(scale, math.Abs(x))
	}
	if rel := maxAbsErr(got, want, gw, ww) / scale; rel > 1e-6 {
		t.Errorf("relative error %g > 1e-6", rel)
	}
}

func TestPaillierFull(t *testing.T) {
	if testing.Short() {
		t.Skip("full-length paillier encrypts the model twice (several seconds)")
	}
	s, err := New("paillier", Config{Owners: 2, Len: modelLen})
	if err != nil {
		t.Fatal(err)
	}
	ups, ws := testUpdates(2, 2, modelLen)
	got, gw, st, err := Run(s, ups, ws, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	want, ww := plainSum(ups, ws)
	if e := maxAbsErr(got, want, gw, ww); e > tolerance["paillier"] {
		t.Errorf("error %g", e)
	}
	t.Logf("stats %+v", st)
}

func TestSampleTernary(t *testing.T) {
	q := []uint64{97, 101}
	p := ringPoly(2, 1<<12)
	sampleTernary(testRand(4), p, q)
	var counts [3]float64
	for i := range p.Coeffs[0] {
		a, b := p.Coeffs[0][i], p.Coeffs[1][i]
		switch {
		case a == 0 && b == 0:
			counts[0]++
		case a == 1 && b == 1:
			counts[1]++
		case a == 96 && b == 100:
			counts[2]++
		default:
			t.Fatalf("coefficient %d = (%d, %d) is not ternary", i, a, b)
		}
	}
	exp := float64(len(p.Coeffs[0])) / 3
	chi2 := 0.0
	for _, c := range counts {
		chi2 += (c - exp) * (c - exp) / exp
	}
	if chi2 > 13.8 { // 2 dof, p = 0.001
		t.Errorf("counts %v: chi-square %.1f", counts, chi2)
	}
}
