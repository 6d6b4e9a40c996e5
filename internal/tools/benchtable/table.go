package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// row is one printed line of the summary.
type row struct {
	Figure, Target, Measured, Ratio, Meets string
}

// standardUnits are what go test reports for every benchmark; they are
// left out of "other metrics" unless a benchmark reported nothing else,
// which would otherwise make the list mostly noise.
var standardUnits = map[string]bool{"ns/op": true, "B/op": true, "allocs/op": true, "MB/s": true}

// summarize matches rep's metrics against figs. known has one row per
// figure, in figs' order; other has the metrics no figure claims, in the
// order they were first reported.
func summarize(rep report, figs []figure) (known, other []row) {
	got := make([][]float64, len(figs))
	type key struct{ pkg, bench, unit string }
	var otherKeys []key
	otherVals := map[key][]float64{}
	for _, res := range rep.Results {
		custom := false
		for _, m := range res.Metrics {
			if !standardUnits[m.Unit] {
				custom = true
			}
		}
		for _, m := range res.Metrics {
			if i := match(figs, res.Pkg, res.Name, m.Unit); i >= 0 {
				got[i] = append(got[i], m.Value)
				continue
			}
			if standardUnits[m.Unit] && (custom || m.Unit != "ns/op") {
				continue
			}
			k := key{res.Pkg, res.Name, m.Unit}
			if _, seen := otherVals[k]; !seen {
				otherKeys = append(otherKeys, k)
			}
			otherVals[k] = append(otherVals[k], m.Value)
		}
	}
	for i, f := range figs {
		known = append(known, figureRow(f, got[i]))
	}
	for _, k := range otherKeys {
		name := k.bench + " " + k.unit
		if p := shortPkg(k.pkg); p != "" {
			name = p + " " + name
		}
		other = append(other, figureRow(figure{Name: name, Note: "—"}, otherVals[k]))
	}
	return known, other
}

// match returns the index of the figure for this metric, or -1.
func match(figs []figure, pkg, bench, unit string) int {
	for i, f := range figs {
		if f.Bench != bench || f.Unit != unit {
			continue
		}
		if f.Pkg == "" || pkg == f.Pkg || strings.HasSuffix(pkg, "/"+f.Pkg) {
			return i
		}
	}
	return -1
}

// figureRow renders one figure. A figure measured more than once (go test
// -count) shows its worst value: a summary that reports the best of several
// tries would hide the noise issue #8 asks it to expose.
func figureRow(f figure, vals []float64) row {
	r := row{Figure: f.Name, Target: f.Note}
	switch f.Dir {
	case atMost:
		r.Target = "≤ " + num(f.Target)
	case atLeast:
		r.Target = "≥ " + num(f.Target)
	}
	if len(vals) == 0 {
		r.Measured = "not run"
		return r
	}
	v := vals[len(vals)-1]
	for _, x := range vals {
		switch f.Dir {
		case atMost:
			v = max(v, x)
		case atLeast:
			v = min(v, x)
		}
	}
	r.Measured = num(v)
	if len(vals) > 1 {
		which := "last"
		if f.Dir != noTarget {
			which = "worst"
		}
		r.Measured += fmt.Sprintf(" (%s of %d)", which, len(vals))
	}
	if f.Dir == noTarget {
		return r
	}
	r.Ratio = strconv.FormatFloat(v/f.Target, 'f', 2, 64)
	if (f.Dir == atMost && v <= f.Target) || (f.Dir == atLeast && v >= f.Target) {
		r.Meets = "yes"
	} else {
		r.Meets = "NO"
	}
	return r
}

// num prints a measurement compactly: whole numbers in full, others to four
// significant digits.
func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// shortPkg trims the module path, which every row would repeat.
func shortPkg(pkg string) string {
	for _, dir := range []string{"/internal/", "/cmd/"} {
		if i := strings.Index(pkg, dir); i >= 0 {
			return pkg[i+1:]
		}
	}
	return pkg
}

// render prints the summary table.
func render(w io.Writer, rep report, figs []figure) error {
	known, other := summarize(rep, figs)
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nBENCH SUMMARY (ratio = measured ÷ target, from this run)")
	fmt.Fprintln(tw, "FIGURE\tTARGET\tMEASURED\tRATIO\tMEETS")
	for _, r := range known {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Figure, r.Target, r.Measured, r.Ratio, r.Meets)
	}
	if len(other) > 0 {
		fmt.Fprintln(tw, "\t\t\t\t")
		fmt.Fprintln(tw, "OTHER METRICS (no target)\t\t\t\t")
		for _, r := range other {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Figure, r.Target, r.Measured, r.Ratio, r.Meets)
		}
	}
	if rep.Failed {
		fmt.Fprintln(tw, "\ngo test reported FAIL: see the output above; figures from failed benchmarks are missing.")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// tabwriter pads empty trailing cells; trailing blanks only make the
	// table harder to diff and to paste into an issue.
	for line := range strings.Lines(buf.String()) {
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	return nil
}
