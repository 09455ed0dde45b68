package sweep

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/dataset"
	"github.com/fedactor/fedactor/internal/cli"
	"github.com/fedactor/fedactor/nn"
)

// SaveEvery is how often, in rounds, a Runner saves a running job's rounds
// so far, so that a killed command keeps them.
const SaveEvery = 10

// Job is one federation a Runner runs: setting Setting of Config, built by
// Build on the runner's data.
type Job struct {
	Config  Config
	Setting Setting
	// Label names the job in progress lines and plot legends; "" means
	// the setting's scheme, split and owner count.
	Label string
	// Checkpoint, if set, is the directory of the run's checkpoints, and
	// Resume continues the run saved there (see actors.Federation).
	Checkpoint string
	Resume     bool
	// Edit, if set, adjusts the federation Build made before it runs.
	Edit func(*actors.Federation)
}

func (j Job) label() string {
	if j.Label != "" {
		return j.Label
	}
	return fmt.Sprintf("%-14s %-9s %2d owners", j.Setting.Scheme, j.Setting.Split, j.Setting.Owners)
}

// Runner runs federations one after another for a command: it prints a
// progress line per round (in long runs the first 10 rounds, then every
// twentieth part), stops a job once it reaches its Config.Target, and
// records every run, finished or not, as an Outcome in Summary, saving it
// after each job, every SaveEvery rounds and when a job stops early.
// Fields left nil are not used; Plan adds a time estimate.
type Runner struct {
	Summary *Summary
	// Data is what Run builds federations on.
	Data *Data
	// Logger receives the parties' records (nil discards them).
	Logger *slog.Logger
	// Progress receives the progress lines (nil: none).
	Progress io.Writer
	// Save writes Summary (nil: nothing is written).
	Save func(*Summary) error

	est  *estimate // nil until Plan
	next int       // index of the next job, for "[i/n]" and the estimate
}

// Plan tells r the jobs it is about to run, in order, so that progress
// lines count them and show the time left, and returns the estimated
// time of all of them.
func (r *Runner) Plan(jobs []Job) time.Duration {
	r.est, r.next = newEstimate(jobs, r.Data), 0
	return r.est.total()
}

// Skip passes over the next planned job, finished before a restart.
func (r *Runner) Skip(j Job) {
	r.printf("%s%s  done before the restart\n", r.counter(), j.label())
	if r.est != nil {
		r.est.skip(r.next)
	}
	r.next++
}

// Run builds job j on r.Data, with its checkpoints, applies j.Edit and
// runs it as RunFederation does.
func (r *Runner) Run(ctx context.Context, j Job) (*actors.Result, error) {
	fed, parts, err := Build(j.Config, j.Setting, r.Data)
	if err != nil {
		r.next++
		return nil, fmt.Errorf("%s: %w", strings.Join(strings.Fields(j.label()), " "), err)
	}
	fed.Checkpoint, fed.Resume = j.Checkpoint, j.Resume
	if j.Edit != nil {
		j.Edit(&fed)
	}
	return r.RunFederation(ctx, j, fed, dataset.LabelHistogram(r.Data.Train.Labels, parts, dataset.NumClasses))
}

// errReached stops a job whose target accuracy is reached.
var errReached = errors.New("target reached")

