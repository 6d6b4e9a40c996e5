package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/numsync/numsync/internal/english"
	"github.com/numsync/numsync/internal/labserver"
	"github.com/numsync/numsync/samples"
)

var demoSpec = cmdSpec{
	name:     "demo",
	synopsis: "run plan and apply against in-process vendor labs",
	usage:    "numsync demo [--journal FILE]",
	about: `Starts both vendor labs in process on a free loopback port, seeded from
samples/, then runs plan and apply on samples/desired.csv and a second plan
that shows no changes but for the samples' deliberate permanent failures
(a number the carrier cannot supply, one it faults on, an address that does
not geocode, an ambiguous one, a number another business brands). Needs no
config, credentials or network. The journal lives in a temporary directory
and goes with the demo, unless --journal FILE names where to keep it.`,
	examples: `  numsync demo
  numsync demo --journal demo.db && numsync --journal demo.db runs
  make demo
`,
}

// Demo lab settings: slow enough for the progress bar to be seen for a few
// seconds, fast enough to finish well within a minute. Variables only so
// the tests can run the same demo without the deliberate slowness.
var (
	demoLabRPS    float64 = 25
	demoClientRPS float64 = 20
	demoLatency           = 15 * time.Millisecond
)

// cmdDemo is `numsync demo`.
func cmdDemo(e *env) *cobra.Command {
	return e.command(demoSpec, nil, func(ctx context.Context, _ []string) error {
		return runDemo(ctx, e)
	})
}

// runDemo is `numsync demo`.
func runDemo(ctx context.Context, e *env) error {
	dir, err := os.MkdirTemp("", "numsync-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	srv := labserver.New(labserver.Options{RPS: demoLabRPS, Latency: demoLatency, Seed: 1, StatusDelay: 2 * time.Second})
	if err := srv.SeedFS(samples.FS); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: listen on loopback: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	base := "http://" + ln.Addr().String()

	csvPath := filepath.Join(dir, "desired.csv")
	b, err := samples.FS.ReadFile("desired.csv")
	if err != nil {
		return err
	}
	if err := os.WriteFile(csvPath, b, 0o600); err != nil {
		return err
	}
	cfg := labserver.Config(base, demoClientRPS)
	cfg.Journal = filepath.Join(dir, "numsync.db")
	where := "a temporary directory, deleted at the end (--journal FILE keeps it)"
	if e.global.journal != "" {
		// --journal keeps the journal, so that the runs can be looked at
		// afterwards with the command the demo ends by naming.
		cfg.Journal, where = e.global.journal, e.global.journal
	}
	e.cfgOverride = cfg

	fmt.Fprintf(e.stdout, "numsync demo: OneUC and First Orion labs on %s, journal in %s\n", base, where)
	fmt.Fprintf(e.stdout, "\n=== 1. numsync plan --desired samples/desired.csv\n\n")
	if _, err := runPlan(ctx, e, cfg, planFlags{desired: csvPath, format: "text"}); err != nil {
		return fmt.Errorf("demo: plan: %w", err)
	}
	fmt.Fprintf(e.stdout, "\n=== 2. numsync apply --desired samples/desired.csv\n")
	res, err := runApply(ctx, e, cfg, applyFlags{desired: csvPath}, "")
	var ee *exitError
	failed := 0
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.code == ExitFailed && res != nil && res.Exec != nil:
		// The samples' deliberate permanent failures: expected.
		failed = len(res.Exec.Failed)
		fmt.Fprintf(e.stdout, "\napply exited %d: %s failed for good (run %d), as the samples mean them to\n", ExitFailed, english.Count(failed, "operation"), res.RunID)
	default:
		return fmt.Errorf("demo: apply: %w", err)
	}
	fmt.Fprintf(e.stdout, "\n=== 3. numsync plan again: only the permanent failures remain\n\n")
	if _, err := runPlan(ctx, e, cfg, planFlags{desired: csvPath, format: "text"}); err != nil {
		return fmt.Errorf("demo: second plan: %w", err)
	}
	fmt.Fprintf(e.stdout, "\nThe demo is done. Run %d applied the plan; every other number is in step.\n", res.RunID)
	if failed > 0 {
		if e.global.journal != "" {
			fmt.Fprintf(e.stdout, "'%s' writes the failed operations with their CSV rows; 'numsync --journal %s runs' lists the run.\n",
				e.showFailedCommand(res.RunID), shellQuote(e.global.journal))
		} else {
			fmt.Fprintf(e.stdout, "Its journal is gone with the demo: 'numsync demo --journal demo.db' keeps it, then 'numsync --journal demo.db show %d --failed --format csv' writes the failed operations with their CSV rows.\n", res.RunID)
		}
	}
	fmt.Fprintln(e.stdout, "Against your own labs: 'numsync lab' in one terminal, then plan/apply with the config it prints.")
	return nil
}
