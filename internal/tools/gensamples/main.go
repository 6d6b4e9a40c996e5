// Command gensamples writes samples/desired.csv and the two lab seeds that
// go with it, deterministically. The seeds differ from the CSV in every way
// the plan knows (activations of reserved and of undiscovered numbers, CNAM
// and E911 changes, an address that does not geocode and one that is
// ambiguous, program and business-unit moves, call-purpose changes,
// deletions, unmanaged numbers, a number allocated to another business, one
// the carrier cannot supply and one it faults on), so the demo shows each.
//
// Run it from the repository root: go run ./internal/tools/gensamples
package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	folab "github.com/numsync/numsync/internal/vendors/firstorion/lab"
	oulab "github.com/numsync/numsync/internal/vendors/oneuc/lab"
)

// The First Orion hierarchy of the samples.
const (
	buRetail      = "6c1f3a52-5d0e-4b8e-9a51-2f7c1e0a9b01"
	buSupport     = "6c1f3a52-5d0e-4b8e-9a51-2f7c1e0a9b02"
	buCollections = "6c1f3a52-5d0e-4b8e-9a51-2f7c1e0a9b03"
	buCorporate   = "6c1f3a52-5d0e-4b8e-9a51-2f7c1e0a9b04"

	prStore     = "b7d4e8a0-1c2d-4e5f-8a9b-0c1d2e3f4a01"
	prPromo     = "b7d4e8a0-1c2d-4e5f-8a9b-0c1d2e3f4a02"
	prHelpdesk  = "b7d4e8a0-1c2d-4e5f-8a9b-0c1d2e3f4a03"
	prFraud     = "b7d4e8a0-1c2d-4e5f-8a9b-0c1d2e3f4a04"
	prRecovery  = "b7d4e8a0-1c2d-4e5f-8a9b-0c1d2e3f4a05"
	otherBiz    = "cb5ef552-ba40-49ee-a722-57d820f48cd3"
	otherNumber = "f790b110-41e4-4bac-bcf7-8b117533e010"
)

type place struct {
	bu, buName, prog, progName, channel, purpose string
}

var (
	storeLines = place{buRetail, "Retail", prStore, "Store Lines", "callerName", "CS"}
	promotions = place{buRetail, "Retail", prPromo, "Promotions", "callerImage", "SA"}
	helpdesk   = place{buSupport, "Support", prHelpdesk, "Helpdesk", "callerName", "CS"}
	fraud      = place{buSupport, "Support", prFraud, "Fraud Shield", "blocking", "FR"}
	recovery   = place{buCollections, "Collections", prRecovery, "Recovery", "callerName", "CO"}
	corporate  = place{bu: buCorporate, buName: "Corporate", purpose: "CS"}
	nowhere    = place{}
)

type addr = oulab.Address

var offices = []addr{
	{StreetAddress: "350 5th Ave", ExtendedAddress: "Floor 21", Locality: "New York", Region: "NY", PostalCode: "10118", CallerName: "Acme Corp"},
	{StreetAddress: "1 Market St", ExtendedAddress: "Suite 300", Locality: "San Francisco", Region: "CA", PostalCode: "94105", CallerName: "Acme Corp"},
	{StreetAddress: "233 S Wacker Dr", Locality: "Chicago", Region: "IL", PostalCode: "60606", CallerName: "Acme Corp"},
	{StreetAddress: "100 Federal St", ExtendedAddress: "Floor 4", Locality: "Boston", Region: "MA", PostalCode: "02110", CallerName: "Acme Corp"},
	{StreetAddress: "811 Main St", Locality: "Houston", Region: "TX", PostalCode: "77002", CallerName: "Acme Corp"},
}

// geocoded is how the vendor stores an address it accepted: upper case.
func geocoded(a addr) *addr {
	up := func(s string) string { return string(bytes.ToUpper([]byte(s))) }
	return &addr{StreetAddress: up(a.StreetAddress), ExtendedAddress: up(a.ExtendedAddress), Locality: up(a.Locality),
		Region: a.Region, PostalCode: a.PostalCode, CallerName: up(a.CallerName)}
}

type row struct {
	number  string // E.164
	written string // as the spreadsheet has it
	cnam    string
	e911    *addr
	brand   place
	auth    string
}

