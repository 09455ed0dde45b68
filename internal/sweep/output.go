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
)

// Summary is what summary.json holds: the flags, versions, and per
// setting the scheme parameters, final accuracy and rounds.
type Summary struct {
	Experiment string `json:"experiment"`
	Config     Config `json:"config"`
	Provenance
	// Deployment is the model of simulated time: the owners' network or
	// devices, the server's device, the crypto cost table.
	Deployment *Deployment `json:"deployment,omitempty"`
	Settings   []Outcome   `json:"settings"`
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

// Outcome is one run's record.
type Outcome struct {
	Setting
	// Label is the name the command gave the run (Job.Label); empty for
	// the settings of a sweep's grid.
	Label        string `json:"label,omitempty"`
	SchemeParams any    `json:"scheme_params"`
	Strategy     string `json:"strategy"`
	// FinalAccuracy is the test accuracy of the last evaluated round.
	FinalAccuracy float64 `json:"final_test_accuracy"`
	// TargetRound is the round whose test accuracy first reached
	// Config.Target, after which the run stopped (0: no target, or not
	// reached).
	TargetRound  int     `json:"target_round,omitempty"`
	SetupSeconds float64 `json:"setup_seconds"`
	// WallSeconds is the run's wall time in this process, set-up included.
	WallSeconds float64               `json:"wall_seconds,omitempty"`
	ShardSizes  []int                 `json:"shard_sizes"`
	Labels      [][]int               `json:"label_histogram"`
	Rounds      []actors.RoundMetrics `json:"rounds"`
	// Elapsed[i] is the wall time from the start of the run to the end of
	// Rounds[i]; it reads 0 for rounds restored from a checkpoint.
	Elapsed []float64 `json:"elapsed_seconds,omitempty"`
	// Error says why the run stopped before its last round (interrupted or
	// failed); its rounds so far are kept. A record saved while the run
	// was still going reads "unfinished after round N".
	Error string `json:"error,omitempty"`
}

// newOutcome starts the record of federation f run as setting st, whose
// owners' shards have the label histogram labels.
func newOutcome(st Setting, f actors.Federation, labels [][]int) *Outcome {
	o := &Outcome{Setting: st, SchemeParams: f.Scheme.Literal(), Strategy: policy.FedAvg{}.Name(), Labels: labels}
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
	return o
}

// record adds round rm, which ended elapsed seconds into the run.
func (o *Outcome) record(rm actors.RoundMetrics, elapsed float64) {
	o.Rounds = append(o.Rounds, rm)
	o.Elapsed = append(o.Elapsed, elapsed)
	if rm.Evaluated {
		o.FinalAccuracy = rm.TestAccuracy
	}
}

// finish takes the rounds from the result of a finished run, which also
// holds the rounds restored from a checkpoint.
func (o *Outcome) finish(r *actors.Result) {
	o.SetupSeconds = r.SetupSeconds
	if restored := len(r.Rounds) - len(o.Elapsed); restored > 0 {
		o.Elapsed = append(make([]float64, restored), o.Elapsed...)
	}
	o.Rounds = r.Rounds
	for _, rm := range r.Rounds {
		if rm.Evaluated {
			o.FinalAccuracy = rm.TestAccuracy
		}
	}
}

// RoundReaching returns the first evaluated round whose test accuracy is
// at least acc, or 0 if none is.
func (o *Outcome) RoundReaching(acc float64) int {
	for _, r := range o.Rounds {
		if r.Evaluated && r.TestAccuracy >= acc {
			return r.Round
		}
	}
	return 0
}

// NewSummary starts the record of a sweep configured by c.
func NewSummary(c Config) *Summary {
	s := &Summary{Experiment: "split", Config: c, Provenance: Now()}
	if d, err := c.deploymentRecord(); err == nil { // Validate has said why not
		s.Deployment = &d
	}
	return s
}

// Add records one setting's finished run, made outside a Runner: its
// federation, result and the label histogram of its owners' shards.
func (s *Summary) Add(st Setting, f actors.Federation, r *actors.Result, labels [][]int) {
	o := newOutcome(st, f, labels)
	o.finish(r)
	s.Settings = append(s.Settings, *o)
}

// ReadSummary reads the summary.json a sweep wrote to dir. It refuses a
// setting that the outputs could not be rewritten from: one without
// owners, a label histogram whose rows differ in length, or a null
// refused-message record. It does not validate the configuration: -resume
// does, and other experiments record configurations of their own.
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
	for i, o := range s.Settings {
		if err := o.check(); err != nil {
			return nil, fmt.Errorf("read %s: setting %d: %w", path, i, err)
		}
	}
	return &s, nil
}

// check reports what in o would stop Write or Plot.
func (o Outcome) check() error {
	if o.Owners < 1 {
		return fmt.Errorf("%d owners", o.Owners)
	}
	for _, h := range o.Labels {
		if len(h) != len(o.Labels[0]) {
			return fmt.Errorf("label histogram rows of %d and %d classes", len(o.Labels[0]), len(h))
		}
	}
	for _, r := range o.Rounds {
		if slices.Contains(r.Rejected, nil) {
			return fmt.Errorf("round %d: a null refused message", r.Round)
		}
	}
	return nil
}

