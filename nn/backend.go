package nn

import "gonum.org/v1/gonum/blas"

// Backend reports the matrix-multiplication backend chosen at build time:
// "gonum" (pure Go, the default) or "openblas" (cgo, build tag openblas).
func Backend() string { return backendName }

// gemmArgs translates sgemm's flags into BLAS arguments: the transpose
// flags of A and B and beta (1 to accumulate into C, else 0).
func gemmArgs(ta, tb, acc bool) (tA, tB blas.Transpose, beta float32) {
	tA, tB = blas.NoTrans, blas.NoTrans
	if ta {
		tA = blas.Trans
	}
	if tb {
		tB = blas.Trans
	}
	if acc {
		beta = 1
	}
	return tA, tB, beta
}
