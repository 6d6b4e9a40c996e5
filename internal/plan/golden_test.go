package plan

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenInputs is a small desired state and live inventories that differ
// in every way the plan knows.
func goldenInputs() (*Desired, *Inventories) {
	d := desiredOf(allColumns,
		// New number: activate, CNAM, address, brand.
		Row{Number: "+12125554200", CNAM: "ACME SALES", E911: addr("1 Main St", "New York"), BusinessUnit: "Sales", Program: "Retail"},
		// CNAM cleared, address blank (left alone), moved to another unit.
		Row{Number: "+12125554201", CNAM: "", BusinessUnit: "Support", Program: "Care"},
		// In step.
		Row{Number: "+12125554202", CNAM: "ACME", E911: addr("2 Main St", "New York"), BusinessUnit: "Sales", Program: "Retail"},
		// Call purpose and authenticated calls change; address changes.
		Row{Number: "+12125554203", CNAM: "ACME", E911: &Address{StreetAddress: "3 Main St", ExtendedAddress: "Floor 2", Locality: "New York", Region: "NY", PostalCode: "10001", CallerName: "ACME HQ"},
			BusinessUnit: "Sales", Program: "Retail", CallPurpose: "SV", AuthCalls: true},
		// Reserved at OneUC; brand cells empty: leaves First Orion.
		Row{Number: "+12125554204", CNAM: "ACME", E911: addr("4 Main St", "New York")},
		// Business-unit level, with an image program's number moving out.
		Row{Number: "+12125554205", CNAM: "ACME", E911: addr("5 Main St", "New York"), BusinessUnit: "Sales"},
	)
	ou := inventoryOf(OneUC,
		ouRec("+12125554201", "in_service", "OLD NAME", addr("9 Elm St", "Albany")),
		ouRec("+12125554202", "in_service", "ACME", addr("2 MAIN ST", "NEW YORK")),
		ouRec("+12125554203", "in_service", "ACME", addr("3 Main St", "New York")),
		ouRec("+12125554204", "reserved", "", nil),
		ouRec("+12125554205", "in_service", "ACME", addr("5 Main St", "New York")),
		ouRec("+12125554290", "in_service", "", nil),
		ouRec("+12125554291", "in_service", "", nil),
		ouRec("+12125554292", "port_in", "", nil),
	)
	fo := inventoryOf(FirstOrion,
		foRec("+12125554201", "bu-sales", "p-retail", "callerName", "CS", false),
		foRec("+12125554202", "bu-sales", "p-retail", "callerName", "CS", false),
		foRec("+12125554203", "bu-sales", "p-retail", "callerName", "CS", false),
		foRec("+12125554204", "bu-sales", "p-retail", "callerName", "CS", false),
		foRec("+12125554205", "bu-sales", "p-logo", "callerImage", "CS", false),
		foRec("+12125554290", "bu-support", "", "", "CS", false),
	)
	fo.History, fo.HasHistory = 6, true
	return d, &Inventories{OneUC: ou, FirstOrion: fo, Hierarchy: testHierarchy()}
}

func goldenOptions() Options {
	return Options{
		Prune:              map[VendorName]bool{OneUC: true, FirstOrion: true},
		MaxDelete:          map[VendorName]Limit{OneUC: {N: 50, Percent: true}, FirstOrion: {N: 1}},
		DefaultCallPurpose: "CS",
		CreatedAt:          testCreatedAt,
	}
}

func TestRenderGolden(t *testing.T) {
	d, inv := goldenInputs()
	full, err := Diff(d, inv, goldenOptions())
	if err != nil {
		t.Fatal(err)
	}
	// Drift, as internal/drift marks it: someone renamed +12125554201 at
	// OneUC after run 3 read it.
	for i := range full.Ops {
		if full.Ops[i].ID == "oneuc/update/+12125554201" {
			full.Ops[i].ChangedOutside = &Outside{Run: 3, At: testCreatedAt.Add(-24 * time.Hour)}
			full.Vendors[OneUC].ChangedOutside++
		}
	}
	// The same inventories against a CSV that asks for exactly what is
	// there: no changes.
	quiet, err := Diff(desiredOf(Columns{CNAM: true},
		Row{Number: "+12125554202", CNAM: "ACME"}), &Inventories{OneUC: inventoryOf(OneUC, ouRec("+12125554202", "in_service", "ACME", nil))},
		Options{CreatedAt: testCreatedAt})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		plan   *Plan
		format string
		file   string
	}{
		{"text", full, FormatText, "plan.txt"},
		{"json", full, FormatJSON, "plan.json"},
		{"csv", full, FormatCSV, "plan.csv"},
		{"markdown", full, FormatMarkdown, "plan.md"},
		{"text without changes", quiet, FormatText, "empty.txt"},
		{"markdown without changes", quiet, FormatMarkdown, "empty.md"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tc.plan.Render(&buf, tc.format); err != nil {
				t.Fatalf("Render: %v", err)
			}
			path := filepath.Join("testdata", "golden", tc.file)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s differs from %s (go test -run TestRenderGolden -update rewrites it):\n%s", tc.format, path, buf.String())
			}
		})
	}
}

func TestRenderUnknownFormat(t *testing.T) {
	p := &Plan{Version: PlanVersion, Vendors: map[VendorName]*VendorSummary{}}
	if err := p.Render(&bytes.Buffer{}, "yaml"); err == nil {
		t.Fatal("Render accepted an unknown format")
	}
}
