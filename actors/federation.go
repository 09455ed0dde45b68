package actors

import (
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/fedactor/fedactor/actors/policy"
	"github.com/fedactor/fedactor/actors/sim"
	"github.com/fedactor/fedactor/crypto"
	"github.com/fedactor/fedactor/nn"
	"google.golang.org/protobuf/proto"
)

// DefaultDeadline is how long a round waits for data owners when
// Federation.Deadline is zero.
const DefaultDeadline = 10 * time.Minute

// Federation describes one federated training run: the parties, their data
// and the protocol's settings. Zero fields take the defaults documented on
// them.
type Federation struct {
	// Scheme protects updates; it must be configured for len(Owners)
	// owners and Model's parameter count.
	Scheme crypto.Scheme
	// Strategy aggregates at the model owner; nil means FedAvg.
	Strategy policy.Strategy
	// Model is the initial global model. Every data owner trains a copy.
	Model *nn.Model
	// Owners are the data owners, in index order. With Clients they are
	// the slots of each round's cohort and need no data of their own.
	Owners []Owner
	// Clients, if set, is the registered population from which every
	// round samples a cohort of len(Owners) clients without replacement
	// (client sampling, McMahan et al. 2017): in round r, owner i trains
	// on the data of client Cohort(r)[i]. A client that is not picked
	// costs only its index list. Clients keep no optimizer state between
	// rounds (Train.ResetOptimizer is implied).
	Clients []Client
	// Privacy, if set, makes the run DP-FedAvg; each round then reports
	// the ε spent so far.
	Privacy *Privacy
	// Test is the model owner's test set (TestIndices nil means all of it).
	Test        nn.Source
	TestIndices []int
	// EvalEvery, if above 1, has the model owner test the global model
	// only in every EvalEvery-th round and the last, to save the test's
	// time; the other rounds report Evaluated false. 0 or 1 tests every
	// round.
	EvalEvery int

	// Rounds of federated training (at least 1).
	Rounds int
	// Train configures local training on every data owner.
	Train TrainConfig
	// Cores the data owners share; 0 means runtime.GOMAXPROCS(0).
	Cores int
	// Deadline bounds each round's wait for data owners; 0 means
	// DefaultDeadline. Owners that miss it are recorded as dropped.
	Deadline time.Duration
	// GroupSize, if positive, aggregates through a tree (as HyperAggregate
	// does): the owners, in index order, form consecutive groups of
	// GroupSize (the last may be smaller), and each group has a secure
	// worker of its own (GroupWorkerName) that combines its members'
	// protected updates, never seeing plaintext, and forwards the group
	// aggregate to the root secure worker (SecureWorkerName). The root
	// combines the group aggregates and goes on as in flat aggregation:
	// key generation and reveal shares stay with the root and the owners.
	// 0 means flat aggregation: every owner sends to the root.
	GroupSize int
	// Seed seeds every owner's shuffles and dropout masks.
	Seed uint64
	// Rand is the entropy for keys, shares and masks; nil means crypto/rand.
	Rand io.Reader
	// Logger receives debug and warning records; nil discards them.
	Logger *slog.Logger
	// OnRound, if set, is called by the model owner after every round.
	OnRound func(RoundMetrics)
	// Observe, if set, sees every message a party sends, just before it
	// is sent, on the sender's goroutine (tests and tracing). It must not
	// modify msg.
	Observe func(to string, msg proto.Message)
	// WallClock decides deadlines, stragglers and dropouts in wall-clock
	// time, as a deployment does, instead of in simulated time on a
	// virtual clock (see package sim), where waiting costs no wall time.
	// Simulated times are reported either way. A federation run across
	// hosts (NewNode without Run) always uses the wall clock.
	WallClock bool
	// Devices are the data owners' devices in index order or, with
	// Clients, the clients'; nil gives each sim.DefaultDevice.
	Devices []sim.Device
	// Server is the device of the model owner and the secure workers; the
	// zero Device means sim.DefaultServer.
	Server sim.Device
	// Costs is the crypto cost table of simulated time; nil means
	// sim.DefaultCosts.
	Costs *sim.Costs
	// Checkpoint, if set, is a directory in which the model owner saves
	// the global model, the strategy's state and the metrics after every
	// round, and each data owner its optimizer state (atomic writes).
	Checkpoint string
	// Resume continues the run saved in Checkpoint after its last complete
	// round instead of starting afresh.
	Resume bool

	// index maps owner names to indices; set by withDefaults.
	index map[string]int
	// protecting, if set (by tests in this package), sees each data
	// owner's update and weight just before its Protector protects them.
	protecting func(owner string, update []float64, weight float64)
}

