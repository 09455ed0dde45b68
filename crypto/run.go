package crypto

import (
	"fmt"
	"io"
	"time"
)

// Stats are the timings and traffic of one Run.
type Stats struct {
	// Setup is the whole key set-up: role construction and key generation
	// (for KeyGen schemes with KeysEveryRound, the round's key exchange too).
	Setup time.Duration
	// Protect is the mean time of one data owner's Protect.
	Protect time.Duration
	// Combine is the time the secure worker spends combining the protected
	// updates (ss: the slowest holder).
	Combine time.Duration
	// RevealShare is the mean time of one answering data owner's RevealShare.
	RevealShare time.Duration
	// Reveal is the secure worker's combining of reveal shares plus the
	// model owner's Reveal.
	Reveal time.Duration
	// KeyShare is the mean time of one data owner's KeyShares, and
	// CollectiveKey the secure worker's folding of the key shares and
	// CollectiveKey, in KeyGen schemes.
	KeyShare, CollectiveKey time.Duration
	// BytesPerOwner is the mean number of payload bytes one contributing
	// data owner sends per round (protected update, reveal share and, with
	// KeysEveryRound, the round's key messages), excluding messages to
	// itself.
	BytesPerOwner int
}

// Run drives the whole life of s in memory for len(updates) data owners,
// none of them dropping out: it is the reference for the message flow the
// actor layer follows. It returns sum_k weights[k]*updates[k] and
// sum_k weights[k] as revealed at the model owner.
func Run(s Scheme, updates [][]float64, weights []float64, rand io.Reader) ([]float64, float64, Stats, error) {
	return RunDropouts(s, updates, weights, Dropouts{}, rand)
}

// Dropouts lists data owners that go silent during a round. Every data
// owner takes part in the set-up and, with KeysEveryRound, in the round's
// key exchange.
type Dropouts struct {
	// Before are owners silent from before sending their protected update:
	// they contribute nothing and act in no later step.
	Before []int
	// After are owners that sent their protected update but are silent from
	// then on: they do not combine as holders or send reveal shares.
	After []int
}

