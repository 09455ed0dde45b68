package dataset

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// The shape of the Synthetic(α, β) data of Li et al. 2020 ("Federated
// Optimization in Heterogeneous Networks", MLSys, section 5.1 and
// appendix C.1): 30 devices, 60 features, 10 classes.
const (
	SyntheticDevices  = 30
	SyntheticFeatures = 60
	SyntheticClasses  = 10
)

// Device sizes of the Synthetic(α, β) data. The paper says only that "the
// number of samples on each device follows a power law"; fedactor draws
// each size from a Pareto (power-law) distribution, P(n ≥ x) =
// (SyntheticMinSamples/x)^SyntheticSizeExponent for x ≥ SyntheticMinSamples,
// rounded down and capped at SyntheticMaxSamples. With these values 30
// devices hold about 4,500 examples in expectation, each at least 50: close
// to the authors' published data (4,801 examples on 30 devices).
const (
	SyntheticMinSamples   = 50
	SyntheticSizeExponent = 1.5
	SyntheticMaxSamples   = 10000
)

// SyntheticTestFraction is the share of each device's examples that
// SyntheticSpec.Generate puts in the test set (rounded down).
const SyntheticTestFraction = 0.2

// SyntheticFedProx returns the training examples of the Synthetic(α,
// β) data of Li et al. 2020 (section 5.1, appendix C.1), drawn from rng,
// with their natural partition: parts[k] lists device k's examples, in
// increasing order. For each of devices devices:
//
//	u_k ~ N(0, α),  B_k ~ N(0, β)
//	W_k ∈ R^{10×60}, b_k ∈ R^10:  every entry ~ N(u_k, 1)
//	v_k ∈ R^60:                    every entry ~ N(B_k, 1)
//	x ~ N(v_k, Σ),  Σ diagonal, Σ_jj = j^-1.2 (j = 1..60)
//	y = argmax(softmax(W_k x + b_k)) = argmax(W_k x + b_k)
//
// with N(mean, variance) as in the paper's notation (so α and β are
// variances; the authors' released generator passes them to a sampler as
// standard deviations, which agrees for α, β ∈ {0, 1} but not for 0.5).
// α sets how much the devices' models differ, β how much their inputs do.
// Device sizes follow the power law of SyntheticMinSamples and
// SyntheticSizeExponent. If iid is true, every device shares one W and b
// with entries ~ N(0, 1) and v_k = 0 (the paper's IID variant), and α and
// β are ignored.
//
// Draws are made in a fixed order (all sizes, then per device u_k, B_k,
// W_k, b_k, v_k and its examples), so equal seeds give equal data.
// Features are stored as float32 and labels computed from the stored
// values. It returns an error if devices is not positive or α or β is
// negative or not finite.
func SyntheticFedProx(alpha, beta float64, iid bool, devices int, rng *rand.Rand) (*Set, [][]int, error) {
	if devices < 1 {
		return nil, nil, fmt.Errorf("dataset: synthetic: %d devices, need at least 1", devices)
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"alpha", alpha}, {"beta", beta}} {
		if !(p.v >= 0) || math.IsInf(p.v, 1) {
			return nil, nil, fmt.Errorf("dataset: synthetic: %s %g is not a finite number >= 0", p.name, p.v)
		}
	}
	sizes := powerLawSizes(devices, rng)
	total := 0
	for _, n := range sizes {
		total += n
	}
	const d = SyntheticFeatures
	s := &Set{Rows: 1, Cols: d, Features: make([]float32, 0, total*d), Labels: make([]uint8, 0, total)}
	parts := make([][]int, devices)
	var shared *fedproxDevice
	if iid {
		shared = newFedproxDevice(0, 0, rng)
		clear(shared.v)
	}
	for dev, n := range sizes {
		p := shared
		if !iid {
			u := math.Sqrt(alpha) * rng.NormFloat64()
			b := math.Sqrt(beta) * rng.NormFloat64()
			p = newFedproxDevice(u, b, rng)
		}
		parts[dev] = make([]int, n)
		for i := range n {
			parts[dev][i] = s.Len()
			s.Labels = append(s.Labels, uint8(p.draw(s, rng)))
		}
	}
	return s, parts, nil
}

