//go:build !race

package desired

// raceEnabled shrinks the largest samples under the race detector, which
// slows the phone-number library's regular expressions tenfold.
const raceEnabled = false
