package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedactor/fedactor/internal/cli"
	"github.com/fedactor/fedactor/internal/sweep"
)

// run runs preset name shortened by o and checks that it wrote its
// outputs, returning its report.
func run(t *testing.T, name string, o options) *report {
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
	return r
}

// mnistDir returns the MNIST directory the tests use ($FEDACTOR_DATA),
// skipping when it is not set.
func mnistDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("FEDACTOR_DATA")
	if dir == "" {
		t.Skip("FEDACTOR_DATA is not set")
	}
	return dir
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
	if d := r.Figures["max_param_diff"]; !(d <= 1e-6) {
		t.Errorf("plain and ss models differ by %g", d)
	}
	for _, s := range []string{"plain", "ss"} {
		if l := r.Figures[s+"_final_loss"]; !(l < 0.05) {
			t.Errorf("%s: final loss %g, want < 0.05", s, l)
		}
		for _, owner := range []string{"bob", "alice"} {
			first, last := r.Figures[s+"_"+owner+"_first_loss"], r.Figures[s+"_"+owner+"_last_loss"]
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
	if e := r.Figures["max_error_vs_ols"]; !(e < 1e-3) {
		t.Errorf("learned coefficients are %g from least squares", e)
	}
	if e := r.Figures["max_error_vs_true"]; !(e < 0.05) {
		t.Errorf("learned coefficients are %g from the true ones", e)
	}
	if f := r.Figures["failed_iterations"]; f != 0 {
		t.Errorf("%g iterations failed", f)
	}
}

// TestPySEALDemo: on a small subset, CKKS stays within noise of plain.
func TestPySEALDemo(t *testing.T) {
	dir := mnistDir(t)
	r := run(t, "pyseal-demo", options{DataDir: dir, Rounds: 1, Limit: 600, TestLimit: 500})
	for _, p := range []string{"full", "iid"} {
		if g := r.Figures[p+"_max_accuracy_gap"]; !(g <= 0.004) {
			t.Errorf("%s: ckks and plain accuracy differ by %g", p, g)
		}
		if d := r.Figures[p+"_max_param_diff"]; !(d < 1e-4) {
			t.Errorf("%s: ckks and plain models differ by %g", p, d)
		}
		if ms := r.Figures[p+"_encrypt_ms"]; !(ms > 0) {
			t.Errorf("%s: encryption time %g ms", p, ms)
		}
	}
}

// TestFedlearn: both runs learn, on a small subset.
func TestFedlearn(t *testing.T) {
	dir := mnistDir(t)
	r := run(t, "fedlearn", options{DataDir: dir, Rounds: 2, Limit: 2000, TestLimit: 1000})
	for _, s := range []string{"full", "iid"} {
		if a := r.Figures[s+"_round2_accuracy"]; !(a > 0.8) {
			t.Errorf("%s: accuracy %g after 2 rounds", s, a)
		}
	}
}

// TestHyperAggregate: the tree aggregates every round, and with a peer
// silent mid-aggregation the run completes: additive sharing fails that
// round only, threshold sharing aggregates all 6 updates.
func TestHyperAggregate(t *testing.T) {
	dir := mnistDir(t)
	r := run(t, "hyperaggregate", options{DataDir: dir, Rounds: 2, Limit: 240, TestLimit: 500, Deadline: 3 * time.Second})
	want := map[string]float64{
		"tree_failed_rounds": 0, "tree_rounds": 2, "tree_drop_round_contributors": 6,
		"dropout_additive_failed_rounds": 1, "dropout_additive_rounds": 2,
		"dropout_shamir_failed_rounds": 0, "dropout_shamir_rounds": 2, "dropout_shamir_drop_round_contributors": 6,
	}
	for k, v := range want {
		if r.Figures[k] != v {
			t.Errorf("%s = %g, want %g", k, r.Figures[k], v)
		}
	}
}
