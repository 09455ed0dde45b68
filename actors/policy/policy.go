// Package policy holds the model owner's aggregation policies, apart from
// any transport: a Strategy says how much each data owner's update weighs
// and turns the revealed, weighted sum of updates into the next global
// model. It imports neither the actor runtime nor protobuf, so every policy
// works unchanged under every aggregation scheme and every deployment.
//
// FedAvg averages; FedAvgM and FedAdam treat the average as a
// pseudo-gradient for server momentum or server Adam and keep state
// between rounds (Stateful). Parse builds any of them from a spec such as
// "fedadam:lr=0.01".
package policy

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Strategy is a server-side aggregation policy.
//
// A round goes: each contributing data owner k trains, then protects
// Weight(n_k)·w_k and Weight(n_k), where n_k is its sample count and w_k its
// locally trained model; the secure worker sums the protected values; the
// model owner reveals the sums and calls Aggregate.
type Strategy interface {
	// Name identifies the strategy in results and logs.
	Name() string
	// Weight returns the weight of an update trained on n samples.
	Weight(n int) float64
	// Aggregate writes the next global model to dst, given the current
	// global model, the revealed sum of weighted updates and the sum of
	// their weights. dst may alias global.
	Aggregate(dst, global, sum []float64, totalWeight float64) error
}

// ErrNoWeight is returned when a round's contributions weigh nothing, e.g.
// because every data owner dropped out.
var ErrNoWeight = errors.New("policy: total weight is zero")

// FedAvg is federated averaging (McMahan et al. 2017): the next global
// model is the weighted mean of the owners' models, weighted by sample
// count, or the plain mean when Unweighted is set (as the PySyft tutorial
// averaged).
type FedAvg struct {
	Unweighted bool
}

// Name returns "fedavg" or "fedavg-unweighted".
func (f FedAvg) Name() string {
	if f.Unweighted {
		return "fedavg-unweighted"
	}
	return "fedavg"
}

// Weight returns n, or 1 when unweighted.
func (f FedAvg) Weight(n int) float64 {
	if f.Unweighted {
		return 1
	}
	return float64(n)
}

// Aggregate sets dst to sum / totalWeight.
func (f FedAvg) Aggregate(dst, global, sum []float64, totalWeight float64) error {
	if err := check(dst, global, sum, totalWeight); err != nil {
		return err
	}
	inv := 1 / totalWeight
	for i, s := range sum {
		dst[i] = s * inv
	}
	return nil
}

// check validates the arguments every strategy receives.
func check(dst, global, sum []float64, totalWeight float64) error {
	if len(dst) != len(global) || len(sum) != len(global) {
		return fmt.Errorf("policy: lengths differ: dst %d, global %d, sum %d", len(dst), len(global), len(sum))
	}
	if totalWeight <= 0 || math.IsNaN(totalWeight) || math.IsInf(totalWeight, 0) {
		if totalWeight == 0 {
			return ErrNoWeight
		}
		return fmt.Errorf("policy: invalid total weight %g", totalWeight)
	}
	return nil
}

// Stateful is implemented by strategies that keep state between rounds
// (server momentum, moment estimates), so that the model owner can
// checkpoint and restore it.
type Stateful interface {
	// State appends the strategy's state to dst[:0] and returns it.
	State(dst []float64) []float64
	// SetState restores a vector returned by State.
	SetState(s []float64) error
}

// FedAvgM is federated averaging with server momentum (Hsu et al. 2019,
// "Measuring the Effects of Non-Identical Data Distribution for Federated
// Visual Classification"). Each round it treats the difference between
// the global model and the weighted mean of the owners' models as a
// gradient and takes a heavy-ball step on it:
//
//	avg = sum / totalWeight;  Δ = global − avg
//	v ← Momentum·v + Δ;  next = global − ServerLR·v
//
// Updates are weighted by sample count, as in FedAvg. With Momentum 0 and
// ServerLR 1 it is FedAvg, so the zero value behaves like FedAvg{};
// ByName("fedavgm") returns &FedAvgM{Momentum: 0.9}.
//
// Its state is the velocity v, empty until the first Aggregate. Use a
// fresh value (or SetState(nil)) per run, and a pointer: the methods
// mutate v. It is not safe for concurrent use.
type FedAvgM struct {
	// ServerLR is the server learning rate η > 0. 0 means 1 − Momentum:
	// the effective learning rate η/(1−β) is then 1, so a Δ that stays
	// constant over rounds ends up moving the model as far per round as
	// FedAvg would (Flower's default is 1 with momentum 0, which is the
	// same thing).
	ServerLR float64
	// Momentum is the momentum factor β in [0, 1); 0 (the zero value)
	// means none.
	Momentum float64

	v []float64
}