// Owner is one data owner: its name and its private shard.
type Owner struct {
	Name string
	// Data and Indices are the owner's shard (Indices nil means all of Data).
	Data    nn.Source
	Indices []int
	// Drop, if set, is asked at the start of every round whether and when
	// the owner drops out of it (see RandomDropouts).
	Drop func(round int) Dropout
	// Capacity, if set, is asked at the start of every round how many
	// local epochs the owner can finish before the round's deadline (a
	// negative number: all of them): an owner that can do fewer is a
	// straggler, computing this round so slowly that only that many fit
	// (see RandomStragglers).
	// A straggler's full update misses the deadline; with
	// TrainConfig.PartialWork it sends the epochs it finished instead.
	Capacity func(round int) int
}

// Client is one registered client of a sampled federation: its private
// shard (Indices nil means all of Data).
type Client struct {
	Data    nn.Source
	Indices []int
}

// Len returns the number of examples in c's shard.
func (c Client) Len() int {
	if c.Indices != nil {
		return len(c.Indices)
	}
	return c.Data.Len()
}

func (o Owner) shardLen() int {
	if o.Indices != nil {
		return len(o.Indices)
	}
	return o.Data.Len()
}

// evaluated reports whether the model owner tests the global model after
// round r.
func (f *Federation) evaluated(r int) bool {
	return f.EvalEvery <= 1 || r%f.EvalEvery == 0 || r == f.Rounds
}

// holdingOwners are the data owners that hold shares of the protected
// updates besides the secure worker, in Holding schemes.
func (f *Federation) holdingOwners() []Owner {
	k, _ := crypto.HoldingOwners(f.Scheme)
	return f.Owners[:min(k, len(f.Owners))]
}

// Dropout says whether and when a data owner drops out of a round.
type Dropout int

const (
	// Stay: the owner takes part in the whole round.
	Stay Dropout = iota
	// BeforeSend: the owner goes silent before sending its update (after
	// any per-round key step) and stays silent for the rest of the round.
	BeforeSend
	// BeforeUnmask: the owner sends its update, then goes silent: it
	// neither combines shares it holds nor sends reveal shares.
	BeforeUnmask
)

// String returns "stay", "before-send" or "before-unmask".
func (d Dropout) String() string {
	switch d {
	case BeforeSend:
		return "before-send"
	case BeforeUnmask:
		return "before-unmask"
	}
	return "stay"
}

// ParseDropout parses "before-send", "before-unmask" or "any" (either,
// at random; also ""): the modes -dropout-at accepts.
func ParseDropout(s string) (Dropout, error) {
	switch s {
	case "before-send":
		return BeforeSend, nil
	case "before-unmask":
		return BeforeUnmask, nil
	case "any", "":
		return Stay, nil
	}
	return Stay, fmt.Errorf("unknown dropout mode %q (valid: before-send, before-unmask, any)", s)
}

// RandomStragglers returns an Owner.Capacity that makes owner a straggler
// in each round with probability p, able to finish a number of epochs
// drawn uniformly from 1 to epochs-1 (as Li et al. 2020 simulate systems
// heterogeneity; with epochs < 2 a straggler finishes none). The draws
// depend only on seed, owner and round, so FedAvg and FedProx runs of one
// seed meet the same stragglers.
func RandomStragglers(p float64, epochs int, seed uint64, owner int) func(round int) int {
	return func(round int) int {
		r := rand.New(rand.NewPCG(seed^0x73747261, uint64(owner)<<32|uint64(round)))
		switch {
		case r.Float64() >= p:
			return -1 // not a straggler this round
		case epochs < 2:
			return 0 // no whole epoch fits
		}
		return 1 + r.IntN(epochs-1)
	}
}

// RandomDropouts returns an Owner.Drop that drops owner out of each round
// with probability p, at the given point (Stay means either, at random).
// The draw depends only on seed, owner and round, so a resumed run drops
// the same owners as an uninterrupted one.
func RandomDropouts(p float64, at Dropout, seed uint64, owner int) func(round int) Dropout {
	return func(round int) Dropout {
		r := rand.New(rand.NewPCG(seed^0x64726f70, uint64(owner)<<32|uint64(round)))
		if r.Float64() >= p {
			return Stay
		}
		if at != Stay {
			return at
		}
		return BeforeSend + Dropout(r.IntN(2))
	}
}

