// Package sweep runs federated experiments over a grid of settings (scheme
// x data split x number of data owners) and writes their results:
// results.csv (one row per setting and round), summary.json and the
// accuracy and label-distribution figures. experiments/split is its
// command-line front end; the node binary reuses it for the model owner.
//
// A run draws its model, partition and subsamples from the named seed
// streams (Stream), so equal seeds give equal runs in every command.
package sweep

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/actors/policy"
	"github.com/fedactor/fedactor/crypto"
	"github.com/fedactor/fedactor/dataset"
	"github.com/fedactor/fedactor/internal/cli"
	"github.com/fedactor/fedactor/nn"
)

// Config is a sweep: every combination of Schemes, Splits and Owners is
// one setting, run for Rounds rounds.
type Config struct {
	Dataset string   `json:"dataset"`
	Model   string   `json:"model"`
	Schemes []string `json:"schemes"`
	// Params is the crypto parameter preset ("" = the scheme's default).
	Params string   `json:"params,omitempty"`
	Splits []string `json:"splits"`
	// Owners are the numbers of data owners (with Fraction, of registered
	// clients) of the settings.
	Owners []int   `json:"owners"`
	Alpha  float64 `json:"alpha"`
	Rounds int     `json:"rounds"`
	Epochs int     `json:"epochs"`
	Batch  int     `json:"batch"`
	LR     float64 `json:"lr"`
	// Limit and TestLimit subsample the training and test sets (0 = all).
	Limit      int    `json:"limit"`
	TestLimit  int    `json:"test_limit"`
	Seed       uint64 `json:"seed"`
	Unweighted bool   `json:"unweighted"`
	// Deadline bounds each round's wait for data owners (0 = default).
	Deadline time.Duration `json:"deadline_ns"`
	// Dropout is the probability that a data owner drops out of a round;
	// DropoutAt says when: before-send, before-unmask or any.
	Dropout   float64 `json:"dropout"`
	DropoutAt string  `json:"dropout_at"`
	// Threshold is the number of parties whose answers suffice to reveal,
	// for the schemes that take one (crypto.Info.Threshold); 0 picks the
	// scheme's default, or DropoutThreshold when Dropout > 0.
	Threshold int `json:"threshold"`
	// Committee, for the schemes that take one (crypto.Info.Committee), is
	// the number of data owners per round that hold shares besides the
	// secure worker (capped at the owners per round); 0 means all of them.
	Committee int `json:"committee,omitempty"`
	// MaxNorm bounds the L2 norm of an update (0 = no bound).
	MaxNorm float64 `json:"max_norm"`
	// Fraction, if above 0, turns on client sampling: each owner count is
	// a number K of registered clients, of which Cohort(K) train in each
	// round.
	Fraction float64 `json:"fraction,omitempty"`
	// Strategy is the model owner's policy, as policy.Parse reads it
	// ("" = fedavg, or fedavg-unweighted with Unweighted).
	Strategy string `json:"strategy,omitempty"`
	// Mu is FedProx's proximal weight μ in local training (0 = off).
	Mu float64 `json:"mu,omitempty"`
	// DP turns on DP-FedAvg when its multiplier is above 0.
	DP DPConfig `json:"dp,omitzero"`
	// GroupSize, if above 0, aggregates along a tree: groups of that many
	// owners, each summed by its own secure worker.
	GroupSize int `json:"group_size,omitempty"`
	// SaveModel, if set, is where each setting's final model is written
	// in safetensors format.
	SaveModel string `json:"save_model,omitempty"`
	// Out is the output directory.
	Out string `json:"-"`
	// Resume continues the run saved in Out.
	Resume bool `json:"-"`
}

// DropoutThreshold is the reveal threshold a sweep uses with dropouts when
// none is given: a third of the n owners, at least 2 (or n if smaller),
// so that with 30% dropouts a round almost always keeps enough parties,
// while no single party can reveal alone.
func DropoutThreshold(n int) int { return max(min(2, n), (n+2)/3) }

