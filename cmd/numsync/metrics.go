package main

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/numsync/numsync/internal/app"
	"github.com/numsync/numsync/internal/config"
	"github.com/numsync/numsync/internal/metrics"
	"github.com/numsync/numsync/internal/plan"
)

// metricsCommands are the commands --metrics-file reports on: the ones a
// cron host runs. The others (validate, runs, show, …) ignore it.
var metricsCommands = map[string]bool{"plan": true, "apply": true}

// startMetrics begins the run's metrics when --metrics-file asks for them
// and the command reports.
func (e *env) startMetrics(cmd *cobra.Command) {
	if e.global.metricsFile != "" && metricsCommands[cmd.Name()] && cmd.Parent() != nil && !cmd.Parent().HasParent() {
		e.metrics = metrics.New(cmd.Name(), time.Now)
	}
}

// observePlan records the plan a command made or read.
func (e *env) observePlan(p *plan.Plan) {
	if e.metrics != nil && p != nil {
		e.metrics.Plan(p)
	}
}

// observeApply records what apply did.
func (e *env) observeApply(res *app.ApplyResult) {
	if e.metrics == nil || res == nil {
		return
	}
	e.observePlan(res.Plan)
	if res.Exec != nil {
		s := res.Exec.Summary
		e.metrics.Apply(res.RunID, &s)
	} else {
		e.metrics.Apply(res.RunID, nil)
	}
	// The lifecycle's own outcome is finer than the exit code (nothing to
	// do and already applied both exit 0; unresolved exits 3).
	if o := metrics.Outcome(res.Outcome.String()); res.Outcome.Valid() && slices.Contains(metrics.Outcomes, o) {
		e.metricsOutcome = o
	}
}

// writeMetrics writes the metrics file once the command has ended with
// code: one writer, one place, whatever path the run took.
func (e *env) writeMetrics(command string, code int) {
	if e.metrics == nil {
		return
	}
	outcome := outcomeOf(command, code)
	if e.metricsOutcome != "" {
		outcome = e.metricsOutcome
	}
	if err := e.metrics.Write(e.global.metricsFile, outcome, code); err != nil {
		e.logger().Error("could not write the metrics file", "file", e.global.metricsFile, "err", err)
	}
}

// outcomeOf reads a run's outcome from its exit code (SPEC section 3).
func outcomeOf(command string, code int) metrics.Outcome {
	switch code {
	case ExitOK:
		if command == "plan" {
			return metrics.Planned
		}
		return metrics.Done
	case ExitChanges:
		return metrics.Planned
	case ExitFailed:
		return metrics.Failed
	case ExitRefused:
		return metrics.Refused
	case ExitLocked:
		return metrics.Locked
	case ExitStale:
		return metrics.Stale
	case ExitDuration, ExitSIGINT, ExitSIGTERM:
		return metrics.Interrupted
	}
	return metrics.Error
}

// httpClient is the HTTP client both vendor clients share: a transport
// tuned for many requests to one host, with every request attributed to
// its vendor by URL and counted for the metrics and the progress display.
func (e *env) httpClient(cfg *config.Config) *http.Client {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 32
	t := &vendorTransport{base: base, e: e}
	if cfg.OneUC != nil {
		t.add(string(plan.OneUC), cfg.OneUC.URL)
	}
	if cfg.FirstOrion != nil {
		t.add(string(plan.FirstOrion), cfg.FirstOrion.URL)
	}
	return &http.Client{Transport: t}
}

// vendorTransport counts each request against the vendor whose base URL
// it starts with (the longest, when one vendor's URL extends another's,
// as the labs' do on one host).
type vendorTransport struct {
	base    http.RoundTripper
	e       *env
	vendors []vendorURL
}

type vendorURL struct{ name, prefix string }

func (t *vendorTransport) add(name, url string) {
	t.vendors = append(t.vendors, vendorURL{name: name, prefix: strings.TrimRight(url, "/")})
	if t.e.metrics != nil {
		t.e.metrics.AddVendor(name)
	}
}

func (t *vendorTransport) vendorOf(req *http.Request) string {
	u := req.URL.String()
	best := vendorURL{}
	for _, v := range t.vendors {
		if strings.HasPrefix(u, v.prefix) && len(v.prefix) > len(best.prefix) {
			best = v
		}
	}
	return best.name
}

// RoundTrip sends the request and counts it.
func (t *vendorTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	vendor := t.vendorOf(req)
	resp, err := t.base.RoundTrip(req)
	if vendor == "" {
		return resp, err
	}
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	if t.e.metrics != nil {
		t.e.metrics.ObserveRequest(vendor, status, err)
	}
	if t.e.onRequest != nil {
		t.e.onRequest(vendor, req, status, err)
	}
	return resp, err
}
