package desired

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/numsync/numsync/internal/plan"
)

func allOn() Options {
	return Options{Path: "in.csv", OneUCEnabled: true, FirstOrionEnabled: true}
}

// wantErr is an expected problem: its line, column and a piece of its
// reason.
type wantErr struct {
	line   int
	column string
	reason string
}

func rowErrors(t *testing.T, err error) Errors {
	t.Helper()
	if err == nil {
		return nil
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error is not desired.Errors: %v", err)
	}
	return es
}

func checkErrors(t *testing.T, err error, want []wantErr) {
	t.Helper()
	got := rowErrors(t, err)
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(got), len(want), err)
	}
	for i, w := range want {
		g := got[i]
		if g.Line != w.line || g.Column != w.column || !strings.Contains(g.Reason, w.reason) {
			t.Errorf("error %d = %d %q %q; want %d %q containing %q", i, g.Line, g.Column, g.Reason, w.line, w.column, w.reason)
		}
	}
}

func TestReadRules(t *testing.T) {
	const (
		hdrAll = "phone_number,cnam,e911_street_address,e911_extended_address,e911_locality,e911_region,e911_postal_code,e911_caller_name,brand_business_unit,brand_program,brand_channel,call_purpose_code,authenticated_calls\n"
	)
	tests := []struct {
		name  string
		csv   string
		opts  func(*Options)
		want  []wantErr
		check func(t *testing.T, d *plan.Desired, w []Warning)
	}{
		// Phone numbers.
		{name: "e164", csv: "phone_number\n+12125554200\n", check: numbers("+12125554200")},
		{name: "national parentheses", csv: "phone_number\n(212) 555-4200\n", check: numbers("+12125554200")},
		{name: "national dots", csv: "phone_number\n212.555.4200\n", check: numbers("+12125554200")},
		{name: "national with trunk 1", csv: "phone_number\n1-212-555-4200\n", check: numbers("+12125554200")},
		{name: "bare ten digits", csv: "phone_number\n2125554200\n", check: numbers("+12125554200")},
		{name: "eleven digits", csv: "phone_number\n12125554200\n", check: numbers("+12125554200")},
		{name: "spaces around", csv: "phone_number\n  +1 212 555 4200  \n", check: numbers("+12125554200")},
		{name: "other default region", csv: "phone_number\n020 7946 0958\n", opts: func(o *Options) { o.DefaultRegion = "gb" }, check: numbers("+442079460958")},
		{name: "international under US default", csv: "phone_number\n+44 20 7946 0958\n", check: numbers("+442079460958")},
		{name: "empty number", csv: "phone_number,cnam\n,ACME\n", want: []wantErr{{2, "phone_number", "is required"}}},
		{name: "letters", csv: "phone_number\nnot a number\n", want: []wantErr{{2, "phone_number", "not a phone number"}}},
		{name: "bad area code", csv: "phone_number\n+11125554200\n", want: []wantErr{{2, "phone_number", "not a valid, dialable number"}}},
		{name: "bad exchange", csv: "phone_number\n(212) 055-4200\n", want: []wantErr{{2, "phone_number", "not a valid, dialable number"}}},
		{name: "too short", csv: "phone_number\n555-4200\n", want: []wantErr{{2, "phone_number", "not a valid"}}},
		{name: "extension", csv: "phone_number\n212-555-4200 x123\n", want: []wantErr{{2, "phone_number", "extension"}}},
		{name: "sci notation", csv: "phone_number\n1.21255E+10\n", want: []wantErr{{2, "phone_number", "Excel scientific notation"}}},
		{name: "sci notation lower case", csv: "phone_number\n2.12555e10\n", want: []wantErr{{2, "phone_number", "digits are lost"}}},
		{name: "sci notation european comma", csv: "phone_number\n\"1,21255E+10\"\n", want: []wantErr{{2, "phone_number", "scientific notation"}}},
		{name: "duplicate two formats", csv: "phone_number\n+12125554200\n(212) 555-4200\n", want: []wantErr{{3, "phone_number", "line 2 has it too"}}},
		{name: "duplicate names both spellings", csv: "phone_number\n212.555.4200\n1-212-555-4200\n", want: []wantErr{{3, "phone_number", `written "212.555.4200" there, "1-212-555-4200" here`}}},

		// CNAM.
		{name: "cnam 15 runes ok", csv: "phone_number,cnam\n+12125554200,ÀÉÎÕÜàéîõüÇçÑñß\n", check: func(t *testing.T, d *plan.Desired, _ []Warning) {
			if d.Rows[0].CNAM != "ÀÉÎÕÜàéîõüÇçÑñß" {
				t.Errorf("CNAM = %q", d.Rows[0].CNAM)
			}
		}},
		{name: "cnam too long", csv: "phone_number,cnam\n+12125554200,ACME Corporation\n", want: []wantErr{{2, "cnam", "16 characters"}}},
		{name: "cnam empty clears", csv: "phone_number,cnam\n+12125554200,\n", check: func(t *testing.T, d *plan.Desired, _ []Warning) {
			if !d.Columns.CNAM || d.Rows[0].CNAM != "" {
				t.Errorf("want managed, empty CNAM: %+v %+v", d.Columns, d.Rows[0])
			}
		}},

		// E911.
		{name: "e911 complete", csv: hdrAll + "+12125554200,,1 Main St,,Austin,tx,78701,ACME,,,,,\n", check: func(t *testing.T, d *plan.Desired, _ []Warning) {
			want := &plan.Address{StreetAddress: "1 Main St", Locality: "Austin", Region: "TX", PostalCode: "78701", CallerName: "ACME"}
			if !d.Rows[0].E911.Equal(want) || d.Rows[0].E911.Region != "TX" {
				t.Errorf("E911 = %+v", d.Rows[0].E911)
			}
		}},
		{name: "e911 half an address", csv: hdrAll + "+12125554200,,1 Main St,,,TX,,,,,,,\n", want: []wantErr{{2, "e911_locality", "is required"}, {2, "e911_postal_code", "is required"}}},
		{name: "e911 only caller name", csv: hdrAll + "+12125554200,,,,,,,ACME,,,,,\n", want: []wantErr{
			{2, "e911_street_address", "required"}, {2, "e911_locality", "required"}, {2, "e911_region", "required"}, {2, "e911_postal_code", "required"}}},
		{name: "e911 region spelled out", csv: hdrAll + "+12125554200,,1 Main St,,Austin,Texas,78701,,,,,,\n", want: []wantErr{{2, "e911_region", `"Texas" is not a 2-letter region`}}},
		{name: "e911 region digits", csv: hdrAll + "+12125554200,,1 Main St,,Austin,T1,78701,,,,,,\n", want: []wantErr{{2, "e911_region", "2-letter"}}},
		{name: "e911 caller name too short", csv: hdrAll + "+12125554200,,1 Main St,,Austin,TX,78701,AB,,,,,\n", want: []wantErr{{2, "e911_caller_name", "too short"}}},
		{name: "e911 blank under managed header warns", csv: hdrAll + "+12125554200,,,,,,,,,,,,\n+12125554201,,,,,,,,,,,,\n", check: func(t *testing.T, d *plan.Desired, w []Warning) {
			if d.Rows[0].E911 != nil {
				t.Errorf("blank E911 should be nil")
			}
			if !hasWarning(w, 2, "2 rows with blank E911") {
				t.Errorf("missing E911 warning: %v", w)
			}
		}},
		{name: "e911 header incomplete", csv: "phone_number,e911_street_address,e911_region\n+12125554200,1 Main,TX\n", want: []wantErr{
			{1, "e911_locality", "header has E911 columns"}, {1, "e911_postal_code", "header has E911 columns"}}},

		// First Orion columns.
		{name: "program needs business unit", csv: "phone_number,brand_business_unit,brand_program\n+12125554200,,Outbound\n", want: []wantErr{{2, "brand_program", "needs a brand_business_unit"}}},
		{name: "program column without business unit column", csv: "phone_number,brand_program\n+12125554200,Outbound\n", want: []wantErr{{1, "brand_program", "no brand_business_unit"}}},
		{name: "business unit only", csv: "phone_number,brand_business_unit\n+12125554200,Sales\n", check: func(t *testing.T, d *plan.Desired, _ []Warning) {
			// Channel and call purpose stay unnamed: plan.Diff applies
			// their defaults (TestDiffDefaults), the reader does not.
			r := d.Rows[0]
			if r.BusinessUnit != "Sales" || r.Program != "" || r.Channel != "" || r.CallPurpose != "" || r.AuthCalls {
				t.Errorf("defaults wrong: %+v", r)
			}
		}},
		{name: "channel case-insensitive", csv: "phone_number,brand_channel\n+12125554200,CALLERIMAGE\n+12125554201,Blocking\n+12125554202,\n", check: func(t *testing.T, d *plan.Desired, _ []Warning) {
			got := []string{d.Rows[0].Channel, d.Rows[1].Channel, d.Rows[2].Channel}
			want := []string{plan.ChannelCallerImage, plan.ChannelBlocking, ""}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("channels = %v, want %v", got, want)
			}
		}},
		{name: "channel sms", csv: "phone_number,brand_channel\n+12125554200,sms\n", want: []wantErr{{2, "brand_channel", `"sms" is not a delivery channel`}}},
		{name: "booleans", csv: "phone_number,authenticated_calls\n+12125554200,TRUE\n+12125554201,no\n+12125554202,1\n+12125554203,Yes\n+12125554204,0\n+12125554205,\n", check: func(t *testing.T, d *plan.Desired, _ []Warning) {
			var got []bool
			for _, r := range d.Rows {
				got = append(got, r.AuthCalls)
			}
			if fmt.Sprint(got) != "[true false true true false false]" {
				t.Errorf("auth calls = %v", got)
			}
		}},
		{name: "boolean maybe", csv: "phone_number,authenticated_calls\n+12125554200,maybe\n", want: []wantErr{{2, "authenticated_calls", `"maybe" is not a boolean`}}},
		{name: "call purpose as written", csv: "phone_number,call_purpose_code\n+12125554200,\n+12125554201, SA \n", check: func(t *testing.T, d *plan.Desired, _ []Warning) {
			if d.Rows[0].CallPurpose != "" || d.Rows[1].CallPurpose != "SA" {
				t.Errorf("call purposes = %q %q", d.Rows[0].CallPurpose, d.Rows[1].CallPurpose)
			}
		}},

		// Header.
		{name: "header matching", csv: " Phone-Number ,CNAM,Brand Business Unit\n+12125554200,A,B\n", check: func(t *testing.T, d *plan.Desired, _ []Warning) {
			if !d.Columns.CNAM || !d.Columns.BusinessUnit || d.Header[0] != " Phone-Number " {
				t.Errorf("columns %+v header %q", d.Columns, d.Header)
			}
		}},
		{name: "unknown column", csv: "phone_number,cnam_name\n+12125554200,A\n", want: []wantErr{{1, "", `unknown column "cnam_name" (did you mean cnam?)`}}},
		{name: "unknown column allowed", csv: "phone_number,notes\n+12125554200,call back\n", opts: func(o *Options) { o.AllowExtraColumns = true }, check: func(t *testing.T, d *plan.Desired, w []Warning) {
			if len(d.Rows) != 1 || !hasWarning(w, 1, `unknown column "notes"`) {
				t.Errorf("rows %d warnings %v", len(d.Rows), w)
			}
		}},
		{name: "missing phone column", csv: "cnam\nACME\n", want: []wantErr{{1, "phone_number", "no phone_number column"}}},
		{name: "duplicate column", csv: "phone_number,CNAM,cnam\n+12125554200,A,B\n", want: []wantErr{{1, "cnam", "appears twice"}}},
		{name: "empty file", csv: "", want: []wantErr{{1, "phone_number", "empty"}}},
		{name: "header only", csv: "phone_number,cnam\n", check: numbers()},
		{name: "unnamed trailing column tolerated", csv: "phone_number,cnam,\n+12125554200,A,\n", check: func(t *testing.T, d *plan.Desired, w []Warning) {
			if len(d.Rows) != 1 || !hasWarning(w, 1, "header cell 3 is empty") {
				t.Errorf("rows %d warnings %v", len(d.Rows), w)
			}
		}},
		{name: "unnamed column with a value", csv: "phone_number,\n+12125554200,x\n", want: []wantErr{{2, "", "no header name"}}},
		{name: "scope set by header", csv: "phone_number,brand_business_unit,authenticated_calls\n+12125554200,Sales,yes\n", check: func(t *testing.T, d *plan.Desired, _ []Warning) {
			want := plan.Columns{BusinessUnit: true, AuthCalls: true}
			if d.Columns != want {
				t.Errorf("Columns = %+v, want %+v", d.Columns, want)
			}
		}},
		{name: "oneuc disabled", csv: "phone_number,cnam,brand_business_unit\n+12125554200,A,B\n", opts: func(o *Options) { o.OneUCEnabled = false }, want: []wantErr{{1, "cnam", "manages OneUC, which the config does not enable"}}},
		{name: "firstorion disabled", csv: "phone_number,cnam,brand_channel\n+12125554200,A,blocking\n", opts: func(o *Options) { o.FirstOrionEnabled = false }, want: []wantErr{{1, "brand_channel", "manages First Orion"}}},

		// Rows as a whole.
		{name: "blank row skipped with warning", csv: "phone_number,cnam\n+12125554200,A\n,\n  , \n+12125554201,B\n", check: func(t *testing.T, d *plan.Desired, w []Warning) {
			if len(d.Rows) != 2 || d.Rows[1].Line != 5 || !hasWarning(w, 3, "2 rows with every cell blank") {
				t.Errorf("rows %+v warnings %v", d.Rows, w)
			}
		}},
		{name: "ragged row", csv: "phone_number,cnam\n+12125554200\n", want: []wantErr{{2, "", "the row has 1 cells but the header has 2"}}},
		{name: "bare quote", csv: "phone_number,cnam\n+12125554200,O\"Brien\n+12125554201,ok\n", want: []wantErr{{2, "", "malformed quoting"}}},
		{name: "unterminated quote", csv: "phone_number,cnam\n+12125554200,\"open\n+12125554201,ok\n", want: []wantErr{{2, "", "malformed quoting"}}},
		{name: "multi-line cell keeps start line", csv: "phone_number,cnam\n+12125554200,\"two\nlines\"\n+12125554201,toolongtoolongtoolong\n", want: []wantErr{{4, "cnam", "21 characters"}}},
		{name: "every error in one pass", csv: "phone_number,cnam,authenticated_calls\n1.2E+10,ACME Corporation Inc,maybe\n+12125554200,OK,no\n+12125554200,OK,no\n", want: []wantErr{
			{2, "phone_number", "scientific"}, {2, "cnam", "20 characters"}, {2, "authenticated_calls", "maybe"}, {4, "phone_number", "line 3"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := allOn()
			if tt.opts != nil {
				tt.opts(&opts)
			}
			d, w, err := Read(strings.NewReader(tt.csv), opts)
			checkErrors(t, err, tt.want)
			if tt.check != nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				tt.check(t, d, w)
			}
		})
	}
}