type gen struct {
	rows    []row
	ou      oulab.Seed
	fo      folab.Seed
	seq     int
	area    int
	formats int
}

var areas = []string{"212", "415", "312", "617", "713", "206"}
var exchanges = map[string]string{"212": "634", "415": "392", "312": "724", "617": "881", "713": "452", "206": "327"}

// next returns a fresh number; line numbers start at 1001 and never end in
// 0000 or 9999, which the lab reserves for carrier failures.
func (g *gen) next() (string, string) {
	a := areas[g.area%len(areas)]
	g.area++
	g.seq++
	return a, fmt.Sprintf("%s%04d", exchanges[a], 1000+g.seq)
}

// written spells a number the way spreadsheets do, rotating formats.
func (g *gen) written(area, rest string) string {
	g.formats++
	ex, line := rest[:3], rest[3:]
	switch g.formats % 6 {
	case 0:
		return "+1" + area + rest
	case 1:
		return fmt.Sprintf("(%s) %s-%s", area, ex, line)
	case 2:
		return fmt.Sprintf("%s.%s.%s", area, ex, line)
	case 3:
		return fmt.Sprintf("1-%s-%s-%s", area, ex, line)
	case 4:
		return fmt.Sprintf("%s-%s-%s", area, ex, line)
	default:
		return area + rest
	}
}

func (g *gen) add(r row) { g.rows = append(g.rows, r) }

func (g *gen) newRow(cnam string, e *addr, p place) row {
	a, rest := g.next()
	return row{number: "+1" + a + rest, written: g.written(a, rest), cnam: cnam, e911: e, brand: p}
}

func (g *gen) holdOneUC(n, state, cnam string, e *addr) {
	g.ou.Numbers = append(g.ou.Numbers, oulab.SeedNumber{Number: n, State: state, CNAM: cnam, E911: e})
}

func (g *gen) holdFO(n string, p place, purpose string, auth bool, status string) {
	if purpose == "" {
		purpose = p.purpose
	}
	g.fo.Numbers = append(g.fo.Numbers, folab.SeedNumber{PhoneNumber: n, BusinessUnitID: p.bu, ProgramID: p.prog,
		Channel: p.channel, CallPurposeCode: purpose, AuthenticatedCalls: auth, Status: status})
}

func cnamFor(p place) string {
	switch p.buName {
	case "Retail":
		return "ACME STORES"
	case "Support":
		return "ACME SUPPORT"
	case "Collections":
		return "ACME BILLING"
	}
	return "ACME CORP"
}