// DPConfig is the sweep's DP-FedAvg configuration (see actors.Privacy).
type DPConfig struct {
	Noise       float64 `json:"noise_multiplier"`
	Clip        float64 `json:"clip"`
	Delta       float64 `json:"delta"`
	Distributed bool    `json:"distributed"`
}

// privacy returns the actors' configuration, nil when DP is off.
func (d DPConfig) privacy() *actors.Privacy {
	if d.Noise <= 0 {
		return nil
	}
	return &actors.Privacy{Multiplier: d.Noise, Clip: d.Clip, Delta: d.Delta, Distributed: d.Distributed}
}

// strategy returns a fresh instance of the configured strategy.
func (c Config) strategy() (policy.Strategy, error) {
	if c.Strategy == "" {
		return policy.FedAvg{Unweighted: c.Unweighted}, nil
	}
	if c.Unweighted {
		return nil, fmt.Errorf("-unweighted goes with the default strategy only; use -strategy fedavg-unweighted")
	}
	return policy.Parse(c.Strategy)
}

// Cohort returns the number of owners that train in a round of a setting
// with n owners: n, or with sampling C·n rounded, at least 1.
func (c Config) Cohort(n int) int {
	if c.Fraction <= 0 {
		return n
	}
	return max(1, min(n, int(math.Round(c.Fraction*float64(n)))))
}

// Setting is one point of the sweep's grid.
type Setting struct {
	Scheme string `json:"scheme"`
	Split  string `json:"split"`
	Owners int    `json:"owners"`
}

// Settings lists the grid in the order it runs: by scheme, then split,
// then owner count.
func (c Config) Settings() []Setting {
	var s []Setting
	for _, sc := range c.Schemes {
		for _, sp := range c.Splits {
			for _, n := range c.Owners {
				s = append(s, Setting{sc, sp, n})
			}
		}
	}
	return s
}

// OneSetting reports an error unless c's grid is a single setting, for
// commands that vary something else (a strategy, a noise multiplier).
func (c Config) OneSetting() error {
	if len(c.Schemes) != 1 || len(c.Splits) != 1 || len(c.Owners) != 1 {
		return fmt.Errorf("give one -scheme, -splits and -owners (or -clients) value")
	}
	return nil
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	switch {
	case len(c.Schemes) == 0 || len(c.Splits) == 0 || len(c.Owners) == 0:
		return fmt.Errorf("need at least one scheme, split and owner count")
	case c.Rounds < 1 || c.Epochs < 1 || c.Batch < 1:
		return fmt.Errorf("need -rounds, -epochs and -batch >= 1")
	case c.LR <= 0:
		return fmt.Errorf("-lr must be > 0")
	case c.Limit < 0 || c.TestLimit < 0:
		return fmt.Errorf("-limit must be >= 0")
	case !(c.Dropout >= 0 && c.Dropout < 1):
		return fmt.Errorf("-dropout %g: want a probability in [0, 1)", c.Dropout)
	case c.Threshold < 0:
		return fmt.Errorf("-threshold %d < 0", c.Threshold)
	case c.Committee < 0:
		return fmt.Errorf("-committee %d < 0", c.Committee)
	case !(c.MaxNorm >= 0):
		return fmt.Errorf("-max-norm %g: want >= 0 (0 = no bound)", c.MaxNorm)
	case !(c.Fraction >= 0 && c.Fraction <= 1):
		return fmt.Errorf("-fraction %g: want a fraction in (0, 1] (0 = no sampling)", c.Fraction)
	case c.GroupSize < 0:
		return fmt.Errorf("-group-size %d < 0", c.GroupSize)
	case !(c.Mu >= 0) || math.IsInf(c.Mu, 0):
		return fmt.Errorf("-mu %g: want a finite μ >= 0", c.Mu)
	case c.DP.Noise < 0 || (c.DP.Noise > 0 && !(c.DP.Clip > 0)):
		return fmt.Errorf("-dp-noise %g with -dp-clip %g: want a noise multiplier >= 0 and, with noise, a clipping bound > 0", c.DP.Noise, c.DP.Clip)
	case !(c.DP.Delta >= 0 && c.DP.Delta < 1):
		return fmt.Errorf("-dp-delta %g: want δ in (0, 1)", c.DP.Delta)
	}
	if _, err := c.strategy(); err != nil {
		return err
	}
	if _, err := actors.ParseDropout(c.DropoutAt); err != nil {
		return fmt.Errorf("-dropout-at: %w", err)
	}
	for _, n := range c.Owners {
		if n < 1 {
			return fmt.Errorf("owner count %d < 1", n)
		}
	}
	for _, s := range c.Schemes {
		info, err := crypto.Describe(s)
		if err != nil {
			return err
		}
		if c.Fraction > 0 && info.FixedOwners {
			return fmt.Errorf("%s cannot sample clients: its key shares belong to fixed owners", s)
		}
		for _, n := range c.Owners {
			if _, err := c.scheme(s, c.Cohort(n), 1); err != nil {
				return err
			}
		}
	}
	for _, s := range c.Splits {
		if _, err := dataset.NewPartitioner(s, c.Alpha); err != nil {
			return err
		}
	}
	if _, err := nn.New(c.Model, nil); err != nil {
		return err
	}
	return nil
}

