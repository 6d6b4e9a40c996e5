package pgjournal_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/journal/journaltest"
	"github.com/numsync/numsync/internal/journal/pgjournal"
	"github.com/numsync/numsync/internal/pgtest"
	"github.com/numsync/numsync/internal/plan"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// factory makes a fresh schema on the shared throwaway server (skipping
// when there is none) and opens journals on it.
func factory(t testing.TB) journaltest.Opener {
	url := pgtest.URL(t)
	return func(t testing.TB, o journaltest.Options) journal.Store {
		t.Helper()
		opts := []pgjournal.Option{pgjournal.WithProcessCheck(o.Alive)}
		if o.Now != nil {
			opts = append(opts, pgjournal.WithClock(o.Now))
		}
		if o.Heartbeat > 0 {
			opts = append(opts, pgjournal.WithHeartbeat(o.Heartbeat))
		}
		if o.Ticks != nil {
			opts = append(opts, pgjournal.WithHeartbeatTicks(o.Ticks))
		}
		if o.ResultDelay > 0 {
			opts = append(opts, pgjournal.WithResultDelay(o.ResultDelay))
		}
		j, err := pgjournal.Open(context.Background(), url, opts...)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { _ = j.Close() })
		return j
	}
}

// TestContract runs the journal contract suite against PostgreSQL.
func TestContract(t *testing.T) { journaltest.Run(t, factory) }

// TestCopyFromSQLite is `numsync journal migrate`'s case: a SQLite journal
// copied into PostgreSQL keeps everything.
func TestCopyFromSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "numsync.db")
	sqlite := func(t testing.TB, o journaltest.Options) journal.Store {
		t.Helper()
		j, err := journal.Open(context.Background(), path, journal.WithClock(o.Now))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = j.Close() })
		return j
	}
	journaltest.CopyContract(t, sqlite, factory(t))
}

