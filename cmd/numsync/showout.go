package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/numsync/numsync/internal/desired"
	"github.com/numsync/numsync/internal/english"
	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/plan"
)

// opRow is one operation as show prints it.
type opRow struct {
	ID        string     `json:"id"`
	Vendor    string     `json:"vendor"`
	Action    string     `json:"action"`
	Number    string     `json:"number"`
	Line      int        `json:"line,omitempty"`
	State     string     `json:"state"`
	Attempts  int        `json:"attempts"`
	Ref       string     `json:"ref,omitempty"`
	LastError string     `json:"last_error,omitempty"`
	Updated   time.Time  `json:"updated_at"`
	Before    plan.State `json:"before"`
	After     plan.State `json:"after"`
}

func writeOps(w io.Writer, format string, run *journal.Run, ops []plan.OpRecord) error {
	rows := make([]opRow, len(ops))
	for i, r := range ops {
		rows[i] = opRow{ID: r.Op.ID, Vendor: string(r.Op.Vendor), Action: string(r.Op.Action), Number: r.Op.Number,
			Line: r.Op.Line, State: string(r.State), Attempts: r.Attempts, Ref: r.Ref, LastError: r.LastError,
			Updated: r.UpdatedAt, Before: r.Op.Before, After: r.Op.After}
	}
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Run int64   `json:"run"`
			Ops []opRow `json:"ops"`
		}{run.ID, rows})
	case "csv", "xlsx":
		header := []string{"id", "vendor", "action", "number", "line", "state", "attempts", "ref", "last_error"}
		cells := make([][]string, len(rows))
		for i, r := range rows {
			cells[i] = []string{r.ID, r.Vendor, r.Action, r.Number, strconv.Itoa(r.Line), r.State,
				strconv.Itoa(r.Attempts), r.Ref, r.LastError}
		}
		if format == "xlsx" {
			return writeOpsXLSX(w, header, cells)
		}
		cw := csv.NewWriter(w)
		_ = cw.Write(header)
		_ = cw.WriteAll(cells)
		cw.Flush()
		return cw.Error()
	}
	outcome := run.Outcome
	if outcome == "" {
		outcome = "unfinished"
	}
	fmt.Fprintf(w, "Run %d (%s), CSV %s: %s\n", run.ID, outcome, run.CSVPath, english.Count(len(rows), "operation"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tVENDOR\tACTION\tNUMBER\tLINE\tTRIES\tREASON")
	for _, r := range rows {
		line := "-"
		if r.Line > 0 {
			line = strconv.Itoa(r.Line)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.State, r.Vendor, r.Action, r.Number, line, r.Attempts, r.LastError)
	}
	return tw.Flush()
}

// failedRows gathers the failed operations as the CSV rows they came
// from, with the vendor's reasons in extra columns, one row per CSV line:
// the file can be fixed in a spreadsheet and fed back (the extra columns
// need --allow-extra-columns or deleting).
func failedRows(ctx context.Context, j journal.Store, run *journal.Run) (*failedCells, error) {
	failed, err := j.FailedOps(ctx, run.ID)
	if err != nil {
		return nil, err
	}
	header, err := j.CSVHeader(ctx, run.ID)
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, h := range header {
		if c, ok := desired.CanonicalColumn(h); ok {
			col[c] = i
		}
	}
	if len(header) == 0 {
		header, col = []string{"phone_number"}, map[string]int{"phone_number": 0}
	}
	type line struct {
		row              int
		cells            []string
		vendors, reasons []string
	}
	var order []string
	byKey := map[string]*line{}
	fc := &failedCells{hot: map[[2]int]bool{}}
	for _, f := range failed {
		key := f.Record.Op.Number
		if f.Record.Op.Line > 0 {
			key = "line " + strconv.Itoa(f.Record.Op.Line)
		}
		l, ok := byKey[key]
		if !ok {
			cells := make([]string, len(header))
			copy(cells, f.CSVRecord)
			if pc, ok := col["phone_number"]; len(f.CSVRecord) == 0 && ok {
				cells[pc] = f.Record.Op.Number
			}
			l = &line{row: len(order), cells: cells}
			byKey[key] = l
			order = append(order, key)
		}
		l.vendors = append(l.vendors, string(f.Record.Op.Vendor)+" "+string(f.Record.Op.Action))
		l.reasons = append(l.reasons, f.Record.LastError)
		c, ok := col[failedColumn(f.Record.Op)]
		if !ok {
			c, ok = col["phone_number"]
		}
		if ok {
			fc.hot[[2]int{l.row, c}] = true
		}
	}
	fc.header = append(append([]string{}, header...), "numsync_failed", "numsync_reason")
	for _, k := range order {
		l := byKey[k]
		fc.rows = append(fc.rows, append(l.cells, strings.Join(l.vendors, "; "), strings.Join(l.reasons, "; ")))
	}
	return fc, nil
}

// writeFailed writes the failed rows as CSV or as a workbook.
func writeFailed(w io.Writer, format string, fc *failedCells) error {
	if format == "xlsx" {
		return writeFailedXLSX(w, fc)
	}
	cw := csv.NewWriter(w)
	_ = cw.Write(fc.header)
	_ = cw.WriteAll(fc.rows)
	cw.Flush()
	return cw.Error()
}
