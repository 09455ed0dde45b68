package nn

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestTrainLearns trains each named model for a short while on a
// learnable synthetic problem and checks held-out accuracy.
func TestTrainLearns(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n       int
		epochs  int
		threads int
	}{
		{LogReg, 1000, 2, 1},
		{MLP, 1000, 2, 2},
		{CNN, 1200, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.name == CNN {
				t.Skip("slow in pure Go")
			}
			rng := rand.New(rand.NewPCG(11, 12))
			data := blobSource(rng, tc.n+500, 784, 10, 0.3)
			train := make([]int, tc.n)
			test := make([]int, 500)
			for i := range train {
				train[i] = i
			}
			for i := range test {
				test[i] = tc.n + i
			}
			m, err := New(tc.name, rng)
			if err != nil {
				t.Fatal(err)
			}
			tr := Trainer{Model: m, Optimizer: NewAdam(1e-3), BatchSize: 32, Threads: tc.threads}
			acc0, loss0, err := tr.Evaluate(data, test)
			if err != nil {
				t.Fatal(err)
			}
			var trainLoss float64
			for range tc.epochs {
				if trainLoss, err = tr.TrainEpoch(data, train, rng); err != nil {
					t.Fatal(err)
				}
			}
			acc, loss, err := tr.Evaluate(data, test)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("before: acc %.3f loss %.3f; after: train loss %.3f, acc %.3f loss %.3f", acc0, loss0, trainLoss, acc, loss)
			if acc < 0.95 || loss > 0.8*loss0 {
				t.Errorf("accuracy %.3f (want >= 0.95), loss %.3f from %.3f", acc, loss, loss0)
			}
			acc2, loss2, err := m.Evaluate(data, test, 1)
			if err != nil || acc2 != acc || math.Abs(loss2-loss) > 1e-6*loss {
				t.Errorf("Model.Evaluate: %v %v %v, Trainer.Evaluate: %v %v", acc2, loss2, err, acc, loss)
			}
		})
	}
}

// TestThreadsAgree checks that results do not depend on Threads: batches
// are cut into micro-batches at fixed positions, dropout masks depend on
// positions only, and micro-batch gradients are summed in order.
func TestThreadsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	data := randomSource(rng, 100, 784, 10)
	base, _ := New(CNN, rng)
	var params [][]float32
	var losses, accs []float64
	for _, threads := range []int{1, 2, 3} {
		m := base.Clone()
		tr := Trainer{Model: m, Optimizer: &SGD{LR: 0.01, Momentum: 0.9}, BatchSize: 50, Threads: threads}
		loss, err := tr.TrainEpoch(data, nil, rand.New(rand.NewPCG(7, 7)))
		if err != nil {
			t.Fatal(err)
		}
		acc, eloss, err := tr.Evaluate(data, nil)
		if err != nil {
			t.Fatal(err)
		}
		params = append(params, m.w)
		losses = append(losses, loss, eloss)
		accs = append(accs, acc)
	}
	for k := 1; k < len(params); k++ {
		if !slices.Equal(params[k], params[0]) {
			t.Errorf("threads %d: parameters differ from threads 1", k+1)
		}
		if losses[2*k] != losses[0] || losses[2*k+1] != losses[1] || accs[k] != accs[0] {
			t.Errorf("threads %d: losses %v, accuracy %v; threads 1: %v, %v", k+1, losses[2*k:2*k+2], accs[k], losses[:2], accs[0])
		}
	}
}

// TestReplay checks that a run is a function of the seeds.
func TestReplay(t *testing.T) {
	run := func() []float32 {
		rng := rand.New(rand.NewPCG(3, 3))
		data := randomSource(rng, 70, 784, 10)
		m, _ := New(CNN, rng)
		tr := Trainer{Model: m, Optimizer: NewAdam(1e-3), BatchSize: 16, Threads: 2}
		if _, err := tr.TrainEpoch(data, nil, rng); err != nil {
			t.Fatal(err)
		}
		return m.w
	}
	if !slices.Equal(run(), run()) {
		t.Error("same seeds gave different models")
	}
}

