package hostile

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/crypto"
	"github.com/fedactor/fedactor/dataset"
	"github.com/fedactor/fedactor/nn"
)

// ToyFederation is 3 data owners of a 4x4, 3-class synthetic task under
// scheme (reveal threshold t, 0 for the default), for 3 rounds. It
// returns the scheme's configuration for NewKit.
func ToyFederation(scheme string, t int) (actors.Federation, crypto.Config, error) {
	var f actors.Federation
	m, err := nn.NewModel(nn.Shape{1, 4, 4}, []nn.Layer{nn.Flatten(), nn.Dense(3)}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		return f, crypto.Config{}, err
	}
	cfg := crypto.Config{Owners: 3, Len: m.NumParams(), MaxNorm: 1e4, Threshold: t}
	s, err := crypto.New(scheme, cfg)
	if err != nil {
		return f, cfg, err
	}
	train := dataset.Synthetic(90, 4, 3, rand.New(rand.NewPCG(1, 7)))
	test := dataset.Synthetic(60, 4, 3, rand.New(rand.NewPCG(2, 7)))
	var owners []actors.Owner
	for i := range 3 {
		idx := make([]int, 30)
		for j := range idx {
			idx[j] = 30*i + j
		}
		owners = append(owners, actors.Owner{Name: actors.OwnerName(i), Data: train, Indices: idx})
	}
	f = actors.Federation{Scheme: s, Model: m, Owners: owners, Test: test, Rounds: 3, Cores: 3, Seed: 3,
		Train: actors.TrainConfig{BatchSize: 8, LR: 0.05}, Deadline: 5 * time.Second}
	return f, cfg, nil
}

// GateTimeout bounds how long a Gate holds a round open if nobody opens
// it: long enough for any honest attack to be refused, short enough that
// a test that never opens it fails instead of hanging.
const GateTimeout = 20 * time.Second

// Gate holds one round open: the last data owner's first read of
// training data in that round waits until the gate is opened (or for
// GateTimeout), so that attacks sent meanwhile land while the round waits
// for that owner's update.
type Gate struct {
	round  atomic.Int32
	opened chan struct{}
	once   sync.Once
}

// HoldRound makes f's last data owner wait at the returned gate in round.
func HoldRound(f *actors.Federation, round int) *Gate {
	g := &Gate{opened: make(chan struct{})}
	last := &f.Owners[len(f.Owners)-1]
	last.Data = &gatedSource{Source: last.Data, gate: g}
	onRound := f.OnRound
	f.OnRound = func(rm actors.RoundMetrics) {
		if rm.Round == round-1 {
			g.round.Store(int32(round))
		}
		if onRound != nil {
			onRound(rm)
		}
	}
	if round == 1 {
		g.round.Store(1)
	}
	return g
}

// Open lets the held round go on.
func (g *Gate) Open() { g.once.Do(func() { close(g.opened) }) }

// gatedSource is a data source whose first read, once its gate is armed,
// waits for the gate.
type gatedSource struct {
	nn.Source
	gate *Gate
}

func (s *gatedSource) Read(i int, dst []float32) int {
	if s.gate.round.Swap(0) != 0 {
		select {
		case <-s.gate.opened:
		case <-time.After(GateTimeout):
		}
	}
	return s.Source.Read(i, dst)
}

// Injector attacks a running federation: set its Observe as the
// federation's Observe. Once a round's first update to the targeted secure
// worker and its sender's report are on their way, it sends every attack
// the kit makes from them and from the round before, through Send: on the
// secure worker, the model owner and the first data owner. The target is
// the secure worker that receives the first update of the run: the root,
// or in an aggregation tree a group's worker.
type Injector struct {
	Kit *Kit
	// EveryRound attacks every round from round 2 on; otherwise round 2 only.
	EveryRound bool
	// Send delivers an attack to the party called to.
	Send func(to string, msg proto.Message)
	// Gate, if set, holds the attacked round open (HoldRound); the
	// injector opens it once every attack of the round has been refused,
	// as the federation's logger tells through Handler.
	Gate *Gate
	// Rounds is the federation's number of rounds. A data owner's
	// refusals reach the model owner on its next report, so data owners
	// are attacked only before the last round.
	Rounds int

	mu       sync.Mutex
	pending  int // attacks of the held round not yet refused
	setup    *actors.Setup
	globals  map[int32]*actors.GlobalModel
	target   string
	updates  map[int32]*actors.ProtectedUpdate
	partials map[int32]*actors.Partial
	reports  map[int32]map[string]*actors.OwnerReport
	launched map[int32]bool
	sent     []Attack
}

