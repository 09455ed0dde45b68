package dataset

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestSyntheticFedProxDeterministic checks that equal seeds give equal
// data and a different seed different data, and the shape: 30 devices,
// 60 features, labels below 10, a natural partition that tiles the set.
func TestSyntheticFedProxDeterministic(t *testing.T) {
	gen := func(seed uint64) (*Set, [][]int) {
		s, parts, err := SyntheticFedProx(1, 1, false, SyntheticDevices, rand.New(rand.NewPCG(seed, 1)))
		if err != nil {
			t.Fatal(err)
		}
		return s, parts
	}
	a, pa := gen(5)
	b, pb := gen(5)
	c, _ := gen(6)
	if !slices.Equal(a.Features, b.Features) || !slices.Equal(a.Labels, b.Labels) || len(pa) != len(pb) {
		t.Fatal("equal seeds gave different data")
	}
	if slices.Equal(a.Labels, c.Labels) {
		t.Error("different seeds gave equal labels")
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(pa) != 30 || a.InputSize() != 60 || !slices.Equal(a.Shape(), []int{60}) || a.Classes() != 10 {
		t.Fatalf("%d devices, %d features, shape %v, %d classes", len(pa), a.InputSize(), a.Shape(), a.Classes())
	}
	next := 0
	for k, p := range pa {
		if len(p) < SyntheticMinSamples {
			t.Errorf("device %d has %d examples, below %d", k, len(p), SyntheticMinSamples)
		}
		for _, i := range p {
			if i != next {
				t.Fatalf("device %d: index %d, want %d (devices in order)", k, i, next)
			}
			next++
		}
	}
	if next != a.Len() {
		t.Errorf("partition covers %d of %d examples", next, a.Len())
	}
}

// TestPowerLawSizes checks the device sizes against the Pareto law they
// are drawn from: the minimum, and the tail P(n ≥ x) = (50/x)^1.5 at a
// few points, on 20,000 draws (binomial standard errors below 0.4%).
func TestPowerLawSizes(t *testing.T) {
	const n = 20000
	sizes := powerLawSizes(n, rand.New(rand.NewPCG(7, 7)))
	if m := slices.Min(sizes); m != SyntheticMinSamples {
		t.Errorf("smallest size %d, want %d", m, SyntheticMinSamples)
	}
	if m := slices.Max(sizes); m > SyntheticMaxSamples {
		t.Errorf("largest size %d exceeds the cap %d", m, SyntheticMaxSamples)
	}
	for _, x := range []int{75, 100, 200, 500, 1000} {
		k := 0
		for _, s := range sizes {
			if s >= x {
				k++
			}
		}
		got := float64(k) / n
		want := math.Pow(float64(SyntheticMinSamples)/float64(x), SyntheticSizeExponent)
		if se := math.Sqrt(want * (1 - want) / n); math.Abs(got-want) > 5*se+0.002 {
			t.Errorf("P(n >= %d) = %.4f, want %.4f", x, got, want)
		}
	}
}

// TestSyntheticFedProxMoments checks the generative model of section 5.1
// on many devices: u_k ~ N(0, α) and B_k ~ N(0, β) (α, β variances);
// W_k, b_k entries ~ N(u_k, 1); v_k entries ~ N(B_k, 1); x ~ N(v_k, Σ)
// with Σ_jj = j^-1.2. Tolerances are about five standard errors.
func TestSyntheticFedProxMoments(t *testing.T) {
	const alpha, beta, devices = 2.0, 0.5, 1500
	rng := rand.New(rand.NewPCG(11, 3))
	var us, bs, wdev, vdev []float64
	for range devices {
		u := math.Sqrt(alpha) * rng.NormFloat64()
		b := math.Sqrt(beta) * rng.NormFloat64()
		p := newFedproxDevice(u, b, rng)
		us, bs = append(us, p.u), append(bs, p.b)
		for _, w := range append(slices.Clone(p.w), p.bias...) {
			wdev = append(wdev, w-p.u)
		}
		for _, v := range p.v {
			vdev = append(vdev, v-p.b)
		}
	}
	check := func(name string, xs []float64, mean, variance float64) {
		t.Helper()
		m, v := moments(xs)
		n := float64(len(xs))
		if math.Abs(m-mean) > 5*math.Sqrt(variance/n) || math.Abs(v-variance) > 5*variance*math.Sqrt(2/n) {
			t.Errorf("%s: mean %.4f variance %.4f, want %g and %g", name, m, v, mean, variance)
		}
	}
	check("u_k", us, 0, alpha)
	check("B_k", bs, 0, beta)
	check("W_k, b_k around u_k", wdev, 0, 1)
	check("v_k around B_k", vdev, 0, 1)

	// Inputs of one device: mean v_k, variance j^-1.2 per feature.
	p := newFedproxDevice(0.3, -0.7, rng)
	s := &Set{Rows: 1, Cols: SyntheticFeatures}
	const n = 8000
	for range n {
		s.Labels = append(s.Labels, uint8(p.draw(s, rng)))
	}
	for j := range SyntheticFeatures {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(s.Features[i*SyntheticFeatures+j])
		}
		check("x_j", xs, p.v[j], math.Pow(float64(j+1), -1.2))
	}
	// Labels are argmax(W x + b): recompute a few.
	for i := range 50 {
		x := s.Features[i*SyntheticFeatures : (i+1)*SyntheticFeatures]
		best, bz := -1, math.Inf(-1)
		for c := range SyntheticClasses {
			z := p.bias[c]
			for j, v := range x {
				z += p.w[c*SyntheticFeatures+j] * float64(v)
			}
			if z > bz {
				best, bz = c, z
			}
		}
		if int(s.Labels[i]) != best {
			t.Fatalf("example %d: label %d, argmax %d", i, s.Labels[i], best)
		}
	}
}

