package sweep

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedactor/fedactor/dataset"
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
	f, err := os.Open(filepath.Join(out, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
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