// Observe is an actors.Federation.Observe.
func (in *Injector) Observe(to string, msg proto.Message) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.updates == nil {
		in.updates, in.partials, in.launched = map[int32]*actors.ProtectedUpdate{}, map[int32]*actors.Partial{}, map[int32]bool{}
		in.reports = map[int32]map[string]*actors.OwnerReport{}
	}
	var r int32
	switch m := msg.(type) {
	case *actors.Setup:
		in.setup = proto.Clone(m).(*actors.Setup)
		return
	case *actors.GlobalModel:
		if in.globals == nil {
			in.globals = map[int32]*actors.GlobalModel{}
		}
		if to == victim && int(m.Round) < in.Rounds {
			in.globals[m.Round] = proto.Clone(m).(*actors.GlobalModel)
		}
		return
	case *actors.ProtectedUpdate:
		if in.target == "" && m.Sender == victim && strings.HasPrefix(to, actors.SecureWorkerName) {
			in.target = to
		}
		if to != in.target || in.updates[m.Round] != nil {
			return
		}
		in.updates[m.Round] = proto.Clone(m).(*actors.ProtectedUpdate)
		r = m.Round
	case *actors.Partial:
		if m.Holder == actors.SecureWorkerName {
			in.partials[m.Round] = proto.Clone(m).(*actors.Partial)
		}
		return
	case *actors.OwnerReport:
		if in.reports[m.Round] == nil {
			in.reports[m.Round] = map[string]*actors.OwnerReport{}
		}
		in.reports[m.Round][m.Sender] = proto.Clone(m).(*actors.OwnerReport)
		r = m.Round
	default:
		return
	}
	u, old, p := in.updates[r], in.updates[r-1], in.partials[r-1]
	if in.launched[r] || (r != 2 && !in.EveryRound) || u == nil || old == nil || p == nil || in.reports[r][u.Sender] == nil {
		return
	}
	in.launched[r] = true
	batch := append(in.Kit.Updates(in.target, u, old), in.Kit.Partials(u, p, in.reports[r][u.Sender])...)
	if g := in.globals[r]; g != nil && in.setup != nil {
		batch = append(batch, in.Kit.Owner(victim, g, in.setup)...)
	}
	if in.Gate != nil {
		in.pending = len(batch) // before sending: the refusals may come at once
	}
	for _, a := range batch {
		in.Send(a.To, a.Msg)
		a.Msg = nil // keep the record, not the payloads (megabytes per round under CKKS)
		in.sent = append(in.sent, a)
	}
	delete(in.updates, r-1)
	delete(in.partials, r-1)
	delete(in.reports, r-1)
	delete(in.globals, r)
}

// victim is the data owner the injector attacks: the first, which is
// never held at a gate.
var victim = actors.OwnerName(0)

// Handler returns a slog.Handler that passes every record to inner and
// tells the injector of every refusal (the parties log each as "message
// rejected"), so that it opens its Gate once the attacks are refused.
func (in *Injector) Handler(inner slog.Handler) slog.Handler {
	return &refusals{inner: inner, in: in}
}

type refusals struct {
	inner slog.Handler
	in    *Injector
}

func (h *refusals) Enabled(context.Context, slog.Level) bool { return true }

func (h *refusals) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "message rejected" {
		h.in.refused()
	}
	if !h.inner.Enabled(ctx, r.Level) {
		return nil
	}
	return h.inner.Handle(ctx, r)
}

func (h *refusals) WithAttrs(as []slog.Attr) slog.Handler {
	return &refusals{inner: h.inner.WithAttrs(as), in: h.in}
}

func (h *refusals) WithGroup(name string) slog.Handler {
	return &refusals{inner: h.inner.WithGroup(name), in: h.in}
}

// refused counts one refusal towards opening the gate.
func (in *Injector) refused() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.Gate == nil || in.pending <= 0 {
		return
	}
	if in.pending--; in.pending == 0 {
		in.Gate.Open()
	}
}

// Sent returns the attacks sent so far, without their messages.
func (in *Injector) Sent() []Attack {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.sent)
}

// Unanswered matches every attack with one rejection by its target with
// one of its reasons, and returns the problems: attacks that met none and
// rejections no attack explains (late stragglers aside).
func Unanswered(rounds []actors.RoundMetrics, attacks []Attack) []string {
	var got []*actors.Rejection
	for _, rm := range rounds {
		for _, r := range rm.Rejected {
			if r.Reason != actors.ReasonLate {
				got = append(got, r)
			}
		}
	}
	var problems []string
	for _, a := range attacks {
		i := slices.IndexFunc(got, func(r *actors.Rejection) bool {
			return r.Party == a.To && slices.Contains(a.Reasons, r.Reason)
		})
		if i < 0 {
			problems = append(problems, fmt.Sprintf("attack %s on %s: no rejection with reason %v", a.Name, a.To, a.Reasons))
			continue
		}
		got = slices.Delete(got, i, i+1)
	}
	for _, r := range got {
		problems = append(problems, fmt.Sprintf("unexplained rejection: %v", r))
	}
	return problems
}
