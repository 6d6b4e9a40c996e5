package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/numsync/numsync/internal/plan"
)

// SetCount implements Store: how many numbers a vendor held at the end of
// a run; LastCount returns it to the next plan.
func (j *SQLite) SetCount(ctx context.Context, v plan.VendorName, n int) error {
	if n < 0 {
		return fmt.Errorf("journal: set count of %s: negative count %d", v, n)
	}
	err := j.inTx(ctx, func(tx *sql.Tx) error { return setCountTx(ctx, tx, v, n, nanos(j.now())) })
	if err != nil {
		return fmt.Errorf("journal: set count of %s: %w", v, err)
	}
	return nil
}

// LastCount implements plan.History.
func (j *SQLite) LastCount(ctx context.Context, v plan.VendorName) (int, bool, error) {
	var n int
	err := j.r.QueryRowContext(ctx, `SELECT count FROM history WHERE vendor = ?`, string(v)).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("journal: last count of %s: %w", v, err)
	}
	return n, true, nil
}

// SaveDetails implements plan.DetailCache: it stores the given entries,
// replacing earlier ones for the same numbers, in one transaction with
// batched multi-row inserts (a million entries take seconds, not minutes).
// An entry's Number is its key; an empty one is an error.
func (j *SQLite) SaveDetails(ctx context.Context, v plan.VendorName, states []plan.CachedState) error {
	if len(states) == 0 {
		return nil
	}
	now := nanos(j.now())
	err := j.inTx(ctx, func(tx *sql.Tx) error {
		ins := newChunkInsert(tx, `INSERT INTO details (vendor, number, updated, state, saved_at) VALUES `, 5,
			` ON CONFLICT (vendor, number) DO UPDATE SET updated = excluded.updated, state = excluded.state,
				saved_at = excluded.saved_at`)
		defer ins.close()
		args := make([]any, 0, insertChunk*5)
		// One buffer per chunk for the encoded states (the driver copies
		// bound blobs), sliced once it has stopped growing.
		var (
			buf  []byte
			ends [insertChunk]int
		)
		for start := 0; start < len(states); start += insertChunk {
			end := min(start+insertChunk, len(states))
			buf = buf[:0]
			for i := start; i < end; i++ {
				if states[i].Number == "" {
					return fmt.Errorf("entry %d has no number", i)
				}
				buf = encodeDetail(buf, &states[i].State)
				ends[i-start] = len(buf)
			}
			args = args[:0]
			from := 0
			for i := start; i < end; i++ {
				to := ends[i-start]
				args = append(args, string(v), states[i].Number, states[i].Updated, buf[from:to:to], now)
				from = to
			}
			if err := ins.exec(ctx, end-start, args); err != nil {
				return fmt.Errorf("insert entries %d-%d: %w", start, end-1, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("journal: save details of %s: %w", v, err)
	}
	return nil
}

// Details implements plan.DetailCache: every cached entry of the vendor,
// keyed by number. Each entry's State.Number and State.Updated are its
// Number and Updated (the cache keeps one of each); SavedAt is when it was
// saved (the drift marker's date).
func (j *SQLite) Details(ctx context.Context, v plan.VendorName) (map[string]plan.CachedState, error) {
	var total int
	if err := j.r.QueryRowContext(ctx, `SELECT count(*) FROM details WHERE vendor = ?`, string(v)).Scan(&total); err != nil {
		return nil, fmt.Errorf("journal: details of %s: %w", v, err)
	}
	out := make(map[string]plan.CachedState, total)
	rows, err := j.r.QueryContext(ctx, `SELECT number, updated, state, saved_at FROM details WHERE vendor = ?`, string(v))
	if err != nil {
		return nil, fmt.Errorf("journal: details of %s: %w", v, err)
	}
	defer rows.Close()
	dec := newDetailDecoder()
	for rows.Next() {
		var (
			c     plan.CachedState
			state sql.RawBytes // decoded at once, so no copy is needed
			saved int64
		)
		if err := rows.Scan(&c.Number, &c.Updated, &state, &saved); err != nil {
			return nil, fmt.Errorf("journal: details of %s: %w", v, err)
		}
		if err := dec.decode(state, &c.State); err != nil {
			return nil, fmt.Errorf("journal: details of %s: %s: %w", v, c.Number, err)
		}
		c.State.Number, c.State.Updated = c.Number, c.Updated
		c.SavedAt = fromNanos(saved)
		out[c.Number] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: details of %s: %w", v, err)
	}
	return out, nil
}

func setCountTx(ctx context.Context, tx *sql.Tx, v plan.VendorName, n int, now int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO history (vendor, count, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (vendor) DO UPDATE SET count = excluded.count, updated_at = excluded.updated_at`,
		string(v), n, now)
	return err
}
