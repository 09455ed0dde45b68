package sweep

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/fedactor/fedactor/actors"
)

// validSummary is a summary.json that -resume accepts: toyConfig cut to
// one setting, finished, of two rounds, the second with a refused message.
func validSummary(tb testing.TB) []byte {
	tb.Helper()
	c := toyConfig("")
	c.Schemes, c.Splits, c.Owners = []string{"plain"}, []string{"iid"}, []int{2}
	s := NewSummary(c)
	s.Settings = []Outcome{{
		Setting: Setting{Scheme: "plain", Split: "iid", Owners: 2}, Strategy: "fedavg", FinalAccuracy: 0.5,
		ShardSizes: []int{3, 3}, Labels: [][]int{{1, 2}, {2, 1}},
		Rounds: []actors.RoundMetrics{
			{Round: 1, Evaluated: true, TestAccuracy: 0.4, Contributors: []string{"alice", "bob"}},
			{Round: 2, Evaluated: true, TestAccuracy: 0.5, Contributors: []string{"alice"}, Dropped: []string{"bob"},
				Rejected: []*actors.Rejection{{Party: "secure-worker", Sender: "bob", Kind: "update", Reason: "stale"}}},
		},
	}}
	b, err := json.Marshal(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// resume reads dir/summary.json as `-resume dir` does.
func resume(dir string) (Config, error) {
	fs := flag.NewFlagSet("fuzz", flag.ContinueOnError)
	f := NewFlags(fs, "fuzz")
	if err := fs.Parse([]string{"-resume", dir}); err != nil {
		return Config{}, err
	}
	return f.Parse()
}

// FuzzReadSummary feeds summary.json files to ReadSummary and to -resume.
// Neither may panic; a summary ReadSummary accepts must give a results.csv
// row per round, and one -resume accepts must hold a configuration that
// validates and survive being written back.
func FuzzReadSummary(f *testing.F) {
	valid := validSummary(f)
	f.Add(valid)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"config":{"workers":[-1]}}`))
	f.Add([]byte(`{"settings":[{"workers":-1,"label_histogram":[[1]]}]}`))
	f.Add([]byte(`{"settings":[{"workers":2,"label_histogram":[[1,2],[3]]}]}`))
	f.Add([]byte(`{"settings":[{"workers":1,"rounds":[{"Rejected":[null]}]}]}`))
	f.Add([]byte(`{"config":{"lr":NaN}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "summary.json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := ReadSummary(dir)
		if err == nil {
			if err := s.Write(t.TempDir()); err != nil {
				t.Fatalf("an accepted summary does not write back: %v", err)
			}
		}
		c, rerr := resume(dir)
		if rerr != nil {
			return
		}
		if err != nil {
			t.Fatalf("-resume accepted a summary that ReadSummary refuses (%v)", err)
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("-resume accepted a configuration that does not validate: %v", err)
		}
		// A resumed sweep writes the old settings under the configuration
		// read back: their rows and JSON. (It also plots them, too slowly
		// to fuzz: TestReadSummaryRefuses covers what Plot needs.)
		resumed := &Summary{Config: c, Settings: s.Settings}
		if err := resumed.Write(t.TempDir()); err != nil {
			t.Fatalf("a resumed summary does not write: %v", err)
		}
	})
}

// FuzzReadParams feeds parameter files to ReadParams: it never panics, and
// what it accepts is a finite vector that encodes back to the same bytes.
func FuzzReadParams(f *testing.F) {
	var ok, nan []byte
	for _, v := range []float64{1.5, -2, 3e-300} {
		ok = binary.LittleEndian.AppendUint64(ok, math.Float64bits(v))
	}
	nan = binary.LittleEndian.AppendUint64(append([]byte(nil), ok...), math.Float64bits(math.NaN()))
	f.Add(ok)
	f.Add(nan)
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "params.f64")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := ReadParams(path)
		if err != nil {
			return
		}
		for i, v := range p {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("accepted parameter %d = %v", i, v)
			}
		}
		var again []byte
		for _, v := range p {
			again = binary.LittleEndian.AppendUint64(again, math.Float64bits(v))
		}
		if string(again) != string(data) {
			t.Fatalf("read %d bytes as %d values that encode differently", len(data), len(p))
		}
	})
}

// TestReadSummaryRefuses: ReadSummary refuses the settings the outputs
// could not be rewritten from, -resume also a configuration that does not
// validate, and a summary without label histograms (as other experiments
// write) is read and redrawn.
func TestReadSummaryRefuses(t *testing.T) {
	write := func(t *testing.T, s *Summary) string {
		t.Helper()
		dir := t.TempDir()
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "summary.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	valid := func(t *testing.T) *Summary {
		var s Summary
		if err := json.Unmarshal(validSummary(t), &s); err != nil {
			t.Fatal(err)
		}
		return &s
	}
	for _, c := range []struct {
		name  string
		spoil func(*Summary)
	}{
		{"no owners", func(s *Summary) { s.Settings[0].Owners = 0 }},
		{"negative owners", func(s *Summary) { s.Settings[0].Owners = -3 }},
		{"ragged label histogram", func(s *Summary) { s.Settings[0].Labels[1] = []int{1} }},
		{"null refused message", func(s *Summary) { s.Settings[0].Rounds[1].Rejected[0] = nil }},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := valid(t)
			c.spoil(s)
			dir := write(t, s)
			if _, err := ReadSummary(dir); err == nil {
				t.Error("ReadSummary accepted it")
			}
			if _, err := resume(dir); err == nil {
				t.Error("-resume accepted it")
			}
		})
	}
	t.Run("config that does not validate", func(t *testing.T) {
		s := valid(t)
		s.Config.LR = -1
		dir := write(t, s)
		if _, err := ReadSummary(dir); err != nil {
			t.Errorf("ReadSummary: %v", err)
		}
		if _, err := resume(dir); err == nil {
			t.Error("-resume accepted -lr -1")
		}
	})
	t.Run("no label histograms", func(t *testing.T) {
		s := valid(t)
		s.Settings[0].Labels = nil
		dir := write(t, s)
		back, err := ReadSummary(dir)
		if err != nil {
			t.Fatal(err)
		}
		c, err := resume(dir)
		if err != nil {
			t.Fatal(err)
		}
		redrawn := &Summary{Config: c, Settings: back.Settings}
		if err := redrawn.Write(dir); err != nil {
			t.Fatal(err)
		}
		if err := redrawn.Plot(dir); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "accuracy_iid.png")); err != nil {
			t.Error(err)
		}
	})
}

// TestParamsRefuseNonFinite: neither WriteParams nor ReadParams passes a
// NaN or an infinity.
func TestParamsRefuseNonFinite(t *testing.T) {
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		path := filepath.Join(t.TempDir(), "p.f64")
		if err := WriteParams(path, []float64{1, bad}); err == nil {
			t.Errorf("WriteParams wrote %v", bad)
		}
		raw := binary.LittleEndian.AppendUint64(nil, math.Float64bits(bad))
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadParams(path); err == nil {
			t.Errorf("ReadParams read %v", bad)
		}
	}
}
