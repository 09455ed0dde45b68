package actors

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/proto"
)

// TestSecureWorkerSeesNoPlaintext records every message the secure worker
// receives and checks that, in every scheme but the trusted aggregator, it
// only gets the message kinds of its role and that no payload contains an
// owner's trained parameters in the clear (as float64 or float32).
func TestSecureWorkerSeesNoPlaintext(t *testing.T) {
	allowed := map[string]bool{"Setup": true, "KeyShare": true, "RoundStart": true, "ProtectedUpdate": true, "RevealShare": true, "Stop": true}
	for _, scheme := range []string{"ss", "ckks", "ckks-threshold", "paillier"} {
		t.Run(scheme, func(t *testing.T) {
			f := toyFederation(t, scheme)
			var mu sync.Mutex
			var toWorker []proto.Message
			f.Observe = func(to string, msg proto.Message) {
				if to == SecureWorkerName {
					mu.Lock()
					toWorker = append(toWorker, msg)
					mu.Unlock()
				}
			}
			if _, err := Run(context.Background(), f); err != nil {
				t.Fatal(err)
			}
			// The owners' trained parameters of both rounds, recomputed.
			var secrets [][]byte
			for round := 1; round <= f.Rounds; round++ {
				g := f
				g.Rounds = round
				for _, p := range ownerParams(t, g) {
					secrets = append(secrets, encodings(p)...)
				}
			}
			kinds := map[string]int{}
			for _, msg := range toWorker {
				kind := string(msg.ProtoReflect().Descriptor().Name())
				kinds[kind]++
				if !allowed[kind] {
					t.Errorf("secure worker received a %s", kind)
				}
				raw, _ := proto.Marshal(msg)
				for _, s := range secrets {
					if bytes.Contains(raw, s) {
						t.Fatalf("a %s to the secure worker contains an owner's parameters in the clear", kind)
					}
				}
			}
			if kinds["ProtectedUpdate"] != 3*f.Rounds {
				t.Errorf("secure worker got %d protected updates, want %d", kinds["ProtectedUpdate"], 3*f.Rounds)
			}
		})
	}
}

// TestPlaintextDetectorWorks makes sure the check above can fail: with the
// trusted aggregator, the secure worker does see the parameters.
func TestPlaintextDetectorWorks(t *testing.T) {
	f := toyFederation(t, "plain")
	var found atomic.Bool
	secrets := map[string]bool{}
	f.Rounds = 1
	for _, p := range ownerParams(t, f) {
		for _, e := range encodings(p) {
			secrets[string(e)] = true
		}
	}
	f.Observe = func(to string, msg proto.Message) {
		raw, _ := proto.Marshal(msg)
		for s := range secrets {
			if to == SecureWorkerName && bytes.Contains(raw, []byte(s)) {
				found.Store(true)
			}
		}
	}
	if _, err := Run(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	if !found.Load() {
		t.Fatal("plaintext parameters not detected in the trusted aggregator's input")
	}
}

// ownerParams returns every owner's parameters after the last round of f,
// trained exactly as the actors train them, and the same weighted by the
// owner's sample count (what FedAvg protects).
func ownerParams(t *testing.T, f Federation) [][]float64 {
	t.Helper()
	prev := f
	prev.Rounds = f.Rounds - 1
	st := directFedAvgState(t, prev)
	var out [][]float64
	for i, o := range st.owners {
		if err := o.m.SetParams(st.global); err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(f.Seed, uint64(i+1)<<32|uint64(f.Rounds)))
		if _, err := o.trainer().TrainEpoch(f.Owners[i].Data, f.Owners[i].Indices, rng); err != nil {
			t.Fatal(err)
		}
		p := o.m.Params(nil)
		weighted := make([]float64, len(p))
		for j, v := range p {
			weighted[j] = float64(len(f.Owners[i].Indices)) * v
		}
		out = append(out, p, weighted)
	}
	return out
}

// encodings returns the first four values of p as little-endian float64
// and float32 bytes.
func encodings(p []float64) [][]byte {
	var b64, b32 []byte
	for _, v := range p[:4] {
		b64 = binary.LittleEndian.AppendUint64(b64, math.Float64bits(v))
		b32 = binary.LittleEndian.AppendUint32(b32, math.Float32bits(float32(v)))
	}
	return [][]byte{b64, b32}
}
