package actors

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/fedactor/fedactor/crypto"
)

// fakeContext is the part of actor.Context the parties use, for driving
// their Receive directly. Sends go nowhere.
type fakeContext struct {
	actor.Context
	msg any
}

func (c fakeContext) Message() any                               { return c.msg }
func (c fakeContext) Self() *actor.PID                           { return actor.NewPID("fuzz", "self") }
func (c fakeContext) Send(*actor.PID, any)                       {}
func (c fakeContext) Sender() *actor.PID                         { return nil }
func (c fakeContext) Respond(any)                                {}
func (c fakeContext) MessageHeader() actor.ReadonlyMessageHeader { return nil }

// messageKinds are fresh values of every message type, by selector.
var messageKinds = []func() proto.Message{
	func() proto.Message { return &Setup{} },
	func() proto.Message { return &KeyShare{} },
	func() proto.Message { return &CollectiveKey{} },
	func() proto.Message { return &Ready{} },
	func() proto.Message { return &RoundStart{} },
	func() proto.Message { return &GlobalModel{} },
	func() proto.Message { return &ProtectedUpdate{} },
	func() proto.Message { return &OwnerReport{} },
	func() proto.Message { return &CombineRequest{} },
	func() proto.Message { return &RevealRequest{} },
	func() proto.Message { return &RevealShare{} },
	func() proto.Message { return &Partial{} },
	func() proto.Message { return &Start{} },
	func() proto.Message { return &Stop{} },
	func() proto.Message { return &Rejection{} },
}

// fuzzFamilies are the schemes the party fuzzer drives, one per message
// shape: the common path, owners holding shares, a set-up key exchange
// with reveal shares, round keys with reveal shares, and single-key
// encryption.
var fuzzFamilies = []string{"plain", "ss", "ckks-threshold", "secagg", "ckks"}

// The parties a fuzzed message may go to.
const (
	toRoot       = iota // the secure worker of flat aggregation
	toModel             // the model owner
	toOwner             // bob: a share holder in ss
	toTreeRoot          // the root secure worker of a tree
	toGroup             // a tree's first group worker
	partyTargets        // how many there are
)

// fuzzParties are the parties of two toy federations (flat, and a tree of
// groups of 2) driven without an actor system into round 1.
type fuzzParties struct {
	targets [partyTargets]actor.Actor
	crashed error           // the model owner's crash, if it had one
	sent    []proto.Message // what the parties sent, by recipient's target
	sentTo  []int
}

// fuzzFederation returns the toy federation of scheme for fuzzing: cheap
// CKKS parameters and as many rounds as a fuzzer needs.
func fuzzFederation(t testing.TB, scheme string, group int) Federation {
	f := toyFederation(t, "plain")
	s, err := crypto.New(scheme, crypto.Config{Owners: 3, Len: f.Model.NumParams(), Params: "logN13", Threshold: 2})
	if err != nil && scheme != "ss-shamir" {
		s, err = crypto.New(scheme, crypto.Config{Owners: 3, Len: f.Model.NumParams(), Params: "logN13"})
	}
	if err != nil {
		t.Fatal(err)
	}
	f.Scheme, f.GroupSize, f.Rounds = s, group, 1<<20
	return f
}

// newFuzzParties builds fresh parties of scheme and drives them into
// round 1: set-up delivered, every Ready in, the round started, bob
// training.
func newFuzzParties(t testing.TB, scheme string) *fuzzParties {
	p := &fuzzParties{}
	var mu sync.Mutex
	for _, group := range []int{0, 2} {
		node, err := NewNode(fuzzFederation(t, scheme, group), func(string) *actor.PID { return nil })
		if err != nil {
			t.Fatal(err)
		}
		e := node.env
		e.fed.Observe = func(to string, m proto.Message) {
			target := map[string]int{SecureWorkerName: toRoot, ModelOwnerName: toModel, "bob": toOwner, GroupWorkerName(0): toGroup}[to]
			if group > 0 && target == toRoot {
				target = toTreeRoot
			}
			mu.Lock()
			p.sent, p.sentTo = append(p.sent, proto.Clone(m)), append(p.sentTo, target)
			mu.Unlock()
		}
		mo := newModelOwner(e, func(_ *Result, err error) {
			if errors.Is(err, errCrashed) {
				p.crashed = err
			}
		})
		root, owner := newSecureWorker(e), newDataOwner(e, 0)
		parties := []actor.Actor{root, mo, owner}
		if group > 0 {
			parties = append(parties, newGroupWorker(e, 0))
			p.targets[toTreeRoot], p.targets[toGroup] = root, parties[3]
		} else {
			p.targets[toRoot], p.targets[toModel], p.targets[toOwner] = root, mo, owner
		}
		deliver := func(a actor.Actor, m any) { a.Receive(fakeContext{msg: m}) }
		for _, a := range parties {
			deliver(a, &actor.Started{})
		}
		deliver(mo, &Start{})
		var setup *Setup
		for _, m := range p.sent {
			if s, ok := m.(*Setup); ok {
				setup = s
			}
		}
		if setup == nil {
			t.Fatalf("%s: the model owner sent no set-up", scheme)
		}
		for _, a := range parties {
			if a != mo {
				deliver(a, setup)
			}
		}
		for _, n := range node.Parties()[:len(node.Parties())-1] {
			deliver(mo, &Ready{Sender: n})
		}
		rs := &RoundStart{Round: 1, Owners: OwnerNames(3), DeadlineMs: 3_600_000}
		for _, a := range parties[:1] {
			deliver(a, rs)
		}
		if group > 0 {
			deliver(parties[3], rs)
		}
		deliver(owner, &GlobalModel{Round: 1, Weights: mo.global, Epochs: 1})
	}
	return p
}

