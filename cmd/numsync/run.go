package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/numsync/numsync/internal/config"
	"github.com/numsync/numsync/internal/exec"
)

// command is one subcommand: its name, a one-line synopsis for the listing,
// and the function that parses its flags and runs it.
type command struct {
	name     string
	synopsis string
	run      func(ctx context.Context, e *env, args []string) error
}

// commands lists every subcommand in the order the usage shows them.
var commands = []command{
	{"validate", "check a desired-state CSV (no network, no journal)", cmdValidate},
	{"plan", "diff the CSV against both vendors and print the plan", cmdPlan},
	{"apply", "apply a plan (from a CSV or a saved PLAN.json), resumably", cmdApply},
	{"export", "write the live inventories as a desired-state CSV", cmdExport},
	{"runs", "list journaled runs", cmdRuns},
	{"show", "list one run's operations", cmdShow},
	{"demo", "run plan and apply against in-process vendor labs", cmdDemo},
	{"lab", "serve both vendor labs over HTTP for integration tests", cmdLab},
}

const topUsage = `numsync keeps a company's phone numbers at OneUC and First Orion in step
with one desired-state CSV.

Usage:
  numsync [global flags] <command> [flags] [args]

Commands:
%s
Global flags (accepted before or after the command):
%s
Run 'numsync <command> --help' for a command's flags and examples.

Examples:
  numsync validate --desired numbers.csv
  numsync plan --desired numbers.csv --format markdown > change-request.md
  numsync --config /etc/numsync.yaml apply --desired numbers.csv
`

// globalFlags are the flags every command accepts (SPEC section 3).
type globalFlags struct {
	config      string
	journal     string
	logFormat   string
	logLevel    string
	noProgress  bool
	report      string
	metricsFile string
}

func (g *globalFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&g.config, "config", g.config, "config `FILE` (default: $NUMSYNC_CONFIG, then ./numsync.yaml)")
	fs.StringVar(&g.journal, "journal", g.journal, "journal `FILE`, overriding the config's journal")
	fs.StringVar(&g.logFormat, "log-format", g.logFormat, "log `FORMAT` on standard error: text or json")
	fs.StringVar(&g.logLevel, "log-level", g.logLevel, "log `LEVEL`: debug, info, warn or error")
	fs.BoolVar(&g.noProgress, "no-progress", g.noProgress, "no progress bar, even on a terminal")
	fs.StringVar(&g.report, "report", g.report, "write the run's summary as JSON to `FILE.json`")
	fs.StringVar(&g.metricsFile, "metrics-file", g.metricsFile, "write metrics in the Prometheus text format to `FILE.prom`")
}

// env is what a command runs with: where to write, the global flags, the
// environment and, on demand, the logger and the config.
type env struct {
	stdout, stderr io.Writer
	// getenv reads the process environment (os.Getenv in main; a map in
	// tests). Packages below cmd never read the environment themselves.
	getenv func(string) string
	global globalFlags

	logOnce sync.Once
	log     *slog.Logger

	// cfgOverride, when set, is the configuration to use instead of a file
	// (the demo points numsync at its in-process labs).
	cfgOverride *config.Config
	// args is the command line after the command name, journaled with a
	// run (secret-looking values redacted by the journal).
	args []string
	// execTweak lets tests shorten the executor's backoffs.
	execTweak func(*exec.Config)

	cfgOnce  sync.Once
	cfg      *config.Config
	cfgFound bool
	cfgErr   error
}

// logger returns the slog logger the global flags ask for, writing to
// standard error.
func (e *env) logger() *slog.Logger {
	e.logOnce.Do(func() {
		var level slog.Level
		_ = level.UnmarshalText([]byte(e.global.logLevel))
		opts := &slog.HandlerOptions{Level: level}
		if e.global.logFormat == "json" {
			e.log = slog.New(slog.NewJSONHandler(e.stderr, opts))
		} else {
			e.log = slog.New(slog.NewTextHandler(e.stderr, opts))
		}
	})
	return e.log
}

// configPath decides which config file to read (SPEC section 2): --config,
// then $NUMSYNC_CONFIG, then ./numsync.yaml if it exists. explicit is false
// for the last, whose absence is not an error.
func (e *env) configPath() (path string, explicit bool) {
	if e.global.config != "" {
		return e.global.config, true
	}
	if p := e.getenv("NUMSYNC_CONFIG"); p != "" {
		return p, true
	}
	return "numsync.yaml", false
}

// loadConfig loads the config once. found is false when no file was named
// and ./numsync.yaml does not exist: cfg is then config.Default(), with
// both vendors disabled. --journal overrides the config's journal.
func (e *env) loadConfig() (cfg *config.Config, found bool, err error) {
	return e.loadConfigWith(config.Load)
}

// loadConfigWith is loadConfig with the loader chosen by the command
// (validate needs no credentials: config.LoadWithoutSecrets). The first
// call decides; a command uses one loader.
func (e *env) loadConfigWith(load func(string, func(string) string) (*config.Config, error)) (cfg *config.Config, found bool, err error) {
	e.cfgOnce.Do(func() {
		path, explicit := e.configPath()
		if !explicit {
			if _, serr := os.Stat(path); errors.Is(serr, fs.ErrNotExist) {
				e.cfg = config.Default()
			}
		}
		if e.cfg == nil {
			e.cfg, e.cfgErr = load(path, e.getenv)
			e.cfgFound = e.cfgErr == nil
		}
		if e.cfg != nil && e.global.journal != "" {
			e.cfg.Journal = e.global.journal
		}
		if e.cfg != nil {
			e.logger().Debug("config", "path", e.cfg.Path, "found", e.cfgFound)
		}
	})
	return e.cfg, e.cfgFound, e.cfgErr
}

