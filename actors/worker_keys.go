package actors

import (
	"errors"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/fedactor/fedactor/actors/sim"
	"github.com/fedactor/fedactor/crypto"
)

// The secure worker's part in a KeyGen scheme's key exchange
// (crypto.KeyGen): once at set-up (ckks-threshold), then it reports
// Ready; or at the start of every round among the round's owners
// (secagg), then it collects the updates of the owners it keyed.
//
//	data owner    --KeyShare------> secure worker
//	secure worker --CollectiveKey--> every data owner whose share it took

// workerKeys is the state of the secure worker's key exchange.
type workerKeys struct {
	everyRound bool
	acc        []byte
	from       map[string]bool // owners whose key share is in acc
	done       bool            // the set-up exchange is over
	// due is the simulated instant after which a round's key share is
	// late (0: no such deadline), in the simulated arrivals of the shares.
	due time.Duration
	in  []time.Duration
}

// startKeys opens a key exchange: at set-up (round 0) until every owner's
// share is in, in a round until the round's owners' are or a grace period
// passes.
func (w *secureWorker) startKeys(ctx actor.Context) error {
	k := w.keys
	k.acc, k.from, k.due, k.in = nil, map[string]bool{}, 0, nil
	w.behavior.Become(w.keying)
	if k.everyRound {
		wait := min(w.fed.grace(), w.deadline)
		if w.simulated() {
			k.due = w.started.sim + wait
		}
		w.phaseTimer(ctx, wait, k.due, "keying")
	}
	return nil
}

// keying takes the owners' key shares.
func (w *secureWorker) keying(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *KeyShare:
		w.refuse(ctx, w.keyShare(ctx, m))
	case *ProtectedUpdate:
		if err := w.checkUpdate(m); err != nil {
			w.refuse(ctx, err)
		} else {
			w.refuse(ctx, reject(ReasonUnexpected, "update from %s before the round's keys", m.Sender))
		}
	case *phaseDeadline:
		if w.current(m, "keying") {
			w.timedOut()
			w.closeKeys(ctx)
		}
	default:
		w.anyPhase(ctx)
	}
}

// checkKeyShare validates an owner's key share for the exchange under way.
func (w *secureWorker) checkKeyShare(m *KeyShare) error {
	k := w.keys
	switch {
	case k == nil:
		return reject(ReasonUnexpected, "key share from %s: %s makes no keys", m.Sender, w.fed.Scheme.Name())
	case w.fed.ownerIndex(m.Sender) < 0:
		return reject(ReasonUnknownSender, "key share from unknown sender %q", m.Sender)
	case m.Round != w.col.round:
		return roundCheck("key share", m.Round, w.col.round)
	case k.everyRound && !slices.Contains(w.col.expected, m.Sender):
		return reject(ReasonUnknownSender, "key share from %s, not a participant of round %d", m.Sender, m.Round)
	case k.from[m.Sender]:
		return reject(ReasonDuplicate, "duplicate key share from %s", m.Sender)
	}
	return nil
}

// keyShare folds one owner's key share; with all of them in, it sends the
// collective key.
func (w *secureWorker) keyShare(ctx actor.Context, m *KeyShare) error {
	if err := w.checkKeyShare(m); err != nil {
		return err
	}
	k := w.keys
	want := len(w.fed.Owners)
	if k.everyRound {
		want = len(w.col.expected)
	}
	arrival := w.arrival(m, want)
	if k.due > 0 && arrival > k.due {
		return reject(ReasonLate, "key share from %s arrived at %v, after the key step's deadline (simulated)", m.Sender, arrival)
	}
	acc, err := fold(w.combiner, k.acc, m.Payload)
	if err != nil {
		return err
	}
	k.acc, k.from[m.Sender] = acc, true
	k.in = append(k.in, arrival)
	if len(k.from) == want {
		w.closeKeys(ctx)
	}
	return nil
}

// outOfKeying refuses a key share outside a key exchange.
func (w *secureWorker) outOfKeying(m *KeyShare) error {
	if err := w.checkKeyShare(m); err != nil {
		return err
	}
	return reject(ReasonLate, "key share from %s after the key step closed", m.Sender)
}

// closeKeys turns the key shares into the collective key and sends it to
// the owners that took part: at set-up it then reports readiness; in a
// round those owners are the ones whose updates it collects.
func (w *secureWorker) closeKeys(ctx actor.Context) {
	w.stopTimer()
	k := w.keys
	if len(k.in) > 0 {
		w.wait(slices.Max(k.in)) // the last share in (a deadline already moved the clock)
	}
	var keyed []string
	for _, o := range w.fed.Owners {
		if k.from[o.Name] {
			keyed = append(keyed, o.Name)
		}
	}
	var ck []byte
	err := errors.New("no data owner sent a key share")
	if len(keyed) > 0 {
		ck, err = w.combiner.(crypto.KeyCombiner).CollectiveKey(k.acc)
		w.spans = append(w.spans, w.work("collective key", w.step(sim.OpCollectiveKey, len(keyed))))
	}
	k.acc, k.from = nil, nil
	round := w.col.round
	if !k.everyRound {
		w.behavior.Become(w.idle)
		if err == nil {
			k.done = true
			w.broadcast(ctx, keyed, &CollectiveKey{Payload: ck})
		}
		_ = w.ready(ctx, err)
		return
	}
	if err != nil {
		w.partial = w.col.close(SecureWorkerName) // every owner late
		w.partial.Error = "round keys: " + err.Error()
		w.forward(ctx)
		return
	}
	w.col.keyed = keyed
	w.broadcast(ctx, keyed, &CollectiveKey{Payload: ck, Round: round})
	w.collect(ctx)
}
