package desired

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// benchAreaCodes are real, assigned US area codes, so the generated file is
// valid and the benchmark measures the success path.
var benchAreaCodes = []int{201, 202, 203, 205, 206, 212, 213, 214, 215, 216, 303, 305, 312, 313, 404, 415, 503, 512, 602, 617, 646, 702, 713, 718, 805, 813, 917, 919}

// writeBenchCSV writes rows rows: numbers spread over thousands-blocks (as
// carriers assign them), a share mixed in national formats.
func writeBenchCSV(tb testing.TB, rows int, nationalPct int) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "desired.csv")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(1, 2))
	fmt.Fprintln(w, "phone_number,cnam,brand_business_unit,brand_program,brand_channel,authenticated_calls")
	const perBlock = 500
	channels := []string{"callerName", "callerImage", "blocking"}
	for i := 0; i < rows; i++ {
		block, sub := i/perBlock, i%perBlock
		npa := benchAreaCodes[block%len(benchAreaCodes)]
		nxx := 200 + (block/len(benchAreaCodes))%800
		x := (block / len(benchAreaCodes) / 800) % 10
		line := sub*2 + (block & 1) // distinct within the block
		var num string
		if r.IntN(100) < nationalPct {
			num = fmt.Sprintf("(%d) %d-%d%03d", npa, nxx, x, line)
		} else {
			num = "+1" + strconv.Itoa(npa) + strconv.Itoa(nxx) + strconv.Itoa(x) + fmt.Sprintf("%03d", line)
		}
		fmt.Fprintf(w, "%s,ACME %d,Sales,Outbound %d,%s,%v\n", num, i%1000, i%7, channels[i%3], i%2 == 0)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// rawRead is the yardstick: Go's encoding/csv reading every record.
func rawRead(tb testing.TB, path string) (int, time.Duration) {
	start := time.Now()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReaderSize(f, 256<<10))
	n := 0
	for {
		_, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		n++
	}
	return n, time.Since(start)
}

// peakHeap samples the live heap while fn runs and returns the largest
// value seen. It reads runtime/metrics, which (unlike ReadMemStats) does not
// stop the world, so sampling does not slow what it measures.
func peakHeap(fn func()) uint64 {
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(stop)
	wg.Wait()
	return peak.Load()
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// vmHWM returns the process's peak resident set from /proc, 0 elsewhere.
func vmHWM() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkValidate1M validates a generated 1,000,000-row CSV and reports
// its rate beside encoding/csv's raw read of the same file.
func BenchmarkValidate1M(b *testing.B) {
	for _, bc := range []struct {
		name        string
		nationalPct int
	}{{"canonical", 0}, {"national10pct", 10}} {
		b.Run(bc.name, func(b *testing.B) {
			const rows = 1_000_000
			path := writeBenchCSV(b, rows, bc.nationalPct)
			raw, rawCPU := time.Duration(1<<62), time.Duration(1<<62)
			for range 3 {
				c0 := cpuTime()
				n, d := rawRead(b, path)
				if n != rows+1 {
					b.Fatalf("raw read %d records", n)
				}
				raw = min(raw, d)
				rawCPU = min(rawCPU, cpuTime()-c0)
			}
			if _, err := nanpPrefixLen(); err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			c0 := cpuTime()
			b.ResetTimer()
			var heap uint64
			for b.Loop() {
				heap = max(heap, peakHeap(func() {
					d, _, err := ReadFile(path, Options{OneUCEnabled: true, FirstOrionEnabled: true})
					if err != nil {
						b.Fatal(err)
					}
					if len(d.Rows) != rows {
						b.Fatalf("%d rows", len(d.Rows))
					}
				}))
			}
			b.StopTimer()
			cpuPerOp := (cpuTime() - c0) / time.Duration(b.N)
			perOp := b.Elapsed() / time.Duration(b.N)
			// Wall-clock figures depend on what else the machine runs; CPU
			// time (all threads, GC included) is the steadier comparison.
			b.ReportMetric(cpuPerOp.Seconds()/rawCPU.Seconds(), "cpu-x-raw")
			b.ReportMetric(cpuPerOp.Seconds(), "cpu-s")
			b.ReportMetric(rows/perOp.Seconds(), "rows/s")
			b.ReportMetric(rows/raw.Seconds(), "raw-rows/s")
			b.ReportMetric(perOp.Seconds()/raw.Seconds(), "x-raw")
			b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
			if hwm := vmHWM(); hwm > 0 {
				b.ReportMetric(float64(hwm)/(1<<20), "peak-rss-MiB")
			}
		})
	}
}

// BenchmarkNormalize compares the fast path with the library per number.
func BenchmarkNormalize(b *testing.B) {
	nums := genNumbers(10_000, 7)
	b.Run("normalizer", func(b *testing.B) {
		p := newPhoneNormalizer("US")
		i := 0
		for b.Loop() {
			p.normalize(nums[i%len(nums)])
			i++
		}
	})
	b.Run("library", func(b *testing.B) {
		i := 0
		for b.Loop() {
			reference(nums[i%len(nums)], "US")
			i++
		}
	})
}

// writeValidateCSV writes issue #12's validation file: rows rows of five
// columns, 80 % of the numbers in E.164 and 20 % in national spellings
// ("(212) 555-0101", "212.555.0101", "1-212-555-0101" in equal shares).
func writeValidateCSV(tb testing.TB, rows int) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "validate.csv")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(12, 1))
	fmt.Fprintln(w, "phone_number,cnam,brand_business_unit,brand_program,authenticated_calls")
	const perBlock = 500
	for i := 0; i < rows; i++ {
		block, sub := i/perBlock, i%perBlock
		npa := benchAreaCodes[block%len(benchAreaCodes)]
		nxx := 200 + (block/len(benchAreaCodes))%800
		x := (block / len(benchAreaCodes) / 800) % 10
		line := fmt.Sprintf("%d%03d", x, sub*2+(block&1))
		var num string
		switch p := r.IntN(100); {
		case p < 80:
			num = fmt.Sprintf("+1%d%d%s", npa, nxx, line)
		case p < 87:
			num = fmt.Sprintf("(%d) %d-%s", npa, nxx, line)
		case p < 94:
			num = fmt.Sprintf("%d.%d.%s", npa, nxx, line)
		default:
			num = fmt.Sprintf("1-%d-%d-%s", npa, nxx, line)
		}
		fmt.Fprintf(w, "%s,ACME %d,Sales,Outbound %d,%v\n", num, i%1000, i%7, i%2 == 0)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// buildNumsync builds the command into dir and returns its path.
func buildNumsync(tb testing.TB, dir string) string {
	tb.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		tb.Fatalf("the go command is needed to build numsync: %v", err)
	}
	bin := filepath.Join(dir, "numsync")
	out, err := exec.Command(goTool, "build", "-o", bin, "github.com/numsync/numsync/cmd/numsync").CombinedOutput()
	if err != nil {
		tb.Fatalf("build numsync: %v\n%s", err, out)
	}
	return bin
}