func numbers(want ...string) func(t *testing.T, d *plan.Desired, _ []Warning) {
	return func(t *testing.T, d *plan.Desired, _ []Warning) {
		t.Helper()
		var got []string
		for _, r := range d.Rows {
			got = append(got, r.Number)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("numbers = %v, want %v", got, want)
		}
	}
}

func hasWarning(ws []Warning, line int, text string) bool {
	for _, w := range ws {
		if w.Line == line && strings.Contains(w.Message, text) {
			return true
		}
	}
	return false
}

func TestReadFileMessy(t *testing.T) {
	path := filepath.Join("testdata", "messy.csv")
	var st Stats
	opts := allOn()
	opts.Path = ""
	opts.Stats = &st
	d, warns, err := ReadFile(path, opts)
	if err != nil {
		t.Fatalf("messy.csv should be valid: %v", err)
	}
	raw, _ := os.ReadFile(path)
	if len(d.SHA256) != 64 || d.Path != path {
		t.Errorf("SHA256 %q Path %q", d.SHA256, d.Path)
	}
	if d.Header[0] != "Phone Number" {
		t.Errorf("header[0] = %q: the BOM should be gone, the spelling kept", d.Header[0])
	}
	want := []struct {
		line   int
		number string
	}{{2, "+12125554200"}, {3, "+12125554201"}, {4, "+12125554202"}, {5, "+12125554203"}, {7, "+12125554204"}, {9, "+14155550132"}, {10, "+16465550100"}}
	if len(d.Rows) != len(want) {
		t.Fatalf("got %d rows, want %d", len(d.Rows), len(want))
	}
	for i, w := range want {
		r := d.Rows[i]
		if r.Line != w.line || r.Number != w.number {
			t.Errorf("row %d = line %d %s, want line %d %s", i, r.Line, r.Number, w.line, w.number)
		}
	}
	first := d.Rows[0]
	if first.E911 == nil || first.E911.ExtendedAddress != "Floor 21, Suite 2100" || first.E911.Region != "NY" {
		t.Errorf("quoted comma or region: %+v", first.E911)
	}
	if first.Channel != plan.ChannelCallerName || !first.AuthCalls || first.Program != "Outbound Sales" {
		t.Errorf("first row: %+v", first)
	}
	if got := d.Rows[3].E911; got == nil || got.StreetAddress != "1 Main St\nBuilding B" {
		t.Errorf("multi-line street: %+v", got)
	}
	if d.Rows[3].Channel != plan.ChannelCallerImage || d.Rows[3].CallPurpose != "SA" {
		t.Errorf("row 4: %+v", d.Rows[3])
	}
	if d.Rows[2].CNAM != "ACME, Inc" || d.Rows[2].Record[1] != "ACME, Inc" {
		t.Errorf("quoted comma in cnam: %+v", d.Rows[2])
	}
	if d.Rows[4].Record[0] != " 2125554204 " {
		t.Errorf("Record should keep the cell as written: %q", d.Rows[4].Record[0])
	}
	if st.Rows != 8 || st.Blank != 1 || st.Invalid != 0 {
		t.Errorf("stats = %+v", st)
	}
	if !hasWarning(warns, 8, "1 row with every cell blank") {
		t.Errorf("warnings: %v", warns)
	}
	if !hasWarning(warns, 3, "blank E911") {
		t.Errorf("warnings: %v", warns)
	}
	_ = raw
}