// Run runs every setting of c on d, printing one progress line per round
// to progress, and writes the outputs to c.Out after every setting, so an
// interrupted sweep keeps what it finished.
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
		sum.Settings = old.Settings
	}
	if err := sum.Write(c.Out); err != nil {
		return sum, err
	}
	settings := c.Settings()
	est := newEstimate(c, d, settings)
	fmt.Fprintf(progress, "%d settings x %d rounds, %d training examples, %d test; BLAS %s, %d cores; estimated time %s\n",
		len(settings), c.Rounds, len(d.TrainIdx), len(d.TestIdx), nn.Backend(), runtime.GOMAXPROCS(0), cli.Duration(est.total))
	for i, s := range settings {
		if sum.has(s) {
			fmt.Fprintf(progress, "[%d/%d] %-14s %-9s %2d owners  done before the restart\n", i+1, len(settings), s.Scheme, s.Split, s.Owners)
			est.skip(s)
			continue
		}
		fed, parts, err := Build(c, s, d)
		if err != nil {
			return sum, fmt.Errorf("%s/%s/%d: %w", s.Scheme, s.Split, s.Owners, err)
		}
		fed.Logger = logger
		fed.Checkpoint = c.checkpointDir(s)
		if _, err := os.Stat(fed.Checkpoint); err == nil && c.Resume {
			fed.Resume = true
		} else if err := os.RemoveAll(fed.Checkpoint); err != nil {
			return sum, err
		}
		fed.OnRound = func(rm actors.RoundMetrics) {
			est.done(s)
			status := fmt.Sprintf("accuracy %6.2f%%", 100*rm.TestAccuracy)
			if rm.Err != "" {
				status = "FAILED: " + rm.Err
			}
			fmt.Fprintf(progress, "[%d/%d] %-14s %-9s %2d owners  round %2d/%d  %s  (%.1fs; elapsed %s, remaining ~%s)\n",
				i+1, len(settings), s.Scheme, s.Split, s.Owners, rm.Round, c.Rounds, status, rm.Seconds,
				cli.Duration(est.elapsed()), cli.Duration(est.remaining()))
		}
		res, err := actors.Run(ctx, fed)
		if err != nil {
			return sum, fmt.Errorf("%s/%s/%d: %w", s.Scheme, s.Split, s.Owners, err)
		}
		sum.Add(s, fed, res, dataset.LabelHistogram(d.Train.Labels, parts, dataset.NumClasses))
		if err := sum.Write(c.Out); err != nil {
			return sum, err
		}
		if c.SaveModel != "" {
			if err := saveModel(c.modelPath(s, len(settings)), fed.Model, res.Final, s); err != nil {
				return sum, err
			}
		}
		if err := os.RemoveAll(fed.Checkpoint); err != nil {
			return sum, err
		}
	}
	return sum, sum.Plot(c.Out)
}

