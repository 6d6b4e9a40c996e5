package main

// End to end with workbooks (issue 14), through the built binary against
// both labs: a workbook and its CSV twin plan and apply alike, an export
// written as a workbook plans to no changes, and the failed rows of a run
// come back as a workbook that apply takes.

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/numsync/numsync/internal/labserver"
	"github.com/numsync/numsync/internal/sheet"
	"github.com/numsync/numsync/samples"
)

// copyInto copies a file into the CLI's directory under name.
func (c *e2eCLI) copyInto(src, name string) string {
	c.t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		c.t.Fatal(err)
	}
	p := c.path(name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		c.t.Fatal(err)
	}
	return p
}

// binMust runs the built binary and fails unless it exits with want.
func (c *e2eCLI) binMust(want int, args ...string) (string, string) {
	c.t.Helper()
	code, out, errOut := c.bin(args...)
	if code != want {
		c.t.Fatalf("numsync %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errOut)
	}
	return out, errOut
}

// planOps is what a plan decides, without what names its input: the file's
// path and digest, the time, the vendors' fingerprints, and the cells as written (a number typed as a
// number is 12126341001 in the workbook, (212) 634-1001 in the CSV).
func planOps(t *testing.T, out string) map[string]json.RawMessage {
	t.Helper()
	var p map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan --format json: %v\n%.500s", err, out)
	}
	for _, k := range []string{"created_at", "csv", "records"} {
		delete(p, k)
	}
	// A vendor's fingerprint hashes its listing, timestamps included, which
	// differ from one lab to the next.
	var vendors map[string]map[string]any
	if err := json.Unmarshal(p["vendors"], &vendors); err == nil {
		for _, v := range vendors {
			delete(v, "fingerprint")
		}
		p["vendors"], _ = json.Marshal(vendors)
	}
	return p
}

// labState is what the labs hold, without the ids and counters the order
// of concurrent requests decides, and without First Orion's review status,
// which moves on with time.
func labState(l *e2eLab) (map[string]labserver.OneUCNumber, map[string][5]string) {
	st := l.Snapshot()
	fo := map[string][5]string{}
	for n, r := range st.FirstOrion.Numbers {
		auth := "false"
		if r.AuthenticatedCalls {
			auth = "true"
		}
		fo[n] = [5]string{r.BusinessUnitID, r.ProgramID, r.Channel, r.CallPurposeCode, auth}
	}
	return st.OneUC.Numbers, fo
}

