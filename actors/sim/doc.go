// Package sim models a deployment in simulated time: how fast each party
// computes and talks, what each step of a round costs, and the virtual
// clock on which an in-process run waits without spending wall time.
//
// # The cost model
//
// Every party keeps a simulated clock. It advances by the party's work and
// by what it waits for; every message carries its sender's clock
// (actors.Stamp), and arrives at
//
//	sent + latency(sender) + latency(receiver) + bits / min(up, down)
//
// where up is the sender's uplink divided among the messages it sends at
// once (a broadcast to N owners shares the uplink N ways) and down the
// receiver's downlink divided among the uploads it waits for in that step
// (a secure worker collecting N updates gives each 1/N of its downlink).
// This static fair share is order-free, so the times do not depend on
// which message the actor system happened to deliver first.
//
// Work costs:
//
//   - training: 3 × the model's forward FLOPs per example (nn.Model.FLOPs;
//     the backward pass costs about twice the forward, as in Kaplan et al.
//     2020, "Scaling Laws for Neural Language Models", section 2.1) × the
//     examples trained × epochs, divided by the device's sustained FLOP/s;
//   - evaluation: the forward FLOPs × test examples / FLOP/s;
//   - crypto steps: a calibration table of seconds per operation for each
//     scheme at a reference vector length, scaled linearly with the
//     vector length, and for the steps whose work grows with the number of
//     parties (additive ss's shares, secagg's pairwise masks) with that
//     number too (Costs).
//
// Nothing measured on the running machine enters the simulated times: the
// same seed gives the same times on any machine. A calibration made on
// another machine changes only the crypto rows of the table.
//
// # Deadlines in simulated time
//
// A run on the virtual Clock fires timers in simulated time, in order, when
// no message is in flight and every party is idle: a round whose owner
// dropped out waits for its deadline in simulated time only, and a party
// compares the simulated arrival of every message with its deadline, so a
// message that arrives late in simulated time is late whatever the order
// of delivery.
package sim