// moments returns the mean and the (unbiased) variance of xs.
func moments(xs []float64) (mean, variance float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		variance += (x - mean) * (x - mean)
	}
	return mean, variance / float64(len(xs)-1)
}

// TestSyntheticFedProxIID checks the IID variant: one model for all
// devices, so the label mix is alike across devices, unlike
// Synthetic(1, 1) where devices differ.
func TestSyntheticFedProxIID(t *testing.T) {
	spread := func(iid bool) float64 {
		s, parts, err := SyntheticFedProx(1, 1, iid, 30, rand.New(rand.NewPCG(3, 3)))
		if err != nil {
			t.Fatal(err)
		}
		// Mean over devices of the total-variation distance between the
		// device's label distribution and the overall one.
		all := LabelHistogram(s.Labels, [][]int{Subsample(s.Len(), 0, nil)}, 10)[0]
		var tv float64
		for _, h := range LabelHistogram(s.Labels, parts, 10) {
			n := 0
			for _, c := range h {
				n += c
			}
			for c := range h {
				tv += math.Abs(float64(h[c])/float64(n)-float64(all[c])/float64(s.Len())) / 2
			}
		}
		return tv / float64(len(parts))
	}
	iid, non := spread(true), spread(false)
	t.Logf("mean label TV distance to the pool: IID %.3f, Synthetic(1,1) %.3f", iid, non)
	if !(iid < 0.25 && non > 2*iid) {
		t.Errorf("label spread IID %.3f, Synthetic(1,1) %.3f: want IID small and well below non-IID", iid, non)
	}
}

func TestSyntheticFedProxErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tc := range []struct {
		alpha, beta float64
		devices     int
	}{{1, 1, 0}, {-1, 1, 3}, {1, math.NaN(), 3}, {math.Inf(1), 0, 3}} {
		if _, _, err := SyntheticFedProx(tc.alpha, tc.beta, false, tc.devices, rng); err == nil {
			t.Errorf("alpha %g beta %g devices %d accepted", tc.alpha, tc.beta, tc.devices)
		}
	}
}

