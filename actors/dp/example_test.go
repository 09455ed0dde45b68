package dp_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/fedactor/fedactor/actors/dp"
)

// One DP-FedAvg round with central noise: two data owners clip their
// deltas, the model owner adds noise to the sum, and the accountant says
// what 1000 such rounds cost.
func Example() {
	global := []float64{0.5, -0.2, 1.0}
	local := [][]float64{{0.9, -0.2, 1.3}, {0.4, 0.1, 1.0}}
	mech := dp.Mechanism{Multiplier: 1.1, Clip: 0.3}

	sum := make([]float64, len(global))
	for _, w := range local {
		delta := make([]float64, len(w))
		for i := range w {
			delta[i] = w[i] - global[i]
		}
		scale, err := dp.Clip(delta, nil, mech.Clip)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("clipped by %.3f\n", scale)
		for i, d := range delta {
			sum[i] += d
		}
	}
	std, err := mech.CentralStd()
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := dp.AddNoise(sum, std, rand.New(rand.NewPCG(1, 2))); err != nil {
		fmt.Println(err)
		return
	}

	acct := dp.Accountant{SampleRate: 0.01, Multiplier: mech.Multiplier, Delta: 1e-5}
	eps, order, err := acct.Epsilon(1000)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("noise std %.2f; 1000 rounds: ε = %.2f (order %v)\n", std, eps, order)
	// Output:
	// clipped by 0.600
	// clipped by 0.949
	// noise std 0.33; 1000 rounds: ε = 1.73 (order 9)
}

// Distributed noise: each of the n contributors adds its share before
// protecting its update, so that the revealed sum carries the central
// noise.
func ExampleMechanism_ShareStd() {
	mech := dp.Mechanism{Multiplier: 1.0, Clip: 2.0}
	central, _ := mech.CentralStd()
	share, err := mech.ShareStd(4)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("central %.1f, each of 4 shares %.1f\n", central, share)
	// Output: central 2.0, each of 4 shares 1.0
}

func ExampleAccountant_Step() {
	acct := dp.Accountant{SampleRate: 256.0 / 60000, Multiplier: 1.1, Delta: 1e-5}
	for range 60 {
		if err := acct.Step(234); err != nil { // one epoch of 234 rounds
			fmt.Println(err)
			return
		}
	}
	eps, order, err := acct.Spent()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d rounds: ε = %.2f at order %v\n", acct.Rounds(), eps, order)
	// Output: 14040 rounds: ε = 2.59 at order 8
}

func ExampleClip() {
	global := []float64{1, 1}
	local := []float64{4, 5} // delta (3, 4), norm 5
	scale, err := dp.Clip(local, global, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("scale %.1f, local now %.1f\n", scale, local)
	// Output: scale 0.2, local now [1.6 1.8]
}
