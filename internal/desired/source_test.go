package desired

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/numsync/numsync/internal/sheet"
)

// wantCellErr is an expected workbook problem: where, which column, and a
// piece of its reason.
type wantCellErr struct {
	cell   string
	line   int
	column string
	reason string
}

func checkCellErrors(t *testing.T, err error, want []wantCellErr) {
	t.Helper()
	got := rowErrors(t, err)
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(got), len(want), err)
	}
	for i, w := range want {
		g := got[i]
		if g.Cell != w.cell || g.Line != w.line || g.Column != w.column || !strings.Contains(g.Reason, w.reason) {
			t.Errorf("error %d = %s %d %q %q; want %s %d %q containing %q", i, g.Cell, g.Line, g.Column, g.Reason, w.cell, w.line, w.column, w.reason)
		}
		if !strings.Contains(g.Error(), "(row ") && !strings.Contains(g.Error(), " row ") {
			t.Errorf("error %d does not name the row: %v", i, g)
		}
	}
}

// The fixtures were written by openpyxl and by LibreOffice Calc
// (testdata/workbooks/make.py): each program's way of writing the same
// cells reads the same.
func TestReadWorkbookFixtures(t *testing.T) {
	for _, prog := range []string{"openpyxl", "libreoffice"} {
		t.Run(prog+"/typed", func(t *testing.T) {
			path := filepath.Join("testdata", "workbooks", prog, "typed.xlsx")
			var st Stats
			opts := allOn()
			opts.Path, opts.Stats = "", &st
			d, warns, err := ReadFile(path, opts)
			if err != nil {
				t.Fatal(err)
			}
			type row struct {
				line               int
				number, cnam, unit string
				auth               bool
				record0            string
			}
			want := []row{
				// A number typed as a number is that number, exactly.
				{2, "+12125550100", "ACME", "Retail", true, "12125550100"},
				{3, "+14155550101", "12345", "Retail", false, "+1 415 555 0101"},
				{4, "+13125550102", "ACME SUPPORT", "Support", true, "13125550102"},
				{5, "+16175550103", "2.5", "", false, "6175550103"},
			}
			if len(d.Rows) != len(want) {
				t.Fatalf("got %d rows, want %d: %+v", len(d.Rows), len(want), d.Rows)
			}
			for i, w := range want {
				r := d.Rows[i]
				got := row{r.Line, r.Number, r.CNAM, r.BusinessUnit, r.AuthCalls, r.Record[0]}
				if got != w {
					t.Errorf("row %d = %+v, want %+v", i, got, w)
				}
			}
			if d.Header[0] != "Phone Number" || len(d.SHA256) != 64 {
				t.Errorf("header %q digest %q", d.Header, d.SHA256)
			}
			// The formatted empty rows below the data are no rows at all.
			if len(warns) != 0 || st.Rows != 4 || st.Blank != 0 {
				t.Errorf("warnings %v stats %+v", warns, st)
			}
		})
		t.Run(prog+"/bad", func(t *testing.T) {
			path := filepath.Join("testdata", "workbooks", prog, "bad.xlsx")
			opts := allOn()
			opts.Path = path
			_, _, err := ReadFile(path, opts)
			if err == nil || !strings.Contains(err.Error(), `data on 2 sheets ("Numbers", "Numbers (old)"): name the one to read with --sheet NAME`) {
				t.Fatalf("two tables without --sheet: %v", err)
			}
			opts.Sheet = "Numbers (old)"
			if d, _, err := ReadFile(path, opts); err != nil || len(d.Rows) != 1 || d.Rows[0].Number != "+12125550199" {
				t.Fatalf("--sheet 'Numbers (old)': %v", err)
			}
			opts.Sheet = "Numbers"
			_, _, err = ReadFile(path, opts)
			b3 := "holds the error value #DIV/0!"
			if prog == "openpyxl" {
				b3 = "holds =1/0 without a calculated value"
			}
			checkCellErrors(t, err, []wantCellErr{
				{"Numbers!B2", 2, ColCNAM, "is a date or time (2024-03-01)"},
				{"Numbers!B3", 3, ColCNAM, b3},
				{"Numbers!F3", 3, "", `has a value ("stray") right of the table`},
				{"Numbers!C4", 4, ColBrandBusinessUnit, "C4:C5 is a merged range"},
				{"Numbers!D5", 5, ColBrandProgram, "needs a brand_business_unit"},
			})
			if got := rowErrors(t, err)[0].Error(); got != path+": Numbers!B2 (row 2): cnam: is a date or time (2024-03-01): text or a number is expected; format the cell as text and type the value" {
				t.Errorf("format: %s", got)
			}
		})
	}
	t.Run("digest names the sheet", func(t *testing.T) {
		// Two sheets of one file are two desired states: resume tells
		// their runs apart by the digest.
		path := filepath.Join("testdata", "workbooks", "libreoffice", "bad.xlsx")
		opts := allOn()
		opts.Sheet = "Numbers (old)"
		a, _, err := ReadFile(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		opts.Sheet = "Numbers"
		b, _, _ := ReadFile(path, opts)
		opts.Sheet = "numbers (OLD)"
		c, _, _ := ReadFile(path, opts)
		if a.SHA256 == b.SHA256 || a.SHA256 != c.SHA256 || len(a.SHA256) != 64 || a.Sheet != "Numbers (old)" {
			t.Fatalf("digests %s %s %s, sheet %q", a.SHA256, b.SHA256, c.SHA256, a.Sheet)
		}
	})
	t.Run("formulas", func(t *testing.T) {
		// LibreOffice saved the values it calculated; they are read.
		d, _, err := ReadFile(filepath.Join("testdata", "workbooks", "libreoffice", "formulas.xlsx"), allOn())
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Rows) != 2 || d.Rows[0].Number != "+12125550100" || d.Rows[0].CNAM != "ACME" || !d.Rows[0].AuthCalls ||
			d.Rows[1].Number != "+12125550101" || d.Rows[1].CNAM != "ACME STORES" || d.Rows[1].AuthCalls {
			t.Fatalf("rows %+v", d.Rows)
		}
		// openpyxl writes formulas without values: each is named.
		_, _, err = ReadFile(filepath.Join("testdata", "workbooks", "openpyxl", "formulas.xlsx"), allOn())
		checkCellErrors(t, err, []wantCellErr{
			{"Numbers!A2", 2, ColPhoneNumber, `holds ="+1212555"&"0100" without a calculated value`},
			{"Numbers!B2", 2, ColCNAM, "without a calculated value"},
			{"Numbers!C2", 2, ColAuthenticatedCalls, "without a calculated value"},
			{"Numbers!A3", 3, ColPhoneNumber, "without a calculated value"},
			{"Numbers!B3", 3, ColCNAM, "without a calculated value"},
			{"Numbers!C3", 3, ColAuthenticatedCalls, "without a calculated value"},
		})
	})
}

