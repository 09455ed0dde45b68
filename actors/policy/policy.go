// Package policy holds the model owner's aggregation policies, apart from
// any transport: a Strategy says how much each data owner's update weighs
// and turns the revealed, weighted sum of updates into the next global
// model. It imports neither the actor runtime nor protobuf, so every policy
// works unchanged under every aggregation scheme and every deployment.
package policy

import (
	"errors"
	"fmt"
	"math"
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

// ByName returns the strategy called name: "fedavg" or "fedavg-unweighted".
func ByName(name string) (Strategy, error) {
	switch name {
	case "fedavg", "":
		return FedAvg{}, nil
	case "fedavg-unweighted":
		return FedAvg{Unweighted: true}, nil
	}
	return nil, fmt.Errorf("policy: unknown strategy %q (valid: fedavg, fedavg-unweighted)", name)
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
