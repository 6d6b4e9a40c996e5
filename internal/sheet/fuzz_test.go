package sheet

import (
	"archive/zip"
	"bytes"
	"testing"
)

// packageOf wraps a worksheet's XML in the smallest package the reader
// opens: a workbook of one sheet, two shared strings and a date style.
func packageOf(tb testing.TB, sheetXML []byte) []byte {
	tb.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	parts := []struct {
		name string
		body []byte
	}{
		{"_rels/.rels", []byte(`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)},
		{"xl/workbook.xml", []byte(`<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`)},
		{"xl/_rels/workbook.xml.rels", []byte(`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`)},
		{"xl/styles.xml", []byte(`<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs></styleSheet>`)},
		{"xl/sharedStrings.xml", []byte(`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>phone_number</t></si><si><r><t>AC</t></r><r><t>ME</t></r><rPh><t>x</t></rPh></si></sst>`)},
		{"xl/worksheets/sheet1.xml", sheetXML},
	}
	for _, p := range parts {
		w, err := zw.Create(p.name)
		if err != nil {
			tb.Fatal(err)
		}
		_, _ = w.Write(p.body)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func TestPackageOf(t *testing.T) {
	data := packageOf(t, []byte(`<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>`+
		`<row><c t="inlineStr"><is><t>+1 212</t></is></c><c s="1"><v>45352</v></c><c t="e"><v>#N/A</v></c></row></sheetData>`+
		`<mergeCells><mergeCell ref="A5:B6"/></mergeCells></worksheet>`))
	recs, merges := readAll(t, data, "S")
	if len(recs) != 2 || recs[0].Cells[1] != "ACME" || recs[1].Line != 2 || recs[1].Cells[0] != "+1 212" || len(recs[1].Problems) != 2 {
		t.Fatalf("records %+v", recs)
	}
	if len(merges) != 1 || merges[0].Row != 5 {
		t.Fatalf("merges %+v", merges)
	}
}

// FuzzSheetXML feeds arbitrary worksheet XML to the row reader: it may
// refuse it, never panic, and what it yields is well formed.
func FuzzSheetXML(f *testing.F) {
	f.Add([]byte(`<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2"><v>12125550100</v></c><c r="C2" t="b"><v>1</v></c><c r="D2"><f>1+1</f><v></v></c></row></sheetData></worksheet>`))
	f.Add([]byte(`<worksheet><sheetData><row r="3"><c r="XFD3" t="d"><v>2024-01-01</v></c><c r="B3" t="s"><v>7</v></c></row></sheetData></worksheet>`))
	f.Add([]byte(`<worksheet><sheetData><row><c><v>1E400</v></c><c r="A1"/></row></sheetData><mergeCells><mergeCell ref="ZZZZ1:B2"/></mergeCells></worksheet>`))
	f.Fuzz(func(t *testing.T, sheetXML []byte) {
		data := packageOf(t, sheetXML)
		wb, err := OpenWorkbook(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := wb.Rows("S")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for n := 0; rows.Next() && n < 10000; n++ {
			rec := rows.Record()
			if rec.Line < 1 {
				t.Fatalf("row number %d", rec.Line)
			}
			for _, p := range rec.Problems {
				if p.Col < 0 || p.Col >= len(rec.Cells) || p.Reason == "" {
					t.Fatalf("problem %+v outside cells %q", p, rec.Cells)
				}
			}
		}
		_, _ = wb.Choose("", nil)
	})
}

// FuzzDetect: any bytes are told apart (or refused) without a panic, and
// text is decoded to something a delimiter can be told from.
func FuzzDetect(f *testing.F) {
	f.Add([]byte("phone_number;cnam\n+1;x\n"))
	f.Add([]byte{0xFF, 0xFE, 'a', 0, '\t', 0, 'b'})
	f.Add([]byte{0xFE, 0xFF, 0, 'a', 0xD8})
	f.Add([]byte("PK\x03\x04garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := Detect(data)
		if err != nil {
			return
		}
		if k == KindText {
			text, err := DecodeText(data)
			if err != nil {
				t.Fatalf("Detect said text, DecodeText: %v", err)
			}
			_ = SniffDelimiter(text)
		}
	})
}
