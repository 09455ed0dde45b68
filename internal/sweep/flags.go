package sweep

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fedactor/fedactor/actors/sim"
	"github.com/fedactor/fedactor/crypto"
	"github.com/fedactor/fedactor/dataset"
	"github.com/fedactor/fedactor/internal/cli"
	"github.com/fedactor/fedactor/nn"
)

// Flags are the experiment flags shared by experiments/split, the
// experiments that vary one more thing (strategies, privacy) and the node
// binary, so that every host of a cluster run is configured the same way.
type Flags struct {
	Config
	DataDir                 string
	Quick, Verbose          bool
	owners, splits, schemes string
	clients                 string
	resume                  string
	fs                      *flag.FlagSet
	stderr                  io.Writer // where deprecation notes go
}

// aliases are the deprecated names of flags, by the name that replaced them.
var aliases = map[string]string{"workers": "owners"}

// NewFlags registers the experiment flags on fs, with defaults for an
// output directory named out.
func NewFlags(fs *flag.FlagSet, out string) *Flags {
	f := &Flags{fs: fs, stderr: os.Stderr}
	c := &f.Config
	fs.StringVar(&f.owners, "owners", "2,4,8", "comma-separated numbers of data owners")
	fs.StringVar(&f.clients, "clients", "", "comma-separated numbers of registered clients, of which -fraction train each round (client sampling; replaces -owners)")
	fs.Float64Var(&c.Fraction, "fraction", 0, "fraction of the clients sampled per round (default 0.1 with -clients; 0 = every owner every round)")
	fs.StringVar(&f.splits, "splits", "full,iid,shards,dirichlet", "comma-separated data splits: "+strings.Join(dataset.PartitionerNames(), ", "))
	fs.StringVar(&f.schemes, "scheme", "ckks", "aggregation scheme, or a comma-separated list: "+strings.Join(crypto.Names(), ", "))
	fs.StringVar(&c.Params, "params", "", "crypto parameter preset (ckks: logN13, logN14, logN15; paillier: 2048, 3072)")
	fs.Float64Var(&c.Alpha, "alpha", dataset.DefaultAlpha, "Dirichlet concentration for the dirichlet and quantity splits")
	fs.StringVar(&c.Model, "model", nn.CNN, fmt.Sprintf("model: %s, %s or %s", nn.CNN, nn.MLP, nn.LogReg))
	fs.StringVar(&c.Dataset, "dataset", "mnist", "dataset: "+strings.Join(dataset.Names(), " or "))
	fs.StringVar(&f.DataDir, "data-dir", "", "directory holding mnist/ and fashion-mnist/ (default $FEDACTOR_DATA, then cache, then download)")
	fs.IntVar(&c.Rounds, "rounds", 5, "federated rounds per setting")
	fs.IntVar(&c.Epochs, "epochs", 1, "local epochs per round")
	fs.IntVar(&c.Batch, "batch", 128, "local batch size")
	fs.Float64Var(&c.LR, "lr", 1e-3, "local Adam learning rate")
	fs.IntVar(&c.Limit, "limit", 12000, "training examples to use (0 = all 60,000)")
	fs.IntVar(&c.TestLimit, "test-limit", 0, "test examples to use (0 = all 10,000)")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed for the model, the splits, shuffling and dropout")
	fs.BoolVar(&c.Unweighted, "unweighted", false, "average owners' models without weighting by sample count")
	fs.StringVar(&c.Strategy, "strategy", "", "server strategy: fedavg, fedavg-unweighted, fedavgm or fedadam, with options as in fedadam:lr=0.01,tau=1e-3 (default fedavg)")
	fs.IntVar(&c.GroupSize, "group-size", 0, "aggregate along a tree: groups of this many owners, each with its own secure worker (0 = one secure worker)")
	fs.Float64Var(&c.Mu, "mu", 0, "FedProx proximal weight μ in local training (0 = off)")
	fs.Float64Var(&c.DP.Noise, "dp-noise", 0, "DP-FedAvg noise multiplier z (0 = no differential privacy)")
	fs.Float64Var(&c.DP.Clip, "dp-clip", 0.1, "DP-FedAvg clipping bound C on each owner's model change")
	fs.Float64Var(&c.DP.Delta, "dp-delta", 1e-5, "δ for the reported ε")
	fs.BoolVar(&c.DP.Distributed, "dp-distributed", false, "owners add the DP noise before protecting (default: the model owner adds it after the reveal)")
	fs.StringVar(&c.SaveModel, "save-model", "", "write each setting's final model to `path` in safetensors format (several settings: path gets a _scheme_split_owners suffix)")
	fs.DurationVar(&c.Deadline, "deadline", 0, "per-round deadline for data owners (0 = 10m)")
	fs.StringVar(&c.Clock, "clock", "sim", "decide deadlines in simulated time (sim: waiting costs no wall time) or in wall-clock time (wall); simulated times are reported either way")
	fs.StringVar(&c.Network, "network", "broadband", "the data owners' network: "+strings.Join(sim.NetworkNames(), ", ")+" (docs/simulated-time.md gives their sources)")
	fs.StringVar(&c.Devices, "devices", "", "a CSV or JSON `file` with a device per owner or client: gflops, up_mbps, down_mbps, latency_ms, windows (replaces -network)")
	fs.Float64Var(&c.Stragglers, "stragglers", 0, "probability that an owner is a straggler in a round, finishing only 1 to epochs-1 of its epochs before the deadline (seeded by -seed)")
	fs.BoolVar(&c.PartialWork, "partial-work", false, "stragglers send the epochs they finished in time (FedProx) instead of missing the deadline (FedAvg)")
	fs.StringVar(&c.Costs, "costs", "", "a crypto cost `table` written by experiments/crypto -calibrate (default: the one shipped, see docs/simulated-time.md)")
	fs.Float64Var(&c.Dropout, "dropout", 0, "probability that a data owner drops out of a round (seeded by -seed)")
	fs.StringVar(&c.DropoutAt, "dropout-at", "any", "when owners drop out: before-send, before-unmask or any")
	fs.IntVar(&c.Threshold, "threshold", 0, "parties needed to reveal, for the schemes that take a threshold (ss takes one as Shamir sharing) (0 = scheme default; with -dropout, a third of the owners, at least 2)")
	fs.IntVar(&c.Committee, "committee", 0, "with additive ss, the owners per round that hold shares besides the secure worker (0 = all): share work grows as owners × committee instead of owners²")
	fs.Float64Var(&c.MaxNorm, "max-norm", 1e4, "reject updates (plain) or aggregates (other schemes) whose L2 norm exceeds this (0 = no bound)")
	fs.StringVar(&f.resume, "resume", "", "continue the killed run whose output directory is `dir` (its other flags are read from dir/summary.json)")
	fs.StringVar(&c.Out, "out", filepath.Join("results", out), "output directory")
	fs.BoolVar(&f.Quick, "quick", false, "a small sweep that finishes in about a minute (explicit flags still win)")
	fs.BoolVar(&f.Verbose, "v", false, "log the parties' debug messages")
	told := false
	for old, name := range aliases {
		fs.Var(&alias{Value: fs.Lookup(name).Value, old: old, name: name, w: &f.stderr, told: &told}, old, "deprecated: use -"+name)
		fs.Lookup(old).DefValue = "" // its default is the other flag's
	}
	return f
}

