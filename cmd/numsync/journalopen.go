package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/journal/pgjournal"
)

// lockLease, when set at link time (go build -ldflags "-X
// main.lockLease=6s"), replaces the PostgreSQL journal lock's two-minute
// lease, heartbeats coming four times as often. Only the process tests set
// it, so a failover test does not wait two minutes; a released numsync
// never has it.
var lockLease string

// openStore opens the journal target names: a postgres:// (or
// postgresql://) URL is a PostgreSQL journal, anything else a SQLite file.
// A URL is never taken for a file name. With create, a missing SQLite file
// is created (its directory too); without, it is an error naming it (the
// read-only commands must not leave an empty journal behind).
func openStore(ctx context.Context, target string, create bool) (journal.Store, error) {
	if pgjournal.IsURL(target) {
		var opts []pgjournal.Option
		if d, err := time.ParseDuration(lockLease); err == nil && d > 0 {
			opts = append(opts, pgjournal.WithStaleAfter(d), pgjournal.WithHeartbeat(d/4))
		}
		j, err := pgjournal.Open(ctx, target, opts...)
		if err != nil {
			return nil, connectError(target, err)
		}
		return j, nil
	}
	if !create {
		if _, err := os.Stat(target); err != nil {
			return nil, fmt.Errorf("no journal at %s (runs are journaled by 'numsync apply'; --journal names another)", target)
		}
		return journal.Open(ctx, target)
	}
	if dir := filepath.Dir(target); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
	}
	return journal.Open(ctx, target)
}

// journalName is how messages name a journal: a URL without its password.
func journalName(target string) string {
	if pgjournal.IsURL(target) {
		return pgjournal.Redact(target)
	}
	return target
}

// pgConnectError is a PostgreSQL journal that could not be reached, said
// once: pgx lists one line per connection attempt (a TLS try, then a plain
// one, to the same address), each repeating "dial error: dial tcp ADDR".
type pgConnectError struct {
	msg string
	err error
}

func (e *pgConnectError) Error() string { return e.msg }
func (e *pgConnectError) Unwrap() error { return e.err }

// connectError rewrites a failed connection to the PostgreSQL journal at
// target as one line naming the address tried and the reason; other
// errors (a schema newer than this numsync, a bad URL) pass unchanged.
func connectError(target string, err error) error {
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) {
		return err
	}
	var op *net.OpError
	if errors.As(ce, &op) && op.Addr != nil {
		reason := op.Err.Error()
		var errno syscall.Errno
		if errors.As(op.Err, &errno) {
			reason = errno.Error()
		}
		// The address dialled is named unless the URL names it already
		// (a host name resolves to an address the URL does not show).
		at := ""
		if name := journalName(target); !strings.Contains(name, op.Addr.String()) {
			at = " at " + op.Addr.String()
		}
		return &pgConnectError{err: err, msg: fmt.Sprintf("journal: open %s: could not connect to PostgreSQL%s: %s (check the journal URL and that the server answers from this host)", journalName(target), at, reason)}
	}
	// Not a network failure (authentication, a missing database): each
	// attempt's own words, once each.
	var reasons []string
	attempts := []error{errors.Unwrap(ce)}
	if j, ok := attempts[0].(interface{ Unwrap() []error }); ok {
		attempts = j.Unwrap()
	}
	for _, a := range attempts {
		if a == nil {
			continue
		}
		if r := a.Error(); !slices.Contains(reasons, r) {
			reasons = append(reasons, r)
		}
	}
	return &pgConnectError{err: err, msg: fmt.Sprintf("journal: open %s: could not connect to PostgreSQL: %s", journalName(target), strings.Join(reasons, "; "))}
}
