package main

import (
	"context"
	"fmt"
	"io"
)

// Run is numsync's whole command line: it parses args, runs one command and
// returns the process exit code. main is a line around it so tests can run
// every command in process.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	_ = ctx
	_ = args
	_ = stdout
	fmt.Fprintln(stderr, "numsync: not implemented yet")
	return 1
}
