//go:build race

package journal

// raceEnabled: the race detector slows each process start tenfold, so
// tests that spawn processes do fewer rounds under it.
const raceEnabled = true
