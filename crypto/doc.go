// Package crypto aggregates protected model updates for federated learning.
//
// A [Scheme] covers a protection method's whole life: key set-up among the
// parties, protecting a flat []float64 update with its sample-count weight,
// combining protected updates, and revealing the weighted sum. Schemes are
// made by name with [New]: "plain", "ss", "ckks", "ckks-threshold",
// "paillier". Every value that travels is an opaque, self-describing []byte
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
//	role                 type        ckks            ckks-threshold                 paillier     ss
//	model owner          Revealer    secret key      own key pair (switch target)   p, q         nothing
//	data owner           Protector   public key      own secret-key share (or its   public key   entropy
//	                                                 Shamir share), collective pk
//	secure worker        Combiner    parameters      parameters, CRP                public key   nothing
//
// The secure worker never holds a secret key, a decryptor or a plaintext
// update (TestCombinerHoldsNoSecret walks its values to check), except in
// "plain", the trusted-aggregator baseline. In "ss" the data owners are
// share holders too and use a Combiner.
//
// A data owner protects weight*update followed by weight (one extra value),
// so the model owner divides the revealed sum by the revealed total weight.
// [Run] drives the message flow in memory; the actor layer follows the
// same steps, described on [Scheme] and [Flow].
//
// # Precision and range
//
//   - plain: float64 sums.
//   - ss, paillier: [FixedPoint], by default 32 fractional bits (error at
//     most N*2^-33 per value) and |value| <= 2^20; a configuration whose sums
//     could wrap is refused by New, a value out of range by Protect.
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
// ss: each update is split into N+1 additive shares in Z/2^64. The N shares
// for the data owners are ChaCha8 streams, each keyed with 32 fresh bytes
// from the entropy source and sent as that seed (32 bytes instead of 244 KB);
// the secure worker's share is the update minus their sum. Any N shares of
// one update are therefore uniform and independent of it, as far as ChaCha8
// output is indistinguishable from random (TestShareUniform checks shares
// with a chi-square test). The model owner sees only the N+1 partial sums,
// which reveal the aggregate and nothing else unless holders collude with
// it. Seeds, like all shares, must travel on confidential channels.
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
// malicious secure worker that drops or replays contributions; the
// contribution count in each payload only bounds sums to N updates.
package crypto
