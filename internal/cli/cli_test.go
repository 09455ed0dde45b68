package cli

import (
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

func TestLoadDataRejectsNegativeLimit(t *testing.T) {
	if _, err := LoadData("mnist", t.TempDir(), -1, 1, nil); err == nil {
		t.Fatal("negative limit accepted")
	}
}
