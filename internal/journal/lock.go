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

// Lock is a held apply lock. A goroutine refreshes its heartbeat until
// Release.
type Lock struct {
	j      *Journal
	token  string
	info   LockInfo
	prev   *LockedError // the holder taken over, or nil
	stop   context.CancelFunc
	done   chan struct{}
	lost   chan struct{}
	once   sync.Once
	relErr error
}

// Lock takes the journal's apply lock for holder. When a live holder has it,
// the error is a *LockedError naming that holder. A holder whose heartbeat
// is older than the stale limit (two minutes), or that ran on this same host
// under a process id that no longer exists, is taken over: the lock is
// granted and TookOver reports whom it was taken from, for a warning.
//
// The check and the write happen in one BEGIN IMMEDIATE transaction, so of
// any number of contenders, in this process or others, exactly one wins.
func (j *Journal) Lock(ctx context.Context, holder LockInfo) (*Lock, error) {
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
			if !j.stale(held, holder, now) {
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
	l := &Lock{
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
		j.locks = map[*Lock]struct{}{}
	}
	j.locks[l] = struct{}{}
	j.mu.Unlock()
	go l.heartbeat(hbCtx)
	return l, nil
}

// stale decides whether the current holder may be taken over by the new
// one at now.
func (j *Journal) stale(cur *LockedError, by LockInfo, now time.Time) bool {
	if now.Sub(cur.LastBeat) >= j.opts.staleAfter {
		return true
	}
	// Same host, and the holder's process is gone: it was killed without
	// releasing (kill -9). Waiting two minutes would only delay the resume.
	// A different pid is required so a process never takes its own lock.
	return j.opts.alive != nil && cur.Holder.Host != "" && cur.Holder.Host == by.Host &&
		cur.Holder.PID > 0 && cur.Holder.PID != by.PID && !j.opts.alive(cur.Holder.PID)
}

// heartbeat refreshes the lock's beat until stopped. A refresh that finds
// the row no longer ours (taken over after we were silent too long) closes
// lost and ends; a refresh that fails (a busy database) is tried again at
// the next tick.
func (l *Lock) heartbeat(ctx context.Context) {
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

func (l *Lock) beat(ctx context.Context) (ours bool, err error) {
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
func (l *Lock) TookOver() (LockInfo, bool) {
	if l.prev == nil {
		return LockInfo{}, false
	}
	return l.prev.Holder, true
}

// Previous returns the stale holder this lock was taken over from, with
// when it took the lock and last beat, or nil.
func (l *Lock) Previous() *LockedError { return l.prev }

// Lost is closed when a heartbeat finds the lock taken over by someone else
// (this process was silent past the stale limit). The holder should stop
// sending: another apply now believes it owns the journal.
func (l *Lock) Lost() <-chan struct{} { return l.lost }

// Release stops the heartbeat and gives the lock up. It is idempotent, and
// completes even when ctx is already cancelled (an interrupted apply must
// still free the journal), bounded by a timeout. A lock already taken over
// is left to its new holder.
func (l *Lock) Release(ctx context.Context) error {
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
func (l *Lock) stopHeartbeat() {
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