func TestReadFileFixtures(t *testing.T) {
	tests := []struct {
		file string
		want []wantErr
	}{
		{"scinotation.csv", []wantErr{{2, "phone_number", "scientific"}, {3, "phone_number", "scientific"}, {5, "phone_number", "scientific"}}},
		{"duplicates.csv", []wantErr{{3, "phone_number", "line 2"}, {5, "phone_number", "line 4"}, {6, "phone_number", "line 2"}}},
		{"typo-header.csv", []wantErr{{1, "", `unknown column "cnam_name"`}, {1, "brand_program", "no brand_business_unit"}}},
		{"ragged.csv", []wantErr{{3, "", "1 cells"}, {4, "", "3 cells"}}},
		{"badquote.csv", []wantErr{{2, "", "malformed quoting"}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			opts := allOn()
			opts.Path = ""
			_, _, err := ReadFile(filepath.Join("testdata", tt.file), opts)
			checkErrors(t, err, tt.want)
			for _, e := range rowErrors(t, err) {
				if !strings.HasPrefix(e.Error(), filepath.Join("testdata", tt.file)+":") {
					t.Errorf("error should start with the file name: %v", e)
				}
			}
		})
	}
}

func TestRowErrorFormat(t *testing.T) {
	tests := []struct {
		name string
		err  *RowError
		want string
	}{
		{"full", &RowError{Path: "a.csv", Line: 7, Column: "cnam", Reason: "too long"}, "a.csv:7: cnam: too long"},
		{"no column", &RowError{Path: "a.csv", Line: 3, Reason: "ragged"}, "a.csv:3: ragged"},
		{"no path", &RowError{Line: 3, Column: "cnam", Reason: "x"}, "3: cnam: x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	es := Errors{tests[0].err, tests[1].err}
	if es.Error() != "a.csv:7: cnam: too long\na.csv:3: ragged" {
		t.Errorf("Errors.Error() = %q", es.Error())
	}
	var re *RowError
	if !errors.As(error(es), &re) || re.Line != 7 {
		t.Errorf("errors.As through Errors failed")
	}
}

func TestReadFileMissing(t *testing.T) {
	_, _, err := ReadFile(filepath.Join(t.TempDir(), "none.csv"), allOn())
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("want ErrNotExist, got %v", err)
	}
}

func TestCanonicalColumn(t *testing.T) {
	tests := map[string]string{
		"Phone Number":         "phone_number",
		" phone-number ":       "phone_number",
		"E911  Street Address": "e911_street_address",
		"AUTHENTICATED_CALLS":  "authenticated_calls",
		"cnam_name":            "",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			got, ok := CanonicalColumn(in)
			if got != want || ok != (want != "") {
				t.Errorf("CanonicalColumn(%q) = %q %v", in, got, ok)
			}
		})
	}
}

