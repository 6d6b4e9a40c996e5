package journal

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// insertChunk is how many rows one multi-row INSERT carries; 64 rows of at
// most 8 columns stay far below SQLite's bound-parameter limit.
const insertChunk = 64

// chunkInsert runs multi-row INSERTs of up to insertChunk rows, the full
// size from one prepared statement. Fewer statement executions matter more
// than anything else for bulk inserts through the pure-Go driver.
type chunkInsert struct {
	tx     *sql.Tx
	prefix string
	cols   int
	suffix string
	full   *sql.Stmt
}

func newChunkInsert(tx *sql.Tx, prefix string, cols int, suffix string) *chunkInsert {
	return &chunkInsert{tx: tx, prefix: prefix, cols: cols, suffix: suffix}
}

func (c *chunkInsert) sql(rows int) string {
	var b strings.Builder
	b.WriteString(c.prefix)
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", c.cols), ",") + ")"
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	b.WriteString(c.suffix)
	return b.String()
}

// exec inserts rows rows whose values are args, in order.
func (c *chunkInsert) exec(ctx context.Context, rows int, args []any) error {
	if rows != insertChunk {
		_, err := c.tx.ExecContext(ctx, c.sql(rows), args...)
		return err
	}
	if c.full == nil {
		st, err := c.tx.PrepareContext(ctx, c.sql(insertChunk))
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		c.full = st
	}
	_, err := c.full.ExecContext(ctx, args...)
	return err
}

func (c *chunkInsert) close() {
	if c.full != nil {
		_ = c.full.Close()
	}
}

// oneRow checks that an update by run id touched the run.
func oneRow(res sql.Result, runID int64) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("run %d: %w", runID, ErrNoRun)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}