// TrainConfig is the local training every data owner runs per round.
type TrainConfig struct {
	// Epochs of local training per round; 0 means 1.
	Epochs int
	// BatchSize; 0 means 128.
	BatchSize int
	// Optimizer is "adam" (default) or "sgd".
	Optimizer string
	// LR is the learning rate; 0 means 1e-3 for adam and 0.01 for sgd.
	LR float64
	// Momentum for sgd.
	Momentum float64
	// Prox is FedProx's μ (Li et al. 2020): local training adds
	// μ/2·‖w − w_global‖² to the loss; 0 means plain FedAvg training.
	Prox float64
	// ResetOptimizer starts each round with fresh optimizer state instead
	// of keeping the owner's state from its previous round.
	ResetOptimizer bool
	// PartialWork has an owner that cannot finish every epoch before the
	// round's deadline (a straggler, Owner.Capacity) send the epochs it
	// finished in time instead of missing the deadline, as FedProx does
	// (Li et al. 2020); without it the straggler is left out, as FedAvg
	// leaves it out.
	PartialWork bool
}

func (t TrainConfig) withDefaults() TrainConfig {
	if t.Epochs == 0 {
		t.Epochs = 1
	}
	if t.BatchSize == 0 {
		t.BatchSize = 128
	}
	if t.Optimizer == "" {
		t.Optimizer = "adam"
	}
	if t.LR == 0 {
		t.LR = 1e-3
		if t.Optimizer == "sgd" {
			t.LR = 0.01
		}
	}
	return t
}

// newOptimizer returns a fresh optimizer for t.
func (t TrainConfig) newOptimizer() (nn.Optimizer, error) {
	switch t.Optimizer {
	case "adam":
		return nn.NewAdam(t.LR), nil
	case "sgd":
		return &nn.SGD{LR: t.LR, Momentum: t.Momentum}, nil
	}
	return nil, fmt.Errorf("unknown optimizer %q (valid: adam, sgd)", t.Optimizer)
}

// withDefaults validates f and fills in its defaults.
func (f Federation) withDefaults() (Federation, error) {
	switch {
	case f.Scheme == nil:
		return f, errors.New("actors: federation has no scheme")
	case f.Model == nil:
		return f, errors.New("actors: federation has no model")
	case len(f.Owners) == 0:
		return f, errors.New("actors: federation has no data owners")
	case f.Test == nil:
		return f, errors.New("actors: federation has no test set")
	case f.Rounds < 1:
		return f, fmt.Errorf("actors: %d rounds, need at least 1", f.Rounds)
	case f.Deadline < 0:
		return f, fmt.Errorf("actors: negative deadline %v", f.Deadline)
	case f.GroupSize < 0:
		return f, fmt.Errorf("actors: negative group size %d", f.GroupSize)
	case f.EvalEvery < 0:
		return f, fmt.Errorf("actors: negative EvalEvery %d", f.EvalEvery)
	case f.Resume && f.Checkpoint == "":
		return f, errors.New("actors: resume needs a checkpoint directory")
	}
	f.index = make(map[string]int, len(f.Owners))
	for i, o := range f.Owners {
		if _, taken := f.index[o.Name]; taken || o.Name == "" || o.Name == SecureWorkerName || o.Name == ModelOwnerName || groupNumber(o.Name) >= 0 {
			return f, fmt.Errorf("actors: owner %d: name %q is empty or taken", i, o.Name)
		}
		f.index[o.Name] = i
		if f.Clients != nil {
			continue
		}
		if err := f.checkShard(o.Name, o.Data); err != nil {
			return f, err
		}
	}
	if f.Clients != nil {
		if len(f.Owners) > len(f.Clients) {
			return f, fmt.Errorf("actors: cohort of %d from %d clients", len(f.Owners), len(f.Clients))
		}
		for i, c := range f.Clients {
			if err := f.checkShard(fmt.Sprintf("client %d", i), c.Data); err != nil {
				return f, err
			}
		}
		f.Train.ResetOptimizer = true
	}
	if f.Strategy == nil {
		f.Strategy = policy.FedAvg{}
	}
	if err := f.checkPrivacy(); err != nil {
		return f, err
	}
	f.Train = f.Train.withDefaults()
	if _, err := f.Train.newOptimizer(); err != nil {
		return f, fmt.Errorf("actors: %w", err)
	}
	if f.Cores <= 0 {
		f.Cores = runtime.GOMAXPROCS(0)
	}
	if f.Deadline == 0 {
		f.Deadline = DefaultDeadline
	}
	if f.Rand == nil {
		f.Rand = crand.Reader
	}
	if f.Logger == nil {
		f.Logger = slog.New(slog.DiscardHandler)
	}
	if err := f.simDefaults(); err != nil {
		return f, err
	}
	return f, nil
}

