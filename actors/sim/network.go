package sim

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Link is a party's connection: its uplink and downlink rates, in bits per
// second, and its one-way latency to the network's core (half the round
// trip a speed test reports).
type Link struct {
	Up, Down float64
	Latency  time.Duration
}

// Mbps is one megabit per second, in bits per second.
const Mbps = 1e6

// Check reports whether l is usable: positive, finite rates and a latency
// that is not negative.
func (l Link) Check() error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"uplink", l.Up}, {"downlink", l.Down}} {
		if !(r.v > 0) || math.IsInf(r.v, 0) {
			return fmt.Errorf("%s %g bit/s: want a positive, finite rate", r.name, r.v)
		}
	}
	if l.Latency < 0 {
		return fmt.Errorf("latency %v: want >= 0", l.Latency)
	}
	return nil
}

// preset is a named network and where its figures come from.
type preset struct {
	name   string
	link   Link
	source string
}

// presets are the -network profiles. Rates and latencies are medians or
// averages of public measurements; latency is half the measured round trip.
var presets = []preset{
	{"lan", Link{Up: 1000 * Mbps, Down: 1000 * Mbps, Latency: 250 * time.Microsecond},
		"Gigabit Ethernet's nominal rate (IEEE 802.3ab, 1000BASE-T) each way; a 0.5 ms round trip on a switched LAN (assumed, not measured)"},
	{"broadband", Link{Up: 34.92 * Mbps, Down: 79.0 * Mbps, Latency: 4500 * time.Microsecond},
		"Ookla Speedtest Global Index, global median fixed broadband, Q1 2023: 79.0 Mbit/s down, 34.92 Mbit/s up, 9 ms latency"},
	{"4g", Link{Up: 16.2 * Mbps * 10.42 / 41.54, Down: 16.2 * Mbps, Latency: 30 * time.Millisecond},
		"OpenSignal, State of LTE, Q1 2017: 16.2 Mbit/s global average LTE download; upload at the 1:4 ratio of Ookla's Q1 2023 global median mobile speeds (10.42 up, 41.54 down); 60 ms latency, OpenSignal's 4G latency of the four U.S. operators, August 2016 (57 to 64.7 ms)"},
	{"3g", Link{Up: 4.4 * Mbps * 10.42 / 41.54, Down: 4.4 * Mbps, Latency: 60 * time.Millisecond},
		"OpenSignal, State of LTE, Q1 2017: 4.4 Mbit/s average 3G download; upload at the same 1:4 ratio as 4g; latency twice 4g's, as Verizon stated LTE's user-plane latency to be about half of 3G's (2010, quoted in FierceWireless's OpenSignal latency reports)"},
}

// NetworkNames lists the -network presets.
func NetworkNames() []string {
	names := make([]string, len(presets))
	for i, p := range presets {
		names[i] = p.name
	}
	return names
}

// Network returns the preset called name and the source of its figures.
func Network(name string) (Link, string, error) {
	i := slices.IndexFunc(presets, func(p preset) bool { return p.name == name })
	if i < 0 {
		return Link{}, "", fmt.Errorf("sim: unknown network %q (have %s)", name, strings.Join(NetworkNames(), ", "))
	}
	return presets[i].link, presets[i].source, nil
}

// Transfer returns how long a message of bytes takes from a sender on
// link from, whose uplink carries fanOut messages at once, to a receiver
// on link to, whose downlink carries fanIn at once: both latencies, plus
// the bits at the slower of the two shares. Counts below 1 count as 1.
func Transfer(bytes int, from, to Link, fanOut, fanIn int) time.Duration {
	rate := min(from.Up/float64(max(fanOut, 1)), to.Down/float64(max(fanIn, 1)))
	seconds := float64(8*bytes) / rate
	return from.Latency + to.Latency + Seconds(seconds)
}

// Seconds converts s seconds to a Duration, rounded to the nanosecond.
func Seconds(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }
