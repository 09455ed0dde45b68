package actors

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/fedactor/fedactor/crypto"
	"github.com/fedactor/fedactor/internal/secrecy"
)

// secrecyCases are the federations whose holders must see no plaintext:
// every scheme that hides updates, the ss committee, and aggregation trees
// (whose group workers are holders too).
var secrecyCases = []struct {
	label, scheme string
	cfg           crypto.Config // Owners and Len are filled in
	group         int
}{
	{"ss", "ss", crypto.Config{}, 0},
	{"ss-committee", "ss", crypto.Config{Committee: 2}, 0},
	{"ss-shamir", "ss-shamir", crypto.Config{Threshold: 3}, 0},
	{"secagg", "secagg", crypto.Config{}, 0},
	{"ckks", "ckks", crypto.Config{}, 0},
	{"ckks-threshold", "ckks-threshold", crypto.Config{Threshold: 3}, 0},
	{"paillier", "paillier", crypto.Config{}, 0},
	{"ss/tree", "ss", crypto.Config{}, 2},
	{"secagg/tree", "secagg", crypto.Config{}, 2},
	{"ckks/tree", "ckks", crypto.Config{}, 2},
}

// secrecyWindow is how many consecutive values of an update the detector
// looks for: the toy model has 51 parameters, so a holder that keeps any 4
// of one owner's values in a row, in any encoding, is caught.
const secrecyWindow = 4

// recorded is every message sent in a run, by recipient, and every owner's
// plaintext update (weighted and not) as it went into Protect.
type recorded struct {
	mu       sync.Mutex
	received map[string][]proto.Message
	secrets  map[string][][]float64
}

func (r *recorded) observe(to string, msg proto.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.received[to] = append(r.received[to], proto.Clone(msg))
}

func (r *recorded) protecting(owner string, update []float64, weight float64) {
	weighted := make([]float64, len(update), len(update)+1)
	for i, x := range update {
		weighted[i] = weight * x
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets[owner] = append(r.secrets[owner], slices.Clone(update), append(weighted, weight))
}

// secrecyRun runs a federation of 4 owners under scheme with cfg and
// returns what it recorded, the local host (whose node holds the
// parties' actors) and the federation.
func secrecyRun(t *testing.T, scheme string, cfg crypto.Config, group int) (*recorded, *Local, Federation) {
	t.Helper()
	f := toyFederationN(t, "plain", 4, 0)
	cfg.Owners, cfg.Len, cfg.MaxNorm = 4, f.Model.NumParams(), 1e4
	s, err := crypto.New(scheme, cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.Scheme, f.GroupSize, f.Deadline = s, group, DefaultDeadline
	rec := &recorded{received: map[string][]proto.Message{}, secrets: map[string][][]float64{}}
	f.Observe, f.protecting = rec.observe, rec.protecting
	var l Local
	res, err := l.Run(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	for _, rm := range res.Rounds {
		if rm.Err != "" || len(rm.Contributors) != 4 {
			t.Fatalf("round %d: err %q, contributors %v", rm.Round, rm.Err, rm.Contributors)
		}
	}
	return rec, &l, f
}

// holders are the parties of f that hold protected values: the root, the
// group workers and, in Holding schemes, the holding data owners. Every
// data owner is checked too, for what it receives from the others.
func holders(f Federation) []string {
	names := f.secureWorkers()
	for _, o := range f.Owners {
		names = append(names, o.Name)
	}
	return names
}

// leaks returns, for holder h, the secrets of other owners found in what
// h received (in every message, whole) and what its actor keeps (its own
// fields; env, which all parties of one process share, is left out).
func leaks(s crypto.Scheme, rec *recorded, h string, keeps any) []string {
	var secrets []secrecy.Secret
	for owner, vs := range rec.secrets {
		if owner == h {
			continue // an owner may hold its own update
		}
		for i, v := range vs {
			for _, form := range crypto.PlaintextForms(s, v) {
				secrets = append(secrets, secrecy.Secret{Name: fmt.Sprintf("%s's update %d as %s", owner, i, form.Name), Width: form.Width, Bytes: form.Bytes})
			}
		}
	}
	d := secrecy.NewDetector(secrecyWindow, secrets...)
	var found []string
	for _, msg := range rec.received[h] {
		raw, _ := proto.Marshal(msg)
		if name := d.Find(raw); name != "" {
			found = append(found, fmt.Sprintf("%s received a %s holding %s", h, kindOf(msg), name))
		}
	}
	if keeps != nil {
		if name := d.FindAny(secrecy.Blobs(keeps, "env")); name != "" {
			found = append(found, fmt.Sprintf("%s keeps %s", h, name))
		}
	}
	return found
}

// TestHoldersSeeNoPlaintext runs every scheme that hides updates (flat,
// with a committee, and through aggregation trees) and searches what
// every holder received and keeps for any 4 consecutive values of any
// other owner's update, weighted or not, in every encoding the schemes
// use (float64, float32, fixed point in Z/2^64 and GF(2^61-1), Paillier's
// packing). The updates are the ones the owners actually protected.
func TestHoldersSeeNoPlaintext(t *testing.T) {
	for _, c := range secrecyCases {
		t.Run(c.label, func(t *testing.T) {
			t.Parallel()
			rec, l, f := secrecyRun(t, c.scheme, c.cfg, c.group)
			if n := len(rec.secrets); n != 4 {
				t.Fatalf("recorded the updates of %d owners, want 4", n)
			}
			for _, h := range holders(f) {
				if l.node.party(h) == nil {
					t.Fatalf("no actor for %s", h)
				}
				for _, p := range leaks(f.Scheme, rec, h, l.node.party(h)) {
					t.Error(p)
				}
			}
		})
	}
}

// TestSecrecyDetectorCatchesPlantedPlaintext is the positive control of
// the test above, for every case and every encoding: a message holding
// four values of an owner's update in that encoding, planted among what
// each holder received, is found; and so is the update planted in the
// state the secure worker keeps.
func TestSecrecyDetectorCatchesPlantedPlaintext(t *testing.T) {
	for _, c := range secrecyCases {
		t.Run(c.label, func(t *testing.T) {
			t.Parallel()
			rec, _, f := secrecyRun(t, c.scheme, c.cfg, c.group)
			v := rec.secrets["bob"][1] // the weighted update
			for _, form := range crypto.PlaintextForms(f.Scheme, v) {
				part := form.Bytes
				if form.Width > 0 {
					part = form.Bytes[8*form.Width : (8+secrecyWindow)*form.Width]
				}
				for _, h := range holders(f) {
					if h == "bob" {
						continue
					}
					planted := &recorded{received: map[string][]proto.Message{
						h: append(slices.Clone(rec.received[h]), &ProtectedUpdate{Sender: "mallory", Payload: append([]byte("header"), part...)}),
					}, secrets: rec.secrets}
					if len(leaks(f.Scheme, planted, h, nil)) == 0 {
						t.Errorf("%s planted in what %s received was not found", form.Name, h)
					}
				}
				kept := &secureWorker{col: collection{acc: append([]byte{1, 2, 3}, part...)}}
				if len(leaks(f.Scheme, rec, SecureWorkerName, kept)) == 0 {
					t.Errorf("%s planted in the secure worker's aggregate was not found", form.Name)
				}
			}
		})
	}
}

// TestPlaintextDetectorWorks makes sure the check can fail on a live run:
// with the trusted aggregator, the secure worker does see the updates.
func TestPlaintextDetectorWorks(t *testing.T) {
	rec, l, f := secrecyRun(t, "plain", crypto.Config{}, 0)
	if len(leaks(f.Scheme, rec, SecureWorkerName, l.node.party(SecureWorkerName))) == 0 {
		t.Fatal("plaintext parameters not detected in the trusted aggregator's input")
	}
}

// TestSecureWorkerTakesOnlyItsKinds checks that in every scheme but the
// trusted aggregator the secure worker receives only the message kinds of
// its role, and every protected update of every round.
func TestSecureWorkerTakesOnlyItsKinds(t *testing.T) {
	allowed := []string{"Setup", "KeyShare", "RoundStart", "ProtectedUpdate", "Partial", "RevealShare", "Stop"}
	for _, c := range secrecyCases {
		if c.group > 0 {
			continue // TestTreeMatchesFlat checks the kinds of trees
		}
		t.Run(c.label, func(t *testing.T) {
			t.Parallel()
			rec, _, f := secrecyRun(t, c.scheme, c.cfg, c.group)
			updates := 0
			for _, msg := range rec.received[SecureWorkerName] {
				if !slices.Contains(allowed, kindOf(msg)) {
					t.Errorf("secure worker received a %s", kindOf(msg))
				}
				if _, ok := msg.(*ProtectedUpdate); ok {
					updates++
				}
			}
			if got := updates; got != 4*f.Rounds {
				t.Errorf("secure worker got %d protected updates, want %d", got, 4*f.Rounds)
			}
		})
	}
}
