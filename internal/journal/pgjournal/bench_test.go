package pgjournal_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/numsync/numsync/internal/journal/journaltest"
	"github.com/numsync/numsync/internal/journal/pgjournal"
	"github.com/numsync/numsync/internal/pgtest"
	"github.com/numsync/numsync/internal/plan"
)

// BenchmarkJournalSizePostgres is BenchmarkJournalSize on PostgreSQL:
// what a 100,000-operation run adds to the journal's tables, indexes and
// TOAST, in MB.
func BenchmarkJournalSizePostgres(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	url := pgtest.URL(b)
	w := journaltest.NewWorkload(n)
	j, err := pgjournal.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	size := func() int64 {
		// VACUUM first, so dead row versions of the updates are counted
		// as the reusable space they become, as autovacuum leaves them.
		for _, t := range []string{"runs", "ops", "op_chunks"} {
			if _, err := conn.Exec(ctx, "VACUUM "+t); err != nil {
				b.Fatal(err)
			}
		}
		var s int64
		err := conn.QueryRow(ctx, `SELECT sum(pg_total_relation_size(c.oid))::bigint FROM pg_class c
			JOIN pg_namespace ns ON ns.oid = c.relnamespace
			WHERE ns.nspname = current_schema() AND c.relkind = 'r'`).Scan(&s)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	var mb float64
	for b.Loop() {
		before := size()
		w.Apply(b, j)
		mb = float64(size()-before) / 1e6
	}
	b.ReportMetric(mb*100_000/n, "MB/100k-ops")
}

// BenchmarkMarkSentRecordPostgres is the executor's journal traffic on a
// PostgreSQL server with fsync on (a server of its own): per batch of 100,
// one MarkSent before the request and one Record after it, each its own
// committed transaction, as a share of the 100 ms those numbers take at
// 1000 numbers/s (budget 5 %).
func BenchmarkMarkSentRecordPostgres(b *testing.B) {
	ctx := context.Background()
	j, err := pgjournal.Open(ctx, pgtest.DurableURL(b))
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	const batch, batches = 100, 200
	w := journaltest.NewWorkload(batch * batches)
	a := w.Start(b, j)
	var sent, recorded time.Duration
	k := 0
	for b.Loop() {
		for range 50 {
			ops := w.Ops[(k%batches)*batch:][:batch]
			ids := make([]string, batch)
			ups := make([]plan.OpUpdate, batch)
			for i, op := range ops {
				ids[i] = op.ID
				ups[i] = plan.OpUpdate{OpID: op.ID, State: plan.StateDone, Ref: "ref"}
			}
			t0 := time.Now()
			if err := j.MarkSent(ctx, a, ids); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if err := j.Record(ctx, a, ups); err != nil {
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
	b.ReportMetric(100*(sent+recorded).Seconds()/n/0.1, "%wall@1000/s")
}

// BenchmarkDetailsPostgres is BenchmarkDetails on PostgreSQL: one
// SaveDetails of a million OneUC entries, then one Details reading them
// back, as the planner does each night.
func BenchmarkDetailsPostgres(b *testing.B) {
	ctx := context.Background()
	const n = 1_000_000
	entries := make([]plan.CachedState, n)
	for i := range entries {
		num := fmt.Sprintf("+1%010d", 2_000_000_000+i)
		cnam := fmt.Sprintf("ACME %d", i%100_000)
		entries[i] = plan.CachedState{Number: num, Updated: 63_900_000_000 + int64(i), State: plan.State{
			Number: num, Status: "in_service", Updated: 63_900_000_000 + int64(i),
			Features: []string{"cnam", "e911", "local"}, Detailed: true, CNAM: &cnam,
			E911: &plan.Address{StreetAddress: fmt.Sprintf("%d MAIN ST", i%5000), Locality: "NEW YORK", Region: "NY", PostalCode: "10001"},
		}}
	}
	j, err := pgjournal.Open(ctx, pgtest.URL(b))
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	var save, load time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := j.SaveDetails(ctx, plan.OneUC, entries); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		got, err := j.Details(ctx, plan.OneUC)
		if err != nil {
			b.Fatal(err)
		}
		save, load = save+t1.Sub(t0), load+time.Since(t1)
		if len(got) != n {
			b.Fatalf("%d entries read, want %d", len(got), n)
		}
	}
	b.ReportMetric(save.Seconds()/float64(b.N), "s/save-1M")
	b.ReportMetric(load.Seconds()/float64(b.N), "s/load-1M")
}
