package actors

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/fedactor/fedactor/actors/policy"
	"github.com/fedactor/fedactor/internal/results"
)

// checkpointVersion is the version of the checkpoint files' format.
const checkpointVersion = 1

// ErrNoCheckpoint reports a resume without a checkpoint to resume from.
var ErrNoCheckpoint = errors.New("actors: no checkpoint")

// Checkpoint is the model owner's record after a round: enough to continue
// a run that was killed as if it had not been.
type Checkpoint struct {
	Version int `json:"version"`
	// Run fingerprints the federation (scheme, owners, model size, seed,
	// rounds), so that a checkpoint is never resumed by another run.
	Run   string `json:"run"`
	Round int    `json:"round"`
	// Global is the global model after Round.
	Global Floats `json:"global"`
	// Strategy is the strategy's state, if it has one (policy.Stateful).
	Strategy     Floats         `json:"strategy,omitempty"`
	SetupSeconds float64        `json:"setup_seconds"`
	Rounds       []RoundMetrics `json:"rounds"`
}

// ownerCheckpoint is a data owner's own state, kept by that owner: its
// optimizer state after each of its last two rounds (the model owner's
// checkpoint may be one round behind when the process dies).
type ownerCheckpoint struct {
	Version int            `json:"version"`
	Run     string         `json:"run"`
	States  map[int]Floats `json:"states"`
}

// runFingerprint identifies a federation's configuration.
func (f *Federation) runFingerprint() string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%d|%d|%d|%+v", f.Scheme.Name(), f.Model.NumParams(), f.Seed, f.Rounds, f.Train)
	for _, o := range f.Owners {
		fmt.Fprintf(h, "|%s", o.Name)
		if f.Clients == nil {
			fmt.Fprintf(h, ":%d", o.shardLen())
		}
	}
	for _, c := range f.Clients {
		fmt.Fprintf(h, "|%d", c.Len())
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// checkpointPath is the file in which party keeps its checkpoint.
func (f *Federation) checkpointPath(party string) string {
	return filepath.Join(f.Checkpoint, party+".ckpt.json")
}

// writeJSON writes v to path atomically, making its directory.
func writeJSON(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := results.WriteJSON(path, v); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// readJSON reads path into v; a missing file is ErrNoCheckpoint.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w at %s", ErrNoCheckpoint, path)
	}
	if err != nil {
		return fmt.Errorf("read checkpoint: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("read checkpoint %s: %w", path, err)
	}
	return nil
}

// LoadCheckpoint reads and validates the model owner's checkpoint at path
// for a model of nparams parameters.
func LoadCheckpoint(path string, nparams int) (*Checkpoint, error) {
	var c Checkpoint
	if err := readJSON(path, &c); err != nil {
		return nil, err
	}
	if err := c.validate(nparams); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return &c, nil
}

func (c *Checkpoint) validate(nparams int) error {
	switch {
	case c.Version != checkpointVersion:
		return fmt.Errorf("format version %d, want %d", c.Version, checkpointVersion)
	case c.Round < 1 || c.Round > 1<<24:
		return fmt.Errorf("round %d out of range", c.Round)
	case len(c.Rounds) != c.Round:
		return fmt.Errorf("%d round records for round %d", len(c.Rounds), c.Round)
	case len(c.Global) != nparams:
		return fmt.Errorf("global model of %d parameters, want %d", len(c.Global), nparams)
	case strings.TrimSpace(c.Run) == "":
		return errors.New("no run fingerprint")
	}
	for i, r := range c.Rounds {
		if r.Round != i+1 {
			return fmt.Errorf("record %d is of round %d", i, r.Round)
		}
	}
	for i, x := range c.Global {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("global parameter %d is %g", i, x)
		}
	}
	return nil
}

// loadOwnerState returns the optimizer state owner saved after round
// (nil if it had none then).
func (f *Federation) loadOwnerState(owner string, round int) ([]float64, error) {
	var c ownerCheckpoint
	err := readJSON(f.checkpointPath(owner), &c)
	switch {
	case errors.Is(err, ErrNoCheckpoint):
		return nil, nil // it never trained
	case err != nil:
		return nil, err
	case c.Version != checkpointVersion || c.Run != f.runFingerprint():
		return nil, fmt.Errorf("checkpoint of %s belongs to another run", owner)
	}
	best := -1
	for r := range c.States {
		if r <= round && r > best {
			best = r
		}
	}
	if best < 0 {
		return nil, nil
	}
	return c.States[best], nil
}

