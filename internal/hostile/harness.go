package hostile

import (
	"fmt"
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
// scheme (reveal threshold t, 0 for the default), with the third owner
// slowed down by slow in round 2 so that attacks land while that round is
// open. It returns the scheme's configuration for NewKit.
func ToyFederation(scheme string, t int, slow time.Duration) (actors.Federation, crypto.Config, error) {
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
	late := &slowSource{Set: train, delay: slow}
	var owners []actors.Owner
	for i := range 3 {
		idx := make([]int, 30)
		for j := range idx {
			idx[j] = 30*i + j
		}
		o := actors.Owner{Name: actors.OwnerName(i), Data: train, Indices: idx}
		if i == 2 {
			o.Data = late
		}
		owners = append(owners, o)
	}
	f = actors.Federation{Scheme: s, Model: m, Owners: owners, Test: test, Rounds: 3, Cores: 3, Seed: 3,
		Train:    actors.TrainConfig{BatchSize: 8, LR: 0.05},
		Deadline: 5 * time.Second,
		OnRound:  func(rm actors.RoundMetrics) { late.armed.Store(rm.Round == 1) },
	}
	return f, cfg, nil
}

// slowSource is a data source whose first read after arming takes delay.
type slowSource struct {
	*dataset.Set
	delay time.Duration
	armed atomic.Bool
}

func (s *slowSource) Read(i int, dst []float32) int {
	if s.armed.CompareAndSwap(true, false) {
		time.Sleep(s.delay)
	}
	return s.Set.Read(i, dst)
}

// Injector attacks a running federation: set its Observe as the
// federation's Observe. Once a round's first update to the targeted secure
// worker and its sender's report are on their way, it sends every attack
// the kit makes from them and from the round before, through Send. The
// target is the secure worker that receives the first update of the run:
// the root, or in an aggregation tree a group's worker. Observe runs as
// the update is sent, so the attacks reach the secure worker first.
type Injector struct {
	Kit *Kit
	// EveryRound attacks every round from round 2 on; otherwise round 2 only.
	EveryRound bool
	// Send delivers an attack to the party called to.
	Send func(to string, msg proto.Message)

	mu       sync.Mutex
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
	case *actors.ProtectedUpdate:
		if in.target == "" && strings.HasPrefix(to, actors.SecureWorkerName) {
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
	for _, a := range batch {
		in.Send(a.To, a.Msg)
		a.Msg = nil // keep the record, not the payloads (megabytes per round under CKKS)
		in.sent = append(in.sent, a)
	}
	delete(in.updates, r-1)
	delete(in.partials, r-1)
	delete(in.reports, r-1)
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
