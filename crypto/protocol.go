package crypto

// The common round is protect → combine → reveal: every data owner's
// Protector addresses its protected update to the secure worker, whose
// Combiner folds them, and the model owner's Revealer reveals the sum.
// A scheme whose messages take another shape says so by implementing the
// optional interfaces below, each of which adds one exchange; drivers (Run
// here, the parties in package actors) find them by type assertion.
//
//	capability     schemes                  adds
//	Holding        ss, ss-shamir            data owners hold shares and send partials
//	KeyGen         ckks-threshold, secagg   a key exchange before protecting
//	RevealSharing  ckks-threshold, secagg   owners' reveal shares of the aggregate

// Holding is implemented by schemes in which data owners hold shares of
// the protected updates besides the secure worker (ss, ss-shamir):
// Protect addresses messages to them, each holder folds what it received
// with a Combiner of its own, and Reveal takes the holders' partials.
type Holding interface {
	Scheme
	// Holders returns the number k of data owners that hold shares (the
	// owners 0..k-1; with the secure worker there are k+1 holders) and how
	// many of the k+1 holders' partials Reveal needs.
	Holders() (owners, needed int)
}

// KeyGen is implemented by schemes whose data owners make keys together
// with the secure worker before they protect: ckks-threshold once at
// set-up, secagg at the start of every round among that round's owners.
// Their Protectors are KeyExchangers and their Combiners KeyCombiners.
//
// The exchange: every owner sends the messages of its KeyShares (one to
// the secure worker, and possibly one to every other owner); the secure
// worker folds the ones addressed to it with Combine and hands the result
// to CollectiveKey; it sends that to every owner whose share it folded,
// and owners that took no part are left out of the round.
type KeyGen interface {
	Scheme
	// KeysEveryRound reports whether the exchange runs at the start of
	// every round, instead of once at set-up.
	KeysEveryRound() bool
}

// KeyExchanger is a data owner's side of KeyGen.
type KeyExchanger interface {
	Protector
	// KeyShares starts an exchange (with KeysEveryRound, this round's,
	// discarding the previous round's key state) and returns this owner's
	// messages.
	KeyShares() ([]Message, error)
	// ReceiveKey takes a message of the exchange sent by from: another
	// owner's, or the secure worker's collective key. It reports whether
	// this owner now holds every key of the exchange it needs: to protect,
	// and at set-up to be ready for every later step.
	ReceiveKey(from Party, payload []byte) (complete bool, err error)
}

// KeyCombiner is the secure worker's side of KeyGen.
type KeyCombiner interface {
	Combiner
	// CollectiveKey turns the combination of the owners' key shares into
	// what every owner receives: the collective public key, or the round's
	// key list.
	CollectiveKey(keyShares []byte) ([]byte, error)
}

// RevealSharing is implemented by schemes whose aggregate is revealed
// with data owners' reveal shares (ckks-threshold, secagg). Their
// Protectors are RevealSharers. After combining, the secure worker sends
// the aggregate, its contributors and the owners asked to answer to
// those owners, folds their reveal shares with Combine and hands the
// result to the model owner with the aggregate.
type RevealSharing interface {
	Scheme
	// Quorum returns how many owners' reveal shares reveal the aggregate,
	// and whether exactly that many owners must be fixed in advance, each
	// share depending on the set (ckks-threshold), rather than any owners
	// answering (secagg).
	Quorum() (threshold int, fixed bool)
}

// RevealSharer is a data owner's side of RevealSharing.
type RevealSharer interface {
	Protector
	// RevealShare returns this owner's share for revealing aggregate.
	// contributors are the data owners whose updates the aggregate sums;
	// active are the owners asked to answer (with a fixed quorum exactly
	// threshold of them, sorted, this one included).
	RevealShare(aggregate []byte, contributors, active []int) ([]byte, error)
}

// HoldingOwners returns the number of data owners that hold shares in s
// and the number of partials its Revealer needs: 0 and 1 (the secure
// worker's alone) unless s is Holding.
func HoldingOwners(s Scheme) (owners, needed int) {
	if h, ok := s.(Holding); ok {
		return h.Holders()
	}
	return 0, 1
}

// Which scheme has which capability, checked by the compiler.
var (
	_ Holding       = (*Additive)(nil)
	_ Holding       = (*ShamirSS)(nil)
	_ KeyGen        = (*ThresholdCKKS)(nil)
	_ KeyGen        = (*SecAgg)(nil)
	_ RevealSharing = (*ThresholdCKKS)(nil)
	_ RevealSharing = (*SecAgg)(nil)

	_ KeyExchanger = (*ThresholdCKKSProtector)(nil)
	_ KeyExchanger = (*SecAggProtector)(nil)
	_ KeyCombiner  = (*ThresholdCKKSCombiner)(nil)
	_ KeyCombiner  = (*SecAggCombiner)(nil)
	_ RevealSharer = (*ThresholdCKKSProtector)(nil)
	_ RevealSharer = (*SecAggProtector)(nil)
)
