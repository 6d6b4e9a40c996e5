package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	flag "github.com/spf13/pflag"

	"github.com/numsync/numsync/internal/config"
	"github.com/numsync/numsync/internal/exec"
	"github.com/numsync/numsync/internal/metrics"
	"github.com/numsync/numsync/internal/suggest"
)

// commands builds every subcommand, in the order the usage lists them.
// Each constructor lives in its command's file (gh's pkg/cmd layout): it
// declares the flags into the command's options struct and hands them to
// the command's run function, which holds the logic.
var commands = []func(e *env) *cobra.Command{
	cmdValidate,
	cmdPlan,
	cmdApply,
	cmdExport,
	cmdRuns,
	cmdShow,
	cmdJournal,
	cmdDemo,
	cmdLab,
	cmdCheck,
	cmdCompletion,
	cmdVersion,
}

func init() {
	// The listing follows commands' order (the workflow's), not the
	// alphabet. cobra keeps this switch in a package variable.
	cobra.EnableCommandSorting = false
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
	fs.StringVar(&g.journal, "journal", g.journal, "the journal: a `FILE` or a postgres:// URL, overriding the config's journal")
	fs.StringVar(&g.logFormat, "log-format", g.logFormat, "log `FORMAT` on standard error: text or json")
	fs.StringVar(&g.logLevel, "log-level", g.logLevel, "log `LEVEL`: debug, info, warn or error")
	fs.BoolVar(&g.noProgress, "no-progress", g.noProgress, "no progress bar, even on a terminal")
	fs.StringVar(&g.report, "report", g.report, "plan and apply: write the run's summary as JSON to `FILE.json`")
	fs.StringVar(&g.metricsFile, "metrics-file", g.metricsFile, "write metrics in the Prometheus text format to `FILE.prom`")
}

// env is what a command runs with: where to write, the global flags, the
// environment and, on demand, the logger and the config.
type env struct {
	// stderr is standard error as commands write it (stderrLines: one
	// JSON record a line with --log-format json); rawStderr is the
	// process's own, for the logger and the progress bar.
	stdout, stderr io.Writer
	rawStderr      io.Writer
	lines          *stderrLines
	// getenv reads the process environment (os.Getenv in main; a map in
	// tests). Packages below cmd never read the environment themselves.
	getenv func(string) string
	global globalFlags

	logOnce sync.Once
	log     *slog.Logger

	// cfgOverride, when set, is the configuration to use instead of a file
	// (the demo points numsync at its in-process labs).
	cfgOverride *config.Config
	// rawArgs is the whole command line; args is what follows the
	// command's name, journaled with a run (secret-looking values redacted
	// by the journal).
	rawArgs []string
	args    []string
	// execTweak lets tests shorten the executor's backoffs.
	execTweak func(*exec.Config)

	// metrics is the run's metrics record (--metrics-file on plan and
	// apply), written once the command ends; metricsOutcome refines the
	// outcome the exit code says (apply with nothing to do exits 0 too).
	metrics        *metrics.Recorder
	metricsOutcome metrics.Outcome
	// onRequest, when set, is told of every vendor HTTP request (the
	// progress display counts listing pages with it).
	onRequest func(vendor string, req *http.Request, status int, err error)
	// progressEvery is how often progress is logged without a terminal
	// (0: every 10 s); tests shorten it.
	progressEvery time.Duration
	// interrupted is set when a signal stopped the command while it was
	// reading inventories (interrupt.go).
	interrupted atomic.Pointer[interruption]
	// drift watches the journal while a plan is made (drift.go).
	drift *driftWatch
	// warned holds the warnings printed so far (each is printed once).
	warnMu sync.Mutex
	warned map[string]bool

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
			e.log = slog.New(slog.NewJSONHandler(e.rawStderr, opts))
		} else {
			e.log = slog.New(slog.NewTextHandler(e.rawStderr, opts))
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
	e := &env{stdout: stdout, rawStderr: stderr, getenv: getenv,
		global:    globalFlags{logFormat: "text", logLevel: "info"},
		execTweak: testExecTweak, rawArgs: args}
	e.lines = &stderrLines{e: e, raw: stderr}
	e.stderr = e.lines
	defer e.lines.flush()
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(e.stderr, "numsync: internal error: %v\n", r)
			e.logger().Debug("panic", "stack", string(debug.Stack()))
			code = ExitError
		}
	}()
	root := newRoot(e)
	// A nil slice would make cobra read os.Args.
	root.SetArgs(append([]string{}, args...))
	cmd, err := root.ExecuteContextC(ctx)
	code = exitCode(err)
	report(e, cmd, err, code)
	if cmd != nil {
		e.writeMetrics(cmd.Name(), code)
	}
	return code
}

