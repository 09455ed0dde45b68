package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
)

// Source yields labelled examples by index. Read must be safe for
// concurrent use by several goroutines (it is called from every worker).
type Source interface {
	// Len returns the number of examples.
	Len() int
	// InputSize returns the number of features of one example, e.g. 784.
	InputSize() int
	// Read writes example i's features (InputSize values) to dst and
	// returns its label.
	Read(i int, dst []float32) int
}

// TargetSource is a Source of examples with real-valued targets, the data
// of a regression model (see NewRegression). Target must be safe for
// concurrent use by several goroutines, as Read is. A regressor ignores
// the labels Read returns.
type TargetSource interface {
	Source
	// Target writes example i's targets, one per model output, to dst,
	// which has exactly that length.
	Target(i int, dst []float32)
}

// microBatch is the number of examples a worker pushes through the network
// at a time: small enough for its activations and im2col matrices to stay
// in cache, large enough for efficient matrix products. Gradients of the
// micro-batches of a batch are summed, so it does not change the results
// beyond floating-point rounding.
const microBatch = 16

// maxGradSlots bounds the gradient buffers a Trainer keeps for one batch
// (one per group of micro-batches), so that large batches do not need
// memory proportional to their size.
const maxGradSlots = 32

// DefaultBatchSize is the batch size of a Trainer whose BatchSize is 0
// (Keras's default).
const DefaultBatchSize = 32

// ErrNoExamples is returned when training or evaluation is asked to run on
// no examples.
var ErrNoExamples = errors.New("nn: no examples")

// ErrNoTargets is returned when a regression model is trained or evaluated
// on a Source that is not a TargetSource.
var ErrNoTargets = errors.New("nn: regression model needs a TargetSource with real-valued targets")

// Trainer trains and evaluates a Model. It owns the scratch memory
// (activations, im2col buffers, gradients), sized on first use for the
// model's architecture, BatchSize and Threads, and reused afterwards, so a
// training step allocates (almost) nothing.
//
// Model and Optimizer may be swapped between calls: many models of one
// architecture (federated owners, each with its own Optimizer) can share a
// few Trainers. A Trainer must not be used by two goroutines at once, nor
// copied after first use.
type Trainer struct {
	Model     *Model
	Optimizer Optimizer
	// BatchSize is the number of examples per step; 0 means
	// DefaultBatchSize. The last batch of an epoch may be smaller.
	BatchSize int
	// Threads is the number of goroutines a batch is split over; 0 means
	// runtime.GOMAXPROCS(0). With 1 everything runs on the calling
	// goroutine.
	Threads int
	// Prox is the coefficient μ ≥ 0 of the proximal term of FedProx (Li et
	// al. 2020, "Federated Optimization in Heterogeneous Networks"),
	// μ/2·‖w − Anchor‖², added to each batch's loss so that local training
	// stays near Anchor: every step adds μ·(w − Anchor) to the gradient
	// before the optimizer step (one extra pass over the parameters), and
	// TrainBatch and TrainEpoch report losses that include the term. With
	// Prox 0 or a nil Anchor there is no term and training is exactly as
	// without these fields. Evaluate ignores both.
	Prox float64
	// Anchor is the parameter vector the proximal term pulls towards,
	// usually the global model the round started from, in the order of
	// Model.Params; each value is rounded to float32 (as SetParams does)
	// before use. nil disables the term. Training reads it and never
	// modifies it; like Model, it may be swapped between calls.
	Anchor []float64

	works []*work
	order []int
	// Per micro-batch results of the current call, combined in order so
	// that results do not depend on which worker ran what.
	grads   [][]float32
	losses  []float64
	correct []int
	errs    []error
	next    atomic.Int64 // next micro-batch to claim
}

func (t *Trainer) batchSize() int {
	if t.BatchSize > 0 {
		return t.BatchSize
	}
	return DefaultBatchSize
}

func (t *Trainer) threads() int {
	if t.Threads > 0 {
		return t.Threads
	}
	return runtime.GOMAXPROCS(0)
}

// prepare checks the model, source and settings and makes sure there are
// nt workers for chunks of per examples.
func (t *Trainer) prepare(src Source, train bool, nt, per int) error {
	if t.Model == nil {
		return errors.New("nn: Trainer has no Model")
	}
	if train && t.Optimizer == nil {
		return errors.New("nn: Trainer has no Optimizer")
	}
	if t.BatchSize < 0 || t.Threads < 0 {
		return fmt.Errorf("nn: negative BatchSize (%d) or Threads (%d)", t.BatchSize, t.Threads)
	}
	if train {
		if !(t.Prox >= 0) || math.IsInf(t.Prox, 0) {
			return fmt.Errorf("nn: Prox %g is not a finite number >= 0", t.Prox)
		}
		if t.Anchor != nil && len(t.Anchor) != t.Model.a.nparams {
			return fmt.Errorf("nn: Anchor has %d values, model %s has %d parameters", len(t.Anchor), t.Model.a.name, t.Model.a.nparams)
		}
	}
	if src == nil {
		return errors.New("nn: nil Source")
	}
	a := t.Model.a
	if src.InputSize() != a.input.Size() {
		return fmt.Errorf("nn: source has %d features per example, model %s wants %d", src.InputSize(), a.name, a.input.Size())
	}
	if a.regression {
		if _, ok := src.(TargetSource); !ok {
			return ErrNoTargets
		}
	}
	if len(t.works) < nt {
		t.works = append(t.works, make([]*work, nt-len(t.works))...)
	}
	for i, w := range t.works[:nt] {
		if w == nil || !(w.a == a || (t.Model.SameArch(&Model{a: w.a}) && w.a.regression == a.regression)) || w.n < per || (train && !w.train) {
			t.works[i] = newWork(a, per, train)
		}
	}
	return nil
}

