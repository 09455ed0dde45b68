// Package testenv gives tests what they need from their environment, and
// refuses to let them skip where CI says everything must run.
//
// A test that needs the real datasets calls DataDir. Without
// $FEDACTOR_DATA it skips, so that `go test ./...` works on a fresh
// checkout; with $FEDACTOR_REQUIRE_DATA=1 (as .ci/run sets it) it fails
// instead, so that CI cannot go green having run none of them.
package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Environment variables. DataEnv is dataset.EnvDataDir, repeated so that
// dataset's own tests may use this package (dataset checks they agree).
const (
	DataEnv        = "FEDACTOR_DATA"
	RequireDataEnv = "FEDACTOR_REQUIRE_DATA"
)

// DataDir returns the directory holding mnist/ and fashion-mnist/, from
// $FEDACTOR_DATA; a relative value is taken relative to the module root.
// When it is unset or does not hold mnist/, the test skips, or fails under
// $FEDACTOR_REQUIRE_DATA=1.
func DataDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv(DataEnv)
	if dir != "" && !filepath.IsAbs(dir) {
		dir = filepath.Join(moduleRoot(), dir)
	}
	why := ""
	switch {
	case dir == "":
		why = "$" + DataEnv + " is not set"
	default:
		if st, err := os.Stat(filepath.Join(dir, "mnist")); err != nil || !st.IsDir() {
			why = dir + " holds no mnist/ directory"
		}
	}
	if why == "" {
		return dir
	}
	if os.Getenv(RequireDataEnv) == "1" {
		tb.Fatalf("this test needs the datasets: %s (and $%s=1 forbids skipping)", why, RequireDataEnv)
	}
	tb.Skipf("this test needs the datasets: %s; set $%s to the directory holding mnist/", why, DataEnv)
	return ""
}

// moduleRoot is the directory of go.mod, found from this file's path.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
