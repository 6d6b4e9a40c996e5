package plan

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

const (
	n1 = "+12125550101"
	n2 = "+12125550102"
	n3 = "+12125550103"
	n4 = "+12125550104"
	n5 = "+12125550105"
)

func TestDiff(t *testing.T) {
	oneucOnly := Columns{CNAM: true, E911: true}
	brandOnly := Columns{BusinessUnit: true, Program: true, Channel: true, CallPurpose: true, AuthCalls: true}
	main := addr("1 Main St", "New York")

	tests := []struct {
		name     string
		desired  *Desired
		ou, fo   *Inventory
		opts     Options
		want     []string
		warnings []string // substrings, each must appear in some warning
	}{
		{
			name:    "in step: nothing",
			desired: desiredOf(allColumns, Row{Number: n1, CNAM: "ACME", E911: main, BusinessUnit: "Sales", Program: "Retail"}),
			ou:      inventoryOf(OneUC, ouRec(n1, "in_service", "ACME", addr("1 MAIN  ST", "NEW YORK"))),
			fo:      inventoryOf(FirstOrion, foRec(n1, "bu-sales", "p-retail", "callerName", "CS", false)),
			want:    nil,
		},
		{
			name:    "activate, brand and give CNAM at once",
			desired: desiredOf(allColumns, Row{Number: n1, CNAM: "ACME", BusinessUnit: "sales", Program: "RETAIL"}),
			ou:      inventoryOf(OneUC),
			fo:      inventoryOf(FirstOrion),
			want: []string{
				`oneuc/activate/+12125550101 line=2 before={} after={status=in_service}`,
				`oneuc/update/+12125550101 line=2 before={cnam=""} after={cnam="ACME"} deps=oneuc/activate/+12125550101`,
				`firstorion/assign/+12125550101 line=2 before={} after={business_unit=Sales; program=Retail; channel=callerName; call_purpose_code=CS; authenticated_calls=false} deps=oneuc/activate/+12125550101`,
			},
			warnings: []string{"line 2: +12125550101: blank E911"},
		},
		{
			name:    "activate a reserved number, e911 set after activation",
			desired: desiredOf(oneucOnly, Row{Number: n1, CNAM: "", E911: main}),
			ou:      inventoryOf(OneUC, ouRec(n1, "reserved", "OLD", nil)),
			want: []string{
				`oneuc/activate/+12125550101 line=2 before={status=reserved} after={status=in_service}`,
				`oneuc/update/+12125550101 line=2 before={} after={e911=1 Main St, New York, NY 10001} deps=oneuc/activate/+12125550101`,
			},
		},
		{
			name:     "a number in port_out cannot be activated: warning, no op",
			desired:  desiredOf(oneucOnly, Row{Number: n1, CNAM: "X"}),
			ou:       inventoryOf(OneUC, ouRec(n1, "port_out", "", nil)),
			want:     nil,
			warnings: []string{`line 2: +12125550101: oneuc holds it as "port_out"`},
		},
		{
			name:    "cnam changed and cleared; address replaced; blank e911 left alone",
			desired: desiredOf(oneucOnly, Row{Number: n1, CNAM: "NEW", E911: main}, Row{Number: n2, CNAM: ""}, Row{Number: n3, CNAM: "SAME"}),
			ou: inventoryOf(OneUC,
				ouRec(n1, "in_service", "OLD", addr("9 Elm St", "Albany")),
				ouRec(n2, "in_service", "GONE", addr("9 Elm St", "Albany")),
				ouRec(n3, "in_service", "SAME", nil)),
			want: []string{
				`oneuc/update/+12125550101 line=2 before={cnam="OLD"; e911=9 Elm St, Albany, NY 10001} after={cnam="NEW"; e911=1 Main St, New York, NY 10001}`,
				`oneuc/update/+12125550102 line=3 before={cnam="GONE"} after={cnam=""}`,
			},
			warnings: []string{"line 3: +12125550102: blank E911", "line 4: +12125550103: blank E911"},
		},
		{
			name:    "header with phone numbers only: activate only, nothing compared",
			desired: desiredOf(Columns{}, Row{Number: n1}, Row{Number: n2}),
			ou:      inventoryOf(OneUC, ouRec(n1, "in_service", "WHATEVER", nil)),
			fo:      inventoryOf(FirstOrion, foRec(n1, "bu-sales", "p-retail", "callerName", "CS", false)),
			want:    []string{`oneuc/activate/+12125550102 line=3 before={} after={status=in_service}`},
		},
		{
			name:    "move between business units, by id",
			desired: desiredOf(brandOnly, Row{Number: n1, BusinessUnit: "bu-support", Program: "p-care"}),
			ou:      inventoryOf(OneUC, ouRec(n1, "in_service", "", nil)),
			fo:      inventoryOf(FirstOrion, foRec(n1, "bu-sales", "p-retail", "callerName", "CS", false)),
			want: []string{
				`firstorion/move/+12125550101 line=2 before={status=APPROVED; id=id-0101; business_unit=Sales; program=Retail; channel=callerName} after={business_unit=Support; program=Care; channel=callerName}`,
			},
		},
		{
			name:    "move to the business-unit level, and an update that waits for the move",
			desired: desiredOf(brandOnly, Row{Number: n1, BusinessUnit: "Sales", CallPurpose: "SV", AuthCalls: true}),
			fo:      inventoryOf(FirstOrion, foRec(n1, "bu-sales", "p-retail", "callerName", "CS", false)),
			want: []string{
				`firstorion/move/+12125550101 line=2 before={status=APPROVED; id=id-0101; business_unit=Sales; program=Retail; channel=callerName} after={business_unit=Sales}`,
				`firstorion/update/+12125550101 line=2 before={id=id-0101; call_purpose_code=CS; authenticated_calls=false} after={call_purpose_code=SV; authenticated_calls=true} deps=firstorion/move/+12125550101`,
			},
		},
		{
			name:    "no program column: any program in the business unit will do",
			desired: desiredOf(Columns{BusinessUnit: true}, Row{Number: n1, BusinessUnit: "Sales"}, Row{Number: n2, BusinessUnit: "Sales"}, Row{Number: n3, BusinessUnit: "Sales"}),
			fo: inventoryOf(FirstOrion,
				foRec(n1, "bu-sales", "p-retail", "callerName", "CS", false),
				foRec(n2, "bu-support", "p-care", "callerName", "CS", false)),
			opts: Options{DefaultCallPurpose: "CS"},
			want: []string{
				`firstorion/assign/+12125550103 line=4 before={} after={business_unit=Sales; call_purpose_code=CS; authenticated_calls=false}`,
				`firstorion/move/+12125550102 line=3 before={status=APPROVED; id=id-0102; business_unit=Support; program=Care; channel=callerName} after={business_unit=Sales}`,
			},
		},
		{
			name:    "empty channel cell takes the program's channel",
			desired: desiredOf(brandOnly, Row{Number: n1, BusinessUnit: "Sales", Program: "Logo"}),
			fo:      inventoryOf(FirstOrion, foRec(n1, "bu-sales", "p-logo", "callerImage", "CS", false)),
			want:    nil,
		},
		{
			name:    "brand cells empty: the number leaves First Orion",
			desired: desiredOf(brandOnly, Row{Number: n1}, Row{Number: n2}),
			fo:      inventoryOf(FirstOrion, foRec(n1, "bu-sales", "", "", "CS", false)),
			opts:    Options{MaxDelete: map[VendorName]Limit{FirstOrion: {N: 1}}},
			want: []string{
				`firstorion/delete/+12125550101 line=2 before={status=APPROVED; id=id-0101; business_unit=Sales} after={}`,
			},
		},
		{
			name:    "no business-unit column: only update what First Orion holds",
			desired: desiredOf(Columns{CallPurpose: true}, Row{Number: n1, CallPurpose: "SV"}, Row{Number: n2, CallPurpose: "SV"}),
			fo:      inventoryOf(FirstOrion, foRec(n1, "bu-sales", "p-retail", "callerName", "CS", true)),
			want: []string{
				`firstorion/update/+12125550101 line=2 before={id=id-0101; call_purpose_code=CS} after={call_purpose_code=SV}`,
			},
		},
		{
			name:    "header without brand columns: First Orion untouched even when pruned",
			desired: desiredOf(oneucOnly, Row{Number: n1, CNAM: "A"}),
			ou:      inventoryOf(OneUC, ouRec(n1, "in_service", "A", nil)),
			fo:      inventoryOf(FirstOrion, foRec(n1, "bu-sales", "p-retail", "callerName", "CS", false), foRec(n2, "bu-sales", "", "", "CS", false)),
			opts:    Options{Prune: map[VendorName]bool{FirstOrion: true}},
			want:    nil,
		},
		{
			name:    "prune off: unmanaged numbers only reported",
			desired: desiredOf(brandOnly, Row{Number: n1, BusinessUnit: "Sales", Program: "Retail"}),
			ou:      inventoryOf(OneUC, ouRec(n1, "in_service", "", nil), ouRec(n2, "in_service", "", nil)),
			fo:      inventoryOf(FirstOrion, foRec(n1, "bu-sales", "p-retail", "callerName", "CS", false), foRec(n2, "bu-sales", "", "", "CS", false)),
			want:    nil,
		},
		{
			name:    "prune on: delete at First Orion before release at OneUC",
			desired: desiredOf(brandOnly, Row{Number: n1, BusinessUnit: "Sales", Program: "Retail"}),
			ou:      inventoryOf(OneUC, ouRec(n1, "in_service", "", nil), ouRec(n2, "in_service", "", nil), ouRec(n3, "in_service", "", nil), ouRec(n4, "reserved", "", nil)),
			fo:      inventoryOf(FirstOrion, foRec(n1, "bu-sales", "p-retail", "callerName", "CS", false), foRec(n2, "bu-sales", "", "", "CS", false)),
			opts: Options{Prune: map[VendorName]bool{OneUC: true, FirstOrion: true},
				MaxDelete: map[VendorName]Limit{OneUC: {N: 100, Percent: true}, FirstOrion: {N: 100, Percent: true}}},
			want: []string{
				`oneuc/release/+12125550102 line=0 before={status=in_service} after={} deps=firstorion/delete/+12125550102`,
				`oneuc/release/+12125550103 line=0 before={status=in_service} after={}`,
				`firstorion/delete/+12125550102 line=0 before={status=APPROVED; id=id-0102; business_unit=Sales} after={}`,
			},
		},
		{
			name:    "incomplete listing: no deletion, a warning",
			desired: desiredOf(brandOnly, Row{Number: n1}),
			ou:      &Inventory{Vendor: OneUC, Records: RecordsOf(map[string]State{n1: ouRec(n1, "in_service", "", nil), n2: ouRec(n2, "in_service", "", nil)}), Held: 2, Err: errors.New("page 3: HTTP 502")},
			fo:      &Inventory{Vendor: FirstOrion, Records: RecordsOf(map[string]State{n1: foRec(n1, "bu-sales", "", "", "CS", false)}), Held: 1, Err: errors.New("page 2: timeout")},
			opts:    Options{Prune: map[VendorName]bool{OneUC: true, FirstOrion: true}, MaxDelete: map[VendorName]Limit{OneUC: {N: 10}, FirstOrion: {N: 10}}},
			want:    nil,
			warnings: []string{
				"oneuc: the listing is incomplete (page 3: HTTP 502)",
				"firstorion: 1 deletion withheld",
				"oneuc: 1 deletion withheld",
			},
		},
		{
			name:    "OneUC disabled: rows drive First Orion alone",
			desired: desiredOf(brandOnly, Row{Number: n1, BusinessUnit: "Support", Program: "Care", AuthCalls: true}),
			fo:      inventoryOf(FirstOrion),
			want: []string{
				`firstorion/assign/+12125550101 line=2 before={} after={business_unit=Support; program=Care; channel=callerName; call_purpose_code=CS; authenticated_calls=true}`,
			},
		},
		{
			name:     "a First Orion record without an id: no write by id, a warning",
			desired:  desiredOf(brandOnly, Row{Number: n1}),
			fo:       inventoryOf(FirstOrion, State{Number: n1, BusinessUnit: "bu-sales"}),
			want:     nil,
			warnings: []string{"+12125550101: firstorion listed it without a phone-number id: its delete is not planned"},
		},
		{
			name:     "inactive program: assigned with a warning",
			desired:  desiredOf(brandOnly, Row{Number: n1, BusinessUnit: "Sales", Program: "Old"}),
			fo:       inventoryOf(FirstOrion),
			want:     []string{`firstorion/assign/+12125550101 line=2 before={} after={business_unit=Sales; program=Old; channel=callerName; call_purpose_code=CS; authenticated_calls=false}`},
			warnings: []string{"line 2: the row's First Orion program is not active"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := &Inventories{OneUC: tc.ou, FirstOrion: tc.fo}
			if tc.fo != nil {
				inv.Hierarchy = testHierarchy()
			}
			opts := tc.opts
			opts.CreatedAt = testCreatedAt
			if opts.DefaultCallPurpose == "" {
				opts.DefaultCallPurpose = "CS"
			}
			p, err := Diff(tc.desired, inv, opts)
			if err != nil {
				t.Fatalf("Diff: %v", err)
			}
			got := opLines(p)
			if !slices.Equal(got, tc.want) {
				t.Errorf("ops:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tc.want, "\n     "))
			}
			for _, w := range tc.warnings {
				if !slices.ContainsFunc(p.Warnings, func(s string) bool { return strings.Contains(s, w) }) {
					t.Errorf("no warning containing %q in %q", w, p.Warnings)
				}
			}
			if p.Changes() != len(tc.want) {
				t.Errorf("Changes() = %d, want %d", p.Changes(), len(tc.want))
			}
			// Every dependency names an operation of the plan, and every
			// operation's line has its CSV record.
			if err := p.check(); err != nil {
				t.Errorf("plan does not check: %v", err)
			}
			for _, op := range p.Ops {
				if op.Line > 0 && p.Records[op.Line] == nil {
					t.Errorf("%s: no CSV record for line %d", op.ID, op.Line)
				}
			}
		})
	}
}

func TestDiffUnmanagedCounts(t *testing.T) {
	d := desiredOf(Columns{BusinessUnit: true}, Row{Number: n1, BusinessUnit: "Sales"}, Row{Number: n2})
	inv := &Inventories{
		OneUC:      inventoryOf(OneUC, ouRec(n1, "in_service", "", nil), ouRec(n3, "in_service", "", nil), ouRec(n4, "reserved", "", nil)),
		FirstOrion: inventoryOf(FirstOrion, foRec(n1, "bu-sales", "", "", "CS", false), foRec(n5, "bu-sales", "", "", "CS", false)),
		Hierarchy:  testHierarchy(),
	}
	for _, prune := range []bool{false, true} {
		opts := Options{Prune: map[VendorName]bool{OneUC: prune, FirstOrion: prune}, MaxDelete: map[VendorName]Limit{OneUC: {N: 5}, FirstOrion: {N: 5}}}
		p, err := Diff(d, inv, opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Vendors[OneUC].Unmanaged; got != 2 {
			t.Errorf("prune=%v: oneuc unmanaged = %d, want 2", prune, got)
		}
		if got := p.Vendors[FirstOrion].Unmanaged; got != 1 {
			t.Errorf("prune=%v: firstorion unmanaged = %d, want 1", prune, got)
		}
	}
}

func TestDiffRowErrors(t *testing.T) {
	cols := Columns{BusinessUnit: true, Program: true, Channel: true}
	d := desiredOf(cols,
		Row{Number: n1, BusinessUnit: "Sales", Program: "Retail"},                                  // fine
		Row{Number: n2, BusinessUnit: "Sales", Program: "Nope"},                                    // unknown program
		Row{Number: n3, BusinessUnit: "Salse", Program: "Retail"},                                  // unknown unit
		Row{Number: n4, BusinessUnit: "REGION"},                                                    // ambiguous name
		Row{Number: n5, BusinessUnit: "Sales", Program: "Care"},                                    // program of another unit
		Row{Number: "+12125550106", BusinessUnit: "bu-west"},                                       // id beats the ambiguous name
		Row{Number: "+12125550107", Program: "Retail"},                                             // program without unit
		Row{Number: "+12125550108", BusinessUnit: "Sales", Program: "Logo", Channel: "callerName"}, // wrong channel
		Row{Number: "+12125550109", BusinessUnit: "Sales", Program: "retial"},                      // misspelt program
	)
	inv := &Inventories{OneUC: inventoryOf(OneUC), FirstOrion: inventoryOf(FirstOrion), Hierarchy: testHierarchy()}
	p, err := Diff(d, inv, Options{})
	if p != nil {
		t.Fatalf("Diff gave a plan despite bad rows")
	}
	var rowErrs RowErrors
	if !errors.As(err, &rowErrs) {
		t.Fatalf("Diff error %v is not RowErrors", err)
	}
	want := []string{
		`desired.csv:3: brand_program: program "Nope" not found in business unit "Sales"`,
		`desired.csv:4: brand_business_unit: business unit "Salse" not found at First Orion: did you mean "Sales"? (give its name as listed or its id)`,
		`desired.csv:5: brand_business_unit: business unit name "REGION" is ambiguous: it names bu-east, bu-west; give the id`,
		`desired.csv:6: brand_program: program "Care" is not in business unit "Sales" (it is in "Support")`,
		`desired.csv:8: brand_program: a program needs a business unit`,
		`desired.csv:9: brand_channel: channel "callerName" is not the channel of program "Logo" (callerImage)`,
		`desired.csv:10: brand_program: program "retial" not found in business unit "Sales": did you mean "Retail"?`,
	}
	// The planner's row errors are the reader's type: located in the file
	// and printed as FILE:LINE: column: reason.
	var got []string
	for _, e := range rowErrs {
		got = append(got, e.Error())
	}
	if !slices.Equal(got, want) {
		t.Errorf("row errors:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	if !strings.Contains(err.Error(), want[0]) {
		t.Errorf("RowErrors.Error() = %q", err.Error())
	}
}

func TestDiffDisabledVendorManaged(t *testing.T) {
	tests := []struct {
		name string
		cols Columns
		inv  *Inventories
	}{
		{"cnam without oneuc", Columns{CNAM: true}, &Inventories{FirstOrion: inventoryOf(FirstOrion)}},
		{"brand without firstorion", Columns{BusinessUnit: true}, &Inventories{OneUC: inventoryOf(OneUC)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Diff(desiredOf(tc.cols, Row{Number: n1}), tc.inv, Options{}); err == nil {
				t.Fatal("Diff accepted a CSV managing a disabled vendor")
			}
		})
	}
}

func TestDiffSafety(t *testing.T) {
	// Ten numbers held at First Orion, the CSV keeps the first keep of them.
	var recs []State
	var numbers []string
	for i := range 10 {
		n := "+1212555020" + string(rune('0'+i))
		numbers = append(numbers, n)
		recs = append(recs, foRec(n, "bu-sales", "", "", "CS", false))
	}
	build := func(keep int) *Desired {
		var rows []Row
		for _, n := range numbers[:keep] {
			rows = append(rows, Row{Number: n, BusinessUnit: "Sales"})
		}
		return desiredOf(Columns{BusinessUnit: true}, rows...)
	}
	tests := []struct {
		name       string
		keep       int
		limit      Limit
		history    int
		force      bool
		wantOK     bool
		wantForced bool
		wantRefuse bool
		collapsed  bool
	}{
		{name: "below the limit", keep: 8, limit: Limit{N: 3}, wantOK: true},
		{name: "at the limit", keep: 7, limit: Limit{N: 3}, wantOK: true},
		{name: "above the limit", keep: 6, limit: Limit{N: 3}, wantRefuse: true},
		{name: "at a percentage", keep: 9, limit: Limit{N: 10, Percent: true}, wantOK: true},
		{name: "above a percentage", keep: 8, limit: Limit{N: 10, Percent: true}, wantRefuse: true},
		{name: "above the limit, forced", keep: 6, limit: Limit{N: 3}, force: true, wantForced: true},
		{name: "collapsed listing", keep: 10, limit: Limit{N: 3}, history: 21, wantRefuse: true, collapsed: true},
		{name: "exactly half of history is not a collapse", keep: 10, limit: Limit{N: 3}, history: 20, wantOK: true},
		{name: "collapsed, forced", keep: 10, limit: Limit{N: 3}, history: 100, force: true, wantForced: true, collapsed: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fo := inventoryOf(FirstOrion, recs...)
			if tc.history > 0 {
				fo.History, fo.HasHistory = tc.history, true
			}
			inv := &Inventories{FirstOrion: fo, Hierarchy: testHierarchy()}
			p, err := Diff(build(tc.keep), inv, Options{
				Prune:     map[VendorName]bool{FirstOrion: true},
				MaxDelete: map[VendorName]Limit{FirstOrion: tc.limit},
				Force:     tc.force,
			})
			if err != nil {
				t.Fatal(err)
			}
			v := p.Vendors[FirstOrion].Safety
			if v.OK != tc.wantOK || v.Forced != tc.wantForced || p.Refused() != tc.wantRefuse || v.Collapsed != tc.collapsed {
				t.Errorf("verdict %+v refused=%v; want ok=%v forced=%v refused=%v collapsed=%v",
					v, p.Refused(), tc.wantOK, tc.wantForced, tc.wantRefuse, tc.collapsed)
			}
			if v.Deletions != 10-tc.keep {
				t.Errorf("deletions = %d, want %d", v.Deletions, 10-tc.keep)
			}
			if !v.OK && v.Reason == "" {
				t.Error("verdict not OK without a reason")
			}
		})
	}
}

func TestDiffDeterministic(t *testing.T) {
	d, inv := goldenInputs()
	opts := goldenOptions()
	first, err := Diff(d, inv, opts)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		p, err := Diff(d, inv, opts)
		if err != nil {
			t.Fatal(err)
		}
		if p.Digest() != first.Digest() {
			t.Fatal("the same inputs gave two different plans")
		}
	}
	// created_at does not count.
	opts.CreatedAt = opts.CreatedAt.AddDate(0, 0, 1)
	p, _ := Diff(d, inv, opts)
	if p.Digest() != first.Digest() {
		t.Error("Digest depends on created_at")
	}
}

// TestDiffDefaults: the channel and call purpose defaults are applied in
// one place, the diff, to rows that name none (an empty cell, or a column
// the header does not have), and never override what a row names.
func TestDiffDefaults(t *testing.T) {
	brand := Columns{BusinessUnit: true, Program: true, Channel: true, CallPurpose: true}
	noChannel := Columns{BusinessUnit: true, Program: true}
	tests := []struct {
		name      string
		cols      Columns
		row       Row
		hierarchy bool
		live      *State // a First Orion record of the number, nil: not held
		opts      Options
		want      string // the after of the one operation
	}{
		{"empty channel: the program's", brand, Row{BusinessUnit: "Sales", Program: "Logo"}, true, nil, Options{},
			"business_unit=Sales; program=Logo; channel=callerImage; call_purpose_code=CS; authenticated_calls=false"},
		{"no channel column: the program's", noChannel, Row{BusinessUnit: "Sales", Program: "Logo"}, true, nil, Options{},
			"business_unit=Sales; program=Logo; channel=callerImage; call_purpose_code=CS; authenticated_calls=false"},
		{"cell ignored without its column", noChannel, Row{BusinessUnit: "Sales", Program: "Logo", Channel: ChannelCallerName}, true, nil, Options{},
			"business_unit=Sales; program=Logo; channel=callerImage; call_purpose_code=CS; authenticated_calls=false"},
		{"named channel kept", brand, Row{BusinessUnit: "Sales", Program: "Logo", Channel: ChannelCallerImage}, true, nil, Options{},
			"business_unit=Sales; program=Logo; channel=callerImage; call_purpose_code=CS; authenticated_calls=false"},
		{"no hierarchy: callerName", brand, Row{BusinessUnit: "bu-sales", Program: "p-logo"}, false, nil, Options{},
			"business_unit=bu-sales; program=p-logo; channel=callerName; call_purpose_code=CS; authenticated_calls=false"},
		{"no hierarchy: named channel kept", brand, Row{BusinessUnit: "bu-sales", Program: "p-logo", Channel: ChannelBlocking}, false, nil, Options{},
			"business_unit=bu-sales; program=p-logo; channel=blocking; call_purpose_code=CS; authenticated_calls=false"},
		{"empty call purpose: the configured default", brand, Row{BusinessUnit: "Sales"}, true, nil, Options{DefaultCallPurpose: "IS"},
			"business_unit=Sales; call_purpose_code=IS; authenticated_calls=false"},
		{"no call purpose column: the configured default", noChannel, Row{BusinessUnit: "Sales", CallPurpose: "SA"}, true, nil, Options{DefaultCallPurpose: "IS"},
			"business_unit=Sales; call_purpose_code=IS; authenticated_calls=false"},
		{"named call purpose kept", brand, Row{BusinessUnit: "Sales", CallPurpose: "SA"}, true, nil, Options{DefaultCallPurpose: "IS"},
			"business_unit=Sales; call_purpose_code=SA; authenticated_calls=false"},
		{"no configured default: CS", brand, Row{BusinessUnit: "Sales"}, true, nil, Options{},
			"business_unit=Sales; call_purpose_code=CS; authenticated_calls=false"},
		{"update to the configured default", brand, Row{BusinessUnit: "Sales"}, true,
			ptr(foRec(n1, "bu-sales", "", "", "SA", false)), Options{DefaultCallPurpose: "IS"},
			"call_purpose_code=IS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.row.Number = n1
			fo := inventoryOf(FirstOrion)
			if tc.live != nil {
				fo = inventoryOf(FirstOrion, *tc.live)
			}
			inv := &Inventories{FirstOrion: fo}
			if tc.hierarchy {
				inv.Hierarchy = testHierarchy()
			}
			p, err := Diff(desiredOf(tc.cols, tc.row), inv, tc.opts)
			if err != nil {
				t.Fatalf("Diff: %v", err)
			}
			if len(p.Ops) != 1 {
				t.Fatalf("ops: %q", opLines(p))
			}
			if got := p.compact(p.Ops[0].After); got != tc.want {
				t.Errorf("after = {%s}\n want {%s}", got, tc.want)
			}
		})
	}
}
