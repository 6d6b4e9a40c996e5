package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	flag "github.com/spf13/pflag"

	"github.com/numsync/numsync/internal/config"
	"github.com/numsync/numsync/internal/english"
	"github.com/numsync/numsync/internal/journal"
)

var journalSpec = cmdSpec{
	name:     "journal",
	synopsis: "prune the journal, or copy it into PostgreSQL",
	usage:    "numsync journal prune [--keep-runs N] [--older-than D] | migrate --to URL",
	about: `Looks after the journal itself. 'prune' removes old finished runs (as
journal_retention does after every apply); 'migrate' copies the journal,
runs, operations, history and detail cache, into another one, typically
PostgreSQL, so an install that moves keeps its history.`,
	examples: `  numsync journal prune --keep-runs 50
  numsync journal migrate --to 'postgres://numsync@db.example/numsync?sslmode=require'
`,
}

// cmdJournal is `numsync journal`, the parent of prune and migrate.
func cmdJournal(e *env) *cobra.Command {
	c := e.command(journalSpec, nil, func(_ context.Context, _ []string) error {
		return &usageError{errors.New("journal needs a command: prune or migrate")}
	})
	c.AddCommand(cmdJournalPrune(e), cmdJournalMigrate(e))
	return c
}

var journalPruneSpec = cmdSpec{
	name:     "prune",
	synopsis: "remove old finished runs from the journal",
	usage:    "numsync journal prune [--keep-runs N] [--older-than D]",
	about: `Removes finished runs, with their operations, that are past the newest N
runs or that started more than D ago (either limit removes a run; 0 turns a
limit off). A limit not given comes from journal_retention in the config
(default: keep 200 runs, none older than 90d). A run that is unfinished or
interrupted is never removed, whatever its age. A SQLite journal gives the
space back to the file system. Takes the journal's lock (exit 5 while an
apply holds it).`,
	examples: `  numsync journal prune
  numsync journal prune --keep-runs 30 --older-than 0
  numsync journal prune --older-than 2w --journal /var/lib/numsync/numsync.db
`,
}

type journalPruneFlags struct {
	keepRuns  int
	olderThan string
	fs        *flag.FlagSet
}

func (f *journalPruneFlags) define(fs *flag.FlagSet) {
	f.fs = fs
	fs.IntVar(&f.keepRuns, "keep-runs", config.DefaultKeepRuns, "keep the newest `N` runs (0: no limit)")
	fs.StringVar(&f.olderThan, "older-than", config.DefaultOlderThan.String(), "remove runs started more than `D` ago: 90d, 2w, 36h (0: no limit)")
}

func cmdJournalPrune(e *env) *cobra.Command {
	var f journalPruneFlags
	return e.command(journalPruneSpec, f.define, func(ctx context.Context, _ []string) error {
		return runJournalPrune(ctx, e, f)
	})
}

// runJournalPrune is `numsync journal prune` once its flags are parsed.
func runJournalPrune(ctx context.Context, e *env, f journalPruneFlags) error {
	cfg, _, err := e.loadConfigWith(config.LoadWithoutSecrets)
	if err != nil {
		return err
	}
	ret := cfg.JournalRetention
	if f.fs.Changed("keep-runs") {
		if f.keepRuns < 0 {
			return &usageError{fmt.Errorf("--keep-runs must be 0 (no limit) or more, got %d", f.keepRuns)}
		}
		ret.KeepRuns = f.keepRuns
	}
	if f.fs.Changed("older-than") {
		if ret.OlderThan, err = config.ParseAge(f.olderThan); err != nil {
			return &usageError{fmt.Errorf("--older-than: %w", err)}
		}
	}
	j, err := openStore(ctx, cfg.Journal, false)
	if err != nil {
		return err
	}
	defer j.Close()
	release, err := e.lockFor(ctx, j, "journal prune")
	if err != nil {
		return err
	}
	defer release()
	res, err := prune(ctx, j, ret)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, describePrune(res, ret))
	return nil
}

// prune applies a retention to j.
func prune(ctx context.Context, j journal.Store, ret config.Retention) (journal.PruneResult, error) {
	p, ok := j.(journal.Pruner)
	if !ok {
		return journal.PruneResult{}, errors.New("journal: this journal cannot be pruned")
	}
	return p.Prune(ctx, journal.PruneRequest{KeepRuns: ret.KeepRuns, OlderThan: time.Duration(ret.OlderThan)})
}

func describePrune(res journal.PruneResult, ret config.Retention) string {
	var limits []string
	if ret.KeepRuns > 0 {
		limits = append(limits, "keeping the newest "+english.Count(ret.KeepRuns, "run"))
	}
	if ret.OlderThan > 0 {
		limits = append(limits, fmt.Sprintf("none started more than %s ago", ret.OlderThan))
	}
	if len(limits) == 0 {
		limits = append(limits, "no limit set")
	}
	if len(res.Runs) == 0 {
		return fmt.Sprintf("Nothing to prune (%s; unfinished runs are never pruned).", strings.Join(limits, ", "))
	}
	ids := make([]string, 0, len(res.Runs))
	for i, id := range res.Runs {
		if i == 10 {
			ids = append(ids, "…")
			break
		}
		ids = append(ids, fmt.Sprint(id))
	}
	msg := fmt.Sprintf("Pruned %s (%s) with %s (%s)", english.Count(len(res.Runs), "run"), strings.Join(ids, ", "), english.Count(res.Ops, "operation"), strings.Join(limits, ", "))
	if res.Reclaimed > 0 {
		msg += fmt.Sprintf("; %.1f MB given back", float64(res.Reclaimed)/1e6)
	}
	return msg + "."
}

