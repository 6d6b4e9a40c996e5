package pgjournal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/numsync/numsync/internal/journal"
)

// pgLock is a held apply lock of a PostgreSQL journal: the lock row
// carries its token, and a goroutine refreshes the row's beat until
// Release.
type pgLock struct {
	j      *Journal
	token  string
	prev   *journal.LockedError // the holder taken over, or nil
	stop   context.CancelFunc
	done   chan struct{}
	lost   chan struct{}
	once   sync.Once
	relErr error
}

// Lock implements journal.Locker. The decision is taken with the lock row
// locked (SELECT ... FOR UPDATE), so contenders on every host sharing the
// database queue on it and exactly one wins; the others see its token.
func (j *Journal) Lock(ctx context.Context, holder journal.LockInfo) (journal.Lock, error) {
	token, err := newToken()
	if err != nil {
		return nil, fmt.Errorf("journal: lock: %w", err)
	}
	var prev *journal.LockedError
	err = j.inTx(ctx, func(tx pgx.Tx) error {
		var (
			cur         journal.LockInfo
			curToken    string
			since, beat *time.Time
		)
		err := tx.QueryRow(ctx, `SELECT host, pid, command, token, since, beat FROM lock WHERE id = 1 FOR UPDATE`).
			Scan(&cur.Host, &cur.PID, &cur.Command, &curToken, &since, &beat)
		if noRows(err) {
			// The row is made by the first migration; someone deleted it.
			// Recreate it free; a contender doing the same at once fails
			// on the primary key and is told to try again.
			_, err = tx.Exec(ctx, `INSERT INTO lock (id) VALUES (1)`)
		}
		if err != nil {
			return fmt.Errorf("read lock: %w", err)
		}
		now, err := j.lockNow(ctx, tx)
		if err != nil {
			return err
		}
		if curToken != "" {
			held := &journal.LockedError{Holder: cur, Since: utc(since), LastBeat: utc(beat)}
			if !j.opts.lock.CanTakeOver(held, holder, now) {
				return held
			}
			prev = held
		}
		_, err = tx.Exec(ctx, `UPDATE lock SET host = $1, pid = $2, command = $3, token = $4, since = $5, beat = $5 WHERE id = 1`,
			holder.Host, holder.PID, holder.Command, token, now)
		if err != nil {
			return fmt.Errorf("write lock: %w", err)
		}
		return nil
	})
	if err != nil {
		if le, ok := err.(*journal.LockedError); ok {
			return nil, le
		}
		return nil, fmt.Errorf("journal: lock: %w", err)
	}
	hbCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	l := &pgLock{j: j, token: token, prev: prev, stop: stop, done: make(chan struct{}), lost: make(chan struct{})}
	j.mu.Lock()
	if j.locks == nil {
		j.locks = map[*pgLock]struct{}{}
	}
	j.locks[l] = struct{}{}
	j.mu.Unlock()
	go l.heartbeat(hbCtx)
	return l, nil
}

// lockNow is the time lock decisions are made at: the injected clock when
// there is one (tests), else the database server's, which every host
// sharing the journal reads alike.
func (j *Journal) lockNow(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (time.Time, error) {
	if j.opts.fakeClock {
		return j.now(), nil
	}
	var t time.Time
	if err := q.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("read server clock: %w", err)
	}
	return t.UTC(), nil
}

func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// heartbeat refreshes the beat until stopped. A refresh that finds the row
// no longer ours closes lost and ends; one that fails (the server briefly
// unreachable) is tried again at the next tick.
func (l *pgLock) heartbeat(ctx context.Context) {
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

func (l *pgLock) beat(ctx context.Context) (ours bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	var tag int64
	if l.j.opts.fakeClock {
		ct, err := l.j.pool.Exec(ctx, `UPDATE lock SET beat = $1 WHERE id = 1 AND token = $2`, l.j.now(), l.token)
		if err != nil {
			return false, err
		}
		tag = ct.RowsAffected()
	} else {
		ct, err := l.j.pool.Exec(ctx, `UPDATE lock SET beat = clock_timestamp() WHERE id = 1 AND token = $1`, l.token)
		if err != nil {
			return false, err
		}
		tag = ct.RowsAffected()
	}
	return tag == 1, nil
}

// TookOver implements journal.Lock.
func (l *pgLock) TookOver() (journal.LockInfo, bool) {
	if l.prev == nil {
		return journal.LockInfo{}, false
	}
	return l.prev.Holder, true
}

// Previous implements journal.Lock.
func (l *pgLock) Previous() *journal.LockedError { return l.prev }

// Lost implements journal.Lock.
func (l *pgLock) Lost() <-chan struct{} { return l.lost }

// Release implements journal.Lock: the row is freed only while it still
// carries this lock's token.
func (l *pgLock) Release(ctx context.Context) error {
	l.once.Do(func() {
		l.stopHeartbeat()
		l.j.mu.Lock()
		delete(l.j.locks, l)
		l.j.mu.Unlock()
		ctx, cancel := detached(ctx)
		defer cancel()
		_, err := l.j.pool.Exec(ctx, `UPDATE lock SET host = '', pid = 0, command = '', token = '', since = NULL, beat = NULL
			WHERE id = 1 AND token = $1`, l.token)
		if err != nil {
			l.relErr = fmt.Errorf("journal: release lock: %w", err)
		}
	})
	return l.relErr
}

// stopHeartbeat ends the heartbeat goroutine and waits for it.
func (l *pgLock) stopHeartbeat() {
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
