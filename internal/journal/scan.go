package journal

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/numsync/numsync/internal/plan"
)

// Rows is the part of a query's result the shared scans read: both
// *sql.Rows and pgx.Rows have it. The caller closes the rows.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ScanRuns reads runs rows whose columns are, in order: id, started_at,
// finished_at (NULL while open), csv_path, csv_digest, plan_digest, args,
// header, outcome, summary (the JSON ones as text), resumes and, when
// withPlan, the compressed plan. Each store keeps its times in its own
// type T (Unix nanoseconds in SQLite, timestamptz in PostgreSQL), which
// toTime converts.
func ScanRuns[T any](rows Rows, withPlan bool, toTime func(T) time.Time) ([]Run, error) {
	var out []Run
	for rows.Next() {
		var (
			r                     Run
			started               T
			finished              *T
			args, header, summary string
			dest                  = []any{&r.ID, &started, &finished, &r.CSVPath, &r.CSVDigest, &r.PlanDigest,
				&args, &header, &r.Outcome, &summary, &r.Resumes}
		)
		if withPlan {
			dest = append(dest, &r.Plan)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if withPlan {
			p, err := DecompressPlan(r.Plan)
			if err != nil {
				return nil, fmt.Errorf("run %d: %w", r.ID, err)
			}
			r.Plan = p
		}
		r.StartedAt = toTime(started)
		if finished != nil {
			t := toTime(*finished)
			r.FinishedAt = &t
		}
		if err := json.Unmarshal([]byte(args), &r.Args); err != nil {
			return nil, fmt.Errorf("run %d: decode args: %w", r.ID, err)
		}
		if err := json.Unmarshal([]byte(header), &r.Header); err != nil {
			return nil, fmt.Errorf("run %d: decode header: %w", r.ID, err)
		}
		if err := json.Unmarshal([]byte(summary), &r.Summary); err != nil {
			return nil, fmt.Errorf("run %d: decode summary: %w", r.ID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// OpProgress is an operation's progress row, before its body is read
// from its chunk: its place in plan order, the key its store names it by
// (K: the id in SQLite, a hash of it in PostgreSQL) and its progress.
type OpProgress[K comparable] struct {
	Seq int64
	Key K
	Rec plan.OpRecord
}

// ScanProgress reads ops rows whose columns are, in order: seq, key,
// state, attempts, ref, last_error, updated_at (a T, converted by
// toTime).
func ScanProgress[K comparable, T any](rows Rows, toTime func(T) time.Time) ([]OpProgress[K], error) {
	var ps []OpProgress[K]
	for rows.Next() {
		var (
			p       OpProgress[K]
			state   string
			updated T
		)
		if err := rows.Scan(&p.Seq, &p.Key, &state, &p.Rec.Attempts, &p.Rec.Ref, &p.Rec.LastError, &updated); err != nil {
			return nil, err
		}
		p.Rec.State = plan.OpState(state)
		p.Rec.UpdatedAt = toTime(updated)
		ps = append(ps, p)
	}
	return ps, rows.Err()
}

// AttachBodies calls fn for each progress row, in order, with its
// operation read from its chunk (chunk returns a chunk's data; each is
// read and decoded once for a run of rows in the same chunk) and the CSV
// record of its row. keyOf gives an operation's key, to check the chunk
// holds the operation the row names.
func AttachBodies[K comparable](ps []OpProgress[K], chunk func(c int64) ([]byte, error), keyOf func(id string) K, fn func(plan.OpRecord, []string)) error {
	var (
		loaded = int64(-1)
		ops    []plan.Op
		recs   [][]string
	)
	for _, p := range ps {
		if c := p.Seq / ChunkSize; c != loaded {
			data, err := chunk(c)
			if err != nil {
				return fmt.Errorf("read operations %d-: %w", c*ChunkSize, err)
			}
			if ops, recs, err = DecodeChunk(data); err != nil {
				return err
			}
			loaded = c
		}
		k := int(p.Seq % ChunkSize)
		if k >= len(ops) || keyOf(ops[k].ID) != p.Key {
			return fmt.Errorf("operation %d: its chunk holds another", p.Seq)
		}
		p.Rec.Op = ops[k]
		fn(p.Rec, recs[k])
	}
	return nil
}

// CountsByRun gives each run a Counts map holding every state at zero and
// returns the runs by id, for ScanCounts.
func CountsByRun(runs []Run) map[int64]*Run {
	idx := make(map[int64]*Run, len(runs))
	for i := range runs {
		r := &runs[i]
		r.Counts = make(map[string]int, len(allStates))
		for _, s := range allStates {
			r.Counts[string(s)] = 0
		}
		idx[r.ID] = r
	}
	return idx
}

// ScanCounts reads (run_id, state, count) rows into the Counts of the
// runs of idx (CountsByRun); rows of other runs are passed over.
func ScanCounts(rows Rows, idx map[int64]*Run) error {
	for rows.Next() {
		var (
			id    int64
			state string
			n     int
		)
		if err := rows.Scan(&id, &state, &n); err != nil {
			return err
		}
		if r, ok := idx[id]; ok {
			r.Counts[state] = n
		}
	}
	return rows.Err()
}
