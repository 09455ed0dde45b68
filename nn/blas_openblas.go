//go:build openblas

package nn

/*
#cgo LDFLAGS: -lopenblas
void openblas_set_num_threads(int num_threads);
*/
import "C"

import (
	"gonum.org/v1/netlib/blas/netlib"
)

// backendName is reported by Backend.
const backendName = "openblas"

// init pins OpenBLAS to one thread per call: the package parallelises by
// itself (see Trainer.Threads), and OpenBLAS threads on top of that would
// oversubscribe the cores. This is a process-wide OpenBLAS setting.
func init() {
	C.openblas_set_num_threads(1)
}

// sgemm computes C = A·B (+ C when acc) on row-major float32 matrices, with
// A m×k (k×m if ta) and B k×n (n×k if tb), on the calling thread only.
func sgemm(ta, tb bool, m, n, k int, a []float32, lda int, b []float32, ldb int, acc bool, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	tA, tB, beta := gemmArgs(ta, tb, acc)
	netlib.Implementation{}.Sgemm(tA, tB, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
}
