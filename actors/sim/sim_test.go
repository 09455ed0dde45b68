package sim

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTransfer(t *testing.T) {
	from := Link{Up: 8 * Mbps, Down: 100 * Mbps, Latency: 10 * time.Millisecond}
	to := Link{Up: 100 * Mbps, Down: 16 * Mbps, Latency: 5 * time.Millisecond}
	cases := []struct {
		name          string
		bytes, fo, fi int
		want          time.Duration
	}{
		// 1 MB = 8 Mbit at the sender's 8 Mbit/s: 1 s, plus both latencies.
		{"uplink bound", 1e6, 1, 1, time.Second + 15*time.Millisecond},
		// The receiver's 16 Mbit/s shared by 4 uploads: 4 Mbit/s each.
		{"downlink shared", 1e6, 1, 4, 2*time.Second + 15*time.Millisecond},
		// The sender's 8 Mbit/s shared by 4 messages: 2 Mbit/s.
		{"uplink shared", 1e6, 4, 1, 4*time.Second + 15*time.Millisecond},
		{"empty", 0, 1, 1, 15 * time.Millisecond},
		{"counts below 1", 1e6, 0, -3, time.Second + 15*time.Millisecond},
	}
	for _, c := range cases {
		if got := Transfer(c.bytes, from, to, c.fo, c.fi); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestNetworkPresets(t *testing.T) {
	names := NetworkNames()
	if strings.Join(names, ",") != "lan,broadband,4g,3g" {
		t.Fatalf("presets %v", names)
	}
	prev := Link{Up: 1e18, Down: 1e18}
	for _, n := range names {
		l, source, err := Network(n)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Check(); err != nil || source == "" {
			t.Errorf("%s: %v, source %q", n, err, source)
		}
		// Each preset is slower than the one before it, both ways.
		if !(l.Up < prev.Up && l.Down < prev.Down && l.Latency > prev.Latency) {
			t.Errorf("%s %+v is not slower than the preset before it %+v", n, l, prev)
		}
		prev = l
	}
	if _, _, err := Network("5g"); err == nil || !strings.Contains(err.Error(), "broadband") {
		t.Errorf("unknown preset: %v", err)
	}
}

func TestDeviceWindows(t *testing.T) {
	d := Device{FLOPS: 1e9, Link: Link{Up: 1, Down: 1}, Windows: []Window{{10 * time.Second, 20 * time.Second}, {30 * time.Second, 40 * time.Second}}}
	for _, c := range []struct {
		at    time.Duration
		until time.Duration
		ok    bool
	}{{5 * time.Second, 0, false}, {10 * time.Second, 20 * time.Second, true}, {20 * time.Second, 0, false}, {39 * time.Second, 40 * time.Second, true}} {
		until, ok := d.AvailableUntil(c.at)
		if ok != c.ok || (ok && until != c.until) {
			t.Errorf("at %v: until %v %v, want %v %v", c.at, until, ok, c.until, c.ok)
		}
	}
	if !(Device{}).Available(time.Hour) {
		t.Error("a device without windows is not always available")
	}
	if got := (Device{FLOPS: 2e9}).Train(1e6, 100, 2); got != 300*time.Millisecond {
		t.Errorf("training 3 x 1e6 x 100 x 2 FLOP at 2 GFLOP/s: %v, want 300ms", got)
	}
}

func TestReadDevices(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("ok.csv", "gflops,up_mbps,down_mbps,latency_ms,windows\n10,5,20,30,\n2.5,1,4,60,0-100;200-300\n")
	ds, err := ReadDevices(good)
	if err != nil {
		t.Fatal(err)
	}
	want := Device{FLOPS: 2.5e9, Link: Link{Up: 1e6, Down: 4e6, Latency: 60 * time.Millisecond},
		Windows: []Window{{0, 100 * time.Second}, {200 * time.Second, 300 * time.Second}}}
	if len(ds) != 2 || ds[0].Windows != nil || ds[1].FLOPS != want.FLOPS || ds[1].Link != want.Link || len(ds[1].Windows) != 2 || ds[1].Windows[1] != want.Windows[1] {
		t.Errorf("read %+v", ds)
	}
	js, err := ReadDevices(write("ok.json", `[{"gflops":2.5,"up_mbps":1,"down_mbps":4,"latency_ms":60,"windows":[[0,100],[200,300]]}]`))
	if err != nil || len(js) != 1 || js[0].Link != want.Link || len(js[0].Windows) != 2 {
		t.Errorf("json: %+v, %v", js, err)
	}
	bad := map[string]struct{ name, body, want string }{
		"missing column":     {"a.csv", "gflops,up_mbps,latency_ms\n1,1,1\n", `no column "down_mbps"`},
		"empty value":        {"b.csv", "gflops,up_mbps,down_mbps,latency_ms\n1,,1,1\n", "row 1: no up_mbps"},
		"negative bandwidth": {"c.csv", "gflops,up_mbps,down_mbps,latency_ms\n1,1,1,1\n1,-5,1,1\n", "device 2: uplink -5e+06"},
		"overlapping":        {"d.csv", "gflops,up_mbps,down_mbps,latency_ms,windows\n1,1,1,1,0-100;50-200\n", "window 2 [50s, 3m20s) overlaps"},
		"backwards window":   {"e.csv", "gflops,up_mbps,down_mbps,latency_ms,windows\n1,1,1,1,100-50\n", "window 1"},
		"not a number":       {"f.csv", "gflops,up_mbps,down_mbps,latency_ms\nfast,1,1,1\n", `gflops "fast" is not a number`},
		"json missing key":   {"g.json", `[{"gflops":1,"up_mbps":1,"down_mbps":1}]`, "no latency_ms"},
		"json unknown key":   {"h.json", `[{"gflops":1,"up_mbps":1,"down_mbps":1,"latency_ms":1,"cores":4}]`, "unknown field"},
		"no devices":         {"i.json", `[]`, "no devices"},
		"other type":         {"j.txt", "x", "unknown file type"},
	}
	for name, c := range bad {
		_, err := ReadDevices(write(c.name, c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%s: %v, want an error naming %s and %q", name, err, c.name, c.want)
		}
	}
}

func TestCosts(t *testing.T) {
	c, err := DefaultCosts()
	if err != nil {
		t.Fatalf("the shipped table: %v", err)
	}
	if c.Machine == "" || c.Len < 1 {
		t.Errorf("the shipped table says nothing of where it was measured: %+v", c)
	}
	c = &Costs{Len: 1000, Ops: map[string]map[string]OpCost{"ss": {OpProtect: {Base: 0.002, PerParty: 0.001}}}}
	// (2 ms + 10 x 1 ms) at 1000 values, for 2000 values: 24 ms.
	if got := c.Step("ss", OpProtect, 2000, 10); got != 24*time.Millisecond {
		t.Errorf("step %v, want 24ms", got)
	}
	if got := c.Step("ss", OpReveal, 2000, 10); got != 0 {
		t.Errorf("a step the table lacks costs %v", got)
	}
	if err := c.Covers("ckks"); err == nil {
		t.Error("a table without ckks covers it")
	}
	if _, err := parseCosts([]byte(`{"len":10,"ops":{"ss":{"protect":{"base_s":-1}}}}`)); err == nil {
		t.Error("a negative cost was accepted")
	}
}

// TestClockFiresInOrderWhenIdle: timers fire in the order of their
// instants, only when nothing is in flight; a cancelled one never fires.
func TestClockFiresInOrderWhenIdle(t *testing.T) {
	var mu sync.Mutex
	var fired []string
	var c *Clock
	c = NewClock(func(p any) {
		mu.Lock()
		fired = append(fired, p.(string))
		mu.Unlock()
		c.Done() // the party handles the timer at once
	}, nil)
	c.After(3*time.Second, "c")
	c.After(time.Second, "a")
	cancel := c.After(2*time.Second, "cancelled")
	c.After(time.Second, "a2") // same instant: after "a"
	cancel()
	c.Sent()
	c.Sent()
	c.Done()
	if len(fired) != 0 {
		t.Fatalf("fired %v with a message in flight", fired)
	}
	c.Done() // nothing in flight: every timer fires, one after another
	if got := strings.Join(fired, ","); got != "a,a2,c" {
		t.Errorf("fired %s, want a,a2,c", got)
	}
	if c.Now() != 3*time.Second || c.Pending() != 0 {
		t.Errorf("now %v, %d pending", c.Now(), c.Pending())
	}
}