// checkOwnerCheckpoint validates owner's checkpoint before a resumed run
// uses it: another run's, or a state the run's optimizer cannot take for
// this model, is an error; no checkpoint is fine (the owner never
// trained).
func (f *Federation) checkOwnerCheckpoint(owner string) error {
	var c ownerCheckpoint
	err := readJSON(f.checkpointPath(owner), &c)
	switch {
	case errors.Is(err, ErrNoCheckpoint):
		return nil
	case err != nil:
		return err
	case c.Version != checkpointVersion || c.Run != f.runFingerprint():
		return fmt.Errorf("checkpoint of %s belongs to another run", owner)
	}
	n := f.Model.NumParams()
	for r, st := range c.States {
		opt, err := f.Train.newOptimizer()
		if err != nil {
			return err
		}
		// A state the optimizer takes, and then steps with on this model.
		if err := opt.SetState(st); err != nil {
			return fmt.Errorf("checkpoint of %s, state after round %d: %w", owner, r, err)
		}
		if err := opt.Step(make([]float32, n), make([]float32, n)); err != nil {
			return fmt.Errorf("checkpoint of %s, state after round %d: %w", owner, r, err)
		}
		for i, x := range st {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("checkpoint of %s, state after round %d: value %d is %g", owner, r, i, x)
			}
		}
	}
	return nil
}

// saveOwnerState records owner's optimizer state after round, keeping the
// latest earlier one too.
func (f *Federation) saveOwnerState(owner string, round int, state []float64) error {
	c := ownerCheckpoint{Version: checkpointVersion, Run: f.runFingerprint(), States: map[int]Floats{}}
	var old ownerCheckpoint
	if err := readJSON(f.checkpointPath(owner), &old); err == nil && old.Run == c.Run {
		prev := -1
		for r := range old.States {
			if r < round && r > prev {
				prev = r
			}
		}
		if prev >= 0 {
			c.States[prev] = old.States[prev]
		}
	}
	c.States[round] = state
	return writeJSON(f.checkpointPath(owner), c)
}

// Floats is a vector that JSON carries exactly and compactly: as base64
// of its little-endian IEEE 754 bits.
type Floats []float64

// MarshalJSON implements json.Marshaler.
func (v Floats) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 8*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return json.Marshal(b)
}

// UnmarshalJSON implements json.Unmarshaler.
func (v *Floats) UnmarshalJSON(data []byte) error {
	var b []byte
	if err := json.Unmarshal(data, &b); err != nil {
		return err
	}
	if len(b)%8 != 0 {
		return fmt.Errorf("float vector of %d bytes", len(b))
	}
	out := make(Floats, len(b)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	*v = out
	return nil
}

// resume restores the global model, round and metrics from the checkpoint.
func (mo *modelOwner) resume() error {
	f := mo.fed
	c, err := LoadCheckpoint(f.checkpointPath(ModelOwnerName), len(mo.global))
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	if c.Run != f.runFingerprint() {
		return fmt.Errorf("resume: the checkpoint in %s belongs to another run (other scheme, owners, model, seed or rounds)", f.Checkpoint)
	}
	if st, ok := f.Strategy.(policy.Stateful); ok {
		if err := st.SetState(c.Strategy); err != nil {
			return fmt.Errorf("resume: strategy state: %w", err)
		}
	}
	if err := mo.eval.SetParams(c.Global); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	mo.global, mo.round, mo.result.Rounds = c.Global, int32(c.Round), c.Rounds
	f.Logger.Info("resuming", "after_round", c.Round, "checkpoint", f.Checkpoint)
	return nil
}

// checkpoint saves the state after the round just recorded.
func (mo *modelOwner) checkpoint() error {
	f := mo.fed
	c := Checkpoint{Version: checkpointVersion, Run: f.runFingerprint(), Round: int(mo.round), Global: mo.global,
		SetupSeconds: mo.result.SetupSeconds, Rounds: mo.result.Rounds}
	if st, ok := f.Strategy.(policy.Stateful); ok {
		c.Strategy = st.State(nil)
	}
	return writeJSON(f.checkpointPath(ModelOwnerName), c)
}
