package nn

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// benchTrain measures training throughput of the named model with Adam.
func benchTrain(b *testing.B, name string, batch, threads int) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := randomSource(rng, 4096, 784, 10)
	m, err := New(name, rng)
	if err != nil {
		b.Fatal(err)
	}
	tr := Trainer{Model: m, Optimizer: NewAdam(1e-3), BatchSize: batch, Threads: threads}
	idx := make([]int, batch)
	if _, err := tr.TrainBatch(data, idx, rng); err != nil { // warm up buffers
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		for j := range idx {
			idx[j] = rng.IntN(data.Len())
		}
		if _, err := tr.TrainBatch(data, idx, rng); err != nil {
			b.Fatal(err)
		}
	}
	reportThroughput(b, b.N*batch, cpuTime()-cpu0)
}

// benchEval measures evaluation throughput of the named model.
func benchEval(b *testing.B, name string, threads int) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 2048
	data := randomSource(rng, n, 784, 10)
	m, err := New(name, rng)
	if err != nil {
		b.Fatal(err)
	}
	tr := Trainer{Model: m, Threads: threads}
	if _, _, err := tr.Evaluate(data, nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, _, err := tr.Evaluate(data, nil); err != nil {
			b.Fatal(err)
		}
	}
	reportThroughput(b, b.N*n, cpuTime()-cpu0)
}

// reportThroughput reports samples per wall-clock second and, as the
// machine may be shared, samples per CPU-second used by the process
// (the rate one fully available core would give, if threads scale).
func reportThroughput(b *testing.B, samples int, cpu time.Duration) {
	b.ReportMetric(float64(samples)/b.Elapsed().Seconds(), "samples/s")
	if cpu > 0 {
		b.ReportMetric(float64(samples)/cpu.Seconds(), "samples/cpu-s")
	}
}

// BenchmarkTrainCNN is the reference measurement: cnn, batch 128, Adam,
// Threads = GOMAXPROCS.
func BenchmarkTrainCNN(b *testing.B) { benchTrain(b, CNN, 128, 0) }

// BenchmarkEvalCNN evaluates the cnn with Threads = GOMAXPROCS.
func BenchmarkEvalCNN(b *testing.B) { benchEval(b, CNN, 0) }

// BenchmarkTrainCNNThreads1 trains the cnn on one goroutine (one
// federated owner per core).
func BenchmarkTrainCNNThreads1(b *testing.B) { benchTrain(b, CNN, 128, 1) }

// BenchmarkEvalCNNThreads1 evaluates the cnn on one goroutine.
func BenchmarkEvalCNNThreads1(b *testing.B) { benchEval(b, CNN, 1) }

// BenchmarkTrainModels covers the other models and smaller batches.
func BenchmarkTrainModels(b *testing.B) {
	for _, name := range []string{MLP, LogReg} {
		for _, batch := range []int{10, 128} {
			b.Run(fmt.Sprintf("%s/batch=%d/threads=%d", name, batch, runtime.GOMAXPROCS(0)), func(b *testing.B) {
				benchTrain(b, name, batch, 0)
			})
		}
	}
	b.Run("cnn/batch=10/threads=1", func(b *testing.B) { benchTrain(b, CNN, 10, 1) })
}
