package sim

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Device is one party's hardware and connection.
type Device struct {
	// FLOPS is the sustained rate of training and evaluation, in
	// floating-point operations per second.
	FLOPS float64 `json:"flops"`
	Link
	// Windows are the spans of simulated time in which the device is
	// available, sorted and disjoint; none means always.
	Windows []Window `json:"windows,omitempty"`
}

// Window is a span [From, To) of simulated time since the start of a run.
type Window struct{ From, To time.Duration }

// Available reports whether the device is available at t.
func (d Device) Available(t time.Duration) bool {
	_, ok := d.AvailableUntil(t)
	return ok
}

// AvailableUntil returns the end of the window holding t (the end of time
// for a device without windows), and whether one holds t.
func (d Device) AvailableUntil(t time.Duration) (time.Duration, bool) {
	if len(d.Windows) == 0 {
		return math.MaxInt64, true
	}
	for _, w := range d.Windows {
		if w.From <= t && t < w.To {
			return w.To, true
		}
	}
	return 0, false
}

// Check reports whether d is usable.
func (d Device) Check() error {
	if !(d.FLOPS > 0) || math.IsInf(d.FLOPS, 0) {
		return fmt.Errorf("compute %g FLOP/s: want a positive, finite rate", d.FLOPS)
	}
	if err := d.Link.Check(); err != nil {
		return err
	}
	for i, w := range d.Windows {
		switch {
		case w.From < 0 || w.To <= w.From:
			return fmt.Errorf("window %d [%v, %v): want 0 <= from < to", i+1, w.From, w.To)
		case i > 0 && w.From < d.Windows[i-1].To:
			return fmt.Errorf("window %d [%v, %v) overlaps or precedes window %d [%v, %v)", i+1, w.From, w.To, i, d.Windows[i-1].From, d.Windows[i-1].To)
		}
	}
	return nil
}

// Train returns the simulated time of training flopsPerExample ×
// examples × epochs forward FLOPs' worth of work (3× for the backward
// pass, see the package doc) on d.
func (d Device) Train(flopsPerExample float64, examples, epochs int) time.Duration {
	return Seconds(3 * flopsPerExample * float64(examples) * float64(epochs) / d.FLOPS)
}

// Evaluate returns the simulated time of a forward pass over examples.
func (d Device) Evaluate(flopsPerExample float64, examples int) time.Duration {
	return Seconds(flopsPerExample * float64(examples) / d.FLOPS)
}

// deviceRecord is one row of a devices file, in the file's units.
type deviceRecord struct {
	GFLOPS    *float64     `json:"gflops"`
	UpMbps    *float64     `json:"up_mbps"`
	DownMbps  *float64     `json:"down_mbps"`
	LatencyMs *float64     `json:"latency_ms"`
	Windows   [][2]float64 `json:"windows"` // seconds
}

// deviceColumns are the columns of a CSV devices file; windows is
// optional: "from-to" spans in seconds, separated by ";".
var deviceColumns = []string{"gflops", "up_mbps", "down_mbps", "latency_ms", "windows"}

// ReadDevices reads a devices file: one device per client, in a CSV file
// with the header gflops,up_mbps,down_mbps,latency_ms[,windows] (windows:
// "from-to" spans in seconds, separated by ";", empty for always) or a
// JSON array of objects with those keys (windows: [[from, to], ...]). The
// file's type is its extension. Every row must give every value; rates
// must be positive, latencies not negative, and windows sorted and
// disjoint. An error names the file, the row and the value.
func ReadDevices(path string) ([]Device, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("devices: %w", err)
	}
	defer f.Close()
	var recs []deviceRecord
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".csv":
		recs, err = readDeviceCSV(f)
	case ".json":
		recs, err = readDeviceJSON(f)
	default:
		err = fmt.Errorf("unknown file type %q (want .csv or .json)", ext)
	}
	if err != nil {
		return nil, fmt.Errorf("devices %s: %w", path, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("devices %s: no devices", path)
	}
	devices := make([]Device, len(recs))
	for i, r := range recs {
		if devices[i], err = r.device(); err != nil {
			return nil, fmt.Errorf("devices %s: device %d: %w", path, i+1, err)
		}
	}
	return devices, nil
}

