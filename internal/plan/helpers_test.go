package plan

import (
	"fmt"
	"strings"
	"time"
)

// Fixtures shared by the planner's tests: a small First Orion hierarchy and
// builders for rows and inventories.

var testCreatedAt = time.Date(2026, 11, 22, 3, 15, 0, 0, time.UTC)

func testHierarchy() []BusinessUnit {
	return []BusinessUnit{
		{ID: "bu-sales", Name: "Sales", Programs: []Program{
			{ID: "p-retail", Name: "Retail", Channel: ChannelCallerName, Active: true, CallPurpose: "CS"},
			{ID: "p-logo", Name: "Logo", Channel: ChannelCallerImage, Active: true},
			{ID: "p-old", Name: "Old", Channel: ChannelCallerName, Active: false},
		}},
		{ID: "bu-support", Name: "Support", Programs: []Program{
			{ID: "p-care", Name: "Care", Channel: ChannelCallerName, Active: true},
		}},
		{ID: "bu-east", Name: "Region", Programs: nil},
		{ID: "bu-west", Name: "region", Programs: nil},
	}
}

// fullHeader is a header that manages every column.
var fullHeader = []string{"phone_number", "cnam",
	"e911_street_address", "e911_extended_address", "e911_locality", "e911_region", "e911_postal_code", "e911_caller_name",
	"brand_business_unit", "brand_program", "brand_channel", "call_purpose_code", "authenticated_calls"}

var allColumns = Columns{CNAM: true, E911: true, BusinessUnit: true, Program: true, Channel: true, CallPurpose: true, AuthCalls: true}

// headerFor writes the header of a CSV with the given scope
// (phone_number first).
func headerFor(cols Columns) []string {
	h := []string{"phone_number"}
	if cols.CNAM {
		h = append(h, "cnam")
	}
	if cols.E911 {
		h = append(h, fullHeader[2:8]...)
	}
	if cols.BusinessUnit {
		h = append(h, "brand_business_unit")
	}
	if cols.Program {
		h = append(h, "brand_program")
	}
	if cols.Channel {
		h = append(h, "brand_channel")
	}
	if cols.CallPurpose {
		h = append(h, "call_purpose_code")
	}
	if cols.AuthCalls {
		h = append(h, "authenticated_calls")
	}
	return h
}

// recordOf writes the row's cells in header order, as a CSV reader would
// have read them.
func recordOf(header []string, r Row) []string {
	rec := make([]string, len(header))
	a := r.E911
	if a == nil {
		a = &Address{}
	}
	for i, h := range header {
		switch h {
		case "phone_number":
			rec[i] = r.Number
		case "cnam":
			rec[i] = r.CNAM
		case "e911_street_address":
			rec[i] = a.StreetAddress
		case "e911_extended_address":
			rec[i] = a.ExtendedAddress
		case "e911_locality":
			rec[i] = a.Locality
		case "e911_region":
			rec[i] = a.Region
		case "e911_postal_code":
			rec[i] = a.PostalCode
		case "e911_caller_name":
			rec[i] = a.CallerName
		case "brand_business_unit":
			rec[i] = r.BusinessUnit
		case "brand_program":
			rec[i] = r.Program
		case "brand_channel":
			rec[i] = r.Channel
		case "call_purpose_code":
			rec[i] = r.CallPurpose
		case "authenticated_calls":
			rec[i] = fmt.Sprint(r.AuthCalls)
		}
	}
	return rec
}

// desiredOf builds a Desired from rows, numbering lines from 2, as the CSV
// reader would: an empty channel or call purpose stays empty (Diff applies
// their defaults).
func desiredOf(cols Columns, rows ...Row) *Desired {
	d := &Desired{Path: "desired.csv", SHA256: strings.Repeat("ab", 32), Header: headerFor(cols), Columns: cols}
	for i, r := range rows {
		if r.Line == 0 {
			r.Line = i + 2
		}
		r.Record = recordOf(d.Header, r)
		d.Rows = append(d.Rows, r)
	}
	return d
}

func addr(street, city string) *Address {
	return &Address{StreetAddress: street, Locality: city, Region: "NY", PostalCode: "10001"}
}

// ouRec is a detailed OneUC record.
func ouRec(n, status, cnam string, e911 *Address) State {
	return State{Number: n, Status: status, Updated: 1000, Detailed: true, CNAM: ptr(cnam), E911: e911}
}

// foRec is a First Orion record.
func foRec(n, bu, prog, ch, cp string, auth bool) State {
	return State{Number: n, ID: "id-" + n[len(n)-4:], Status: "APPROVED", BusinessUnit: bu, Program: prog, Channel: ch, CallPurpose: cp, AuthCalls: ptr(auth)}
}

func inventoryOf(v VendorName, recs ...State) *Inventory {
	m := map[string]State{}
	for _, r := range recs {
		m[r.Number] = r
	}
	return NewInventory(v, m)
}

// opLines writes each operation on one line for comparison in tests.
func opLines(p *Plan) []string {
	var out []string
	for _, op := range p.Ops {
		s := fmt.Sprintf("%s line=%d before={%s} after={%s}", op.ID, op.Line, p.compact(op.Before), p.compact(op.After))
		if len(op.DependsOn) > 0 {
			s += " deps=" + strings.Join(op.DependsOn, ",")
		}
		out = append(out, s)
	}
	return out
}
