package pgjournal

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/plan"
)

// SetCount implements journal.Store.
func (j *Journal) SetCount(ctx context.Context, v plan.VendorName, n int) error {
	if n < 0 {
		return fmt.Errorf("journal: set count of %s: negative count %d", v, n)
	}
	now := j.now()
	if err := j.inTx(ctx, func(tx pgx.Tx) error { return setCountTx(ctx, tx, v, n, now) }); err != nil {
		return fmt.Errorf("journal: set count of %s: %w", v, err)
	}
	return nil
}

func setCountTx(ctx context.Context, tx pgx.Tx, v plan.VendorName, n int, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO history (vendor, count, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (vendor) DO UPDATE SET count = excluded.count, updated_at = excluded.updated_at`,
		string(v), n, now)
	return err
}

// LastCount implements plan.History.
func (j *Journal) LastCount(ctx context.Context, v plan.VendorName) (int, bool, error) {
	var n int
	err := j.pool.QueryRow(ctx, `SELECT count FROM history WHERE vendor = $1`, string(v)).Scan(&n)
	if noRows(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("journal: last count of %s: %w", v, err)
	}
	return n, true, nil
}

// SaveDetails implements plan.DetailCache: the entries are copied into a
// temporary table and merged in one statement, all in one transaction, so
// a million entries take one round trip's worth of statements.
func (j *Journal) SaveDetails(ctx context.Context, v plan.VendorName, states []plan.CachedState) error {
	if len(states) == 0 {
		return nil
	}
	// An entry given twice must not make ON CONFLICT touch one row twice
	// (an error in PostgreSQL); the last one given wins, as with SQLite.
	last := make(map[string]int, len(states))
	for i := range states {
		if states[i].Number == "" {
			return fmt.Errorf("journal: save details of %s: entry %d has no number", v, i)
		}
		last[states[i].Number] = i
	}
	now := j.now()
	err := j.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE details_in (
			number text NOT NULL, updated bigint NOT NULL, state bytea NOT NULL) ON COMMIT DROP`); err != nil {
			return err
		}
		var buf []byte
		i := 0
		src := pgx.CopyFromFunc(func() ([]any, error) {
			for i < len(states) && last[states[i].Number] != i {
				i++ // a later entry replaces this one
			}
			if i == len(states) {
				return nil, nil
			}
			s := &states[i]
			i++
			// A fresh slice per row: pgx encodes the row before asking for
			// the next, but the value must not alias the next row's.
			buf = journal.EncodeDetail(buf[:0], &s.State)
			return []any{s.Number, s.Updated, append([]byte(nil), buf...)}, nil
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"details_in"}, []string{"number", "updated", "state"}, src); err != nil {
			return fmt.Errorf("copy entries: %w", err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO details (vendor, number, updated, state, saved_at)
			SELECT $1, number, updated, state, $2 FROM details_in
			ON CONFLICT (vendor, number) DO UPDATE SET updated = excluded.updated, state = excluded.state,
				saved_at = excluded.saved_at`, string(v), now)
		return err
	})
	if err != nil {
		return fmt.Errorf("journal: save details of %s: %w", v, err)
	}
	return nil
}

// Details implements plan.DetailCache.
func (j *Journal) Details(ctx context.Context, v plan.VendorName) (map[string]plan.CachedState, error) {
	var total int
	if err := j.pool.QueryRow(ctx, `SELECT count(*) FROM details WHERE vendor = $1`, string(v)).Scan(&total); err != nil {
		return nil, fmt.Errorf("journal: details of %s: %w", v, err)
	}
	out := make(map[string]plan.CachedState, total)
	rows, err := j.pool.Query(ctx, `SELECT number, updated, state, saved_at FROM details WHERE vendor = $1`, string(v))
	if err != nil {
		return nil, fmt.Errorf("journal: details of %s: %w", v, err)
	}
	defer rows.Close()
	dec := journal.NewDetailDecoder()
	for rows.Next() {
		var c plan.CachedState
		var state []byte
		if err := rows.Scan(&c.Number, &c.Updated, &state, &c.SavedAt); err != nil {
			return nil, fmt.Errorf("journal: details of %s: %w", v, err)
		}
		if err := dec.Decode(state, &c.State); err != nil {
			return nil, fmt.Errorf("journal: details of %s: %s: %w", v, c.Number, err)
		}
		c.State.Number, c.State.Updated = c.Number, c.Updated
		c.SavedAt = c.SavedAt.UTC() // when it was saved: the drift marker's date
		out[c.Number] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: details of %s: %w", v, err)
	}
	return out, nil
}