// TestTrainerSharing trains two models alternately on one Trainer, each
// with its own optimizer, and compares with separate Trainers.
func TestTrainerSharing(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	data := randomSource(rng, 64, 784, 10)
	a, _ := New(CNN, rng)
	b, _ := New(CNN, rng)
	a2, b2 := a.Clone(), b.Clone()
	shared := Trainer{BatchSize: 16, Threads: 1}
	optA, optB := NewAdam(1e-3), NewAdam(1e-3)
	ta := Trainer{Model: a2, Optimizer: NewAdam(1e-3), BatchSize: 16, Threads: 1}
	tb := Trainer{Model: b2, Optimizer: NewAdam(1e-3), BatchSize: 16, Threads: 1}
	for round := range 2 {
		shared.Model, shared.Optimizer = a, optA
		if _, err := shared.TrainEpoch(data, nil, rand.New(rand.NewPCG(uint64(round), 1))); err != nil {
			t.Fatal(err)
		}
		shared.Model, shared.Optimizer = b, optB
		if _, err := shared.TrainEpoch(data, nil, rand.New(rand.NewPCG(uint64(round), 2))); err != nil {
			t.Fatal(err)
		}
		if _, err := ta.TrainEpoch(data, nil, rand.New(rand.NewPCG(uint64(round), 1))); err != nil {
			t.Fatal(err)
		}
		if _, err := tb.TrainEpoch(data, nil, rand.New(rand.NewPCG(uint64(round), 2))); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(a.w, a2.w) || !slices.Equal(b.w, b2.w) {
		t.Error("sharing a Trainer changed the results")
	}
}

func TestTrainErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	good := randomSource(rng, 10, 784, 10)
	badLabel := randomSource(rng, 10, 784, 10)
	badLabel.y[7] = 10
	negLabel := randomSource(rng, 10, 784, 10)
	negLabel.y[2] = -1
	wrongSize := randomSource(rng, 10, 100, 10)
	m, _ := New(LogReg, rng)
	for _, tc := range []struct {
		name string
		tr   *Trainer
		src  Source
		idx  []int
		want string
	}{
		{"no model", &Trainer{Optimizer: NewAdam(1e-3)}, good, nil, "no Model"},
		{"no optimizer", &Trainer{Model: m}, good, nil, "no Optimizer"},
		{"nil source", &Trainer{Model: m, Optimizer: NewAdam(1e-3)}, nil, nil, "nil Source"},
		{"wrong input size", &Trainer{Model: m, Optimizer: NewAdam(1e-3)}, wrongSize, nil, "features"},
		{"label too big", &Trainer{Model: m, Optimizer: NewAdam(1e-3)}, badLabel, nil, "label 10 out of range"},
		{"negative label", &Trainer{Model: m, Optimizer: NewAdam(1e-3), Threads: 2}, negLabel, nil, "label -1 out of range"},
		{"empty index list", &Trainer{Model: m, Optimizer: NewAdam(1e-3)}, good, []int{}, "no examples"},
		{"index out of range", &Trainer{Model: m, Optimizer: NewAdam(1e-3)}, good, []int{1, 10}, "index 10 out of range"},
		{"negative index", &Trainer{Model: m, Optimizer: NewAdam(1e-3)}, good, []int{-1}, "index -1 out of range"},
		{"negative batch", &Trainer{Model: m, Optimizer: NewAdam(1e-3), BatchSize: -1}, good, nil, "negative"},
	} {
		before := slices.Clone(m.w)
		_, err := tc.tr.TrainEpoch(tc.src, tc.idx, rng)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: TrainEpoch error %v, want %q", tc.name, err, tc.want)
		}
		if !slices.Equal(before, m.w) {
			t.Errorf("%s: failed TrainEpoch changed the model", tc.name)
		}
		if tc.tr.Optimizer == nil {
			continue // Evaluate needs no optimizer
		}
		if _, _, err := tc.tr.Evaluate(tc.src, tc.idx); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Evaluate error %v, want %q", tc.name, err, tc.want)
		}
	}
	tr := Trainer{Model: m, Optimizer: NewAdam(1e-3), BatchSize: 4}
	if _, err := tr.TrainBatch(good, []int{0, 1, 2, 3, 4}, rng); err == nil {
		t.Error("TrainBatch accepted a batch larger than BatchSize")
	}
	if _, err := tr.TrainEpoch(good, []int{}, rng); !errors.Is(err, ErrNoExamples) {
		t.Errorf("empty index list: %v, want ErrNoExamples", err)
	}
}

// TestTrainEpochKeepsIdx checks that the caller's index list is not
// shuffled in place and that the last partial batch is trained.
func TestTrainEpochKeepsIdx(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := randomSource(rng, 10, 784, 10)
	m, _ := New(LogReg, rng)
	idx := []int{0, 1, 2, 3, 4, 5, 6, 7, 8}
	want := slices.Clone(idx)
	opt := NewAdam(1e-3)
	tr := Trainer{Model: m, Optimizer: opt, BatchSize: 4}
	if _, err := tr.TrainEpoch(data, idx, rng); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(idx, want) {
		t.Errorf("idx changed to %v", idx)
	}
	if opt.t != 3 {
		t.Errorf("%d optimizer steps for 9 examples in batches of 4, want 3", opt.t)
	}
}

// TestTrainBatchAllocs checks that a warmed-up training step allocates
// (almost) nothing.
func TestTrainBatchAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := randomSource(rng, 32, 784, 10)
	m, _ := New(CNN, rng)
	batch := make([]int, 32)
	for i := range batch {
		batch[i] = i
	}
	for _, threads := range []int{1, 2} {
		tr := Trainer{Model: m, Optimizer: NewAdam(1e-3), BatchSize: 32, Threads: threads}
		allocs := testing.AllocsPerRun(3, func() {
			if _, err := tr.TrainBatch(data, batch, rng); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 8 {
			t.Errorf("threads %d: %v allocations per step", threads, allocs)
		}
	}
}

// TestLargeBatch checks that a batch of many micro-batches is trained with
// a bounded number of gradient buffers and the same result for any
// Threads.
func TestLargeBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	data := randomSource(rng, 1000, 784, 10)
	base, _ := New(MLP, rng)
	var first []float32
	for _, threads := range []int{1, 2, 5} {
		m := base.Clone()
		tr := Trainer{Model: m, Optimizer: NewAdam(1e-3), BatchSize: 1000, Threads: threads}
		if _, err := tr.TrainEpoch(data, nil, rand.New(rand.NewPCG(1, 1))); err != nil {
			t.Fatal(err)
		}
		if len(tr.grads) > maxGradSlots {
			t.Errorf("threads %d: %d gradient buffers", threads, len(tr.grads))
		}
		if first == nil {
			first = m.w
		} else if !slices.Equal(first, m.w) {
			t.Errorf("threads %d: parameters differ from threads 1", threads)
		}
	}
}