// fedproxDevice is one device's model and input distribution.
type fedproxDevice struct {
	u, b  float64   // the means of the model's and the inputs' entries
	w     []float64 // [classes][features]
	bias  []float64 // [classes]
	v     []float64 // [features], the mean of x
	sigma []float64 // [features], sqrt(Σ_jj)
}

// newFedproxDevice draws W, b and v around u and b (B_k in the paper).
func newFedproxDevice(u, b float64, rng *rand.Rand) *fedproxDevice {
	const d, k = SyntheticFeatures, SyntheticClasses
	p := &fedproxDevice{u: u, b: b, w: make([]float64, k*d), bias: make([]float64, k), v: make([]float64, d), sigma: make([]float64, d)}
	for i := range p.w {
		p.w[i] = u + rng.NormFloat64()
	}
	for i := range p.bias {
		p.bias[i] = u + rng.NormFloat64()
	}
	for j := range p.v {
		p.v[j] = b + rng.NormFloat64()
		p.sigma[j] = math.Sqrt(math.Pow(float64(j+1), -1.2))
	}
	return p
}

// draw appends one example x ~ N(v, Σ) to s.Features and returns its
// label, argmax(W x + b) on the stored float32 values.
func (p *fedproxDevice) draw(s *Set, rng *rand.Rand) int {
	const d = SyntheticFeatures
	at := len(s.Features)
	for j := range d {
		s.Features = append(s.Features, float32(p.v[j]+p.sigma[j]*rng.NormFloat64()))
	}
	x := s.Features[at:]
	best, bestZ := 0, math.Inf(-1)
	for c := range p.bias {
		z := p.bias[c]
		for j, w := range p.w[c*d : (c+1)*d] {
			z += w * float64(x[j])
		}
		if z > bestZ {
			best, bestZ = c, z
		}
	}
	return best
}

// powerLawSizes draws n device sizes from the Pareto distribution of
// SyntheticMinSamples and SyntheticSizeExponent, capped at
// SyntheticMaxSamples.
func powerLawSizes(n int, rng *rand.Rand) []int {
	sizes := make([]int, n)
	for i := range sizes {
		u := 1 - rng.Float64() // in (0, 1]
		x := SyntheticMinSamples * math.Pow(u, -1/SyntheticSizeExponent)
		sizes[i] = int(min(x, SyntheticMaxSamples))
	}
	return sizes
}

// SyntheticSpec names one Synthetic(α, β) data set: the parameters of
// SyntheticFedProx and the seed it is drawn from. Its String form, the
// name Load accepts, is "synthetic:alpha=A,beta=B", followed by
// ",devices=N" and ",seed=S" when they are not the defaults and ",iid"
// for the IID variant; ParseSynthetic reads it back.
type SyntheticSpec struct {
	// Alpha and Beta are the paper's α and β (variances, >= 0).
	Alpha, Beta float64
	// IID selects the paper's IID variant (Alpha and Beta must be 0).
	IID bool
	// Devices is the number of devices; 0 means SyntheticDevices (30).
	Devices int
	// Seed seeds the generator: equal values give equal data.
	Seed uint64
}

// syntheticStream is the PCG stream of Generate, so that a seed shared
// with other uses of rand.NewPCG(seed, ...) does not give the same draws.
const syntheticStream = 0x53796e7468 // "Synth"

// devices returns Devices or its default.
func (s SyntheticSpec) devices() int {
	if s.Devices == 0 {
		return SyntheticDevices
	}
	return s.Devices
}

