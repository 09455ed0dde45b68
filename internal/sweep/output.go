package sweep

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/actors/policy"
	"github.com/fedactor/fedactor/internal/atomicfile"
	"github.com/fedactor/fedactor/internal/results"
	"github.com/fedactor/fedactor/nn"
	"github.com/fedactor/fedactor/plots"
)

// Summary is what summary.json holds: the flags, versions, and per
// setting the scheme parameters, final accuracy and rounds.
type Summary struct {
	Experiment string `json:"experiment"`
	Config     Config `json:"config"`
	Provenance
	Settings []Outcome `json:"settings"`
}

// Provenance says where and when a run ran; every experiment's
// summary.json embeds it.
type Provenance struct {
	Backend string    `json:"blas_backend"`
	Go      string    `json:"go"`
	Cores   int       `json:"cores"`
	Started time.Time `json:"started"`
}

// Now returns the provenance of a run of this process starting now.
func Now() Provenance {
	return Provenance{Backend: nn.Backend(), Go: runtime.Version(), Cores: runtime.GOMAXPROCS(0), Started: time.Now().UTC()}
}

// Outcome is one setting's record.
type Outcome struct {
	Setting
	SchemeParams  any                   `json:"scheme_params"`
	Strategy      string                `json:"strategy"`
	FinalAccuracy float64               `json:"final_test_accuracy"`
	SetupSeconds  float64               `json:"setup_seconds"`
	ShardSizes    []int                 `json:"shard_sizes"`
	Labels        [][]int               `json:"label_histogram"`
	Rounds        []actors.RoundMetrics `json:"rounds"`
}

// NewSummary starts the record of a sweep configured by c.
func NewSummary(c Config) *Summary {
	return &Summary{Experiment: "split", Config: c, Provenance: Now()}
}

// Add records one setting's run: its federation, result and the label
// histogram of its owners' shards.
func (s *Summary) Add(st Setting, f actors.Federation, r *actors.Result, labels [][]int) {
	o := Outcome{Setting: st, SchemeParams: f.Scheme.Literal(), Strategy: policy.FedAvg{}.Name(), SetupSeconds: r.SetupSeconds, Labels: labels, Rounds: r.Rounds}
	if f.Strategy != nil {
		o.Strategy = f.Strategy.Name()
	}
	for _, ow := range f.Owners {
		o.ShardSizes = append(o.ShardSizes, len(ow.Indices))
	}
	if f.Clients != nil {
		o.ShardSizes = o.ShardSizes[:0]
		for _, cl := range f.Clients {
			o.ShardSizes = append(o.ShardSizes, cl.Len())
		}
	}
	if n := len(r.Rounds); n > 0 {
		o.FinalAccuracy = r.Rounds[n-1].TestAccuracy
	}
	s.Settings = append(s.Settings, o)
}

// ReadSummary reads the summary.json a sweep wrote to dir.
func ReadSummary(dir string) (*Summary, error) {
	path := filepath.Join(dir, "summary.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &s, nil
}

// has reports whether setting st has finished.
func (s *Summary) has(st Setting) bool {
	return slices.ContainsFunc(s.Settings, func(o Outcome) bool { return o.Setting == st })
}

// Columns of results.csv. Times are seconds; train and protect are means
// over the round's contributing owners, combine the slowest holder's.
var Columns = []string{"scheme", "split", "owners", "round", "test_accuracy", "test_loss", "train_loss",
	"round_seconds", "train_seconds", "protect_seconds", "combine_seconds", "reveal_seconds", "evaluate_seconds",
	"bytes_sent", "contributors", "dropped", "rejected", "epsilon", "error"}

func (s *Summary) rows() [][]string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
	var rows [][]string
	for _, o := range s.Settings {
		for _, r := range o.Rounds {
			rows = append(rows, []string{o.Scheme, o.Split, strconv.Itoa(o.Owners), strconv.Itoa(r.Round),
				f(r.TestAccuracy), f(r.TestLoss), f(r.TrainLoss), f(r.Seconds), f(r.Train), f(r.Protect), f(r.Combine),
				f(r.Reveal), f(r.Evaluate), strconv.FormatInt(r.BytesSent, 10), strconv.Itoa(len(r.Contributors)),
				strings.Join(r.Dropped, " "), strconv.Itoa(rejected(r)), f(r.Epsilon), r.Err})
		}
	}
	return rows
}