// TestWorkersAgree proves the parallel merge keeps file order and finds the
// same errors whatever the number of workers.
func TestWorkersAgree(t *testing.T) {
	var b strings.Builder
	b.WriteString("phone_number,cnam\n")
	for i := 0; i < 3*chunkRows+17; i++ {
		switch i % 97 {
		case 5:
			b.WriteString("1.2E+10,x\n")
		case 7:
			fmt.Fprintf(&b, "(212) 555-%04d,x\n", (i-2)%10000) // duplicate of row i-2
		default:
			fmt.Fprintf(&b, "+1212555%04d,x\n", i%10000)
		}
	}
	var first string
	for _, w := range []int{1, 2, 5} {
		opts := allOn()
		opts.Workers = w
		d, _, err := Read(strings.NewReader(b.String()), opts)
		got := fmt.Sprint(len(d.Rows), err)
		for i := 1; i < len(d.Rows); i++ {
			if d.Rows[i].Line <= d.Rows[i-1].Line {
				t.Fatalf("workers=%d: rows out of order at %d", w, i)
			}
		}
		if first == "" {
			first = got
		} else if got != first {
			t.Errorf("workers=%d disagrees with workers=1", w)
		}
	}
}

// TestArenaEstimateShort covers a file whose first rows are much longer
// than the rest, so the row-count estimate falls short and later chunks
// are validated outside the arena and copied.
func TestArenaEstimateShort(t *testing.T) {
	var b strings.Builder
	b.WriteString("phone_number,notes\n")
	pad := strings.Repeat("x", 400)
	n := 0
	for i := 0; i < chunkRows; i++ {
		fmt.Fprintf(&b, "+1212555%04d,%s\n", n, pad)
		n++
	}
	for i := 0; i < 4*chunkRows; i++ {
		fmt.Fprintf(&b, "+1646555%04d,\n", n%10000)
		n++
	}
	path := filepath.Join(t.TempDir(), "skewed.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := allOn()
	opts.AllowExtraColumns = true
	d, _, err := ReadFile(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Rows) != n {
		t.Fatalf("got %d rows, want %d", len(d.Rows), n)
	}
	for i, r := range d.Rows {
		if r.Line != i+2 {
			t.Fatalf("row %d has line %d", i, r.Line)
		}
	}
}

// TestSampleBad pins what samples/bad.csv (the file `numsync validate`
// is shown with) reports: one typical spreadsheet mistake per row.
func TestSampleBad(t *testing.T) {
	opts := allOn()
	opts.Path = ""
	d, warns, err := ReadFile(filepath.Join("..", "..", "samples", "bad.csv"), opts)
	checkErrors(t, err, []wantErr{
		{3, "phone_number", "Excel scientific notation"},
		{4, "phone_number", `"(112) 555-0134" is not a valid, dialable number`},
		{5, "phone_number", "duplicate number +12125554200: line 2 has it too"},
		{6, "cnam", "20 characters"},
		{7, "e911_locality", "is required"},
		{7, "e911_postal_code", "is required"},
		{8, "e911_region", `"Texas"`},
		{9, "brand_program", "needs a brand_business_unit"},
		{10, "brand_channel", `"sms"`},
		{11, "authenticated_calls", `"maybe"`},
	})
	if len(d.Rows) != 2 {
		t.Errorf("%d valid rows, want 2", len(d.Rows))
	}
	if !hasWarning(warns, 13, "every cell blank") || !hasWarning(warns, 3, "blank E911") {
		t.Errorf("warnings: %v", warns)
	}
}

// TestCheckOnlyAgrees proves that validating without keeping the rows
// (numsync validate) reports exactly what a full read reports, whatever
// the number of workers, including on quoted multi-line cells, blank lines,
// malformed quoting and duplicates written differently.
func TestCheckOnlyAgrees(t *testing.T) {
	cells := []string{
		"+1212555%04d,plain",
		"+1212555%04d,\"multi\nline\"",
		"+1212555%04d,\"a\r\nb\r\nc\"",
		"(212) 555-%04d,\"quoted, comma\"",
		"212.555.%04d,x",
		"+1212555%04d,toolongtoolongtoolong",
		"+1212555%04d,O\"Brien",
		"+1212555%04d",
		",",
		"",
		"+1212555%04d,\"\n\n\n\"",
	}
	for seed := uint64(0); seed < 40; seed++ {
		r := rand.New(rand.NewPCG(seed, 99))
		var b strings.Builder
		b.WriteString("phone_number,cnam\n")
		n := 20 + r.IntN(300)
		if seed%8 == 0 {
			n += 2 * chunkRows
		}
		for i := 0; i < n; i++ {
			c := cells[r.IntN(len(cells))]
			if strings.Contains(c, "%") {
				c = fmt.Sprintf(c, r.IntN(400))
			}
			b.WriteString(c)
			b.WriteString("\n")
		}
		in := b.String()
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			var s1, s2 Stats
			one, two := allOn(), allOn()
			one.Workers, one.Stats = 1, &s1
			two.Workers, two.Stats, two.CheckOnly = 2, &s2, true
			d1, w1, e1 := Read(strings.NewReader(in), one)
			d2, w2, e2 := Read(strings.NewReader(in), two)
			if fmt.Sprint(e1) != fmt.Sprint(e2) {
				t.Fatalf("errors differ:\n%v\n---\n%v", e1, e2)
			}
			if fmt.Sprint(w1) != fmt.Sprint(w2) {
				t.Fatalf("warnings differ:\n%v\n---\n%v", w1, w2)
			}
			if s1 != s2 || s1.Valid != len(d1.Rows) || d2.Rows != nil {
				t.Fatalf("stats %+v vs %+v, %d rows, %d kept by CheckOnly", s1, s2, len(d1.Rows), len(d2.Rows))
			}
			if fmt.Sprint(d1.Header) != fmt.Sprint(d2.Header) || d1.Columns != d2.Columns {
				t.Fatalf("header %q %+v vs %q %+v", d1.Header, d1.Columns, d2.Header, d2.Columns)
			}
		})
	}
}
