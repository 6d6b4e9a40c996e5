package main

import (
	"fmt"
	"math"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/numsync/numsync/internal/exec"
)

// logEvery is how often a run without a terminal (cron) logs its progress.
const logEvery = 10 * time.Second

// progress shows an apply's progress: a bar on a terminal, otherwise a log
// line every logEvery with done, failed, remaining and the rate.
type progress struct {
	e   *env
	bar *progressbar.ProgressBar

	mu       sync.Mutex
	last     exec.VendorProgress
	started  time.Time
	lastLog  time.Time
	finished bool
}

func newProgress(e *env) *progress {
	p := &progress{e: e, started: time.Now(), lastLog: time.Now()}
	if f, ok := e.rawStderr.(*os.File); ok && !e.global.noProgress && e.global.logFormat != "json" && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(-1,
			progressbar.OptionSetWriter(f),
			progressbar.OptionSetDescription("applying"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("ops"),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

// update is the executor's OnProgress: called from its loop, so it only
// records and draws, never blocks.
func (p *progress) update(pr exec.Progress) {
	t := pr.Totals()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.last = t
	if p.bar != nil {
		if p.bar.GetMax() != t.Total {
			p.bar.ChangeMax(t.Total)
		}
		_ = p.bar.Set(t.Done + t.Failed + t.Skipped)
		p.bar.Describe(fmt.Sprintf("applying (%d failed)", t.Failed))
		return
	}
	if time.Since(p.lastLog) >= logEvery {
		p.lastLog = time.Now()
		p.logLocked()
	}
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

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.finished = true
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