// simDefaults validates the devices and the cost table and fills in their
// defaults.
func (f *Federation) simDefaults() error {
	pop := len(f.Owners)
	if f.Clients != nil {
		pop = len(f.Clients)
	}
	if f.Devices == nil {
		f.Devices = make([]sim.Device, pop)
		for i := range f.Devices {
			f.Devices[i] = sim.DefaultDevice()
		}
	}
	if len(f.Devices) != pop {
		return fmt.Errorf("actors: %d devices for %d owners (or clients)", len(f.Devices), pop)
	}
	for i, d := range f.Devices {
		if err := d.Check(); err != nil {
			return fmt.Errorf("actors: device %d: %w", i+1, err)
		}
	}
	if f.Server.FLOPS == 0 && f.Server.Link == (sim.Link{}) {
		f.Server = sim.DefaultServer()
	}
	if err := f.Server.Check(); err != nil {
		return fmt.Errorf("actors: server device: %w", err)
	}
	if f.Costs == nil {
		var err error
		if f.Costs, err = sim.DefaultCosts(); err != nil {
			return fmt.Errorf("actors: the shipped cost table: %w", err)
		}
	}
	return nil
}

// checkShard validates the data of a shard called name.
func (f *Federation) checkShard(name string, d nn.Source) error {
	switch {
	case d == nil:
		return fmt.Errorf("actors: %s has no data", name)
	case d.InputSize() != f.Model.InputSize():
		return fmt.Errorf("actors: %s: examples of size %d, model takes %d", name, d.InputSize(), f.Model.InputSize())
	}
	return nil
}

// Cohort returns the clients sampled for round, in slot order: a seeded
// draw of len(Owners) of the Clients without replacement, the same on
// every node. It returns nil when the federation does not sample.
func (f *Federation) Cohort(round int) []int {
	if f.Clients == nil {
		return nil
	}
	rng := rand.New(rand.NewPCG(f.Seed^0x636f686f7274, uint64(round)))
	return rng.Perm(len(f.Clients))[:len(f.Owners)]
}

// ownerThreads is the number of training threads per owner: the cores
// split evenly among the owners that train at once, at least one.
func (f *Federation) ownerThreads() int {
	return max(1, f.Cores/min(len(f.Owners), f.Cores))
}

// ownerIndex returns the index of the owner called name, or -1.
func (f *Federation) ownerIndex(name string) int {
	if i, ok := f.index[name]; ok {
		return i
	}
	return -1
}

// grace is how long the steps after a round's deadline (combining, reveal
// shares) may take: a quarter of the deadline, between 1 s and 1 min.
func (f *Federation) grace() time.Duration {
	return min(max(f.Deadline/4, time.Second), time.Minute)
}

// revealDeadline bounds the secure worker's wait for reveal shares.
func (f *Federation) revealDeadline() time.Duration { return f.grace() }

// roundDeadline bounds the model owner's wait for a round's aggregate:
// the owners' deadline, then a grace period for the round's keys, one
// for combining, one for the group workers' hop in an aggregation tree,
// and one per reveal attempt (each failed attempt drops at least one
// silent owner). In simulated time a reveal attempt also waits for its
// transfers, up to the owners' deadline each (revealTransfers).
func (f *Federation) roundDeadline(simulated bool) time.Duration {
	attempts := len(f.Owners)
	d := f.Deadline + time.Duration(attempts+2)*f.grace()
	if f.GroupSize > 0 {
		d += f.grace()
	}
	if _, reveals := f.Scheme.(crypto.RevealSharing); reveals && simulated {
		d += time.Duration(attempts) * f.Deadline
	}
	return d
}
