// Package hostile builds broken and malicious messages for the parties of
// a federation: payloads that do not decode, vectors of the wrong length,
// ciphertexts under other parameters or keys, replays, rounds from the
// future, duplicates, unknown senders, and, for plain, NaN, Inf and
// absurd norms, and, for a data owner, stale, malformed or repeated global
// models, set-ups and requests. Tests and the soak run send them to the
// secure worker (a group's, in an aggregation tree), the model owner and a
// data owner, which must refuse every one and go on.
package hostile

import (
	"crypto/rand"
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/crypto"
)

// Attack is one hostile message and the refusal it must meet.
type Attack struct {
	// Name identifies the attack, e.g. "replay".
	Name string
	// To is the party it is sent to.
	To string
	// Reasons are the acceptable reason codes of its Rejection.
	Reasons []string
	Msg     proto.Message
}

// Kit makes attacks against a federation of the scheme called name with
// configuration cfg.
type Kit struct {
	info crypto.Info
	cfg  crypto.Config
	// Foreign payloads: from another session, other parameters and another length.
	otherKeys, otherParams, otherLen []byte
}

// NewKit prepares the foreign payloads the attacks need.
func NewKit(name string, cfg crypto.Config) (*Kit, error) {
	info, err := crypto.Describe(name)
	if err != nil {
		return nil, fmt.Errorf("hostile: %w", err)
	}
	k := &Kit{info: info, cfg: cfg}
	if k.otherKeys, err = protect(name, cfg); err != nil {
		return nil, fmt.Errorf("hostile: other session: %w", err)
	}
	if k.otherParams, err = protect(name, crypto.Mismatched(name, cfg)); err != nil {
		return nil, fmt.Errorf("hostile: other parameters: %w", err)
	}
	longer := cfg
	longer.Len++
	if k.otherLen, err = protect(name, longer); err != nil {
		return nil, fmt.Errorf("hostile: other length: %w", err)
	}
	return k, nil
}

// protect returns one protected update made in a fresh session of name
// with cfg: a payload the federation's parties have never seen keys for.
// Schemes whose owners must first exchange keys yield a payload of their
// set-up, which is just as foreign.
func protect(name string, cfg crypto.Config) ([]byte, error) {
	s, err := crypto.New(name, cfg)
	if err != nil {
		return nil, err
	}
	rev, err := s.NewRevealer(rand.Reader)
	if err != nil {
		return nil, err
	}
	if _, ok := s.(crypto.KeyGen); ok {
		return rev.Setup(), nil
	}
	p, err := s.NewProtector(0, rev.Setup(), rand.Reader)
	if err != nil {
		return nil, err
	}
	msgs, err := p.Protect(make([]float64, cfg.Len), 1)
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if m.To == crypto.SecureWorker {
			return m.Payload, nil
		}
	}
	return nil, fmt.Errorf("%s sends nothing to the secure worker", name)
}

// outOfRange returns the attacks a payload in the clear makes possible:
// values no Protector would send (NaN, an infinity, an absurd norm) in a
// copy of honest, each made into an attack by make. Schemes that hide the
// values get none.
func outOfRange(honest []byte, make func(name string, payload []byte) Attack) []Attack {
	var out []Attack
	for _, v := range []struct {
		name string
		x    float64
	}{{"nan", math.NaN()}, {"inf", math.Inf(-1)}, {"norm", 1e9}} {
		if p, err := crypto.WithPlainValue(honest, 0, v.x); err == nil {
			out = append(out, make(v.name, p))
		}
	}
	return out
}

