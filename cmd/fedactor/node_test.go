package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/internal/results"
	"github.com/fedactor/fedactor/internal/sweep"
	"github.com/fedactor/fedactor/internal/testenv"
	"github.com/fedactor/fedactor/nn"
)

// buildBinary builds fedactor with the same BLAS backend as this test, so
// that the cluster and the in-process run compute alike.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fedactor")
	args := []string{"build", "-o", bin}
	if nn.Backend() == "openblas" {
		args = append(args, "-tags", "openblas")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", append(args, ".")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freePorts returns n loopback addresses whose port and port+1 are free.
func freePorts(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	for try := 0; len(addrs) < n; try++ {
		if try == 20*n {
			t.Fatalf("found %d of %d free port pairs", len(addrs), n)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+1))
		l.Close()
		if err != nil {
			continue
		}
		l2.Close()
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", port))
	}
	return addrs
}

// TestClusterMatchesInProcess runs the model owner, the secure worker, bob
// and alice as four OS processes on 127.0.0.1 for 2 rounds and compares the
// final global model with the in-process run of the same flags. The tree
// case adds two processes, one per group's secure worker.
func TestClusterMatchesInProcess(t *testing.T) {
	dataDir := testenv.DataDir(t)
	bin := buildBinary(t)
	for _, c := range []struct {
		name, scheme string
		tol          float64
		groups       int // with -group-size 1: one group worker per owner
	}{{"plain", "plain", 0, 0}, {"ckks", "ckks", 1e-6, 0}, {"ss-tree", "ss", 1e-6, 2}} {
		t.Run(c.name, func(t *testing.T) {
			exp := []string{"-limit", "600", "-test-limit", "500", "-owners", "2", "-splits", "iid", "-rounds", "2", "-scheme", c.scheme, "-seed", "3", "-data-dir", dataDir}
			if c.groups > 0 {
				exp = append(exp, "-group-size", "1")
			}
			addrs := freePorts(t, 4+c.groups)
			seeds := strings.Join(addrs, ",")
			out := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			start := func(bind string, who ...string) *exec.Cmd {
				args := append([]string{"node", "-bind", bind, "-seeds", seeds, "-out", out, "-wait", "60s"}, who...)
				cmd := exec.CommandContext(ctx, bin, append(args, exp...)...)
				cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
				return cmd
			}
			sw := start(addrs[1], "-role", "secure-worker")
			bob := start(addrs[2], "-parties", "bob")
			alice := start(addrs[3], "-parties", "alice")
			others := map[string]*exec.Cmd{"secure worker": sw, "bob": bob, "alice": alice}
			for g := range c.groups {
				others[actors.GroupWorkerName(g)] = start(addrs[4+g], "-role", actors.GroupWorkerName(g))
			}
			mo := start(addrs[0], "-role", "model-owner")
			if err := mo.Wait(); err != nil {
				t.Fatalf("model owner's node: %v", err)
			}
			for name, cmd := range others {
				if err := cmd.Wait(); err != nil {
					t.Errorf("%s's node did not exit cleanly after the run: %v", name, err)
				}
			}
			got, err := sweep.ReadParams(filepath.Join(out, "final_params.f64"))
			if err != nil {
				t.Fatal(err)
			}
			want := inProcess(t, exp)
			if len(got) != len(want) {
				t.Fatalf("cluster model has %d parameters, in-process %d", len(got), len(want))
			}
			var worst float64
			for i := range got {
				worst = max(worst, math.Abs(got[i]-want[i]))
			}
			if worst > c.tol {
				t.Errorf("cluster and in-process models differ by %g (tolerance %g)", worst, c.tol)
			}
			for _, f := range []string{"results.csv", "summary.json", "accuracy_iid.png", "labels_iid_2.png"} {
				if _, err := os.Stat(filepath.Join(out, f)); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestCrashedNodeIsADropout kills alice's node while the model owner is
// paused after round 1 (-pause-after 1): the later rounds go on with bob
// alone, alice recorded as dropped, and the surviving nodes exit.
func TestCrashedNodeIsADropout(t *testing.T) {
	dataDir := testenv.DataDir(t)
	bin := buildBinary(t)
	exp := []string{"-limit", "400", "-test-limit", "200", "-owners", "2", "-splits", "iid", "-rounds", "3", "-scheme", "plain", "-deadline", "2s", "-data-dir", dataDir}
	addrs := freePorts(t, 4)
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmds := map[string]*exec.Cmd{}
	for i, who := range [][]string{{"-role", "model-owner", "-pause-after", "1"}, {"-role", "secure-worker"}, {"-parties", "bob"}, {"-parties", "alice"}} {
		args := append([]string{"node", "-bind", addrs[i], "-seeds", strings.Join(addrs, ","), "-out", out}, who...)
		cmd := exec.CommandContext(ctx, bin, append(args, exp...)...)
		cmd.Stderr = os.Stderr
		cmds[who[1]] = cmd
	}
	progress, err := cmds["model-owner"].StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	resume, err := cmds["model-owner"].StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range cmds {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	}
	// The model owner's output ends when its node exits, at the latest
	// when ctx kills it.
	paused := false
	for lines := bufio.NewScanner(progress); lines.Scan(); {
		t.Log(lines.Text())
		if !strings.HasPrefix(lines.Text(), "paused after round 1") {
			continue
		}
		paused = true
		cmds["alice"].Process.Kill()
		cmds["alice"].Wait() // alice is gone before round 2 starts
		if _, err := io.WriteString(resume, "\n"); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmds["model-owner"].Wait(); err != nil {
		t.Fatalf("model owner's node: %v", err)
	}
	if !paused {
		t.Fatal("the model owner's node never paused after round 1")
	}
	for _, name := range []string{"secure-worker", "bob"} {
		if err := cmds[name].Wait(); err != nil {
			t.Errorf("%s's node did not exit cleanly after the run: %v", name, err)
		}
	}
	rows, err := results.ReadCSV(filepath.Join(out, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("results.csv has %d rows, want header + 3: %v", len(rows), rows)
	}
	col := func(name string) int {
		i := slices.Index(rows[0], name)
		if i < 0 {
			t.Fatalf("results.csv has no %s column: %v", name, rows[0])
		}
		return i
	}
	contributors, dropped, failed := col("contributors"), col("dropped"), col("error")
	for round, row := range rows[1:] {
		want := []string{"1", "alice", ""} // after the crash
		if round == 0 {
			want = []string{"2", "", ""}
		}
		if got := []string{row[contributors], row[dropped], row[failed]}; !slices.Equal(got, want) {
			t.Errorf("round %d: contributors, dropped, error %q; want %q", round+1, got, want)
		}
	}
}

// inProcess runs the experiment flags args in this process and returns the
// final global model.
func inProcess(t *testing.T, args []string) []float64 {
	t.Helper()
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	flags := sweep.NewFlags(fs, "x")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	c, err := flags.Parse()
	if err != nil {
		t.Fatal(err)
	}
	d, err := flags.Load()
	if err != nil {
		t.Fatal(err)
	}
	fed, _, err := sweep.Build(c, c.Settings()[0], d)
	if err != nil {
		t.Fatal(err)
	}
	res, err := actors.Run(context.Background(), fed)
	if err != nil {
		t.Fatal(err)
	}
	return res.Final
}
