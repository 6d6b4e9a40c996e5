package sheet

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/numsync/numsync/internal/plan"
)

func TestWriteExport(t *testing.T) {
	et := &plan.ExportTable{
		Header: []string{"phone_number", "cnam", "brand_business_unit", "brand_program", "brand_channel", "call_purpose_code", "authenticated_calls"},
		Rows: [][]string{
			{"+12125550100", "ACME", "Retail", "Store Lines", "callerName", "CS", "false"},
			{"+12125550101", "", "Support", "", "", "CS", "true"},
		},
		Hierarchy: []plan.BusinessUnit{
			{ID: "bu-1", Name: "Retail", Programs: []plan.Program{
				{ID: "p-1", Name: "Store Lines", Channel: "callerName", Active: true},
				{ID: "p-2", Name: "Promotions", Channel: "callerImage"}}},
			{ID: "bu-2", Name: "Support"},
			{ID: "bu-3", Name: "", Programs: []plan.Program{{ID: "p-3", Name: "Store Lines", Channel: "blocking"}}},
		},
	}
	var b bytes.Buffer
	if err := WriteExport(&b, et); err != nil {
		t.Fatal(err)
	}
	got, _ := readAll(t, b.Bytes(), ExportSheet)
	if len(got) != 3 || !reflect.DeepEqual(got[1].Cells, et.Rows[0]) || !reflect.DeepEqual(got[2].Cells, et.Rows[1]) {
		t.Fatalf("Numbers sheet: %+v", got)
	}
	lists, _ := readAll(t, b.Bytes(), ListsSheet)
	wantLists := [][]string{
		{"business_unit", "business_unit_id", "program", "program_id", "channel", "active", "", "business_units", "programs"},
		{"Retail", "bu-1", "Store Lines", "p-1", "callerName", "true", "", "Retail", "Store Lines"},
		{"Retail", "bu-1", "Promotions", "p-2", "callerImage", "false", "", "Support", "Promotions"},
		{"Support", "bu-2", "", "", "", "", "", "bu-3"},
		{"bu-3", "bu-3", "Store Lines", "p-3", "blocking", "false"},
	}
	var cells [][]string
	for _, r := range lists {
		cells = append(cells, r.Cells)
	}
	if !reflect.DeepEqual(cells, wantLists) {
		t.Fatalf("Lists sheet:\n got %q\nwant %q", cells, wantLists)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	dvs, err := f.GetDataValidations(ExportSheet)
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, dv := range dvs {
		rules = append(rules, dv.Sqref+" "+dv.Formula1)
	}
	slices.Sort(rules)
	want := []string{
		`C2:C1048576 Lists!$H$2:$H$4`,
		`D2:D1048576 Lists!$I$2:$I$3`,
		`E2:E1048576 "callerName,callerImage,blocking"`,
		`G2:G1048576 "true,false"`,
	}
	if !reflect.DeepEqual(rules, want) {
		t.Fatalf("dropdowns:\n got %q\nwant %q", rules, want)
	}
	// Header bold, columns text.
	sid, _ := f.GetCellStyle(ExportSheet, "A1")
	st, _ := f.GetStyle(sid)
	if st.Font == nil || !st.Font.Bold || st.NumFmt != 49 {
		t.Errorf("header style %+v", st)
	}
	sid, _ = f.GetCellStyle(ExportSheet, "A2")
	if st, _ = f.GetStyle(sid); st.NumFmt != 49 {
		t.Errorf("phone cell style: number format %d, want text (49)", st.NumFmt)
	}
	if w, _ := f.GetColWidth(ExportSheet, "A"); w < float64(len("+12125550100")) {
		t.Errorf("column A width %v does not fit the numbers", w)
	}
	// A workbook without First Orion has no lists sheet.
	b.Reset()
	if err := WriteExport(&b, &plan.ExportTable{Header: []string{"phone_number", "cnam"}, Rows: [][]string{{"+12125550100", "x"}}}); err != nil {
		t.Fatal(err)
	}
	wb, _ := OpenWorkbook(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if s := strings.Join(wb.Sheets(), ","); s != "Numbers" {
		t.Errorf("sheets %s", s)
	}
}