// Name returns "fedavgm".
func (f *FedAvgM) Name() string { return "fedavgm" }

// String returns a spec that Parse turns back into f's parameters, with
// defaults resolved, e.g. "fedavgm:lr=0.1,momentum=0.9".
func (f *FedAvgM) String() string {
	lr, beta, _ := f.params()
	return "fedavgm:lr=" + formatFloat(lr) + ",momentum=" + formatFloat(beta)
}

// Weight returns n.
func (f *FedAvgM) Weight(n int) float64 { return float64(n) }

// params returns the server learning rate and momentum with defaults
// applied, or an error if they are out of range.
func (f *FedAvgM) params() (lr, beta float64, err error) {
	beta = f.Momentum
	if !(beta >= 0 && beta < 1) {
		return 0, 0, fmt.Errorf("policy: fedavgm: momentum %g outside [0, 1)", beta)
	}
	lr = f.ServerLR
	if lr == 0 {
		lr = 1 - beta
	}
	if !(lr > 0) || math.IsInf(lr, 0) {
		return 0, 0, fmt.Errorf("policy: fedavgm: server learning rate %g is not a positive number", lr)
	}
	return lr, beta, nil
}

// Aggregate sets dst to global − ServerLR·v after folding this round's
// pseudo-gradient into the velocity v. On error neither dst nor the state
// changes; non-finite values in global or sum are errors, so that they
// cannot poison the state for the rest of the run.
func (f *FedAvgM) Aggregate(dst, global, sum []float64, totalWeight float64) error {
	if err := check(dst, global, sum, totalWeight); err != nil {
		return err
	}
	lr, beta, err := f.params()
	if err != nil {
		return err
	}
	if f.v != nil && len(f.v) != len(global) {
		return fmt.Errorf("policy: fedavgm: velocity has %d values, model %d", len(f.v), len(global))
	}
	if err := checkFinite("fedavgm", global, sum); err != nil {
		return err
	}
	if f.v == nil {
		f.v = make([]float64, len(global))
	}
	inv := 1 / totalWeight
	for i, g := range global {
		v := beta*f.v[i] + (g - sum[i]*inv)
		f.v[i] = v
		dst[i] = g - lr*v
	}
	return nil
}

// State implements Stateful: the velocity v (empty before the first
// Aggregate).
func (f *FedAvgM) State(dst []float64) []float64 {
	return append(dst[:0], f.v...)
}

// SetState implements Stateful. An empty s resets the velocity. Otherwise
// s must hold finite values and, once the velocity is sized by an
// Aggregate or an earlier SetState, have its length. s is copied.
func (f *FedAvgM) SetState(s []float64) error {
	if len(s) == 0 {
		f.v = nil
		return nil
	}
	if f.v != nil && len(s) != len(f.v) {
		return fmt.Errorf("policy: fedavgm: state has %d values, velocity %d", len(s), len(f.v))
	}
	if err := checkFinite("fedavgm state", s); err != nil {
		return err
	}
	f.v = append(f.v[:0], s...)
	return nil
}

// Defaults of FedAdam, used for fields left at zero.
//
// Beta1 and Beta2 are Flower's FedAdam defaults (beta_1 0.9, beta_2 0.99).
// Flower's eta 0.1 and tau 1e-9 are not used: with τ ≈ 0 the first round
// moves every parameter by ±η whatever the size of Δ (m/√v is then
// sign(Δ)), and 0.1 is larger than most weights of our CNN at
// initialisation. η 0.01 keeps that first step well below the weights'
// scale, and τ 1e-3 damps coordinates whose updates are much smaller than
// 1e-3 instead of blowing them up to ±η.
const (
	DefaultFedAdamLR    = 0.01
	DefaultFedAdamBeta1 = 0.9
	DefaultFedAdamBeta2 = 0.99
	DefaultFedAdamTau   = 1e-3
)

// FedAdam is the server-side Adam of Reddi et al. 2021, "Adaptive
// Federated Optimization" (FedOpt with Adam, Algorithm 2): the difference
// between the weighted mean of the owners' models and the global model is
// a pseudo-gradient for moment estimates without bias correction:
//
//	avg = sum / totalWeight;  Δ = avg − global
//	m ← Beta1·m + (1−Beta1)·Δ;  v ← Beta2·v + (1−Beta2)·Δ²
//	next = global + ServerLR · m / (√v + Tau)
//
// Updates are weighted by sample count, as in FedAvg. Fields left at zero
// take the Default* values above, so FedAdam{} and ByName("fedadam") are
// the same strategy. (A Beta1 of exactly 0 cannot be expressed;
// math.SmallestNonzeroFloat64 behaves the same.)
//
// Its state is m and v, empty until the first Aggregate. Use a fresh value
// (or SetState(nil)) per run, and a pointer: the methods mutate the
// moments. It is not safe for concurrent use.
type FedAdam struct {
	ServerLR float64 // server learning rate η > 0
	Beta1    float64 // first-moment decay in (0, 1)
	Beta2    float64 // second-moment decay in (0, 1)
	Tau      float64 // adaptivity τ > 0, added to √v

	m, v []float64
}

