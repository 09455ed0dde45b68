package sweep

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedactor/fedactor/nn"
)

// cancelAt is a progress writer that cancels a run once a line holds mark.
type cancelAt struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	mark   string
	cancel context.CancelFunc
}

func (w *cancelAt) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if strings.Contains(string(p), w.mark) {
		w.cancel()
	}
	return w.buf.Write(p)
}

// TestTargetStopsTheRun: a setting stops after the first round at or
// above the target, the rounds after it are neither recorded nor run, and
// the estimate gives up the rounds not needed.
func TestTargetStopsTheRun(t *testing.T) {
	c := toyConfig(t.TempDir())
	c.Schemes, c.Splits, c.Owners, c.Rounds, c.Target = []string{"plain"}, []string{"iid"}, []int{2}, 20, 0.6
	var progress strings.Builder
	sum, err := Run(context.Background(), c, toy(240, 100), slog.New(slog.DiscardHandler), &progress)
	if err != nil {
		t.Fatal(err)
	}
	o := sum.Settings[0]
	if o.TargetRound == 0 || o.TargetRound >= c.Rounds || len(o.Rounds) != o.TargetRound || o.Error != "" {
		t.Fatalf("target round %d of %d, %d rounds recorded, error %q\n%s", o.TargetRound, c.Rounds, len(o.Rounds), o.Error, progress.String())
	}
	if got := o.RoundReaching(c.Target); got != o.TargetRound || o.FinalAccuracy < c.Target {
		t.Errorf("rounds reach %g in round %d, outcome says %d; final accuracy %g", c.Target, got, o.TargetRound, o.FinalAccuracy)
	}
	if !strings.Contains(progress.String(), "target 60% reached") {
		t.Errorf("no target line:\n%s", progress.String())
	}
}