// Updates returns the attacks on the secure worker called to (the root,
// or a group's in an aggregation tree) for the round of honest, an honest
// update of that round sent to it; replay is an honest update to it of an
// earlier round.
func (k *Kit) Updates(to string, honest, replay *actors.ProtectedUpdate) []Attack {
	u := func(sender string, round int32, payload []byte) *actors.ProtectedUpdate {
		return &actors.ProtectedUpdate{Round: round, Sender: sender, Payload: payload}
	}
	r, s := honest.Round, honest.Sender
	half := honest.Payload[:len(honest.Payload)/2]
	a := []Attack{
		{"garbage", to, []string{actors.ReasonMalformed}, u(s, r, []byte("not a payload"))},
		{"truncated", to, []string{actors.ReasonMalformed}, u(s, r, half)},
		{"wrong-length", to, []string{actors.ReasonMismatch}, u(s, r, k.otherLen)},
		{"wrong-params", to, []string{actors.ReasonMismatch}, u(s, r, k.otherParams)},
		{"replay", to, []string{actors.ReasonStale}, proto.Clone(replay)},
		{"future", to, []string{actors.ReasonFuture}, u(s, r+5, honest.Payload)},
		{"duplicate", to, []string{actors.ReasonDuplicate}, proto.Clone(honest)},
		{"unknown-sender", to, []string{actors.ReasonUnknownSender}, u("mallory", r, honest.Payload)},
	}
	if k.info.Keyed {
		a = append(a, Attack{"wrong-keys", to, []string{actors.ReasonMismatch}, u(s, r, k.otherKeys)})
	}
	return append(a, outOfRange(honest.Payload, func(name string, payload []byte) Attack {
		return Attack{name, to, []string{actors.ReasonOutOfRange, actors.ReasonMalformed}, u(s, r, payload)}
	})...)
}

// Partials returns the attacks on the model owner for the round of
// honest, an honest update of that round (its payload serves as the
// template of forged partials); replay is the secure worker's partial of
// an earlier round, report an honest owner report of this round.
func (k *Kit) Partials(honest *actors.ProtectedUpdate, replay *actors.Partial, report *actors.OwnerReport) []Attack {
	sw := actors.SecureWorkerName
	p := func(holder string, round int32, payload []byte) *actors.Partial {
		return &actors.Partial{Round: round, Holder: holder, Contributors: replay.Contributors, Payload: payload}
	}
	r := honest.Round
	to := actors.ModelOwnerName
	a := []Attack{
		{"garbage", to, []string{actors.ReasonMalformed}, p(sw, r, []byte("not a payload"))},
		{"wrong-length", to, []string{actors.ReasonMismatch}, p(sw, r, k.otherLen)},
		{"wrong-params", to, []string{actors.ReasonMismatch}, p(sw, r, k.otherParams)},
		{"replay", to, []string{actors.ReasonStale}, proto.Clone(replay)},
		{"future", to, []string{actors.ReasonFuture}, p(sw, r+5, honest.Payload)},
		{"duplicate", to, []string{actors.ReasonDuplicate}, proto.Clone(report)},
		{"unknown-sender", to, []string{actors.ReasonUnknownSender}, p("mallory", r, honest.Payload)},
	}
	if k.info.Keyed {
		a = append(a, Attack{"wrong-keys", to, []string{actors.ReasonMismatch}, p(sw, r, k.otherKeys)})
	}
	return append(a, outOfRange(honest.Payload, func(name string, payload []byte) Attack {
		return Attack{name, to, []string{actors.ReasonOutOfRange, actors.ReasonMalformed}, p(sw, r, payload)}
	})...)
}

// Owner returns the attacks on the data owner called to during the round
// of global, the global model it was sent; setup is the federation's
// set-up. Each is refused without disturbing the owner: a global model of
// a past round, global models of a later round with the wrong length or
// a NaN weight, a second set-up, a message of another party's role, and a
// reveal request of a past round.
func (k *Kit) Owner(to string, global *actors.GlobalModel, setup *actors.Setup) []Attack {
	r := global.Round
	nan := slices.Clone(global.Weights)
	nan[0] = math.NaN()
	return []Attack{
		{"stale-global", to, []string{actors.ReasonStale}, &actors.GlobalModel{Round: r - 1, Weights: global.Weights, Epochs: global.Epochs}},
		{"wrong-length-global", to, []string{actors.ReasonMismatch}, &actors.GlobalModel{Round: r + 5, Weights: global.Weights[1:], Epochs: global.Epochs}},
		{"nan-global", to, []string{actors.ReasonOutOfRange}, &actors.GlobalModel{Round: r + 5, Weights: nan, Epochs: global.Epochs}},
		{"duplicate-setup", to, []string{actors.ReasonDuplicate}, proto.Clone(setup)},
		{"not-its-role", to, []string{actors.ReasonUnexpected}, &actors.RoundStart{Round: r, DeadlineMs: 1000}},
		{"stale-reveal-request", to, []string{actors.ReasonStale, actors.ReasonUnexpected}, &actors.RevealRequest{Round: r - 1, Attempt: 1}},
	}
}