// Name returns "fedadam".
func (f *FedAdam) Name() string { return "fedadam" }

// String returns a spec that Parse turns back into f's parameters, with
// defaults resolved, e.g. "fedadam:lr=0.01,beta1=0.9,beta2=0.99,tau=0.001".
func (f *FedAdam) String() string {
	p, _ := f.params()
	return "fedadam:lr=" + formatFloat(p.lr) + ",beta1=" + formatFloat(p.b1) +
		",beta2=" + formatFloat(p.b2) + ",tau=" + formatFloat(p.tau)
}

// Weight returns n.
func (f *FedAdam) Weight(n int) float64 { return float64(n) }

type adamParams struct{ lr, b1, b2, tau float64 }

// params returns the parameters with defaults applied, or an error if they
// are out of range.
func (f *FedAdam) params() (adamParams, error) {
	or := func(x, def float64) float64 {
		if x == 0 {
			return def
		}
		return x
	}
	p := adamParams{or(f.ServerLR, DefaultFedAdamLR), or(f.Beta1, DefaultFedAdamBeta1),
		or(f.Beta2, DefaultFedAdamBeta2), or(f.Tau, DefaultFedAdamTau)}
	switch {
	case !(p.lr > 0) || math.IsInf(p.lr, 0):
		return p, fmt.Errorf("policy: fedadam: server learning rate %g is not a positive number", p.lr)
	case !(p.b1 > 0 && p.b1 < 1):
		return p, fmt.Errorf("policy: fedadam: beta1 %g outside (0, 1)", p.b1)
	case !(p.b2 > 0 && p.b2 < 1):
		return p, fmt.Errorf("policy: fedadam: beta2 %g outside (0, 1)", p.b2)
	case !(p.tau > 0) || math.IsInf(p.tau, 0):
		return p, fmt.Errorf("policy: fedadam: tau %g is not a positive number", p.tau)
	}
	return p, nil
}

// Aggregate updates the moments with this round's pseudo-gradient and
// writes global + ServerLR·m/(√v+Tau) to dst. On error neither dst nor the
// state changes; non-finite values in global or sum are errors, so that
// they cannot poison the state for the rest of the run.
func (f *FedAdam) Aggregate(dst, global, sum []float64, totalWeight float64) error {
	if err := check(dst, global, sum, totalWeight); err != nil {
		return err
	}
	p, err := f.params()
	if err != nil {
		return err
	}
	if f.m != nil && len(f.m) != len(global) {
		return fmt.Errorf("policy: fedadam: moments have %d values, model %d", len(f.m), len(global))
	}
	if err := checkFinite("fedadam", global, sum); err != nil {
		return err
	}
	if f.m == nil {
		f.m, f.v = make([]float64, len(global)), make([]float64, len(global))
	}
	inv := 1 / totalWeight
	m, v := f.m[:len(global)], f.v[:len(global)]
	for i, g := range global {
		d := sum[i]*inv - g
		mi := p.b1*m[i] + (1-p.b1)*d
		vi := p.b2*v[i] + (1-p.b2)*d*d
		m[i], v[i] = mi, vi
		dst[i] = g + p.lr*mi/(math.Sqrt(vi)+p.tau)
	}
	return nil
}

// State implements Stateful: m followed by v (empty before the first
// Aggregate). Nothing else is needed: without bias correction the update
// does not depend on the round number.
func (f *FedAdam) State(dst []float64) []float64 {
	return append(append(dst[:0], f.m...), f.v...)
}

// SetState implements Stateful. An empty s resets the moments. Otherwise s
// must have even length, finite values and a non-negative second half (v)
// and, once the moments are sized by an Aggregate or an earlier SetState,
// twice their length. s is copied.
func (f *FedAdam) SetState(s []float64) error {
	if len(s) == 0 {
		f.m, f.v = nil, nil
		return nil
	}
	if len(s)%2 != 0 {
		return fmt.Errorf("policy: fedadam: state of odd length %d", len(s))
	}
	n := len(s) / 2
	if f.m != nil && n != len(f.m) {
		return fmt.Errorf("policy: fedadam: state has %d values, want %d", len(s), 2*len(f.m))
	}
	if err := checkFinite("fedadam state", s); err != nil {
		return err
	}
	for i, x := range s[n:] {
		if x < 0 {
			return fmt.Errorf("policy: fedadam state: second moment %d is negative (%g)", i, x)
		}
	}
	f.m = append(f.m[:0], s[:n]...)
	f.v = append(f.v[:0], s[n:]...)
	return nil
}

