//go:build !race

package journal

// raceEnabled: see race_on_test.go.
const raceEnabled = false
