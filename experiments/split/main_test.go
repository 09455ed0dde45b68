package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fedactor/fedactor/dataset"
)

// TestKilledRunResumes kills the split binary (SIGKILL) in the middle of
// round 4 of 6, resumes it with -resume, and checks that the rounds
// before the kill are untouched and that every round's accuracy and
// losses equal those of a run that was never killed.
func TestKilledRunResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary three times")
	}
	if os.Getenv(dataset.EnvDataDir) == "" {
		t.Skip("set FEDACTOR_DATA to the directory holding mnist/ to run")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "split")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	args := []string{"-scheme", "plain", "-model", "mlp", "-owners", "2", "-splits", "iid", "-rounds", "6",
		"-limit", "4000", "-test-limit", "1000", "-epochs", "2"}
	whole, killed := filepath.Join(tmp, "whole"), filepath.Join(tmp, "killed")
	if out, err := exec.Command(bin, append(args, "-out", whole)...).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}

	cmd := exec.Command(bin, append(args, "-out", killed)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	seconds := regexp.MustCompile(`round  3/6 .*\(([0-9.]+)s;`)
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if m := seconds.FindStringSubmatch(sc.Text()); m != nil {
			s, _ := strconv.ParseFloat(m[1], 64)
			time.Sleep(time.Duration(s / 2 * float64(time.Second))) // half way through round 4
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("the run was not killed: %v (it may have finished; make rounds longer)", err)
	}
	ckpt := filepath.Join(killed, "checkpoints", "plain_iid_2", "model-owner.ckpt.json")
	before := readRounds(t, ckpt, "rounds")
	if n := len(before); n < 3 || n > 4 {
		t.Fatalf("checkpoint holds %d rounds, want 3 (or 4 if round 4 just ended)", n)
	}

	if out, err := exec.Command(bin, "-resume", killed).CombinedOutput(); err != nil {
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
	if _, err := os.Stat(filepath.Join(killed, "checkpoints", "plain_iid_2")); !os.IsNotExist(err) {
		t.Errorf("the finished setting's checkpoint was not removed: %v", err)
	}
	if out, err := exec.Command(bin, "-resume", killed, "-rounds", "3").CombinedOutput(); err == nil || !strings.Contains(string(out), "drop [-rounds]") {
		t.Errorf("-resume with another flag: %v\n%s", err, out)
	}
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