// resumeCase runs c once uninterrupted and once interrupted after round
// 2 then resumed, and returns both final models and the resumed outcome.
func resumeCase(t *testing.T, c Config, d *Data) (whole, resumed []float64, o Outcome) {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	final := func(c Config) []float64 {
		m, err := nn.New(c.Model, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := nn.LoadSafetensorsFile(c.SaveModel, m); err != nil {
			t.Fatal(err)
		}
		return m.Params(nil)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w := c
	w.Out = t.TempDir()
	w.SaveModel = filepath.Join(w.Out, "model.safetensors")
	if _, err := Run(ctx, w, d, logger, io.Discard); err != nil {
		t.Fatal(err)
	}
	k := c
	k.Out = t.TempDir()
	k.SaveModel = filepath.Join(k.Out, "model.safetensors")
	ictx, interrupt := context.WithCancel(ctx)
	defer interrupt()
	progress := &cancelAt{mark: "round  2/", cancel: interrupt}
	sum, err := Run(ictx, k, d, logger, progress)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v, want context.Canceled\n%s", err, progress.buf.String())
	}
	if len(sum.Settings) != 1 || sum.Settings[0].Error == "" || len(sum.Settings[0].Rounds) < 2 {
		t.Fatalf("interrupted run's record: %+v", sum.Settings)
	}
	k.Resume = true
	if sum, err = Run(ctx, k, d, logger, io.Discard); err != nil {
		t.Fatal(err)
	}
	if len(sum.Settings) != 1 {
		t.Fatalf("resumed run has %d settings, want 1", len(sum.Settings))
	}
	return final(w), final(k), sum.Settings[0]
}

// TestResumeEveryScheme interrupts a run after round 2 of 4 and resumes
// it from its checkpoint, for one scheme of each family: the resumed run
// completes every round and ends with the model of an uninterrupted run,
// to fixed-point precision for the exact schemes (ss, secagg) and within
// CKKS's noise for ckks.
func TestResumeEveryScheme(t *testing.T) {
	if testing.Short() {
		t.Skip("runs six federations")
	}
	d := toy(300, 100)
	for _, c := range []struct {
		scheme string
		tol    float64
	}{{"ss", 1e-6}, {"secagg", 1e-6}, {"ckks", 1e-4}} {
		t.Run(c.scheme, func(t *testing.T) {
			cfg := toyConfig("")
			cfg.Schemes, cfg.Splits, cfg.Owners, cfg.Rounds = []string{c.scheme}, []string{"iid"}, []int{3}, 4
			whole, resumed, o := resumeCase(t, cfg, d)
			if len(o.Rounds) != cfg.Rounds || o.Error != "" {
				t.Fatalf("resumed run: %d rounds of %d, error %q", len(o.Rounds), cfg.Rounds, o.Error)
			}
			for i, r := range o.Rounds {
				if r.Round != i+1 || r.Err != "" || len(r.Contributors) != 3 {
					t.Errorf("round %d: number %d, error %q, %d contributors", i+1, r.Round, r.Err, len(r.Contributors))
				}
			}
			var diff float64
			for i := range whole {
				diff = max(diff, math.Abs(whole[i]-resumed[i]))
			}
			if len(whole) != len(resumed) || !(diff <= c.tol) {
				t.Errorf("resumed model differs from the uninterrupted one by %g (tolerance %g)", diff, c.tol)
			}
		})
	}
}

// TestEstimateWithinFactor checks the start-of-run time estimate against
// the time the same sweep then takes on this machine: within a factor of
// 5 either way. The estimate is seeded by speeds measured on the
// reference machine and is meant to tell minutes from hours, so 5x is
// its stated accuracy on a small run, where fixed costs weigh most.
func TestEstimateWithinFactor(t *testing.T) {
	if testing.Short() {
		t.Skip("times a sweep")
	}
	c := toyConfig(t.TempDir())
	c.Model, c.Schemes, c.Splits, c.Owners, c.Rounds, c.Batch = "mlp", []string{"plain"}, []string{"iid", "shards"}, []int{2}, 2, 32
	d := toy(2000, 500)
	est := (&Runner{Data: d}).Plan(c.Jobs())
	start := time.Now()
	if _, err := Run(context.Background(), c, d, slog.New(slog.DiscardHandler), io.Discard); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if ratio := est.Seconds() / took.Seconds(); !(ratio >= 0.2 && ratio <= 5) {
		t.Errorf("estimated %v, took %v: ratio %.2f outside [1/5, 5]", est, took, ratio)
	}
	t.Logf("estimated %v, took %v", est, took)
}

// TestRunnerWithoutPlan runs a hand-built federation as scenarios do: the
// progress lines have no job counter or time left, the outcome carries
// the job's label, and the thinning keeps long runs short.
func TestRunnerWithoutPlan(t *testing.T) {
	c := toyConfig("")
	c.Rounds = 45
	fed, _, err := Build(c, Setting{"plain", "iid", 2}, toy(60, 20))
	if err != nil {
		t.Fatal(err)
	}
	var progress strings.Builder
	var saved []int
	r := &Runner{Summary: NewSummary(c), Progress: &progress, Save: func(s *Summary) error {
		saved = append(saved, len(s.Settings[len(s.Settings)-1].Rounds))
		return nil
	}}
	if _, err := r.RunFederation(context.Background(), Job{Config: c, Label: "by hand"}, fed, nil); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(progress.String()), "\n")
	if len(lines) != 10+17+1 || !strings.HasPrefix(lines[0], "by hand  round  1/45  accuracy") ||
		!strings.Contains(lines[10], "round 12/45") || strings.Contains(progress.String(), "remaining") {
		t.Errorf("progress of 45 rounds (want rounds 1-10, every second to 44, and 45):\n%s", progress.String())
	}
	if o := r.Summary.Settings[0]; o.Label != "by hand" || len(o.Rounds) != 45 {
		t.Errorf("outcome: label %q, %d rounds", o.Label, len(o.Rounds))
	}
	if want := []int{10, 20, 30, 40, 45}; !slices.Equal(saved, want) {
		t.Errorf("saved with %v rounds, want %v (every %d rounds and at the end)", saved, want, SaveEvery)
	}
}

// TestREADMEListsTheColumns: the README's line of results.csv's columns
// is the header the sweep writes.
func TestREADMEListsTheColumns(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range Columns {
		names = append(names, c.Name)
	}
	if header := "`" + strings.Join(names, ",") + "`"; !strings.Contains(string(readme), "\n"+header+"\n") {
		t.Errorf("README.md does not list results.csv's columns as a line of their own:\n%s", header)
	}
}
