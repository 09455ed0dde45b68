package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/internal/cli"
	"github.com/fedactor/fedactor/internal/sweep"
	"github.com/fedactor/fedactor/internal/testenv"
)

// run runs preset name shortened by o and checks that it wrote its
// outputs, returning its report.
func run(t *testing.T, name string, o options) *report {
	r, _ := runRecorded(t, name, o)
	return r
}

// runRecorded is run that also returns what the preset wrote to
// summary.json.
func runRecorded(t *testing.T, name string, o options) (*report, *sweep.Summary) {
	t.Helper()
	s, err := lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	o.Out, o.W, o.Logger = t.TempDir(), &out, cli.Logger(false)
	if o.Seed == 0 {
		o.Seed = 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r, err := s.run(ctx, o)
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out.String())
	}
	t.Logf("%s output:\n%s", name, out.String())
	for _, f := range []string{"results.csv", "summary.json", "report.json"} {
		if _, err := os.Stat(filepath.Join(o.Out, f)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	pngs, _ := filepath.Glob(filepath.Join(o.Out, "*.png"))
	if len(pngs) == 0 {
		t.Errorf("%s wrote no PNG", name)
	}
	sum, err := sweep.ReadSummary(o.Out)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Experiment != "scenarios/"+name || len(sum.Settings) == 0 {
		t.Errorf("summary.json: experiment %q with %d runs", sum.Experiment, len(sum.Settings))
	}
	b, err := os.ReadFile(filepath.Join(o.Out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back report
	if err := json.Unmarshal(b, &back); err != nil || len(back.Figures) != len(r.Figures) {
		t.Errorf("report.json does not hold the report: %v", err)
	}
	return r, sum
}

// figure returns the report's figure called name; a figure the report
// lacks fails the test (and reads NaN, which no comparison accepts), so
// that a renamed figure cannot pass as 0.
func figure(t *testing.T, r *report, name string) float64 {
	t.Helper()
	v, ok := r.Figures[name]
	if !ok {
		t.Errorf("the report has no figure %q (it has %v)", name, slices.Sorted(maps.Keys(r.Figures)))
		return math.NaN()
	}
	return v
}

func TestList(t *testing.T) {
	var b bytes.Buffer
	printList(&b)
	for _, s := range scenarios {
		if !strings.Contains(b.String(), s.name) || s.reproduces == "" || s.original == "" {
			t.Errorf("-list misses %q or its description", s.name)
		}
	}
	if len(scenarios) != 5 {
		t.Errorf("%d presets, want 5", len(scenarios))
	}
}

func TestCheckFlags(t *testing.T) {
	for _, c := range []struct {
		name string
		o    options
		want string
	}{
		{"", options{}, "-name is required"},
		{"nope", options{}, "unknown scenario"},
		{"fedlearn", options{Rounds: -1}, "must be >= 0"},
	} {
		err := check(c.name, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("check(%q, %+v) = %v, want %q", c.name, c.o, err, c.want)
		}
	}
	if err := check("pysyft-lesson", options{}); err != nil {
		t.Error(err)
	}
}

// TestPySyftLesson: the whole lesson (it is tiny); plain and ss give the
// same model to fixed-point precision, and the loss falls as the
// tutorial's does.
func TestPySyftLesson(t *testing.T) {
	r := run(t, "pysyft-lesson", options{})
	if d := figure(t, r, "max_param_diff"); !(d <= 1e-6) {
		t.Errorf("plain and ss models differ by %g", d)
	}
	for _, s := range []string{"plain", "ss"} {
		if l := figure(t, r, s+"_final_loss"); !(l < 0.05) {
			t.Errorf("%s: final loss %g, want < 0.05", s, l)
		}
		for _, owner := range []string{"bob", "alice"} {
			first, last := figure(t, r, s+"_"+owner+"_first_loss"), figure(t, r, s+"_"+owner+"_last_loss")
			if !(first > 0 && last < first/10) {
				t.Errorf("%s: %s's loss %g in round 1, %g in the last, want a tenfold fall", s, owner, first, last)
			}
		}
	}
}

// TestFederatedTrainer: a shortened run still recovers the coefficients
// and no iteration fails.
func TestFederatedTrainer(t *testing.T) {
	r := run(t, "federated-trainer", options{Rounds: 60})
	if e := figure(t, r, "max_error_vs_ols"); !(e < 1e-3) {
		t.Errorf("learned coefficients are %g from least squares", e)
	}
	if e := figure(t, r, "max_error_vs_true"); !(e < 0.05) {
		t.Errorf("learned coefficients are %g from the true ones", e)
	}
	if f := figure(t, r, "failed_iterations"); f != 0 {
		t.Errorf("%g iterations failed", f)
	}
	if n := figure(t, r, "iterations"); n != 60 {
		t.Errorf("%g iterations, want 60", n)
	}
}

// TestPySEALDemo: on a small subset, CKKS stays within noise of plain, and
// CKKS is much faster than the PySEAL demo it reproduces. PySEAL reported
// 207.5 / 134.6 / 89.4 ms to encrypt / aggregate / decrypt the model per
// round; we measure about 5 / 0.5 / 2 ms on the reference machine (40x to
// 270x faster). The test asks for at least 5x on each, a margin wide
// enough for a slower machine and narrow enough to catch a lost order of
// magnitude. It takes each operation's fastest round of the ckks runs
// (4 rounds): a single round on a busy machine can take ten times the
// usual, while the best of four shows what the code costs.
func TestPySEALDemo(t *testing.T) {
	dir := testenv.DataDir(t)
	r, sum := runRecorded(t, "pyseal-demo", options{DataDir: dir, Rounds: 2, Limit: 600, TestLimit: 500})
	for _, p := range []string{"full", "iid"} {
		if g := figure(t, r, p+"_max_accuracy_gap"); !(g <= 0.004) {
			t.Errorf("%s: ckks and plain accuracy differ by %g", p, g)
		}
		if d := figure(t, r, p+"_max_param_diff"); !(d < 1e-4) {
			t.Errorf("%s: ckks and plain models differ by %g", p, d)
		}
		for _, op := range []string{"encrypt", "aggregate", "decrypt"} {
			if ms := figure(t, r, p+"_"+op+"_ms"); !(ms > 0) {
				t.Errorf("%s: %s takes %g ms", p, op, ms)
			}
		}
	}
	const speedup = 5
	for _, c := range []struct {
		op     string
		theirs float64
		ours   func(actors.RoundMetrics) float64
	}{
		{"encrypt", pysealEncryptMS, func(m actors.RoundMetrics) float64 { return m.Protect }},
		{"aggregate", pysealAggregateMS, func(m actors.RoundMetrics) float64 { return m.Combine }},
		{"decrypt", pysealDecryptMS, func(m actors.RoundMetrics) float64 { return m.Reveal }},
	} {
		best, rounds := math.Inf(1), 0
		for _, o := range sum.Settings {
			for _, m := range o.Rounds {
				if o.Scheme == "ckks" && m.Err == "" {
					best, rounds = min(best, 1000*c.ours(m)), rounds+1
				}
			}
		}
		t.Logf("%s: fastest ckks round %.3g ms, PySEAL %g ms: %.0fx faster", c.op, best, c.theirs, c.theirs/best)
		if rounds != 4 || !(best > 0 && best <= c.theirs/speedup) {
			t.Errorf("%s: fastest of %d ckks rounds %g ms, want 4 rounds and at most PySEAL's %g ms / %d", c.op, rounds, best, c.theirs, speedup)
		}
	}
}

// TestFedlearn: both runs learn, on a small subset.
func TestFedlearn(t *testing.T) {
	dir := testenv.DataDir(t)
	r := run(t, "fedlearn", options{DataDir: dir, Rounds: 2, Limit: 2000, TestLimit: 1000})
	for _, s := range []string{"full", "iid"} {
		if a := figure(t, r, s+"_round2_accuracy"); !(a > 0.8) {
			t.Errorf("%s: accuracy %g after 2 rounds", s, a)
		}
	}
}

// TestHyperAggregate: the tree aggregates every round, and with a peer
// silent mid-aggregation the run completes: additive sharing fails that
// round only, threshold sharing aggregates all 6 updates.
func TestHyperAggregate(t *testing.T) {
	dir := testenv.DataDir(t)
	r := run(t, "hyperaggregate", options{DataDir: dir, Rounds: 2, Limit: 240, TestLimit: 500, Deadline: 3 * time.Second})
	want := map[string]float64{
		"tree_failed_rounds": 0, "tree_rounds": 2, "tree_drop_round_contributors": 6,
		"dropout_additive_failed_rounds": 1, "dropout_additive_rounds": 2,
		"dropout_shamir_failed_rounds": 0, "dropout_shamir_rounds": 2, "dropout_shamir_drop_round_contributors": 6,
	}
	for k, v := range want {
		if got := figure(t, r, k); got != v {
			t.Errorf("%s = %g, want %g", k, got, v)
		}
	}
}
