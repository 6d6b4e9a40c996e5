package scenario

import (
	"bytes"
	"database/sql"
	"fmt"

	_ "modernc.org/sqlite" // the journal's driver

	"github.com/numsync/numsync/internal/journal"
)

// JournalText returns every value of every table of the SQLite journal at
// path, one per line, so that it can be scanned for secrets as text (the
// file's bytes cut values at page boundaries). Open it only once no
// process writes it.
func JournalText(path string) ([]byte, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, err
		}
		tables = append(tables, name)
	}
	rows.Close()
	var buf bytes.Buffer
	for _, tb := range tables {
		if err := dumpTable(db, tb, &buf); err != nil {
			return nil, fmt.Errorf("journal %s: table %s: %w", path, tb, err)
		}
	}
	return buf.Bytes(), nil
}

func dumpTable(db *sql.DB, table string, buf *bytes.Buffer) error {
	rows, err := db.Query(`SELECT * FROM "` + table + `"`)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			fmt.Fprintf(buf, "%s.%s: ", table, cols[i])
			switch x := v.(type) {
			case []byte:
				// Operation chunks and plans are stored compressed: scan
				// what they hold, not their compressed bytes.
				if t, err := readable(table, cols[i], x); err == nil {
					x = t
				}
				buf.Write(x)
			default:
				fmt.Fprint(buf, x)
			}
			buf.WriteByte('\n')
		}
	}
	return rows.Err()
}

// readable returns the text of a compressed journal value, or x itself.
func readable(table, col string, x []byte) ([]byte, error) {
	switch {
	case table == "op_chunks" && col == "data":
		return journal.ChunkText(x)
	case table == "runs" && col == "plan":
		return journal.DecompressPlan(x)
	}
	return x, nil
}