func main() {
	g := &gen{}
	places := []place{storeLines, promotions, helpdesk, fraud, recovery}
	status := func(i int) string {
		if i%9 == 4 {
			return "UNDER REVIEW"
		}
		return "APPROVED"
	}

	// In step already: branded, at business-unit level, and not branded.
	for i := 0; i < 100; i++ {
		p := places[i%len(places)]
		off := offices[i%len(offices)]
		r := g.newRow(cnamFor(p), &off, p)
		g.add(r)
		g.holdOneUC(r.number, "in_service", r.cnam, geocoded(off))
		g.holdFO(r.number, p, "", false, status(i))
	}
	for i := 0; i < 20; i++ {
		off := offices[i%len(offices)]
		r := g.newRow("ACME CORP", &off, corporate)
		g.add(r)
		g.holdOneUC(r.number, "in_service", r.cnam, geocoded(off))
		g.holdFO(r.number, corporate, "CS", false, "APPROVED")
	}
	for i := 0; i < 30; i++ {
		off := offices[i%len(offices)]
		r := g.newRow("ACME FAX", &off, nowhere)
		g.add(r)
		g.holdOneUC(r.number, "in_service", r.cnam, geocoded(off))
	}

	// Held by the account as reserved: activate, give CNAM and E911, brand.
	for i := 0; i < 30; i++ {
		p := places[i%len(places)]
		off := offices[i%len(offices)]
		r := g.newRow(cnamFor(p), &off, p)
		g.add(r)
		g.holdOneUC(r.number, "reserved", "", nil)
	}

	// Not held: discovered by a search on their block of ten, three blocks.
	for b := 0; b < 3; b++ {
		block := fmt.Sprintf("+1646%03d%03d", 210+b, 400+b)
		for k := 0; k < 10; k++ {
			n := fmt.Sprintf("%s%d", block, k)
			p := places[(b*10+k)%len(places)]
			off := offices[(b+k)%len(offices)]
			written := n
			if k%2 == 1 {
				written = fmt.Sprintf("(%s) %s-%s", n[2:5], n[5:8], n[8:])
			}
			g.add(row{number: n, written: written, cnam: cnamFor(p), e911: &off, brand: p})
			g.ou.Available = append(g.ou.Available, n)
		}
	}
	// The carrier cannot supply it (0000), or faults activating it (9999).
	g.add(row{number: "+16462190000", written: "646-219-0000", cnam: "ACME STORES", e911: &offices[0], brand: storeLines})
	g.add(row{number: "+16462199999", written: "(646) 219-9999", cnam: "ACME STORES", e911: &offices[0], brand: storeLines})
	g.ou.Available = append(g.ou.Available, "+16462199999", "+16462190000")

	// CNAM changes and clears.
	for i := 0; i < 18; i++ {
		p := places[i%len(places)]
		off := offices[i%len(offices)]
		want := cnamFor(p)
		if i >= 15 {
			want = ""
		}
		r := g.newRow(want, &off, p)
		g.add(r)
		g.holdOneUC(r.number, "in_service", "OLD NAME INC", geocoded(off))
		g.holdFO(r.number, p, "", false, "APPROVED")
	}
	// E911 changes (the office moved), one that does not geocode, one
	// ambiguous (no house number).
	for i := 0; i < 14; i++ {
		p := places[i%len(places)]
		old, off := offices[i%len(offices)], offices[(i+1)%len(offices)]
		switch i {
		case 12:
			off = addr{StreetAddress: "12 Nowhere Lane", Locality: "Springfield", Region: "IL", PostalCode: "62701", CallerName: "Acme Corp"}
		case 13:
			off = addr{StreetAddress: "Main St", Locality: "Springfield", Region: "MO", PostalCode: "65806", CallerName: "Acme Corp"}
		}
		r := g.newRow(cnamFor(p), &off, p)
		g.add(r)
		g.holdOneUC(r.number, "in_service", r.cnam, geocoded(old))
		g.holdFO(r.number, p, "", false, "APPROVED")
	}
	// Blank E911 cells while the number has an address: left alone, warned.
	for i := 0; i < 8; i++ {
		p := places[i%len(places)]
		r := g.newRow(cnamFor(p), nil, p)
		g.add(r)
		g.holdOneUC(r.number, "in_service", r.cnam, geocoded(offices[i%len(offices)]))
		g.holdFO(r.number, p, "", false, "APPROVED")
	}
	// Moves: between programs of one unit, between units, to unit level.
	moves := []struct {
		from, to place
		n        int
	}{{storeLines, promotions, 10}, {storeLines, helpdesk, 6}, {promotions, corporate, 4}}
	for _, m := range moves {
		for i := 0; i < m.n; i++ {
			off := offices[i%len(offices)]
			r := g.newRow(cnamFor(m.to), &off, m.to)
			g.add(r)
			g.holdOneUC(r.number, "in_service", r.cnam, geocoded(off))
			g.holdFO(r.number, m.from, m.to.purpose, false, "APPROVED")
		}
	}
	// Call purpose and authenticated-calls changes.
	for i := 0; i < 12; i++ {
		p := places[i%len(places)]
		off := offices[i%len(offices)]
		r := g.newRow(cnamFor(p), &off, p)
		live := "CS"
		if p.purpose == "CS" {
			live = "SA"
		}
		auth := false
		if i >= 8 {
			live, auth = p.purpose, true // only the flag differs
		}
		g.add(r)
		g.holdOneUC(r.number, "in_service", r.cnam, geocoded(off))
		g.holdFO(r.number, p, live, auth, "APPROVED")
	}
	// Branded today, the CSV says not any more: deleted at First Orion.
	for i := 0; i < 4; i++ {
		off := offices[i%len(offices)]
		r := g.newRow("ACME FAX", &off, nowhere)
		g.add(r)
		g.holdOneUC(r.number, "in_service", r.cnam, geocoded(off))
		g.holdFO(r.number, helpdesk, "", false, "APPROVED")
	}
	// Another business brands this one: ALLOCATED_NUMBER.
	{
		off := offices[0]
		r := row{number: "+15012149020", written: "(501) 214-9020", cnam: "ACME STORES", e911: &off, brand: storeLines}
		g.add(r)
		g.holdOneUC(r.number, "in_service", r.cnam, geocoded(off))
		g.fo.Allocated = append(g.fo.Allocated, folab.SeedAllocated{BusinessID: otherBiz, PhoneNumberID: otherNumber, PhoneNumber: r.number})
	}
	// Unmanaged: held at a vendor, absent from the CSV.
	for i := 0; i < 12; i++ {
		a, rest := g.next()
		g.holdOneUC("+1"+a+rest, "in_service", "LEGACY LINE", nil)
	}
	for i := 0; i < 6; i++ {
		a, rest := g.next()
		g.holdFO("+1"+a+rest, recovery, "", false, "APPROVED")
	}

	g.fo.BusinessUnits = []folab.SeedBusinessUnit{
		{ID: buRetail, Name: "Retail", Programs: []folab.SeedProgram{
			{ID: prStore, Name: "Store Lines", Channel: "callerName", CallPurposeCode: "CS"},
			{ID: prPromo, Name: "Promotions", Channel: "callerImage", CallPurposeCode: "SA"}}},
		{ID: buSupport, Name: "Support", Programs: []folab.SeedProgram{
			{ID: prHelpdesk, Name: "Helpdesk", Channel: "callerName", CallPurposeCode: "CS"},
			{ID: prFraud, Name: "Fraud Shield", Channel: "blocking", CallPurposeCode: "FR"}}},
		{ID: buCollections, Name: "Collections", Programs: []folab.SeedProgram{
			{ID: prRecovery, Name: "Recovery", Channel: "callerName", CallPurposeCode: "CO"}}},
		{ID: buCorporate, Name: "Corporate"},
	}

	dir := "samples"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	check(writeCSV(filepath.Join(dir, "desired.csv"), g.rows))
	check(writeJSON(filepath.Join(dir, "oneuc-seed.json"), g.ou))
	check(writeJSON(filepath.Join(dir, "firstorion-seed.json"), g.fo))
	fmt.Printf("wrote %d rows, %d OneUC numbers (+%d available), %d First Orion numbers\n",
		len(g.rows), len(g.ou.Numbers), len(g.ou.Available), len(g.fo.Numbers))
}