// TestWorkbookTwinsPlanAndApplyAlike: samples/desired.csv and its twins
// written by openpyxl and by LibreOffice Calc (testdata/workbooks/make.py:
// half the numbers typed as numbers, booleans as booleans) give the same
// plan and leave both labs in the same state; a second plan of each
// finds the same left to do (the operations the labs fail on purpose).
func TestWorkbookTwinsPlanAndApplyAlike(t *testing.T) {
	t.Parallel()
	b, err := samples.FS.ReadFile("desired.csv")
	if err != nil {
		t.Fatal(err)
	}
	csvPath := filepath.Join(t.TempDir(), "desired.csv")
	if err := os.WriteFile(csvPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	inputs := []struct{ name, src, file string }{
		{"csv", csvPath, "desired.csv"},
		{"openpyxl", filepath.Join("testdata", "workbooks", "openpyxl", "desired.xlsx"), "numbers.xlsx"},
		{"libreoffice", filepath.Join("testdata", "workbooks", "libreoffice", "desired.xlsx"), "numbers.xlsx"},
	}
	type result struct {
		plan    map[string]json.RawMessage
		applied int
		oneuc   map[string]labserver.OneUCNumber
		fo      map[string][5]string
		again   json.RawMessage
	}
	var results []result
	for i, in := range inputs {
		l := newLab(t, labserver.Options{Seed: 31}, nil)
		c := newCLI(t, l.URL, nil)
		path := c.copyInto(in.src, in.file)
		out, _ := c.binMust(0, "plan", path, "--format", "json")
		r := result{plan: planOps(t, out)}
		code, _, errOut := c.bin("apply", path)
		r.applied = code
		if in.name != "csv" && !strings.Contains(errOut, "reading "+path+" as a desired-state file") {
			t.Errorf("%s: apply does not say it read a desired-state file:\n%s", in.name, errOut)
		}
		r.oneuc, r.fo = labState(l)
		out, _ = c.binMust(0, "plan", path, "--format", "json")
		r.again = planOps(t, out)["ops"]
		results = append(results, r)
		if i == 0 {
			continue
		}
		want := results[0]
		if !maps.EqualFunc(r.plan, want.plan, func(a, b json.RawMessage) bool { return bytes.Equal(a, b) }) {
			for k := range want.plan {
				if !bytes.Equal(r.plan[k], want.plan[k]) {
					t.Errorf("%s: plan %q differs from the CSV's:\n got %s\nwant %s", in.name, k, r.plan[k], want.plan[k])
				}
			}
		}
		if !bytes.Equal(r.again, want.again) {
			t.Errorf("%s: the plan after apply differs from the CSV's:\n got %.400s\nwant %.400s", in.name, r.again, want.again)
		}
		if r.applied != want.applied {
			t.Errorf("%s: apply exit %d, the CSV's %d", in.name, r.applied, want.applied)
		}
		if !reflect.DeepEqual(r.oneuc, want.oneuc) || !reflect.DeepEqual(r.fo, want.fo) {
			t.Errorf("%s: the labs hold something else after apply than after the CSV's", in.name)
			for n, v := range want.oneuc {
				if !reflect.DeepEqual(r.oneuc[n], v) {
					t.Errorf("  oneuc %s: %+v, after the CSV %+v", n, r.oneuc[n], v)
				}
			}
			for n, v := range want.fo {
				if r.fo[n] != v {
					t.Errorf("  firstorion %s: %v, after the CSV %v", n, r.fo[n], v)
				}
			}
			for n := range r.oneuc {
				if _, ok := want.oneuc[n]; !ok {
					t.Errorf("  oneuc %s: held, not after the CSV", n)
				}
			}
		}
	}
	if results[0].applied != ExitFailed || len(results[0].oneuc) == 0 {
		t.Errorf("the CSV's apply: exit %d (the samples' deliberate failures give %d), %d OneUC numbers", results[0].applied, ExitFailed, len(results[0].oneuc))
	}
}

// TestExportWorkbookRoundTrip: after an apply, export --out FILE.xlsx
// writes a workbook (Numbers with the rows, Lists with First Orion's
// units and programs); unedited it validates and plans to no changes;
// edited in a cell it plans exactly that change, and apply makes it.
func TestExportWorkbookRoundTrip(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 32}, nil)
	c := newCLI(t, l.URL, nil)
	c.binMust(ExitFailed, "apply", "--desired", c.sampleCSV())
	c.binMust(0, "export", "--out", c.path("e.csv"))
	_, errOut := c.binMust(0, "export", "--out", c.path("inventory.xlsx"))
	if !strings.Contains(errOut, "numbers to "+c.path("inventory.xlsx")) {
		t.Errorf("export's stderr:\n%s", errOut)
	}
	vout, _ := c.binMust(0, "validate", c.path("inventory.xlsx"))
	if !strings.Contains(vout, "valid") {
		t.Errorf("validate:\n%s", vout)
	}
	pout, _ := c.binMust(0, "plan", c.path("inventory.xlsx"), "--detailed-exitcode")
	if !strings.Contains(pout, "oneuc: 0 activate, 0 update, 0 release") || !strings.Contains(pout, "firstorion: 0 assign, 0 move, 0 update, 0 delete") {
		t.Errorf("plan of an unedited workbook export:\n%s", pout)
	}

	// The workbook holds what the CSV export holds.
	f, err := excelize.OpenFile(c.path("inventory.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows(sheet.ExportSheet)
	if err != nil {
		t.Fatal(err)
	}
	csvOut := readFile(t, c.path("e.csv"))
	csvRows := strings.Split(strings.TrimSpace(csvOut), "\n")
	if len(rows) != len(csvRows) || strings.Join(rows[0], ",") != csvRows[0] {
		t.Errorf("workbook has %d rows (header %q), the CSV %d (%q)", len(rows), rows[0], len(csvRows), csvRows[0])
	}
	if lists, _ := f.GetRows(sheet.ListsSheet); len(lists) < 2 || lists[0][0] != "business_unit" {
		t.Errorf("Lists sheet: %q", lists)
	}

	// Edit one CNAM cell, as a person would, and plan that one change.
	cnam := -1
	for i, h := range rows[0] {
		if h == "cnam" {
			cnam = i
		}
	}
	cell, _ := excelize.CoordinatesToCellName(cnam+1, 2)
	if err := f.SetCellStr(sheet.ExportSheet, cell, "NEW NAME"); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs(c.path("edited.xlsx")); err != nil {
		t.Fatal(err)
	}
	code, pout, _ := c.bin("plan", c.path("edited.xlsx"), "--detailed-exitcode")
	if code != 2 || !strings.Contains(pout, "oneuc: 0 activate, 1 update, 0 release") || !strings.Contains(pout, `"NEW NAME"`) {
		t.Errorf("plan of an edited workbook: exit %d\n%s", code, pout)
	}
	// And apply makes it so.
	c.binMust(0, "apply", c.path("edited.xlsx"))
	number := rows[1][0]
	if n, ok := l.OneUC.Number(number); !ok || n.CNAM != "NEW NAME" {
		t.Errorf("after apply of the edited workbook, %s has CNAM %q", number, n.CNAM)
	}
	c.binMust(0, "plan", c.path("edited.xlsx"), "--detailed-exitcode")

	// A workbook is never written to a terminal.
	code, _, errOut = c.bin("show", "1", "--format", "xlsx")
	if code != ExitError || !strings.Contains(errOut, "--out FILE.xlsx") {
		t.Errorf("show --format xlsx without --out: exit %d\n%s", code, errOut)
	}
}

// TestShowFailedWorkbook: show --failed --format xlsx writes the failed
// rows as a workbook with the reasons beside them and the failing cells
// highlighted; fed back with apply --allow-extra-columns it plans the same
// operations as the CSV form fed back.
func TestShowFailedWorkbook(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 33}, nil)
	c := newCLI(t, l.URL, nil)
	c.binMust(ExitFailed, "apply", "--desired", c.sampleCSV())
	out, _ := c.binMust(0, "show", "1", "--failed", "--format", "csv")
	fixCSV := c.writeFile("failed.csv", out)
	c.binMust(0, "show", "1", "--failed", "--format", "xlsx", "--out", c.path("failed.xlsx"))

	f, err := excelize.OpenFile(c.path("failed.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	name := f.GetSheetName(0)
	rows, err := f.GetRows(name)
	if err != nil {
		t.Fatal(err)
	}
	header, _ := sampleRecords(t)
	if len(rows) != 6 || strings.Join(rows[0], ",") != strings.Join(header, ",")+",numsync_failed,numsync_reason" {
		t.Fatalf("failed workbook: %d rows, header %q", len(rows), rows[0])
	}
	// Each row's failing cell is highlighted: the CNAM/E911 update's
	// address, the activation's number, First Orion's assignment's program.
	hot := map[string]bool{}
	for r := 2; r <= len(rows); r++ {
		for col := 1; col <= len(header); col++ {
			ref, _ := excelize.CoordinatesToCellName(col, r)
			sid, _ := f.GetCellStyle(name, ref)
			if st, _ := f.GetStyle(sid); st != nil && len(st.Fill.Color) > 0 && st.Fill.Color[0] == "FFC7CE" {
				hot[rows[0][col-1]] = true
				if rows[r-1][len(header)+1] == "" {
					t.Errorf("row %d highlighted without a reason", r)
				}
			}
		}
	}
	for _, col := range []string{"Phone Number", "E911 Street Address", "Brand Program"} {
		if !hot[col] {
			t.Errorf("no %s cell highlighted (highlighted: %v)", col, hot)
		}
	}

	// Every operation, as a workbook too.
	c.binMust(0, "show", "1", "--format", "xlsx", "--out", c.path("ops.xlsx"))
	of, err := excelize.OpenFile(c.path("ops.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	if ops, _ := of.GetRows(of.GetSheetName(0)); len(ops) < 200 || strings.Join(ops[0], ",") != "id,vendor,action,number,line,state,attempts,ref,last_error" {
		t.Errorf("show --format xlsx: %d rows, header %q", len(ops), ops[0])
	}

	// Fed back, the workbook plans what the CSV form plans.
	csvPlan, _ := c.binMust(0, "plan", fixCSV, "--allow-extra-columns", "--format", "json")
	xlsxPlan, _ := c.binMust(0, "plan", c.path("failed.xlsx"), "--allow-extra-columns", "--format", "json")
	p1, p2 := planOps(t, csvPlan), planOps(t, xlsxPlan)
	if !bytes.Equal(p1["ops"], p2["ops"]) || len(p1["ops"]) < 10 {
		t.Errorf("plans of the failed rows differ:\ncsv  %.600s\nxlsx %.600s", p1["ops"], p2["ops"])
	}
	code, _, errOut := c.bin("apply", c.path("failed.xlsx"), "--allow-extra-columns")
	if code != ExitFailed && code != 0 || !strings.Contains(errOut, "as a desired-state file") {
		t.Errorf("apply failed.xlsx --allow-extra-columns: exit %d\n%s", code, errOut)
	}
}

// TestDesiredFileFormats: validate through the binary on what spreadsheet
// programs write besides a CSV: semicolons, UTF-16 "Unicode text", a
// binary file, a workbook with two tables.
func TestDesiredFileFormats(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	utf16 := []byte{0xFF, 0xFE}
	for _, r := range "Phone Number\tCNAM\r\n(212) 555-4200\tACME\r\n" {
		utf16 = append(utf16, byte(r), byte(r>>8))
	}
	for _, tc := range []struct {
		name, file string
		data       []byte
		args       []string
		code       int
		want       string
	}{
		{"semicolons", "eu.csv", []byte("phone_number;cnam\r\n+12125554200;\"ACME; Inc\"\r\n"), nil, 0, "1 row, 1 valid number, valid"},
		{"unicode text", "unicode.txt", utf16, nil, 0, "1 row, 1 valid number, valid"},
		{"told a delimiter", "eu2.csv", []byte("phone_number;cnam\n+12125554200;ACME\n"), []string{"--delimiter", ","}, 1, `unknown column "phone_number;cnam"`},
		{"binary", "logo.png", append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0, 1, 2}, 300)...), nil, 1, "logo.png is binary data, neither a text file nor an .xlsx workbook"},
		{"two tables", "bad.xlsx", nil, nil, 1, `data on 2 sheets ("Numbers", "Numbers (old)"): name the one to read with --sheet NAME`},
		{"the sheet named", "bad.xlsx", nil, []string{"--sheet", "Numbers (old)"}, 0, "1 row, 1 valid number, valid"},
		{"cells named", "bad.xlsx", nil, []string{"--sheet", "Numbers"}, 1, "Numbers!C4 (row 4): brand_business_unit: C4:C5 is a merged range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := filepath.Abs(filepath.Join("..", "..", "internal", "desired", "testdata", "workbooks", "libreoffice", tc.file))
			if tc.data != nil {
				p = write(tc.file, tc.data)
			}
			code, out, errOut := runBin(t, dir, nil, append([]string{"validate", p}, tc.args...)...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%s%s", code, tc.code, tc.want, out, errOut)
			}
			if tc.name == "binary" && strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
				t.Errorf("a binary file is refused in one line:\n%s", errOut)
			}
		})
	}
}

// TestWorkbookPlanErrorsNameTheCell: a business unit First Orion does not
// have, found by the plan rather than the reader, is named at its cell.
func TestWorkbookPlanErrorsNameTheCell(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 34}, smallSeed(3, 0))
	c := newCLI(t, l.URL, nil)
	var b bytes.Buffer
	if err := sheet.WriteWorkbook(&b, &sheet.Table{Sheet: "Numbers",
		Header: []string{"phone_number", "brand_business_unit", "brand_program"},
		Rows:   [][]string{{smallNumber(0), "Retail", "Store Lines"}, {smallNumber(1), "Wholesale", ""}}}); err != nil {
		t.Fatal(err)
	}
	p := c.path("n.xlsx")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut := c.mustRun(ExitError, "plan", p)
	if !strings.Contains(errOut, p+": Numbers!B3 (row 3): brand_business_unit: ") || !strings.Contains(errOut, "Wholesale") {
		t.Errorf("plan of an unknown business unit:\n%s", errOut)
	}
}
