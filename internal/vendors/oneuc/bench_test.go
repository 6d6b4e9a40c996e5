package oneuc_test

import (
	"context"
	"fmt"
	"math/rand/v2"
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
// search per block of a hundred, one activation per batch), and the share
// of requests answered 429.
func benchActivate(b *testing.B, count int, rate float64, bucket int) {
	const batch, workers = 100, 4
	numbers := benchNumbers(count)
	blocks := map[string]bool{}
	for _, n := range numbers {
		blocks[n[:10]] = true
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
			oneuc.WithBucket(rate, 0))
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

// BenchmarkDiscover10k activates 10,000 numbers the account does not hold
// yet, so each must first be returned by a carrier search, against an
// unthrottled lab, and counts the requests. The hand-written script users
// compare numsync with spends two per number (a search and an activation):
// the figure is how many times fewer numsync spends.
//
//   - contiguous: the numbers lie in a few dozen contiguous blocks, as
//     companies buy them (sizes 100–1,500 at random offsets);
//   - sparse: 2,000 numbers, no two in one block of a hundred, where a wide
//     search cannot pay: searches ÷ blocks of ten touched must stay 1, the
//     cost of one narrow search per block;
//   - short-carrier: contiguous, against a carrier that answers wide
//     searches with at most 50 numbers, so most blocks of ten are searched
//     again (the fallback's cost, for information).
func BenchmarkDiscover10k(b *testing.B) {
	b.Run("contiguous", func(b *testing.B) { benchDiscover(b, contiguousNumbers(10_000, 1), 0) })
	b.Run("sparse", func(b *testing.B) { benchDiscover(b, sparseNumbers(2_000), 0) })
	b.Run("short-carrier", func(b *testing.B) { benchDiscover(b, contiguousNumbers(10_000, 1), 50) })
}

func benchDiscover(b *testing.B, numbers []string, wideAnswerMax int) {
	const batch, workers = 100, 4
	tens, hundreds := map[string]bool{}, map[string]bool{}
	for _, n := range numbers {
		tens[n[:11]] = true
		hundreds[n[:10]] = true
	}
	for range b.N {
		b.StopTimer()
		l := lab.New(lab.Options{WideAnswerMax: wideAnswerMax})
		if err := l.Seed(lab.Seed{Available: []string{"+1555"}}); err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewServer(l)
		c, err := oneuc.New(oneuc.Config{URL: srv.URL, AccountID: l.AccountID(), APIKey: l.APIKey(),
			RPS: -1, BatchSize: batch, Timeout: 30 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		done, bad := applyAll(c, numbers, batch, workers)
		b.StopTimer()
		srv.Close()
		if done != len(numbers) {
			b.Fatalf("%d of %d done; first failures:\n%s", done, len(numbers), strings.Join(bad, "\n"))
		}
		st := l.Stats()
		hand := 2 * len(numbers)
		b.ReportMetric(float64(st.Requests), "requests")
		b.ReportMetric(float64(st.Searches), "searches")
		b.ReportMetric(float64(hand), "hand-requests")
		b.ReportMetric(float64(hand)/float64(st.Requests), "x-fewer-than-hand")
		b.ReportMetric(float64(st.Searches)/float64(len(tens)), "searches-per-ten-block")
		b.ReportMetric(float64(st.Searches)/float64(len(hundreds)), "searches-per-hundred-block")
	}
}

// applyAll activates numbers in batches of batch, workers batches at a
// time, as the executor does, and returns how many were Done and the first
// failures.
func applyAll(c *oneuc.Client, numbers []string, batch, workers int) (int, []string) {
	batches := make(chan []plan.Op)
	go func() {
		defer close(batches)
		for i := 0; i < len(numbers); i += batch {
			var ops []plan.Op
			for _, n := range numbers[i:min(i+batch, len(numbers))] {
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
	return done, bad
}

// contiguousNumbers returns count lab numbers in contiguous blocks of 100
// to 1,500 at random gaps (seeded), in order, skipping those the lab's
// carrier never offers (…0000) or faults on (…9999).
func contiguousNumbers(count int, seed uint64) []string {
	rnd := rand.New(rand.NewPCG(seed, 0x646973))
	out := make([]string, 0, count)
	next := 1_000 + rnd.IntN(1_000)
	for len(out) < count {
		size := 100 + rnd.IntN(1_401)
		for i := 0; i < size && len(out) < count; i++ {
			n := fmt.Sprintf("+155530%05d", next)
			next++
			if strings.HasSuffix(n, "0000") || strings.HasSuffix(n, "9999") {
				continue
			}
			out = append(out, n)
		}
		next += rnd.IntN(3_000)
	}
	return out
}

// sparseNumbers returns count lab numbers, each alone in its block of a
// hundred.
func sparseNumbers(count int) []string {
	out := make([]string, count)
	for i := range out {
		out[i] = fmt.Sprintf("+15554%04d%02d", i, 37+i%50)
	}
	return out
}

// BenchmarkPacing10kReserved activates 10,000 numbers the account holds
// reserved (no search: one login and one collection request per 100)
// against lab buckets of 10, 100 and 1,000 tokens refilled at 10/s, with
// the client at its defaults (10 requests/s, bursts of 10, four workers).
// The ceiling is the refill rate spread over the fewest requests the job
// needs; the pacing rule (refillPause) must reach 0.95 of it with at most
// 1 % 429s whatever the bucket's size. Each takes about ten seconds.
func BenchmarkPacing10kReserved(b *testing.B) {
	for _, bucket := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("bucket%d", bucket), func(b *testing.B) { benchPacing(b, 10_000, 10, bucket) })
	}
}

func benchPacing(b *testing.B, count int, rate float64, bucket int) {
	const batch, workers = 100, 4
	numbers := benchNumbers(count)
	minRequests := 1 + (count+batch-1)/batch
	ceiling := float64(count) * rate / float64(minRequests)
	for range b.N {
		b.StopTimer()
		l := lab.New(lab.Options{Bucket: bucket, RefillPerSec: rate})
		var seed lab.Seed
		for _, n := range numbers {
			seed.Numbers = append(seed.Numbers, lab.SeedNumber{Number: n, State: "reserved"})
		}
		if err := l.Seed(seed); err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewServer(l)
		c, err := oneuc.New(oneuc.Config{URL: srv.URL, AccountID: l.AccountID(), APIKey: l.APIKey(), BatchSize: batch})
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
						Action: plan.Activate, Number: n, Before: plan.State{Number: n, Status: "reserved"},
						After: plan.State{Status: "in_service"}})
				}
				batches <- ops
			}
		}()
		var (
			mu   sync.Mutex
			done int
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
						if r.Outcome == plan.Done {
							mu.Lock()
							done++
							mu.Unlock()
						}
					}
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		b.StopTimer()
		srv.Close()
		st := l.Stats()
		// Retried requests are part of the job here: an activation refused
		// 429 is not done, so done counts only what got through.
		rateGot := float64(done) / elapsed.Seconds()
		b.ReportMetric(rateGot/ceiling, "ceiling_ratio")
		b.ReportMetric(100*float64(st.Throttled)/float64(st.Requests), "pct_429")
		b.ReportMetric(float64(st.Requests), "requests")
		b.ReportMetric(elapsed.Seconds(), "seconds")
	}
}