func (r deviceRecord) device() (Device, error) {
	for _, v := range []struct {
		name string
		p    *float64
	}{{"gflops", r.GFLOPS}, {"up_mbps", r.UpMbps}, {"down_mbps", r.DownMbps}, {"latency_ms", r.LatencyMs}} {
		if v.p == nil {
			return Device{}, fmt.Errorf("no %s", v.name)
		}
		if math.IsNaN(*v.p) || math.IsInf(*v.p, 0) {
			return Device{}, fmt.Errorf("%s is %g", v.name, *v.p)
		}
	}
	d := Device{FLOPS: *r.GFLOPS * 1e9, Link: Link{Up: *r.UpMbps * Mbps, Down: *r.DownMbps * Mbps, Latency: Seconds(*r.LatencyMs / 1e3)}}
	for _, w := range r.Windows {
		d.Windows = append(d.Windows, Window{Seconds(w[0]), Seconds(w[1])})
	}
	return d, d.Check()
}

func readDeviceCSV(r io.Reader) ([]deviceRecord, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, errors.New("empty file")
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[strings.TrimSpace(name)] = i
	}
	for _, name := range deviceColumns[:4] {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("no column %q (want %s)", name, strings.Join(deviceColumns, ","))
		}
	}
	var recs []deviceRecord
	for n, row := range rows[1:] {
		field := func(name string) (string, bool) {
			i, ok := col[name]
			if !ok || i >= len(row) {
				return "", false
			}
			return strings.TrimSpace(row[i]), true
		}
		var rec deviceRecord
		for name, dst := range map[string]**float64{"gflops": &rec.GFLOPS, "up_mbps": &rec.UpMbps, "down_mbps": &rec.DownMbps, "latency_ms": &rec.LatencyMs} {
			s, ok := field(name)
			if !ok || s == "" {
				return nil, fmt.Errorf("row %d: no %s", n+1, name)
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("row %d: %s %q is not a number", n+1, name, s)
			}
			*dst = &v
		}
		if s, _ := field("windows"); s != "" {
			for _, span := range strings.Split(s, ";") {
				from, to, ok := strings.Cut(strings.TrimSpace(span), "-")
				a, err1 := strconv.ParseFloat(strings.TrimSpace(from), 64)
				b, err2 := strconv.ParseFloat(strings.TrimSpace(to), 64)
				if !ok || err1 != nil || err2 != nil {
					return nil, fmt.Errorf("row %d: window %q: want from-to in seconds", n+1, span)
				}
				rec.Windows = append(rec.Windows, [2]float64{a, b})
			}
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

func readDeviceJSON(r io.Reader) ([]deviceRecord, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var recs []deviceRecord
	if err := dec.Decode(&recs); err != nil {
		return nil, err
	}
	return recs, nil
}

// ReferenceFLOPS is the training rate of one core of the machine the
// shipped cost table was calibrated on (an AMD EPYC with AVX-512, see
// costs.json): this project's trainer trains the cnn (12.96 MFLOP per
// example, nn.Model.FLOPs × 3) at about 4,000 examples a second on one
// core with OpenBLAS (go test -tags openblas -bench TrainCNNThreads1
// ./nn: 4,015 to 4,412), about 52 GFLOP/s. It is the default data
// owner's compute.
const ReferenceFLOPS = 50e9

// DefaultDevice is a data owner's device when none is given: one core of
// the reference machine on the broadband network.
func DefaultDevice() Device {
	link, _, _ := Network("broadband")
	return Device{FLOPS: ReferenceFLOPS, Link: link}
}

// DefaultServer is the device of the model owner and the secure workers
// when none is given: two cores of the reference machine on the lan
// network.
func DefaultServer() Device {
	link, _, _ := Network("lan")
	return Device{FLOPS: 2 * ReferenceFLOPS, Link: link}
}