// checkFinite returns an error naming what and the first NaN or infinite
// value in vs.
func checkFinite(what string, vs ...[]float64) error {
	for _, xs := range vs {
		for i, x := range xs {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("policy: %s: value %d is %g", what, i, x)
			}
		}
	}
	return nil
}

func formatFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// ErrUnknownStrategy is returned (wrapped) by Parse and ByName for a name
// that is not one of Names.
var ErrUnknownStrategy = errors.New("policy: unknown strategy")

// Names returns the strategy names Parse and ByName accept.
func Names() []string {
	return []string{"fedavg", "fedavg-unweighted", "fedavgm", "fedadam"}
}

// ByName returns the strategy called name, one of Names, with default
// parameters; "" means "fedavg". Stateful strategies are returned as fresh
// pointers. ByName is Parse, so it also accepts parameters.
func ByName(name string) (Strategy, error) {
	return Parse(name)
}

// Parse returns the strategy described by spec: a name from Names,
// optionally followed by a colon and comma-separated key=value
// parameters, e.g. "fedavgm:lr=1,momentum=0.9" or
// "fedadam:lr=0.03,beta1=0.9,tau=1e-3". Parameters left out take their
// defaults; "" means "fedavg". The keys are
//
//	fedavgm: lr (ServerLR), momentum (Momentum; default 0.9 here)
//	fedadam: lr (ServerLR), beta1, beta2, tau
//
// fedavg and fedavg-unweighted take none. Unknown names (wrapping
// ErrUnknownStrategy), unknown or repeated keys, malformed or out-of-range
// values, and an explicit 0 where the zero value selects a default are
// errors. The String methods of FedAvgM and FedAdam return specs Parse
// accepts.
func Parse(spec string) (Strategy, error) {
	name, list, _ := strings.Cut(spec, ":")
	name = strings.TrimSpace(name)
	var (
		s        Strategy
		known    []param
		validate func() error
	)
	switch name {
	case "fedavg", "":
		s = FedAvg{}
	case "fedavg-unweighted":
		s = FedAvg{Unweighted: true}
	case "fedavgm":
		f := &FedAvgM{Momentum: 0.9}
		s, known = f, []param{{"lr", &f.ServerLR, false}, {"momentum", &f.Momentum, true}}
		validate = func() error { _, _, err := f.params(); return err }
	case "fedadam":
		f := &FedAdam{}
		s, known = f, []param{{"lr", &f.ServerLR, false}, {"beta1", &f.Beta1, false},
			{"beta2", &f.Beta2, false}, {"tau", &f.Tau, false}}
		validate = func() error { _, err := f.params(); return err }
	default:
		return nil, fmt.Errorf("%w %q (valid: %s)", ErrUnknownStrategy, name, strings.Join(Names(), ", "))
	}
	if err := setParams(name, list, known); err != nil {
		return nil, fmt.Errorf("policy: strategy %q: %w", spec, err)
	}
	if validate != nil {
		if err := validate(); err != nil {
			return nil, fmt.Errorf("policy: strategy %q: %w", spec, err)
		}
	}
	return s, nil
}

// param is a parameter Parse can set.
type param struct {
	key    string
	dst    *float64
	zeroOK bool // false if 0 selects a default and so cannot be given
}

// setParams parses the comma-separated key=value list into known.
func setParams(name, list string, known []param) error {
	if strings.TrimSpace(list) == "" {
		return nil
	}
	if len(known) == 0 {
		return fmt.Errorf("%s takes no parameters", name)
	}
	keys := make([]string, len(known))
	for i, p := range known {
		keys[i] = p.key
	}
	seen := make(map[string]bool)
	for item := range strings.SplitSeq(list, ",") {
		k, v, ok := strings.Cut(item, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return fmt.Errorf("parameter %q is not key=value", strings.TrimSpace(item))
		}
		i := -1
		for j, p := range known {
			if p.key == k {
				i = j
			}
		}
		if i < 0 {
			return fmt.Errorf("unknown parameter %q for %s (valid: %s)", k, name, strings.Join(keys, ", "))
		}
		if seen[k] {
			return fmt.Errorf("parameter %q given twice", k)
		}
		seen[k] = true
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("parameter %s: %q is not a finite number", k, v)
		}
		if x == 0 && !known[i].zeroOK {
			return fmt.Errorf("parameter %s must not be 0", k)
		}
		*known[i].dst = x
	}
	return nil
}
