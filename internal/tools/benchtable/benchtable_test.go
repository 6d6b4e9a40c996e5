package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The samples in testdata: firstorion.txt is captured from a real run of
// BenchmarkCreate20k; the others are laid out the way go test prints (the
// same spacing, custom metrics sorted by unit, B/op and allocs/op last) with
// each package's metrics as its bench_test.go reports them, because running
// the whole suite to capture them takes many minutes.
//   - full.txt: every benchmark of `make bench`, one run each.
//   - interleaved.txt: log lines between a name and its numbers, a failed
//     benchmark, a package that did not build.
//   - count.txt: one benchmark run three times (-count=3).

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParse(t *testing.T) {
	const mod = "github.com/numsync/numsync/"
	tests := []struct {
		name       string
		input      string // a testdata file, or the text itself when inline
		inline     bool
		wantFailed bool
		// wantNames are the results' pkg-less names, in order.
		wantNames []string
		// check picks out single metrics: "name unit" → value.
		check   map[string]float64
		wantPkg map[string]string
	}{
		{
			name: "captured", input: "firstorion.txt",
			wantNames: []string{"BenchmarkCreate20k"},
			check: map[string]float64{
				"BenchmarkCreate20k ns/op":     4725231848,
				"BenchmarkCreate20k ratio":     0.8919,
				"BenchmarkCreate20k numbers/s": 4460,
				"BenchmarkCreate20k 429s/op":   0,
				"BenchmarkCreate20k allocs/op": 1291985,
			},
			wantPkg: map[string]string{"BenchmarkCreate20k": mod + "internal/vendors/firstorion"},
		},
		{
			name: "full run", input: "full.txt",
			wantNames: []string{
				"BenchmarkValidate1M/canonical", "BenchmarkValidate1M/national10pct",
				"BenchmarkNormalize/normalizer", "BenchmarkNormalize/library",
				"BenchmarkRun",
				"BenchmarkStartRun", "BenchmarkMarkSentRecord/synchronous=FULL", "BenchmarkMarkSentRecord/synchronous=NORMAL", "BenchmarkDetails",
				"BenchmarkDiff1M", "BenchmarkFingerprint1M",
				"BenchmarkCreate20k",
				"BenchmarkActivate10k", "BenchmarkActivate10kScaled",
			},
			check: map[string]float64{
				"BenchmarkValidate1M/canonical x-raw":                   7.588,
				"BenchmarkRun journal-share":                            0.003114,
				"BenchmarkMarkSentRecord/synchronous=FULL %wall@1000/s": 9.12,
				"BenchmarkDiff1M s/plan":                                1.411,
				"BenchmarkActivate10kScaled pct_429":                    1.762,
			},
			wantPkg: map[string]string{
				"BenchmarkRun":         mod + "internal/exec",
				"BenchmarkDiff1M":      mod + "internal/plan",
				"BenchmarkActivate10k": mod + "internal/vendors/oneuc",
			},
		},
		{
			name: "logs between name and numbers, failures", input: "interleaved.txt",
			wantFailed: true,
			// BenchmarkDiff1M failed: no result, and its name must not
			// be given to the next benchmark's numbers.
			wantNames: []string{"BenchmarkRun", "BenchmarkFingerprint1M"},
			check: map[string]float64{
				"BenchmarkRun oneuc-ceiling-share": 0.9644,
				"BenchmarkFingerprint1M s/op":      0.2011,
			},
		},
		{
			name: "repeated", input: "count.txt",
			wantNames: []string{"BenchmarkCreate20k", "BenchmarkCreate20k", "BenchmarkCreate20k"},
		},
		{
			name: "no procs suffix (GOMAXPROCS=1)", inline: true,
			input:     "BenchmarkX \t 3\t 100 ns/op\t 0.5 ratio\n",
			wantNames: []string{"BenchmarkX"},
			check:     map[string]float64{"BenchmarkX ratio": 0.5},
		},
		{
			name: "sub-benchmark name with dashes", inline: true,
			input:     "BenchmarkX/a-b-c-16 \t 3\t 100 ns/op\n",
			wantNames: []string{"BenchmarkX/a-b-c"},
		},
		{
			name: "last line without newline", inline: true,
			input:     "BenchmarkX-2 \t 1\t 7 ns/op\t 2 requests",
			wantNames: []string{"BenchmarkX"},
			check:     map[string]float64{"BenchmarkX requests": 2},
		},
		{
			name: "CRLF", inline: true,
			input:     "BenchmarkX-2 \t 1\t 7 ns/op\t 2 requests\r\n",
			wantNames: []string{"BenchmarkX"},
			check:     map[string]float64{"BenchmarkX requests": 2},
		},
		{
			name: "log line between name and numbers", inline: true,
			input:     "BenchmarkX-2   \tlevel=INFO msg=hi n=3\n       1\t 100 ns/op\t 3 requests\n",
			wantNames: []string{"BenchmarkX"},
			check:     map[string]float64{"BenchmarkX requests": 3},
		},
		{
			name: "log text before the numbers on the name's line", inline: true,
			input:     "BenchmarkX-2   \tlevel=INFO msg=hi n=3       1\t 100 ns/op\t 3 requests\n",
			wantNames: []string{"BenchmarkX"},
			check:     map[string]float64{"BenchmarkX requests": 3},
		},
		{
			name: "failed benchmark's name is not given to later numbers", inline: true,
			input:      "BenchmarkX-2   \t--- FAIL: BenchmarkX-2\n    x_test.go:1: boom\n       1\t 100 ns/op\n",
			wantFailed: true,
		},
		{name: "empty", inline: true, input: ""},
		{name: "FAIL alone", inline: true, input: "FAIL\n", wantFailed: true},
		{name: "build failed", inline: true, input: "FAIL\tgithub.com/numsync/numsync/internal/plan [build failed]\n", wantFailed: true},
		{name: "failed benchmark", inline: true, input: "--- FAIL: BenchmarkX-2\n", wantFailed: true},
		{name: "FAIL inside a word is not a failure", inline: true, input: "level=INFO msg=FAILOVER\n    FAILED_NUMBERS: 0\n"},
		{name: "numbers without a name are dropped", inline: true, input: "       1\t 100 ns/op\n"},
		{name: "a name without numbers is not a result", inline: true, input: "BenchmarkX-2   \t\nPASS\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.input)
			if !tt.inline {
				in = readSample(t, tt.input)
			}
			rep, err := parse(bytes.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Failed != tt.wantFailed {
				t.Errorf("Failed = %v, want %v", rep.Failed, tt.wantFailed)
			}
			var names []string
			for _, r := range rep.Results {
				names = append(names, r.Name)
			}
			if !slices.Equal(names, tt.wantNames) {
				t.Errorf("names =\n %q\nwant\n %q", names, tt.wantNames)
			}
			for key, want := range tt.check {
				name, unit, _ := strings.Cut(key, " ")
				got, ok := lookup(rep, name, unit)
				if !ok {
					t.Errorf("%s: not found", key)
				} else if got != want {
					t.Errorf("%s = %v, want %v", key, got, want)
				}
			}
			for name, want := range tt.wantPkg {
				for _, r := range rep.Results {
					if r.Name == name && r.Pkg != want {
						t.Errorf("%s: pkg %q, want %q", name, r.Pkg, want)
					}
				}
			}
		})
	}
}

