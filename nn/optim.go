package nn

import (
	"fmt"
	"math"
)

// Optimizer updates parameters from gradients. Implementations keep state
// (momentum, moment estimates) that Reset clears and State/SetState expose
// as one flat vector for checkpoints. An Optimizer belongs to one model:
// federated owners each keep their own.
type Optimizer interface {
	// Step applies one update to params given grads, the gradient of the
	// mean loss over a batch; both have the model's parameter count.
	Step(params, grads []float32) error
	// Reset forgets all state, as if the optimizer were new.
	Reset()
	// State appends the state to dst[:0] and returns it.
	State(dst []float64) []float64
	// SetState restores a vector returned by State.
	SetState(s []float64) error
}

// SGD is stochastic gradient descent with optional momentum, as
// torch.optim.SGD without dampening, Nesterov or weight decay:
//
//	v ← Momentum·v + g;  p ← p − LR·v   (p ← p − LR·g if Momentum is 0)
//
// Its state is the velocity v (empty before the first step or without
// momentum).
type SGD struct {
	LR       float64 // learning rate
	Momentum float64 // momentum factor, 0 for plain SGD

	v []float32
}

// Step implements Optimizer.
func (o *SGD) Step(params, grads []float32) error {
	if len(params) != len(grads) {
		return fmt.Errorf("nn: SGD step: %d parameters, %d gradients", len(params), len(grads))
	}
	lr := float32(o.LR)
	if o.Momentum == 0 {
		for i, g := range grads {
			params[i] -= lr * g
		}
		return nil
	}
	if o.v == nil {
		o.v = make([]float32, len(params))
	} else if len(o.v) != len(params) {
		return fmt.Errorf("nn: SGD step: state has %d values, model %d", len(o.v), len(params))
	}
	mu := float32(o.Momentum)
	v := o.v[:len(grads)]
	for i, g := range grads {
		v[i] = mu*v[i] + g
		params[i] -= lr * v[i]
	}
	return nil
}

// Reset implements Optimizer.
func (o *SGD) Reset() { o.v = nil }

// State implements Optimizer: the velocity.
func (o *SGD) State(dst []float64) []float64 {
	dst = dst[:0]
	for _, v := range o.v {
		dst = append(dst, float64(v))
	}
	return dst
}

// SetState implements Optimizer. An empty s resets.
func (o *SGD) SetState(s []float64) error {
	if len(s) == 0 {
		o.v = nil
		return nil
	}
	o.v = make([]float32, len(s))
	for i, x := range s {
		o.v[i] = float32(x)
	}
	return nil
}

// Adam is the Adam optimizer exactly as torch.optim.Adam (no weight decay,
// no AMSGrad). With bias corrections c1 = 1−Beta1ᵗ and c2 = 1−Beta2ᵗ at step t:
//
//	m ← Beta1·m + (1−Beta1)·g;  v ← Beta2·v + (1−Beta2)·g²
//	p ← p − (LR/c1)·m / (√v/√c2 + Eps)
//
// NewAdam sets PyTorch's defaults (Beta1 0.9, Beta2 0.999, Eps 1e-8); Keras
// differs only in Eps (1e-7) and applies it before bias correction, which
// changes nothing measurable. Its state is [t, m..., v...] (just [t] before
// the first step).
type Adam struct {
	LR    float64 // learning rate
	Beta1 float64 // decay of the first moment
	Beta2 float64 // decay of the second moment
	Eps   float64 // added to the denominator

	t    int
	m, v []float32
}

// NewAdam returns Adam with learning rate lr and PyTorch's defaults.
func NewAdam(lr float64) *Adam {
	return &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// Step implements Optimizer.
func (o *Adam) Step(params, grads []float32) error {
	if len(params) != len(grads) {
		return fmt.Errorf("nn: Adam step: %d parameters, %d gradients", len(params), len(grads))
	}
	if o.m == nil {
		o.m = make([]float32, len(params))
		o.v = make([]float32, len(params))
	} else if len(o.m) != len(params) {
		return fmt.Errorf("nn: Adam step: state has %d values, model %d", len(o.m), len(params))
	}
	o.t++
	c1 := 1 - math.Pow(o.Beta1, float64(o.t))
	c2 := 1 - math.Pow(o.Beta2, float64(o.t))
	step := float32(o.LR / c1)
	invSqrtC2 := float32(1 / math.Sqrt(c2))
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	a1, a2 := 1-b1, 1-b2
	eps := float32(o.Eps)
	m, v := o.m[:len(grads)], o.v[:len(grads)]
	params = params[:len(grads)]
	for i, g := range grads {
		mi := b1*m[i] + a1*g
		vi := b2*v[i] + a2*g*g
		m[i], v[i] = mi, vi
		params[i] -= step * mi / (float32(math.Sqrt(float64(vi)))*invSqrtC2 + eps)
	}
	return nil
}

// Reset implements Optimizer.
func (o *Adam) Reset() { o.t, o.m, o.v = 0, nil, nil }

// State implements Optimizer: [t, m..., v...].
func (o *Adam) State(dst []float64) []float64 {
	dst = append(dst[:0], float64(o.t))
	for _, x := range o.m {
		dst = append(dst, float64(x))
	}
	for _, x := range o.v {
		dst = append(dst, float64(x))
	}
	return dst
}

// SetState implements Optimizer.
func (o *Adam) SetState(s []float64) error {
	if len(s) == 0 || len(s)%2 != 1 || s[0] < 0 || s[0] != math.Trunc(s[0]) {
		return fmt.Errorf("nn: Adam SetState: malformed state of length %d", len(s))
	}
	o.Reset()
	o.t = int(s[0])
	n := (len(s) - 1) / 2
	if n == 0 {
		return nil
	}
	o.m, o.v = make([]float32, n), make([]float32, n)
	for i := range n {
		o.m[i], o.v[i] = float32(s[1+i]), float32(s[1+n+i])
	}
	return nil
}
