package sheet

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// readAll reads every record of a sheet of a workbook in memory.
func readAll(t *testing.T, data []byte, sheet string) ([]Record, []Merge) {
	t.Helper()
	wb, err := OpenWorkbook(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := wb.Rows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		out = append(out, rows.Record())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out, rows.Merges()
}

func saveExcelize(t *testing.T, f *excelize.File) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestWorkbookRoundTrip(t *testing.T) {
	tab := &Table{
		Sheet:  "Numbers",
		Header: []string{"phone_number", "cnam", "e911_postal_code"},
		Rows: [][]string{
			{"+12125550100", "Acme & Co <x>", "02134"},
			{"12125550101", "", "  spaced "},
			{"", "", ""},
			{"2125550102", "Zoë ☎", ""},
		},
		Dropdowns: []Dropdown{{Col: 1, Values: []string{"a", "b"}, Message: "pick"}},
	}
	lists := &Table{Sheet: "Lists", Header: []string{"unit"}, Rows: [][]string{{"East"}, {"West"}}}
	var b bytes.Buffer
	if err := WriteWorkbook(&b, tab, lists); err != nil {
		t.Fatal(err)
	}
	if k, err := Detect(b.Bytes()); err != nil || k != KindWorkbook {
		t.Fatalf("Detect = %v, %v", k, err)
	}
	got, _ := readAll(t, b.Bytes(), "Numbers")
	want := []Record{
		{Line: 1, Cells: []string{"phone_number", "cnam", "e911_postal_code"}},
		{Line: 2, Cells: []string{"+12125550100", "Acme & Co <x>", "02134"}},
		{Line: 3, Cells: []string{"12125550101", "", "  spaced "}},
		{Line: 5, Cells: []string{"2125550102", "Zoë ☎"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("records:\n got %+v\nwant %+v", got, want)
	}
	wb, _ := OpenWorkbook(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if s := wb.Sheets(); !reflect.DeepEqual(s, []string{"Numbers", "Lists"}) {
		t.Fatalf("sheets %q", s)
	}
	isTable := func(h []string) bool { return len(h) > 0 && h[0] == "phone_number" }
	if s, err := wb.Choose("", isTable); err != nil || s != "Numbers" {
		t.Fatalf("Choose = %q, %v", s, err)
	}
	if _, err := wb.Choose("", nil); err == nil || !strings.Contains(err.Error(), `"Numbers", "Lists"`) {
		t.Fatalf("Choose without a table rule: %v", err)
	}
	if s, err := wb.Choose("lists", nil); err != nil || s != "Lists" {
		t.Fatalf("Choose(lists) = %q, %v", s, err)
	}
	if _, err := wb.Choose("Nope", nil); err == nil || !strings.Contains(err.Error(), `"Numbers", "Lists"`) {
		t.Fatalf("Choose(Nope): %v", err)
	}
	// What excelize reads of it: text-formatted, bold frozen header, the
	// dropdown.
	f, err := excelize.OpenReader(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	panes, _ := f.GetPanes("Numbers")
	if !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes %+v", panes)
	}
	dvs, _ := f.GetDataValidations("Numbers")
	if len(dvs) != 1 || !strings.Contains(dvs[0].Formula1, "a,b") {
		t.Errorf("data validations %+v", dvs)
	}
	typ, _ := f.GetCellType("Numbers", "A3")
	if typ != excelize.CellTypeInlineString {
		t.Errorf("A3 type %v, want a string", typ)
	}
}

func TestWorkbookCellTypes(t *testing.T) {
	f := excelize.NewFile()
	s := "Sheet1"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.SetSheetRow(s, "A1", &[]any{"phone_number", "cnam", "authenticated_calls", "when"}))
	must(f.SetCellValue(s, "A2", 12125550100))
	must(f.SetCellValue(s, "B2", 42.5))
	must(f.SetCellValue(s, "C2", true))
	must(f.SetCellValue(s, "A3", 1.2125550100e10))
	must(f.SetCellValue(s, "C3", false))
	must(f.SetCellValue(s, "D3", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)))
	must(f.SetCellStr(s, "A4", "1.21255E+10"))
	must(f.SetCellValue(s, "F4", "outside"))
	must(f.MergeCell(s, "B5", "B7"))
	must(f.SetCellValue(s, "B5", "merged"))
	data := saveExcelize(t, f)
	got, merges := readAll(t, data, s)
	want := []Record{
		{Line: 1, Cells: []string{"phone_number", "cnam", "authenticated_calls", "when"}},
		{Line: 2, Cells: []string{"12125550100", "42.5", "true"}},
		{Line: 3, Cells: []string{"12125550100", "", "false", "45352"},
			Problems: []Problem{{Col: 3, Reason: "is a date or time (2024-03-01): text or a number is expected; format the cell as text and type the value"}}},
		{Line: 4, Cells: []string{"1.21255E+10", "", "", "", "", "outside"}},
		{Line: 5, Cells: []string{"", "merged"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("records:\n got %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(merges, []Merge{{Ref: "B5:B7", Row: 5, Col: 1}}) {
		t.Fatalf("merges %+v", merges)
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		kind Kind
		err  string
	}{
		{"csv", []byte("phone_number,cnam\n+12125550100,A\n"), KindText, ""},
		{"empty", nil, KindText, ""},
		{"bom", []byte("\xEF\xBB\xBFphone_number\n"), KindText, ""},
		{"utf16", append([]byte{0xFF, 0xFE}, 'p', 0, '\t', 0), KindText, ""},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"), 0, "binary data, neither a text file nor an .xlsx workbook"},
		{"xls", []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0}, 0, "old binary Excel file"},
		{"zip", zipOf(t, "a.txt"), 0, "a zip archive without a workbook"},
		{"ods", zipOf(t, "mimetype"), 0, "OpenDocument spreadsheet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := Detect(tc.data)
			if tc.err == "" {
				if err != nil || k != tc.kind {
					t.Fatalf("Detect = %v, %v; want %v", k, err, tc.kind)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrNotTable) {
				t.Fatalf("Detect error %v, want %q", err, tc.err)
			}
		})
	}
}

func zipOf(t *testing.T, name string) []byte {
	t.Helper()
	f := excelize.NewFile()
	_ = f
	var b bytes.Buffer
	zw := newZip(&b)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if name == "mimetype" {
		_, _ = w.Write([]byte("application/vnd.oasis.opendocument.spreadsheet"))
	} else {
		_, _ = w.Write([]byte("hello"))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDecodeText(t *testing.T) {
	le := []byte{0xFF, 0xFE}
	for _, r := range "phone_number\tcnam\r\n+1212\tZoë\r\n" {
		le = append(le, byte(r), byte(r>>8))
	}
	got, err := DecodeText(le)
	if err != nil || string(got) != "phone_number\tcnam\r\n+1212\tZoë\r\n" {
		t.Fatalf("UTF-16LE: %q, %v", got, err)
	}
	be := []byte{0xFE, 0xFF, 0, 'a', 0, ';', 0, 'b'}
	if got, err := DecodeText(be); err != nil || string(got) != "a;b" {
		t.Fatalf("UTF-16BE: %q, %v", got, err)
	}
}

func TestSniffDelimiter(t *testing.T) {
	for in, want := range map[string]rune{
		"phone_number,cnam\n":                  ',',
		"phone_number;cnam;brand_channel\n1,2": ';',
		"phone_number\tcnam\n":                 '\t',
		"phone_number\n;;;;\n":                 ',',
		`"a;b",c` + "\n":                       ',',
		"":                                     ',',
	} {
		if got := SniffDelimiter([]byte(in)); got != want {
			t.Errorf("SniffDelimiter(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCellNames(t *testing.T) {
	for col, name := range map[int]string{0: "A", 25: "Z", 26: "AA", 27: "AB", 701: "ZZ", 702: "AAA"} {
		if got := ColumnName(col); got != name {
			t.Errorf("ColumnName(%d) = %s, want %s", col, got, name)
		}
		if c, r, ok := ParseCell("$" + name + "$7"); !ok || c != col || r != 7 {
			t.Errorf("ParseCell(%s7) = %d, %d, %v", name, c, r, ok)
		}
	}
	if got := CellRef("Numbers", 1, 12); got != "Numbers!B12" {
		t.Errorf("CellRef = %s", got)
	}
	if got := CellRef("My numbers", 0, 2); got != "'My numbers'!A2" {
		t.Errorf("CellRef = %s", got)
	}
}

func TestDateFormatCode(t *testing.T) {
	for code, want := range map[string]bool{
		"yyyy-mm-dd": true, "d/m/yy h:mm": true, "[h]:mm": true, "mm:ss": true,
		"0.00": false, "#,##0": false, "@": false, "General": false, "0.00E+00": false,
		`"Tel "0`: false, "[Red]0": false, `[$-409]mmmm d, yyyy`: true, `0\d`: false,
	} {
		if got := dateFormatCode(code); got != want {
			t.Errorf("dateFormatCode(%q) = %v, want %v", code, got, want)
		}
	}
}

func TestNewTextReader(t *testing.T) {
	utf16le := []byte{0xFF, 0xFE}
	for _, r := range "phone_number\tcnam\r\n+1212\tZoë\r\n" {
		utf16le = append(utf16le, byte(r), byte(r>>8))
	}
	for name, tc := range map[string]struct {
		in   []byte
		want string
		err  bool
	}{
		"utf-8":    {[]byte("a,b\n1,2\n"), "a,b\n1,2\n", false},
		"bom":      {[]byte("\xEF\xBB\xBFa;b\n"), "a;b\n", false},
		"utf-16le": {utf16le, "phone_number\tcnam\r\n+1212\tZoë\r\n", false},
		"utf-16be": {[]byte{0xFE, 0xFF, 0, 'a', 0, ';', 0, 'b'}, "a;b", false},
		"binary":   {[]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "", true},
		"empty":    {nil, "", false},
	} {
		t.Run(name, func(t *testing.T) {
			br, err := NewTextReader(bytes.NewReader(tc.in))
			if tc.err {
				if !errors.Is(err, ErrNotTable) {
					t.Fatalf("err %v, want ErrNotTable", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := SniffDelimiter(HeaderLine(br)); name == "utf-16le" && d != '\t' {
				t.Errorf("delimiter %q", d)
			}
			got, _ := io.ReadAll(br)
			if string(got) != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDecodeXString(t *testing.T) {
	for in, want := range map[string]string{
		"ACME_x000D_\nEast": "ACME\r\nEast",
		"a_x005F_x0041_b":   "a_x0041_b",
		"plain_x":           "plain_x",
		"_xZZZZ_":           "_xZZZZ_",
		"tel_x0009_1":       "tel\t1",
	} {
		if got := decodeXString(in); got != want {
			t.Errorf("decodeXString(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestChooseNamesHiddenSheets(t *testing.T) {
	f := excelize.NewFile()
	_ = f.SetCellValue("Sheet1", "A1", "x")
	_, _ = f.NewSheet("Lookup")
	_ = f.SetCellValue("Lookup", "A1", "y")
	if err := f.SetSheetVisible("Lookup", false); err != nil {
		t.Fatal(err)
	}
	data := saveExcelize(t, f)
	wb, err := OpenWorkbook(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wb.Choose("", nil); err == nil || !strings.Contains(err.Error(), `("Sheet1", "Lookup" (hidden))`) {
		t.Fatalf("Choose: %v", err)
	}
}