// newRoot builds the command tree for one run. Each run gets its own tree
// (and options structs), so tests run command lines side by side.
func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:                        "numsync",
		Short:                      "keep phone numbers at OneUC and First Orion in step with one CSV",
		SilenceErrors:              true, // report prints each error once, in our form
		SilenceUsage:               true,
		SuggestionsMinimumDistance: 2,
		Args:                       unknownCommand,
		// numsync with no command: the usage, on standard error, exit 1.
		RunE: func(cmd *cobra.Command, _ []string) error {
			printTopUsage(e.stderr, cmd)
			return quietly(ExitError, errors.New("no command"))
		},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			e.args = argsAfter(cmd, e.rawArgs)
			if err := e.checkGlobal(); err != nil {
				return err
			}
			e.startMetrics(cmd)
			return nil
		},
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
		Version:           versionString(),
	}
	root.SetVersionTemplate("numsync {{.Version}}\n")
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	e.global.register(root.PersistentFlags())
	root.SetFlagErrorFunc(flagError)
	root.SetHelpFunc(func(cmd *cobra.Command, _ []string) { printHelp(cmd.OutOrStdout(), cmd) })
	for _, c := range commands {
		root.AddCommand(c(e))
	}
	addCompletions(e, root)
	return root
}

// unknownCommand is the root's argument check: any argument left once no
// command matched names a command that does not exist.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %q?)", s[0])
	}
	return &usageError{errors.New(msg)}
}

// flagError is every command's answer to a flag it cannot parse: a usage
// error, with the nearest known flag when the name looks misspelt
// (--desried) or given with one dash, Go-flag style (-desired).
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	var typed string
	switch {
	case strings.HasPrefix(msg, "unknown flag: --"):
		typed = strings.TrimPrefix(msg, "unknown flag: --")
	case strings.HasPrefix(msg, "unknown shorthand flag: "):
		if i := strings.LastIndex(msg, " in -"); i >= 0 {
			typed = strings.SplitN(msg[i+len(" in -"):], "=", 2)[0]
		}
	}
	if typed == "" {
		return &usageError{err}
	}
	var names []string
	cmd.Flags().VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if best := suggest.Closest(typed, names, 3); best != "" {
		return &usageError{fmt.Errorf("%w (did you mean --%s?)", err, best)}
	}
	return &usageError{err}
}

// argsAfter returns the command line after the command's own name, as the
// journal records it with a run.
func argsAfter(cmd *cobra.Command, args []string) []string {
	for i, a := range args {
		if a == cmd.Name() {
			return args[i+1:]
		}
	}
	return nil
}

