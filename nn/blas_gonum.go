//go:build !openblas

package nn

import (
	"gonum.org/v1/gonum/blas/gonum"
)

// backendName is reported by Backend.
const backendName = "gonum"

// Gonum's Sgemm fans out over GOMAXPROCS goroutines once the product spans
// four or more 64×64 blocks of C. The package parallelises by itself (see
// Trainer.Threads), so sgemm cuts C into panels of at most 64 rows and 192
// columns: each call stays on gonum's serial path and the calling goroutine.
const (
	panelRows = 64
	panelCols = 192
)

// sgemm computes C = A·B (+ C when acc) on row-major float32 matrices, with
// A m×k (k×m if ta) and B k×n (n×k if tb), on the calling goroutine only.
func sgemm(ta, tb bool, m, n, k int, a []float32, lda int, b []float32, ldb int, acc bool, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	tA, tB, beta := gemmArgs(ta, tb, acc)
	var impl gonum.Implementation
	for i := 0; i < m; i += panelRows {
		mi := min(panelRows, m-i)
		var ai []float32
		if ta {
			ai = a[i:]
		} else {
			ai = a[i*lda:]
		}
		for j := 0; j < n; j += panelCols {
			nj := min(panelCols, n-j)
			var bj []float32
			if tb {
				bj = b[j*ldb:]
			} else {
				bj = b[j:]
			}
			impl.Sgemm(tA, tB, mi, nj, k, 1, ai, lda, bj, ldb, beta, c[i*ldc+j:], ldc)
		}
	}
}
