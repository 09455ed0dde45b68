// Package actors runs federated learning with every party as a ProtoActor
// actor. The parties exchange the protobuf messages of fedactor.proto, so
// the same actors and messages work in one process (Run) and across hosts.
//
// # Parties
//
//	party           holds                                    does
//	data owner      its shard, a copy of the model,          trains the global model locally, protects
//	(bob, alice...) a crypto.Protector                       its update, sends it to its holders
//	secure worker   a crypto.Combiner: parameters and        combines protected updates it cannot read,
//	                public keys, never a secret or plaintext forwards the aggregate
//	model owner     the global model, a crypto.Revealer      runs set-up and rounds, reveals the aggregate,
//	                (the secret key in single-key schemes)   applies the Strategy, evaluates, records
//
// # One round
//
//	model owner   --RoundStart(round, owners, deadline)--> secure worker
//	model owner   --GlobalModel(round, weights)---------> data owners
//	data owner:   train E epochs; protect(weight(n_k)·w_k, weight(n_k))
//	data owner    --ProtectedUpdate----------------------> holders (the secure worker; in ss every owner too)
//	data owner    --OwnerReport(times, loss, refusals)---> model owner
//	secure worker: combine what arrives until all expected are in or the deadline passes
//	secure worker --CombineRequest(contributors)---------> owners holding shares (ss)
//	secure worker --RevealRequest / <--RevealShare-------- t owners (ckks-threshold, secagg)
//	holders       --Partial(aggregate, contributors)-----> model owner
//	model owner:  reveal, Strategy.Aggregate, evaluate, record RoundMetrics, next round
//
// Set-up runs before round 1 through the same actors: the model owner sends
// its public Setup; with key generation (ckks-threshold) the owners send
// KeyShares to the secure worker (and, for t-of-N, to each other), which
// answers with the CollectiveKey; every party then reports Ready.
//
// # Where each step lives
//
// The common path is one file per party: owner.go, worker.go (the root
// secure worker, whose phases are ProtoActor behaviours), group.go (an
// aggregation tree's group workers, which only collect and forward) and
// modelowner.go. A scheme with more exchanges says so through the optional
// interfaces of package crypto, and each exchange has one file per party
// that takes part:
//
//	crypto capability   data owner          secure worker
//	KeyGen              owner_keys.go       worker_keys.go
//	Holding             owner_holding.go    (the model owner takes the partials)
//	RevealSharing       owner_reveal.go     worker_reveal.go
//
// # Aggregation trees
//
// With Federation.GroupSize g > 0 the owners, in index order, form groups
// of g, each with a group worker (GroupWorkerName: secure-worker-1, ...)
// holding only a crypto.Combiner:
//
//	data owner    --ProtectedUpdate----------------------> its group worker
//	group worker: combine its members' updates until all are in or the deadline passes
//	group worker  --Partial(group aggregate, contributors)-> secure worker (the root)
//	secure worker: combine the group aggregates, then go on as above
//
// Key shares and reveal shares still go to the root, which waits a grace
// period past the deadline for the group aggregates.
//
// Every wait has a deadline, delivered as a message: an owner that misses
// the round's deadline is recorded as dropped and the round goes on with
// the others; a round that cannot be revealed is recorded as failed and the
// global model stays as it was. Every message is checked (sender, round,
// duplicates, lengths) before use; every party records what it refuses
// with a reason code (reject.go), and the round's RoundMetrics.Rejected
// holds every party's records: the holders forward theirs on their
// Partial, the data owners on their OwnerReport.
//
// Aggregation policy lives in package policy, apart from the transport.
// Data owners share the machine's cores: each trains with Cores/N threads
// (at least one) and no more than Cores training threads run at once.
package actors
