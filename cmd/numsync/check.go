package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/vendors/vendorhttp"
)

var checkSpec = cmdSpec{
	name:     "check",
	synopsis: "check that each vendor answers and the credentials work (read-only)",
	usage:    "numsync check",
	about: `Checks, for each vendor the config enables, that its URL answers, that the
credentials log in, that the account (OneUC) or business (First Orion) is
reachable, and that the first page of the numbers listing reads. Prints one
line per vendor, ok or the step that failed and why; exits 0 when every
vendor passes, 1 otherwise. It only reads: nothing is changed at a vendor,
nothing is journaled, and no credential or token is printed.`,
	examples: `  numsync check
  numsync --config /etc/numsync.yaml check && numsync apply numbers.csv
`,
}

// cmdCheck is `numsync check`.
func cmdCheck(e *env) *cobra.Command {
	return e.command(checkSpec, nil, func(ctx context.Context, _ []string) error {
		return runCheck(ctx, e)
	})
}

// checkTimeout bounds each vendor's check; the clients' own retries of an
// unreachable host end well within it.
const checkTimeout = time.Minute

// errFirstPage stops the listing once the first page has been read.
var errFirstPage = errors.New("first page read")

// seenRequest is one HTTP request the check saw go to a vendor.
type seenRequest struct {
	auth   bool
	status int
}

// vendorCheck is one vendor's result.
type vendorCheck struct {
	vendor plan.VendorName
	url    string
	passed []string // the steps that passed, in order
	failed string   // the step that failed, "" if none
	err    error
	// reachFailed: the log-in worked, the account or business did not.
	reachFailed bool
}

// runCheck is `numsync check`.
func runCheck(ctx context.Context, e *env) error {
	cfg, err := e.needConfig()
	if err != nil {
		return err
	}
	var mu sync.Mutex
	seen := map[string][]seenRequest{}
	e.onRequest = func(vendor string, req *http.Request, status int, _ error) {
		mu.Lock()
		defer mu.Unlock()
		seen[vendor] = append(seen[vendor], seenRequest{auth: strings.Contains(req.URL.Path, "auth"), status: status})
	}
	hc := e.httpClient(cfg)
	vs, err := newVendors(cfg, e.logger(), hc)
	if err != nil {
		return err
	}
	type target struct {
		name           plan.VendorName
		url, what, key string
	}
	var targets []target
	if cfg.OneUC != nil {
		targets = append(targets, target{plan.OneUC, cfg.OneUC.URL, "account " + cfg.OneUC.AccountID, "oneuc.account_id"})
	}
	if cfg.FirstOrion != nil {
		targets = append(targets, target{plan.FirstOrion, cfg.FirstOrion.URL, "business " + cfg.FirstOrion.BusinessID, "firstorion.business_id"})
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	var failed []string
	for _, t := range targets {
		mu.Lock()
		delete(seen, string(t.name))
		mu.Unlock()
		vctx, cancel := context.WithTimeout(ctx, checkTimeout)
		r := checkVendor(vctx, hc, vs.Get(t.name), t.name, t.url, t.what, func() []seenRequest {
			mu.Lock()
			defer mu.Unlock()
			return append([]seenRequest(nil), seen[string(t.name)]...)
		})
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if r.failed == "" {
			fmt.Fprintf(tw, "%s\tok\t%s: %s\n", t.name, t.url, strings.Join(r.passed, ", "))
			continue
		}
		failed = append(failed, string(t.name))
		line := fmt.Sprintf("%s\tFAILED\t%s: ", t.name, t.url)
		if len(r.passed) > 0 {
			line += strings.Join(r.passed, ", ") + "; "
		}
		line += r.failed + ": " + strings.TrimPrefix(tidyError(r.err.Error()), string(t.name)+": ")
		hint := e.nextStep(r.err)
		if r.reachFailed {
			hint = fmt.Sprintf("check %s in %s", t.key, e.cfg.Path)
		}
		if hint != "" {
			line += " (" + strings.TrimSuffix(hint, ".") + ")"
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(targets) == 0 {
		return errors.New("the config enables no vendor")
	}
	if len(failed) > 0 {
		return quietly(ExitError, fmt.Errorf("%s failed the check", strings.Join(failed, ", ")))
	}
	return nil
}

// checkVendor runs one vendor's steps: the URL answers (a plain GET, any
// HTTP status will do), then a listing stopped after its first page,
// whose requests (watched through the transport) tell the log-in from
// the account. First Orion's business units are read first: the
// business's own resource.
func checkVendor(ctx context.Context, hc *http.Client, v plan.Vendor, name plan.VendorName, base, what string, requests func() []seenRequest) vendorCheck {
	r := vendorCheck{vendor: name, url: base}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base, nil)
	if err == nil {
		var resp *http.Response
		if resp, err = hc.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	if err != nil {
		r.failed, r.err = "the URL does not answer", vendorhttp.TransportError(name, err, vendorhttp.SentBeforeFailure(err))
		return r
	}
	r.passed = append(r.passed, "answers")
	skip := len(requests())

	if h, ok := v.(plan.Hierarchy); ok {
		if _, err := h.BusinessUnits(ctx); err != nil {
			return classify(r, requests()[skip:], what, err)
		}
	}
	count := 0
	err = v.List(ctx, func(plan.State) error {
		count++
		return errFirstPage
	})
	if err != nil && !errors.Is(err, errFirstPage) {
		return classify(r, requests()[skip:], what, err)
	}
	r.passed = append(r.passed, "credentials log in", what+" reachable", "first listing page read")
	if count == 0 {
		r.passed[len(r.passed)-1] += " (no numbers)"
	}
	return r
}

// classify names the step a failed check stopped at, from the requests it
// made: no log-in accepted means the credentials; no other request
// answered with success means the account or business; else the listing.
func classify(r vendorCheck, seen []seenRequest, what string, err error) vendorCheck {
	loggedIn, reached := false, false
	for _, s := range seen {
		ok := s.status >= 200 && s.status < 300
		if s.auth {
			loggedIn = loggedIn || ok
		} else {
			reached = reached || ok
		}
	}
	r.err = err
	switch {
	case !loggedIn:
		r.failed = "the credentials do not log in"
	case !reached:
		r.passed = append(r.passed, "credentials log in")
		r.failed = what + " is not reachable"
		r.reachFailed = true
	default:
		r.passed = append(r.passed, "credentials log in", what+" reachable")
		r.failed = "the listing does not read"
	}
	return r
}
