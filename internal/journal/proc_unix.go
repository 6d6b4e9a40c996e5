//go:build unix

package journal

import (
	"errors"
	"syscall"
)

// processAlive reports whether a process with this id exists on this host.
// Signal 0 checks without delivering anything; EPERM means it exists but
// belongs to someone else. Only a definite "no such process" counts as dead,
// so an unexpected error never takes a live holder's lock.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return !errors.Is(err, syscall.ESRCH)
}
