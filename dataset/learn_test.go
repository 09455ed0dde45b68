package dataset_test

import (
	"math/rand/v2"
	"testing"

	"github.com/fedactor/fedactor/dataset"
	"github.com/fedactor/fedactor/nn"
)

// TestLogRegLearnsSynthetic trains multinomial logistic regression (the
// paper's model: nn's LogReg on 60 features) centrally on Synthetic(α, β)
// and checks that test accuracy ends well above the majority-class rate.
func TestLogRegLearnsSynthetic(t *testing.T) {
	for _, name := range []string{"synthetic:alpha=0,beta=0", "synthetic:alpha=1,beta=1", "synthetic:iid"} {
		t.Run(name, func(t *testing.T) {
			d, err := dataset.Load(name, dataset.Options{})
			if err != nil {
				t.Fatal(err)
			}
			m, err := nn.NewFor(nn.LogReg, d.Train.Shape(), d.Train.Classes(), rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			majority := 0
			for _, n := range dataset.LabelHistogram(d.Test.Labels, [][]int{dataset.Subsample(d.Test.Len(), 0, nil)}, d.Test.Classes())[0] {
				majority = max(majority, n)
			}
			chance := float64(majority) / float64(d.Test.Len())
			tr := nn.Trainer{Model: m, Optimizer: nn.NewAdam(1e-2), BatchSize: 32, Threads: 1}
			acc0, _, err := tr.Evaluate(d.Test, nil)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(3, 4))
			for range 10 {
				if _, err := tr.TrainEpoch(d.Train, nil, rng); err != nil {
					t.Fatal(err)
				}
			}
			acc, _, err := tr.Evaluate(d.Test, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d train, %d test examples; majority class %.3f; accuracy %.3f before, %.3f after", d.Train.Len(), d.Test.Len(), chance, acc0, acc)
			if acc < chance+0.15 {
				t.Errorf("accuracy %.3f, want at least the majority rate %.3f + 0.15", acc, chance)
			}
		})
	}
}
