package crypto

import (
	"fmt"
	"io"
	"time"
)

// Stats are the timings and traffic of one Run.
type Stats struct {
	// Setup is the whole key set-up: role construction and key generation.
	Setup time.Duration
	// Protect is the mean time of one data owner's Protect.
	Protect time.Duration
	// Combine is the time the secure worker spends combining the protected
	// updates (ss: the slowest holder).
	Combine time.Duration
	// RevealShare is the mean time of one active data owner's RevealShare.
	RevealShare time.Duration
	// Reveal is the secure worker's combining of reveal shares plus the
	// model owner's Reveal.
	Reveal time.Duration
	// BytesPerOwner is the mean number of payload bytes one data owner sends
	// per round (protected update plus reveal share).
	BytesPerOwner int
}

// Run drives the whole life of s in memory for len(updates) data owners,
// all of them active at reveal: it is the reference for the message flow the
// actor layer follows. It returns sum_k weights[k]*updates[k] and
// sum_k weights[k] as revealed at the model owner.
func Run(s Scheme, updates [][]float64, weights []float64, rand io.Reader) ([]float64, float64, Stats, error) {
	active := make([]int, len(updates))
	for i := range active {
		active[i] = i
	}
	return RunActive(s, updates, weights, active, rand)
}

// RunActive is Run in which only the data owners listed in active are
// available for the reveal step (all of them still contribute updates); with
// Flow.RevealShares the first Flow.Threshold of them answer.
func RunActive(s Scheme, updates [][]float64, weights []float64, active []int, rand io.Reader) (sum []float64, weight float64, st Stats, err error) {
	n := len(updates)
	if n == 0 || len(weights) != n {
		return nil, 0, st, fmt.Errorf("crypto: run %s: %d updates and %d weights", s.Name(), n, len(weights))
	}
	flow := s.Flow()
	bytesSent := 0

	// 1-2. Set-up.
	t0 := time.Now()
	rev, err := s.NewRevealer(rand)
	if err != nil {
		return nil, 0, st, fmt.Errorf("crypto: run %s: %w", s.Name(), err)
	}
	setup := rev.Setup()
	owners := make([]Protector, n)
	for i := range owners {
		if owners[i], err = s.NewProtector(i, setup, rand); err != nil {
			return nil, 0, st, fmt.Errorf("crypto: run %s: owner %d: %w", s.Name(), i, err)
		}
	}
	sw, err := s.NewCombiner(setup)
	if err != nil {
		return nil, 0, st, fmt.Errorf("crypto: run %s: secure worker: %w", s.Name(), err)
	}
	if flow.KeyGen {
		var keyAcc []byte
		for i, o := range owners {
			msgs, err := o.KeyShares()
			if err != nil {
				return nil, 0, st, fmt.Errorf("crypto: run %s: owner %d: %w", s.Name(), i, err)
			}
			for _, m := range msgs {
				if m.To == SecureWorker {
					if keyAcc, err = fold(sw, keyAcc, m.Payload); err != nil {
						return nil, 0, st, fmt.Errorf("crypto: run %s: key shares: %w", s.Name(), err)
					}
					continue
				}
				if err := owners[m.To].ReceiveSetup(Party(i), m.Payload); err != nil {
					return nil, 0, st, fmt.Errorf("crypto: run %s: owner %d: %w", s.Name(), m.To, err)
				}
			}
		}
		ck, err := sw.CollectiveKey(keyAcc)
		if err != nil {
			return nil, 0, st, fmt.Errorf("crypto: run %s: %w", s.Name(), err)
		}
		for i, o := range owners {
			if err := o.ReceiveSetup(SecureWorker, ck); err != nil {
				return nil, 0, st, fmt.Errorf("crypto: run %s: owner %d: %w", s.Name(), i, err)
			}
		}
	}
	st.Setup = time.Since(t0)

	// 3. Protect.
	inbox := map[Party][][]byte{}
	for i, o := range owners {
		t := time.Now()
		msgs, err := o.Protect(updates[i], weights[i])
		if err != nil {
			return nil, 0, st, fmt.Errorf("crypto: run %s: owner %d: %w", s.Name(), i, err)
		}
		st.Protect += time.Since(t)
		for _, m := range msgs {
			inbox[m.To] = append(inbox[m.To], m.Payload)
			if m.To != Party(i) {
				bytesSent += len(m.Payload)
			}
		}
	}
	st.Protect /= time.Duration(n)

	// 4. Holders combine; the secure worker's partial comes last.
	holders := []Party{SecureWorker}
	if flow.OwnersHold {
		holders = holders[:0]
		for i := range owners {
			holders = append(holders, Party(i))
		}
		holders = append(holders, SecureWorker)
	}
	partials := make([][]byte, 0, len(holders))
	for _, h := range holders {
		c := sw
		if h != SecureWorker {
			if c, err = s.NewCombiner(setup); err != nil {
				return nil, 0, st, fmt.Errorf("crypto: run %s: holder %v: %w", s.Name(), h, err)
			}
		}
		t := time.Now()
		var acc []byte
		for _, p := range inbox[h] {
			if acc, err = fold(c, acc, p); err != nil {
				return nil, 0, st, fmt.Errorf("crypto: run %s: holder %v: %w", s.Name(), h, err)
			}
		}
		st.Combine = max(st.Combine, time.Since(t))
		partials = append(partials, acc)
	}

	// 5-6. Reveal.
	var revealShare []byte
	if flow.RevealShares {
		if len(active) < flow.Threshold {
			return nil, 0, st, fmt.Errorf("crypto: run %s: %w: %d active owners, need %d", s.Name(), ErrTooFewShares, len(active), flow.Threshold)
		}
		active = active[:flow.Threshold]
		agg := partials[len(partials)-1]
		for _, a := range active {
			t := time.Now()
			share, err := owners[a].RevealShare(agg, active)
			if err != nil {
				return nil, 0, st, fmt.Errorf("crypto: run %s: owner %d: %w", s.Name(), a, err)
			}
			st.RevealShare += time.Since(t)
			bytesSent += len(share)
			t = time.Now()
			if revealShare, err = fold(sw, revealShare, share); err != nil {
				return nil, 0, st, fmt.Errorf("crypto: run %s: reveal shares: %w", s.Name(), err)
			}
			st.Reveal += time.Since(t)
		}
		st.RevealShare /= time.Duration(len(active))
	}
	t := time.Now()
	sum, weight, err = rev.Reveal(partials, revealShare)
	if err != nil {
		return nil, 0, st, fmt.Errorf("crypto: run %s: %w", s.Name(), err)
	}
	st.Reveal += time.Since(t)
	st.BytesPerOwner = bytesSent / n
	return sum, weight, st, nil
}

// fold returns p if acc is nil and c.Combine(acc, p) otherwise.
func fold(c Combiner, acc, p []byte) ([]byte, error) {
	if acc == nil {
		return p, nil
	}
	return c.Combine(acc, p)
}
