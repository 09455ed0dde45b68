// Package dp holds the differential-privacy building blocks of DP-FedAvg
// (McMahan, Ramage, Talwar and Zhang, "Learning Differentially Private
// Recurrent Language Models", ICLR 2018): clipping of each data owner's
// update, Gaussian noise on the sum of clipped updates, and a Rényi-DP
// accountant that turns rounds into an (ε, δ) guarantee.
//
// # A private round
//
// Each sampled data owner trains from the global model g to a local model w
// and calls Clip(w, g, C), so that its delta w − g has L2 norm at most C. The
// sum of the clipped deltas then has sensitivity C to adding or removing one
// data owner: the guarantee is user level, not example level. Gaussian noise
// with standard deviation z·C on that sum, where z is the noise multiplier,
// makes the round a sampled Gaussian mechanism. Mechanism gives the standard
// deviation either for the model owner adding all of it to the revealed sum
// (central) or for each of n contributors adding its share before
// protection (distributed), and AddNoise draws it from a seeded source.
//
// The sensitivity argument needs each owner's contribution to the sum to be
// bounded by C: an owner's clipped delta may be scaled by a weight only if
// that weight is at most 1 (McMahan et al. cap w_k = min(n_k/ŵ, 1)), and the
// noisy sum must be divided by a denominator that does not depend on who
// took part (for example the expected total weight), not by the revealed
// total weight, which would leak participation.
//
// # Accounting
//
// Accountant composes the Rényi differential privacy (RDP) of the sampled
// Gaussian mechanism (Mironov, Talwar and Zhang, "Rényi Differential Privacy
// of the Sampled Gaussian Mechanism", 2019) over rounds and converts it to
// (ε, δ). Its sample rate q is the probability that one data owner takes
// part in a round (expected participants over all owners); the analysis
// assumes each owner is included independently with probability q (Poisson
// sampling). Sampling exactly k of N owners is commonly accounted with
// q = k/N, but strictly that is a different mechanism.
//
// Integer orders use the exact binomial expansion of the mechanism's
// moment, fractional orders the two-series expansion of the same paper,
// both summed in log space. The conversion to (ε, δ) is the improved one of
// Balle et al. ("Hypothesis Testing Interpretations and Rényi Differential
// Privacy", 2020) and Canonne, Kamath and Steinke (2020):
//
//	ε = min over α of  RDP(α) + log((α−1)/α) − (log δ + log α)/(α−1),
//
// which is never larger than the classic ε = RDP(α) + log(1/δ)/(α−1) of
// Mironov (2017) used by older tools, so figures printed by those tools are
// upper bounds of what this package reports.
//
// # Randomness
//
// Noise is drawn from a *rand.Rand of math/rand/v2 that the caller seeds, so
// simulations replay. That suits a simulator, not a deployment: a real
// system must draw noise from a cryptographically secure source and beware
// of floating-point attacks on naive Gaussian samplers.
package dp
