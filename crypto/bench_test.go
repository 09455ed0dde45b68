package crypto

import (
	"crypto/rand"
	"testing"
)

// BenchmarkSchemes times protect (one data owner), combine (the secure
// worker adding two updates) and reveal (the model owner, two owners'
// aggregate) at the CNN's 30,514 parameters.
func BenchmarkSchemes(b *testing.B) {
	for _, name := range Names() {
		b.Run(name, func(b *testing.B) { benchScheme(b, name) })
	}
}

func benchScheme(b *testing.B, name string) {
	{
		s, err := New(name, Config{Owners: 2, Len: modelLen})
		if err != nil {
			b.Fatal(err)
		}
		l := newLifeFull(b, s)
		ups, ws := testUpdates(1, 2, modelLen)
		b.Run("protect", func(b *testing.B) {
			for b.Loop() {
				if _, err := l.owners[0].Protect(ups[0], ws[0]); err != nil {
					b.Fatal(err)
				}
			}
		})
		msgs0, _ := l.owners[0].Protect(ups[0], ws[0])
		msgs1, _ := l.owners[1].Protect(ups[1], ws[1])
		a, c := msgs0[len(msgs0)-1].Payload, msgs1[len(msgs1)-1].Payload
		b.Run("combine2", func(b *testing.B) {
			for b.Loop() {
				if _, err := l.sw.Combine(a, c); err != nil {
					b.Fatal(err)
				}
			}
		})
		if s.Flow().OwnersHold {
			return // ss reveal needs every holder's partial; timed by experiments/crypto
		}
		agg, _ := l.sw.Combine(a, c)
		var share []byte
		if s.Flow().RevealShares {
			for _, o := range l.owners {
				sh, _ := o.RevealShare(agg, []int{0, 1})
				share, _ = fold(l.sw, share, sh)
			}
		}
		b.Run("reveal", func(b *testing.B) {
			for b.Loop() {
				if _, _, err := l.rev.Reveal([][]byte{agg}, share); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// newLifeFull sets s up for its owners without protecting anything.
func newLifeFull(b *testing.B, s Scheme) *life {
	l := &life{s: s, payloads: map[kind][]byte{}}
	var err error
	if l.rev, err = s.NewRevealer(rand.Reader); err != nil {
		b.Fatal(err)
	}
	setup := l.rev.Setup()
	for i := 0; i < 2; i++ {
		p, err := s.NewProtector(i, setup, rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		l.owners = append(l.owners, p)
	}
	if l.sw, err = s.NewCombiner(setup); err != nil {
		b.Fatal(err)
	}
	if s.Flow().KeyGen {
		var acc []byte
		for _, o := range l.owners {
			msgs, _ := o.KeyShares()
			acc, _ = fold(l.sw, acc, msgs[0].Payload)
		}
		ck, err := l.sw.CollectiveKey(acc)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range l.owners {
			if err := o.ReceiveSetup(SecureWorker, ck); err != nil {
				b.Fatal(err)
			}
		}
	}
	return l
}
