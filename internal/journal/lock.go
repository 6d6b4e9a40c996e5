package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// LockInfo names a lock holder, for the message a second apply prints.
type LockInfo struct {
	Host    string
	PID     int
	Command string
}

// LockedError is returned by Lock when another holder is alive, and
// describes, as Lock.Previous, the holder a lock was taken over from.
type LockedError struct {
	Holder LockInfo
	// Since is when the holder took the lock.
	Since time.Time
	// LastBeat is the holder's last heartbeat.
	LastBeat time.Time
	// Reason is, on Lock.Previous, why the holder was judged gone; zero
	// on a lock still held.
	Reason TakeoverReason
}

// Error names the holder and when it took the lock, so the operator can
// tell a running apply from an abandoned one.
func (e *LockedError) Error() string {
	cmd := e.Holder.Command
	if cmd == "" {
		cmd = "another run"
	}
	return fmt.Sprintf("journal is locked by %s on host %s (pid %d) since %s; last heartbeat %s",
		cmd, e.Holder.Host, e.Holder.PID,
		e.Since.UTC().Format(time.RFC3339), e.LastBeat.UTC().Format(time.RFC3339))
}

// TakeoverReason is why LockPolicy judged a held lock free.
type TakeoverReason int

const (
	// TakeoverStale means the holder has been silent (no heartbeat) past the
	// stale limit.
	TakeoverStale TakeoverReason = iota + 1
	// TakeoverProcessGone means the holder ran on the taker's host under a
	// process id that no longer exists there (killed without releasing).
	TakeoverProcessGone
)

// String names the reason, as logs label it.
func (r TakeoverReason) String() string {
	switch r {
	case TakeoverStale:
		return "stale"
	case TakeoverProcessGone:
		return "process_gone"
	}
	return fmt.Sprintf("TakeoverReason(%d)", int(r))
}

// LockPolicy decides when a held lock may be taken over. It is shared by
// every Store implementation, so "stale" means the same on each.
type LockPolicy struct {
	// StaleAfter is how long a holder may stay silent (no heartbeat)
	// before its lock is taken over; DefaultStaleAfter.
	StaleAfter time.Duration
	// Alive reports whether a process of this host is still running (see
	// ProcessAlive); nil disables the same-host shortcut.
	Alive func(pid int) bool
}

// TakeOver reports why cur, the current holder, may be taken over by the
// holder by at now, or 0 when it may not: it ran on by's host under
// another process id that no longer exists (killed without releasing:
// waiting StaleAfter would only delay the resume), or it has been silent
// past StaleAfter. A gone process is named first, since it is the surer
// news. A different pid is required so a process never takes its own lock.
func (p LockPolicy) TakeOver(cur *LockedError, by LockInfo, now time.Time) TakeoverReason {
	if p.Alive != nil && cur.Holder.Host != "" && cur.Holder.Host == by.Host &&
		cur.Holder.PID > 0 && cur.Holder.PID != by.PID && !p.Alive(cur.Holder.PID) {
		return TakeoverProcessGone
	}
	if now.Sub(cur.LastBeat) >= p.StaleAfter {
		return TakeoverStale
	}
	return 0
}

// Decide is the lock decision of every Store, taken with the lock row
// read under the store's write lock: cur is its holder (nil when the lock
// is free). It returns the holder taken over, with its Reason set, or nil
// when the lock was free; or, when cur may not be taken over, cur as the
// error.
func (p LockPolicy) Decide(cur *LockedError, by LockInfo, now time.Time) (prev *LockedError, err error) {
	if cur == nil {
		return nil, nil
	}
	r := p.TakeOver(cur, by, now)
	if r == 0 {
		return nil, cur
	}
	taken := *cur
	taken.Reason = r
	return &taken, nil
}

// Lock implements Locker. The check and the write happen in one BEGIN
// IMMEDIATE transaction, so of any number of contenders, in this process
// or others, exactly one wins.
func (j *SQLite) Lock(ctx context.Context, holder LockInfo) (Lock, error) {
	token, err := NewLockToken()
	if err != nil {
		return nil, fmt.Errorf("journal: lock: %w", err)
	}
	var prev *LockedError
	err = j.inTx(ctx, func(tx *sql.Tx) error {
		now := j.now()
		var (
			cur         LockInfo
			since, beat int64
			held        *LockedError
		)
		err := tx.QueryRowContext(ctx, `SELECT host, pid, command, since, beat FROM lock WHERE id = 1`).
			Scan(&cur.Host, &cur.PID, &cur.Command, &since, &beat)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("read lock: %w", err)
		default:
			held = &LockedError{Holder: cur, Since: fromNanos(since), LastBeat: fromNanos(beat)}
		}
		if prev, err = j.opts.lock.Decide(held, holder, now); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO lock (id, host, pid, command, token, since, beat) VALUES (1, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, command = excluded.command,
				token = excluded.token, since = excluded.since, beat = excluded.beat`,
			holder.Host, holder.PID, holder.Command, token, nanos(now), nanos(now))
		if err != nil {
			return fmt.Errorf("write lock: %w", err)
		}
		return nil
	})
	if err != nil {
		var le *LockedError
		if errors.As(err, &le) {
			return nil, le
		}
		return nil, fmt.Errorf("journal: lock: %w", err)
	}
	return j.locks.Start(ctx, Lease{
		Previous: prev,
		Every:    j.opts.heartbeat,
		Ticks:    j.opts.beats,
		Beat:     func(ctx context.Context) (bool, error) { return j.beat(ctx, token) },
		Release:  func(ctx context.Context) error { return j.release(ctx, token) },
		Flush:    j.results.Flush,
	}), nil
}

// beat refreshes the lock's beat while it carries token.
func (j *SQLite) beat(ctx context.Context, token string) (ours bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, 2*busyTimeout)
	defer cancel()
	err = j.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE lock SET beat = ? WHERE id = 1 AND token = ?`, nanos(j.now()), token)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ours = n == 1
		return err
	})
	return ours, err
}

// release frees the lock while it carries token, even when ctx is
// cancelled.
func (j *SQLite) release(ctx context.Context, token string) error {
	ctx, cancel := detached(ctx)
	defer cancel()
	err := j.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM lock WHERE id = 1 AND token = ?`, token)
		return err
	})
	if err != nil {
		return fmt.Errorf("journal: release lock: %w", err)
	}
	return nil
}
