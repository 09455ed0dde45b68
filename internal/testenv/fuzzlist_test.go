package testenv

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"unicode"
	"unicode/utf8"
)

// TestMakefileListsEveryFuzzTarget fails when a fuzz target of the
// repository is missing from the Makefile's FUZZ_TARGETS, which `make
// fuzz` runs, or when one listed there no longer exists.
func TestMakefileListsEveryFuzzTarget(t *testing.T) {
	root := os.DirFS(moduleRoot())
	makefile, err := fs.ReadFile(root, "Makefile")
	if err != nil {
		t.Fatal(err)
	}
	missing, stale, err := compareFuzzTargets(root, string(makefile))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range missing {
		t.Errorf("fuzz target %s is not in the Makefile's FUZZ_TARGETS", m)
	}
	for _, s := range stale {
		t.Errorf("the Makefile's FUZZ_TARGETS lists %s, which does not exist", s)
	}
}

// TestFuzzListCheckCatches plants the faults the check exists to catch: a
// target left out of the list and a listed target that is gone, in a
// made-up tree and in the real Makefile with one target deleted.
func TestFuzzListCheckCatches(t *testing.T) {
	tree := fstest.MapFS{
		"a/a_test.go": {Data: []byte(`package a

import "testing"

func FuzzKept(f *testing.F) {}
func FuzzForgotten(f *testing.F) {}
func Fuzzy(f *testing.F) {} // not a fuzz target: lower case after Fuzz
type T struct{}
func (T) FuzzMethod(f *testing.F) {}
// func FuzzInAComment(f *testing.F) {}
`)},
		"a/b/deep_test.go":       {Data: []byte("package b\nimport \"testing\"\nfunc FuzzDeep(f *testing.F) {}\n")},
		"a/helper.go":            {Data: []byte("package a\nfunc FuzzNotInATest() {}\n")},
		"a/testdata/x_test.go":   {Data: []byte("package x\nfunc FuzzIgnored() {}\n")},
		".hidden/h_test.go":      {Data: []byte("package h\nfunc FuzzIgnored() {}\n")},
		"a/b/testdata/fuzz/Fuzz": {Data: []byte("go test fuzz v1\n")},
	}
	makefile := "X := 1\nFUZZ_TARGETS := ./a:FuzzKept \\\n\t./a/b:FuzzDeep ./a:FuzzGone\nfuzz:\n\techo $(FUZZ_TARGETS)\n"
	missing, stale, err := compareFuzzTargets(tree, makefile)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(missing, []string{"./a:FuzzForgotten"}) || !slices.Equal(stale, []string{"./a:FuzzGone"}) {
		t.Errorf("missing %v, stale %v; want [./a:FuzzForgotten], [./a:FuzzGone]", missing, stale)
	}
	if _, _, err := compareFuzzTargets(tree, "FUZZ := ./a:FuzzKept\n"); err == nil {
		t.Error("a Makefile without FUZZ_TARGETS passed")
	}

	root := os.DirFS(moduleRoot())
	real, err := fs.ReadFile(root, "Makefile")
	if err != nil {
		t.Fatal(err)
	}
	const planted = "./dataset:FuzzReadIDX"
	if !strings.Contains(string(real), planted) {
		t.Fatalf("the Makefile does not list %s", planted)
	}
	missing, _, err = compareFuzzTargets(root, strings.Replace(string(real), planted, "", 1))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(missing, []string{planted}) {
		t.Errorf("with %s deleted from the Makefile the check reports missing %v", planted, missing)
	}
}

// compareFuzzTargets returns the fuzz targets of the tree fsys that the
// Makefile text does not list in FUZZ_TARGETS, and those it lists that
// the tree does not hold, each as ./dir:FuzzName.
func compareFuzzTargets(fsys fs.FS, makefile string) (missing, stale []string, err error) {
	have, err := fuzzTargets(fsys)
	if err != nil {
		return nil, nil, err
	}
	listed, err := listedFuzzTargets(makefile)
	if err != nil {
		return nil, nil, err
	}
	for _, h := range have {
		if !slices.Contains(listed, h) {
			missing = append(missing, h)
		}
	}
	for _, l := range listed {
		if !slices.Contains(have, l) {
			stale = append(stale, l)
		}
	}
	return missing, stale, nil
}

// fuzzTargets returns every fuzz target in the _test.go files of fsys as
// ./dir:FuzzName, sorted, skipping the directories the go command ignores
// (testdata and names starting with . or _).
func fuzzTargets(fsys fs.FS) ([]string, error) {
	var targets []string
	fset := token.NewFileSet()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != "." && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return fs.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, "_test.go") {
			return nil
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, p, src, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			if fn, ok := decl.(*ast.FuncDecl); ok && fn.Recv == nil && isFuzzName(fn.Name.Name) {
				targets = append(targets, "./"+path.Dir(p)+":"+fn.Name.Name)
			}
		}
		return nil
	})
	slices.Sort(targets)
	return targets, err
}

// isFuzzName reports whether name is a fuzz target's: Fuzz, then nothing
// or a rune that is not a lower-case letter (as go test requires).
func isFuzzName(name string) bool {
	rest, ok := strings.CutPrefix(name, "Fuzz")
	if !ok {
		return false
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return rest == "" || !unicode.IsLower(r)
}

// listedFuzzTargets returns the words of the Makefile's FUZZ_TARGETS
// assignment, following backslash-continued lines.
func listedFuzzTargets(makefile string) ([]string, error) {
	joined := strings.ReplaceAll(makefile, "\\\n", " ")
	for line := range strings.Lines(joined) {
		name, value, ok := strings.Cut(line, "=")
		name = strings.TrimRight(strings.TrimSpace(name), ":?+")
		if ok && strings.TrimSpace(name) == "FUZZ_TARGETS" {
			return strings.Fields(value), nil
		}
	}
	return nil, fs.ErrNotExist
}
