package plan

import (
	"io"
	"strconv"
	"testing"
	"time"
)

// benchInputs builds size desired rows managing every column and live
// inventories mostly in step with them: 1% CNAM changes, 0.4% numbers to
// activate, brand and name, 0.2% moves, and 1,000 unmanaged numbers at
// each vendor.
func benchInputs(size int) (*Desired, *Inventories) {
	d := &Desired{Path: "bench.csv", SHA256: "bench", Header: fullHeader, Columns: allColumns, Rows: make([]Row, size)}
	ouRecs := make(map[string]State, size+1000)
	foRecs := make(map[string]State, size+1000)
	street := addr("1 Main St", "New York")
	acme, other := ptr("ACME"), ptr("OTHER")
	no := ptr(false)
	// The cells are shared: the diff reads only the brand_channel cell of a
	// record, and sharing keeps the setup's memory to what the rows need.
	record := []string{"", "ACME", "1 Main St", "", "New York", "NY", "10001", "", "Sales", "Retail", "", "CS", "false"}
	for i := range size {
		n := "+1" + strconv.Itoa(2120000000+i)
		d.Rows[i] = Row{Line: i + 2, Number: n, Record: record, CNAM: "ACME", E911: street,
			BusinessUnit: "Sales", Program: "Retail", Channel: ChannelCallerName, CallPurpose: "CS"}
		if i%250 == 0 {
			continue // held by neither vendor
		}
		cnam := acme
		if i%100 == 1 {
			cnam = other
		}
		ouRecs[n] = State{Number: n, Status: StatusInService, Updated: 1, Detailed: true, CNAM: cnam, E911: street}
		prog := "p-retail"
		if i%500 == 3 {
			prog = "p-old"
		}
		foRecs[n] = State{Number: n, ID: "id" + n, Status: "APPROVED", BusinessUnit: "bu-sales", Program: prog,
			Channel: ChannelCallerName, CallPurpose: "CS", AuthCalls: no}
	}
	for i := range 1000 {
		n := "+1" + strconv.Itoa(3130000000+i)
		ouRecs[n] = State{Number: n, Status: StatusInService, Updated: 1}
		foRecs[n] = State{Number: n, ID: "id" + n, Status: "APPROVED", BusinessUnit: "bu-sales"}
	}
	inv := &Inventories{
		// Fingerprints are Gather's cost, not the diff's: leave them out.
		OneUC:      &Inventory{Vendor: OneUC, Records: RecordsOf(ouRecs), Complete: true, Held: len(ouRecs)},
		FirstOrion: &Inventory{Vendor: FirstOrion, Records: RecordsOf(foRecs), Complete: true, Held: len(foRecs)},
		Hierarchy:  testHierarchy(),
	}
	return d, inv
}

// BenchmarkDiff1M times the planner's share of a million-row plan: the
// diff and the JSON rendering of the saved plan (target: 2 s).
func BenchmarkDiff1M(b *testing.B) {
	const size = 1_000_000
	d, inv := benchInputs(size)
	opts := Options{DefaultCallPurpose: "CS", CreatedAt: testCreatedAt}
	b.ReportAllocs()
	b.ResetTimer()
	var total time.Duration
	var changes int
	for range b.N {
		start := time.Now()
		p, err := Diff(d, inv, opts)
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Render(io.Discard, FormatJSON); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		changes = p.Changes()
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N)/size, "ns/row")
	b.ReportMetric(total.Seconds()/float64(b.N), "s/plan")
	b.ReportMetric(float64(changes), "ops")
}

// BenchmarkFingerprint1M times fingerprinting a million-number inventory,
// part of Gather.
func BenchmarkFingerprint1M(b *testing.B) {
	_, inv := benchInputs(1_000_000)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		_ = Fingerprint(inv.OneUC.Records)
	}
	b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s/op")
}