// String returns the canonical name of s, e.g. "synthetic:alpha=1,beta=1".
func (s SyntheticSpec) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "synthetic:alpha=%s,beta=%s", fmtFloat(s.Alpha), fmtFloat(s.Beta))
	if s.Devices != 0 && s.Devices != SyntheticDevices {
		fmt.Fprintf(&b, ",devices=%d", s.Devices)
	}
	if s.Seed != 0 {
		fmt.Fprintf(&b, ",seed=%d", s.Seed)
	}
	if s.IID {
		b.WriteString(",iid")
	}
	return b.String()
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// ParseSynthetic parses a Synthetic(α, β) name: "synthetic", then
// optionally ":" and a comma-separated list of alpha=A, beta=B,
// devices=N, seed=S and iid, in any order, each at most once. Missing
// alpha and beta are 1 (Synthetic(1, 1), the data of the paper's
// systems-heterogeneity experiments), or 0 with iid.
func ParseSynthetic(name string) (SyntheticSpec, error) {
	head, list, _ := strings.Cut(name, ":")
	if strings.TrimSpace(head) != "synthetic" {
		return SyntheticSpec{}, fmt.Errorf("dataset: %q is not a synthetic data set name", name)
	}
	var s SyntheticSpec
	seen := map[string]bool{}
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" && strings.TrimSpace(list) == "" {
			break
		}
		k, v, hasValue := strings.Cut(item, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if seen[k] {
			return SyntheticSpec{}, fmt.Errorf("dataset: %q: %s given twice", name, k)
		}
		seen[k] = true
		var err error
		switch {
		case k == "iid" && !hasValue:
			s.IID = true
		case k == "alpha" && hasValue:
			s.Alpha, err = strconv.ParseFloat(v, 64)
		case k == "beta" && hasValue:
			s.Beta, err = strconv.ParseFloat(v, 64)
		case k == "devices" && hasValue:
			s.Devices, err = strconv.Atoi(v)
			if err == nil && s.Devices < 1 {
				err = fmt.Errorf("need at least 1")
			}
		case k == "seed" && hasValue:
			s.Seed, err = strconv.ParseUint(v, 10, 64)
		default:
			return SyntheticSpec{}, fmt.Errorf("dataset: %q: %q is not one of alpha=A, beta=B, devices=N, seed=S, iid", name, item)
		}
		if err != nil {
			return SyntheticSpec{}, fmt.Errorf("dataset: %q: %s: %w", name, k, err)
		}
	}
	def := 1.0
	if s.IID {
		def = 0
	}
	if !seen["alpha"] {
		s.Alpha = def
	}
	if !seen["beta"] {
		s.Beta = def
	}
	if err := s.validate(); err != nil {
		return SyntheticSpec{}, fmt.Errorf("dataset: %q: %w", name, err)
	}
	return s, nil
}

// validate checks the parameters.
func (s SyntheticSpec) validate() error {
	for _, p := range []struct {
		name string
		v    float64
	}{{"alpha", s.Alpha}, {"beta", s.Beta}} {
		if !(p.v >= 0) || math.IsInf(p.v, 1) {
			return fmt.Errorf("%s %g is not a finite number >= 0", p.name, p.v)
		}
	}
	if s.IID && (s.Alpha != 0 || s.Beta != 0) {
		return fmt.Errorf("the IID variant has no alpha or beta (got %g, %g)", s.Alpha, s.Beta)
	}
	if s.Devices < 0 {
		return fmt.Errorf("%d devices", s.Devices)
	}
	return nil
}

// Generate draws the data set s names: SyntheticFedProx from a PCG
// generator seeded with Seed, then a split of each device's examples, at
// random, into a test share of SyntheticTestFraction (rounded down) and
// the rest for training. Data.Train holds the training examples device
// after device, Data.Natural their devices, and Data.Test every device's
// test examples.
func (s SyntheticSpec) Generate() (*Data, error) {
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("dataset: %s: %w", s, err)
	}
	rng := rand.New(rand.NewPCG(s.Seed, syntheticStream))
	all, parts, err := SyntheticFedProx(s.Alpha, s.Beta, s.IID, s.devices(), rng)
	if err != nil {
		return nil, err
	}
	var trainIdx, testIdx []int
	natural := make([][]int, len(parts))
	for dev, p := range parts {
		rng.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
		nt := int(SyntheticTestFraction * float64(len(p)))
		testIdx = append(testIdx, sortedCopy(p[:nt])...)
		train := sortedCopy(p[nt:])
		natural[dev] = make([]int, len(train))
		for i := range train {
			natural[dev][i] = len(trainIdx) + i
		}
		trainIdx = append(trainIdx, train...)
	}
	return &Data{Name: s.String(), Train: all.Select(trainIdx), Test: all.Select(testIdx), Natural: natural}, nil
}

// sortedCopy returns a sorted copy of idx.
func sortedCopy(idx []int) []int {
	c := slices.Clone(idx)
	slices.Sort(c)
	return c
}
