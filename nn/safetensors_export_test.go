package nn

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/fedactor/fedactor/dataset"
)

// envExportDir names the directory TestExportMNIST writes to; the test is
// skipped unless it is set.
const envExportDir = "FEDACTOR_EXPORT_DIR"

// exportModels are the models TestExportMNIST exports, each with the
// number of MNIST training examples it sees (one epoch): fewer for
// McMahanCNN, whose 1.7 million parameters train slowly, but enough to
// classify far better than chance.
var exportModels = []struct {
	name     string
	examples int
}{
	{CNN, 6000},
	{MLP, 6000},
	{LogReg, 6000},
	{McMahanCNN, 1200},
}

// TestExportMNIST trains each model of exportModels for one epoch on the
// first MNIST training images and writes, to the directory named by
// FEDACTOR_EXPORT_DIR:
//
//	<model>.safetensors  the model, with the Go-side test accuracy in its
//	                     metadata (test_accuracy, test_correct)
//	<model>.logits.f32   its logits on the 10,000 test images,
//	                     little-endian float32, [10000][10]
//
// scripts/check_safetensors.py rebuilds each module from the file's
// metadata (input shape and layers, 'same' padding included), loads both
// into PyTorch and compares. It needs MNIST in FEDACTOR_DATA (e.g.
// /work/shared/datasets) and takes about a minute:
//
//	FEDACTOR_DATA=/work/shared/datasets FEDACTOR_EXPORT_DIR=/tmp/export \
//	    go test -tags openblas -run TestExportMNIST -v ./nn
func TestExportMNIST(t *testing.T) {
	dir := os.Getenv(envExportDir)
	if dir == "" {
		t.Skipf("%s not set", envExportDir)
	}
	dataDir := dataset.DataDir("")
	if dataDir == "" {
		t.Fatalf("%s must name the directory holding mnist/", dataset.EnvDataDir)
	}
	data, err := dataset.Load("mnist", dataset.Options{Dir: dataDir, CacheDir: t.TempDir(), SystemDir: t.TempDir(), Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for k, em := range exportModels {
		name := em.name
		train := make([]int, em.examples)
		for i := range train {
			train[i] = i
		}
		rng := rand.New(rand.NewPCG(2024, uint64(k)))
		m, err := New(name, rng)
		if err != nil {
			t.Fatal(err)
		}
		tr := Trainer{Model: m, Optimizer: NewAdam(1e-3), BatchSize: 32}
		if _, err := tr.TrainEpoch(data.Train, train, rng); err != nil {
			t.Fatal(err)
		}
		acc, _, err := tr.Evaluate(data.Test, nil)
		if err != nil {
			t.Fatal(err)
		}

		// Logits of every test example, and the accuracy they imply.
		test := data.Test
		const chunk = 100
		w := newWork(m.a, chunk, false)
		logits := make([]float32, 0, test.Len()*m.Classes())
		correct := 0
		for lo := 0; lo < test.Len(); lo += chunk {
			idx := make([]int, min(chunk, test.Len()-lo))
			for i := range idx {
				idx[i] = lo + i
			}
			if err := w.load(test, idx); err != nil {
				t.Fatal(err)
			}
			out := w.forward(m.w, len(idx), &fwdCtx{})
			for e := range idx {
				row := out[e*m.Classes() : (e+1)*m.Classes()]
				best := 0
				for j, v := range row {
					if v > row[best] {
						best = j
					}
				}
				if best == test.Label(lo+e) {
					correct++
				}
			}
			logits = append(logits, out[:len(idx)*m.Classes()]...)
		}
		if got := float64(correct) / float64(test.Len()); math.Abs(got-acc) > 1e-12 {
			t.Fatalf("%s: argmax of logits gives accuracy %v, Evaluate %v", name, got, acc)
		}

		meta := map[string]string{
			"dataset":       "mnist",
			"training":      fmt.Sprintf("1 epoch on the first %d training images, Adam lr 0.001, batch 32", em.examples),
			"test_accuracy": fmt.Sprintf("%.4f", acc),
			"test_correct":  fmt.Sprintf("%d/%d", correct, test.Len()),
			"input_scaling": "pixel/255, float32",
		}
		path := filepath.Join(dir, name+".safetensors")
		if err := SaveSafetensorsFile(path, m, meta); err != nil {
			t.Fatal(err)
		}
		raw := make([]byte, 0, 4*len(logits))
		for _, v := range logits {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
		if err := os.WriteFile(filepath.Join(dir, name+".logits.f32"), raw, 0o644); err != nil {
			t.Fatal(err)
		}
		// The written file loads back to the same model.
		back, err := New(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := LoadSafetensorsFile(path, back); err != nil {
			t.Fatal(err)
		}
		if acc2, _, err := back.Evaluate(test, nil, 0); err != nil || acc2 != acc {
			t.Fatalf("%s: reloaded model accuracy %v (err %v), want %v", name, acc2, err, acc)
		}
		t.Logf("%-11s Go test accuracy %.4f (%d/%d) -> %s", name, acc, correct, test.Len(), path)
	}
}
