package actors

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"
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

// fuzzParties is a secure worker, a model owner and a data owner of a toy
// federation, set up and in round 1, driven without an actor system.
type fuzzParties struct {
	targets []actor.Actor
	honest  []proto.Message
}

// fuzzNode returns fed's node, with no peers and as many rounds as a
// fuzzer needs, and the messages its parties will send, as they send them.
func fuzzNode(f *testing.F, fed Federation) (*Node, *[]proto.Message) {
	fed.Rounds = 1 << 20
	node, err := NewNode(fed, func(string) *actor.PID { return nil })
	if err != nil {
		f.Fatal(err)
	}
	var honest []proto.Message
	node.fed.Observe = func(_ string, m proto.Message) { honest = append(honest, proto.Clone(m)) }
	return node, &honest
}

func newFuzzParties(f *testing.F, scheme string) *fuzzParties {
	node, sent := fuzzNode(f, toyFederation(f, scheme))
	e := node.env
	w := newSecureWorker(e)
	mo := &modelOwner{env: e, done: func(*Result, error) {}}
	o := newDataOwner(e, 0)
	deliver := func(a actor.Actor, m any) { a.Receive(fakeContext{msg: m}) }
	for _, a := range []actor.Actor{w, mo, o} {
		deliver(a, &actor.Started{})
	}
	deliver(mo, &Start{})
	setup := (*sent)[0].(*Setup)
	deliver(w, setup)
	deliver(o, setup)
	for _, n := range node.Parties()[:len(node.fed.Owners)+1] {
		deliver(mo, &Ready{Sender: n})
	}
	deliver(w, &RoundStart{Round: 1, Owners: OwnerNames(3), DeadlineMs: 3_600_000})
	deliver(o, &GlobalModel{Round: 1, Weights: mo.global, Epochs: 1})
	return &fuzzParties{targets: []actor.Actor{w, mo, o}, honest: *sent}
}

// addSeeds adds each of msgs, marshalled, to f's corpus once for each of
// the first targets targets: the selector byte is its kind's index in
// messageKinds plus len(messageKinds) times the target's.
func addSeeds(f *testing.F, msgs []proto.Message, targets int) {
	for _, m := range msgs {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		for i, k := range messageKinds {
			if k().ProtoReflect().Descriptor() == m.ProtoReflect().Descriptor() {
				for t := range targets {
					f.Add(byte(i+t*len(messageKinds)), b)
				}
			}
		}
	}
}

// FuzzPartyMessages decodes arbitrary bytes as every message type and
// hands the result to the secure worker, the model owner and a data
// owner in the middle of a round. Nothing may panic.
func FuzzPartyMessages(f *testing.F) {
	p := newFuzzParties(f, "ckks")
	addSeeds(f, p.honest, 1)
	f.Add(byte(6), []byte{0x08, 0x01, 0x12, 0x03, 'b', 'o', 'b', 0x1a, 0x02, 'f', 'a'})
	f.Fuzz(func(t *testing.T, sel byte, data []byte) {
		msg := messageKinds[int(sel)%len(messageKinds)]()
		if err := proto.Unmarshal(data, msg); err != nil {
			return // the transport refuses what does not decode
		}
		target := p.targets[int(sel)/len(messageKinds)%len(p.targets)]
		if _, stop := msg.(*Stop); stop {
			return
		}
		target.Receive(fakeContext{msg: msg})
	})
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