// scheme configures scheme name for n owners and updates of length l,
// passing the threshold and committee only to the schemes that take them.
func (c Config) scheme(name string, n, l int) (crypto.Scheme, error) {
	info, err := crypto.Describe(name)
	if err != nil {
		return nil, err
	}
	cfg := crypto.Config{Owners: n, Len: l, Params: c.Params, MaxNorm: c.MaxNorm}
	if info.Threshold {
		cfg.Threshold = c.Threshold
		if cfg.Threshold == 0 && c.Dropout > 0 {
			cfg.Threshold = DropoutThreshold(n)
		}
	}
	if info.Committee {
		cfg.Committee = min(c.Committee, n)
	}
	return crypto.New(name, cfg)
}

// modelPath is where -save-model puts setting s's model, of n settings.
func (c Config) modelPath(s Setting, n int) string {
	if n == 1 {
		return c.SaveModel
	}
	ext := filepath.Ext(c.SaveModel)
	return fmt.Sprintf("%s_%s_%s_%d%s", strings.TrimSuffix(c.SaveModel, ext), s.Scheme, s.Split, s.Owners, ext)
}

// saveModel writes params, for the architecture of m, as safetensors.
func saveModel(path string, m *nn.Model, params []float64, s Setting) error {
	m = m.Clone()
	if err := m.SetParams(params); err != nil {
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

// Build makes the federation for one setting: the initial model (drawn
// from ModelStream, so the same for every setting with the same seed),
// the owners' shards (from PartitionStream) and the scheme. It also
// returns the shards as index lists into d.Train.
func Build(c Config, s Setting, d *Data) (actors.Federation, [][]int, error) {
	var f actors.Federation
	m, err := nn.New(c.Model, ModelStream.Rand(c.Seed))
	if err != nil {
		return f, nil, err
	}
	p, err := dataset.NewPartitioner(s.Split, c.Alpha)
	if err != nil {
		return f, nil, err
	}
	labels := make([]uint8, len(d.TrainIdx))
	for i, j := range d.TrainIdx {
		labels[i] = d.Train.Labels[j]
	}
	parts, err := p.Partition(labels, s.Owners, PartitionStream.Rand(c.Seed))
	if err != nil {
		return f, nil, err
	}
	at, err := actors.ParseDropout(c.DropoutAt)
	if err != nil {
		return f, nil, err
	}
	var clients []actors.Client
	for _, part := range parts {
		for i, j := range part {
			part[i] = d.TrainIdx[j]
		}
		clients = append(clients, actors.Client{Data: d.Train, Indices: part})
	}
	owners := make([]actors.Owner, c.Cohort(s.Owners))
	for k := range owners {
		owners[k].Name = actors.OwnerName(k)
		if c.Fraction <= 0 {
			owners[k].Data, owners[k].Indices = d.Train, parts[k]
		}
		if c.Dropout > 0 {
			owners[k].Drop = actors.RandomDropouts(c.Dropout, at, c.Seed, k)
		}
	}
	if c.Fraction <= 0 {
		clients = nil
	}
	scheme, err := c.scheme(s.Scheme, len(owners), m.NumParams())
	if err != nil {
		return f, nil, err
	}
	strategy, err := c.strategy()
	if err != nil {
		return f, nil, err
	}
	f = actors.Federation{
		Scheme: scheme, Strategy: strategy, Model: m, Owners: owners, Clients: clients, Privacy: c.DP.privacy(), GroupSize: c.GroupSize,
		Test: d.Test, TestIndices: d.TestIdx, Rounds: c.Rounds, Deadline: c.Deadline, Seed: c.Seed,
		Train: actors.TrainConfig{Epochs: c.Epochs, BatchSize: c.Batch, LR: c.LR, Prox: c.Mu},
	}
	return f, parts, nil
}
