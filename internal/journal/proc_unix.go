//go:build unix

package journal

import (
	"errors"
	"syscall"
)

// ProcessAlive reports whether a process with this id exists on this host
// (LockPolicy.Alive for a journal on this host).
// Signal 0 checks without delivering anything; EPERM means it exists but
// belongs to someone else. Only a definite "no such process" counts as dead,
// so an unexpected error never takes a live holder's lock.
func ProcessAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return !errors.Is(err, syscall.ESRCH)
}