// report prints a command's error on standard error, once, prefixed with
// the command (numsync plan: …), and for a usage mistake a pointer to the
// command's --help.
func report(e *env, cmd *cobra.Command, err error, code int) {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return
	}
	var ee *exitError
	if errors.As(err, &ee) && (ee.silent || ee.err == nil) {
		return
	}
	path := "numsync"
	if cmd != nil {
		path = cmd.CommandPath()
	}
	hint := ""
	var ue *usageError
	if errors.As(err, &ue) {
		if cmd == nil || !cmd.HasParent() {
			hint = "Run 'numsync --help' for the list of commands."
		} else {
			hint = fmt.Sprintf("Run '%s --help' for usage.", path)
		}
	}
	if hint == "" {
		if step := e.nextStep(err); step != "" {
			hint = strings.ToUpper(step[:1]) + step[1:] + "; 'numsync check' tests each vendor."
		}
	}
	msg := tidyError(err.Error())
	if e.global.logFormat == "json" {
		attrs := []any{"command", path, "exit_code", code}
		if hint != "" {
			attrs = append(attrs, "hint", hint)
		}
		e.logger().Error(msg, attrs...)
		return
	}
	fmt.Fprintf(e.stderr, "%s: %s\n", path, msg)
	if hint != "" {
		fmt.Fprintln(e.stderr, hint)
	}
}

// printTopUsage is numsync --help.
func printTopUsage(w io.Writer, root *cobra.Command) {
	fmt.Fprintf(w, topUsage, commandList(root), flagDefaults(root.PersistentFlags()))
}

// commandList lists cmd's subcommands with their synopses, in a column.
func commandList(cmd *cobra.Command) string {
	width := 9
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			width = max(width, len(c.Name()))
		}
	}
	var b strings.Builder
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			fmt.Fprintf(&b, "  %-*s %s\n", width, c.Name(), c.Short)
		}
	}
	return b.String()
}

// printHelp is every command's --help (and numsync help COMMAND): usage,
// what it does, its subcommands and own flags, a pointer to the global
// flags, examples.
func printHelp(w io.Writer, cmd *cobra.Command) {
	if !cmd.HasParent() {
		printTopUsage(w, cmd)
		return
	}
	fmt.Fprintf(w, "Usage:\n  %s\n\n%s\n", cmd.UseLine(), cmd.Long)
	if cmd.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\nCommands:\n%s", commandList(cmd))
	}
	if own := flagDefaults(cmd.LocalNonPersistentFlags()); own != "" {
		fmt.Fprintf(w, "\nFlags:\n%s", own)
	}
	fmt.Fprintf(w, "\nGlobal flags: --config, --journal, --log-format, --log-level, --no-progress, --report, --metrics-file (see 'numsync --help').\n")
	if cmd.Example != "" {
		fmt.Fprintf(w, "\nExamples:\n%s", cmd.Example)
	}
}

// flagDefaults renders a flag set's help with double-dash names, the form
// the spec and the examples use. --help itself goes without saying.
func flagDefaults(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "help" || f.Hidden {
			return
		}
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

// cmdSpec describes a command: its name, its line in the command listing,
// and its --help.
type cmdSpec struct {
	name     string
	synopsis string // the line in numsync --help's command listing
	usage    string // the synopsis line after "Usage:"
	about    string // what it does, a paragraph
	examples string
	// maxArgs is how many positional arguments it takes.
	maxArgs int
}

// command builds a command from its spec: define declares its own flags
// (into the command's options struct), run gets the positional arguments
// once every flag is parsed and the global ones are checked. Flags and
// arguments may come in any order; after "--" all are arguments.
func (e *env) command(spec cmdSpec, define func(fs *flag.FlagSet), run func(ctx context.Context, args []string) error) *cobra.Command {
	use := spec.name
	if i := strings.Index(spec.usage, " "+spec.name); i >= 0 {
		use = spec.usage[i+1:]
	}
	c := &cobra.Command{
		Use:                   use,
		Short:                 spec.synopsis,
		Long:                  spec.about,
		Example:               spec.examples,
		DisableFlagsInUseLine: true,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > spec.maxArgs {
				return &usageError{fmt.Errorf("unexpected argument %q", args[spec.maxArgs])}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return run(cmd.Context(), args) },
	}
	if define != nil {
		define(c.Flags())
	}
	return c
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
