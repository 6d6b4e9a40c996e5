//go:build unix

package app_test

// End-to-end benchmarks (issues #5 and #6): the real vendor clients, built
// from labserver.Config (as cmd/numsync wires them), against both labs served over
// loopback, with the SQLite journal in a temporary directory, driven
// through app.MakePlan and app.Apply exactly as the commands drive them.
// Each iteration does the whole job once; run them with -benchtime=1x.
// Sizes can be shrunk (or grown) with environment variables, named in each
// benchmark's comment; the figures are reported with b.ReportMetric.

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	osexec "os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/app"
	"github.com/numsync/numsync/internal/config"
	"github.com/numsync/numsync/internal/desired"
	"github.com/numsync/numsync/internal/exec"
	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/journal/pgjournal"
	"github.com/numsync/numsync/internal/labserver"
	"github.com/numsync/numsync/internal/pgtest"
	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/vendors/firstorion"
	folab "github.com/numsync/numsync/internal/vendors/firstorion/lab"
	"github.com/numsync/numsync/internal/vendors/oneuc"
	oulab "github.com/numsync/numsync/internal/vendors/oneuc/lab"
)

// benchSize reads a size from the environment variable name, or def.
func benchSize(b *testing.B, name string, def int) int {
	b.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive count", name, s)
	}
	return n
}

// benchLabs serves both labs on a loopback port for the benchmark's life.
func benchLabs(b *testing.B, o labserver.Options) (*labserver.Server, string) {
	b.Helper()
	s := labserver.New(o)
	srv := httptest.NewServer(s)
	b.Cleanup(srv.Close)
	return s, srv.URL
}

