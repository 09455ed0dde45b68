package nn

// Backend reports the matrix-multiplication backend chosen at build time:
// "gonum" (pure Go, the default) or "openblas" (cgo, build tag openblas).
func Backend() string { return backendName }
