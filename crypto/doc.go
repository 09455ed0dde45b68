// Package crypto aggregates protected model updates for federated learning.
//
// A [Scheme] covers a protection method's whole life: key set-up among the
// parties, protecting a flat []float64 update with its sample-count weight,
// combining protected updates, and revealing the weighted sum. Schemes are
// made by name with [New]: "plain", "ss", "ss-shamir", "ckks",
// "ckks-threshold", "paillier", "secagg"; [Describe] says what each can
// do. Every value that travels is an opaque, self-describing []byte
// (scheme, kind, parameter fingerprint, number of contributions); readers
// reject wrong lengths, other schemes or parameters, unreduced
// coefficients and truncated input with errors wrapping [ErrBadPayload],
// [ErrMismatch] or [ErrTooManyContributions], never with a panic.
//
// # Roles and keys
//
// A scheme hands out one value per role, and each holds only what its party
// may hold:
//
//	role           type       ckks         ckks-threshold               paillier    ss        secagg
//	model owner    Revealer   secret key   own key pair (switch target) p, q        nothing   X25519 key pair (reveal
//	                                                                                          shares are sealed to it)
//	data owner     Protector  public key   own secret-key share (or its public key  entropy   round X25519 key pair and
//	                                       Shamir share), collective pk                       self-mask seed, Shamir shares
//	                                                                                          of the others' round secrets
//	secure worker  Combiner   parameters   parameters, CRP              public key  nothing   nothing
//
// The secure worker never holds a secret key, a decryptor or a plaintext
// update (TestCombinerHoldsNoSecret walks its values to check), except in
// "plain", the trusted-aggregator baseline. In "ss" the data owners are
// share holders too and use a Combiner.
//
// A data owner protects weight*update followed by weight (one extra value),
// so the model owner divides the revealed sum by the revealed total weight.
// [Run] drives the message flow in memory; the actor layer follows the
// same steps, described on [Scheme]; schemes with more exchanges say so
// with the optional interfaces [Holding], [KeyGen] and [RevealSharing].
//
// # Precision and range
//
//   - plain: float64 sums.
//   - ss, secagg, paillier: [FixedPoint], by default 32 fractional bits
//     (error at most N*2^-33 per value) and |value| <= 2^20; a configuration
//     whose sums could wrap is refused by New (ErrOutOfRange), a value out
//     of range by Protect. Additive ss and secagg sum in Z/2^64 (default
//     range: up to 1024 owners), Shamir ss in GF(2^61-1), whose signed
//     range holds sums of up to 256 owners at the default encoding.
//   - ckks: one 60-bit prime, level 0, and the largest scale (at most 2^40)
//     at which N values of magnitude FixedPoint.MaxAbs (2^20 by default, the
//     same range as ss and paillier) sum below q0/4: 2^37 for 2 owners, 2^34
//     for 10 (CKKS.MaxAbs); measured error about 1e-6 absolute on sums
//     of up to 10 owners of the 30,514-value model, weights about 1000.
//   - ckks-threshold: measured error about 2e-8 absolute (relative error
//     below 1e-11 of the largest sum value); same range.
//
// # Security
//
// ckks and ckks-threshold use ring dimension 2^13..2^15 with at most 120 bits
// of modulus, within the HE standard's 128-bit bounds (218, 438, 881 bits),
// ternary secrets and error standard deviation 3.2. Paillier with a 2048-bit
// modulus gives about 112-bit security, 3072 bits about 128. Lattigo draws
// lattice key and encryption randomness from its own PRNG seeded by
// crypto/rand; the io.Reader given to the roles seeds what this package draws
// itself (ss share streams, Paillier primes and r, the collective key's seed).
//
// ss has two modes. By default (Config.Threshold 0) each update is split
// into N+1 additive shares in Z/2^64 and every holder's partial is needed.
// The N shares
// for the data owners are ChaCha8 streams, each keyed with 32 fresh bytes
// from the entropy source and sent as that seed (32 bytes instead of 244 KB);
// the secure worker's share is the update minus their sum. Any N shares of
// one update are therefore uniform and independent of it, as far as ChaCha8
// output is indistinguishable from random (TestShareUniform checks shares
// with a chi-square test). The model owner sees only the N+1 partial sums,
// which reveal the aggregate and nothing else unless holders collude with
// it. Seeds, like all shares, must travel on confidential channels.
//
// With Config.Threshold = t in [2, N+1], ss uses Shamir t-of-(N+1) sharing
// over GF(2^61-1) instead: owner i holds the share at x = i+1 and the
// secure worker the share at x = N+1; each value gets a fresh random
// polynomial of degree t-1, so any t-1 shares are uniform and independent
// of the update (TestShamirBelowThresholdUniform), and any t holders'
// partials give the sum by Lagrange interpolation at 0. The polynomial is
// fixed by the secret and t-1 random shares, which travel as 32-byte
// ChaCha8 seeds to t-1 data owners. Shares and partials carry the
// holder's x (Combine refuses to add shares of different x) and the set
// of contributing owners, so the model owner interpolates partials over
// the same contributors only. Any t-1 holders together, or the model owner
// with t-1 holders, learn nothing about one update beyond the aggregate.
//
// secagg is pairwise-masking secure aggregation after Bonawitz et al.
// (CCS 2017) against a semi-honest secure worker, with fresh keys every
// round (KeyGen.KeysEveryRound): a key reused after the model owner once rebuilt
// it for a dropped owner would unmask that owner later. Each round every
// data owner u draws an X25519 key pair and a self-mask seed b_u,
// advertises its public key through the secure worker, which returns the
// round's key list, and Shamir-shares (threshold t, default N/2+1, over
// GF(2^61-1)) its private key and b_u with the other data owners on
// confidential owner-to-owner channels. Its update is masked in Z/2^64
// with a ChaCha8 stream keyed by b_u and, for every other listed owner v,
// a stream keyed by SHA-256 of a domain label, the session and the X25519
// shared secret, added when u < v and subtracted otherwise, so pairwise
// masks cancel in the sum. To unmask, at least t owners answer with their
// shares of b_u for every contributor u and of the private key for every
// listed owner that did not contribute, never both for one owner in a
// round (an owner refuses); the shares are sealed to the model owner's
// X25519 key with AES-256-GCM, and the key list and contributors travel
// in the clear so that the secure worker can refuse inconsistent answers
// (Bonawitz's consistency check). The model owner rebuilds the secrets,
// checks each rebuilt private key against its public key, and removes the
// masks. The secure worker sees only masked updates and sealed shares;
// it learns neither an update nor the aggregate. Unmasking needs at least
// t contributors, so a small aggregate cannot single out an update.
//
// # Dropouts
//
// A data owner may go silent before sending its protected update (mode
// Before: it took part in set-up and in the round's key exchange) or after
// sending it (mode After: it neither combines as a holder nor sends reveal
// shares). [RunDropouts] runs both; the revealed sum covers the
// contributors only.
//
//	scheme            Before  After  condition
//	plain, ckks,      yes     yes    at least one contributor; owners act
//	paillier                         only when protecting
//	ss (additive)     no      no     every one of the N+1 holders' partials
//	                                 is needed (ErrTooFewShares otherwise)
//	ss (Threshold t)  yes     yes    at least t of the N+1 holders answer:
//	                                 at most N+1-t silent owners
//	ckks-threshold    yes     yes    t < N and at least t owners not silent
//	                                 (the fixed active set); set-up needs all
//	                                 N; with t = N no owner may be silent
//	secagg            yes     yes    at least t owners in the key list, t
//	                                 contributors and t owners answering: at
//	                                 most N-t silent owners
//
// # Bounds and sessions
//
// Config.MaxNorm > 0 bounds the L2 norm of updates: every Protector refuses
// a larger update with ErrOutOfRange, and every Revealer refuses a revealed
// aggregate whose mean (sum divided by weight) is larger or whose weight
// is not positive and finite. Only plain can check single updates at the
// secure worker (Combine and Check; it rejects NaN and Inf values with or
// without a bound): the other schemes' updates are encrypted, masked or
// shared, so a dishonest owner's update is caught in the aggregate only.
//
// Every payload after the set-up message carries a session fingerprint
// that hashes the parameters and the set-up bytes, so roles built from one
// set-up reject payloads made under another with ErrMismatch (for example
// a CKKS ciphertext under another session's public key with the same
// parameters). plain and ss have set-ups without keys, so their sessions
// of equal parameters are indistinguishable. Combiner.Check lets a holder
// validate the first update of a round, which it stores without combining.
//
// ckks-threshold: decryption is a public-key switch (Lattigo's
// PublicKeySwitchProtocol) from the data owners' joint key to the model
// owner's key, so only the model owner learns the aggregate and no single
// update is ever decrypted. Each data owner adds smudging noise of standard
// deviation sigma = 2^55 (bounded at 6 sigma) to its share, because the
// aggregate's own noise e (about 2^12.5 standard deviation, bounded by about
// 2^15 for ten owners) depends on everyone's secrets and fresh
// encryption randomness and would otherwise leak through the decrypted
// value. By the Kullback-Leibler form of the smudging lemma the statistical
// distance between what the model owner sees and a simulation without e is
// at most sqrt(n * B^2 / (4 sigma^2)) for n = 2^16 coefficients (four
// ciphertexts at logN 13, four at logN 14) and B = 2^15: about 2^-33 per
// reveal. That is a statistical, not a computational, guarantee, and much
// weaker than 128 bits: over 2^20 rounds the advantage stays below 2^-13.
// The precision cost is nil in practice because fresh ciphertexts sit one
// level up (moduli q0, q1 of 60 bits, scale Delta*q1 with Delta as for ckks) and the model owner
// rescales by q1 after the switch, dividing the smudging noise (at most about
// 2^59 for ten owners) by q1 before decoding: the aggregate's error stays
// near 2e-8, far below 1e-6 relative to the weights. A larger sigma up to
// about 2^58 would still fit, and a third prime would buy more.
//
// With a threshold t < N every data owner Shamir-shares its secret-key share
// with the others (Lattigo's Thresholdizer) and any t of them can reveal:
// up to N-t owners may be absent at decryption. These peer shares are
// secret: they must travel on confidential owner-to-owner channels, never
// through the secure worker. With t = N a missing owner makes revealing
// impossible, and N-1 key-switch shares decrypt to noise
// (TestThresholdNeedsEveryShare).
//
// None of the schemes authenticates its senders or protects against a
// malicious secure worker that drops or replays contributions (secagg's
// safeguards assume it follows the protocol); the contribution count in
// each payload only bounds sums to N updates, and in ss with a threshold
// and in secagg a contributor set also stops an update being added twice.
package crypto
