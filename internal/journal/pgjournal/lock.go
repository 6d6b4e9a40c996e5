package pgjournal

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/numsync/numsync/internal/journal"
)

// Lock implements journal.Locker. The decision is taken with the lock row
// locked (SELECT ... FOR UPDATE), so contenders on every host sharing the
// database queue on it and exactly one wins; the others see its token.
// The lock row carries the winner's token, and a goroutine refreshes the
// row's beat until Release (journal.HeldLock).
func (j *Journal) Lock(ctx context.Context, holder journal.LockInfo) (journal.Lock, error) {
	token, err := journal.NewLockToken()
	if err != nil {
		return nil, fmt.Errorf("journal: lock: %w", err)
	}
	var prev *journal.LockedError
	err = j.inTx(ctx, func(tx pgx.Tx) error {
		var (
			cur         journal.LockInfo
			curToken    string
			since, beat *time.Time
			held        *journal.LockedError
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
			held = &journal.LockedError{Holder: cur, Since: utc(since), LastBeat: utc(beat)}
		}
		if prev, err = j.opts.lock.Decide(held, holder, now); err != nil {
			return err
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
	return j.locks.Start(ctx, journal.Lease{
		Previous: prev,
		Every:    j.opts.heartbeat,
		Ticks:    j.opts.beats,
		Beat:     func(ctx context.Context) (bool, error) { return j.beat(ctx, token) },
		Release:  func(ctx context.Context) error { return j.release(ctx, token) },
		Flush:    j.results.Flush,
	}), nil
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

// beat refreshes the lock row's beat while it carries token.
func (j *Journal) beat(ctx context.Context, token string) (ours bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	var ct pgconn.CommandTag
	if j.opts.fakeClock {
		ct, err = j.pool.Exec(ctx, `UPDATE lock SET beat = $1 WHERE id = 1 AND token = $2`, j.now(), token)
	} else {
		ct, err = j.pool.Exec(ctx, `UPDATE lock SET beat = clock_timestamp() WHERE id = 1 AND token = $1`, token)
	}
	if err != nil {
		return false, err
	}
	return ct.RowsAffected() == 1, nil
}

// release frees the lock row while it still carries token, even when ctx
// is cancelled.
func (j *Journal) release(ctx context.Context, token string) error {
	ctx, cancel := detached(ctx)
	defer cancel()
	_, err := j.pool.Exec(ctx, `UPDATE lock SET host = '', pid = 0, command = '', token = '', since = NULL, beat = NULL
		WHERE id = 1 AND token = $1`, token)
	if err != nil {
		return fmt.Errorf("journal: release lock: %w", err)
	}
	return nil
}
