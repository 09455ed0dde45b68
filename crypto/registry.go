package crypto

import (
	"fmt"
	"math"
)

// Info describes a registered scheme before it is configured: what a
// command line may ask of it and how its cost grows. Commands and
// experiments ask Describe instead of comparing scheme names.
type Info struct {
	// Name is the name New takes, e.g. "ss-shamir".
	Name string
	// Summary is a one-line description for help texts.
	Summary string
	// Threshold: Config.Threshold applies (0 picks the scheme's default).
	// For "ss" a threshold selects Shamir sharing ("ss-shamir").
	Threshold bool
	// Committee: Config.Committee applies (additive ss only).
	Committee bool
	// Keyed: payloads are bound to a session's keys, so a payload made in
	// another session of the same parameters is refused with ErrMismatch.
	// plain and ss have no keys: such a payload is a valid one.
	Keyed bool
	// FixedOwners: key material belongs to fixed data owners, made once at
	// set-up, so the scheme cannot sample a new cohort of clients each
	// round.
	FixedOwners bool
	// Pairwise: each data owner's work grows with the number of owners
	// (additive ss without a committee, secagg's pairwise masks), so a
	// round's total work grows as the square of the owners.
	Pairwise bool
}

// registry lists the schemes in the order Names returns them. It is a
// fixed table, not a place to register schemes at run time.
var registry = [...]struct {
	Info
	new func(Config) (Scheme, error)
}{
	{Info{Name: "plain", Summary: "trusted aggregator: updates in the clear (the baseline)"},
		func(c Config) (Scheme, error) { return newPlain(c) }},
	{Info{Name: "ss", Summary: "additive secret sharing among the secure worker and the owners (with -threshold: ss-shamir)",
		Threshold: true, Committee: true, Pairwise: true},
		func(c Config) (Scheme, error) { return newAdditive(c) }},
	{Info{Name: "ss-shamir", Summary: "Shamir t-of-(N+1) secret sharing among the secure worker and the owners",
		Threshold: true, Pairwise: true},
		func(c Config) (Scheme, error) { return newShamirSS(c) }},
	{Info{Name: "secagg", Summary: "pairwise masking with per-round keys (Bonawitz et al. 2017)",
		Threshold: true, Keyed: true, Pairwise: true},
		func(c Config) (Scheme, error) { return newSecAgg(c) }},
	{Info{Name: "ckks", Summary: "CKKS homomorphic encryption; the model owner holds the secret key",
		Keyed: true},
		func(c Config) (Scheme, error) { return newCKKS(c) }},
	{Info{Name: "ckks-threshold", Summary: "multiparty CKKS: a collective key, revealed with t owners' shares",
		Threshold: true, Keyed: true, FixedOwners: true},
		func(c Config) (Scheme, error) { return newThresholdCKKS(c) }},
	{Info{Name: "paillier", Summary: "Paillier additively homomorphic encryption with packed fixed point",
		Keyed: true},
		func(c Config) (Scheme, error) { return newPaillier(c) }},
}

// Names lists the registered scheme names.
func Names() []string {
	names := make([]string, len(registry))
	for i, r := range registry {
		names[i] = r.Name
	}
	return names
}

// Describe returns what the scheme called name can do.
func Describe(name string) (Info, error) {
	for _, r := range registry {
		if r.Name == name {
			return r.Info, nil
		}
	}
	return Info{}, fmt.Errorf("crypto: unknown scheme %q (have %v)", name, Names())
}

// New returns the scheme called name configured by cfg. "ss" with a
// threshold is "ss-shamir", as the command lines have always taken it.
func New(name string, cfg Config) (Scheme, error) {
	if name == "ss" && cfg.Threshold != 0 {
		name = "ss-shamir"
	}
	info, err := Describe(name)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.Owners < 1:
		return nil, fmt.Errorf("crypto: new %s: owners %d < 1", name, cfg.Owners)
	case cfg.Len < 1:
		return nil, fmt.Errorf("crypto: new %s: length %d < 1", name, cfg.Len)
	case !(cfg.MaxNorm >= 0) || math.IsInf(cfg.MaxNorm, 0):
		return nil, fmt.Errorf("crypto: new %s: max norm %g is not finite and >= 0", name, cfg.MaxNorm)
	case cfg.Committee < 0 || cfg.Committee > cfg.Owners:
		return nil, fmt.Errorf("crypto: new %s: committee %d not in [0, %d owners]", name, cfg.Committee, cfg.Owners)
	case cfg.Committee > 0 && !info.Committee:
		return nil, fmt.Errorf("crypto: new %s: a committee needs additive ss (scheme ss without a threshold)", name)
	case cfg.Threshold < 0:
		return nil, fmt.Errorf("crypto: new %s: threshold %d < 0", name, cfg.Threshold)
	case cfg.Threshold > 0 && !info.Threshold:
		return nil, fmt.Errorf("crypto: new %s: the scheme takes no threshold", name)
	}
	if cfg.FixedPoint == (FixedPoint{}) {
		cfg.FixedPoint = DefaultFixedPoint
	}
	for _, r := range registry {
		if r.Name == name {
			s, err := r.new(cfg)
			if err != nil {
				return nil, fmt.Errorf("crypto: new %s: %w", name, err)
			}
			return s, nil
		}
	}
	panic("unreachable: Describe found " + name)
}
