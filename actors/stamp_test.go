package actors

import (
	"context"
	"slices"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"
)

// TestEveryMessageIsStamped runs a federation of each message shape and
// checks that every message a party sends carries a stamp naming it, the
// same party its sender field names, if it has one.
func TestEveryMessageIsStamped(t *testing.T) {
	for _, scheme := range []string{"plain", "ss", "secagg", "ckks-threshold"} {
		t.Run(scheme, func(t *testing.T) {
			f := toyFederation(t, scheme)
			f.GroupSize = 2
			var mu sync.Mutex
			var bad []string
			parties := append(f.secureWorkers(), ModelOwnerName)
			for _, o := range f.Owners {
				parties = append(parties, o.Name)
			}
			f.Observe = func(to string, msg proto.Message) {
				from := msg.ProtoReflect().Get(msg.ProtoReflect().Descriptor().Fields().ByName("stamp")).Message().Interface().(*Stamp).GetFrom()
				if s := senderOf(msg); !slices.Contains(parties, from) || (s != "" && s != from) {
					mu.Lock()
					bad = append(bad, kindOf(msg)+" to "+to+" stamped from "+from+", sender "+s)
					mu.Unlock()
				}
			}
			if _, err := Run(context.Background(), f); err != nil {
				t.Fatal(err)
			}
			for _, b := range bad {
				t.Error(b)
			}
		})
	}
}

// TestWireSizeLeavesOutBookkeeping: a message's wire size is its size
// without its stamp and its spans, whatever their values.
func TestWireSizeLeavesOutBookkeeping(t *testing.T) {
	bare := &OwnerReport{Round: 3, Sender: "bob", TrainLoss: 0.5, BytesSent: 1 << 20}
	for _, m := range []*OwnerReport{
		proto.Clone(bare).(*OwnerReport),
		{Round: 3, Sender: "bob", TrainLoss: 0.5, BytesSent: 1 << 20, Stamp: &Stamp{From: "bob", SimNs: 1, UpBps: 1e6}},
		{Round: 3, Sender: "bob", TrainLoss: 0.5, BytesSent: 1 << 20, Stamp: &Stamp{From: "bob", SimNs: 1 << 50, UpBps: 3e9, LatencyNs: 40e6},
			Spans: []*Span{{Party: "bob", Step: "train", StartNs: 1 << 40, EndNs: 1 << 41}, {Party: "bob", Step: "upload", EndNs: 7}}},
	} {
		if got, want := wireSize(m), proto.Size(bare); got != want {
			t.Errorf("wire size %d, want %d (stamp %v, %d spans)", got, want, m.Stamp, len(m.Spans))
		}
	}
}
