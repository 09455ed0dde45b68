package crypto

import (
	"testing"
)

// fuzzUnmarshal feeds arbitrary bytes, as a payload of every kind, to every
// function that reads payloads of scheme name. It must never panic.
func fuzzUnmarshal(f *testing.F, name string) {
	cfg := smallConfigs()[name]
	cfg.Len = 10
	l := newLife(f, name, cfg)
	kinds := []kind{kindSetup, kindUpdate, kindKeyShare, kindPeerShare, kindCollectiveKey, kindRevealShare, kindSeedShare}
	for i, k := range kinds {
		if p, ok := l.payloads[k]; ok {
			f.Add(byte(i), p)
			f.Add(byte(i), p[:len(p)/2])
		}
	}
	f.Add(byte(0), []byte("fa"))
	f.Fuzz(func(t *testing.T, sel byte, data []byte) {
		k := kinds[int(sel)%len(kinds)]
		_ = l.consume(k, data) // consume turns a panic into an error
		if err := l.consume(k, data); err != nil && len(err.Error()) > 6 && err.Error()[:6] == "panic:" {
			t.Fatalf("%v payload: %v", k, err)
		}
		// The model owner's reader.
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("reveal panicked: %v", r)
				}
			}()
			_, _, _ = l.rev.Reveal([][]byte{data}, data)
			if share, ok := l.payloads[kindRevealShare]; ok {
				_, _, _ = l.rev.Reveal([][]byte{l.agg}, data)
				_, _, _ = l.rev.Reveal([][]byte{data}, share)
				_, _ = askRevealShare(l.owners[0], data, []int{0, 1, 2}, []int{0, 1})
			}
			if kc, ok := l.sw.(KeyCombiner); ok {
				_, _ = kc.CollectiveKey(data)
			}
		}()
	})
}

func FuzzUnmarshalPlain(f *testing.F)         { fuzzUnmarshal(f, "plain") }
func FuzzUnmarshalSS(f *testing.F)            { fuzzUnmarshal(f, "ss") }
func FuzzUnmarshalCKKS(f *testing.F)          { fuzzUnmarshal(f, "ckks") }
func FuzzUnmarshalThresholdCKKS(f *testing.F) { fuzzUnmarshal(f, "ckks-threshold") }
func FuzzUnmarshalPaillier(f *testing.F)      { fuzzUnmarshal(f, "paillier") }
func FuzzUnmarshalSecAgg(f *testing.F)        { fuzzUnmarshal(f, "secagg") }
func FuzzUnmarshalSSShamir(f *testing.F)      { fuzzUnmarshal(f, "ss-shamir") }
