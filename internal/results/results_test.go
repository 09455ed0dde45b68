package results

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestWriteCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.csv")
	if err := WriteCSV(path, []string{"a", "b"}, [][]string{{"1", "x,y"}}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if want := "a,b\n1,\"x,y\"\n"; string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	rows, err := ReadCSV(path)
	if err != nil || !reflect.DeepEqual(rows, [][]string{{"a", "b"}, {"1", "x,y"}}) {
		t.Fatalf("read back %q, %v", rows, err)
	}
	if _, err := ReadCSV(filepath.Join(t.TempDir(), "missing.csv")); err == nil {
		t.Fatal("missing file read")
	}
	if err := WriteCSV(path, []string{"a", "b"}, [][]string{{"1"}}); err == nil {
		t.Fatal("short row accepted")
	}
}

func TestWriteJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.json")
	if err := WriteJSON(path, map[string]int{"rounds": 3}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if want := "{\n  \"rounds\": 3\n}\n"; string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if err := WriteJSON(path, make(chan int)); err == nil {
		t.Fatal("unmarshalable value accepted")
	}
}