// rejected returns the number of messages refused in round r.
func rejected(r actors.RoundMetrics) int {
	n := 0
	for _, c := range actors.CountRejected([]actors.RoundMetrics{r}) {
		n += c
	}
	return n
}

// Write saves results.csv and summary.json to dir.
func (s *Summary) Write(dir string) error {
	if err := results.WriteCSV(filepath.Join(dir, "results.csv"), Columns, s.rows()); err != nil {
		return err
	}
	return results.WriteJSON(filepath.Join(dir, "summary.json"), s)
}

// Plot draws accuracy_<split>.png (a line per worker count and scheme),
// accuracy_owners_<n>.png (a line per split and scheme) and
// labels_<split>_<n>.png (the label histogram of every owner).
func (s *Summary) Plot(dir string) error {
	c := s.Config
	multi := len(c.Schemes) > 1
	line := func(o Outcome, name string) plots.Series {
		if multi {
			name = o.Scheme + ", " + name
		}
		ser := plots.Series{Name: name}
		for _, r := range o.Rounds {
			ser.X = append(ser.X, float64(r.Round))
			ser.Y = append(ser.Y, 100*r.TestAccuracy)
		}
		return ser
	}
	chart := func(title string) plots.Chart {
		return plots.Chart{Title: title, XLabel: "round", YLabel: "test accuracy (%)"}
	}
	for _, split := range c.Splits {
		var series []plots.Series
		for _, o := range s.Settings {
			if o.Split == split {
				series = append(series, line(o, fmt.Sprintf("%d owners", o.Owners)))
			}
		}
		title := fmt.Sprintf("%s, %s split: accuracy per round", c.Model, split)
		if err := plots.Lines(filepath.Join(dir, "accuracy_"+split+".png"), chart(title), series); err != nil {
			return err
		}
	}
	for _, n := range c.Owners {
		var series []plots.Series
		for _, o := range s.Settings {
			if o.Owners == n {
				series = append(series, line(o, o.Split))
			}
		}
		title := fmt.Sprintf("%s, %d owners: accuracy per round", c.Model, n)
		if err := plots.Lines(filepath.Join(dir, fmt.Sprintf("accuracy_owners_%d.png", n)), chart(title), series); err != nil {
			return err
		}
	}
	drawn := map[Setting]bool{}
	for _, o := range s.Settings {
		key := Setting{Split: o.Split, Owners: o.Owners}
		if drawn[key] {
			continue
		}
		drawn[key] = true
		if o.Owners > maxLabelBars {
			continue // unreadable as bars
		}
		if err := plotLabels(dir, o); err != nil {
			return err
		}
	}
	return nil
}

// maxLabelBars is the most owners a label histogram is drawn for.
const maxLabelBars = 100

func plotLabels(dir string, o Outcome) error {
	names := actors.OwnerNames(o.Owners)
	var series []plots.Series
	for class := range o.Labels[0] {
		ser := plots.Series{Name: "class " + strconv.Itoa(class)}
		for _, h := range o.Labels {
			ser.Y = append(ser.Y, float64(h[class]))
		}
		series = append(series, ser)
	}
	title := fmt.Sprintf("%s split, %d owners: labels per owner", o.Split, o.Owners)
	chart := plots.Chart{Title: title, XLabel: "data owner", YLabel: "training examples"}
	return plots.StackedBars(filepath.Join(dir, fmt.Sprintf("labels_%s_%d.png", o.Split, o.Owners)), chart, slices.Clone(names), series)
}

// WriteParams writes a parameter vector as little-endian float64 values.
func WriteParams(path string, p []float64) error {
	buf := make([]byte, 0, 8*len(p))
	for _, v := range p {
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
	}
	return atomicfile.WriteFile(path, buf)
}

// ReadParams reads a vector written by WriteParams.
func ReadParams(path string) ([]float64, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(buf)%8 != 0 {
		return nil, fmt.Errorf("read %s: %d bytes is not a whole number of float64 values", path, len(buf))
	}
	p := make([]float64, len(buf)/8)
	for i := range p {
		p[i] = math.Float64frombits(binary.LittleEndian.Uint64(buf[8*i:]))
	}
	return p, nil
}