// benchJournal opens a journal in a temporary directory (app.Apply takes
// its lock).
func benchJournal(b *testing.B) journal.Store {
	b.Helper()
	ctx := context.Background()
	j, err := journal.Open(ctx, filepath.Join(b.TempDir(), "numsync.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = j.Close() })
	return j
}

// benchVendors builds the clients from the labs' configuration as
// cmd/numsync's wiring does (which app, importing no vendor, cannot call).
func benchVendors(b *testing.B, cfg *config.Config) app.Vendors {
	b.Helper()
	ou, err := oneuc.New(oneuc.Config{URL: cfg.OneUC.URL, AccountID: cfg.OneUC.AccountID, APIKey: cfg.OneUC.APIKey.Reveal(),
		RPS: cfg.OneUC.Rate.RPS, Burst: cfg.OneUC.Rate.Burst, BatchSize: cfg.OneUC.BatchSize, Timeout: cfg.Retry.Timeout})
	if err != nil {
		b.Fatal(err)
	}
	fo, err := firstorion.New(firstorion.Config{URL: cfg.FirstOrion.URL, BusinessID: cfg.FirstOrion.BusinessID,
		APIKey: cfg.FirstOrion.APIKey.Reveal(), SecretKey: cfg.FirstOrion.SecretKey.Reveal(),
		RPS: cfg.FirstOrion.Rate.RPS, Burst: cfg.FirstOrion.Rate.Burst, BatchSize: cfg.FirstOrion.BatchSize, Timeout: cfg.Retry.Timeout})
	if err != nil {
		b.Fatal(err)
	}
	return app.Vendors{OneUC: ou, FirstOrion: fo}
}

// benchPlanOptions are the configuration's prune and max_delete for both
// vendors, no flag given.
func benchPlanOptions(cfg *config.Config) (map[plan.VendorName]bool, map[plan.VendorName]plan.Limit) {
	lim := cfg.Safety.MaxDelete.Plan()
	return map[plan.VendorName]bool{plan.OneUC: cfg.OneUC.Prune, plan.FirstOrion: cfg.FirstOrion.Prune},
		map[plan.VendorName]plan.Limit{plan.OneUC: lim, plan.FirstOrion: lim}
}

// benchCallPurpose is First Orion's default call purpose code.
func benchCallPurpose(cfg *config.Config) string {
	if c := cfg.FirstOrion.DefaultCallPurposeCode; c != "" {
		return c
	}
	return config.DefaultCallPurposeCode
}

// benchNumbers returns count numbers from +1<npa>2000001 on, skipping
// those whose last four digits the lab treats specially (0000: never
// offered by the carrier; 9999: the carrier faults).
func benchNumbers(npa string, count int) []string {
	out := make([]string, 0, count)
	for i := 1; len(out) < count; i++ {
		n := fmt.Sprintf("+1%s%07d", npa, 2000000+i)
		if strings.HasSuffix(n, "0000") || strings.HasSuffix(n, "9999") {
			continue
		}
		out = append(out, n)
	}
	return out
}

// benchHierarchy is First Orion's hierarchy in every benchmark: two
// business units of two callerName programs each.
var benchHierarchy = []folab.SeedBusinessUnit{
	{ID: "bu-east", Name: "East", Programs: []folab.SeedProgram{{ID: "p-east-1", Name: "East Sales"}, {ID: "p-east-2", Name: "East Care"}}},
	{ID: "bu-west", Name: "West", Programs: []folab.SeedProgram{{ID: "p-west-1", Name: "West Sales"}, {ID: "p-west-2", Name: "West Care"}}},
}

// brandOf spreads numbers over the four programs: it returns the business
// unit and program (ids) and their names for row i.
func brandOf(i int) (bu, prog, buName, progName string) {
	u := benchHierarchy[i%2]
	p := u.Programs[(i/2)%2]
	return u.ID, p.ID, u.Name, p.Name
}

// writeCSV writes a desired-state CSV.
func writeCSV(b *testing.B, path string, header []string, n int, row func(i int) []string) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := csv.NewWriter(bufio.NewWriterSize(f, 1<<20))
	if err := w.Write(header); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if err := w.Write(row(i)); err != nil {
			b.Fatal(err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		b.Fatal(err)
	}
	// csv.Writer wraps the bufio.Writer; flush it through the file.
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// readDesired validates the CSV as the commands do.
func readDesired(b *testing.B, cfg *config.Config, path string) *plan.Desired {
	b.Helper()
	d, _, err := desired.ReadFile(path, desired.Options{
		Path:              path,
		DefaultRegion:     cfg.DefaultRegion,
		OneUCEnabled:      cfg.OneUCEnabled(),
		FirstOrionEnabled: cfg.FirstOrionEnabled(),
	})
	if err != nil {
		b.Fatalf("read %s: %v", path, err)
	}
	return d
}

// planRequest is what `numsync plan` passes to app.MakePlan.
func planRequest(b *testing.B, cfg *config.Config, d *plan.Desired, vs app.Vendors, j journal.Store) app.PlanRequest {
	b.Helper()
	prune, maxDelete := benchPlanOptions(cfg)
	req := app.PlanRequest{Desired: d, Vendors: vs, Prune: prune, MaxDelete: maxDelete,
		DefaultCallPurpose: benchCallPurpose(cfg)}
	if j != nil {
		req.Cache, req.History = j, j
	}
	return req
}

// timedJournal measures the time the executor spends in journal writes,
// and the Finish that folds the run's progress log into its rows
// (journal/oplog.go): the log moves that cost there, so it counts too.
type timedJournal struct {
	exec.Journal
	mu                       sync.Mutex
	spent                    time.Duration
	sent, recorded, finished time.Duration
	marks, records, finishes int
}

// timedStore is a journal.Store whose Finish is timed by a timedJournal.
type timedStore struct {
	journal.Store
	tj *timedJournal
}

func (s timedStore) Finish(ctx context.Context, runID int64, end journal.End) error {
	defer s.tj.time(time.Now(), &s.tj.finished, &s.tj.finishes)
	return s.Store.Finish(ctx, runID, end)
}

func (j *timedJournal) MarkSent(ctx context.Context, runID int64, ids []string) error {
	defer j.time(time.Now(), &j.sent, &j.marks)
	return j.Journal.MarkSent(ctx, runID, ids)
}

func (j *timedJournal) Record(ctx context.Context, runID int64, u []plan.OpUpdate) error {
	defer j.time(time.Now(), &j.recorded, &j.records)
	return j.Journal.Record(ctx, runID, u)
}

func (j *timedJournal) time(start time.Time, sum *time.Duration, calls *int) {
	d := time.Since(start)
	j.mu.Lock()
	j.spent += d
	*sum += d
	*calls++
	j.mu.Unlock()
}

// report adds the per-call figures, to tell the sent marks' cost from
// the results'.
func (j *timedJournal) report(b *testing.B) {
	if j.marks > 0 {
		b.ReportMetric(float64(j.sent.Microseconds())/1000/float64(j.marks), "ms/MarkSent")
	}
	if j.records > 0 {
		b.ReportMetric(float64(j.recorded.Microseconds())/1000/float64(j.records), "ms/Record")
	}
	if j.finishes > 0 {
		b.ReportMetric(float64(j.finished.Microseconds())/1000/float64(j.finishes), "ms/Finish")
	}
}

// convergeFOBatch is First Orion's batch_size in BenchmarkApplyConverge.
// Every assign waits for its number's activation, so First Orion can only
// go as fast as OneUC hands it numbers (about 166/s at 10 req/s here, with
// the searches); with 500 a request is never the reason it lags, and the
// ready assigns that pile up while it waits on its own pacer still go out
// in full batches.
const convergeFOBatch = 500

// BenchmarkApplyConverge is issue #6's figure: against labs with 20 ms
// latency and 10 requests/s each, apply a CSV of 20,000 numbers
// (NUMSYNC_BENCH_NUMBERS) that all need activation at OneUC and branding at
// First Orion. Half of them the account holds as reserved; the other half
// must first be discovered by a carrier search per block of a hundred. It takes
// about two minutes at the default size.
func BenchmarkApplyConverge(b *testing.B) {
	benchConverge(b, benchSize(b, "NUMSYNC_BENCH_NUMBERS", 20000), 10, benchJournal)
}

// BenchmarkApplyConvergePostgres is BenchmarkApplyConverge with the
// journal in PostgreSQL: a throwaway server of its own, fsync on, as in
// production (skipped without PostgreSQL). Its figure is the journal's
// share of apply's wall time (budget 5 %, as for SQLite).
func BenchmarkApplyConvergePostgres(b *testing.B) {
	benchConverge(b, benchSize(b, "NUMSYNC_BENCH_NUMBERS", 20000), 10, func(b *testing.B) journal.Store {
		b.Helper()
		j, err := pgjournal.Open(context.Background(), pgtest.DurableURL(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = j.Close() })
		return j
	})
}

// BenchmarkApplyConvergeScaled is the same job at ten times the rates
// (100 requests/s per lab and per client), for a quick figure.
func BenchmarkApplyConvergeScaled(b *testing.B) {
	benchConverge(b, benchSize(b, "NUMSYNC_BENCH_NUMBERS", 20000), 100, benchJournal)
}

// benchConverge reports, per vendor, numbers/s over that vendor's busy
// span (its first send to its last answer, from the executor's summary)
// and its ratio to the ceiling:
//
//   - OneUC: the fewest requests the activations need (one search per block
//     of a hundred not held plus one collection/activate per batch of 100; the
//     login and the listing came with the plan), less the client's burst,
//     sent at rps requests/s;
//   - First Orion: rps × its batch size, but no more than OneUC's ceiling,
//     since each assign waits on its number's activation.
//
// It also reports the share of all requests answered 429 and the share of
// apply's wall time spent in the journal's writes: the executor's MarkSent
// and Record, through a timing wrapper put in by ApplyRequest.Exec, and
// the run's Finish, which folds the progress log.
func benchConverge(b *testing.B, count int, rps float64, openJournal func(*testing.B) journal.Store) {
	const ouBatch = 100
	held := count / 2
	reserved := benchNumbers("212", held)
	fresh := benchNumbers("646", count-held)
	all := append(append([]string(nil), reserved...), fresh...)
	blocks := map[string]bool{}
	for _, n := range fresh {
		blocks[n[:10]] = true // one wide search per block of a hundred (oneuc discover)
	}
	ouRequests := len(blocks) + (count+ouBatch-1)/ouBatch
	// labserver.Config gives each client a burst of rps requests (the lab's
	// buckets are larger: OneUC's holds 10 × rps): those go at once, the
	// rest at rps.
	burst := max(1, int(rps))
	ouCeiling := float64(count) * rps / float64(max(1, ouRequests-burst))
	foCeiling := min(rps*convergeFOBatch, ouCeiling)

	for range b.N {
		b.StopTimer()
		ctx := context.Background()
		labs, base := benchLabs(b, labserver.Options{RPS: rps, Latency: 20 * time.Millisecond, Seed: 6})
		var seed oulab.Seed
		for _, n := range reserved {
			seed.Numbers = append(seed.Numbers, oulab.SeedNumber{Number: n, State: "reserved"})
		}
		seed.Available = []string{"+1646"}
		if err := labs.OneUC.Seed(seed); err != nil {
			b.Fatal(err)
		}
		if err := labs.FirstOrion.Seed(folab.Seed{BusinessUnits: benchHierarchy}); err != nil {
			b.Fatal(err)
		}
		cfg := labserver.Config(base, rps)
		cfg.FirstOrion.BatchSize = convergeFOBatch
		csvPath := filepath.Join(b.TempDir(), "desired.csv")
		writeCSV(b, csvPath, []string{"phone_number", "brand_business_unit", "brand_program"}, count, func(i int) []string {
			_, _, bu, p := brandOf(i)
			return []string{all[i], bu, p}
		})
		d := readDesired(b, cfg, csvPath)
		vs := benchVendors(b, cfg)
		j := openJournal(b)
		tj := &timedJournal{}
		req := app.ApplyRequest{
			Desired:            d,
			Vendors:            vs,
			Journal:            timedStore{Store: j, tj: tj},
			Concurrency:        map[plan.VendorName]int{plan.OneUC: cfg.OneUC.Concurrency, plan.FirstOrion: cfg.FirstOrion.Concurrency},
			MaxAttempts:        cfg.Retry.MaxAttempts,
			DefaultCallPurpose: benchCallPurpose(cfg),
			Args:               []string{"apply", "--desired", csvPath},
			Log:                slog.New(slog.DiscardHandler),
			Exec: func(c *exec.Config) {
				tj.Journal = c.Journal
				c.Journal = tj
			},
		}
		req.Prune, req.MaxDelete = benchPlanOptions(cfg)

		b.StartTimer()
		start := time.Now()
		res, err := app.Apply(ctx, req)
		wall := time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if res.Exec == nil {
			b.Fatalf("apply executed nothing: %+v", res)
		}
		if !res.Exec.Complete() {
			b.Fatalf("apply did not converge: %+v", res.Exec.Failed[:min(5, len(res.Exec.Failed))])
		}

		ouSt := labs.OneUC.Stats()
		foReqs := labs.FirstOrion.Requests()
		fo429 := 0
		for _, r := range foReqs {
			if r.Status == 429 {
				fo429++
			}
		}
		rates := map[plan.VendorName]float64{}
		var ouReq, foReq int
		for _, vs := range res.Exec.Summary.Vendors {
			for _, a := range vs.Actions {
				if a.Applied != count {
					b.Fatalf("%s %s: %d applied, want %d", vs.Vendor, a.Action, a.Applied, count)
				}
				rates[vs.Vendor] = float64(a.Applied) / a.DurationSeconds
			}
			switch vs.Vendor {
			case plan.OneUC:
				ouReq = vs.Requests
			case plan.FirstOrion:
				foReq = vs.Requests
			}
		}
		b.ReportMetric(rates[plan.OneUC], "oneuc-numbers/s")
		b.ReportMetric(ouCeiling, "oneuc-ceiling-numbers/s")
		b.ReportMetric(rates[plan.OneUC]/ouCeiling, "oneuc-ratio")
		b.ReportMetric(rates[plan.FirstOrion], "firstorion-numbers/s")
		b.ReportMetric(foCeiling, "firstorion-ceiling-numbers/s")
		b.ReportMetric(rates[plan.FirstOrion]/foCeiling, "firstorion-ratio")
		b.ReportMetric(float64(ouSt.Throttled+fo429)/float64(ouSt.Requests+len(foReqs)), "429-share")
		b.ReportMetric(float64(ouSt.Requests), "oneuc-requests")
		b.ReportMetric(float64(ouSt.Searches), "oneuc-searches")
		b.ReportMetric(float64(ouReq), "oneuc-batches")
		b.ReportMetric(float64(len(foReqs)), "firstorion-requests")
		b.ReportMetric(float64(foReq), "firstorion-batches")
		b.ReportMetric(tj.spent.Seconds()/wall.Seconds(), "journal-share")
		tj.report(b)
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(float64(count)/wall.Seconds(), "numbers/s")
	}
}

// BenchmarkNightlyNoop is issue #5's figure: the nightly plan over 100,000
// numbers (NUMSYNC_BENCH_NOOP_NUMBERS) that are all in step, CNAM and E911
// managed, sends only listing pages (and the hierarchy, for First Orion)
// and one login per vendor. A first plan reads every number's details and
// fills the journal's cache; the second, timed, one is counted from the
// labs' request logs. The labs are unthrottled: the figure is a count.
func BenchmarkNightlyNoop(b *testing.B) {
	count := benchSize(b, "NUMSYNC_BENCH_NOOP_NUMBERS", 100000)
	numbers := benchNumbers("212", count)
	addr := oulab.Address{StreetAddress: "100 Main St", Locality: "New York", Region: "NY", PostalCode: "10001"}
	for range b.N {
		b.StopTimer()
		ctx := context.Background()
		labs, base := benchLabs(b, labserver.Options{Seed: 5})
		ou := oulab.Seed{Numbers: make([]oulab.SeedNumber, count)}
		fo := folab.Seed{BusinessUnits: benchHierarchy, Numbers: make([]folab.SeedNumber, count)}
		for i, n := range numbers {
			a := addr
			ou.Numbers[i] = oulab.SeedNumber{Number: n, State: "in_service", CNAM: "ACME CORP", E911: &a, Features: []string{"cnam", "e911"}}
			bu, p, _, _ := brandOf(i)
			fo.Numbers[i] = folab.SeedNumber{PhoneNumber: n, BusinessUnitID: bu, ProgramID: p, CallPurposeCode: "CS"}
		}
		if err := labs.OneUC.Seed(ou); err != nil {
			b.Fatal(err)
		}
		if err := labs.FirstOrion.Seed(fo); err != nil {
			b.Fatal(err)
		}
		cfg := labserver.Config(base, 1e6)
		csvPath := filepath.Join(b.TempDir(), "desired.csv")
		header := []string{"phone_number", "cnam", "e911_street_address", "e911_locality", "e911_region", "e911_postal_code",
			"brand_business_unit", "brand_program"}
		writeCSV(b, csvPath, header, count, func(i int) []string {
			_, _, bu, p := brandOf(i)
			return []string{numbers[i], "ACME CORP", addr.StreetAddress, addr.Locality, addr.Region, addr.PostalCode, bu, p}
		})
		d := readDesired(b, cfg, csvPath)
		j := benchJournal(b)

		makePlan := func() (*plan.Plan, time.Duration, int, int) {
			vs := benchVendors(b, cfg) // a new process each night: a new login
			ou0, fo0 := labs.OneUC.Stats().Requests, len(labs.FirstOrion.Requests())
			start := time.Now()
			p, _, err := app.MakePlan(ctx, planRequest(b, cfg, d, vs, j))
			took := time.Since(start)
			if err != nil {
				b.Fatal(err)
			}
			if n := len(p.Ops); n != 0 {
				b.Fatalf("plan has %d operations (first: %+v); the seed should be in step", n, p.Ops[0])
			}
			return p, took, labs.OneUC.Stats().Requests - ou0, len(labs.FirstOrion.Requests()) - fo0
		}
		_, firstTook, firstOU, _ := makePlan()
		b.StartTimer()
		_, took, ouN, foN := makePlan()
		b.StopTimer()

		pages := (count + 999) / 1000
		// Login + listing pages at each vendor, plus First Orion's
		// hierarchy: one page of business units and one of programs per
		// business unit.
		expected := (1 + pages) + (1 + pages + 1 + len(benchHierarchy))
		b.ReportMetric(float64(ouN+foN), "requests")
		b.ReportMetric(float64(ouN), "oneuc-requests")
		b.ReportMetric(float64(foN), "firstorion-requests")
		b.ReportMetric(float64(expected), "expected-requests")
		b.ReportMetric(float64(ouN+foN)/float64(expected), "requests-vs-expected")
		b.ReportMetric(took.Seconds(), "plan-s")
		b.ReportMetric(float64(firstOU), "first-plan-oneuc-requests")
		b.ReportMetric(firstTook.Seconds(), "first-plan-s")
	}
}

// The labs of BenchmarkPlan1M run in a child process (this test binary,
// re-run with labChildEnv set), so that their two million numbers are
// neither in the heap nor in the resident memory the benchmark measures,
// as they would not be for `numsync plan` against a real vendor.
const labChildEnv = "NUMSYNC_BENCH_LAB_CHILD"

func TestMain(m *testing.M) {
	if n := os.Getenv(labChildEnv); n != "" {
		os.Exit(serveLabChild(n))
	}
	os.Exit(m.Run())
}

// plan1MSeeds returns the labs' inventories for BenchmarkPlan1M: every
// number in service at OneUC and in a First Orion program, where 1 % of
// them are held in the other program of their business unit (a move).
func plan1MSeeds(numbers []string) (oulab.Seed, folab.Seed) {
	ou := oulab.Seed{Numbers: make([]oulab.SeedNumber, len(numbers))}
	fo := folab.Seed{BusinessUnits: benchHierarchy, Numbers: make([]folab.SeedNumber, len(numbers))}
	for i, n := range numbers {
		ou.Numbers[i] = oulab.SeedNumber{Number: n, State: "in_service"}
		bu, p, _, _ := brandOf(i)
		if i%100 == 7 {
			bu, p, _, _ = brandOf(i + 2)
		}
		fo.Numbers[i] = folab.SeedNumber{PhoneNumber: n, BusinessUnitID: bu, ProgramID: p, CallPurposeCode: "CS"}
	}
	return ou, fo
}

// serveLabChild is the child: it seeds unthrottled labs with count
// numbers, serves them on a loopback port, prints the base URL on a line
// of its own, and serves until its standard input closes.
func serveLabChild(count string) int {
	n, err := strconv.Atoi(count)
	if err != nil || n < 1 {
		fmt.Fprintf(os.Stderr, "%s=%q: want a count\n", labChildEnv, count)
		return 2
	}
	s := labserver.New(labserver.Options{Seed: 1})
	ou, fo := plan1MSeeds(benchNumbers("212", n))
	if err := s.OneUC.Seed(ou); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := s.FirstOrion.Seed(fo); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ou, fo = oulab.Seed{}, folab.Seed{} //nolint:ineffassign // drop the seeds so the GC frees them while the labs serve
	srv := httptest.NewServer(s)
	defer srv.Close()
	fmt.Println(srv.URL)
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// startLabChild starts the child labs and returns their base URL and
// process id; they stop when the benchmark ends.
func startLabChild(b *testing.B, count int) (string, int) {
	b.Helper()
	cmd := osexec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", labChildEnv, count))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("lab child: %v", err)
	}
	return strings.TrimSpace(line), cmd.Process.Pid
}

// procCPU is the CPU time (user and system) process pid has used, from
// /proc (Linux; clock ticks of 1/100 s), or 0 when unknown.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(ut+st) * (time.Second / 100)
}

// memPeak samples the Go runtime's memory every few milliseconds until
// stopped: the heap (live and not yet collected objects) and everything
// the runtime has mapped (heap, stacks, metadata; close to what the
// process uses, without the binary's own pages).
type memPeak struct {
	heap, total atomic.Uint64
	stop, done  chan struct{}
}

func startMemPeak() *memPeak {
	p := &memPeak{stop: make(chan struct{}), done: make(chan struct{})}
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"}}
	go func() {
		defer close(p.done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(samples)
			if v := samples[0].Value.Uint64(); v > p.heap.Load() {
				p.heap.Store(v)
			}
			if v := samples[1].Value.Uint64(); v > p.total.Load() {
				p.total.Store(v)
			}
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *memPeak) Stop() (heap, total uint64) {
	close(p.stop)
	<-p.done
	return p.heap.Load(), p.total.Load()
}

// resetPeakRSS resets the kernel's record of this process's peak resident
// memory (Linux: "5" to /proc/self/clear_refs); false where it cannot.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakRSS is the process's peak resident memory since the last reset
// (VmHWM), or 0 when unknown.
func peakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

const mib = 1 << 20

// cpuTime is the CPU time (user and system) this process has used; the
// labs of BenchmarkPlan1M run in another process, so it is numsync's own.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPlan1M is issue #5's scale figure: `plan` of 1,000,000 CSV rows
// (NUMSYNC_BENCH_PLAN_ROWS) against labs holding 1,000,000 numbers each,
// unthrottled, end to end: read and validate the CSV, gather both
// inventories, diff, and render the JSON plan to io.Discard. The CSV
// manages First Orion's brand columns and (always) OneUC in_service, not
// CNAM or E911, so no per-number GET is made: the plan lists 1,000 pages
// per vendor. 1 % of the numbers sit in the wrong program, so the plan has
// 10,000 moves to render. The labs run in a child process.
//
// It reports the wall time of each step beside encoding/csv's raw read of
// the same file (and this process's CPU time while gathering: most of the
// gather's wall time is the labs'), then app.MakePlan timed whole on a
// second pass, and the
// peaks of the Go heap, of the runtime's mapped memory and of the resident
// memory (VmHWM, reset before the plan) during the first pass, and the
// heap's peak up to the end of the gather. With
// NUMSYNC_BENCH_PLAN_HEAPPROFILE=FILE it writes a heap profile of what the
// finished plan keeps alive (the CSV rows, both inventories, the plan).
func BenchmarkPlan1M(b *testing.B) {
	count := benchSize(b, "NUMSYNC_BENCH_PLAN_ROWS", 1000000)
	for range b.N {
		b.StopTimer()
		ctx := context.Background()
		base, labPID := startLabChild(b, count)
		cfg := labserver.Config(base, 1e6)
		csvPath := filepath.Join(b.TempDir(), "desired.csv")
		// The benchmark's own copy of the numbers is dropped once written,
		// so that the memory measured is the plan's alone.
		numbers := benchNumbers("212", count)
		writeCSV(b, csvPath, []string{"phone_number", "brand_business_unit", "brand_program"}, count, func(i int) []string {
			_, _, bu, p := brandOf(i)
			return []string{numbers[i], bu, p}
		})
		numbers = nil //nolint:ineffassign,wastedassign // let the GC free them before the plan is measured
		st, err := os.Stat(csvPath)
		if err != nil {
			b.Fatal(err)
		}

		// The raw read: encoding/csv over the same file, every record.
		rawStart := time.Now()
		f, err := os.Open(csvPath)
		if err != nil {
			b.Fatal(err)
		}
		r := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
		r.ReuseRecord = true
		rows := 0
		for {
			_, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows++
		}
		f.Close()
		raw := time.Since(rawStart)
		if rows != count+1 {
			b.Fatalf("raw read %d records, want %d", rows, count+1)
		}

		j := benchJournal(b)
		// Give back to the OS what earlier benchmarks of this process
		// left mapped (make bench runs them all in one binary), so the
		// resident peak is this plan's, as for a `numsync plan` process.
		debug.FreeOSMemory()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		rssReset := resetPeakRSS()
		peak := startMemPeak()

		b.StartTimer()
		start := time.Now()
		d := readDesired(b, cfg, csvPath)
		readDone := time.Now()
		vs := benchVendors(b, cfg)
		req := planRequest(b, cfg, d, vs, j)
		// app.MakePlan in its two steps, timed apart (it is timed whole
		// below, on a second pass).
		cpu0, lab0 := cpuTime(), procCPU(labPID)
		inv, err := plan.Gather(ctx, plan.Sources{OneUC: vs.OneUC, FirstOrion: vs.FirstOrion, Desired: d, Cache: j, History: j})
		if err != nil {
			b.Fatal(err)
		}
		gatherDone := time.Now()
		gatherCPU, labCPU := cpuTime()-cpu0, procCPU(labPID)-lab0
		gatherHeapPeak := peak.heap.Load()
		if err := app.ListingError(inv); err != nil {
			b.Fatal(err)
		}
		p, err := plan.Diff(d, inv, plan.Options{Prune: req.Prune, MaxDelete: req.MaxDelete, DefaultCallPurpose: req.DefaultCallPurpose})
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Render(io.Discard, plan.FormatJSON); err != nil {
			b.Fatal(err)
		}
		end := time.Now()
		b.StopTimer()
		heapPeak, totalPeak := peak.Stop()
		rss := peakRSS()
		// What the finished plan keeps alive (the CSV rows, both
		// inventories, the plan), apart from garbage not yet collected.
		runtime.GC()
		var live runtime.MemStats
		runtime.ReadMemStats(&live)
		if path := os.Getenv("NUMSYNC_BENCH_PLAN_HEAPPROFILE"); path != "" {
			// What holds the live heap after the plan, for pprof.
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			if err := pprof.WriteHeapProfile(f); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
		runtime.KeepAlive(p)
		runtime.KeepAlive(inv)
		runtime.KeepAlive(d)
		if want := count / 100; len(p.Ops) != want {
			b.Fatalf("plan has %d operations, want %d moves", len(p.Ops), want)
		}
		nOps := len(p.Ops)
		p, inv, d = nil, nil, nil //nolint:ineffassign // let the GC free the first pass before the second is measured

		// app.MakePlan whole, as `numsync plan` calls it.
		d2 := readDesired(b, cfg, csvPath)
		vs2 := benchVendors(b, cfg)
		mpStart := time.Now()
		p2, _, err := app.MakePlan(ctx, planRequest(b, cfg, d2, vs2, j))
		mp := time.Since(mpStart)
		if err != nil {
			b.Fatal(err)
		}
		if len(p2.Ops) != nOps {
			b.Fatalf("second plan has %d operations, first %d", len(p2.Ops), nOps)
		}

		b.ReportMetric(end.Sub(start).Seconds(), "wall-s")
		b.ReportMetric(raw.Seconds(), "raw-read-s")
		b.ReportMetric(readDone.Sub(start).Seconds(), "csv-read-s")
		b.ReportMetric(gatherDone.Sub(readDone).Seconds(), "gather-s")
		b.ReportMetric(gatherCPU.Seconds(), "gather-cpu-s")
		if labCPU > 0 {
			// Issue #12: numsync's CPU for the listing pages against the
			// labs' CPU for serving them.
			b.ReportMetric(labCPU.Seconds(), "lab-cpu-s")
			b.ReportMetric(gatherCPU.Seconds()/labCPU.Seconds(), "gather-cpu-x-lab")
		}
		b.ReportMetric(end.Sub(gatherDone).Seconds(), "diff+render-s")
		b.ReportMetric(mp.Seconds(), "makeplan-s")
		b.ReportMetric(float64(heapPeak)/mib, "peak-heap-MiB")
		b.ReportMetric(float64(gatherHeapPeak)/mib, "peak-heap-to-gather-end-MiB")
		b.ReportMetric(float64(totalPeak)/mib, "peak-go-MiB")
		if rssReset && rss > 0 {
			b.ReportMetric(float64(rss)/mib, "peak-rss-MiB")
		}
		b.ReportMetric(float64(before.HeapAlloc)/mib, "heap-before-MiB")
		b.ReportMetric(float64(live.HeapAlloc)/mib, "live-heap-after-plan-MiB")
		b.ReportMetric(float64(st.Size())/mib, "csv-MiB")
		b.ReportMetric(float64(nOps), "plan-ops")
	}
}
