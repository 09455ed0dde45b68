package nn

// FLOPs returns the floating-point operations of one forward pass over
// one example: two per multiply-add of the dense and convolution layers,
// which dominate; activations, pooling and dropout are not counted.
// Training an example costs about three times as much (the backward pass
// about twice the forward).
func (m *Model) FLOPs() float64 {
	a := m.a
	in := a.input
	var flops float64
	for i, l := range a.layers {
		out := a.shapes[i]
		switch l.kind {
		case kindDense:
			flops += 2 * float64(in.Size()) * float64(l.n)
		case kindConv:
			flops += 2 * float64(in[0]*l.size*l.size) * float64(out.Size())
		}
		in = out
	}
	return flops
}