// Run is numsync's whole command line: it parses args, runs one command and
// returns the process exit code. main is a line around it so tests can run
// every command in process. A panic is caught and reported as an internal
// error: no stack trace reaches a user's terminal or cron mail.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	return run(ctx, args, stdout, stderr, os.Getenv)
}

// testExecTweak, when set (by tests only, before any run), is every run's
// execTweak: the end-to-end tests shorten the executor's backoffs with it.
var testExecTweak func(*exec.Config)

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) (code int) {
	e := &env{stdout: stdout, stderr: stderr, getenv: getenv,
		global:    globalFlags{logFormat: "text", logLevel: "info"},
		execTweak: testExecTweak}
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "numsync: internal error: %v\n", r)
			e.logger().Debug("panic", "stack", string(debug.Stack()))
			code = ExitError
		}
	}()

	top := flag.NewFlagSet("numsync", flag.ContinueOnError)
	top.SetOutput(io.Discard)
	top.Usage = func() {}
	e.global.register(top)
	help := top.Bool("help", false, "show this help")
	top.BoolVar(help, "h", false, "show this help")
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printTopUsage(stdout)
			return ExitOK
		}
		fmt.Fprintf(stderr, "numsync: %v\nRun 'numsync --help' for usage.\n", err)
		return ExitError
	}
	rest := top.Args()
	if *help {
		printTopUsage(stdout)
		return ExitOK
	}
	if len(rest) == 0 {
		printTopUsage(stderr)
		return ExitError
	}
	name := rest[0]
	if name == "help" {
		if len(rest) > 1 {
			return run(ctx, []string{rest[1], "--help"}, stdout, stderr, getenv)
		}
		printTopUsage(stdout)
		return ExitOK
	}
	for _, c := range commands {
		if c.name != name {
			continue
		}
		e.args = rest[1:]
		err := c.run(ctx, e, rest[1:])
		report(e, name, err)
		return exitCode(err)
	}
	fmt.Fprintf(stderr, "numsync: unknown command %q\nRun 'numsync --help' for the list of commands.\n", name)
	return ExitError
}

// report prints a command's error on standard error, once.
func report(e *env, name string, err error) {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return
	}
	var ee *exitError
	if errors.As(err, &ee) && (ee.silent || ee.err == nil) {
		return
	}
	fmt.Fprintf(e.stderr, "numsync %s: %v\n", name, err)
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(e.stderr, "Run 'numsync %s --help' for usage.\n", name)
	}
}

func printTopUsage(w io.Writer) {
	var cmds strings.Builder
	for _, c := range commands {
		fmt.Fprintf(&cmds, "  %-9s %s\n", c.name, c.synopsis)
	}
	fs := flag.NewFlagSet("numsync", flag.ContinueOnError)
	g := globalFlags{logFormat: "text", logLevel: "info"}
	g.register(fs)
	fmt.Fprintf(w, topUsage, cmds.String(), flagDefaults(fs))
}

// flagDefaults renders a flag set's help with double-dash names, the form
// the spec and the examples use.
func flagDefaults(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(&b, "  --%s", f.Name)
		if name != "" {
			fmt.Fprintf(&b, " %s", name)
		}
		fmt.Fprintf(&b, "\n      %s", usage)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(&b, " (default %s)", f.DefValue)
		}
		b.WriteByte('\n')
	})
	return b.String()
}

// cmdSpec describes a command for its --help.
type cmdSpec struct {
	name     string
	usage    string // the synopsis line(s) after "Usage:"
	about    string // what it does, a paragraph
	examples string
	// maxArgs is how many positional arguments it takes.
	maxArgs int
}

// parse builds the command's flag set (its own flags, added by define,
// plus the global ones), parses args with flags and positional arguments
// in any order, and returns the positional arguments. --help prints the
// command's help on standard output and returns flag.ErrHelp.
func (e *env) parse(spec cmdSpec, args []string, define func(fs *flag.FlagSet)) ([]string, error) {
	fs := flag.NewFlagSet("numsync "+spec.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if define != nil {
		define(fs)
	}
	own := flagDefaults(fs)
	e.global.register(fs)
	help := func() {
		fmt.Fprintf(e.stdout, "Usage:\n  %s\n\n%s\n", spec.usage, spec.about)
		if own != "" {
			fmt.Fprintf(e.stdout, "\nFlags:\n%s", own)
		}
		fmt.Fprintf(e.stdout, "\nGlobal flags: --config, --journal, --log-format, --log-level, --no-progress, --report, --metrics-file (see 'numsync --help').\n")
		if spec.examples != "" {
			fmt.Fprintf(e.stdout, "\nExamples:\n%s", spec.examples)
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				help()
				return nil, err
			}
			return nil, &usageError{err}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		// flag stops at the first positional argument; take it and go on,
		// so "apply PLAN.json --force" works. After "--" all are positional.
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if len(pos) > spec.maxArgs {
		return nil, &usageError{fmt.Errorf("unexpected argument %q", pos[spec.maxArgs])}
	}
	if err := e.checkGlobal(); err != nil {
		return nil, err
	}
	return pos, nil
}

// checkGlobal validates the global flags' values.
func (e *env) checkGlobal() error {
	switch e.global.logFormat {
	case "text", "json":
	default:
		return &usageError{fmt.Errorf("--log-format must be text or json, got %q", e.global.logFormat)}
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(e.global.logLevel)); err != nil {
		return &usageError{fmt.Errorf("--log-level must be debug, info, warn or error, got %q", e.global.logLevel)}
	}
	return nil
}

// oneOf checks an enumerated flag value.
func oneOf(flagName, value string, allowed ...string) error {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return &usageError{fmt.Errorf("--%s must be one of %s, got %q", flagName, strings.Join(allowed, ", "), value)}
}