// slots makes room for the results of nmb micro-batches, with gradients
// of length np if np > 0.
func (t *Trainer) slots(nmb, np int) {
	if len(t.losses) < nmb {
		t.losses = make([]float64, nmb)
		t.correct = make([]int, nmb)
		t.errs = make([]error, nmb)
	}
	clear(t.errs)
	if np > 0 {
		if len(t.grads) < nmb {
			t.grads = append(t.grads, make([][]float32, nmb-len(t.grads))...)
		}
		for i, g := range t.grads[:nmb] {
			if len(g) != np {
				t.grads[i] = make([]float32, np)
			}
		}
	}
}

// indices returns idx, or 0..n-1 (in t.order's memory) if idx is nil.
func (t *Trainer) indices(src Source, idx []int) ([]int, error) {
	if idx == nil {
		n := src.Len()
		if cap(t.order) < n {
			t.order = make([]int, n)
		}
		idx = t.order[:n]
		for i := range idx {
			idx[i] = i
		}
	}
	if len(idx) == 0 {
		return nil, ErrNoExamples
	}
	return idx, nil
}

// parallel runs f(0), …, f(n-1), f(0) on the calling goroutine. A panic
// in any f(k) is re-raised on the calling goroutine after all have ended,
// so that the caller's recover (an actor's supervisor) sees it instead of
// the process dying.
func parallel(n int, f func(k int)) {
	if n == 1 {
		f(0)
		return
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		fault any
	)
	for k := 1; k < n; k++ {
		wg.Go(func() {
			defer func() {
				if r := recover(); r != nil {
					mu.Lock()
					fault = r
					mu.Unlock()
				}
			}()
			f(k)
		})
	}
	func() {
		defer wg.Wait()
		f(0)
	}()
	if fault != nil {
		panic(fault)
	}
}

// TrainEpoch trains on the examples idx of src (all of them if idx is nil)
// for one epoch: it shuffles them with rng, cuts them into batches of
// BatchSize (the last one may be smaller and is trained too) and takes one
// optimizer step per batch. Dropout masks are drawn from seeds taken from
// rng, so a run replays exactly for a given rng state and Threads. It
// returns the mean training loss over the epoch's examples (with the
// proximal term if Prox and Anchor are set). idx is not modified.
func (t *Trainer) TrainEpoch(src Source, idx []int, rng *rand.Rand) (meanLoss float64, err error) {
	if src == nil {
		return 0, errors.New("nn: nil Source")
	}
	if idx != nil {
		if len(idx) == 0 {
			return 0, ErrNoExamples
		}
		if cap(t.order) < len(idx) {
			t.order = make([]int, len(idx))
		}
		t.order = t.order[:len(idx)]
		copy(t.order, idx)
		idx = t.order
	} else if idx, err = t.indices(src, nil); err != nil {
		return 0, err
	}
	rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	bs := t.batchSize()
	var sum float64
	for s := 0; s < len(idx); s += bs {
		b := idx[s:min(s+bs, len(idx))]
		l, err := t.TrainBatch(src, b, rng)
		if err != nil {
			return 0, fmt.Errorf("nn: batch at position %d of epoch: %w", s, err)
		}
		sum += l * float64(len(b))
	}
	return sum / float64(len(idx)), nil
}

