// Package journal is numsync's memory: a SQLite file (pure-Go driver, WAL
// mode) that holds every run, its plan and the state of every operation, so
// that a rerun after a crash, a kill or a vendor outage resumes where the
// last one stopped and never applies an operation twice. It also holds the
// apply lock, the per-vendor inventory history (plan.History) and the OneUC
// detail cache (plan.DetailCache).
//
// Timestamps are stored as INTEGER Unix nanoseconds in UTC: they sort and
// compare as numbers, need no parsing on the hot path, and are returned as
// time.Time values in UTC.
//
// The journal never stores a secret. Callers strip secrets from what they
// hand in; as a second line of defence the command-line arguments of a run
// go through RedactArgs before they are written.
package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/numsync/numsync/internal/plan"

	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// Defaults for the apply lock (SPEC section 5).
const (
	// DefaultHeartbeat is how often a held lock is refreshed.
	DefaultHeartbeat = 20 * time.Second
	// DefaultStaleAfter is how long a holder may stay silent before its lock
	// is taken over.
	DefaultStaleAfter = 2 * time.Minute
	// busyTimeout bounds how long a statement waits for another process's
	// write transaction. Transactions here are short (one batch), so ten
	// seconds only expires when something is badly wrong.
	busyTimeout = 10 * time.Second
	// readConns is the size of the read pool. WAL lets readers proceed
	// alongside the one writer, so `show` and the planner's cache read need
	// not wait for the executor's commits.
	readConns = 4
	// fileMode is the permission of the journal and its -wal and -shm files:
	// the journal holds phone numbers and plans, which are nobody else's
	// business on a shared host.
	fileMode fs.FileMode = 0o600
)

// SQLite is an open journal file. It is safe for concurrent use by many
// goroutines: all writes go through a single connection (SQLite has one
// writer at a time anyway, and queueing in database/sql is cheaper and
// fairer than retrying SQLITE_BUSY), reads through a small pool.
type SQLite struct {
	path string
	w    *sql.DB // one connection, BEGIN IMMEDIATE
	r    *sql.DB // read-only pool
	opts options

	locks   HeldLocks    // held locks, whose heartbeats Close stops
	results *ResultQueue // results written behind the executor (behind.go)
}

// Compile-time proof that the journal serves the planner's interfaces.
var (
	_ plan.History     = (*SQLite)(nil)
	_ plan.DetailCache = (*SQLite)(nil)
)

type options struct {
	now         func() time.Time
	heartbeat   time.Duration
	beats       <-chan time.Time
	resultDelay time.Duration
	lock        LockPolicy
	sync        string
}

// Option changes how Open sets up a journal. The defaults suit production;
// options exist for tests and for unusual deployments.
type Option func(*options)

// WithClock replaces the wall clock used for every timestamp the journal
// writes and for lock staleness, so tests can move time without sleeping.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithHeartbeat sets how often a held lock is refreshed (default 20 s).
func WithHeartbeat(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.heartbeat = d
		}
	}
}

// WithHeartbeatTicks makes a held lock refresh at each value received from
// ticks instead of every heartbeat interval, so a test decides when beats
// happen instead of waiting on wall time.
func WithHeartbeatTicks(ticks <-chan time.Time) Option {
	return func(o *options) { o.beats = ticks }
}

// WithResultDelay sets how long a result waits for the next sent mark to
// carry it before it is written on its own (default 2 ms), so a test can
// tell what the mark and the lock's release write from what the
// background write does.
func WithResultDelay(d time.Duration) Option {
	return func(o *options) { o.resultDelay = d }
}

// WithProcessCheck replaces the test of whether a process on this host is
// still running, used to take over at once a lock whose holder ran on the
// same host and has died (kill -9, then an immediate rerun). nil disables
// the shortcut, leaving only the two-minute heartbeat rule.
func WithProcessCheck(alive func(pid int) bool) Option {
	return func(o *options) { o.lock.Alive = alive }
}

// WithSynchronous sets SQLite's synchronous pragma ("FULL", the default,
// or "NORMAL"). FULL makes every commit durable against power loss, so a
// `sent` mark can never vanish after its request went out; NORMAL is
// durable against a killed process but not a crashed host, and is faster on
// slow disks.
func WithSynchronous(mode string) Option {
	return func(o *options) {
		switch strings.ToUpper(mode) {
		case "FULL", "NORMAL":
			o.sync = strings.ToUpper(mode)
		}
	}
}

