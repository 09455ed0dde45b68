package main

import (
	"context"
	"fmt"
	"math"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/crypto"
	"github.com/fedactor/fedactor/dataset"
	"github.com/fedactor/fedactor/internal/sweep"
	"github.com/fedactor/fedactor/nn"
	"gonum.org/v1/gonum/mat"
)

// The synthetic regression data set of the federated-trainer preset:
// y = trueCoef·x + trueBias + noise, features i.i.d. N(0, 1), noise
// N(0, trainerNoise²), drawn from the seed.
var trueCoef = []float64{2.5, -1.5, 0.75, 3, -0.5}

const (
	trueBias          = 1.0
	trainerNoise      = 0.1
	trainerOwners     = 3
	trainerPerOwner   = 400
	trainerTest       = 300
	trainerIterations = 2000
	// trainerData is the seed stream of the synthetic data.
	trainerData sweep.Stream = 0x7e57
)

var federatedTrainer = scenario{
	name: "federated-trainer",
	reproduces: fmt.Sprintf("federated-trainer: %d data owners, a model owner and a facilitator fit a linear regression (synthetic, %d features, known coefficients) by gradient descent "+
		"with Paillier-encrypted updates, one full-batch step per iteration, for %d iterations", trainerOwners, len(trueCoef), trainerIterations),
	original: "the cost fell per iteration until growing Paillier mantissas overflowed after many iterations",
	run:      runTrainer,
}

// runTrainer fits the regression and sets the learned coefficients
// against the true ones and against the least-squares fit of the pooled
// training data (the best any method can do on it).
func runTrainer(ctx context.Context, o options) (*report, error) {
	rng := trainerData.Rand(o.Seed)
	train := dataset.LinearData(trainerOwners*trainerPerOwner, trueCoef, trueBias, trainerNoise, rng)
	test := dataset.LinearData(trainerTest, trueCoef, trueBias, trainerNoise, rng)
	m, err := nn.NewRegression(nn.Shape{len(trueCoef)}, []nn.Layer{nn.Dense(1)}, sweep.ModelStream.Rand(o.Seed))
	if err != nil {
		return nil, err
	}
	scheme, err := crypto.New("paillier", crypto.Config{Owners: trainerOwners, Len: m.NumParams()})
	if err != nil {
		return nil, err
	}
	owners := make([]actors.Owner, trainerOwners)
	for i := range owners {
		idx := make([]int, trainerPerOwner)
		for j := range idx {
			idx[j] = i*trainerPerOwner + j
		}
		owners[i] = actors.Owner{Name: actors.OwnerName(i), Data: train, Indices: idx}
	}
	c := sweep.Config{Dataset: "synthetic-linear", Model: "linear", Schemes: []string{"paillier"}, Splits: []string{"iid"},
		Owners: []int{trainerOwners}, Rounds: o.rounds(trainerIterations), Epochs: 1, Batch: trainerPerOwner, LR: 0.1, Seed: o.Seed}
	rec := newRecord("federated-trainer", c, o, nil)
	fed := actors.Federation{
		Scheme: scheme, Model: m, Owners: owners, Test: test, Rounds: c.Rounds, Seed: o.Seed,
		Train: actors.TrainConfig{Epochs: 1, BatchSize: c.Batch, Optimizer: "sgd", LR: c.LR},
	}
	res, err := rec.run(ctx, "paillier", sweep.Setting{Scheme: "paillier", Split: "iid", Owners: trainerOwners}, fed)
	if err != nil {
		return nil, err
	}
	ols, err := leastSquares(train)
	if err != nil {
		return nil, err
	}
	truth := append(append([]float64(nil), trueCoef...), trueBias)
	r := &report{}
	var failed int
	for _, rm := range res.Rounds {
		if rm.Err != "" {
			failed++
		}
	}
	r.printf("cost (test mean squared error) per iteration:")
	for _, rm := range res.Rounds {
		if rm.Round <= 10 || rm.Round%(max(1, c.Rounds/10)) == 0 {
			r.printf("  iteration %5d  cost %.6g  (train %.6g)", rm.Round, rm.TestLoss, rm.TrainLoss)
		}
	}
	r.printf("%-10s %10s %10s %10s", "", "true", "OLS", "learned")
	for i, t := range truth {
		name := fmt.Sprintf("w%d", i+1)
		if i == len(trueCoef) {
			name = "bias"
		}
		r.printf("%-10s %10.5f %10.5f %10.5f", name, t, ols[i], res.Final[i])
	}
	r.set("max_error_vs_true", maxDiff(res.Final, truth))
	r.set("max_error_vs_ols", maxDiff(res.Final, ols))
	r.set("final_cost", res.Rounds[len(res.Rounds)-1].TestLoss)
	r.set("failed_iterations", float64(failed))
	r.set("iterations", float64(len(res.Rounds)))
	r.printf("%d iterations, %d failed: every update is encoded afresh in fixed point (32 fractional bits, |value| < 2^20) and packed into slots with headroom for the %d-owner sum,",
		len(res.Rounds), failed, trainerOwners)
	r.printf("so no exponent or mantissa grows from one iteration to the next and nothing can overflow however long the run")
	if err := rec.plot("cost.png", "federated-trainer preset: linear regression under Paillier", "test mean squared error",
		sweep.TestLoss); err != nil {
		return nil, err
	}
	return r, rec.finish(o, r)
}

// leastSquares returns the ordinary least-squares coefficients and bias
// of t's data (one output).
func leastSquares(t *dataset.Table) ([]float64, error) {
	n, k := t.Len(), t.Inputs
	x := mat.NewDense(n, k+1, nil)
	y := mat.NewVecDense(n, nil)
	for i := range n {
		for j := range k {
			x.Set(i, j, float64(t.X[i*k+j]))
		}
		x.Set(i, k, 1)
		y.SetVec(i, float64(t.Y[i]))
	}
	var beta mat.VecDense
	if err := beta.SolveVec(x, y); err != nil {
		return nil, fmt.Errorf("least squares: %w", err)
	}
	out := make([]float64, k+1)
	for i := range out {
		out[i] = beta.AtVec(i)
		if math.IsNaN(out[i]) {
			return nil, fmt.Errorf("least squares: coefficient %d is NaN", i)
		}
	}
	return out, nil
}
