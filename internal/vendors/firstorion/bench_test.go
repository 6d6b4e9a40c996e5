package firstorion

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/plan"
	folab "github.com/numsync/numsync/internal/vendors/firstorion/lab"
)

// BenchmarkCreate20k creates 20,000 numbers across four programs against
// the lab limited to 10 requests/s, with batches of 500 and four batches in
// flight (as the executor runs them), and reports numbers/s against the
// ceiling of 10 × 500 = 5,000 numbers/s. The client's burst is 1, so the
// figure is the steady rate (a burst of 10 would let the first ten
// requests go at once and push a 4-second run's ratio above 1). The login
// counts against the rate too, as it does at the vendor.
func BenchmarkCreate20k(b *testing.B) {
	const (
		total   = 20000
		batch   = MaxBatch
		rps     = 10
		workers = 4
	)
	seed := folab.Seed{BusinessUnits: []folab.SeedBusinessUnit{
		{ID: "bu-1", Name: "East", Programs: []folab.SeedProgram{{ID: "p-1", Channel: "callerName"}, {ID: "p-2", Channel: "callerImage"}}},
		{ID: "bu-2", Name: "West", Programs: []folab.SeedProgram{{ID: "p-3", Channel: "callerName"}, {ID: "p-4", Channel: "blocking"}}},
	}}
	progs := []plan.State{
		{BusinessUnit: "bu-1", Program: "p-1", Channel: "callerName"},
		{BusinessUnit: "bu-1", Program: "p-2", Channel: "callerImage"},
		{BusinessUnit: "bu-2", Program: "p-3", Channel: "callerName"},
		{BusinessUnit: "bu-2", Program: "p-4", Channel: "blocking"},
	}
	var elapsed time.Duration
	var throttled int
	for i := 0; i < b.N; i++ {
		lab, url := startLab(b, folab.Options{RPS: rps}, seed)
		c := newLabClient(b, lab, url, func(cfg *Config) { cfg.RPS, cfg.Burst, cfg.BatchSize = rps, 1, batch })
		// Group the operations as the executor would, by BatchKey.
		groups := map[string][]plan.Op{}
		var keys []string
		for n := 0; n < total; n++ {
			p := progs[n%len(progs)]
			op := assignOp(fmt.Sprintf("+1%03d555%04d", 201+n/10000, n%10000), p.BusinessUnit, p.Program, p.Channel)
			k, _ := c.BatchKey(op)
			if _, ok := groups[k]; !ok {
				keys = append(keys, k)
			}
			groups[k] = append(groups[k], op)
		}
		work := make(chan []plan.Op)
		var mu sync.Mutex
		done := 0
		var wg sync.WaitGroup
		start := time.Now()
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ops := range work {
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
		for _, k := range keys {
			ops := groups[k]
			for len(ops) > 0 {
				n := min(batch, len(ops))
				work <- ops[:n]
				ops = ops[n:]
			}
		}
		close(work)
		wg.Wait()
		elapsed += time.Since(start)
		throttled += c.Pacer().ThrottledCount()
		if done != total || lab.Count() != total {
			b.Fatalf("done %d, lab holds %d; want %d", done, lab.Count(), total)
		}
	}
	perSec := float64(total*b.N) / elapsed.Seconds()
	ceiling := float64(rps * batch)
	b.ReportMetric(perSec, "numbers/s")
	b.ReportMetric(perSec/ceiling, "ratio")
	b.ReportMetric(float64(throttled)/float64(b.N), "429s/op")
}
