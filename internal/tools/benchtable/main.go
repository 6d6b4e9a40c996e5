// Command benchtable turns `go test -bench` output into the summary issue
// #8 asks `make bench` for. It copies its input to stdout unchanged and as
// it arrives (a full run takes many minutes, and the raw lines are the
// evidence), then prints one table: each known figure's target, the value
// measured in this run, and measured ÷ target. The figures and targets are
// in figures.go.
//
// It exits 0 whatever the figures say: the table reports, it does not gate.
// It exits 1 when the input has a FAIL line, so a pipeline that drops go
// test's own status still fails, and 2 when it cannot read or write.
//
//	go test -run='^$' -bench=. -benchtime=1x ./... 2>&1 | go run ./internal/tools/benchtable
package main

import (
	"fmt"
	"io"
	"os"
)

func main() { os.Exit(run(os.Stdin, os.Stdout, os.Stderr)) }

// run echoes in to stdout, then prints the summary; it returns the exit
// code.
func run(in io.Reader, stdout, stderr io.Writer) int {
	rep, err := parse(io.TeeReader(in, stdout))
	if err != nil {
		fmt.Fprintf(stderr, "benchtable: read: %v\n", err)
		return 2
	}
	if err := render(stdout, rep, figures); err != nil {
		fmt.Fprintf(stderr, "benchtable: write: %v\n", err)
		return 2
	}
	if rep.Failed {
		return 1
	}
	return 0
}