// RunDropouts is Run in which the owners in d drop out. In a Holding
// scheme the silent holders send no partials and the model owner gets the
// others'; in a RevealSharing scheme without a fixed quorum every
// contributor is asked and the first threshold answers are forwarded, and
// with a fixed quorum the first threshold non-silent owners are the active
// set (ErrTooFewShares if there are fewer). It
// returns the weighted sum and total weight of the contributors (the
// owners not in d.Before) as revealed at the model owner.
func RunDropouts(s Scheme, updates [][]float64, weights []float64, d Dropouts, rand io.Reader) (sum []float64, weight float64, st Stats, err error) {
	n := len(updates)
	if n == 0 || len(weights) != n {
		return nil, 0, st, fmt.Errorf("crypto: run %s: %d updates and %d weights", s.Name(), n, len(weights))
	}
	before, after := make([]bool, n), make([]bool, n)
	for _, l := range []struct {
		list []int
		set  []bool
	}{{d.Before, before}, {d.After, after}} {
		for _, i := range l.list {
			if i < 0 || i >= n || before[i] || after[i] {
				return nil, 0, st, fmt.Errorf("crypto: run %s: dropouts %+v: owner %d out of range or listed twice", s.Name(), d, i)
			}
			l.set[i] = true
		}
	}
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
	if kg, ok := s.(KeyGen); ok {
		sent, err := keyExchange(sw, owners, &st)
		if err != nil {
			return nil, 0, st, fmt.Errorf("crypto: run %s: keys: %w", s.Name(), err)
		}
		if kg.KeysEveryRound() { // the round's exchange: part of what owners send
			bytesSent = sent
		}
	}
	st.Setup = time.Since(t0)

	// 3. Protect.
	inbox := map[Party][][]byte{}
	var contributors []int
	for i, o := range owners {
		if before[i] {
			continue
		}
		contributors = append(contributors, i)
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
	if len(contributors) == 0 {
		return nil, 0, st, fmt.Errorf("crypto: run %s: %w: every owner dropped out", s.Name(), ErrTooFewShares)
	}
	st.Protect /= time.Duration(len(contributors))

	// 4. Non-silent holders combine, checking the first update as the
	// actor layer does; the secure worker's partial comes last.
	silent := func(i int) bool { return before[i] || after[i] }
	holders := []Party{SecureWorker}
	if k, _ := HoldingOwners(s); k > 0 {
		holders = holders[:0]
		for i := range k {
			if !silent(i) {
				holders = append(holders, Party(i))
			}
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
			if acc == nil {
				if err := c.Check(p, 1); err != nil {
					return nil, 0, st, fmt.Errorf("crypto: run %s: holder %v: %w", s.Name(), h, err)
				}
			}
			if acc, err = fold(c, acc, p); err != nil {
				return nil, 0, st, fmt.Errorf("crypto: run %s: holder %v: %w", s.Name(), h, err)
			}
		}
		st.Combine = max(st.Combine, time.Since(t))
		if acc != nil {
			partials = append(partials, acc)
		}
	}

	// 5-6. Reveal.
	var revealShare []byte
	if rs, ok := s.(RevealSharing); ok {
		threshold, fixed := rs.Quorum()
		asked := contributors
		if fixed {
			asked = nil
			for i := range owners {
				if !silent(i) {
					asked = append(asked, i)
				}
			}
			if len(asked) < threshold {
				return nil, 0, st, fmt.Errorf("crypto: run %s: %w: %d owners can answer, need %d", s.Name(), ErrTooFewShares, len(asked), threshold)
			}
			asked = asked[:threshold]
		}
		agg := partials[len(partials)-1]
		answered := 0
		for _, a := range asked {
			if silent(a) {
				continue
			}
			if !fixed && answered == threshold {
				break
			}
			t := time.Now()
			share, err := owners[a].(RevealSharer).RevealShare(agg, contributors, asked)
			if err != nil {
				return nil, 0, st, fmt.Errorf("crypto: run %s: owner %d: %w", s.Name(), a, err)
			}
			st.RevealShare += time.Since(t)
			answered++
			bytesSent += len(share)
			t = time.Now()
			if revealShare, err = fold(sw, revealShare, share); err != nil {
				return nil, 0, st, fmt.Errorf("crypto: run %s: reveal shares: %w", s.Name(), err)
			}
			st.Reveal += time.Since(t)
		}
		if answered > 0 {
			st.RevealShare /= time.Duration(answered)
		}
	}
	t := time.Now()
	sum, weight, err = rev.Reveal(partials, revealShare)
	if err != nil {
		return nil, 0, st, fmt.Errorf("crypto: run %s: %w", s.Name(), err)
	}
	st.Reveal += time.Since(t)
	st.BytesPerOwner = bytesSent / len(contributors)
	return sum, weight, st, nil
}

// keyExchange runs a KeyGen exchange among owners: key shares to the
// secure worker, peer shares to their addressees, the collective key back
// to every owner, after which each must be complete. It returns the bytes
// the owners sent, and records the steps' times in st if it is not nil.
func keyExchange(sw Combiner, owners []Protector, st *Stats) (sent int, err error) {
	var keyShares, collective time.Duration
	var keyAcc []byte
	type peerMsg struct {
		from Party
		m    Message
	}
	var peers []peerMsg
	for i, o := range owners {
		t := time.Now()
		msgs, err := o.(KeyExchanger).KeyShares()
		keyShares += time.Since(t)
		if err != nil {
			return 0, fmt.Errorf("owner %d: %w", i, err)
		}
		for _, m := range msgs {
			sent += len(m.Payload)
			if m.To == SecureWorker {
				t := time.Now()
				keyAcc, err = fold(sw, keyAcc, m.Payload)
				collective += time.Since(t)
				if err != nil {
					return 0, fmt.Errorf("key shares: %w", err)
				}
				continue
			}
			if int(m.To) < 0 || int(m.To) >= len(owners) {
				return 0, fmt.Errorf("owner %d: message to unknown party %v", i, m.To)
			}
			peers = append(peers, peerMsg{Party(i), m})
		}
	}
	// Every owner has started its exchange before any peer message arrives.
	for _, p := range peers {
		if _, err := owners[p.m.To].(KeyExchanger).ReceiveKey(p.from, p.m.Payload); err != nil {
			return 0, fmt.Errorf("owner %d: %w", p.m.To, err)
		}
	}
	t := time.Now()
	ck, err := sw.(KeyCombiner).CollectiveKey(keyAcc)
	collective += time.Since(t)
	if err != nil {
		return 0, err
	}
	if st != nil {
		st.KeyShare, st.CollectiveKey = keyShares/time.Duration(len(owners)), collective
	}
	for i, o := range owners {
		complete, err := o.(KeyExchanger).ReceiveKey(SecureWorker, ck)
		if err != nil {
			return 0, fmt.Errorf("owner %d: %w", i, err)
		}
		if !complete {
			return 0, fmt.Errorf("owner %d: keys incomplete after the exchange", i)
		}
	}
	return sent, nil
}

// fold returns p if acc is nil and c.Combine(acc, p) otherwise.
func fold(c Combiner, acc, p []byte) ([]byte, error) {
	if acc == nil {
		return p, nil
	}
	return c.Combine(acc, p)
}