// workbookOf writes rows with excelize, each cell by its Go type.
func workbookOf(t *testing.T, sheetName string, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", sheetName); err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheetName, cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestReadWorkbookRules(t *testing.T) {
	t.Run("header rules as in a CSV", func(t *testing.T) {
		data := workbookOf(t, "My numbers", [][]any{
			{"Phone Number", "cnam_name", "brand_program", "CNAM", "cnam"},
			{12125550100, "x", "p", "A", "B"},
		})
		_, _, err := Read(bytes.NewReader(data), allOn())
		checkCellErrors(t, err, []wantCellErr{
			{"'My numbers'!B1", 1, "", `unknown column "cnam_name"`},
			{"'My numbers'!E1", 1, ColCNAM, "column appears twice"},
			{"'My numbers'!C1", 1, ColBrandProgram, "no brand_business_unit"},
		})
	})
	t.Run("header in row 1", func(t *testing.T) {
		data := workbookOf(t, "Numbers", [][]any{{}, {"phone_number"}, {12125550100}})
		_, _, err := Read(bytes.NewReader(data), allOn())
		checkCellErrors(t, err, []wantCellErr{{"", 2, "", "the header must be in row 1"}})
	})
	t.Run("duplicates name both rows", func(t *testing.T) {
		data := workbookOf(t, "Numbers", [][]any{{"phone_number"}, {12125550100}, {"+1 212 555 0100"}})
		_, _, err := Read(bytes.NewReader(data), allOn())
		checkCellErrors(t, err, []wantCellErr{{"Numbers!A3", 3, ColPhoneNumber, "line 2 has it too"}})
	})
	t.Run("warnings name the sheet's row", func(t *testing.T) {
		data := workbookOf(t, "Numbers", [][]any{
			{"phone_number", "e911_street_address", "e911_locality", "e911_region", "e911_postal_code"},
			{12125550100, "350 5th Ave", "New York", "NY", "10118"},
			{12125550101},
		})
		opts := allOn()
		opts.Path = "n.xlsx"
		_, warns, err := Read(bytes.NewReader(data), opts)
		if err != nil || len(warns) != 1 || !strings.HasPrefix(warns[0].String(), "n.xlsx: Numbers row 3: e911: 1 row with blank E911 cells") {
			t.Fatalf("warnings %v, %v", warns, err)
		}
	})
	t.Run("text as written", func(t *testing.T) {
		data := workbookOf(t, "Numbers", [][]any{{"phone_number"}, {"1.21255E+10"}})
		_, _, err := Read(bytes.NewReader(data), allOn())
		checkCellErrors(t, err, []wantCellErr{{"Numbers!A2", 2, ColPhoneNumber, "scientific"}})
	})
	t.Run("sheet or delimiter that does not apply", func(t *testing.T) {
		opts := allOn()
		opts.Sheet = "Numbers"
		if _, _, err := Read(strings.NewReader("phone_number\n"), opts); err == nil || !strings.Contains(err.Error(), "not a workbook") {
			t.Errorf("--sheet on a CSV: %v", err)
		}
		opts = allOn()
		opts.Delimiter = ';'
		data := workbookOf(t, "Numbers", [][]any{{"phone_number"}})
		if _, _, err := Read(bytes.NewReader(data), opts); err == nil || !strings.Contains(err.Error(), "delimited text only") {
			t.Errorf("--delimiter on a workbook: %v", err)
		}
	})
}

