package sweep

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/dataset"
	"github.com/fedactor/fedactor/internal/results"
	"github.com/fedactor/fedactor/nn"
)

// toyData is n synthetic 28x28 images in 10 classes.
func toyData(n int, seed uint64) *dataset.Set {
	return dataset.Synthetic(n, 28, 10, rand.New(rand.NewPCG(seed, 1)))
}

func toyConfig(out string) Config {
	return Config{Dataset: "toy", Model: "logreg", Schemes: []string{"plain", "ss"}, Splits: []string{"iid", "shards"},
		Workers: []int{2, 3}, Alpha: 0.5, Rounds: 2, Epochs: 1, Batch: 16, LR: 0.01, Seed: 1, Out: out}
}

func allIndices(n int) []int { return dataset.Subsample(n, 0, nil) }

func TestRunWritesEverything(t *testing.T) {
	out := t.TempDir()
	c := toyConfig(out)
	train, test := toyData(240, 1), toyData(100, 2)
	d := &Data{Train: train, Test: test, TrainIdx: allIndices(240), TestIdx: allIndices(100)}
	var progress strings.Builder
	sum, err := Run(context.Background(), c, d, slog.New(slog.DiscardHandler), &progress)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(progress.String(), "accuracy"); got != 8*2 {
		t.Errorf("%d progress lines, want 16:\n%s", got, progress.String())
	}
	if !strings.Contains(progress.String(), "estimated time") {
		t.Error("no time estimate printed")
	}
	rows, err := results.ReadCSV(filepath.Join(out, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+16 || strings.Join(rows[0], ",") != strings.Join(Columns, ",") {
		t.Fatalf("results.csv has %d rows, header %v", len(rows), rows[0])
	}
	for _, o := range sum.Settings {
		if o.Split == "iid" && o.FinalAccuracy < 0.5 {
			t.Errorf("%+v: final accuracy %.2f on the toy task", o.Setting, o.FinalAccuracy)
		}
		total := 0
		for _, n := range o.ShardSizes {
			total += n
		}
		if total != 240 {
			t.Errorf("%+v: shards hold %d examples, want 240", o.Setting, total)
		}
	}
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Summary
	if err := json.Unmarshal(data, &back); err != nil || len(back.Settings) != 8 {
		t.Fatalf("summary.json: %v, %d settings", err, len(back.Settings))
	}
	for _, name := range []string{"accuracy_iid.png", "accuracy_shards.png", "accuracy_workers_2.png",
		"accuracy_workers_3.png", "labels_iid_2.png", "labels_shards_3.png"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Error(err)
		}
	}
}

func TestValidate(t *testing.T) {
	cases := map[string]func(*Config){
		"no schemes":     func(c *Config) { c.Schemes = nil },
		"bad scheme":     func(c *Config) { c.Schemes = []string{"rot13"} },
		"bad split":      func(c *Config) { c.Splits = []string{"random"} },
		"zero workers":   func(c *Config) { c.Workers = []int{0} },
		"zero rounds":    func(c *Config) { c.Rounds = 0 },
		"bad model":      func(c *Config) { c.Model = "resnet" },
		"negative lr":    func(c *Config) { c.LR = -1 },
		"bad alpha":      func(c *Config) { c.Splits, c.Alpha = []string{"dirichlet"}, 0 },
		"bad params":     func(c *Config) { c.Schemes, c.Params = []string{"ckks"}, "logN99" },
		"negative limit": func(c *Config) { c.Limit = -5 },
	}
	for name, mutate := range cases {
		c := toyConfig("")
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := toyConfig("").Validate(); err != nil {
		t.Errorf("good config rejected: %v", err)
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	c := toyConfig("")
	d := &Data{Train: toyData(240, 1), Test: toyData(10, 2), TrainIdx: allIndices(240)}
	_, a, err := Build(c, Setting{"plain", "shards", 3}, d)
	if err != nil {
		t.Fatal(err)
	}
	_, b, _ := Build(c, Setting{"ckks", "shards", 3}, d)
	for k := range a {
		if len(a[k]) != len(b[k]) || a[k][0] != b[k][0] {
			t.Fatalf("owner %d's shard differs between schemes", k)
		}
	}
}

func TestFlagsQuickKeepsExplicitValues(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	f := NewFlags(fs, "x")
	if err := fs.Parse([]string{"-quick", "-workers", "3", "-scheme", "plain, ss"}); err != nil {
		t.Fatal(err)
	}
	c, err := f.Parse()
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(c.Workers) != "[3]" || fmt.Sprint(c.Schemes) != "[plain ss]" || c.Limit != 3000 || c.Rounds != 3 {
		t.Errorf("got workers %v, schemes %v, limit %d, rounds %d", c.Workers, c.Schemes, c.Limit, c.Rounds)
	}
	fs = flag.NewFlagSet("y", flag.ContinueOnError)
	f = NewFlags(fs, "y")
	_ = fs.Parse([]string{"-workers", "2,x"})
	if _, err := f.Parse(); err == nil {
		t.Error("bad -workers accepted")
	}
}

func TestParamsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.f64")
	want := []float64{1.5, -2, 3e-300}
	if err := WriteParams(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadParams(path)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, %v", got, err)
	}
	os.WriteFile(path, []byte{1, 2, 3}, 0o644)
	if _, err := ReadParams(path); err == nil {
		t.Error("truncated file accepted")
	}
}

func TestClientSamplingFlags(t *testing.T) {
	parse := func(args ...string) (Config, error) {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		f := NewFlags(fs, "x")
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return f.Parse()
	}
	c, err := parse("-quick", "-clients", "100", "-scheme", "plain")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(c.Workers) != "[100]" || c.Fraction != 0.1 || c.Cohort(100) != 10 {
		t.Errorf("got workers %v, fraction %g, cohort %d", c.Workers, c.Fraction, c.Cohort(100))
	}
	if c, _ := parse("-clients", "7", "-fraction", "0.01", "-scheme", "plain"); c.Cohort(7) != 1 {
		t.Errorf("cohort of 1%% of 7: %d, want at least 1", c.Cohort(7))
	}
	for _, bad := range [][]string{
		{"-clients", "10", "-workers", "3"},
		{"-clients", "10", "-fraction", "1.5"},
		{"-clients", "10", "-scheme", "ckks-threshold"},
	} {
		if _, err := parse(bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}

	// Build: the cohort's slots hold no data; the clients hold the shards.
	c = toyConfig("")
	c.Fraction = 0.25
	d := &Data{Train: toyData(240, 1), Test: toyData(10, 2), TrainIdx: allIndices(240)}
	fed, parts, err := Build(c, Setting{"plain", "iid", 8}, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(fed.Owners) != 2 || len(fed.Clients) != 8 || len(parts) != 8 {
		t.Fatalf("%d slots, %d clients, %d shards; want 2, 8, 8", len(fed.Owners), len(fed.Clients), len(parts))
	}
	for _, o := range fed.Owners {
		if o.Data != nil || o.Indices != nil {
			t.Errorf("slot %s holds data", o.Name)
		}
	}
}

// TestRunResearchOptions runs a sampled, DP, FedAdam + FedProx sweep and
// checks that ε reaches results.csv and the model is saved for PyTorch.
func TestRunResearchOptions(t *testing.T) {
	out := t.TempDir()
	c := toyConfig(out)
	c.Schemes, c.Splits, c.Workers = []string{"plain", "ckks"}, []string{"iid"}, []int{6}
	c.Fraction, c.Strategy, c.Mu, c.GroupSize = 0.5, "fedadam:lr=0.01", 0.1, 2
	c.DP = DPConfig{Noise: 0.5, Clip: 1, Delta: 1e-5, Distributed: true}
	c.SaveModel = filepath.Join(out, "model.safetensors")
	train, test := toyData(240, 1), toyData(100, 2)
	d := &Data{Train: train, Test: test, TrainIdx: allIndices(240), TestIdx: allIndices(100)}
	sum, err := Run(context.Background(), c, d, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range sum.Settings {
		if o.Strategy != "fedadam" || len(o.ShardSizes) != 6 {
			t.Errorf("%+v: strategy %q, %d shards", o.Setting, o.Strategy, len(o.ShardSizes))
		}
		for _, r := range o.Rounds {
			if _, ok := r.Parties[actors.GroupWorkerName(1)]; !ok {
				t.Errorf("%+v round %d: no second group worker in %v", o.Setting, r.Round, r.Parties)
			}
			if len(r.Contributors) != 3 || len(r.Cohort) != 3 || !(r.Epsilon > 0) {
				t.Errorf("%+v round %d: %d contributors, cohort %v, ε %g", o.Setting, r.Round, len(r.Contributors), r.Cohort, r.Epsilon)
			}
		}
	}
	rows, err := results.ReadCSV(filepath.Join(out, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(rows[0], "epsilon")
	if col < 0 {
		t.Fatal("no epsilon column")
	}
	e1, _ := strconv.ParseFloat(rows[1][col], 64)
	e2, _ := strconv.ParseFloat(rows[2][col], 64)
	if !(e1 > 0 && e2 > e1) {
		t.Errorf("epsilon after rounds 1 and 2: %q, %q", rows[1][col], rows[2][col])
	}
	for _, s := range c.Settings() {
		m, err := nn.New(c.Model, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		path := c.modelPath(s, 2)
		if _, err := nn.LoadSafetensorsFile(path, m); err != nil {
			t.Fatalf("load %s: %v", path, err)
		}
		acc, _, err := (&nn.Trainer{Model: m}).Evaluate(d.Test, d.TestIdx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range sum.Settings {
			if o.Setting == s && acc != o.FinalAccuracy {
				t.Errorf("%s: saved model's accuracy %g, the run's %g", path, acc, o.FinalAccuracy)
			}
		}
	}
}
