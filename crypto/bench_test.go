package crypto

import (
	"crypto/rand"
	"fmt"
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
				if _, err := benchProtect(l.owners[0], ups[0], ws[0]); err != nil {
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
		if isHolding(s) {
			return // ss reveal needs every holder's partial; timed by experiments/crypto
		}
		agg, _ := l.sw.Combine(a, c)
		var share []byte
		if isRevealSharing(s) {
			for _, o := range l.owners {
				sh, _ := askRevealShare(o, agg, []int{0, 1}, []int{0, 1})
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

// benchProtect does Protect's work for p. secagg refuses a second Protect
// in one round, so for it the masking step is called directly.
func benchProtect(p Protector, update []float64, weight float64) ([]Message, error) {
	if sp, ok := p.(*SecAggProtector); ok {
		out, err := sp.mask(update, weight)
		return []Message{{To: SecureWorker, Payload: out}}, err
	}
	return p.Protect(update, weight)
}

// newLifeFull sets s up for its owners (and, with Flow.RoundKeys, starts
// a round) without protecting anything.
func newLifeFull(b *testing.B, s Scheme) *life {
	return newLifeOwners(b, s, 2)
}

// newLifeOwners is newLifeFull for n owners.
func newLifeOwners(b *testing.B, s Scheme, n int) *life {
	l := &life{s: s, payloads: map[kind][]byte{}}
	var err error
	if l.rev, err = s.NewRevealer(rand.Reader); err != nil {
		b.Fatal(err)
	}
	setup := l.rev.Setup()
	for i := 0; i < n; i++ {
		p, err := s.NewProtector(i, setup, rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		l.owners = append(l.owners, p)
	}
	if l.sw, err = s.NewCombiner(setup); err != nil {
		b.Fatal(err)
	}
	if isKeyGen(s) {
		if _, err := keyExchange(l.sw, l.owners, nil); err != nil {
			b.Fatal(err)
		}
	}
	return l
}

// BenchmarkDropoutSchemes times secagg (t = 6) and Shamir ss (t = 6 of 11
// holders) with 10 owners at the CNN's 30,514 parameters: protect (one
// data owner), combine2 (two updates), combine10 (the secure worker's whole
// aggregation), revealshare (one owner's answer, secagg) and reveal (the
// model owner). In secagg three owners drop out before sending, so reveal
// also rebuilds their keys and removes 21 pairwise masks.
func BenchmarkDropoutSchemes(b *testing.B) {
	for _, label := range []string{"secagg", "ss-shamir"} {
		b.Run(label, func(b *testing.B) { benchDropouts(b, label) })
	}
}

func benchDropouts(b *testing.B, label string) {
	const owners = 10
	cfg := Config{Owners: owners, Len: modelLen}
	if label == "ss-shamir" {
		cfg.Threshold = 6
	}
	s, err := New(label, cfg)
	if err != nil {
		b.Fatal(err)
	}
	l := newLifeOwners(b, s, owners)
	ups, ws := testUpdates(1, owners, modelLen)
	b.Run("protect", func(b *testing.B) {
		for b.Loop() {
			if _, err := benchProtect(l.owners[0], ups[0], ws[0]); err != nil {
				b.Fatal(err)
			}
		}
	})
	contributors := []int{0, 1, 2, 3, 4, 5, 6}
	if label == "ss-shamir" {
		contributors = append(contributors, 7, 8, 9)
	}
	inbox := map[Party][][]byte{}
	for _, i := range contributors {
		msgs, err := l.owners[i].Protect(ups[i], ws[i])
		if err != nil {
			b.Fatal(err)
		}
		for _, m := range msgs {
			inbox[m.To] = append(inbox[m.To], m.Payload)
		}
	}
	sw := inbox[SecureWorker]
	b.Run("combine2", func(b *testing.B) {
		for b.Loop() {
			if _, err := l.sw.Combine(sw[0], sw[1]); err != nil {
				b.Fatal(err)
			}
		}
	})
	var agg []byte
	b.Run("combine10", func(b *testing.B) {
		for b.Loop() {
			if agg, err = sumPayloads(l.sw, sw); err != nil {
				b.Fatal(err)
			}
		}
	})
	var partials [][]byte
	var share []byte
	if label == "ss-shamir" {
		for _, h := range []Party{0, 1, 2, 3, 4, SecureWorker} {
			p, err := sumPayloads(l.sw, inbox[h])
			if err != nil {
				b.Fatal(err)
			}
			partials = append(partials, p)
		}
	} else {
		partials = [][]byte{agg}
		b.Run("revealshare", func(b *testing.B) {
			for b.Loop() {
				if _, err := askRevealShare(l.owners[0], agg, contributors, contributors); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, i := range contributors[:quorum(s)] {
			sh, err := askRevealShare(l.owners[i], agg, contributors, contributors)
			if err != nil {
				b.Fatal(err)
			}
			if share, err = fold(l.sw, share, sh); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("reveal", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := l.rev.Reveal(partials, share); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSSCommittee times one data owner's Protect in additive ss with
// 1,000 owners at the CNN's 30,514 parameters, sharing among all of them
// and among a committee of 10. A holder's combine is the same in both
// (one seed expansion per contributor), but with a committee only 10
// owners hold, so a round's share work drops from N² to 10·N streams.
func BenchmarkSSCommittee(b *testing.B) {
	const owners = 1000
	ups, ws := testUpdates(1, 1, modelLen)
	for _, committee := range []int{0, 10} {
		b.Run(fmt.Sprintf("committee=%d/protect", committee), func(b *testing.B) {
			s, err := New("ss", Config{Owners: owners, Len: modelLen, Committee: committee})
			if err != nil {
				b.Fatal(err)
			}
			rev, err := s.NewRevealer(rand.Reader)
			if err != nil {
				b.Fatal(err)
			}
			p, err := s.NewProtector(owners-1, rev.Setup(), rand.Reader)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := p.Protect(ups[0], ws[0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