// receive hands msg to target; a party that crashes fails the test, the
// model owner included (it turns a panic into the end of its run).
func (p *fuzzParties) receive(t *testing.T, target int, msg proto.Message) {
	t.Helper()
	p.targets[target].Receive(fakeContext{msg: msg})
	if p.crashed != nil {
		t.Fatalf("the model owner crashed on a %s: %v", kindOf(msg), p.crashed)
	}
}

// FuzzPartyMessages decodes arbitrary bytes as a message of every type
// and hands it, in round 1, to a party of every kind (flat and tree
// secure workers, the model owner, a data owner that holds shares) under
// every scheme family, built afresh for each input so that a failure
// replays from its input alone. No party may crash.
func FuzzPartyMessages(f *testing.F) {
	for family, scheme := range fuzzFamilies {
		p := newFuzzParties(f, scheme)
		seen := map[string]bool{}
		for i, m := range p.sent {
			b, err := proto.Marshal(m)
			if err != nil {
				f.Fatal(err)
			}
			key := fmt.Sprint(kindOf(m), p.sentTo[i])
			if seen[key] {
				continue // one seed per kind and target keeps the seed run short
			}
			seen[key] = true
			for k, kind := range messageKinds {
				if kind().ProtoReflect().Descriptor() == m.ProtoReflect().Descriptor() {
					f.Add(uint8(family), uint8(p.sentTo[i]), uint8(k), b)
				}
			}
		}
	}
	f.Add(uint8(0), uint8(toRoot), uint8(6), []byte{0x08, 0x01, 0x12, 0x03, 'b', 'o', 'b', 0x1a, 0x02, 'f', 'a'})
	f.Fuzz(func(t *testing.T, family, target, kind uint8, data []byte) {
		msg := messageKinds[int(kind)%len(messageKinds)]()
		if err := proto.Unmarshal(data, msg); err != nil {
			return // the transport refuses what does not decode
		}
		if _, stop := msg.(*Stop); stop {
			return
		}
		p := newFuzzParties(t, fuzzFamilies[int(family)%len(fuzzFamilies)])
		p.receive(t, int(target)%partyTargets, msg)
	})
}

// TestFuzzHarnessSeesCrashes makes sure the fuzzer can fail: a model
// owner that panics on a message ends its run with errCrashed, which the
// harness reports.
func TestFuzzHarnessSeesCrashes(t *testing.T) {
	p := newFuzzParties(t, "plain")
	mo := p.targets[toModel].(*modelOwner)
	mo.checker = nil // the next partial makes it call a nil interface
	mo.Receive(fakeContext{msg: &Partial{Round: 1, Holder: SecureWorkerName, Contributors: []string{"bob"}, Payload: []byte("x")}})
	if !errors.Is(p.crashed, errCrashed) {
		t.Fatalf("the harness did not see the model owner crash: %v", p.crashed)
	}
}

// FuzzCheckpoint feeds arbitrary bytes to the checkpoint reader: it must
// refuse what is not a valid checkpoint, never panic, and accept nothing
// that fails validation.
func FuzzCheckpoint(f *testing.F) {
	good := Checkpoint{Version: checkpointVersion, Run: "abc", Round: 1, Global: Floats{1, -2.5}, Rounds: []RoundMetrics{{Round: 1, TestAccuracy: 0.5}}}
	b, err := json.Marshal(good)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"version":1,"round":1,"global":"AAAA"}`))
	f.Add([]byte(`{`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "ckpt.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := LoadCheckpoint(path, 2)
		if err == nil && (len(c.Global) != 2 || len(c.Rounds) != c.Round) {
			t.Fatalf("accepted an invalid checkpoint: %+v", c)
		}
	})
}

// FuzzOwnerCheckpoint feeds arbitrary bytes to the reader of a data
// owner's checkpoint (its optimizer state, read on -resume): it must never
// panic, and what it accepts is a state of the run's optimizer size.
func FuzzOwnerCheckpoint(f *testing.F) {
	fed, err := toyFederation(f, "plain").withDefaults()
	if err != nil {
		f.Fatal(err)
	}
	fed.Checkpoint = f.TempDir()
	opt, _ := fed.Train.newOptimizer()
	state := opt.State(nil)
	if err := fed.saveOwnerState("bob", 1, state); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(fed.checkpointPath("bob"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"version":1,"run":"x","states":{"1":"AAAA"}}`))
	f.Add([]byte(`{"states":{"-1":""}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(fed.checkpointPath("bob"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := fed.loadOwnerState("bob", 5)
		if err != nil || st == nil {
			return
		}
		opt, _ := fed.Train.newOptimizer()
		if err := opt.SetState(st); err != nil && len(st) == len(state) {
			t.Fatalf("a state of the right size was refused: %v", err)
		}
	})
}
