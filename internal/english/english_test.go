package english

import "testing"

func TestCount(t *testing.T) {
	for _, c := range []struct {
		n    int
		noun string
		want string
	}{
		{0, "run", "0 runs"},
		{1, "run", "1 run"},
		{2, "run", "2 runs"},
		{1, "request", "1 request"},
		{7, "request", "7 requests"},
		{1, "retry", "1 retry"},
		{3, "retry", "3 retries"},
		{2, "entry", "2 entries"},
		{2, "day", "2 days"},
		{2, "address", "2 addresses"},
		{1, "valid number", "1 valid number"},
		{5, "valid number", "5 valid numbers"},
		{2, "cached detail", "2 cached details"},
	} {
		if got := Count(c.n, c.noun); got != c.want {
			t.Errorf("Count(%d, %q) = %q, want %q", c.n, c.noun, got, c.want)
		}
	}
	if got := CountWere(1, "operation"); got != "1 operation was" {
		t.Errorf("CountWere(1) = %q", got)
	}
	if got := CountWere(2, "operation"); got != "2 operations were" {
		t.Errorf("CountWere(2) = %q", got)
	}
}
