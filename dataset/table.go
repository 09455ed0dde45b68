package dataset

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Table is a dense regression data set: real-valued features and
// real-valued targets, both stored row-major, so that len(X) ==
// Len()*Inputs, len(Y) == Len()*Outputs and example i has features
// X[i*Inputs:(i+1)*Inputs] and targets Y[i*Outputs:(i+1)*Outputs].
//
// Besides the example-source interface of package nn (Len, InputSize,
// Read), a Table has Target, which makes it a source for nn's regression
// models:
//
//	Target(i int, dst []float32)
//
// A Table is not modified by any method and may be read concurrently.
type Table struct {
	Inputs, Outputs int
	X, Y            []float32
}

// Len returns the number of examples, the number of whole rows of
// Outputs targets in Y (0 if Outputs is not positive).
func (t *Table) Len() int {
	if t.Outputs <= 0 {
		return 0
	}
	return len(t.Y) / t.Outputs
}

// InputSize returns the number of features per example, Inputs.
func (t *Table) InputSize() int { return t.Inputs }

// Read writes the features of example i to dst[:Inputs] and returns 0: a
// Table has targets, not labels. It panics if i is out of range or dst is
// shorter than Inputs.
func (t *Table) Read(i int, dst []float32) int {
	copy(dst[:t.Inputs], t.X[i*t.Inputs:(i+1)*t.Inputs])
	return 0
}

// Target writes the targets of example i to dst[:Outputs]. It panics if i
// is out of range or dst is shorter than Outputs.
func (t *Table) Target(i int, dst []float32) {
	copy(dst[:t.Outputs], t.Y[i*t.Outputs:(i+1)*t.Outputs])
}

// Validate reports whether the fields of t are consistent: positive
// Inputs and Outputs, len(Y) a multiple of Outputs, len(X) ==
// Len()*Inputs and every feature and target a finite number.
func (t *Table) Validate() error {
	if t.Inputs <= 0 || t.Outputs <= 0 {
		return fmt.Errorf("table has %d inputs and %d outputs, want both positive", t.Inputs, t.Outputs)
	}
	if len(t.Y)%t.Outputs != 0 {
		return fmt.Errorf("%d target values are not whole rows of %d outputs", len(t.Y), t.Outputs)
	}
	if n := t.Len(); len(t.X) != n*t.Inputs {
		return fmt.Errorf("%d feature values do not hold %d examples of %d inputs", len(t.X), n, t.Inputs)
	}
	for j, v := range t.X {
		if !finite(v) {
			return fmt.Errorf("feature %d of example %d is %v", j%t.Inputs, j/t.Inputs, v)
		}
	}
	for j, v := range t.Y {
		if !finite(v) {
			return fmt.Errorf("target %d of example %d is %v", j%t.Outputs, j/t.Outputs, v)
		}
	}
	return nil
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float32) bool {
	f := float64(v)
	return !math.IsNaN(f) && !math.IsInf(f, 0)
}

// Select returns a new Table holding copies of the examples at the given
// indices, in that order. It panics if an index is out of range.
func (t *Table) Select(indices []int) *Table {
	out := &Table{
		Inputs:  t.Inputs,
		Outputs: t.Outputs,
		X:       make([]float32, 0, len(indices)*t.Inputs),
		Y:       make([]float32, 0, len(indices)*t.Outputs),
	}
	for _, i := range indices {
		out.X = append(out.X, t.X[i*t.Inputs:(i+1)*t.Inputs]...)
		out.Y = append(out.Y, t.Y[i*t.Outputs:(i+1)*t.Outputs]...)
	}
	return out
}

// LinearData returns the seeded synthetic regression data set with known
// coefficients: n examples of len(coef) features drawn i.i.d. from N(0, 1)
// and one target each,
//
//	y = coef·x + bias + noise·ε,  ε ~ N(0, 1),
//
// computed in float64 from the float32 features and rounded to float32.
// Every example draws its features and then ε from rng, also when noise is
// 0, so equal seeds give equal tables and the features do not depend on
// noise. A linear regressor fitted to it should recover coef and bias, up
// to an error that shrinks with noise and grows with 1/√n. It panics if n
// is negative.
func LinearData(n int, coef []float64, bias, noise float64, rng *rand.Rand) *Table {
	d := len(coef)
	t := &Table{Inputs: d, Outputs: 1, X: make([]float32, n*d), Y: make([]float32, n)}
	for i := range n {
		x := t.X[i*d : (i+1)*d]
		y := bias
		for j, c := range coef {
			x[j] = float32(rng.NormFloat64())
			y += c * float64(x[j])
		}
		t.Y[i] = float32(y + noise*rng.NormFloat64())
	}
	return t
}