// TestWorkbookRoundTrip: a table written by sheet.WriteWorkbook (what
// export writes) reads back as the same cells.
func TestWorkbookRoundTrip(t *testing.T) {
	header := []string{"phone_number", "cnam", "e911_street_address", "e911_extended_address", "e911_locality", "e911_region", "e911_postal_code"}
	rows := [][]string{
		{"+12125550100", "ACME", "350 5th Ave", "", "New York", "NY", "10118"},
		{"+16175550101", "00123", "100 Federal St", "Floor 4", "Boston", "MA", "02110"},
	}
	var b bytes.Buffer
	if err := sheet.WriteWorkbook(&b, &sheet.Table{Sheet: "Numbers", Header: header, Rows: rows},
		&sheet.Table{Sheet: "Lists", Header: []string{"unit"}, Rows: [][]string{{"Retail"}}}); err != nil {
		t.Fatal(err)
	}
	d, _, err := Read(&b, allOn())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Rows) != 2 || d.Rows[1].CNAM != "00123" || d.Rows[1].E911.PostalCode != "02110" || d.Rows[0].E911.ExtendedAddress != "" {
		t.Fatalf("rows %+v", d.Rows)
	}
}

func TestReadDelimitedAsSpreadsheetsWrite(t *testing.T) {
	utf16le := func(s string) []byte {
		b := []byte{0xFF, 0xFE}
		for _, r := range s {
			b = append(b, byte(r), byte(r>>8))
		}
		return b
	}
	for _, tc := range []struct {
		name  string
		data  []byte
		delim rune
	}{
		{"semicolon", []byte("phone_number;cnam\r\n+12125550100;\"ACME; Inc\"\r\n"), 0},
		{"tab", []byte("phone_number\tcnam\n+12125550100\tACME; Inc\n"), 0},
		{"unicode text", utf16le("phone_number\tcnam\r\n+12125550100\tACME; Inc\r\n"), 0},
		{"told", []byte("phone_number;cnam\n+12125550100;ACME; Inc\n"), ','},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := allOn()
			opts.Delimiter = tc.delim
			d, _, err := Read(bytes.NewReader(tc.data), opts)
			if tc.delim == ',' {
				// Told a comma, the header is one unknown column.
				if err == nil || !strings.Contains(err.Error(), `unknown column "phone_number;cnam"`) {
					t.Fatalf("told ',': %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Rows) != 1 || d.Rows[0].Number != "+12125550100" || d.Rows[0].CNAM != "ACME; Inc" || d.Header[1] != "cnam" {
				t.Fatalf("rows %+v header %q", d.Rows, d.Header)
			}
		})
	}
	t.Run("binary", func(t *testing.T) {
		png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0, 1, 2, 3}, 200)...)
		opts := allOn()
		opts.Path = "logo.png"
		_, _, err := Read(bytes.NewReader(png), opts)
		if err == nil || err.Error() != "desired: logo.png is binary data, neither a text file nor an .xlsx workbook" || !errors.Is(err, sheet.ErrNotTable) {
			t.Fatalf("binary: %v", err)
		}
	})
}
