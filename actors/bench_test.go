package actors

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/fedactor/fedactor/crypto"
	"github.com/fedactor/fedactor/dataset"
	"github.com/fedactor/fedactor/nn"
)

// mnistLike is n synthetic images of MNIST's shape, for timing.
func mnistLike(n int, seed uint64) *dataset.Set {
	return dataset.Synthetic(n, 28, 10, rand.New(rand.NewPCG(seed, 3)))
}

// benchFederation is the cnn with 2 owners of 2,000 examples each, ckks,
// and a 1,000-example test set.
func benchFederation(b *testing.B, rounds int) Federation {
	train, test := mnistLike(4000, 1), mnistLike(1000, 2)
	m, err := nn.New("cnn", rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	s, err := crypto.New("ckks", crypto.Config{Owners: 2, Len: m.NumParams()})
	if err != nil {
		b.Fatal(err)
	}
	idx := dataset.Subsample(4000, 0, nil)
	return Federation{Scheme: s, Model: m, Test: test, Rounds: rounds, Seed: 1, Owners: []Owner{
		{Name: "bob", Data: train, Indices: idx[:2000]}, {Name: "alice", Data: train, Indices: idx[2000:]}}}
}

// BenchmarkRoundActors times rounds through the party actors; compare with
// BenchmarkRoundLoop, the same computation in a plain loop. Their
// difference is the actor layer's cost.
func BenchmarkRoundActors(b *testing.B) {
	const rounds = 3
	f := benchFederation(b, rounds)
	b.ResetTimer()
	for range b.N {
		if _, err := Run(context.Background(), f); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N*rounds), "s/round")
}

// BenchmarkRoundLoop runs the rounds of BenchmarkRoundActors without
// actors: set-up, then per round the owners train and protect side by
// side, the updates are combined, revealed, averaged and evaluated.
func BenchmarkRoundLoop(b *testing.B) {
	const rounds = 3
	f0 := benchFederation(b, rounds)
	f, err := f0.withDefaults()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		rev, err := f.Scheme.NewRevealer(f.Rand)
		if err != nil {
			b.Fatal(err)
		}
		sw, _ := f.Scheme.NewCombiner(rev.Setup())
		owners := make([]*dataOwner, len(f.Owners))
		e := &env{fed: &f, cores: newCores(f.Cores), traffic: newTraffic()}
		for i := range owners {
			owners[i] = newDataOwner(e, i)
			if owners[i].protector, err = f.Scheme.NewProtector(i, rev.Setup(), f.Rand); err != nil {
				b.Fatal(err)
			}
		}
		global := f.Model.Params(nil)
		eval := f.Model.Clone()
		evaluator := &nn.Trainer{Model: eval, BatchSize: 1000, Threads: f.Cores}
		for r := 1; r <= rounds; r++ {
			payloads := make([][]byte, len(owners))
			var wg sync.WaitGroup
			for i, o := range owners {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := o.train(&GlobalModel{Round: int32(r), Weights: global}, f.Train.Epochs); err != nil {
						b.Error(err)
						return
					}
					msgs, err := o.protector.Protect(o.params, f.Strategy.Weight(o.self.shardLen()))
					if err != nil {
						b.Error(err)
						return
					}
					payloads[i] = msgs[0].Payload
				}()
			}
			wg.Wait()
			var acc []byte
			for _, p := range payloads {
				if acc, err = fold(sw, acc, p); err != nil {
					b.Fatal(err)
				}
			}
			sum, weight, err := rev.Reveal([][]byte{acc}, nil)
			if err != nil {
				b.Fatal(err)
			}
			if err := f.Strategy.Aggregate(global, global, sum, weight); err != nil {
				b.Fatal(err)
			}
			if err := eval.SetParams(global); err != nil {
				b.Fatal(err)
			}
			if _, _, err := evaluator.Evaluate(f.Test, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N*rounds), "s/round")
}