func lookup(rep report, name, unit string) (float64, bool) {
	for _, r := range rep.Results {
		if r.Name != name {
			continue
		}
		for _, m := range r.Metrics {
			if m.Unit == unit {
				return m.Value, true
			}
		}
	}
	return 0, false
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name   string
		sample string
		// want maps a known figure's name to its row.
		want map[string]row
		// wantOther are the figure names of "other metrics" rows that must
		// be present; wantNoOther must be absent.
		wantOther, wantNoOther []string
	}{
		{
			name: "full run", sample: "full.txt",
			want: map[string]row{
				"CSV validation ÷ raw read, CPU (canonical)":                         {Target: "≤ 5", Measured: "3.102", Ratio: "0.62", Meets: "yes"},
				"CSV validation ÷ raw read, wall (canonical)":                        {Target: "≤ 5", Measured: "7.588", Ratio: "1.52", Meets: "NO"},
				"plan diff + JSON render, 1M rows (s)":                               {Target: "≤ 2", Measured: "1.411", Ratio: "0.71", Meets: "yes"},
				"OneUC activate 10k ÷ ceiling":                                       {Target: "≥ 0.95", Measured: "0.9731", Ratio: "1.02", Meets: "yes"},
				"OneUC activate 10k ×10 rate, 429s (% of requests)":                  {Target: "≤ 1", Measured: "1.762", Ratio: "1.76", Meets: "NO"},
				"First Orion create 20k ÷ ceiling":                                   {Target: "≥ 0.95", Measured: "0.8919", Ratio: "0.94", Meets: "NO"},
				"executor journal share of wall time":                                {Target: "≤ 0.05", Measured: "0.003114", Ratio: "0.06", Meets: "yes"},
				"journal StartRun, 100k ops (s)":                                     {Target: "—", Measured: "1.312"},
				"apply end to end, 429 share":                                        {Target: "≤ 0.01", Measured: "not run"},
				"nightly no-op, requests (expect listing pages + 1 auth per vendor)": {Target: "—", Measured: "not run"},
			},
			wantOther: []string{
				"internal/vendors/firstorion BenchmarkCreate20k 429s/op",
				"internal/exec BenchmarkRun numbers/s",
				// No custom metric: its ns/op is all there is to show.
				"internal/desired BenchmarkNormalize/library ns/op",
			},
			wantNoOther: []string{
				"internal/vendors/firstorion BenchmarkCreate20k ns/op",
				"internal/vendors/firstorion BenchmarkCreate20k B/op",
				"internal/desired BenchmarkNormalize/library B/op",
				// Claimed by a figure.
				"internal/vendors/firstorion BenchmarkCreate20k ratio",
			},
		},
		{
			name: "repeated run shows the worst", sample: "count.txt",
			want: map[string]row{
				"First Orion create 20k ÷ ceiling": {Target: "≥ 0.95", Measured: "0.8919 (worst of 3)", Ratio: "0.94", Meets: "NO"},
				"executor OneUC ÷ ceiling":         {Target: "≥ 0.95", Measured: "not run"},
			},
			wantOther: []string{"internal/vendors/firstorion BenchmarkCreate20k 429s/op"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := parse(bytes.NewReader(readSample(t, tt.sample)))
			if err != nil {
				t.Fatal(err)
			}
			known, other := summarize(rep, figures)
			if len(known) != len(figures) {
				t.Fatalf("%d known rows, want one per figure (%d)", len(known), len(figures))
			}
			for name, want := range tt.want {
				want.Figure = name
				i := slices.IndexFunc(known, func(r row) bool { return r.Figure == name })
				if i < 0 {
					t.Errorf("no row %q", name)
					continue
				}
				if known[i] != want {
					t.Errorf("row %q =\n %+v\nwant\n %+v", name, known[i], want)
				}
			}
			has := func(name string) bool {
				return slices.ContainsFunc(other, func(r row) bool { return r.Figure == name })
			}
			for _, name := range tt.wantOther {
				if !has(name) {
					t.Errorf("other metrics lack %q", name)
				}
			}
			for _, name := range tt.wantNoOther {
				if has(name) {
					t.Errorf("other metrics list %q", name)
				}
			}
		})
	}
}