// RunFederation runs fed as job j (whose Config gives the target and
// whose Setting and Label name the outcome); labels is the label
// histogram of the owners' shards (nil if none). It returns the run's
// result, or the error that stopped it; either way the outcome is in
// r.Summary.
func (r *Runner) RunFederation(ctx context.Context, j Job, fed actors.Federation, labels [][]int) (*actors.Result, error) {
	i, counter, label := r.next, r.counter(), j.label()
	r.next++
	o := newOutcome(j.Setting, fed, labels)
	o.Label = j.Label
	if fed.Logger == nil {
		fed.Logger = r.Logger
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	start := time.Now()
	fed.OnRound = func(rm actors.RoundMetrics) {
		if o.TargetRound > 0 {
			return // a round that ended while the run was being stopped
		}
		o.record(rm, time.Since(start).Seconds())
		if t := j.Config.Target; t > 0 && rm.Evaluated && rm.TestAccuracy >= t {
			o.TargetRound = rm.Round
			cancel(errReached)
		}
		if r.est != nil {
			r.est.done(i)
		}
		if shown(rm, fed.Rounds) || o.TargetRound > 0 {
			r.printf("%s%s  round %*d/%d  %s  (%.2fs; %s)\n", counter, label, max(2, len(strconv.Itoa(fed.Rounds))), rm.Round, fed.Rounds,
				status(rm, o.TargetRound, j.Config.Target, fed.Model.Regression()), rm.Seconds, r.times(start))
		}
		if rm.Round%SaveEvery == 0 {
			r.save(o, fmt.Sprintf("unfinished after round %d", rm.Round))
		}
	}
	res, err := actors.Run(ctx, fed)
	if errors.Is(context.Cause(ctx), errReached) {
		err = nil
	}
	o.WallSeconds = time.Since(start).Seconds()
	if res != nil {
		o.finish(res)
	}
	if err != nil {
		err = fmt.Errorf("%s: %w", strings.Join(strings.Fields(label), " "), err)
		o.Error = err.Error()
	}
	if r.est != nil && err == nil {
		r.est.finish(i, fed.Rounds-len(o.Rounds))
	}
	r.Summary.Settings = append(r.Summary.Settings, *o)
	if serr := r.save(nil, ""); serr != nil {
		return res, errors.Join(err, serr)
	}
	return res, err
}

// save writes the summary, with o marked unfinished by note if o is set.
func (r *Runner) save(o *Outcome, note string) error {
	if r.Save == nil {
		return nil
	}
	s := *r.Summary
	if o != nil {
		p := *o
		p.Error = note
		s.Settings = append(slices.Clip(s.Settings), p)
	}
	err := r.Save(&s)
	if err != nil && o != nil && r.Logger != nil {
		r.Logger.Warn("save partial results", "err", err)
	}
	return err
}

// counter is "[i/n] " for the next job of a plan, or "" without one.
func (r *Runner) counter() string {
	if r.est == nil {
		return ""
	}
	return fmt.Sprintf("[%d/%d] ", r.next+1, len(r.est.work))
}

// times is the progress line's time so far (with a plan, of the whole
// plan, and the time left; without, of the run that started at start).
func (r *Runner) times(start time.Time) string {
	if r.est == nil {
		return "elapsed " + cli.Duration(time.Since(start))
	}
	return fmt.Sprintf("elapsed %s, remaining ~%s", cli.Duration(r.est.elapsed()), cli.Duration(r.est.remaining()))
}

func (r *Runner) printf(format string, args ...any) {
	if r.Progress != nil {
		fmt.Fprintf(r.Progress, format, args...)
	}
}

// shown reports whether round rm of a run of n rounds gets a progress
// line: the first 10, every twentieth part, the last and every round that
// failed or lost owners.
func shown(rm actors.RoundMetrics, n int) bool {
	return rm.Round <= 10 || rm.Round%max(1, n/20) == 0 || rm.Round == n || rm.Err != "" || len(rm.Dropped) > 0
}

// status is a progress line's account of round rm.
func status(rm actors.RoundMetrics, reached int, target float64, regression bool) string {
	var s string
	switch {
	case rm.Err != "":
		s = "FAILED: " + rm.Err
	case !rm.Evaluated:
		s = "(not evaluated)"
	case regression:
		s = fmt.Sprintf("test loss %.6g", rm.TestLoss)
	default:
		s = fmt.Sprintf("accuracy %6.2f%%  loss %.4g", 100*rm.TestAccuracy, rm.TestLoss)
	}
	if reached == rm.Round {
		s += fmt.Sprintf("  target %g%% reached", 100*target)
	}
	if len(rm.Dropped) > 0 {
		s += fmt.Sprintf("  (dropped: %v)", rm.Dropped)
	}
	return s
}

// Run runs every setting of c on d, printing one progress line per round
// to progress, and writes the outputs to c.Out after every setting, so an
// interrupted sweep keeps what it finished (and, of the setting it was
// running, the rounds so far). With c.Resume it continues the sweep saved
// in c.Out: finished settings are skipped and the interrupted one resumes
// from its checkpoint.
func Run(ctx context.Context, c Config, d *Data, logger *slog.Logger, progress io.Writer) (*Summary, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	sum := NewSummary(c)
	if c.Resume {
		old, err := ReadSummary(c.Out)
		if err != nil {
			return nil, fmt.Errorf("resume: %w", err)
		}
		sum.Settings = old.finished()
	}
	if err := sum.Write(c.Out); err != nil {
		return sum, err
	}
	r := &Runner{Summary: sum, Data: d, Logger: logger, Progress: progress, Save: func(s *Summary) error { return s.Write(c.Out) }}
	jobs := c.Jobs()
	est := r.Plan(jobs)
	fmt.Fprintf(progress, "%d settings x %d rounds, %d training examples, %d test; BLAS %s, %d cores; estimated time %s\n",
		len(jobs), c.Rounds, len(d.TrainIdx), len(d.TestIdx), nn.Backend(), runtime.GOMAXPROCS(0), cli.Duration(est))
	for _, j := range jobs {
		if sum.has(j.Setting) {
			r.Skip(j)
			continue
		}
		if !j.Resume {
			if err := os.RemoveAll(j.Checkpoint); err != nil {
				return sum, err
			}
		}
		res, err := r.Run(ctx, j)
		if err != nil {
			return sum, err
		}
		if c.SaveModel != "" {
			if err := saveModel(c.modelPath(j.Setting, len(jobs)), c.Model, res.Final, j.Setting); err != nil {
				return sum, err
			}
		}
		if err := os.RemoveAll(j.Checkpoint); err != nil {
			return sum, err
		}
	}
	return sum, sum.Plot(c.Out)
}

// modelPath is where -save-model puts setting s's model, of n settings.
func (c Config) modelPath(s Setting, n int) string {
	if n == 1 {
		return c.SaveModel
	}
	ext := filepath.Ext(c.SaveModel)
	return fmt.Sprintf("%s_%s_%s_%d%s", strings.TrimSuffix(c.SaveModel, ext), s.Scheme, s.Split, s.Owners, ext)
}

// saveModel writes params, for the architecture called model, as
// safetensors, with the setting in the metadata.
func saveModel(path, model string, params []float64, s Setting) error {
	m, err := nn.New(model, nil)
	if err == nil {
		err = m.SetParams(params)
	}
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	meta := map[string]string{"scheme": s.Scheme, "split": s.Split, "owners": strconv.Itoa(s.Owners)}
	if err := nn.SaveSafetensorsFile(path, m, meta); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return nil
}

// checkpointDir is where setting s keeps its checkpoints while it runs.
func (c Config) checkpointDir(s Setting) string {
	return filepath.Join(c.Out, "checkpoints", fmt.Sprintf("%s_%s_%d", s.Scheme, s.Split, s.Owners))
}
