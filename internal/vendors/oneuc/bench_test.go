package oneuc_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/vendors/oneuc"
	"github.com/numsync/numsync/internal/vendors/oneuc/lab"
)

// BenchmarkActivate10k activates 10,000 numbers the account does not hold
// (so every block of ten is searched first) against the lab at Kazoo's
// default limits, 100 tokens refilled at 10/s. It takes about two minutes.
func BenchmarkActivate10k(b *testing.B) { benchActivate(b, 10_000, 10, 100) }

// BenchmarkActivate10kScaled is the same at ten times the rate (1,000
// tokens refilled at 100/s), for a quick figure.
func BenchmarkActivate10kScaled(b *testing.B) { benchActivate(b, 10_000, 100, 1000) }

// benchActivate reports numbers/s and its ratio to the ceiling: rate
// requests/s spread over the fewest requests the job needs (one login, one
// search per block, one activation per batch), and the share of requests
// answered 429.
func benchActivate(b *testing.B, count int, rate float64, bucket int) {
	const batch, workers = 100, 4
	numbers := benchNumbers(count)
	blocks := map[string]bool{}
	for _, n := range numbers {
		blocks[n[:11]] = true
	}
	minRequests := 1 + len(blocks) + (count+batch-1)/batch
	ceiling := float64(count) * rate / float64(minRequests)

	for range b.N {
		b.StopTimer()
		l := lab.New(lab.Options{Bucket: bucket, RefillPerSec: rate})
		if err := l.Seed(lab.Seed{Available: []string{"+1555"}}); err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewServer(l)
		c, err := oneuc.New(oneuc.Config{URL: srv.URL, AccountID: l.AccountID(), APIKey: l.APIKey(),
			RPS: rate, Burst: 10, BatchSize: batch, Timeout: 30 * time.Second},
			oneuc.WithBucket(rate, bucket/5))
		if err != nil {
			b.Fatal(err)
		}
		batches := make(chan []plan.Op)
		go func() {
			defer close(batches)
			for i := 0; i < count; i += batch {
				var ops []plan.Op
				for _, n := range numbers[i:min(i+batch, count)] {
					ops = append(ops, plan.Op{ID: plan.OpID(plan.OneUC, plan.Activate, n), Vendor: plan.OneUC,
						Action: plan.Activate, Number: n, After: plan.State{Status: "in_service"}})
				}
				batches <- ops
			}
		}()
		var (
			mu   sync.Mutex
			done int
			bad  []string
			wg   sync.WaitGroup
		)
		b.StartTimer()
		start := time.Now()
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ops := range batches {
					for _, r := range c.Apply(context.Background(), ops) {
						mu.Lock()
						if r.Outcome == plan.Done {
							done++
						} else if len(bad) < 5 {
							bad = append(bad, fmt.Sprintf("%s: %v %v", r.OpID, r.Outcome, r.Err))
						}
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		b.StopTimer()
		srv.Close()
		if done != count {
			b.Fatalf("%d of %d done; first failures:\n%s", done, count, strings.Join(bad, "\n"))
		}
		st := l.Stats()
		rateGot := float64(done) / elapsed.Seconds()
		b.ReportMetric(rateGot, "numbers/s")
		b.ReportMetric(ceiling, "ceiling_numbers/s")
		b.ReportMetric(rateGot/ceiling, "ceiling_ratio")
		b.ReportMetric(float64(st.Requests), "requests")
		b.ReportMetric(100*float64(st.Throttled)/float64(st.Requests), "pct_429")
		b.ReportMetric(elapsed.Seconds(), "seconds")
	}
}

// benchNumbers returns count consecutive lab numbers, skipping those the
// lab's carrier never offers (…0000) or faults on (…9999).
func benchNumbers(count int) []string {
	out := make([]string, 0, count)
	for i := 1; len(out) < count; i++ {
		n := fmt.Sprintf("+155520%05d", i)
		if strings.HasSuffix(n, "0000") || strings.HasSuffix(n, "9999") {
			continue
		}
		out = append(out, n)
	}
	return out
}
