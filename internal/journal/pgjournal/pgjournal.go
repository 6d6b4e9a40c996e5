// Package pgjournal is numsync's journal in PostgreSQL (through
// jackc/pgx/v5): the same journal.Store as the SQLite file, for the
// deployments a local file does not serve — a Kubernetes CronJob whose pod
// has no disk that outlives it, or several cron hosts that take turns. Its
// guarantees are the SQLite journal's (journal.Store's checklist): the sent
// mark committed before the request, a batch's results in one transaction,
// resume, the detail cache, the history, and the apply lock with holder,
// heartbeat and takeover after the lease, held by one apply at a time
// across every host that shares the database.
//
// The journal is chosen by `journal:` being a postgres:// (or
// postgresql://) URL; see IsURL. Every table lives in the connection's
// first search_path schema (public by default; `?search_path=numsync` in
// the URL puts it elsewhere). The schema is versioned (schema_migrations)
// and brought up to date by Open, one migrator at a time.
//
// Lock times come from the database server's clock, so hosts whose clocks
// disagree still agree on when a holder went silent.
package pgjournal

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/numsync/numsync/internal/journal"
)

// Compile-time proof that the PostgreSQL journal is a Store.
var _ journal.Store = (*Journal)(nil)

// opTimeout bounds the writes that must complete even when the caller's
// context is cancelled (Record, Finish, Release): long enough for a busy
// server, short enough that a dead one does not hang an interrupted apply.
const opTimeout = 30 * time.Second

// maxConns is the pool size: the executor writes from one goroutine at a
// time, the heartbeat needs its own, and the planner's reads one or two.
const maxConns = 4

// IsURL reports whether a `journal:` value names a PostgreSQL journal
// rather than a SQLite file: it starts with postgres:// or postgresql://
// (any case). Anything else is a file path, so a file that happens to be
// called "postgres" stays a file.
func IsURL(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Redact returns the URL with its password hidden, for messages and logs.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "postgres://" + journal.Redacted
	}
	return u.Redacted()
}

// Journal is an open PostgreSQL journal. It is safe for concurrent use.
type Journal struct {
	pool    *pgxpool.Pool
	display string // the URL without its password
	opts    options

	locks   journal.HeldLocks    // held locks, whose heartbeats Close stops
	results *journal.ResultQueue // results written behind the executor
}

type options struct {
	now         func() time.Time
	fakeClock   bool // now was given: use it for the lock too
	heartbeat   time.Duration
	beats       <-chan time.Time
	resultDelay time.Duration
	lock        journal.LockPolicy
}

// Option changes how Open sets up a journal. The defaults suit production.
type Option func(*options)

// WithClock replaces the clock for every timestamp the journal writes and
// for the lock's staleness (instead of the server's clock), so tests can
// move time without sleeping.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now, o.fakeClock = now, true
		}
	}
}

// WithHeartbeat sets how often a held lock is refreshed (default
// journal.DefaultHeartbeat).
func WithHeartbeat(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.heartbeat = d
		}
	}
}

// WithHeartbeatTicks makes a held lock refresh at each value received from
// ticks instead of every heartbeat interval (journal.WithHeartbeatTicks).
func WithHeartbeatTicks(ticks <-chan time.Time) Option {
	return func(o *options) { o.beats = ticks }
}

// WithStaleAfter sets how long a holder may stay silent before its lock is
// taken over (default journal.DefaultStaleAfter).
func WithStaleAfter(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.lock.StaleAfter = d
		}
	}
}

// WithResultDelay sets how long a result waits for the next sent mark to
// carry it before it is written on its own (default 2 ms), so a test can
// tell what the mark and the lock's release write from what the
// background write does.
func WithResultDelay(d time.Duration) Option {
	return func(o *options) { o.resultDelay = d }
}

// WithProcessCheck replaces the test of whether a process on this host is
// still running (journal.LockPolicy.Alive); nil disables the same-host
// shortcut.
func WithProcessCheck(alive func(pid int) bool) Option {
	return func(o *options) { o.lock.Alive = alive }
}

// Open connects to the journal at the postgres:// URL and brings its schema
// up to date. Errors name the URL without its password.
func Open(ctx context.Context, rawURL string, opt ...Option) (*Journal, error) {
	o := options{
		now:       time.Now,
		heartbeat: journal.DefaultHeartbeat,
		lock:      journal.LockPolicy{StaleAfter: journal.DefaultStaleAfter, Alive: journal.ProcessAlive},
	}
	for _, f := range opt {
		f(&o)
	}
	display := Redact(rawURL)
	if !IsURL(rawURL) {
		return nil, fmt.Errorf("journal: open %s: not a postgres:// URL", display)
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		// pgx's parse errors can quote the URL; say only what it was.
		return nil, fmt.Errorf("journal: open %s: invalid PostgreSQL URL", display)
	}
	cfg.MaxConns = maxConns
	cfg.MinConns = 0
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "numsync"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("journal: open %s: %w", display, err)
	}
	j := &Journal{pool: pool, display: display, opts: o}
	j.results = journal.NewResultQueue(j.writeResults, j.opIDs)
	if o.resultDelay > 0 {
		j.results.SetDelay(o.resultDelay)
	}
	if err := j.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("journal: open %s: %w", display, err)
	}
	return j, nil
}

// String names the journal (its URL without the password).
func (j *Journal) String() string { return j.display }

// Close stops the heartbeats of locks still held (without releasing them)
// and closes the connections.
func (j *Journal) Close() error {
	err := j.results.Flush()
	j.locks.StopAll()
	j.pool.Close()
	if err != nil {
		return fmt.Errorf("journal: close: %w", err)
	}
	return nil
}

// now returns the journal clock's time in UTC.
func (j *Journal) now() time.Time { return j.opts.now().UTC() }

// inTx runs fn in one transaction, committing when fn returns nil and
// rolling back otherwise.
func (j *Journal) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := j.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// detached returns a context that ignores the caller's cancellation but
// keeps its values, bounded by opTimeout: for writes whose loss would be
// worse than finishing them.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
}

// noRows reports whether err is pgx's "no rows".
func noRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
