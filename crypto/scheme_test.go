package crypto

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"reflect"
	"testing"
)

// modelLen is the length of the CNN's parameter vector.
const modelLen = 30514

// testUpdates returns n vectors of length l with values ~N(0, 0.1) and
// sample-count-like weights.
func testUpdates(seed uint64, n, l int) ([][]float64, []float64) {
	r := mrand.New(mrand.NewPCG(seed, 1))
	ups := make([][]float64, n)
	ws := make([]float64, n)
	for k := range ups {
		ups[k] = make([]float64, l)
		for i := range ups[k] {
			ups[k][i] = 0.1 * r.NormFloat64()
		}
		ws[k] = float64(500 + r.IntN(1500))
	}
	return ups, ws
}

// plainSum returns sum_k w_k u_k and sum_k w_k.
func plainSum(ups [][]float64, ws []float64) ([]float64, float64) {
	sum := make([]float64, len(ups[0]))
	var tw float64
	for k, u := range ups {
		for i, x := range u {
			sum[i] += ws[k] * x
		}
		tw += ws[k]
	}
	return sum, tw
}

// maxAbsErr returns the largest absolute difference over sum and weight.
func maxAbsErr(got, want []float64, gw, ww float64) float64 {
	e := math.Abs(gw - ww)
	for i := range want {
		e = math.Max(e, math.Abs(got[i]-want[i]))
	}
	if len(got) != len(want) || math.IsNaN(e) {
		return math.Inf(1)
	}
	return e
}

// tolerance is each scheme's stated absolute precision on the weighted sum.
var tolerance = map[string]float64{
	"plain":          1e-9,
	"ss":             1e-8,
	"ckks":           1e-4,
	"ckks-threshold": 1e-4,
	"paillier":       1e-8,
	"secagg":         1e-8,
	"ss-shamir":      1e-8,
	"ss-committee":   1e-8,
}

// TestCommittee checks additive ss with a committee of 3 of 50 owners:
// each owner makes 4 shares, 3 of them seeds for owners 0-2, the sum is
// exact, and the revealer wants exactly the 4 holders' partials.
func TestCommittee(t *testing.T) {
	const owners, committee, l = 50, 3, 500
	s, err := New("ss", Config{Owners: owners, Len: l, Committee: committee})
	if err != nil {
		t.Fatal(err)
	}
	if k, needed := HoldingOwners(s); k != committee || needed != committee+1 {
		t.Fatalf("holding owners %d, partials needed %d: want 3 and 4", k, needed)
	}
	ups, ws := testUpdates(7, owners, l)
	rev, _ := s.NewRevealer(rand.Reader)
	p, err := s.NewProtector(owners-1, rev.Setup(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := p.Protect(ups[0], ws[0])
	if err != nil {
		t.Fatal(err)
	}
	var to []Party
	for _, m := range msgs {
		to = append(to, m.To)
	}
	if !reflect.DeepEqual(to, []Party{0, 1, 2, SecureWorker}) {
		t.Errorf("shares addressed to %v, want owners 0-2 and the secure worker", to)
	}
	got, gw, _, err := Run(s, ups, ws, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	want, ww := plainSum(ups, ws)
	if e := maxAbsErr(got, want, gw, ww); e > tolerance["ss"] {
		t.Errorf("max abs error %g", e)
	}
	if _, _, err := rev.Reveal(make([][]byte, owners+1), nil); !errors.Is(err, ErrTooFewShares) {
		t.Errorf("reveal of N+1 partials: %v, want ErrTooFewShares", err)
	}
	for _, bad := range []struct {
		name string
		cfg  Config
	}{
		{"ss", Config{Owners: 5, Len: 8, Committee: 6}},
		{"ss", Config{Owners: 5, Len: 8, Committee: -1}},
		{"ss", Config{Owners: 5, Len: 8, Committee: 2, Threshold: 3}},
		{"ckks", Config{Owners: 5, Len: 8, Committee: 2}},
	} {
		if _, err := New(bad.name, bad.cfg); err == nil {
			t.Errorf("%s %+v accepted", bad.name, bad.cfg)
		}
	}
}

func TestRunSchemes(t *testing.T) {
	for _, name := range Names() {
		for _, owners := range []int{2, 3, 10} {
			l := modelLen
			if testing.Short() && owners > 2 {
				l = 3000
			}
			if name == "paillier" && owners > 2 {
				l = 2000 // the full length runs in TestPaillierFull
			}
			if name == "paillier" && owners == 2 {
				l = 5000
			}
			t.Run(fmt.Sprintf("%s/%d", name, owners), func(t *testing.T) {
				s, err := New(name, Config{Owners: owners, Len: l})
				if err != nil {
					t.Fatal(err)
				}
				ups, ws := testUpdates(uint64(owners), owners, l)
				got, gw, st, err := Run(s, ups, ws, rand.Reader)
				if err != nil {
					t.Fatal(err)
				}
				want, ww := plainSum(ups, ws)
				e := maxAbsErr(got, want, gw, ww)
				t.Logf("max abs error %.3g, stats %+v", e, st)
				if e > tolerance[name] {
					t.Errorf("max abs error %g > %g", e, tolerance[name])
				}
			})
		}
	}
}