// pruneAfterApply applies the config's journal_retention once an apply is
// over, under the journal's lock (taken again: the apply released it). A
// lock another apply took meanwhile, or a failure, only skips it: the run
// itself is journaled, and the next apply prunes.
func (e *env) pruneAfterApply(ctx context.Context, j journal.Store, cfg *config.Config) {
	ret := cfg.JournalRetention
	if ctx.Err() != nil || (ret.KeepRuns == 0 && ret.OlderThan == 0) {
		return
	}
	release, err := e.lockFor(ctx, j, "journal prune (journal_retention)")
	if err != nil {
		e.logger().Debug("journal_retention skipped: the journal is locked", "err", err)
		return
	}
	defer release()
	res, err := prune(ctx, j, ret)
	if err != nil {
		e.logger().Warn("could not prune the journal (journal_retention); the next apply tries again", "err", err)
		return
	}
	if len(res.Runs) > 0 {
		e.logger().Info("pruned the journal (journal_retention)", "runs", len(res.Runs), "operations", res.Ops,
			"reclaimed_bytes", res.Reclaimed)
	}
}

var journalMigrateSpec = cmdSpec{
	name:     "migrate",
	synopsis: "copy the journal into another one (PostgreSQL)",
	usage:    "numsync journal migrate --to URL",
	about: `Copies the journal (journal: in the config, or --journal) into the journal
URL names, which must hold no run yet: every run with its plan and
operations, under the same run numbers, the per-vendor history and the
detail cache. An unfinished run resumes from the copy. Both journals are
locked meanwhile (exit 5 while an apply holds either). The source is left as
it was; point journal: at the new one afterwards.`,
	examples: `  numsync journal migrate --to 'postgres://numsync@db.example/numsync?sslmode=require'
  PGPASSWORD=... numsync journal migrate --journal /var/lib/numsync/numsync.db --to postgres://numsync@db/numsync
`,
}

type journalMigrateFlags struct {
	to string
}

func (f *journalMigrateFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.to, "to", "", "the journal to copy into: a postgres:// `URL` (or a new SQLite file)")
}

func cmdJournalMigrate(e *env) *cobra.Command {
	var f journalMigrateFlags
	return e.command(journalMigrateSpec, f.define, func(ctx context.Context, _ []string) error {
		return runJournalMigrate(ctx, e, f)
	})
}

// runJournalMigrate is `numsync journal migrate` once its flags are parsed.
func runJournalMigrate(ctx context.Context, e *env, f journalMigrateFlags) error {
	if strings.TrimSpace(f.to) == "" {
		return &usageError{errors.New("journal migrate needs --to URL (e.g. postgres://numsync@db/numsync)")}
	}
	cfg, _, err := e.loadConfigWith(config.LoadWithoutSecrets)
	if err != nil {
		return err
	}
	if f.to == cfg.Journal {
		return &usageError{fmt.Errorf("--to names the journal itself (%s)", journalName(f.to))}
	}
	from, err := openStore(ctx, cfg.Journal, false)
	if err != nil {
		return err
	}
	defer from.Close()
	to, err := openStore(ctx, f.to, true)
	if err != nil {
		return err
	}
	defer to.Close()
	releaseFrom, err := e.lockFor(ctx, from, "journal migrate")
	if err != nil {
		return err
	}
	defer releaseFrom()
	releaseTo, err := e.lockFor(ctx, to, "journal migrate")
	if err != nil {
		return err
	}
	defer releaseTo()
	start := time.Now()
	res, err := journal.Copy(ctx, from, to, func(done, total int) {
		if done%50 == 0 || done == total {
			e.logger().Info("copying runs", "done", done, "total", total)
		}
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Copied %s (%s), the history of %s and %s from %s to %s in %s.\n",
		english.Count(res.Runs, "run"), english.Count(res.Ops, "operation"), english.Count(len(res.History), "vendor"), english.Count(res.Details, "cached detail"), journalName(cfg.Journal), journalName(f.to), time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(e.stdout, "Point journal: (or NUMSYNC_JOURNAL) at %s; %s is left as it was.\n", journalName(f.to), journalName(cfg.Journal))
	return nil
}

// lockFor takes j's apply lock for a journal command: exit 5 naming the
// holder when an apply has it. The returned func releases it.
func (e *env) lockFor(ctx context.Context, j journal.Store, command string) (func(), error) {
	host, _ := os.Hostname()
	lock, err := j.Lock(ctx, journal.LockInfo{Host: host, PID: os.Getpid(), Command: command})
	var locked *journal.LockedError
	if errors.As(err, &locked) {
		return nil, withCode(ExitLocked, err)
	}
	if err != nil {
		return nil, err
	}
	return func() {
		if err := lock.Release(context.WithoutCancel(ctx)); err != nil {
			e.logger().Warn("could not release the journal's lock; it is taken over once it goes stale", "err", err)
		}
	}, nil
}
