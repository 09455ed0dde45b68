package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// verdict records what DataDir did to a test instead of doing it.
type verdict struct {
	testing.TB
	skipped, failed string
}

func (v *verdict) Helper() {}

func (v *verdict) Skipf(format string, args ...any) {
	v.skipped = fmt.Sprintf(format, args...)
	panic(v)
}

func (v *verdict) Fatalf(format string, args ...any) {
	v.failed = fmt.Sprintf(format, args...)
	panic(v)
}

// judge runs DataDir under v, returning the directory it gave or "" if it
// skipped or failed.
func judge(v *verdict) (dir string) {
	defer func() {
		if r := recover(); r != nil && r != v {
			panic(r)
		}
	}()
	return DataDir(v)
}

// TestDataDir: without the data DataDir skips, or fails under
// $FEDACTOR_REQUIRE_DATA=1; with it, it returns the directory.
func TestDataDir(t *testing.T) {
	withData := t.TempDir()
	if err := os.Mkdir(filepath.Join(withData, "mnist"), 0o755); err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(moduleRoot(), withData)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, data, require string
		want                string // "skip", "fail" or the directory
	}{
		{"unset", "", "", "skip"},
		{"unset, required", "", "1", "fail"},
		{"no mnist", t.TempDir(), "", "skip"},
		{"no mnist, required", t.TempDir(), "1", "fail"},
		{"missing, required", filepath.Join(withData, "absent"), "1", "fail"},
		{"present", withData, "", withData},
		{"present, required", withData, "1", withData},
		{"relative to the module root", rel, "1", withData},
		{"required only by 1", "", "yes", "skip"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(DataEnv, c.data)
			t.Setenv(RequireDataEnv, c.require)
			v := &verdict{TB: t}
			got := judge(v)
			switch {
			case v.failed != "":
				got = "fail"
			case v.skipped != "":
				got = "skip"
			}
			if filepath.Clean(got) != filepath.Clean(c.want) {
				t.Errorf("DataDir with $%s=%q, $%s=%q: %s (%s%s), want %s", DataEnv, c.data, RequireDataEnv, c.require, got, v.skipped, v.failed, c.want)
			}
		})
	}
}