var header = []string{"Phone Number", "CNAM", "E911 Street Address", "E911 Extended Address", "E911 Locality",
	"E911 Region", "E911 Postal Code", "E911 Caller Name", "Brand Business Unit", "Brand Program", "Brand Channel",
	"Call Purpose Code", "Authenticated Calls"}

// writeCSV writes what a spreadsheet program exports: a byte-order mark,
// CRLF line endings, names for most units and programs (ids for a few).
func writeCSV(path string, rows []row) error {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	if err := w.Write(header); err != nil {
		return err
	}
	for i, r := range rows {
		rec := make([]string, len(header))
		rec[0], rec[1] = r.written, r.cnam
		if r.e911 != nil {
			rec[2], rec[3], rec[4], rec[5], rec[6], rec[7] = r.e911.StreetAddress, r.e911.ExtendedAddress,
				r.e911.Locality, r.e911.Region, r.e911.PostalCode, r.e911.CallerName
		}
		if r.brand.bu != "" {
			rec[8], rec[9] = r.brand.buName, r.brand.progName
			if i%17 == 3 { // some rows name the unit and program by id
				rec[8], rec[9] = r.brand.bu, r.brand.prog
			}
			if r.brand.prog != "" {
				rec[10] = r.brand.channel
			}
			rec[11] = r.brand.purpose
			rec[12] = []string{"false", "no", "FALSE", "0"}[i%4]
			if r.auth != "" {
				rec[12] = r.auth
			}
		}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gensamples:", err)
		os.Exit(1)
	}
}
