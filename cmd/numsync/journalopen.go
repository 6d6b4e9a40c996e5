package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

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
		return pgjournal.Open(ctx, target, opts...)
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
