//go:build !unix

package journal

// processAlive cannot tell on this platform, so it says alive: a dead
// holder's lock is then taken over by the heartbeat rule alone.
func processAlive(int) bool { return true }
