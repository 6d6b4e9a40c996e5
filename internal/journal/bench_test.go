package journal

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/plan"
)

// BenchmarkStartRun measures inserting a run of 100,000 operations, the
// first thing a large apply does, and reading them back, as a resume does.
func BenchmarkStartRun(b *testing.B) {
	ctx := context.Background()
	const n = 100_000
	ops := makeOps(n)
	records := make(map[string][]string, n)
	for i, op := range ops {
		records[op.ID] = []string{op.Number, fmt.Sprint("NAME ", i), "", ""}
	}
	j := openTest(b)
	var start, read time.Duration
	for b.Loop() {
		t0 := time.Now()
		id, err := j.startRun(ctx, RunInfo{CSVDigest: "bench"}, ops, records)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		// What a resume reads back.
		recs, err := j.Ops(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		start += t1.Sub(t0)
		read += time.Since(t1)
		if len(recs) != n {
			b.Fatalf("read %d operations, want %d", len(recs), n)
		}
	}
	perRun := start.Seconds() / float64(b.N)
	b.ReportMetric(perRun, "s/StartRun-100k")
	b.ReportMetric(n/perRun, "ops/s")
	b.ReportMetric(read.Seconds()/float64(b.N), "s/Ops-100k")
}

// BenchmarkMarkSentRecord measures the executor's journal traffic: for each
// batch of 100, one MarkSent before the request and one Record after it,
// each its own committed transaction.
// The executor's budget is 5 % of wall time at about 1000 numbers per
// second, i.e. 5 ms of journal time per batch of 100.
func BenchmarkMarkSentRecord(b *testing.B) {
	for _, mode := range []string{"FULL", "NORMAL"} {
		b.Run("synchronous="+mode, func(b *testing.B) {
			benchMarkSentRecord(b, WithSynchronous(mode))
		})
	}
}

func benchMarkSentRecord(b *testing.B, opt ...Option) {
	ctx := context.Background()
	const batch = 100
	const batches = 200
	ops := makeOps(batch * batches)
	j := openTest(b, opt...)
	id, err := j.startRun(ctx, RunInfo{CSVDigest: "bench"}, ops, nil)
	if err != nil {
		b.Fatal(err)
	}
	ids := make([][]string, batches)
	ups := make([][]plan.OpUpdate, batches)
	for k := range batches {
		for i := range batch {
			op := ops[k*batch+i]
			ids[k] = append(ids[k], op.ID)
			ups[k] = append(ups[k], plan.OpUpdate{OpID: op.ID, State: plan.StateDone, Ref: "ref"})
		}
	}
	// Each iteration journals perIter batches, so that even -benchtime=1x
	// (make bench) averages over enough commits to be steady.
	const perIter = 50
	var sent, recorded time.Duration
	k := 0
	for b.Loop() {
		for range perIter {
			t0 := time.Now()
			if err := j.MarkSent(ctx, id, ids[k%batches]); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if err := j.Record(ctx, id, ups[k%batches]); err != nil {
				b.Fatal(err)
			}
			sent += t1.Sub(t0)
			recorded += time.Since(t1)
			k++
		}
	}
	n := float64(k)
	b.ReportMetric(float64(sent.Microseconds())/n/1000, "ms/MarkSent")
	b.ReportMetric(float64(recorded.Microseconds())/n/1000, "ms/Record")
	b.ReportMetric(n*batch/(sent+recorded).Seconds(), "ops/s")
	// Share of wall time at 1000 numbers/s: journal time per batch of 100
	// over the 100 ms those numbers take.
	b.ReportMetric(100*(sent+recorded).Seconds()/n/0.1, "%wall@1000/s")
}

// BenchmarkDetails measures the detail cache with a million OneUC entries:
// one SaveDetails of all of them, then one Details reading them back.
func BenchmarkDetails(b *testing.B) {
	ctx := context.Background()
	const n = 1_000_000
	entries := make([]plan.CachedState, n)
	for i := range entries {
		num := fmt.Sprintf("+1%010d", 2_000_000_000+i)
		entries[i] = plan.CachedState{Number: num, Updated: 63_900_000_000 + int64(i), State: plan.State{
			Number: num, Status: "in_service", Updated: 63_900_000_000 + int64(i),
			Features: []string{"cnam", "e911", "local"}, Detailed: true,
			CNAM: ptr(fmt.Sprintf("ACME %d", i%100_000)),
			E911: &plan.Address{StreetAddress: fmt.Sprintf("%d MAIN ST", i%5000), Locality: "NEW YORK",
				Region: "NY", PostalCode: "10001"},
		}}
	}
	j := openTest(b)
	var save, load time.Duration
	var heap uint64
	for b.Loop() {
		t0 := time.Now()
		if err := j.SaveDetails(ctx, plan.OneUC, entries); err != nil {
			b.Fatal(err)
		}
		save += time.Since(t0)

		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		t1 := time.Now()
		got, err := j.Details(ctx, plan.OneUC)
		if err != nil {
			b.Fatal(err)
		}
		load += time.Since(t1)
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = after.HeapAlloc - before.HeapAlloc
		if len(got) != n {
			b.Fatalf("%d entries read, want %d", len(got), n)
		}
		runtime.KeepAlive(got)
	}
	bn := float64(b.N)
	b.ReportMetric(save.Seconds()/bn, "s/save-1M")
	b.ReportMetric(load.Seconds()/bn, "s/load-1M")
	b.ReportMetric(float64(heap)/(1<<20), "MiB-held-1M")
}

// BenchmarkFinishFold measures the Finish of a 40,000-operation run, the
// size of the apply benchmarks', each marked sent once and recorded done
// with its own reference: the fold of its progress log into its rows
// (oplog.go) is what the Finish costs.
func BenchmarkFinishFold(b *testing.B) {
	ctx := context.Background()
	const n, batch = 40_000, 100
	ops := makeOps(n)
	var spent time.Duration
	runs := 0
	for b.Loop() {
		b.StopTimer()
		j := openTest(b, WithSynchronous("NORMAL"))
		id, err := j.startRun(ctx, RunInfo{CSVDigest: "bench"}, ops, nil)
		if err != nil {
			b.Fatal(err)
		}
		for k := 0; k < n; k += batch {
			ids := make([]string, 0, batch)
			ups := make([]plan.OpUpdate, 0, batch)
			for _, op := range ops[k : k+batch] {
				ids = append(ids, op.ID)
				ups = append(ups, plan.OpUpdate{OpID: op.ID, State: plan.StateDone, Ref: "ref-" + op.Number})
			}
			if err := j.MarkSent(ctx, id, ids); err != nil {
				b.Fatal(err)
			}
			if err := j.Record(ctx, id, ups); err != nil {
				b.Fatal(err)
			}
		}
		if err := j.results.Flush(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		if err := j.Finish(ctx, id, End{Outcome: OutcomeDone}); err != nil {
			b.Fatal(err)
		}
		spent += time.Since(t0)
		runs++
	}
	b.ReportMetric(float64(spent.Microseconds())/1000/float64(runs), "ms/Finish")
	b.ReportMetric(float64(spent.Nanoseconds())/1000/float64(runs*n), "µs/op")
}