// Open opens the journal at path, creating it (mode 0600) when it does not
// exist, and brings its schema up to date. The -wal and -shm files SQLite
// keeps beside it get the journal's own permission bits whatever the umask.
func Open(ctx context.Context, path string, opt ...Option) (*SQLite, error) {
	o := options{
		now:       time.Now,
		heartbeat: DefaultHeartbeat,
		lock:      LockPolicy{StaleAfter: DefaultStaleAfter, Alive: ProcessAlive},
		sync:      "FULL",
	}
	for _, f := range opt {
		f(&o)
	}
	if path == "" {
		return nil, errors.New("journal: open: no path given")
	}
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("journal: open %s: %w", path, err)
	}

	base := "file:" + uriPath(path)
	ms := busyTimeout.Milliseconds()
	// journal_mode(WAL) is not among the connection's pragmas: it is set
	// once, by setWAL, which retries where SQLite would fail at once.
	wdsn := fmt.Sprintf("%s?_txlock=immediate&_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=auto_vacuum(2)&_pragma=synchronous(%s)&_pragma=cache_size(-32768)&_pragma=temp_store(memory)",
		base, ms, o.sync)
	rdsn := fmt.Sprintf("%s?_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=query_only(1)", base, ms)

	w, err := sql.Open("sqlite", wdsn)
	if err != nil {
		return nil, fmt.Errorf("journal: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	j := &SQLite{path: path, w: w, opts: o}
	j.results = NewResultQueue(j.writeResults, j.opIDs)
	if o.resultDelay > 0 {
		j.results.SetDelay(o.resultDelay)
	}
	if err := j.setWAL(ctx); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("journal: open %s: %w", path, err)
	}
	if err := j.migrate(ctx); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("journal: open %s: %w", path, err)
	}
	j.incrementalVacuum(ctx)
	if err := fixSidePerms(path); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("journal: open %s: %w", path, err)
	}

	r, err := sql.Open("sqlite", rdsn)
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("journal: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(readConns)
	r.SetMaxIdleConns(readConns)
	j.r = r
	return j, nil
}

// setWAL puts the journal in WAL mode, which persists in the file. Changing
// a new file's journal mode needs it to itself: while another process
// opens the same new file (two cron applies started together), SQLite
// answers SQLITE_BUSY at once, without waiting out the busy timeout, so
// the change is retried here, with short pauses, for up to busyTimeout.
func (j *SQLite) setWAL(ctx context.Context) error {
	deadline := time.Now().Add(busyTimeout)
	pause := 5 * time.Millisecond
	for {
		var mode string
		err := j.w.QueryRowContext(ctx, `PRAGMA journal_mode=WAL`).Scan(&mode)
		switch {
		case err == nil && strings.EqualFold(mode, "wal"):
			return nil
		case err == nil:
			return fmt.Errorf("set WAL mode: journal mode is %q", mode)
		case !isBusy(err) || time.Now().After(deadline):
			return fmt.Errorf("set WAL mode: %w", err)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("set WAL mode: %w", ctx.Err())
		case <-t.C:
		}
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY (or one of its
// extended codes): another connection holds the lock needed.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// Path returns the journal's file name as given to Open.
func (j *SQLite) Path() string { return j.path }

// Close closes the journal. A Lock still held is not released (its row
// stays until it goes stale, or until the next apply on this host sees its
// process gone); release locks first. Close does stop their heartbeats.
func (j *SQLite) Close() error {
	var errs []error
	if j.results != nil && j.r != nil {
		errs = append(errs, j.results.Flush())
	}
	j.locks.StopAll()
	if j.r != nil {
		errs = append(errs, j.r.Close())
	}
	if j.w != nil {
		errs = append(errs, j.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("journal: close: %w", err)
	}
	return nil
}

// createPrivate creates path with mode 0600 if it does not exist. The
// explicit chmod makes the result independent of the umask (which can only
// remove bits, and might remove the owner's write bit). An existing file is
// left as its owner set it.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := f.Chmod(fileMode); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// fixSidePerms gives the -wal and -shm files the main file's permission
// bits. SQLite's unix VFS already copies them when it creates those files,
// but a file left behind by an older run or another tool might be wider.
func fixSidePerms(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	mode := st.Mode().Perm()
	for _, suffix := range []string{"-wal", "-shm"} {
		side := path + suffix
		sst, err := os.Stat(side)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if sst.Mode().Perm() != mode {
			if err := os.Chmod(side, mode); err != nil {
				return err
			}
		}
	}
	return nil
}

// uriPath escapes the characters that would end or change the path part of
// a SQLite URI filename.
func uriPath(p string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return r.Replace(p)
}

// now returns the journal clock's time in UTC.
func (j *SQLite) now() time.Time { return j.opts.now().UTC() }

// nanos converts a time for storage.
func nanos(t time.Time) int64 { return t.UTC().UnixNano() }

// fromNanos converts a stored time back.
func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// inTx runs fn in one write transaction (BEGIN IMMEDIATE, so the write lock
// is taken up front and a read-then-write inside fn cannot race another
// process), committing when fn returns nil and rolling back otherwise.
func (j *SQLite) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := j.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// detached returns a context that ignores the caller's cancellation but
// keeps its values, bounded by a timeout. It is used where losing the write
// would be worse than finishing it: results the vendor already gave, the end
// of a run, the release of a lock.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 2*busyTimeout)
}