// launchEnv makes the test binary a launcher: it runs the command whose
// arguments the variable holds (separated by 0x1f), waits, and writes the
// command's wall time, CPU time and peak RSS on its last stderr line. A
// process's ru_maxrss counts the memory of the parent it was forked from
// (the child shares it until exec), so the command is started from this
// small process rather than from the benchmark's large one.
const launchEnv = "NUMSYNC_BENCH_LAUNCH"

func TestMain(m *testing.M) {
	if spec := os.Getenv(launchEnv); spec != "" {
		os.Exit(launch(strings.Split(spec, "\x1f")))
	}
	os.Exit(m.Run())
}

// launch is the launcher's main.
func launch(argv []string) int {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, launchEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "launch:", err)
		return 2
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	fmt.Fprintf(os.Stderr, "\nlaunch: exit=%d wall-ns=%d cpu-ns=%d maxrss-kb=%d\n", cmd.ProcessState.ExitCode(),
		wall.Nanoseconds(), ru.Utime.Nano()+ru.Stime.Nano(), ru.Maxrss)
	return 0
}

// launched runs argv through the launcher and returns its standard output,
// the command's exit code, wall time, CPU time and peak RSS in kB.
func launched(tb testing.TB, dir string, argv ...string) (string, int, time.Duration, time.Duration, int64) {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// No config: the command must not pick one up from the environment
	// or the working directory.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, launchEnv + "=" + strings.Join(argv, "\x1f")}
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("launcher: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	var code int
	var wall, cpu, rss int64
	if _, err := fmt.Sscanf(lines[len(lines)-1], "launch: exit=%d wall-ns=%d cpu-ns=%d maxrss-kb=%d", &code, &wall, &cpu, &rss); err != nil {
		tb.Fatalf("launcher's report: %v\n%s", err, stderr.String())
	}
	return string(out), code, time.Duration(wall), time.Duration(cpu), rss
}

// BenchmarkValidateCommand1M is issue #12's first figure: the whole
// `numsync validate` process on a 1,000,000-row file (80 % E.164, 20 %
// national spellings, five columns), against Go's raw encoding/csv read of
// the same file in this process. Each iteration runs the command three
// times (through a small launcher process, see launchEnv) and keeps the
// best wall and CPU time (as the raw read does) and the largest peak RSS.
func BenchmarkValidateCommand1M(b *testing.B) {
	const rows = 1_000_000
	path := writeValidateCSV(b, rows)
	bin := buildNumsync(b, b.TempDir())
	raw, rawCPU := time.Duration(1<<62), time.Duration(1<<62)
	for range 3 {
		c0 := cpuTime()
		n, d := rawRead(b, path)
		if n != rows+1 {
			b.Fatalf("raw read %d records", n)
		}
		raw = min(raw, d)
		rawCPU = min(rawCPU, cpuTime()-c0)
	}
	wall, cpu := time.Duration(1<<62), time.Duration(1<<62)
	var rss int64
	b.ResetTimer()
	for b.Loop() {
		for range 3 {
			out, code, d, c, kb := launched(b, b.TempDir(), bin, "validate", "--desired", path)
			if code != 0 || !strings.Contains(out, "1000000 rows, 1000000 valid numbers, valid") {
				b.Fatalf("numsync validate exited %d:\n%s", code, out)
			}
			wall, cpu, rss = min(wall, d), min(cpu, c), max(rss, kb)
		}
	}
	b.StopTimer()
	b.ReportMetric(wall.Seconds()/raw.Seconds(), "x-raw")
	b.ReportMetric(cpu.Seconds()/rawCPU.Seconds(), "cpu-x-raw")
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(raw.Seconds(), "raw-s")
	b.ReportMetric(float64(rss)/1024, "peak-rss-MiB")
}
