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

// The costs that the count of examples misses, measured on the reference
// machine with plain aggregation: starting a run's actors and set-up, each
// round's messages, aggregation and bookkeeping, and writing checkpoints
// (read, encoded, written and synced), per byte of parameters and
// optimizer state.
const (
	setupCost      = 0.03  // seconds per run
	roundCost      = 0.01  // seconds per round
	checkpointCost = 40e-9 // seconds per byte per round
)

// checkpointBytes is what a round of job j writes to its checkpoints: the
// global model and, per owner that keeps optimizer state, Adam's two
// moment vectors for each of the last two rounds.
func checkpointBytes(j Job) float64 {
	if j.Checkpoint == "" {
		return 0
	}
	m, err := nn.New(j.Config.Model, nil)
	if err != nil {
		return 0
	}
	vectors := 1.0
	if j.Config.Fraction <= 0 && j.Config.Optimizer != "sgd" {
		vectors += 4 * float64(j.Config.Cohort(j.Setting.Owners))
	}
	return 8 * float64(m.NumParams()) * vectors
}

// estimate predicts a runner's time from its jobs' work: training examples
// per round (every owner's shard, times epochs) plus test examples, at the
// seed speed, the checkpoints and the fixed costs; once rounds finish it
// scales the work left by the pace measured so far.
type estimate struct {
	start  time.Time
	work   []float64 // seconds per round of each job, at the seed speed
	rounds []int     // rounds of each job
	ran    []int     // rounds run of each job
	spent  float64   // seed seconds of finished rounds
	budget float64   // seed seconds of every job
}

func newEstimate(jobs []Job, d *Data) *estimate {
	cores := float64(runtime.GOMAXPROCS(0))
	e := &estimate{start: time.Now(), ran: make([]int, len(jobs))}
	for _, j := range jobs {
		c, s := j.Config, j.Setting
		speed := perCore(nn.Backend(), c.Model)
		train := float64(len(d.TrainIdx) * c.Epochs)
		m := float64(c.Cohort(s.Owners))
		if s.Split == "full" {
			train *= float64(s.Owners)
		}
		train *= m / float64(s.Owners) // the cohort's share
		test := float64(len(d.TestIdx)) / (3 * speed * cores)
		if c.EvalEvery > 1 {
			test /= float64(c.EvalEvery)
		}
		round := train/(speed*min(cores, m)) + test + roundCost + checkpointCost*checkpointBytes(j)
		e.work = append(e.work, round)
		e.rounds = append(e.rounds, c.Rounds)
		e.budget += setupCost + round*float64(c.Rounds)
	}
	return e
}

// total is the estimated time of the jobs not skipped.
func (e *estimate) total() time.Duration { return seconds(e.budget) }

// done counts a finished round of job i.
func (e *estimate) done(i int) {
	if i >= len(e.work) {
		return
	}
	if e.ran[i] == 0 {
		e.spent += setupCost
	}
	e.ran[i]++
	e.spent += e.work[i]
}

// finish takes the rounds job i did not run (it reached its target) out
// of the budget.
func (e *estimate) finish(i, left int) {
	if i < len(e.work) && left > 0 {
		e.budget -= e.work[i] * float64(left)
	}
}

// skip takes job i, finished before a restart, out of the budget.
func (e *estimate) skip(i int) {
	if i < len(e.work) {
		e.budget -= setupCost + e.work[i]*float64(e.rounds[i])
	}
}

func (e *estimate) elapsed() time.Duration { return time.Since(e.start) }

// remaining scales the work left by the pace measured so far.
func (e *estimate) remaining() time.Duration {
	if e.spent == 0 {
		return e.total()
	}
	pace := e.elapsed().Seconds() / e.spent
	return seconds((e.budget - e.spent) * pace)
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