// TestFiguresWellFormed guards the figure table against a slip when a row
// is added: a target with no direction would print as information only.
func TestFiguresWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range figures {
		if f.Name == "" || f.Bench == "" || f.Unit == "" {
			t.Errorf("incomplete figure %+v", f)
		}
		if seen[f.Name] {
			t.Errorf("figure %q listed twice", f.Name)
		}
		seen[f.Name] = true
		if (f.Dir == noTarget) != (f.Target == 0) {
			t.Errorf("figure %q: direction and target disagree", f.Name)
		}
		if !strings.HasPrefix(f.Bench, "Benchmark") {
			t.Errorf("figure %q: bench %q", f.Name, f.Bench)
		}
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		sample   string
		wantCode int
	}{
		{"firstorion.txt", 0},
		{"full.txt", 0}, // figures missing their targets still exit 0
		{"count.txt", 0},
		{"interleaved.txt", 1},
	}
	for _, tt := range tests {
		t.Run(tt.sample, func(t *testing.T) {
			in := readSample(t, tt.sample)
			var stdout, stderr bytes.Buffer
			if code := run(bytes.NewReader(in), &stdout, &stderr); code != tt.wantCode {
				t.Errorf("exit %d, want %d", code, tt.wantCode)
			}
			if stderr.Len() > 0 {
				t.Errorf("stderr: %s", stderr.String())
			}
			out := stdout.Bytes()
			if !bytes.HasPrefix(out, in) {
				t.Fatal("input not echoed unchanged ahead of the summary")
			}
			summary := string(out[len(in):])
			if !strings.Contains(summary, "FIGURE") || !strings.Contains(summary, "TARGET") {
				t.Errorf("no table header in summary:\n%s", summary)
			}
			for line := range strings.Lines(summary) {
				if strings.HasSuffix(strings.TrimSuffix(line, "\n"), " ") {
					t.Errorf("trailing blanks: %q", line)
				}
			}
		})
	}
}
