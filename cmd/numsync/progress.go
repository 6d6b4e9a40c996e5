package main

import (
	"fmt"
	"math"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/numsync/numsync/internal/english"
	"github.com/numsync/numsync/internal/exec"
)

// logEvery is how often a run without a terminal (cron) logs its progress.
const logEvery = 10 * time.Second

// progress shows a plan's or an apply's progress: a bar on a terminal,
// otherwise a log line every logEvery. It starts reading inventories
// (pages read per vendor, counted by the shared HTTP transport) and, for
// an apply, goes on to applying (done, failed, remaining and the rate)
// at the executor's first report.
type progress struct {
	e   *env
	bar *progressbar.ProgressBar

	mu       sync.Mutex
	reading  bool
	pages    map[string]int
	details  map[string]int
	last     exec.VendorProgress
	started  time.Time
	finished bool
	stop     chan struct{}
	stopped  chan struct{}
}

func newProgress(e *env) *progress {
	p := &progress{e: e, started: time.Now(), reading: true, pages: map[string]int{}, details: map[string]int{},
		stop: make(chan struct{}), stopped: make(chan struct{})}
	if f, ok := e.rawStderr.(*os.File); ok && !e.global.noProgress && e.global.logFormat != "json" && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(-1,
			progressbar.OptionSetWriter(f),
			progressbar.OptionSetDescription("reading inventories"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("requests"),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	e.onRequest = p.request
	every := e.progressEvery
	if every <= 0 {
		every = logEvery
	}
	go p.logLoop(every)
	return p
}

// request is the transport's report of one vendor request: while reading
// inventories, a GET is either a listing page (numbers, business units)
// or one number's details (OneUC's detail reads, which can outnumber the
// pages a hundred to one and are counted apart so "pages" means pages).
func (p *progress) request(vendor string, req *http.Request, _ int, _ error) {
	if req.Method != http.MethodGet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.reading || p.finished {
		return
	}
	if isDetailRead(req) {
		p.details[vendor]++
	} else {
		p.pages[vendor]++
	}
	if p.bar != nil {
		_ = p.bar.Add(1)
		p.bar.Describe("reading inventories: " + p.pagesLocked())
	}
}

// isDetailRead tells one number's GET (…/phone_numbers/+12125550100)
// from a listing page (…/phone_numbers?page=2): its last path segment is
// a phone number.
func isDetailRead(req *http.Request) bool {
	path := strings.TrimSuffix(req.URL.Path, "/")
	last := path[strings.LastIndexByte(path, '/')+1:]
	return last != "" && (last[0] == '+' || last[0] >= '0' && last[0] <= '9')
}

// vendorsLocked is the vendors with a request counted, in name order.
func (p *progress) vendorsLocked() []string {
	names := make([]string, 0, len(p.pages)+len(p.details))
	for v := range p.pages {
		names = append(names, v)
	}
	for v := range p.details {
		if _, ok := p.pages[v]; !ok {
			names = append(names, v)
		}
	}
	sort.Strings(names)
	return names
}

// pagesLocked is "firstorion 3 pages, oneuc 12 pages and 180 details".
func (p *progress) pagesLocked() string {
	names := p.vendorsLocked()
	parts := make([]string, len(names))
	for i, v := range names {
		parts[i] = fmt.Sprintf("%s %s", v, english.Count(p.pages[v], "page"))
		if n := p.details[v]; n > 0 {
			parts[i] += " and " + english.Count(n, "detail")
		}
	}
	return strings.Join(parts, ", ")
}

// update is the executor's OnProgress: called from its loop, so it only
// records and draws, never blocks. The first one ends the reading.
func (p *progress) update(pr exec.Progress) {
	t := pr.Totals()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	if p.reading {
		p.reading = false
		p.started = time.Now()
		if p.bar != nil {
			p.bar.Reset()
			p.bar.ChangeMax(t.Total)
		}
	}
	p.last = t
	if p.bar != nil {
		if p.bar.GetMax() != t.Total {
			p.bar.ChangeMax(t.Total)
		}
		_ = p.bar.Set(t.Done + t.Failed + t.Skipped)
		p.bar.Describe(fmt.Sprintf("applying (%d failed)", t.Failed))
	}
}

// isReading reports whether the inventories are still being read (no
// operation sent yet).
func (p *progress) isReading() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reading && !p.finished
}

// logLoop logs the progress every interval when there is no bar (cron).
func (p *progress) logLoop(every time.Duration) {
	defer close(p.stopped)
	if p.bar != nil {
		<-p.stop
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			if p.reading {
				p.logReadingLocked()
			} else {
				p.logLocked()
			}
			p.mu.Unlock()
		}
	}
}

// logReadingLocked logs the listing pages and number details read so
// far, per vendor, as numbers (VENDOR_pages, VENDOR_details).
func (p *progress) logReadingLocked() {
	attrs := []any{"seconds", math.Round(time.Since(p.started).Seconds())}
	for _, v := range p.vendorsLocked() {
		attrs = append(attrs, v+"_pages", p.pages[v], v+"_details", p.details[v])
	}
	p.e.logger().Info("reading inventories", attrs...)
}

func (p *progress) logLocked() {
	t := p.last
	secs := time.Since(p.started).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(t.Done+t.Failed+t.Skipped) / secs
	}
	p.e.logger().Info("progress", "done", t.Done, "failed", t.Failed+t.Skipped, "remaining", t.Remaining,
		"total", t.Total, "ops_per_second", math.Round(rate*10)/10)
}

// finish ends the display and its log loop.
func (p *progress) finish() {
	p.mu.Lock()
	if p.finished {
		p.mu.Unlock()
		return
	}
	p.finished = true
	if p.bar != nil {
		_ = p.bar.Finish()
	}
	p.mu.Unlock()
	close(p.stop)
	<-p.stopped
}
