package sweep

import (
	"bytes"
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

// toy is a sweep's data: train training and test test examples.
func toy(train, test int) *Data { return SyntheticData(train, test, 1) }

func toyConfig(out string) Config {
	return Config{Dataset: "toy", Model: "logreg", Schemes: []string{"plain", "ss"}, Splits: []string{"iid", "shards"},
		Owners: []int{2, 3}, Alpha: 0.5, Rounds: 2, Epochs: 1, Batch: 16, LR: 0.01, Seed: 1, Out: out}
}

func names[R any](cols []Column[R]) string {
	var s []string
	for _, c := range cols {
		s = append(s, c.Name)
	}
	return strings.Join(s, ",")
}

func TestRunWritesEverything(t *testing.T) {
	out := t.TempDir()
	c := toyConfig(out)
	d := toy(240, 100)
	var progress strings.Builder
	sum, err := Run(context.Background(), c, d, slog.New(slog.DiscardHandler), &progress)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(progress.String(), "accuracy"); got != 8*2 {
		t.Errorf("%d progress lines, want 16:\n%s", got, progress.String())
	}
	if !strings.Contains(progress.String(), "estimated time") || !strings.Contains(progress.String(), "[8/8] ss ") {
		t.Errorf("no time estimate or job counter printed:\n%s", progress.String())
	}
	rows, err := results.ReadCSV(filepath.Join(out, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+16 || strings.Join(rows[0], ",") != names(Columns) || rows[0][2] != "owners" {
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
		if len(o.Elapsed) != len(o.Rounds) || o.Error != "" || !(o.WallSeconds >= o.Elapsed[len(o.Elapsed)-1]) {
			t.Errorf("%+v: elapsed %v, wall %g, error %q", o.Setting, o.Elapsed, o.WallSeconds, o.Error)
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
	var keys struct {
		Config   map[string]json.RawMessage   `json:"config"`
		Settings []map[string]json.RawMessage `json:"settings"`
	}
	if err := json.Unmarshal(data, &keys); err != nil {
		t.Fatal(err)
	}
	if _, ok := keys.Config["owners"]; !ok || string(keys.Settings[0]["owners"]) != "2" {
		t.Errorf("summary.json names the owner counts otherwise: config %v, setting %v", keys.Config["owners"], keys.Settings[0]["owners"])
	}
	for _, name := range []string{"accuracy_iid.png", "accuracy_shards.png", "accuracy_owners_2.png",
		"accuracy_owners_3.png", "labels_iid_2.png", "labels_shards_3.png"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Error(err)
		}
	}
}

func TestValidate(t *testing.T) {
	cases := map[string]func(*Config){
		"no schemes":      func(c *Config) { c.Schemes = nil },
		"bad scheme":      func(c *Config) { c.Schemes = []string{"rot13"} },
		"bad split":       func(c *Config) { c.Splits = []string{"random"} },
		"zero owners":     func(c *Config) { c.Owners = []int{0} },
		"zero rounds":     func(c *Config) { c.Rounds = 0 },
		"bad model":       func(c *Config) { c.Model = "resnet" },
		"negative lr":     func(c *Config) { c.LR = -1 },
		"bad optimizer":   func(c *Config) { c.Optimizer = "lbfgs" },
		"bad alpha":       func(c *Config) { c.Splits, c.Alpha = []string{"dirichlet"}, 0 },
		"bad params":      func(c *Config) { c.Schemes, c.Params = []string{"ckks"}, "logN99" },
		"negative limit":  func(c *Config) { c.Limit = -5 },
		"target above 1":  func(c *Config) { c.Target = 1.5 },
		"negative eval":   func(c *Config) { c.EvalEvery = -1 },
		"fixed owners":    func(c *Config) { c.Schemes, c.Fraction = []string{"ckks-threshold"}, 0.5 },
		"committee+ss-t":  func(c *Config) { c.Schemes, c.Threshold, c.Committee = []string{"ss"}, 2, 1 },
		"threshold > all": func(c *Config) { c.Schemes, c.Threshold = []string{"secagg"}, 9 },
		"bad clock":       func(c *Config) { c.Clock = "sundial" },
		"bad network":     func(c *Config) { c.Network = "5g" },
		"no devices file": func(c *Config) { c.Devices = "/nonexistent/devices.csv" },
		"no costs file":   func(c *Config) { c.Costs = "/nonexistent/costs.json" },
		"stragglers = 1":  func(c *Config) { c.Stragglers = 1 },
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
	c := toyConfig("")
	c.Splits, c.Partitioners = []string{"noniid"}, map[string]dataset.Partitioner{"noniid": dataset.Shards{PerOwner: 2}}
	if err := c.Validate(); err != nil {
		t.Errorf("a split of the command's own rejected: %v", err)
	}
}

// TestSchemeOptionsFollowDescribe: the threshold and the committee reach
// only the schemes crypto.Describe says take them; "ss" with a threshold
// is Shamir sharing.
func TestSchemeOptionsFollowDescribe(t *testing.T) {
	d := toy(120, 10)
	for _, c := range []struct {
		scheme               string
		threshold, committee int
		want                 string
	}{
		{"plain", 2, 2, "plain"},
		{"ckks", 2, 0, "ckks"},
		{"ss", 2, 0, "ss-shamir"},
		{"ss", 0, 2, "ss"},
		{"secagg", 2, 2, "secagg"},
	} {
		cfg := toyConfig("")
		cfg.Threshold, cfg.Committee = c.threshold, c.committee
		fed, _, err := Build(cfg, Setting{c.scheme, "iid", 3}, d)
		if err != nil {
			t.Errorf("%s with threshold %d, committee %d: %v", c.scheme, c.threshold, c.committee, err)
			continue
		}
		if got := fed.Scheme.Name(); got != c.want {
			t.Errorf("%s with threshold %d: scheme %s, want %s", c.scheme, c.threshold, got, c.want)
		}
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	c := toyConfig("")
	d := toy(240, 10)
	_, a, err := Build(c, Setting{"plain", "shards", 3}, d)
	if err != nil {
		t.Fatal(err)
	}
	_, b, _ := Build(c, Setting{"ckks", "shards", 3}, d)
	for k := range a {
		if !slices.Equal(a[k], b[k]) {
			t.Fatalf("owner %d's shard differs between schemes", k)
		}
	}
}

// TestSeedStreams pins the streams' values: they are part of what a seed
// means, so changing one silently changes every run.
func TestSeedStreams(t *testing.T) {
	for s, want := range map[Stream]uint64{ModelStream: 1, PartitionStream: 2, TestStream: 3, TrainStream: 0x5eed} {
		if got, ref := s.Rand(7).Uint64(), rand.New(rand.NewPCG(7, want)).Uint64(); got != ref {
			t.Errorf("stream %d draws %d, want PCG(7, %d)'s %d", s, got, want, ref)
		}
	}
	m, err := nn.New("logreg", ModelStream.Rand(1))
	if err != nil {
		t.Fatal(err)
	}
	fed, _, err := Build(toyConfig(""), Setting{"plain", "iid", 2}, toy(40, 10))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Params(nil), fed.Model.Params(nil)) {
		t.Error("Build's initial model is not ModelStream's")
	}
}

func parse(t *testing.T, stderr io.Writer, defaults map[string]string, args ...string) (Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := NewFlags(fs, "x")
	f.stderr = stderr
	if err := f.SetDefaults(defaults); err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f.Parse()
}

func TestFlagsQuickKeepsExplicitValues(t *testing.T) {
	c, err := parse(t, io.Discard, nil, "-quick", "-owners", "3", "-scheme", "plain, ss")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(c.Owners) != "[3]" || fmt.Sprint(c.Schemes) != "[plain ss]" || c.Limit != 3000 || c.Rounds != 3 {
		t.Errorf("got owners %v, schemes %v, limit %d, rounds %d", c.Owners, c.Schemes, c.Limit, c.Rounds)
	}
	if _, err := parse(t, io.Discard, nil, "-owners", "2,x"); err == nil {
		t.Error("bad -owners accepted")
	}
}

// TestWorkersIsADeprecatedOwners: -workers still sets the owner counts,
// -quick leaves them alone, and one note is printed however often it is
// given.
func TestWorkersIsADeprecatedOwners(t *testing.T) {
	var stderr bytes.Buffer
	c, err := parse(t, &stderr, nil, "-quick", "-workers", "5", "-workers", "3,4", "-scheme", "plain")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(c.Owners) != "[3 4]" {
		t.Errorf("-workers 3,4 gave owners %v", c.Owners)
	}
	if n := strings.Count(stderr.String(), "-workers is deprecated; use -owners"); n != 1 {
		t.Errorf("%d notes, want 1: %q", n, stderr.String())
	}
	stderr.Reset()
	if _, err := parse(t, &stderr, nil, "-owners", "3"); err != nil || stderr.Len() != 0 {
		t.Errorf("-owners: %v, stderr %q", err, stderr.String())
	}
	if _, err := parse(t, io.Discard, nil, "-clients", "10", "-workers", "3"); err == nil {
		t.Error("-clients with -workers accepted")
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
	if err := os.WriteFile(path, []byte{1, 2, 3}, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadParams(path); err == nil {
		t.Error("truncated file accepted")
	}
}

func TestClientSamplingFlags(t *testing.T) {
	c, err := parse(t, io.Discard, nil, "-quick", "-clients", "100", "-scheme", "plain")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(c.Owners) != "[100]" || c.Fraction != 0.1 || c.Cohort(100) != 10 {
		t.Errorf("got owners %v, fraction %g, cohort %d", c.Owners, c.Fraction, c.Cohort(100))
	}
	if c, _ := parse(t, io.Discard, nil, "-clients", "7", "-fraction", "0.01", "-scheme", "plain"); c.Cohort(7) != 1 {
		t.Errorf("cohort of 1%% of 7: %d, want at least 1", c.Cohort(7))
	}
	for _, bad := range [][]string{
		{"-clients", "10", "-owners", "3"},
		{"-clients", "10", "-fraction", "1.5"},
		{"-clients", "10", "-scheme", "ckks-threshold"},
	} {
		if _, err := parse(t, io.Discard, nil, bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	// A changed default is not a given flag: the node binary's default of
	// 2 owners must not clash with -clients.
	if c, err := parse(t, io.Discard, map[string]string{"owners": "2", "splits": "iid"}, "-clients", "10", "-scheme", "plain"); err != nil || fmt.Sprint(c.Owners) != "[10]" {
		t.Errorf("-clients over a changed -owners default: owners %v, %v", c.Owners, err)
	}

	// Build: the cohort's slots hold no data; the clients hold the shards.
	c = toyConfig("")
	c.Fraction = 0.25
	fed, parts, err := Build(c, Setting{"plain", "iid", 8}, toy(240, 10))
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
	c.Schemes, c.Splits, c.Owners = []string{"plain", "ckks"}, []string{"iid"}, []int{6}
	c.Fraction, c.Strategy, c.Mu, c.GroupSize = 0.5, "fedadam:lr=0.01", 0.1, 2
	c.DP = DPConfig{Noise: 0.5, Clip: 1, Delta: 1e-5, Distributed: true}
	c.SaveModel = filepath.Join(out, "model.safetensors")
	d := toy(240, 100)
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
		m, err := nn.New(c.Model, nil)
		if err != nil {
			t.Fatal(err)
		}
		path := c.modelPath(s, 2)
		meta, err := nn.LoadSafetensorsFile(path, m)
		if err != nil {
			t.Fatalf("load %s: %v", path, err)
		}
		if meta["owners"] != "6" || meta["scheme"] != s.Scheme {
			t.Errorf("%s: metadata %v, want owners 6 and scheme %s", path, meta, s.Scheme)
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

// TestResumeFlags: -resume takes everything from the saved summary.json,
// accepts only -v and -data-dir beside it, and names the flags to drop.
func TestResumeFlags(t *testing.T) {
	c := toyConfig(t.TempDir())
	c.Schemes, c.Splits, c.Owners = []string{"plain"}, []string{"iid"}, []int{3}
	if err := NewSummary(c).Write(c.Out); err != nil {
		t.Fatal(err)
	}
	got, err := parse(t, io.Discard, nil, "-resume", c.Out, "-v", "-data-dir", "x")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Resume || got.Out != c.Out || fmt.Sprint(got.Owners) != "[3]" || got.Model != "logreg" {
		t.Errorf("resumed config: resume %v, out %q, owners %v, model %q", got.Resume, got.Out, got.Owners, got.Model)
	}
	for _, extra := range [][]string{{"-rounds", "3"}, {"-workers", "2"}} {
		_, err := parse(t, io.Discard, nil, append([]string{"-resume", c.Out}, extra...)...)
		if err == nil || !strings.Contains(err.Error(), "drop [-") {
			t.Errorf("-resume with %v: %v", extra, err)
		}
	}
}

// TestSimulatedTimeInTheSweep runs a sweep on the 3g network and again on
// the lan, the same seed: the accuracies agree, the rounds are slower on
// 3g, results.csv's sim_* columns hold the figures, and summary.json
// records the deployment; a devices file gives each owner its own.
func TestSimulatedTimeInTheSweep(t *testing.T) {
	run := func(edit func(*Config)) (*Summary, [][]string) {
		c := toyConfig(t.TempDir())
		c.Schemes, c.Splits, c.Owners = []string{"plain"}, []string{"iid"}, []int{3}
		edit(&c)
		sum, err := Run(context.Background(), c, toy(240, 100), slog.New(slog.DiscardHandler), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := results.ReadCSV(filepath.Join(c.Out, "results.csv"))
		if err != nil {
			t.Fatal(err)
		}
		return sum, rows
	}
	slow, rows := run(func(c *Config) { c.Network = "3g" })
	fast, _ := run(func(c *Config) { c.Network = "lan" })
	for i, r := range slow.Settings[0].Rounds {
		f := fast.Settings[0].Rounds[i]
		if r.TestAccuracy != f.TestAccuracy || !(r.SimSeconds > f.SimSeconds) || !(r.SimUpload > f.SimUpload) {
			t.Errorf("round %d: 3g accuracy %g, %gs (upload %gs); lan %g, %gs (upload %gs)", r.Round, r.TestAccuracy, r.SimSeconds, r.SimUpload, f.TestAccuracy, f.SimSeconds, f.SimUpload)
		}
	}
	col := slices.Index(rows[0], "sim_round_seconds")
	if col < 0 || rows[1][col] != Float(slow.Settings[0].Rounds[0].SimSeconds) {
		t.Errorf("results.csv %v: no sim_round_seconds column holding the round's %g", rows[0], slow.Settings[0].Rounds[0].SimSeconds)
	}
	if d := slow.Deployment; d == nil || d.Network != "3g" || d.Link == nil || d.Costs == nil || d.Clock != "sim" {
		t.Errorf("summary.json's deployment: %+v", d)
	}
	devices := filepath.Join(t.TempDir(), "devices.csv")
	if err := os.WriteFile(devices, []byte("gflops,up_mbps,down_mbps,latency_ms\n50,1,4,60\n50,1,4,60\n50,1,4,60\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	own, _ := run(func(c *Config) { c.Devices = devices })
	if got, want := own.Settings[0].Rounds[0].SimUpload, slow.Settings[0].Rounds[0].SimUpload; !(got > 0) || got == want {
		t.Errorf("with a devices file the upload took %gs, as on 3g (%gs): the file was not used", got, want)
	}
}
