package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/numsync/numsync/internal/config"
	"github.com/numsync/numsync/internal/desired"
	"github.com/numsync/numsync/internal/english"
	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/plan"
)

// maxListed bounds how many failed numbers or errors a command lists one
// by one on the terminal; the journal (numsync show) has them all.
const maxListed = 50

// needConfig loads the configuration a command that talks to vendors
// needs: a file must exist and enable at least one vendor.
func (e *env) needConfig() (*config.Config, error) {
	if e.cfgOverride != nil {
		return e.cfgOverride, nil
	}
	cfg, found, err := e.loadConfig()
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errors.New("no configuration: give --config FILE, set $NUMSYNC_CONFIG, or create ./numsync.yaml (see 'numsync lab' for one that points at the labs)")
	}
	if !cfg.OneUCEnabled() && !cfg.FirstOrionEnabled() {
		return nil, fmt.Errorf("%s enables no vendor: add a oneuc or firstorion section", cfg.Path)
	}
	return cfg, nil
}

// readDesired reads and validates the desired-state file (a CSV or a
// workbook). Row errors are printed, every one, as FILE:LINE: column:
// reason (FILE: Sheet!B12 (row 12): column: reason in a workbook), and the
// command exits 1 with nothing sent.
func (e *env) readDesired(cfg *config.Config, path string, allowExtra bool, file fileFlags) (*plan.Desired, error) {
	opts := desired.Options{
		Path:              path,
		DefaultRegion:     cfg.DefaultRegion,
		AllowExtraColumns: allowExtra,
		OneUCEnabled:      cfg.OneUCEnabled(),
		FirstOrionEnabled: cfg.FirstOrionEnabled(),
	}
	if err := file.options(&opts); err != nil {
		return nil, err
	}
	d, warns, err := desired.ReadFile(path, opts)
	var rowErrs desired.Errors
	if errors.As(err, &rowErrs) {
		for _, re := range rowErrs {
			e.rowError(path, re)
		}
		return nil, quietly(ExitError, fmt.Errorf("%s: %s: nothing was sent", path, english.Count(len(rowErrs), "invalid row")))
	}
	if err != nil {
		return nil, err
	}
	for _, w := range warns {
		// The plan names each blank-E911 row itself; the reader's count
		// of them would only say it twice.
		if w.Column == "e911" {
			continue
		}
		e.warn(w.String())
	}
	return d, nil
}

// openJournal opens the configured journal (openStore: a SQLite file,
// created with its directory when missing, or a postgres:// URL).
func (e *env) openJournal(ctx context.Context, cfg *config.Config) (journal.Store, error) {
	return openStore(ctx, cfg.Journal, true)
}

// openExistingJournal opens the configured journal for reading (runs,
// show). Only its path is needed of the config, so no credential is
// required; a journal file that does not exist is an error rather than a
// new empty file.
func (e *env) openExistingJournal(ctx context.Context) (journal.Store, error) {
	cfg, _, err := e.loadConfigWith(config.LoadWithoutSecrets)
	if err != nil {
		return nil, err
	}
	return openStore(ctx, cfg.Journal, false)
}

// planFailure turns the errors a plan can end with into what the user
// sees: unresolved names as FILE:LINE: column: reason (placed at their
// cell when d came from a workbook), exit 1.
func (e *env) planFailure(d *plan.Desired, path string, err error) error {
	var rows plan.RowErrors
	if errors.As(err, &rows) {
		for _, r := range rows {
			re := *r
			if re.Path == "" {
				re.Path = path
			}
			desired.Place(d, &re)
			e.rowError(re.Path, &re)
		}
		return quietly(ExitError, fmt.Errorf("%s name what First Orion does not have: nothing was sent", english.Count(len(rows), "row")))
	}
	return err
}

// printWarnings prints a plan's warnings on standard error.
func (e *env) printWarnings(p *plan.Plan) {
	for _, w := range p.Warnings {
		e.warn(w)
	}
}

// refusalReasons says why the safety verdicts refuse a plan, vendor by
// vendor.
func refusalReasons(p *plan.Plan) string {
	var reasons []string
	names := make([]string, 0, len(p.Vendors))
	for name := range p.Vendors {
		names = append(names, string(name))
	}
	sort.Strings(names)
	for _, name := range names {
		s := p.Vendors[plan.VendorName(name)].Safety
		if !s.OK && !s.Forced {
			reasons = append(reasons, name+": "+s.Reason)
		}
	}
	return strings.Join(reasons, "; ") + " (--force, or a higher --max-delete for this run, overrides)"
}

// refusal is apply's exit 4.
func refusal(p *plan.Plan) error {
	return withCode(ExitRefused, fmt.Errorf("refused by the safety checks, nothing was changed: %s", refusalReasons(p)))
}

// writeFileAtomic writes a file by renaming a complete temporary one into
// place, so a reader (node-exporter, a report consumer) never sees half.
func writeFileAtomic(path string, perm os.FileMode, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// showFailedCommand is the command that writes run's failed operations
// as CSV, with the global flags that found this journal, so that it
// works as printed.
func (e *env) showFailedCommand(run int64) string {
	cmd := "numsync"
	if e.global.config != "" {
		cmd += " --config " + shellQuote(e.global.config)
	}
	if e.global.journal != "" {
		cmd += " --journal " + shellQuote(e.global.journal)
	}
	return fmt.Sprintf("%s show %d --failed --format csv", cmd, run)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@%+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// unseenWarnings returns the warnings not yet printed by this process and
// marks them printed: the demo plans, applies and plans again, and says
// each warning once.
func (e *env) unseenWarnings(ws []string) []string {
	e.warnMu.Lock()
	defer e.warnMu.Unlock()
	if e.warned == nil {
		e.warned = map[string]bool{}
	}
	var out []string
	for _, w := range ws {
		if !e.warned[w] {
			e.warned[w] = true
			out = append(out, w)
		}
	}
	return out
}

// warn prints a warning, once per process: "warning: …", or a WARN record
// in JSON mode.
func (e *env) warn(msg string) {
	if len(e.unseenWarnings([]string{msg})) == 0 {
		return
	}
	if e.global.logFormat == "json" {
		e.logger().Warn(msg)
		return
	}
	fmt.Fprintf(e.stderr, "warning: %s\n", msg)
}

// rowError prints a problem with one row of the desired-state file as
// FILE:LINE: column: reason (in a workbook FILE: Sheet!B12 (row 12): …),
// or in JSON mode as an ERROR record with the file, line, column, sheet
// and cell as attributes.
func (e *env) rowError(path string, re *plan.RowError) {
	if e.global.logFormat == "json" {
		attrs := []any{"file", path, "line", re.Line}
		if re.Column != "" {
			attrs = append(attrs, "column", re.Column)
		}
		// A workbook's place, as a spreadsheet names it (Numbers!B12).
		if re.Sheet != "" {
			attrs = append(attrs, "sheet", re.Sheet)
		}
		if re.Cell != "" {
			attrs = append(attrs, "cell", re.Cell)
		}
		e.logger().Error(re.Reason, attrs...)
		return
	}
	fmt.Fprintln(e.stderr, re.Error())
}

// notice tells the user on standard error something that is neither a
// result nor a problem ("plan saved to …"): a plain line, or with
// --log-format json one log record, so every stderr line parses.
func (e *env) notice(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	if e.global.logFormat == "json" {
		e.logger().Info(msg)
		return
	}
	fmt.Fprintln(e.stderr, msg)
}