// alias is a deprecated flag name: setting it sets the flag that replaced
// it and, the first time any alias is used, prints a note.
type alias struct {
	flag.Value
	old, name string
	w         *io.Writer
	told      *bool
}

func (a *alias) Set(s string) error {
	if !*a.told {
		*a.told = true
		fmt.Fprintf(*a.w, "note: -%s is deprecated; use -%s\n", a.old, a.name)
	}
	return a.Value.Set(s)
}

func (a *alias) String() string {
	if a == nil || a.Value == nil {
		return "" // the zero value flag.PrintDefaults makes
	}
	return a.Value.String()
}

// SetDefault changes the default of the flag called name, for commands
// that share these flags with other defaults. Call it before fs.Parse: a
// changed default does not count as given on the command line.
func (f *Flags) SetDefault(name, value string) error {
	fl := f.fs.Lookup(name)
	if fl == nil {
		return fmt.Errorf("no flag -%s", name)
	}
	if err := fl.Value.Set(value); err != nil {
		return fmt.Errorf("default of -%s: %w", name, err)
	}
	fl.DefValue = value
	return nil
}

// SetDefaults calls SetDefault for every flag name in defaults.
func (f *Flags) SetDefaults(defaults map[string]string) error {
	for name, v := range defaults {
		if err := f.SetDefault(name, v); err != nil {
			return err
		}
	}
	return nil
}

// given returns the names of the flags set on the command line, deprecated
// names counted as the names that replaced them.
func (f *Flags) given() map[string]bool {
	set := cli.Given(f.fs)
	for old, name := range aliases {
		if set[old] {
			set[name] = true
		}
	}
	return set
}

// Parse finishes the configuration after fs.Parse: it applies -quick to
// the flags not set explicitly, splits the lists and validates.
func (f *Flags) Parse() (Config, error) {
	if f.resume != "" {
		return f.parseResume()
	}
	set := f.given()
	if f.Quick {
		quick := map[string]string{"owners": "2,4", "splits": "iid,shards", "rounds": "3", "limit": "3000", "test-limit": "2000"}
		if err := cli.Quick(f.fs, set, quick); err != nil {
			return f.Config, err
		}
	}
	f.Schemes, f.Splits = cli.List(f.schemes), cli.List(f.splits)
	owners, name := f.owners, "-owners"
	if set["clients"] && set["owners"] {
		return f.Config, fmt.Errorf("give -clients or -owners, not both")
	}
	if f.clients != "" && !set["owners"] {
		owners, name = f.clients, "-clients"
		if !set["fraction"] {
			f.Fraction = 0.1
		}
	}
	var err error
	if f.Owners, err = cli.Ints(owners, 1); err != nil {
		return f.Config, fmt.Errorf("%s: %w", name, err)
	}
	return f.Config, f.Validate()
}

// parseResume takes the configuration of the run in -resume's directory.
func (f *Flags) parseResume() (Config, error) {
	var extra []string
	for name, given := range f.given() {
		if _, old := aliases[name]; given && !old && name != "resume" && name != "v" && name != "data-dir" {
			extra = append(extra, "-"+name)
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return f.Config, fmt.Errorf("-resume takes the run's settings from %s; drop %v", filepath.Join(f.resume, "summary.json"), extra)
	}
	old, err := ReadSummary(f.resume)
	if err != nil {
		return f.Config, fmt.Errorf("-resume: %w", err)
	}
	f.Config = old.Config
	f.Out, f.Resume = f.resume, true
	return f.Config, f.Validate()
}

// Load loads the dataset the flags name, with the -limit and -test-limit
// subsamples, printing download progress on stderr.
func (f *Flags) Load() (*Data, error) {
	c := f.Config
	return LoadData(c.Dataset, f.DataDir, c.Limit, c.TestLimit, c.Seed)
}
