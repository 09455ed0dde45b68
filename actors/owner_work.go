package actors

import (
	"time"

	"github.com/fedactor/fedactor/actors/sim"
	"github.com/fedactor/fedactor/crypto"
)

// A data owner's local work in a round: how many epochs it trains and
// how long they take in simulated time. Every owner trains the epochs the
// model owner asks for at its device's pace, unless it is a straggler
// this round (Owner.Capacity): then it computes so slowly that only its
// capacity fits before the round's deadline. With TrainConfig.PartialWork
// it trains just those and sends them in time (FedProx); without, it
// trains them all and its update arrives late, to be left out (FedAvg).
// Availability windows (sim.Device.Windows) decide whether the owner
// works at all, and whether it is still there to send.

// roundWork is an owner's work in one round.
type roundWork struct {
	epochs int           // epochs to train; 0: none fits, the owner sends nothing
	time   time.Duration // their simulated time
}

// plan decides the owner's work for the round of m.
func (o *dataOwner) plan(m *GlobalModel) roundWork {
	epochs := int(m.Epochs)
	if epochs == 0 {
		epochs = o.fed.Train.Epochs
	}
	_, _, n := o.shard(o.idx, m.Round)
	perEpoch := o.dev.Train(o.fed.Model.FLOPs(), n, 1)
	capacity := -1
	if o.self.Capacity != nil {
		capacity = o.self.Capacity(int(m.Round))
	}
	if capacity < 0 || capacity >= epochs {
		return roundWork{epochs, time.Duration(epochs) * perEpoch}
	}
	// A straggler: its pace fits capacity epochs, and not one more, in
	// 90% of what the round leaves it once its update is protected and
	// on its way (an estimate from its last update's size).
	budget := o.sentAt(m) + time.Duration(m.DeadlineMs)*time.Millisecond - o.now - o.sendCost()
	pace := max(time.Duration(float64(budget)*0.9/(float64(capacity)+0.5)), perEpoch)
	if o.fed.Train.PartialWork {
		epochs = capacity
	}
	return roundWork{epochs, time.Duration(epochs) * pace}
}

// sendCost estimates the simulated time between the end of the owner's
// training and its update's arrival: protecting, and an upload of the
// size of its last protected update (or of the plaintext, the first time)
// from its link to the server's, its uplink and the server's downlink
// shared as in a round.
func (o *dataOwner) sendCost() time.Duration {
	bytes := o.lastSent
	if bytes == 0 {
		bytes = 8 * (o.fed.Model.NumParams() + 1)
	}
	return o.step(sim.OpProtect, o.protectParties()) + sim.Transfer(bytes, o.dev.Link, o.fed.Server.Link, 2, len(o.fed.Owners))
}

// protectParties is the number of parties an owner's protect step grows
// with: the holders in Holding schemes, else the owners.
func (o *dataOwner) protectParties() int {
	if k, _ := crypto.HoldingOwners(o.fed.Scheme); k > 0 {
		return k
	}
	return len(o.fed.Owners)
}