// TrainBatch takes one optimizer step on the mean loss of the examples
// batch of src (any length up to BatchSize), drawing the dropout seed from
// rng, and returns that mean loss (before the step), plus the proximal term
// μ/2·‖w − Anchor‖² if Prox and Anchor are set. The loss is the softmax
// cross-entropy for a classifier and the squared error summed over the
// outputs (see NewRegression) for a regressor, whose src must be a
// TargetSource. On error the model is unchanged.
func (t *Trainer) TrainBatch(src Source, batch []int, rng *rand.Rand) (loss float64, err error) {
	n := len(batch)
	if n == 0 {
		return 0, ErrNoExamples
	}
	bs := t.batchSize()
	if n > bs {
		return 0, fmt.Errorf("nn: batch of %d examples exceeds BatchSize %d", n, bs)
	}
	// Micro-batches are grouped so that at most maxGradSlots gradient
	// buffers are needed; group boundaries do not depend on Threads.
	nmb := (n + microBatch - 1) / microBatch
	per := (nmb + maxGradSlots - 1) / maxGradSlots
	ngroups := (nmb + per - 1) / per
	nt := min(t.threads(), ngroups)
	if err := t.prepare(src, true, nt, microBatch); err != nil {
		return 0, err
	}
	m := t.Model
	t.slots(ngroups, m.a.nparams)
	seed := rng.Uint64()
	scale := float32(1 / float64(n))
	t.next.Store(0)
	parallel(nt, func(k int) {
		w := t.works[k]
		for {
			i := int(t.next.Add(1) - 1)
			if i >= ngroups {
				return
			}
			t.losses[i] = 0
			for j := i * per; j < min((i+1)*per, nmb); j++ {
				lo := j * microBatch
				mb := min(microBatch, n-lo)
				if t.errs[i] = w.load(src, batch[lo:lo+mb]); t.errs[i] != nil {
					break
				}
				w.ctx = fwdCtx{train: true, seed: seed, base: lo, pcg: &w.pcg}
				logits := w.forward(m.w, mb, &w.ctx)
				l, _ := w.loss(logits, mb, scale, w.dlogits)
				t.losses[i] += l
				w.backward(m.w, t.grads[i], mb, j > i*per)
			}
		}
	})
	for i := range ngroups {
		if t.errs[i] != nil {
			return 0, t.errs[i]
		}
		loss += t.losses[i]
	}
	g := t.grads[0]
	for _, gi := range t.grads[1:ngroups] {
		for j, v := range gi[:len(g)] {
			g[j] += v
		}
	}
	loss /= float64(n)
	if t.Prox > 0 && t.Anchor != nil {
		loss += addProx(g, m.w, t.Anchor, t.Prox)
	}
	if err := t.Optimizer.Step(m.w, g); err != nil {
		return 0, err
	}
	return loss, nil
}

// addProx adds the gradient mu·(w − anchor) of the proximal term to g and
// returns the term, mu/2·‖w − anchor‖², in one pass.
func addProx(g, w []float32, anchor []float64, mu float64) float64 {
	g, anchor = g[:len(w)], anchor[:len(w)]
	m := float32(mu)
	var sq float64
	for i, wi := range w {
		d := wi - float32(anchor[i])
		g[i] += m * d
		sq += float64(d) * float64(d)
	}
	return 0.5 * mu * sq
}

// Evaluate returns the accuracy (fraction of examples whose highest logit
// is the label) and mean softmax cross-entropy of the Model on the
// examples idx of src (all if nil), with dropout off. For a regressor,
// src must be a TargetSource, accuracy is always 0 and loss is the mean
// squared error: the squared error summed over the outputs, averaged over
// the examples (the training loss of NewRegression). It splits idx over
// Threads workers and ignores BatchSize; it does not need an Optimizer.
func (t *Trainer) Evaluate(src Source, idx []int) (accuracy, loss float64, err error) {
	if src == nil {
		return 0, 0, errors.New("nn: nil Source")
	}
	if idx, err = t.indices(src, idx); err != nil {
		return 0, 0, err
	}
	nmb := (len(idx) + microBatch - 1) / microBatch
	nt := min(t.threads(), nmb)
	if err := t.prepare(src, false, nt, microBatch); err != nil {
		return 0, 0, err
	}
	m := t.Model
	t.slots(nmb, 0)
	t.next.Store(0)
	parallel(nt, func(k int) {
		w := t.works[k]
		w.ctx = fwdCtx{}
		for {
			i := int(t.next.Add(1) - 1)
			if i >= nmb {
				return
			}
			chunk := idx[i*microBatch : min((i+1)*microBatch, len(idx))]
			if t.errs[i] = w.load(src, chunk); t.errs[i] != nil {
				continue
			}
			logits := w.forward(m.w, len(chunk), &w.ctx)
			t.losses[i], t.correct[i] = w.loss(logits, len(chunk), 0, nil)
		}
	})
	var correct int
	for i := range nmb {
		if t.errs[i] != nil {
			return 0, 0, t.errs[i]
		}
		loss += t.losses[i]
		correct += t.correct[i]
	}
	n := float64(len(idx))
	return float64(correct) / n, loss / n, nil
}

// Evaluate returns the accuracy and mean loss of m on the examples idx of
// src (all if nil) using threads goroutines (0 means GOMAXPROCS), as
// Trainer.Evaluate does (for a regressor: accuracy 0 and the mean squared
// error). It
// allocates scratch memory for the call; reuse a Trainer to avoid that.
func (m *Model) Evaluate(src Source, idx []int, threads int) (accuracy, loss float64, err error) {
	t := Trainer{Model: m, Threads: threads}
	return t.Evaluate(src, idx)
}
