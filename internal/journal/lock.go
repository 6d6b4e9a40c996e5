package journal

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"
)

// LockInfo names a lock holder, for the message a second apply prints.
type LockInfo struct {
	Host    string
	PID     int
	Command string
}

// LockedError is returned by Lock when another holder is alive.
type LockedError struct {
	Holder LockInfo
	// Since is when the holder took the lock.
	Since time.Time
	// LastBeat is the holder's last heartbeat.
	LastBeat time.Time
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

// CanTakeOver reports whether cur, the current holder, may be taken over
// by the holder by at now: it has been silent past StaleAfter, or it ran
// on by's host under another process id that no longer exists (killed
// without releasing: waiting StaleAfter would only delay the resume). A
// different pid is required so a process never takes its own lock.
func (p LockPolicy) CanTakeOver(cur *LockedError, by LockInfo, now time.Time) bool {
	if now.Sub(cur.LastBeat) >= p.StaleAfter {
		return true
	}
	return p.Alive != nil && cur.Holder.Host != "" && cur.Holder.Host == by.Host &&
		cur.Holder.PID > 0 && cur.Holder.PID != by.PID && !p.Alive(cur.Holder.PID)
}

// sqliteLock is a held apply lock of a SQLite journal. A goroutine
// refreshes its heartbeat until Release.
type sqliteLock struct {
	j      *SQLite
	token  string
	info   LockInfo
	prev   *LockedError // the holder taken over, or nil
	stop   context.CancelFunc
	done   chan struct{}
	lost   chan struct{}
	once   sync.Once
	relErr error
}

// Lock implements Locker. The check and the write happen in one BEGIN
// IMMEDIATE transaction, so of any number of contenders, in this process
// or others, exactly one wins.
func (j *SQLite) Lock(ctx context.Context, holder LockInfo) (Lock, error) {
	token, err := newToken()
	if err != nil {
		return nil, fmt.Errorf("journal: lock: %w", err)
	}
	var prev *LockedError
	err = j.inTx(ctx, func(tx *sql.Tx) error {
		now := j.now()
		var (
			cur         LockInfo
			since, beat int64
		)
		err := tx.QueryRowContext(ctx, `SELECT host, pid, command, since, beat FROM lock WHERE id = 1`).
			Scan(&cur.Host, &cur.PID, &cur.Command, &since, &beat)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("read lock: %w", err)
		default:
			held := &LockedError{Holder: cur, Since: fromNanos(since), LastBeat: fromNanos(beat)}
			if !j.opts.lock.CanTakeOver(held, holder, now) {
				return held
			}
			prev = held
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

	hbCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	l := &sqliteLock{
		j:     j,
		token: token,
		info:  holder,
		prev:  prev,
		stop:  stop,
		done:  make(chan struct{}),
		lost:  make(chan struct{}),
	}
	j.mu.Lock()
	if j.locks == nil {
		j.locks = map[*sqliteLock]struct{}{}
	}
	j.locks[l] = struct{}{}
	j.mu.Unlock()
	go l.heartbeat(hbCtx)
	return l, nil
}

// heartbeat refreshes the lock's beat until stopped. A refresh that finds
// the row no longer ours (taken over after we were silent too long) closes
// lost and ends; a refresh that fails (a busy database) is tried again at
// the next tick.
func (l *sqliteLock) heartbeat(ctx context.Context) {
	defer close(l.done)
	t := time.NewTicker(l.j.opts.heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ours, err := l.beat(ctx)
		if err == nil && !ours {
			close(l.lost)
			return
		}
	}
}

func (l *sqliteLock) beat(ctx context.Context) (ours bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, 2*busyTimeout)
	defer cancel()
	err = l.j.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE lock SET beat = ? WHERE id = 1 AND token = ?`, nanos(l.j.now()), l.token)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ours = n == 1
		return err
	})
	return ours, err
}

// TookOver reports the holder this lock was taken over from, if any, so the
// caller can warn about it.
func (l *sqliteLock) TookOver() (LockInfo, bool) {
	if l.prev == nil {
		return LockInfo{}, false
	}
	return l.prev.Holder, true
}

// Previous returns the stale holder this lock was taken over from, with
// when it took the lock and last beat, or nil.
func (l *sqliteLock) Previous() *LockedError { return l.prev }

// Lost is closed when a heartbeat finds the lock taken over by someone else
// (this process was silent past the stale limit). The holder should stop
// sending: another apply now believes it owns the journal.
func (l *sqliteLock) Lost() <-chan struct{} { return l.lost }

// Release stops the heartbeat and gives the lock up. It is idempotent, and
// completes even when ctx is already cancelled (an interrupted apply must
// still free the journal), bounded by a timeout. A lock already taken over
// is left to its new holder.
func (l *sqliteLock) Release(ctx context.Context) error {
	l.once.Do(func() {
		l.stopHeartbeat()
		l.j.mu.Lock()
		delete(l.j.locks, l)
		l.j.mu.Unlock()
		ctx, cancel := detached(ctx)
		defer cancel()
		err := l.j.inTx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM lock WHERE id = 1 AND token = ?`, l.token)
			return err
		})
		if err != nil {
			l.relErr = fmt.Errorf("journal: release lock: %w", err)
		}
	})
	return l.relErr
}

// stopHeartbeat ends the heartbeat goroutine and waits for it, so no
// refresh can race the release or the closing of the database.
func (l *sqliteLock) stopHeartbeat() {
	l.stop()
	<-l.done
}

func newToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}
