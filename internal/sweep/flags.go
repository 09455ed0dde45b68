package sweep

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/fedactor/fedactor/dataset"
	"github.com/fedactor/fedactor/internal/cli"
)

// Flags are the experiment flags shared by experiments/split and the node
// binary, so that every host of a cluster run is configured the same way.
type Flags struct {
	Config
	DataDir                  string
	Quick, Verbose           bool
	workers, splits, schemes string
	clients                  string
	resume                   string
	fs                       *flag.FlagSet
}

// NewFlags registers the experiment flags on fs, with defaults for an
// output directory named out.
func NewFlags(fs *flag.FlagSet, out string) *Flags {
	f := &Flags{fs: fs}
	c := &f.Config
	fs.StringVar(&f.workers, "workers", "2,4,8", "comma-separated numbers of data owners")
	fs.StringVar(&f.clients, "clients", "", "comma-separated numbers of registered clients, of which -fraction train each round (client sampling; replaces -workers)")
	fs.Float64Var(&c.Fraction, "fraction", 0, "fraction of the clients sampled per round (default 0.1 with -clients; 0 = every owner every round)")
	fs.StringVar(&f.splits, "splits", "full,iid,shards,dirichlet", "comma-separated data splits: full, iid, shards, dirichlet, quantity")
	fs.StringVar(&f.schemes, "scheme", "ckks", "aggregation scheme, or a comma-separated list: plain, ss, secagg, ckks, ckks-threshold, paillier")
	fs.StringVar(&c.Params, "params", "", "crypto parameter preset (ckks: logN13, logN14, logN15; paillier: 2048, 3072)")
	fs.Float64Var(&c.Alpha, "alpha", dataset.DefaultAlpha, "Dirichlet concentration for the dirichlet and quantity splits")
	fs.StringVar(&c.Model, "model", "cnn", "model: cnn, mlp or logreg")
	fs.StringVar(&c.Dataset, "dataset", "mnist", "dataset: mnist or fashion")
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
	fs.StringVar(&c.SaveModel, "save-model", "", "write each setting's final model to `path` in safetensors format (several settings: path gets a _scheme_split_workers suffix)")
	fs.DurationVar(&c.Deadline, "deadline", 0, "per-round deadline for data owners (0 = 10m)")
	fs.Float64Var(&c.Dropout, "dropout", 0, "probability that a data owner drops out of a round (seeded by -seed)")
	fs.StringVar(&c.DropoutAt, "dropout-at", "any", "when owners drop out: before-send, before-unmask or any")
	fs.IntVar(&c.Threshold, "threshold", 0, "parties needed to reveal in ss (Shamir), secagg and ckks-threshold (0 = scheme default; with -dropout, a third of the owners, at least 2)")
	fs.IntVar(&c.Committee, "committee", 0, "with additive ss, the owners per round that hold shares besides the secure worker (0 = all): share work grows as owners × committee instead of owners²")
	fs.Float64Var(&c.MaxNorm, "max-norm", 1e4, "reject updates (plain) or aggregates (other schemes) whose L2 norm exceeds this (0 = no bound)")
	fs.StringVar(&f.resume, "resume", "", "continue the killed run whose output directory is `dir` (its other flags are read from dir/summary.json)")
	fs.StringVar(&c.Out, "out", filepath.Join("results", out), "output directory")
	fs.BoolVar(&f.Quick, "quick", false, "a small sweep that finishes in about a minute (explicit flags still win)")
	fs.BoolVar(&f.Verbose, "v", false, "log the parties' debug messages")
	return f
}

// SetDefault changes the default of the flag called name, for commands
// that share these flags with other defaults. Call it before fs.Parse.
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

// Parse finishes the configuration after fs.Parse: it applies -quick to
// the flags not set explicitly, splits the lists and validates.
func (f *Flags) Parse() (Config, error) {
	if f.resume != "" {
		return f.parseResume()
	}
	set := map[string]bool{} // the flags given explicitly
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if f.Quick {
		quick := map[string]string{"workers": "2,4", "splits": "iid,shards", "rounds": "3", "limit": "3000", "test-limit": "2000"}
		for name, v := range quick {
			if !set[name] {
				if err := f.fs.Set(name, v); err != nil {
					return f.Config, err
				}
			}
		}
	}
	f.Schemes, f.Splits = cli.List(f.schemes), cli.List(f.splits)
	workers, name := f.workers, "-workers"
	if set["clients"] && set["workers"] {
		return f.Config, fmt.Errorf("give -clients or -workers, not both")
	}
	if f.clients != "" && !set["workers"] {
		workers, name = f.clients, "-clients"
		if !set["fraction"] {
			f.Fraction = 0.1
		}
	}
	var err error
	if f.Workers, err = ints(workers); err != nil {
		return f.Config, fmt.Errorf("%s: %w", name, err)
	}
	return f.Config, f.Validate()
}

// parseResume takes the configuration of the run in -resume's directory.
func (f *Flags) parseResume() (Config, error) {
	var extra []string
	f.fs.Visit(func(fl *flag.Flag) {
		if fl.Name != "resume" && fl.Name != "v" && fl.Name != "data-dir" {
			extra = append(extra, "-"+fl.Name)
		}
	})
	if len(extra) > 0 {
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

// LoadData loads the dataset called name from dir (a -data-dir value)
// with seeded subsamples of limit training and testLimit test examples
// (0 keeps all), printing download progress on stderr.
func LoadData(name, dir string, limit, testLimit int, seed uint64) (*Data, error) {
	ld, err := cli.LoadData(name, dir, limit, seed, os.Stderr)
	if err != nil {
		return nil, err
	}
	return &Data{Train: ld.Train, Test: ld.Test, TrainIdx: ld.TrainIndices,
		TestIdx: dataset.Subsample(ld.Test.Len(), testLimit, rand.New(rand.NewPCG(seed, 3)))}, nil
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range cli.List(s) {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", f)
		}
		out = append(out, n)
	}
	return out, nil
}
