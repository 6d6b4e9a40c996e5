package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	flag "github.com/spf13/pflag"
)

var completionSpec = cmdSpec{
	name:     "completion",
	synopsis: "print a shell completion script: bash, zsh, fish or powershell",
	usage:    "numsync completion bash|zsh|fish|powershell",
	about: `Prints the script that makes the shell complete numsync's commands, flags,
flag values (formats, vendors, log levels), file names (CSV, plan, config)
and run ids ('numsync show <TAB>' lists the journal's runs). Load it in
the shell's start-up file, or install it where the shell looks.`,
	examples: `  numsync completion bash > /etc/bash_completion.d/numsync    # bash, with bash-completion
  source <(numsync completion bash)                           # bash, this shell only
  numsync completion zsh > "${fpath[1]}/_numsync"             # zsh
  numsync completion fish > ~/.config/fish/completions/numsync.fish
  numsync completion powershell | Out-String | Invoke-Expression
`,
	maxArgs: 1,
}

// shells are the shells completion writes scripts for.
var shells = []string{"bash", "zsh", "fish", "powershell"}

// cmdCompletion is `numsync completion`.
func cmdCompletion(e *env) *cobra.Command {
	var c *cobra.Command
	c = e.command(completionSpec, nil, func(_ context.Context, pos []string) error {
		if len(pos) == 0 {
			return &usageError{errors.New("give the shell: bash, zsh, fish or powershell")}
		}
		return runCompletion(c.Root(), e, pos[0])
	})
	c.ValidArgs = shells
	return c
}

// runCompletion writes root's completion script for shell.
func runCompletion(root *cobra.Command, e *env, shell string) error {
	switch shell {
	case "bash":
		return root.GenBashCompletionV2(e.stdout, true)
	case "zsh":
		return root.GenZshCompletion(e.stdout)
	case "fish":
		return root.GenFishCompletion(e.stdout, true)
	case "powershell":
		return root.GenPowerShellCompletionWithDesc(e.stdout)
	}
	// The shell is the argument, not a flag: oneOf would name a
	// nonexistent --shell.
	return &usageError{fmt.Errorf("no completion for %q: the shells are %s", shell, strings.Join(shells, ", "))}
}

// enumInUsage finds "--flag a|b|c" in a usage line: the values a flag
// takes, as its help documents them, which completion offers.
var enumInUsage = regexp.MustCompile(`--([a-z][a-z-]*) ([a-z0-9]+(?:\|[a-z0-9]+)+)\b`)

// globalValues are the global flags' values (the top usage does not spell
// them in a usage line).
var globalValues = map[string][]string{
	"log-format": {"text", "json"},
	"log-level":  {"debug", "info", "warn", "error"},
}

// desiredExts are the desired-state files' extensions.
var desiredExts = []string{"csv", "xlsx"}

// addCompletions teaches the shell completion about every command: the
// values of enumerated flags (read from each command's usage line, so they
// follow the help), file extensions from flag placeholders (FILE.json,
// PLAN.json, FILE.prom), no file names for numbers and durations, and
// the positional arguments (files, run ids, shells).
func addCompletions(e *env, root *cobra.Command) {
	for name, values := range globalValues {
		_ = root.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
	}
	addPlaceholderCompletions(root, root.PersistentFlags())
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if !c.HasParent() {
			return
		}
		enums := map[string][]string{}
		for _, m := range enumInUsage.FindAllStringSubmatch(c.Use, -1) {
			enums[m[1]] = strings.Split(m[2], "|")
		}
		c.LocalNonPersistentFlags().VisitAll(func(f *flag.Flag) {
			if values, ok := enums[f.Name]; ok {
				_ = c.RegisterFlagCompletionFunc(f.Name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
			}
		})
		addPlaceholderCompletions(c, c.LocalNonPersistentFlags())
		if c.ValidArgsFunction == nil && len(c.ValidArgs) == 0 {
			c.ValidArgsFunction = argCompletion(e, c.Name())
		}
	}
	walk(root)
}

// addPlaceholderCompletions completes the flags of fs that have no
// completion yet from their placeholders: FILE.ext offers files with that
// extension, FILE (and DIR) any file, a number or duration nothing.
func addPlaceholderCompletions(c *cobra.Command, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		if _, done := c.GetFlagCompletionFunc(f.Name); done || f.Name == "help" {
			return
		}
		placeholder, _ := flag.UnquoteUsage(f)
		var fn cobra.CompletionFunc
		switch {
		case f.Name == "desired":
			fn = fileExts(desiredExts...)
		case strings.Contains(placeholder, "."):
			var exts []string
			for _, alt := range strings.Split(placeholder, "|") {
				if i := strings.LastIndex(alt, "."); i >= 0 {
					exts = append(exts, alt[i+1:])
				}
			}
			fn = fileExts(exts...)
		case placeholder == "FILE" || placeholder == "DIR":
			return // the shell's own file completion
		case placeholder == "":
			return // a bool takes no value
		default:
			fn = cobra.NoFileCompletions
		}
		_ = c.RegisterFlagCompletionFunc(f.Name, fn)
	})
}

func fileExts(exts ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return exts, cobra.ShellCompDirectiveFilterFileExt
	}
}

// argCompletion completes a command's positional arguments.
func argCompletion(e *env, name string) cobra.CompletionFunc {
	switch name {
	case "validate", "plan":
		return onlyFirst(fileExts(desiredExts...))
	case "apply":
		return onlyFirst(fileExts(append([]string{"json"}, desiredExts...)...))
	case "show":
		return onlyFirst(func(c *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return runIDs(c.Context(), e), cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
		})
	}
	return cobra.NoFileCompletions
}

// onlyFirst completes the first argument with fn and nothing after it.
func onlyFirst(fn cobra.CompletionFunc) cobra.CompletionFunc {
	return func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return fn(c, args, toComplete)
	}
}

// runIDs lists the journal's latest runs for 'numsync show <TAB>', newest
// first, each described by its start and outcome. Any problem (no config,
// no journal) completes nothing: completion must never print an error
// into the user's command line.
func runIDs(ctx context.Context, e *env) []cobra.Completion {
	if ctx == nil {
		ctx = context.Background()
	}
	j, err := e.openExistingJournal(ctx)
	if err != nil {
		return nil
	}
	defer j.Close()
	runs, err := j.Runs(ctx, 50)
	if err != nil {
		return nil
	}
	out := make([]cobra.Completion, 0, len(runs))
	for _, r := range runs {
		outcome := r.Outcome
		if outcome == "" {
			outcome = "unfinished"
		}
		desc := fmt.Sprintf("%s, started %s", outcome, r.StartedAt.Local().Format(time.DateTime))
		out = append(out, cobra.CompletionWithDesc(strconv.FormatInt(r.ID, 10), desc))
	}
	return out
}
