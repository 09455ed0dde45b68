// Package sweep is the experiment framework: it builds federations from a
// configuration (scheme x data split x number of data owners), runs them
// one after another with progress lines, a time estimate and an optional
// target accuracy, records each run as an Outcome, and writes results.csv,
// summary.json and the figures. experiments/split is its command-line
// front end; every other experiment and the node binary build on it.
//
// A run draws its model, partition and subsamples from the named seed
// streams (Stream), so equal seeds give equal runs in every command.
package sweep

import (
	"fmt"
	"math"
	"os"
	"time"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/actors/policy"
	"github.com/fedactor/fedactor/actors/sim"
	"github.com/fedactor/fedactor/crypto"
	"github.com/fedactor/fedactor/dataset"
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
	// Optimizer is the owners' local optimizer, "adam" or "sgd" ("" = adam).
	Optimizer string `json:"optimizer,omitempty"`
	// Limit and TestLimit subsample the training and test sets (0 = all).
	Limit      int    `json:"limit"`
	TestLimit  int    `json:"test_limit"`
	Seed       uint64 `json:"seed"`
	Unweighted bool   `json:"unweighted"`
	// EvalEvery, if above 1, tests the global model only every EvalEvery
	// rounds and in the last (see actors.Federation.EvalEvery).
	EvalEvery int `json:"eval_every,omitempty"`
	// Target, if above 0, stops a setting after the first round whose test
	// accuracy (a fraction) reaches it.
	Target float64 `json:"target,omitempty"`
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
	// Clock decides deadlines in simulated time ("" or "sim") or in
	// wall-clock time ("wall"); simulated times are reported either way.
	Clock string `json:"clock,omitempty"`
	// Network is the data owners' network preset (sim.NetworkNames; ""
	// means broadband), unless Devices gives each owner its own.
	Network string `json:"network,omitempty"`
	// Devices is a devices file (sim.ReadDevices), a device per data
	// owner or, with client sampling, per registered client: the first
	// that many rows serve.
	Devices string `json:"devices,omitempty"`
	// Costs is a crypto cost table written by experiments/crypto
	// -calibrate; "" means the one shipped with fedactor.
	Costs string `json:"costs,omitempty"`
	// Stragglers is the probability that a data owner is a straggler in a
	// round, able to finish only 1 to Epochs-1 epochs before the deadline
	// (actors.RandomStragglers); PartialWork has it send those (FedProx)
	// instead of missing the deadline (FedAvg).
	Stragglers  float64 `json:"stragglers,omitempty"`
	PartialWork bool    `json:"partial_work,omitempty"`
	// SaveModel, if set, is where each setting's final model is written
	// in safetensors format.
	SaveModel string `json:"save_model,omitempty"`
	// Partitioners names splits of a command's own, such as mcmahan's
	// "noniid"; a split not found here is one of dataset.PartitionerNames.
	Partitioners map[string]dataset.Partitioner `json:"-"`
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

// Jobs returns the settings as the jobs Run runs: with c.Out set, each
// keeps its checkpoints under c.Out/checkpoints, and with c.Resume a job
// whose checkpoints exist resumes from them.
func (c Config) Jobs() []Job {
	var jobs []Job
	for _, s := range c.Settings() {
		j := Job{Config: c, Setting: s}
		if c.Out != "" {
			j.Checkpoint = c.checkpointDir(s)
			_, err := os.Stat(j.Checkpoint)
			j.Resume = c.Resume && err == nil
		}
		jobs = append(jobs, j)
	}
	return jobs
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
	case !(c.LR > 0):
		return fmt.Errorf("-lr must be > 0")
	case c.Optimizer != "" && c.Optimizer != "adam" && c.Optimizer != "sgd":
		return fmt.Errorf("optimizer %q: want adam or sgd", c.Optimizer)
	case c.Limit < 0 || c.TestLimit < 0:
		return fmt.Errorf("-limit must be >= 0")
	case !(c.Stragglers >= 0 && c.Stragglers < 1):
		return fmt.Errorf("-stragglers %g: want a probability in [0, 1)", c.Stragglers)
	case c.Clock != "" && c.Clock != "sim" && c.Clock != "wall":
		return fmt.Errorf("-clock %q: want sim or wall", c.Clock)
	case c.EvalEvery < 0:
		return fmt.Errorf("-eval-every %d < 0", c.EvalEvery)
	case !(c.Target >= 0 && c.Target <= 1):
		return fmt.Errorf("target accuracy %g: want a fraction in [0, 1] (0 = none)", c.Target)
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
	if _, err := c.deploymentRecord(); err != nil {
		return err
	}
	if c.Devices != "" {
		if _, err := sim.ReadDevices(c.Devices); err != nil {
			return fmt.Errorf("-devices: %w", err)
		}
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
		if _, err := c.partitioner(s); err != nil {
			return err
		}
	}
	if _, err := nn.New(c.Model, nil); err != nil {
		return err
	}
	return nil
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

// partitioner returns the partitioner of split: one of c.Partitioners, or
// dataset's partitioner of that name.
func (c Config) partitioner(split string) (dataset.Partitioner, error) {
	if p, ok := c.Partitioners[split]; ok {
		return p, nil
	}
	return dataset.NewPartitioner(split, c.Alpha)
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
	p, err := c.partitioner(s.Split)
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
		if c.Stragglers > 0 {
			owners[k].Capacity = actors.RandomStragglers(c.Stragglers, c.Epochs, c.Seed, k)
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
	pop := len(owners)
	if clients != nil {
		pop = len(clients)
	}
	devices, costs, err := c.deployment(pop)
	if err != nil {
		return f, nil, err
	}
	f = actors.Federation{
		Scheme: scheme, Strategy: strategy, Model: m, Owners: owners, Clients: clients, Privacy: c.DP.privacy(), GroupSize: c.GroupSize,
		Test: d.Test, TestIndices: d.TestIdx, EvalEvery: c.EvalEvery, Rounds: c.Rounds, Deadline: c.Deadline, Seed: c.Seed,
		Train:     actors.TrainConfig{Epochs: c.Epochs, BatchSize: c.Batch, Optimizer: c.Optimizer, LR: c.LR, Prox: c.Mu, PartialWork: c.PartialWork},
		WallClock: c.Clock == "wall", Devices: devices, Costs: costs,
	}
	return f, parts, nil
}
