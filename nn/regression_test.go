package nn

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/fedactor/fedactor/dataset"
)

// dataset.Table is the regression source of the experiments.
var _ TargetSource = (*dataset.Table)(nil)

// gradCapture is an Optimizer that records the gradient of each step and
// leaves the parameters alone.
type gradCapture struct{ g []float32 }

func (o *gradCapture) Step(params, grads []float32) error {
	o.g = append(o.g[:0], grads...)
	return nil
}
func (o *gradCapture) Reset()                        { o.g = nil }
func (o *gradCapture) State(dst []float64) []float64 { return dst[:0] }
func (o *gradCapture) SetState(s []float64) error    { return nil }

// randomTable returns n examples of d uniform [0,1) features and k
// standard normal targets.
func randomTable(rng *rand.Rand, n, d, k int) *dataset.Table {
	t := &dataset.Table{Inputs: d, Outputs: k, X: make([]float32, n*d), Y: make([]float32, n*k)}
	for i := range t.X {
		t.X[i] = rng.Float32()
	}
	for i := range t.Y {
		t.Y[i] = float32(rng.NormFloat64())
	}
	return t
}

// seq returns 0, …, n-1.
func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func TestNewRegression(t *testing.T) {
	m, err := NewRegression(Shape{3}, []Layer{Dense(4), ReLU(), Dense(1)}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if !m.Regression() || m.Name() != "regression" || m.Classes() != 1 || m.NumParams() != 3*4+4+4+1 {
		t.Errorf("regressor: Regression %t, Name %q, Classes %d, NumParams %d", m.Regression(), m.Name(), m.Classes(), m.NumParams())
	}
	if c := m.Clone(); !c.Regression() {
		t.Error("Clone of a regressor is not a regressor")
	}
	// Glorot initialisation as for classifiers.
	if slices.ContainsFunc(m.w[:12], func(v float32) bool { return v == 0 || math.Abs(float64(v)) > math.Sqrt(6.0/7) }) {
		t.Errorf("first kernel %v is not Glorot-uniform", m.w[:12])
	}
	c, _ := NewModel(Shape{3}, []Layer{Dense(2)}, nil)
	if c.Regression() {
		t.Error("classifier reports Regression")
	}
	for _, tc := range []struct {
		name   string
		input  Shape
		layers []Layer
		want   string
	}{
		{"no layers", Shape{4}, nil, "no layers"},
		{"last not dense", Shape{4}, []Layer{Dense(3), ReLU()}, "last layer of a regression model must be Dense"},
		{"last dropout", Shape{4}, []Layer{Dense(3), Dropout(0.5)}, "must be Dense"},
		{"last conv", Shape{1, 4, 4}, []Layer{Conv2D(2, 3)}, "must be Dense"},
		{"zero units", Shape{4}, []Layer{Dense(0)}, "positive"},
		{"dense on image", Shape{1, 4, 4}, []Layer{Dense(1)}, "not flat"},
	} {
		_, err := NewRegression(tc.input, tc.layers, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// checkRegGrad compares grad with central finite differences of the loss
// that Evaluate reports, with checkGrad's steps and tolerances.
func checkRegGrad(m *Model, src Source, idx []int, grad []float32) error {
	coords := make([]int, len(m.w))
	for j := range coords {
		coords[j] = j
	}
	return checkGradOf(m, grad, coords, gradSteps, gradAtol, gradRtol, func() (float64, error) {
		_, l, err := m.Evaluate(src, idx, 1)
		return l, err
	})
}

// TestRegressionGradients checks the gradient TrainBatch hands to the
// optimizer for the squared-error loss against finite differences of
// Evaluate's loss, over two micro-batches and two threads, and makes sure
// the check catches a gradient off by the factor 2 or a sign.
func TestRegressionGradients(t *testing.T) {
	for i, tc := range []struct {
		name   string
		input  Shape
		layers []Layer
	}{
		{"linear", Shape{3}, []Layer{Dense(1)}},
		{"hidden", Shape{4}, []Layer{Dense(6), ReLU(), Dense(1)}},
		{"hidden-multi", Shape{5}, []Layer{Dense(6), ReLU(), Dense(4), ReLU(), Dense(3)}},
		{"conv", Shape{1, 5, 5}, []Layer{Conv2D(2, 3), ReLU(), Flatten(), Dense(2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 11))
			m, err := NewRegression(tc.input, tc.layers, rng)
			if err != nil {
				t.Fatal(err)
			}
			for j := range m.w {
				if m.w[j] == 0 {
					m.w[j] = 0.1 * float32(rng.NormFloat64())
				}
			}
			src := randomTable(rng, 20, tc.input.Size(), m.Classes())
			idx := seq(20)
			opt := &gradCapture{}
			tr := Trainer{Model: m, Optimizer: opt, BatchSize: 20, Threads: 2}
			trainLoss, err := tr.TrainBatch(src, idx, rng)
			if err != nil {
				t.Fatal(err)
			}
			acc, evalLoss, err := m.Evaluate(src, idx, 2)
			if err != nil {
				t.Fatal(err)
			}
			if acc != 0 || math.Abs(trainLoss-evalLoss) > 1e-6*evalLoss {
				t.Errorf("TrainBatch loss %v, Evaluate accuracy %v and loss %v; want equal losses and accuracy 0", trainLoss, acc, evalLoss)
			}
			if err := checkRegGrad(m, src, idx, opt.g); err != nil {
				t.Error(err)
			}
			last := m.NumParams() - 1 // a bias of the output layer
			for _, bug := range []struct {
				name string
				f    func(g []float32)
			}{
				{"without the factor 2", func(g []float32) {
					for j := range g {
						g[j] /= 2
					}
				}},
				{"output bias sign flipped", func(g []float32) { g[last] = -g[last] + 0.01 }},
			} {
				bad := slices.Clone(opt.g)
				bug.f(bad)
				if err := checkRegGrad(m, src, idx, bad); err == nil {
					t.Errorf("%s: wrong gradient not caught", bug.name)
				}
			}
		})
	}
}

// TestRegressionEvaluate checks Evaluate's loss against a mean squared
// error computed by hand.
func TestRegressionEvaluate(t *testing.T) {
	m, err := NewRegression(Shape{2}, []Layer{Dense(2)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// W = [[1, 2], [0, -1]], b = [0.5, -1].
	if err := m.SetParams([]float64{1, 2, 0, -1, 0.5, -1}); err != nil {
		t.Fatal(err)
	}
	data := &dataset.Table{
		Inputs: 2, Outputs: 2,
		X: []float32{1, 0, 0, 1, 2, -1},
		Y: []float32{1, -1, 3, 0, 0.5, 1},
	}
	// Outputs (1.5, -1), (2.5, -2), (0.5, 0); squared errors 0.25,
	// 0.25 + 4 and 1, mean 5.5/3.
	const want = 5.5 / 3
	for _, threads := range []int{1, 2} {
		acc, loss, err := m.Evaluate(data, nil, threads)
		if err != nil {
			t.Fatal(err)
		}
		if acc != 0 || math.Abs(loss-want) > 1e-12 {
			t.Errorf("threads %d: accuracy %v, loss %v; want 0, %v", threads, acc, loss, want)
		}
	}
	if _, loss, _ := m.Evaluate(data, []int{1}, 1); math.Abs(loss-4.25) > 1e-12 {
		t.Errorf("example 1 alone: loss %v, want 4.25", loss)
	}
	tr := Trainer{Model: m, Optimizer: &SGD{LR: 0}, BatchSize: 3}
	if loss, err := tr.TrainBatch(data, []int{0, 1, 2}, rand.New(rand.NewPCG(1, 1))); err != nil || math.Abs(loss-want) > 1e-12 {
		t.Errorf("TrainBatch loss %v, %v; want %v", loss, err, want)
	}
}

// TestRegressionLearnsLinearData trains a linear regressor with SGD on
// LinearData and checks that it recovers the known coefficients, the same
// for any Threads.
func TestRegressionLearnsLinearData(t *testing.T) {
	coef := []float64{1.5, -2, 0.5}
	const bias, noise = 0.7, 0.1
	train := dataset.LinearData(512, coef, bias, noise, rand.New(rand.NewPCG(1, 2)))
	test := dataset.LinearData(256, coef, bias, noise, rand.New(rand.NewPCG(3, 4)))
	base, err := NewRegression(Shape{3}, []Layer{Dense(1)}, rand.New(rand.NewPCG(5, 6)))
	if err != nil {
		t.Fatal(err)
	}
	_, before, err := base.Evaluate(test, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	var first []float32
	for _, threads := range []int{1, 3} {
		m := base.Clone()
		tr := Trainer{Model: m, Optimizer: &SGD{LR: 0.05}, BatchSize: 16, Threads: threads}
		rng := rand.New(rand.NewPCG(7, 8))
		for range 10 {
			if _, err := tr.TrainEpoch(train, nil, rng); err != nil {
				t.Fatal(err)
			}
		}
		if first == nil {
			first = m.w
		} else if !slices.Equal(first, m.w) {
			t.Errorf("threads %d: parameters differ from threads 1", threads)
		}
		// Weight [1][3], then bias [1].
		want := append(slices.Clone(coef), bias)
		for j, w := range m.Params(nil) {
			if math.Abs(w-want[j]) > 0.03 {
				t.Errorf("threads %d: parameter %d is %.4f, want %.4f", threads, j, w, want[j])
			}
		}
		_, after, err := m.Evaluate(test, nil, threads)
		if err != nil {
			t.Fatal(err)
		}
		// The best possible test loss is about noise² = 0.01.
		if after > 0.015 || after > before/50 {
			t.Errorf("threads %d: test loss %.4f after training, %.4f before; want about %g", threads, after, before, noise*noise)
		}
	}
}

// TestRegressionPySyftToy trains the linear model of PySyft's toy
// federated-learning tutorial, y = w·x + b on the points (0,0), (0,1),
// (1,0), (1,1) with targets 0, 0, 1, 1, by SGD with learning rate 0.2 on
// batches of 2: the two owners' halves of the data as full batches in
// turn, or shuffled batches of 2 of all four points. The data is fitted
// exactly by w = (1, 0), b = 0.
func TestRegressionPySyftToy(t *testing.T) {
	toy := &dataset.Table{
		Inputs: 2, Outputs: 1,
		X: []float32{0, 0, 0, 1, 1, 0, 1, 1},
		Y: []float32{0, 0, 1, 1},
	}
	halves := [][]int{{0, 1}, {2, 3}} // "bob" and "alice"
	for _, mode := range []string{"halves", "shuffled"} {
		t.Run(mode, func(t *testing.T) {
			m, err := NewRegression(Shape{2}, []Layer{Dense(1)}, rand.New(rand.NewPCG(0, 0)))
			if err != nil {
				t.Fatal(err)
			}
			_, initial, err := m.Evaluate(toy, nil, 1)
			if err != nil {
				t.Fatal(err)
			}
			tr := Trainer{Model: m, Optimizer: &SGD{LR: 0.2}, BatchSize: 2, Threads: 1}
			rng := rand.New(rand.NewPCG(1, 2))
			for step := 0; step < 100; {
				if mode == "halves" {
					_, err = tr.TrainBatch(toy, halves[step%2], rng)
					step++
				} else {
					_, err = tr.TrainEpoch(toy, nil, rng)
					step += 2
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			_, loss, err := m.Evaluate(toy, nil, 1)
			if err != nil {
				t.Fatal(err)
			}
			if !(loss < 1e-3) || !(loss < initial/100) {
				t.Errorf("loss %.3g after 100 steps, %.3g before; want below 1e-3", loss, initial)
			}
			p := m.Params(nil)
			for j, want := range []float64{1, 0, 0} {
				if math.Abs(p[j]-want) > 0.05 {
					t.Errorf("parameters %.4f, want about [1 0 0]", p)
					break
				}
			}
			y := make([]float32, 1)
			for i := range toy.Len() {
				x := toy.X[2*i : 2*i+2]
				pred := p[0]*float64(x[0]) + p[1]*float64(x[1]) + p[2]
				toy.Target(i, y)
				if math.Abs(pred-float64(y[0])) > 0.05 {
					t.Errorf("point %v: prediction %.4f, target %v", x, pred, y[0])
				}
			}
		})
	}
}

// labelled wraps a Table with labels that no classifier would accept.
type labelled struct{ *dataset.Table }

func (l labelled) Read(i int, dst []float32) int {
	l.Table.Read(i, dst)
	return -1000 - i
}

// TestRegressionErrors checks that bad sources give errors, not panics,
// and leave the model unchanged, and that labels are ignored.
func TestRegressionErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	m, err := NewRegression(Shape{4}, []Layer{Dense(3), ReLU(), Dense(2)}, rng)
	if err != nil {
		t.Fatal(err)
	}
	// One batch of two micro-batches, so that a failed TrainEpoch has
	// taken no step.
	const n = 20
	good := randomTable(rng, n, 4, 2)
	nan := randomTable(rng, n, 4, 2)
	nan.Y[2*17+1] = float32(math.NaN())
	inf := randomTable(rng, n, 4, 2)
	inf.Y[0] = float32(math.Inf(1))
	for _, tc := range []struct {
		name string
		src  Source
		idx  []int
		want string
	}{
		{"plain source", randomSource(rng, n, 4, 2), nil, "needs a TargetSource"},
		{"NaN target", nan, nil, "example 17: target 1 is NaN"},
		{"infinite target", inf, nil, "example 0: target 0 is +Inf"},
		{"wrong input size", randomTable(rng, n, 5, 2), nil, "features"},
		{"index out of range", good, []int{3, 19, n}, "index 20 out of range"},
		{"nil source", nil, nil, "nil Source"},
	} {
		for _, threads := range []int{1, 2} {
			before := slices.Clone(m.w)
			tr := &Trainer{Model: m, Optimizer: &SGD{LR: 0.1}, BatchSize: n, Threads: threads}
			_, err := tr.TrainEpoch(tc.src, tc.idx, rng)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: TrainEpoch error %v, want %q", tc.name, err, tc.want)
			}
			if _, _, err := tr.Evaluate(tc.src, tc.idx); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: Evaluate error %v, want %q", tc.name, err, tc.want)
			}
			if !slices.Equal(before, m.w) {
				t.Errorf("%s: failed training changed the model", tc.name)
			}
		}
	}
	plain := randomSource(rng, 10, 4, 2)
	tr := Trainer{Model: m, Optimizer: &SGD{LR: 0.1}, BatchSize: 4}
	if _, err := tr.TrainBatch(plain, []int{0, 1}, rng); !errors.Is(err, ErrNoTargets) {
		t.Errorf("TrainBatch on a plain Source: %v, want ErrNoTargets", err)
	}
	if _, _, err := m.Evaluate(plain, nil, 1); !errors.Is(err, ErrNoTargets) {
		t.Errorf("Evaluate on a plain Source: %v, want ErrNoTargets", err)
	}
	// Labels mean nothing to a regressor.
	_, want, err := m.Evaluate(good, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := m.Evaluate(labelled{good}, nil, 1); err != nil || got != want {
		t.Errorf("with out-of-range labels: loss %v, %v; want %v", got, err, want)
	}
	if _, err := tr.TrainEpoch(labelled{good}, nil, rng); err != nil {
		t.Errorf("training with out-of-range labels: %v", err)
	}
}

// TestRegressionTrainerSharing checks that one Trainer serves a classifier
// and a regressor of the same layers in turn with the results of fresh
// Trainers.
func TestRegressionTrainerSharing(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	layers := []Layer{Dense(5), ReLU(), Dense(3)}
	cls, _ := NewModel(Shape{6}, layers, rng)
	reg, _ := NewRegression(Shape{6}, layers, rng)
	labels := randomSource(rng, 40, 6, 3)
	targets := randomTable(rng, 40, 6, 3)
	type job struct {
		m   *Model
		src Source
	}
	run := func(tr *Trainer, j job) []float32 {
		tr.Model, tr.Optimizer = j.m.Clone(), &SGD{LR: 0.1}
		if _, err := tr.TrainEpoch(j.src, nil, rand.New(rand.NewPCG(1, 1))); err != nil {
			t.Fatal(err)
		}
		return tr.Model.w
	}
	jobs := []job{{cls, labels}, {reg, targets}, {cls, labels}, {reg, targets}}
	shared := Trainer{BatchSize: 8, Threads: 2}
	for i, j := range jobs {
		got := run(&shared, j)
		want := run(&Trainer{BatchSize: 8, Threads: 2}, j)
		if !slices.Equal(got, want) {
			t.Errorf("job %d (regression %t): sharing a Trainer changed the results", i, j.m.Regression())
		}
	}
}

// TestRegressionProx checks that FedProx's term is added to a regressor's
// gradient and loss as to a classifier's.
func TestRegressionProx(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	m, _ := NewRegression(Shape{4}, []Layer{Dense(3), ReLU(), Dense(1)}, rng)
	data := randomTable(rng, 8, 4, 1)
	anchor := m.Params(nil)
	for i := range anchor {
		anchor[i] += rng.NormFloat64()
	}
	const mu = 0.5
	step := func(prox float64, a []float64) (float64, []float32) {
		opt := &gradCapture{}
		tr := Trainer{Model: m, Optimizer: opt, BatchSize: 8, Threads: 1, Prox: prox, Anchor: a}
		loss, err := tr.TrainBatch(data, seq(8), rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		return loss, opt.g
	}
	l0, g0 := step(0, nil)
	l1, g1 := step(mu, anchor)
	var sq float64
	for i, w := range m.w {
		d := float64(w) - float64(float32(anchor[i]))
		sq += d * d
		if want := float64(g0[i]) + mu*d; math.Abs(float64(g1[i])-want) > 1e-5 {
			t.Errorf("parameter %d: gradient %v with the term, want %v", i, g1[i], want)
		}
	}
	if want := l0 + mu/2*sq; math.Abs(l1-want) > 1e-5 {
		t.Errorf("loss %v with the term, want %v", l1, want)
	}
}
