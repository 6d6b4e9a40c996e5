package main

import (
	"errors"
	"strconv"

	flag "github.com/spf13/pflag"
)

// Exit codes of SPEC section 3, the same for every command. They are
// decided here and only here: commands return errors, exitCode maps them.
const (
	// ExitOK: success; apply: every operation done; plan
	// --detailed-exitcode: no changes.
	ExitOK = 0
	// ExitError: bad arguments, config or CSV; a vendor unreachable after
	// retries.
	ExitError = 1
	// ExitChanges: plan --detailed-exitcode found changes.
	ExitChanges = 2
	// ExitFailed: apply finished, but some operations failed for good.
	ExitFailed = 3
	// ExitRefused: refused by the safety threshold; nothing was changed.
	ExitRefused = 4
	// ExitLocked: another run holds the journal's lock.
	ExitLocked = 5
	// ExitStale: the saved plan is stale; nothing was changed.
	ExitStale = 6
	// ExitDuration: apply stopped at --max-duration; the run is resumable.
	ExitDuration = 7
	// ExitSIGINT and ExitSIGTERM: apply stopped by a signal; resumable.
	ExitSIGINT  = 130
	ExitSIGTERM = 143
)

// exitError carries the exit code a command's outcome calls for. err may
// be nil for an outcome that is not a failure (plan --detailed-exitcode with
// changes); silent means the command already told the user everything and
// Run prints nothing more.
type exitError struct {
	code   int
	err    error
	silent bool
}

// Error is the underlying error's text.
func (e *exitError) Error() string {
	if e.err == nil {
		return "exit status " + strconv.Itoa(e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// withCode makes err exit with code; the error is printed by Run.
func withCode(code int, err error) error { return &exitError{code: code, err: err} }

// quietly makes err exit with code without Run printing it: the command has
// already reported the outcome in full (validate's error listing).
func quietly(code int, err error) error { return &exitError{code: code, err: err, silent: true} }

// usageError marks a mistake on the command line; Run adds a pointer to
// --help.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// exitCode maps a command's returned error to the process exit code: nil is
// success, an exitError says its code, --help is success, anything else is
// a plain error (1).
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return ExitError
}