// TestParseSynthetic checks the dataset names and that String round-trips.
func TestParseSynthetic(t *testing.T) {
	for _, tc := range []struct {
		name string
		want SyntheticSpec
		str  string
	}{
		{"synthetic", SyntheticSpec{Alpha: 1, Beta: 1}, "synthetic:alpha=1,beta=1"},
		{"synthetic:alpha=0.5,beta=0.5", SyntheticSpec{Alpha: 0.5, Beta: 0.5}, "synthetic:alpha=0.5,beta=0.5"},
		{"synthetic: beta=0 , alpha=0,devices=30", SyntheticSpec{}, "synthetic:alpha=0,beta=0"},
		{"synthetic:alpha=1,beta=1,devices=100,seed=7", SyntheticSpec{Alpha: 1, Beta: 1, Devices: 100, Seed: 7}, "synthetic:alpha=1,beta=1,devices=100,seed=7"},
		{"synthetic:iid", SyntheticSpec{IID: true}, "synthetic:alpha=0,beta=0,iid"},
	} {
		got, err := ParseSynthetic(tc.name)
		if err != nil {
			t.Errorf("%q: %v", tc.name, err)
			continue
		}
		if got.devices() != max(got.Devices, 30) || got.Alpha != tc.want.Alpha || got.Beta != tc.want.Beta || got.IID != tc.want.IID || got.Seed != tc.want.Seed {
			t.Errorf("%q: got %+v, want %+v", tc.name, got, tc.want)
		}
		if s := got.String(); s != tc.str {
			t.Errorf("%q: String %q, want %q", tc.name, s, tc.str)
		}
		if back, err := ParseSynthetic(got.String()); err != nil || back.String() != got.String() {
			t.Errorf("%q: String does not round-trip: %v %v", tc.name, back, err)
		}
	}
	for _, bad := range []string{
		"synth", "synthetic:alpha", "synthetic:alpha=x", "synthetic:alpha=-1", "synthetic:gamma=1",
		"synthetic:alpha=1,alpha=2", "synthetic:devices=0", "synthetic:seed=-1", "synthetic:iid,alpha=1",
		"synthetic:alpha=NaN", "synthetic:beta=Inf", "synthetic:,",
	} {
		if _, err := ParseSynthetic(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestLoadSynthetic checks Load's synthetic names: train and test split
// per device, the natural partition over the training set.
func TestLoadSynthetic(t *testing.T) {
	d, err := Load("synthetic:alpha=0.5,beta=0.5,seed=3", Options{})
	if err != nil {
		t.Fatal(err)
	}
	d2, err := Load("synthetic:seed=3,beta=0.5,alpha=0.5", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "synthetic:alpha=0.5,beta=0.5,seed=3" || !slices.Equal(d.Train.Features, d2.Train.Features) {
		t.Errorf("name %q; equal names gave different data: %v", d.Name, !slices.Equal(d.Train.Features, d2.Train.Features))
	}
	if err := d.Train.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := d.Test.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(d.Natural) != 30 {
		t.Fatalf("%d devices", len(d.Natural))
	}
	covered := 0
	for k, p := range d.Natural {
		covered += len(p)
		if !slices.IsSorted(p) || len(p) == 0 {
			t.Errorf("device %d: %d examples, sorted %v", k, len(p), slices.IsSorted(p))
		}
	}
	frac := float64(d.Test.Len()) / float64(d.Test.Len()+d.Train.Len())
	if covered != d.Train.Len() || math.Abs(frac-SyntheticTestFraction) > 0.02 {
		t.Errorf("partition covers %d of %d; test share %.3f", covered, d.Train.Len(), frac)
	}
	if _, err := Load("synthetic:alpha=2,oops", Options{}); err == nil || !strings.Contains(err.Error(), "oops") {
		t.Errorf("bad synthetic name: %v", err)
	}
}
