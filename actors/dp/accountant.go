package dp

import (
	"fmt"
	"math"
)

// Accountant tracks the privacy spent by rounds of DP-FedAvg, each a
// sampled Gaussian mechanism with the same sample rate and noise
// multiplier, by composing their Rényi DP at every order and converting the
// total to (ε, δ) with EpsilonFromRDP.
//
// Configure it as a literal; Validate checks the fields, and every method
// that computes validates them first. The clipping bound does not appear:
// the multiplier is already relative to it. An Accountant is not safe for
// concurrent use by several goroutines while Step is being called.
type Accountant struct {
	// SampleRate is q in (0, 1]: the probability that a given data owner
	// takes part in a round, for example expected participants over all
	// owners. 1 means every owner takes part in every round.
	SampleRate float64
	// Multiplier is the noise multiplier z > 0 of the Mechanism: noise
	// standard deviation over clipping bound.
	Multiplier float64
	// Delta is the target δ in (0, 1), usually below one over the number
	// of data owners.
	Delta float64
	// Orders are the Rényi orders, each in (1, MaxOrder], over which ε is
	// minimised; nil means DefaultOrders.
	Orders []float64

	rounds int // rounds recorded by Step
}

// Validate reports whether a's fields are in range, with an error wrapping
// ErrInvalidParameter if not.
func (a *Accountant) Validate() error {
	if err := checkSGM(a.SampleRate, a.Multiplier); err != nil {
		return fmt.Errorf("dp: accountant: %w", err)
	}
	if !(a.Delta > 0 && a.Delta < 1) {
		return fmt.Errorf("dp: accountant: delta %v is not in (0, 1): %w", a.Delta, ErrInvalidParameter)
	}
	if a.Orders != nil && len(a.Orders) == 0 {
		return fmt.Errorf("dp: accountant: empty orders: %w", ErrInvalidParameter)
	}
	for _, o := range a.Orders {
		if !(o > 1 && o <= MaxOrder) {
			return fmt.Errorf("dp: accountant: order %v is not in (1, %d]: %w", o, MaxOrder, ErrInvalidParameter)
		}
	}
	return nil
}

// Step records n more rounds (n ≥ 0). It returns an error, recording
// nothing, if n is negative or the total would overflow an int.
func (a *Accountant) Step(n int) error {
	if n < 0 || a.rounds > math.MaxInt-n {
		return fmt.Errorf("dp: accountant: cannot record %d rounds after %d: %w", n, a.rounds, ErrInvalidParameter)
	}
	a.rounds += n
	return nil
}

// Rounds returns the number of rounds recorded by Step.
func (a *Accountant) Rounds() int { return a.rounds }

// Spent returns Epsilon(a.Rounds()): the ε spent so far at the target δ,
// and the Rényi order that gives it.
func (a *Accountant) Spent() (eps, order float64, err error) {
	return a.Epsilon(a.rounds)
}

// Epsilon returns the ε such that the given number of rounds is
// (ε, Delta)-differentially private, minimised over the orders, and the
// order that attains it. Zero rounds spend ε = 0, reported with order 0.
// Epsilon does not depend on the rounds recorded by Step.
//
// It returns an error if a is not valid, rounds is negative, or the RDP at
// some order cannot be computed.
func (a *Accountant) Epsilon(rounds int) (eps, order float64, err error) {
	if err := a.Validate(); err != nil {
		return 0, 0, err
	}
	if rounds < 0 {
		return 0, 0, fmt.Errorf("dp: accountant: %d rounds: %w", rounds, ErrInvalidParameter)
	}
	if rounds == 0 {
		return 0, 0, nil
	}
	rdp, orders, err := a.rdp(rounds)
	if err != nil {
		return 0, 0, err
	}
	eps, order, err = EpsilonFromRDP(orders, rdp, a.Delta)
	if err != nil {
		return 0, 0, fmt.Errorf("dp: accountant: %w", err)
	}
	return eps, order, nil
}

// rdp returns the RDP of the given number of rounds at each order, and the
// orders.
func (a *Accountant) rdp(rounds int) (rdp, orders []float64, err error) {
	orders = a.Orders
	if orders == nil {
		orders = DefaultOrders()
	}
	rdp = make([]float64, len(orders))
	for i, o := range orders {
		r, err := SampledGaussianRDP(a.SampleRate, a.Multiplier, o)
		if err != nil {
			return nil, nil, fmt.Errorf("dp: accountant: %w", err)
		}
		rdp[i] = float64(rounds) * r
	}
	return rdp, orders, nil
}
