package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// work is one worker's scratch memory for micro-batches of up to n
// examples of one architecture: inputs, labels or targets, activations,
// im2col matrices, argmax codes and dropout masks.
type work struct {
	a       *arch
	n       int
	train   bool
	x       []float32
	labels  []int32   // classifiers only
	targets []float32 // regressors only: n rows of a.classes targets
	sc      []scratch
	acts    [][]float32 // acts[i] is the input of op i in the last forward
	dlogits []float32
	pcg     rand.PCG
	ctx     fwdCtx // reused so that it does not escape per call
}

func newWork(a *arch, n int, train bool) *work {
	w := &work{
		a:     a,
		n:     n,
		train: train,
		x:     make([]float32, n*a.input.Size()),
		sc:    make([]scratch, len(a.ops)),
		acts:  make([][]float32, len(a.ops)),
	}
	if a.regression {
		w.targets = make([]float32, n*a.classes)
	} else {
		w.labels = make([]int32, n)
	}
	for i, o := range a.ops {
		o.alloc(&w.sc[i], n, train)
	}
	if train {
		w.dlogits = make([]float32, n*a.classes)
	}
	return w
}

// load reads the examples idx (at most w.n) from src into w.x and
// w.labels, or for a regressor into w.x and w.targets; src must then be a
// TargetSource.
func (w *work) load(src Source, idx []int) error {
	if w.a.regression {
		return w.loadTargets(src, idx)
	}
	d := w.a.input.Size()
	size := src.Len()
	for e, i := range idx {
		if i < 0 || i >= size {
			return fmt.Errorf("nn: index %d out of range [0, %d)", i, size)
		}
		lab := src.Read(i, w.x[e*d:(e+1)*d])
		if lab < 0 || lab >= w.a.classes {
			return fmt.Errorf("nn: example %d: label %d out of range [0, %d)", i, lab, w.a.classes)
		}
		w.labels[e] = int32(lab)
	}
	return nil
}

// loadTargets is load for a regressor: it ignores the labels Read returns
// and checks that the targets are finite.
func (w *work) loadTargets(src Source, idx []int) error {
	ts, ok := src.(TargetSource)
	if !ok {
		return ErrNoTargets
	}
	d, k := w.a.input.Size(), w.a.classes
	size := src.Len()
	for e, i := range idx {
		if i < 0 || i >= size {
			return fmt.Errorf("nn: index %d out of range [0, %d)", i, size)
		}
		ts.Read(i, w.x[e*d:(e+1)*d])
		t := w.targets[e*k : (e+1)*k]
		ts.Target(i, t)
		for j, v := range t {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("nn: example %d: target %d is %v, not a finite number", i, j, v)
			}
		}
	}
	return nil
}

// loss returns the summed loss of the first n examples loaded, whose model
// outputs are out, and for a classifier the number of them classified
// correctly. If d is not nil it receives the gradient of scale times the
// summed loss with respect to out.
func (w *work) loss(out []float32, n int, scale float32, d []float32) (loss float64, correct int) {
	if w.a.regression {
		return squaredError(out, w.targets, n, w.a.classes, scale, d), 0
	}
	return softmaxCE(out, w.labels, n, w.a.classes, scale, d)
}

// squaredError returns the squared error Σ (y − t)² of n rows of k outputs
// y against targets t, summed over rows and outputs. If d is not nil it
// receives 2·scale·(y − t), the gradient of scale times that sum.
func squaredError(y, t []float32, n, k int, scale float32, d []float32) (loss float64) {
	y, t = y[:n*k], t[:n*k]
	for j, v := range y {
		r := float64(v) - float64(t[j])
		loss += r * r
	}
	if d != nil {
		d = d[:n*k]
		s := 2 * scale
		for j, v := range y {
			d[j] = s * (v - t[j])
		}
	}
	return loss
}

// forward runs the model with parameters p on the first n loaded examples
// and returns the logits.
func (w *work) forward(p []float32, n int, c *fwdCtx) []float32 {
	x := w.x[:n*w.a.input.Size()]
	for i, o := range w.a.ops {
		w.acts[i] = x
		off, np := o.span()
		x = o.forward(&w.sc[i], p[off:off+np], x, n, c)
	}
	return x
}

// backward propagates w.dlogits back through the last forward pass and
// writes (acc: adds) the parameter gradient to grad. Ops up to and
// including the first one with parameters get no input gradient.
func (w *work) backward(p, grad []float32, n int, acc bool) {
	first := 0
	for i, o := range w.a.ops {
		if _, np := o.span(); np > 0 {
			first = i
			break
		}
	}
	d := w.dlogits[:n*w.a.classes]
	for i := len(w.a.ops) - 1; i >= first; i-- {
		o := w.a.ops[i]
		off, np := o.span()
		d = o.backward(&w.sc[i], p[off:off+np], grad[off:off+np], w.acts[i], d, n, i > first, acc)
	}
}

// softmaxCE returns the summed softmax cross-entropy of n rows of k logits
// against labels and the number of rows whose first maximal logit is the
// label. If d is not nil it receives scale·(softmax - onehot), the
// gradient of scale times the summed loss.
func softmaxCE(logits []float32, labels []int32, n, k int, scale float32, d []float32) (loss float64, correct int) {
	for e := 0; e < n; e++ {
		z := logits[e*k : (e+1)*k]
		best := 0
		for j, v := range z {
			if v > z[best] {
				best = j
			}
		}
		lab := int(labels[e])
		if best == lab {
			correct++
		}
		zmax := float64(z[best])
		var sum float64
		for _, v := range z {
			sum += math.Exp(float64(v) - zmax)
		}
		lse := zmax + math.Log(sum)
		loss += lse - float64(z[lab])
		if d != nil {
			g := d[e*k : (e+1)*k]
			for j, v := range z {
				g[j] = scale * float32(math.Exp(float64(v)-lse))
			}
			g[lab] -= scale
		}
	}
	return loss, correct
}
