package pgjournal

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/plan"
)

const runCols = `id, started_at, finished_at, csv_path, csv_digest, plan_digest, args::text, header::text, outcome, summary::text, resumes`

// Run implements journal.Reader. An unknown id gives an error wrapping
// journal.ErrNoRun.
func (j *Journal) Run(ctx context.Context, id int64) (*journal.Run, error) {
	rows, err := j.pool.Query(ctx, `SELECT `+runCols+`, plan FROM runs WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("journal: run %d: %w", id, err)
	}
	runs, err := scanRuns(rows, true)
	if err != nil {
		return nil, fmt.Errorf("journal: run %d: %w", id, err)
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("journal: run %d: %w", id, journal.ErrNoRun)
	}
	if err := j.fillCounts(ctx, runs); err != nil {
		return nil, fmt.Errorf("journal: run %d: %w", id, err)
	}
	return &runs[0], nil
}

// Runs implements journal.Reader: up to limit runs (all when limit ≤ 0),
// newest first, without their plans.
func (j *Journal) Runs(ctx context.Context, limit int) ([]journal.Run, error) {
	q := `SELECT ` + runCols + ` FROM runs ORDER BY id DESC`
	var args []any
	if limit > 0 {
		q += ` LIMIT $1`
		args = append(args, limit)
	}
	rows, err := j.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("journal: list runs: %w", err)
	}
	runs, err := scanRuns(rows, false)
	if err != nil {
		return nil, fmt.Errorf("journal: list runs: %w", err)
	}
	if err := j.fillCounts(ctx, runs); err != nil {
		return nil, fmt.Errorf("journal: list runs: %w", err)
	}
	return runs, nil
}

func scanRuns(rows pgx.Rows, withPlan bool) ([]journal.Run, error) {
	defer rows.Close()
	var out []journal.Run
	for rows.Next() {
		var (
			r                     journal.Run
			started               time.Time
			finished              *time.Time
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
			p, err := journal.DecompressPlan(r.Plan)
			if err != nil {
				return nil, fmt.Errorf("run %d: %w", r.ID, err)
			}
			r.Plan = p
		}
		r.StartedAt = started.UTC()
		if finished != nil {
			t := finished.UTC()
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

// fillCounts sets Counts on each run with one grouped query.
func (j *Journal) fillCounts(ctx context.Context, runs []journal.Run) error {
	if len(runs) == 0 {
		return nil
	}
	idx := make(map[int64]*journal.Run, len(runs))
	ids := make([]int64, len(runs))
	for i := range runs {
		r := &runs[i]
		r.Counts = map[string]int{}
		for _, s := range journal.States() {
			r.Counts[string(s)] = 0
		}
		idx[r.ID] = r
		ids[i] = r.ID
	}
	rows, err := j.pool.Query(ctx, `SELECT run_id, state, count(*) FROM ops WHERE run_id = ANY($1) GROUP BY run_id, state`, ids)
	if err != nil {
		return fmt.Errorf("count operations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id    int64
			state string
			n     int
		)
		if err := rows.Scan(&id, &state, &n); err != nil {
			return fmt.Errorf("count operations: %w", err)
		}
		if r, ok := idx[id]; ok {
			r.Counts[state] = n
		}
	}
	return rows.Err()
}

// Ops implements journal.Reader.
func (j *Journal) Ops(ctx context.Context, runID int64) ([]plan.OpRecord, error) {
	var out []plan.OpRecord
	err := j.scanOps(ctx, runID, false, func(rec plan.OpRecord, _ []string) {
		out = append(out, rec)
	})
	if err != nil {
		return nil, fmt.Errorf("journal: operations of run %d: %w", runID, err)
	}
	return out, nil
}

// FailedOps implements journal.Reader.
func (j *Journal) FailedOps(ctx context.Context, runID int64) ([]journal.FailedOp, error) {
	var out []journal.FailedOp
	err := j.scanOps(ctx, runID, true, func(rec plan.OpRecord, csv []string) {
		out = append(out, journal.FailedOp{Record: rec, CSVRecord: csv})
	})
	if err != nil {
		return nil, fmt.Errorf("journal: failed operations of run %d: %w", runID, err)
	}
	return out, nil
}

// CSVHeader implements journal.Reader.
func (j *Journal) CSVHeader(ctx context.Context, runID int64) ([]string, error) {
	var header string
	err := j.pool.QueryRow(ctx, `SELECT header::text FROM runs WHERE id = $1`, runID).Scan(&header)
	if noRows(err) {
		return nil, fmt.Errorf("journal: header of run %d: %w", runID, journal.ErrNoRun)
	}
	if err != nil {
		return nil, fmt.Errorf("journal: header of run %d: %w", runID, err)
	}
	var h []string
	if err := json.Unmarshal([]byte(header), &h); err != nil {
		return nil, fmt.Errorf("journal: header of run %d: %w", runID, err)
	}
	return h, nil
}

// scanOps calls fn for a run's operations (only failed and skipped ones
// when failedOnly), in plan order: the progress rows first, then the
// chunks holding their bodies, each decoded once.
func (j *Journal) scanOps(ctx context.Context, runID int64, failedOnly bool, fn func(plan.OpRecord, []string)) error {
	q := `SELECT seq, op_key, state, attempts, ref, last_error, updated_at FROM ops WHERE run_id = $1`
	if failedOnly {
		q += ` AND state IN ('failed', 'skipped')`
	}
	rows, err := j.pool.Query(ctx, q+` ORDER BY seq`, runID)
	if err != nil {
		return err
	}
	type progress struct {
		seq int32
		key int64
		rec plan.OpRecord
	}
	var ps []progress
	for rows.Next() {
		var (
			p       progress
			state   string
			updated time.Time
		)
		if err := rows.Scan(&p.seq, &p.key, &state, &p.rec.Attempts, &p.rec.Ref, &p.rec.LastError, &updated); err != nil {
			rows.Close()
			return err
		}
		p.rec.State = plan.OpState(state)
		p.rec.UpdatedAt = updated.UTC()
		ps = append(ps, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var (
		loaded = int32(-1)
		ops    []plan.Op
		recs   [][]string
	)
	for _, p := range ps {
		c := p.seq / journal.ChunkSize
		if c != loaded {
			var data []byte
			if err := j.pool.QueryRow(ctx, `SELECT data FROM op_chunks WHERE run_id = $1 AND chunk = $2`, runID, c).Scan(&data); err != nil {
				return fmt.Errorf("read operations %d-: %w", c*journal.ChunkSize, err)
			}
			if ops, recs, err = journal.DecodeChunk(data); err != nil {
				return err
			}
			loaded = c
		}
		k := int(p.seq % journal.ChunkSize)
		if k >= len(ops) || opKey(ops[k].ID) != p.key {
			return fmt.Errorf("operation %d of run %d: its chunk holds another", p.seq, runID)
		}
		p.rec.Op = ops[k]
		fn(p.rec, recs[k])
	}
	return nil
}
