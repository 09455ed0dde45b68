package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/internal/testenv"
	"github.com/fedactor/fedactor/nn"
)

// TestKilledRunResumes kills the split binary (SIGKILL) in the middle of
// round 4 of 6, resumes it with -resume, and checks that the rounds
// before the kill are untouched and that every round's accuracy and
// losses equal those of a run that was never killed.
//
// The moment to kill is read, not guessed: once the progress output
// reports round 3, the test watches the data owners' checkpoint files and
// kills as soon as both have been replaced, that is, both owners have
// saved their state after training in round 4, while the model owner's
// checkpoint still ends at round 3 (should the rest of round 4 slip
// through between two looks, it ends at round 4, which the test accepts
// as well).
func TestKilledRunResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary three times")
	}
	dir := testenv.DataDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "split")
	build := []string{"build", "-o", bin}
	if nn.Backend() == "openblas" {
		build = append(build, "-tags", "openblas")
	}
	if out, err := exec.CommandContext(ctx, "go", append(build, ".")...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	args := []string{"-scheme", "plain", "-model", "mlp", "-owners", "2", "-splits", "iid", "-rounds", "6",
		"-limit", "4000", "-test-limit", "1000", "-epochs", "2", "-data-dir", dir}
	whole, killed := filepath.Join(tmp, "whole"), filepath.Join(tmp, "killed")
	if out, err := exec.CommandContext(ctx, bin, append(args, "-out", whole)...).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}

	cmd := exec.CommandContext(ctx, bin, append(args, "-out", killed)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ckpts := filepath.Join(killed, "checkpoints", "plain_iid_2")
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && !strings.Contains(sc.Text(), "round  3/6") {
	}
	// The owners cannot have trained in round 4 before round 3 was
	// reported; each saves its state after training, replacing its file.
	owners := actors.OwnerNames(2)
	saved := make([]os.FileInfo, len(owners))
	for i, o := range owners {
		saved[i], _ = os.Stat(filepath.Join(ckpts, o+".ckpt.json"))
	}
	replaced := func() bool {
		for i, o := range owners {
			st, err := os.Stat(filepath.Join(ckpts, o+".ckpt.json"))
			if err != nil || (saved[i] != nil && os.SameFile(st, saved[i])) {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(time.Minute)
	for i := 0; i < 60000 && time.Now().Before(deadline) && !replaced(); i++ {
		time.Sleep(time.Millisecond) // a look every millisecond, for at most a minute
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("the run was not killed: %v (it may have finished; make rounds longer)", err)
	}
	before := readRounds(t, filepath.Join(ckpts, "model-owner.ckpt.json"), "rounds")
	if n := len(before); n < 3 || n > 4 {
		t.Fatalf("checkpoint holds %d rounds, want 3 (or 4 if round 4 just ended)", n)
	}
	for _, o := range owners {
		if !ownerHolds(filepath.Join(ckpts, o+".ckpt.json"), 4) {
			t.Errorf("%s's checkpoint has no state after round 4: the kill came too early", o)
		}
	}
	t.Logf("killed with %d rounds in the model owner's checkpoint", len(before))

	if out, err := exec.CommandContext(ctx, bin, "-resume", killed, "-data-dir", dir).CombinedOutput(); err != nil {
		t.Fatalf("resumed run: %v\n%s", err, out)
	}
	got := settingRounds(t, killed)
	want := settingRounds(t, whole)
	if len(got) != 6 || len(want) != 6 {
		t.Fatalf("resumed run has %d rounds, uninterrupted %d", len(got), len(want))
	}
	for i := range before {
		if !reflect.DeepEqual(got[i], before[i]) {
			t.Errorf("round %d changed in the resume:\n%v\n%v", i+1, before[i], got[i])
		}
	}
	for i := range got {
		for _, k := range []string{"TestAccuracy", "TestLoss", "TrainLoss", "Contributors"} {
			if !reflect.DeepEqual(got[i][k], want[i][k]) {
				t.Errorf("round %d: %s %v after the resume, %v uninterrupted", i+1, k, got[i][k], want[i][k])
			}
		}
	}
	if _, err := os.Stat(ckpts); !os.IsNotExist(err) {
		t.Errorf("the finished setting's checkpoint was not removed: %v", err)
	}
	if out, err := exec.CommandContext(ctx, bin, "-resume", killed, "-rounds", "3").CombinedOutput(); err == nil || !strings.Contains(string(out), "drop [-rounds]") {
		t.Errorf("-resume with another flag: %v\n%s", err, out)
	}
}

// ownerHolds reports whether the data owner's checkpoint at path holds its
// optimizer state after round.
func ownerHolds(path string, round int) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var c struct {
		States map[int]json.RawMessage `json:"states"`
	}
	if json.Unmarshal(b, &c) != nil {
		return false
	}
	_, ok := c.States[round]
	return ok
}

// readRounds reads the round records under key in the JSON file path.
func readRounds(t *testing.T, path, key string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]json.RawMessage
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var rounds []map[string]any
	if err := json.Unmarshal(v[key], &rounds); err != nil {
		t.Fatal(err)
	}
	return rounds
}

// settingRounds reads the rounds of the one setting in dir/summary.json.
func settingRounds(t *testing.T, dir string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Settings []struct {
			Rounds []map[string]any `json:"rounds"`
		} `json:"settings"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Settings) != 1 {
		t.Fatalf("%s: %d settings", dir, len(s.Settings))
	}
	return s.Settings[0].Rounds
}
