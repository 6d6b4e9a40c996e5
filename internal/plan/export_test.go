package plan

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
)

// exportInventories is a live state with every kind of number export meets.
func exportInventories() *Inventories {
	ou := inventoryOf(OneUC,
		ouRec(n1, "in_service", "ACME", addr("1 Main St", "New York")),
		ouRec(n2, "in_service", "", nil),
		ouRec(n3, "in_service", "SUPPORT", &Address{StreetAddress: "3 Main St", ExtendedAddress: "Fl 2", Locality: "New York", Region: "NY", PostalCode: "10001", CallerName: "ACME HQ"}),
		ouRec(n4, "reserved", "", nil),                      // not in service: left out
		State{Number: n5, Status: "in_service", Updated: 1}, // details not read: left out
		ouRec("+12125550106", "in_service", "", nil),        // at business level at First Orion: left out
		ouRec("+12125550107", "in_service", "WEST", nil),    // in the unit whose name is ambiguous
		ouRec("+12125550108", "in_service", "IMAGE", nil),   // image program
	)
	fo := inventoryOf(FirstOrion,
		foRec(n1, "bu-sales", "p-retail", "callerName", "CS", false),
		foRec(n3, "bu-support", "", "", "SV", true),
		foRec(n4, "bu-sales", "", "", "CS", false), // not in service at OneUC: left out
		foRec("+12125550106", "", "", "", "CS", false),
		foRec("+12125550107", "bu-west", "", "", "CS", false),
		foRec("+12125550108", "bu-sales", "p-logo", "callerImage", "CS", false),
	)
	return &Inventories{OneUC: ou, FirstOrion: fo, Hierarchy: testHierarchy()}
}

func TestExport(t *testing.T) {
	tbl, err := Export(exportInventories())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tbl.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	want := `phone_number,cnam,e911_street_address,e911_extended_address,e911_locality,e911_region,e911_postal_code,e911_caller_name,brand_business_unit,brand_program,brand_channel,call_purpose_code,authenticated_calls
+12125550101,ACME,1 Main St,,New York,NY,10001,,Sales,Retail,callerName,CS,false
+12125550102,,,,,,,,,,,,
+12125550103,SUPPORT,3 Main St,Fl 2,New York,NY,10001,ACME HQ,Support,,,SV,true
+12125550107,WEST,,,,,,,bu-west,,,CS,false
+12125550108,IMAGE,,,,,,,Sales,Logo,callerImage,CS,false
`
	if buf.String() != want {
		t.Errorf("export:\n%s\nwant:\n%s", buf.String(), want)
	}
	for _, w := range []string{"1 OneUC numbers not in service", "1 OneUC numbers whose CNAM and E911 were not read",
		"1 First Orion numbers not in service at OneUC", "1 First Orion numbers outside any business unit"} {
		if !strings.Contains(strings.Join(tbl.Warnings, "\n"), w) {
			t.Errorf("no warning %q in %q", w, tbl.Warnings)
		}
	}
}

func TestExportOneVendor(t *testing.T) {
	tests := []struct {
		name       string
		inv        func(*Inventories)
		wantHeader string
		wantRows   int
	}{
		{"oneuc only", func(i *Inventories) { i.FirstOrion = nil }, "phone_number,cnam,e911_street_address", 6},
		{"firstorion only", func(i *Inventories) { i.OneUC = nil }, "phone_number,brand_business_unit,brand_program", 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := exportInventories()
			tc.inv(inv)
			tbl, err := Export(inv)
			if err != nil {
				t.Fatal(err)
			}
			if h := strings.Join(tbl.Header, ","); !strings.HasPrefix(h, tc.wantHeader) {
				t.Errorf("header %q", h)
			}
			if len(tbl.Rows) != tc.wantRows {
				t.Errorf("%d rows, want %d", len(tbl.Rows), tc.wantRows)
			}
		})
	}
	if _, err := Export(&Inventories{}); err == nil {
		t.Error("Export without vendors succeeded")
	}
}

// TestExportRoundTrip plans an unedited export: no changes.
func TestExportRoundTrip(t *testing.T) {
	for _, name := range []string{"both", "oneuc", "firstorion"} {
		t.Run(name, func(t *testing.T) {
			inv := exportInventories()
			switch name {
			case "oneuc":
				inv.FirstOrion = nil
			case "firstorion":
				inv.OneUC = nil
			}
			tbl, err := Export(inv)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := tbl.WriteCSV(&buf); err != nil {
				t.Fatal(err)
			}
			d := readTestCSV(t, buf.String())
			p, err := Diff(d, inv, Options{DefaultCallPurpose: "CS", CreatedAt: testCreatedAt})
			if err != nil {
				t.Fatalf("Diff: %v", err)
			}
			if p.Changes() != 0 {
				t.Errorf("plan of an unedited export has changes:\n%s", strings.Join(opLines(p), "\n"))
			}
		})
	}
}

// readTestCSV is a minimal desired-state reader for the round trip (the
// real one lives in internal/desired): it maps export's own columns.
func readTestCSV(t *testing.T, s string) *Desired {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	d := &Desired{Path: "export.csv", Header: recs[0]}
	for _, h := range recs[0] {
		switch {
		case h == "cnam":
			d.Columns.CNAM = true
		case strings.HasPrefix(h, "e911_"):
			d.Columns.E911 = true
		case h == "brand_business_unit":
			d.Columns.BusinessUnit = true
		case h == "brand_program":
			d.Columns.Program = true
		case h == "brand_channel":
			d.Columns.Channel = true
		case h == "call_purpose_code":
			d.Columns.CallPurpose = true
		case h == "authenticated_calls":
			d.Columns.AuthCalls = true
		}
	}
	for i, rec := range recs[1:] {
		r := Row{Line: i + 2, Record: rec, Channel: ChannelCallerName, CallPurpose: "CS"}
		a := &Address{}
		for j, h := range recs[0] {
			v := rec[j]
			switch h {
			case "phone_number":
				r.Number = v
			case "cnam":
				r.CNAM = v
			case "e911_street_address":
				a.StreetAddress = v
			case "e911_extended_address":
				a.ExtendedAddress = v
			case "e911_locality":
				a.Locality = v
			case "e911_region":
				a.Region = v
			case "e911_postal_code":
				a.PostalCode = v
			case "e911_caller_name":
				a.CallerName = v
			case "brand_business_unit":
				r.BusinessUnit = v
			case "brand_program":
				r.Program = v
			case "brand_channel":
				if v != "" {
					r.Channel = v
				}
			case "call_purpose_code":
				if v != "" {
					r.CallPurpose = v
				}
			case "authenticated_calls":
				r.AuthCalls, _ = strconv.ParseBool(v)
			}
		}
		if *a != (Address{}) {
			r.E911 = a
		}
		d.Rows = append(d.Rows, r)
	}
	return d
}