// finished returns the outcomes of the runs that finished.
func (s *Summary) finished() []Outcome {
	return slices.DeleteFunc(slices.Clone(s.Settings), func(o Outcome) bool { return o.Error != "" })
}

// has reports whether setting st has finished.
func (s *Summary) has(st Setting) bool {
	return slices.ContainsFunc(s.Settings, func(o Outcome) bool { return o.Setting == st && o.Error == "" })
}

// Column is one column of a results.csv: its header and its value in a
// row of type R.
type Column[R any] struct {
	Name  string
	Value func(R) string
}

// WriteResults writes every experiment's two record files to dir:
// results.csv, with a header of the columns' names and a line per row,
// and summary.json, holding summary. Both are written atomically.
func WriteResults[R any](dir string, columns []Column[R], rows []R, summary any) error {
	header := make([]string, len(columns))
	for i, c := range columns {
		header[i] = c.Name
	}
	lines := make([][]string, len(rows))
	for i, r := range rows {
		lines[i] = make([]string, len(columns))
		for j, c := range columns {
			lines[i][j] = c.Value(r)
		}
	}
	if err := results.WriteCSV(filepath.Join(dir, "results.csv"), header, lines); err != nil {
		return err
	}
	return results.WriteJSON(filepath.Join(dir, "summary.json"), summary)
}

// Float formats x for a results.csv: 6 significant digits.
func Float(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }

// Row is one line of a sweep's results.csv: a round of an outcome.
type Row struct {
	*Outcome
	Round actors.RoundMetrics
}

// Rows returns a Row per round of every outcome of s, in order.
func (s *Summary) Rows() []Row {
	var rows []Row
	for i := range s.Settings {
		for _, r := range s.Settings[i].Rounds {
			rows = append(rows, Row{&s.Settings[i], r})
		}
	}
	return rows
}

// Columns of a sweep's results.csv. Times are seconds; train and protect
// are means over the round's contributing owners, combine the slowest
// holder's.
var Columns = []Column[Row]{
	{"scheme", func(r Row) string { return r.Scheme }},
	{"split", func(r Row) string { return r.Split }},
	{"owners", func(r Row) string { return strconv.Itoa(r.Owners) }},
	{"round", func(r Row) string { return strconv.Itoa(r.Round.Round) }},
	{"test_accuracy", func(r Row) string { return Float(r.Round.TestAccuracy) }},
	{"test_loss", func(r Row) string { return Float(r.Round.TestLoss) }},
	{"train_loss", func(r Row) string { return Float(r.Round.TrainLoss) }},
	{"round_seconds", func(r Row) string { return Float(r.Round.Seconds) }},
	{"sim_round_seconds", func(r Row) string { return Float(r.Round.SimSeconds) }},
	{"sim_train_seconds", func(r Row) string { return Float(r.Round.SimTrain) }},
	{"sim_upload_seconds", func(r Row) string { return Float(r.Round.SimUpload) }},
	{"sim_time", func(r Row) string { return Float(r.Round.SimTime) }},
	{"train_seconds", func(r Row) string { return Float(r.Round.Train) }},
	{"protect_seconds", func(r Row) string { return Float(r.Round.Protect) }},
	{"combine_seconds", func(r Row) string { return Float(r.Round.Combine) }},
	{"reveal_seconds", func(r Row) string { return Float(r.Round.Reveal) }},
	{"evaluate_seconds", func(r Row) string { return Float(r.Round.Evaluate) }},
	{"bytes_sent", func(r Row) string { return strconv.FormatInt(r.Round.BytesSent, 10) }},
	{"contributors", func(r Row) string { return strconv.Itoa(len(r.Round.Contributors)) }},
	{"dropped", func(r Row) string { return strings.Join(r.Round.Dropped, " ") }},
	{"rejected", func(r Row) string { return strconv.Itoa(rejected(r.Round)) }},
	{"epsilon", func(r Row) string { return Float(r.Round.Epsilon) }},
	{"error", func(r Row) string { return r.Round.Err }},
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
	return WriteResults(dir, Columns, s.Rows(), s)
}

// WriteParams writes a parameter vector as little-endian float64 values.
// It refuses a NaN or infinite parameter, as ReadParams does.
func WriteParams(path string, p []float64) error {
	if err := finiteParams(p); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	buf := make([]byte, 0, 8*len(p))
	for _, v := range p {
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
	}
	return atomicfile.WriteFile(path, buf)
}

// ReadParams reads a vector written by WriteParams. It refuses a file
// that is not a whole number of values or holds a NaN or infinity.
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
	if err := finiteParams(p); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return p, nil
}

// finiteParams reports the first parameter of p that is NaN or infinite.
func finiteParams(p []float64) error {
	for i, v := range p {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("parameter %d is %v", i, v)
		}
	}
	return nil
}
