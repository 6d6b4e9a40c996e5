package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// version, when set at link time (go build -ldflags "-X main.version=v1.4.0"),
// is the release's name; otherwise the build info's module version is
// used, "(devel)" for a build from a checkout.
var version string

var versionSpec = cmdSpec{
	name:     "version",
	synopsis: "print numsync's version and build (also --version)",
	usage:    "numsync version",
	about: `Prints the version, the commit it was built from (when the build recorded
it) and the Go toolchain, from the binary's own build information.`,
	examples: `  numsync version
  numsync --version
`,
}

// cmdVersion is `numsync version`.
func cmdVersion(e *env) *cobra.Command {
	return e.command(versionSpec, nil, func(context.Context, []string) error {
		_, err := fmt.Fprintf(e.stdout, "numsync %s\n", versionString())
		return err
	})
}

// versionString describes this binary from its build info.
func versionString() string {
	info, _ := debug.ReadBuildInfo()
	return describeBuild(version, info)
}

// describeBuild is "v1.4.0 (commit 0123456789ab, 2026-01-02T03:04:05Z,
// modified; go1.26.8 linux/amd64)": the link-time version or the
// module's, then what the build recorded of its commit.
func describeBuild(linked string, info *debug.BuildInfo) string {
	v := linked
	if v == "" && info != nil {
		v = info.Main.Version
	}
	if v == "" {
		v = "(devel)"
	}
	var parts []string
	goVersion := runtime.Version()
	if info != nil {
		if info.GoVersion != "" {
			goVersion = info.GoVersion
		}
		var rev, at string
		modified := false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if rev != "" {
			if len(rev) > 12 {
				rev = rev[:12]
			}
			parts = append(parts, "commit "+rev)
		}
		if at != "" {
			parts = append(parts, at)
		}
		if modified {
			parts = append(parts, "modified")
		}
	}
	build := goVersion + " " + runtime.GOOS + "/" + runtime.GOARCH
	if len(parts) > 0 {
		build = strings.Join(parts, ", ") + "; " + build
	}
	return v + " (" + build + ")"
}