func TestIsURL(t *testing.T) {
	for s, want := range map[string]bool{
		"postgres://u@h/db": true, "postgresql://h/db?sslmode=require": true, "POSTGRES://H/DB": true,
		" postgres://h/db": true, "./numsync.db": false, "postgres": false, "postgres.db": false,
		"/var/lib/postgres://x": false, "file:postgres://x": false, "": false,
	} {
		if got := pgjournal.IsURL(s); got != want {
			t.Errorf("IsURL(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestOpenErrorHidesPassword: a journal that cannot be reached is named in
// the error without its password.
func TestOpenErrorHidesPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, u := range []string{
		"postgres://numsync:hunter2@127.0.0.1:1/numsync?sslmode=disable&connect_timeout=2",
		"postgres://numsync:hunter2@[::1/bad",
	} {
		_, err := pgjournal.Open(ctx, u)
		if err == nil {
			t.Fatalf("Open(%s) succeeded", pgjournal.Redact(u))
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error shows the password: %v", err)
		}
		if !strings.HasPrefix(err.Error(), "journal: open ") {
			t.Errorf("error %q", err)
		}
	}
}

// TestConcurrentOpensMigrateOnce: hosts opening a new journal at once
// each see the schema at its newest version, created once.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			j, err := pgjournal.Open(ctx, url)
			if err == nil {
				_ = j.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	j, err := pgjournal.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if v, err := j.SchemaVersion(ctx); err != nil || v != pgjournal.SchemaVersionLatest {
		t.Errorf("schema version %d, %v", v, err)
	}
}

// TestNewerSchemaRefused: a journal migrated by a newer numsync is not
// written by an older one.
func TestNewerSchemaRefused(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	j, err := pgjournal.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	_ = j.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES (99)`); err != nil {
		t.Fatal(err)
	}
	if _, err := pgjournal.Open(ctx, url); err == nil || !strings.Contains(err.Error(), "upgrade numsync") {
		t.Errorf("Open of a newer schema = %v", err)
	}
}

// TestLockOnServerClock: without an injected clock, lock times come from
// the server, and a holder is refused with them.
func TestLockOnServerClock(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	j1, err := pgjournal.Open(ctx, url, pgjournal.WithHeartbeat(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer j1.Close()
	j2, err := pgjournal.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	before := time.Now().Add(-time.Minute)
	l, err := j1.Lock(ctx, journal.LockInfo{Host: "a", PID: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = j2.Lock(ctx, journal.LockInfo{Host: "b", PID: 2})
	var le *journal.LockedError
	if !errors.As(err, &le) || le.Holder.Host != "a" {
		t.Fatalf("second Lock = %v", err)
	}
	if le.Since.Before(before) || le.Since.After(time.Now().Add(time.Minute)) {
		t.Errorf("since %v is not the server's now", le.Since)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	l2, err := j2.Lock(ctx, journal.LockInfo{Host: "b", PID: 2})
	if err != nil {
		t.Fatalf("Lock after Release: %v", err)
	}
	_ = l2.Release(ctx)
}

// TestLogFolded checks the PostgreSQL journal leaves no progress log
// behind the holder's Finish, its Resume, or the next Start.
func TestLogFolded(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	j, err := pgjournal.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	logged := func(label string, want bool) {
		t.Helper()
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM op_log`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if (n > 0) != want {
			t.Errorf("%s: %d log rows, want some: %v", label, n, want)
		}
	}
	ops := journaltest.Ops(4)
	a, err := j.Start(ctx, journal.NewRun{Info: journal.RunInfo{CSVDigest: "d"}, Ops: ops})
	if err != nil {
		t.Fatal(err)
	}
	mark := func(op int) {
		t.Helper()
		if err := j.MarkSent(ctx, a.ID, []string{ops[op].ID}); err != nil {
			t.Fatal(err)
		}
	}
	mark(0)
	logged("after a mark", true)
	if _, err := j.Resume(ctx, journal.ResumeRequest{CSVDigest: "d"}); err != nil {
		t.Fatal(err)
	}
	logged("after Resume", false)
	mark(1)
	if _, err := j.Start(ctx, journal.NewRun{Info: journal.RunInfo{CSVDigest: "e"}, Ops: ops}); err != nil {
		t.Fatal(err)
	}
	logged("after the next Start", false)
	mark(2)
	if err := j.Finish(ctx, a.ID, journal.End{Outcome: journal.OutcomeDone}); err != nil {
		t.Fatal(err)
	}
	logged("after Finish", false)
}

// TestFoldWaitsForConcurrentAppend: an append to a run's log still
// uncommitted when the run is finished (a holder that lost the lock and
// still writes) is waited for and folded. Identity values are drawn at
// insert, not commit, so a fold that did not wait could read the log
// without it and delete it unapplied.
func TestFoldWaitsForConcurrentAppend(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	j, err := pgjournal.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ops := journaltest.Ops(2)
	a, err := j.Start(ctx, journal.NewRun{Info: journal.RunInfo{CSVDigest: "d"}, Ops: ops})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	other, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	late, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := journal.LogRows(time.Now(), nil, a.ID, []string{ops[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := late.Exec(ctx, `INSERT INTO op_log (run_id, data) VALUES ($1, $2)`, a.ID, rows[0].Data); err != nil {
		t.Fatal(err)
	}
	if err := j.MarkSent(ctx, a.ID, []string{ops[1].ID}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- j.Finish(ctx, a.ID, journal.End{Outcome: journal.OutcomeDone}) }()
	for waiting := false; !waiting; {
		select {
		case err := <-done:
			_ = late.Rollback(ctx)
			t.Fatalf("Finish returned (%v) while an append to its run's log was uncommitted", err)
		case <-time.After(5 * time.Millisecond):
		}
		if err := conn.QueryRow(ctx, `SELECT count(*) > 0 FROM pg_locks WHERE NOT granted AND relation = 'op_log'::regclass`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
	}
	if err := late.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got, err := j.Ops(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range got {
		if o.State != plan.StateSent || o.Attempts != 1 {
			t.Errorf("%s = %s/%d after the Finish, want sent/1", o.Op.ID, o.State, o.Attempts)
		}
	}
	var left int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM op_log`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d log rows left after the Finish (%v)", left, err)
	}
}

// TestLogFoldedBehind checks the background write keeps a run's log
// short while the run is applied.
func TestLogFoldedBehind(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	j, err := pgjournal.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	ops := journaltest.Ops(2)
	a, err := j.Start(ctx, journal.NewRun{Info: journal.RunInfo{CSVDigest: "d"}, Ops: ops})
	if err != nil {
		t.Fatal(err)
	}
	longest := 0
	for range 200 {
		if err := j.MarkSent(ctx, a.ID, []string{ops[0].ID}); err != nil {
			t.Fatal(err)
		}
		if err := j.Record(ctx, a.ID, []plan.OpUpdate{{OpID: ops[0].ID, State: plan.StatePending}}); err != nil {
			t.Fatal(err)
		}
		if _, err := j.Run(ctx, a.ID); err != nil { // writes the result first
			t.Fatal(err)
		}
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM op_log`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		longest = max(longest, n)
	}
	if longest > journal.FoldBehindAt+2 {
		t.Errorf("the log grew to %d rows, want at most %d", longest, journal.FoldBehindAt+2)
	}
}
