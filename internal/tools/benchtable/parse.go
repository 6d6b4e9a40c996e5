package main

import (
	"bufio"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// metric is one value a benchmark reported, e.g. {0.98, "ratio"}.
type metric struct {
	Value float64
	Unit  string
}

// result is one benchmark result line.
type result struct {
	// Pkg is the import path from the preceding "pkg:" line.
	Pkg string
	// Name is the benchmark's name without the -GOMAXPROCS suffix.
	Name       string
	Iterations int64
	// Metrics are in the order reported, ns/op first.
	Metrics []metric
}

// report is what one `go test -bench` run printed.
type report struct {
	Results []result
	// Failed is set when go test printed a FAIL line: a benchmark or a
	// package failed, or a package did not build.
	Failed bool
}

// procsSuffix is the -GOMAXPROCS suffix go test appends to each name.
var procsSuffix = regexp.MustCompile(`-\d+$`)

// parse reads go test -bench output. It never fails on lines it does not
// understand (test logs, panics, slog output sent to the same pipe): the
// summary is a report, and an odd line must not cost the figures around it.
func parse(r io.Reader) (report, error) {
	var rep report
	var pkg, pending string
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			parseLine(&rep, &pkg, &pending, strings.TrimRight(line, "\r\n"))
		}
		if errors.Is(err, io.EOF) {
			return rep, nil
		}
		if err != nil {
			return rep, err
		}
	}
}

// parseLine folds one line into rep. pending is a benchmark name printed
// without its result: go test prints the name before running the
// benchmark, so anything the benchmark writes to stdout or stderr lands
// between the name and the numbers.
func parseLine(rep *report, pkg, pending *string, line string) {
	if isFail(line) {
		rep.Failed = true
		*pending = "" // a failed benchmark has no numbers to wait for
		return
	}
	if p, ok := strings.CutPrefix(line, "pkg: "); ok {
		*pkg = strings.TrimSpace(p)
		*pending = ""
		return
	}
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return
	}
	named := strings.HasPrefix(fields[0], "Benchmark")
	res, ok := parseResult(fields)
	switch {
	case ok && named && res.at >= 1:
		res.Name = fields[0]
	case ok && *pending != "":
		res.Name = *pending
	case ok:
		return // numbers with no name to give them
	case named:
		*pending = fields[0]
		return
	default:
		return
	}
	*pending = ""
	res.Name = procsSuffix.ReplaceAllString(res.Name, "")
	res.Pkg = *pkg
	rep.Results = append(rep.Results, res.result)
}

// isFail reports whether go test marked a failure on this line: "FAIL",
// "FAIL\tpkg\t1.2s", "FAIL\tpkg [build failed]", "--- FAIL: BenchmarkX".
// The last may follow the benchmark's name on the same line, since go test
// prints the name before running it.
func isFail(line string) bool {
	if line == "FAIL" || strings.HasPrefix(line, "FAIL\t") || strings.HasPrefix(line, "FAIL ") {
		return true
	}
	return strings.Contains(line, "--- FAIL:")
}

// located is a result and the index of its iteration count in the fields.
type located struct {
	result
	at int
}

// parseResult finds "N <v> ns/op [<v> <unit>]..." in fields. It anchors on
// ns/op, which go test always prints first, so a result that shares its
// line with stray output is still found.
func parseResult(fields []string) (located, bool) {
	for k := 2; k < len(fields); k++ {
		if fields[k] != "ns/op" {
			continue
		}
		n, err := strconv.ParseInt(fields[k-2], 10, 64)
		if err != nil {
			continue
		}
		var ms []metric
		for i := k - 1; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				break
			}
			ms = append(ms, metric{Value: v, Unit: fields[i+1]})
		}
		if len(ms) == 0 {
			continue
		}
		return located{result: result{Iterations: n, Metrics: ms}, at: k - 2}, true
	}
	return located{}, false
}
