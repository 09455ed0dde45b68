package sweep

import (
	"runtime"
	"time"

	"github.com/fedactor/fedactor/nn"
)

// perCore is the training speed of one core, in examples per second, for
// model on backend, measured on the reference 2-core machine. It only
// seeds the estimate, which follows the measured pace once rounds finish.
func perCore(backend, model string) float64 {
	speeds := map[string]map[string]float64{
		"openblas": {"cnn": 3000, "mlp": 8000, "logreg": 40000},
		"gonum":    {"cnn": 350, "mlp": 2500, "logreg": 20000},
	}
	if v := speeds[backend][model]; v > 0 {
		return v
	}
	return 1000
}

// estimate predicts a sweep's duration from its work: training examples
// per round (every owner's shard, times epochs) plus test examples.
type estimate struct {
	start  time.Time
	total  time.Duration
	work   map[Setting]float64 // per round, in seconds at the seed speed
	spent  float64             // seed seconds of finished rounds
	budget float64             // seed seconds of the whole sweep
	rounds int
}

func newEstimate(c Config, d *Data, settings []Setting) *estimate {
	cores := float64(runtime.GOMAXPROCS(0))
	speed := perCore(nn.Backend(), c.Model)
	e := &estimate{start: time.Now(), work: map[Setting]float64{}, rounds: c.Rounds}
	for _, s := range settings {
		train := float64(len(d.TrainIdx) * c.Epochs)
		m := float64(c.Cohort(s.Owners))
		if s.Split == "full" {
			train *= float64(s.Owners)
		}
		train *= m / float64(s.Owners) // the cohort's share
		round := train/(speed*min(cores, m)) + float64(len(d.TestIdx))/(3*speed*cores)
		e.work[s] = round
		e.budget += round * float64(c.Rounds)
	}
	e.total = time.Duration(e.budget * float64(time.Second))
	return e
}

func (e *estimate) done(s Setting)         { e.spent += e.work[s] }
func (e *estimate) elapsed() time.Duration { return time.Since(e.start) }

// remaining scales the work left by the pace measured so far.
func (e *estimate) remaining() time.Duration {
	if e.spent == 0 {
		return e.total
	}
	pace := e.elapsed().Seconds() / e.spent
	return time.Duration((e.budget - e.spent) * pace * float64(time.Second))
}

// skip takes a setting finished before a restart out of the budget.
func (e *estimate) skip(s Setting) {
	e.budget -= e.work[s] * float64(e.rounds)
	e.total = time.Duration(e.budget * float64(time.Second))
}
