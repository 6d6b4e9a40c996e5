package desired

import (
	"math/rand/v2"
	"testing"
)

// TestNumberSet checks the duplicate check's table against a Go map over
// clustered and scattered keys, through several growths.
func TestNumberSet(t *testing.T) {
	for _, hint := range []int{0, 100, 50_000} {
		r := rand.New(rand.NewPCG(3, uint64(hint)))
		s := newNumberSet(hint)
		want := map[uint64]int{}
		for line := 2; line < 60_000; line++ {
			var key uint64
			switch r.IntN(3) {
			case 0:
				key = 12125550000 + uint64(r.IntN(20_000)) // dense, with repeats
			case 1:
				key = r.Uint64N(1_000_000_000_000_000)
			default:
				key = uint64(r.IntN(50)) // tiny keys, 0 included
			}
			first, dup := s.firstLine(key, line)
			w, wdup := want[key]
			if dup != wdup || dup && first != w {
				t.Fatalf("hint %d, key %d line %d: got %d %v, want %d %v", hint, key, line, first, dup, w, wdup)
			}
			if !wdup {
				want[key] = line
			}
		}
		if s.n != len(want) {
			t.Fatalf("hint %d: %d entries, want %d", hint, s.n, len(want))
		}
	}
}
