package cli

import (
	"flag"
	"slices"
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{12300 * time.Millisecond, "12.3s"},
		{185 * time.Second, "3m05s"},
		{62 * time.Minute, "1h02m"},
	}
	for _, c := range cases {
		if got := Duration(c.d); got != c.want {
			t.Errorf("Duration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestList(t *testing.T) {
	if got := List(" a, ,b ,"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("List: %q", got)
	}
}

func TestInts(t *testing.T) {
	got, err := Ints("10, 30,1000", 1)
	if err != nil || !slices.Equal(got, []int{10, 30, 1000}) {
		t.Errorf("Ints: %v, %v", got, err)
	}
	if got, err := Ints("0,2", 0); err != nil || !slices.Equal(got, []int{0, 2}) {
		t.Errorf("Ints with lo 0: %v, %v", got, err)
	}
	for _, bad := range []string{"0", "x", "5,-1", "2.5"} {
		if _, err := Ints(bad, 1); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestQuickKeepsGivenFlags(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	rounds, limit := fs.Int("rounds", 100, ""), fs.Int("limit", 0, "")
	if err := fs.Parse([]string{"-rounds", "7"}); err != nil {
		t.Fatal(err)
	}
	given := Given(fs)
	if !given["rounds"] || given["limit"] {
		t.Fatalf("given %v, want rounds only", given)
	}
	if err := Quick(fs, given, map[string]string{"rounds": "3", "limit": "500"}); err != nil {
		t.Fatal(err)
	}
	if *rounds != 7 || *limit != 500 {
		t.Errorf("rounds %d, limit %d: want the given 7 and the quick 500", *rounds, *limit)
	}
	if err := Quick(fs, nil, map[string]string{"nope": "1"}); err == nil {
		t.Error("an unknown flag was accepted")
	}
}
