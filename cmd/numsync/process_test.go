package main

// Process tests: the built numsync binary runs as a separate process, as
// cron runs it, and is killed (SIGKILL), interrupted (SIGINT, SIGTERM) and
// rerun; the labs run in the test process on a loopback listener (or as a
// `numsync lab` child), and the assertions are what the labs recorded.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/labserver"
	"github.com/numsync/numsync/internal/tools/chaos/scenario"
)

// procBuild builds numsync into a temporary directory of t, or skips the
// test when no Go toolchain is on PATH.
func procBuild(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("process tests need the go command on PATH to build numsync")
	}
	bin := filepath.Join(t.TempDir(), "numsync")
	cmd := exec.Command(gobin, "build", "-o", bin, "github.com/numsync/numsync/cmd/numsync")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// procEnv is a numsync process's world: the binary, a config pointing at
// labs, a journal, a CSV, and a directory for outputs.
type procEnv struct {
	t        *testing.T
	bin, dir string
	cfg, csv string
	journal  string
	runs     int
}

// procChild is one running numsync process.
type procChild struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{}
	code           int
	signaled       bool
}

func newProcEnv(t *testing.T, bin, base string, csv []byte) *procEnv {
	t.Helper()
	dir := t.TempDir()
	e := &procEnv{t: t, bin: bin, dir: dir, journal: filepath.Join(dir, "journal.db")}
	e.cfg = filepath.Join(dir, "numsync.yaml")
	conf := scenario.ConfigYAML(base, scenario.Options{RPS: 200, Concurrency: 4, Journal: e.journal})
	if err := os.WriteFile(e.cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	e.csv = filepath.Join(dir, "desired.csv")
	if err := os.WriteFile(e.csv, csv, 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

// start runs `numsync ARGS --config … --journal … --no-progress` with the
// lab credentials in its environment.
func (e *procEnv) start(args ...string) *procChild {
	e.t.Helper()
	full := append([]string{args[0], "--config", e.cfg, "--journal", e.journal, "--no-progress"}, args[1:]...)
	c := &procChild{cmd: exec.Command(e.bin, full...), done: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), scenario.Env()...)
	c.cmd.Dir = e.dir
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	if err := c.cmd.Start(); err != nil {
		e.t.Fatalf("start numsync: %v", err)
	}
	e.runs++
	go func() {
		_ = c.cmd.Wait()
		c.code = c.cmd.ProcessState.ExitCode()
		if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			c.signaled = true
		}
		close(c.done)
	}()
	return c
}

// wait waits for the process; a hang guard kills it after two minutes.
func (c *procChild) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(2 * time.Minute):
		_ = c.cmd.Process.Kill()
		<-c.done
		t.Fatalf("numsync %v hung; stderr:\n%s", c.cmd.Args[1:], c.stderr.String())
	}
	return c.code
}

func (c *procChild) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// run runs a command to its end and returns its exit code and output.
func (e *procEnv) run(args ...string) (int, string, string) {
	e.t.Helper()
	c := e.start(args...)
	code := c.wait(e.t)
	return code, c.stdout.String(), c.stderr.String()
}

// procWrites counts the write requests both labs received so far.
func procWrites(srv *labserver.Server) int {
	st := srv.Snapshot()
	return st.OneUC.Writes + st.FirstOrion.Writes
}

// procSettle waits until the labs stop receiving writes: requests a
// killed process had in flight still reach the lab for a moment after its
// death, and must not pass for the next process's first writes.
func procSettle(srv *labserver.Server) {
	for w := procWrites(srv); ; {
		time.Sleep(300 * time.Millisecond)
		now := procWrites(srv)
		if now == w {
			return
		}
		w = now
	}
}

// waitForWrites waits until the labs received more than from writes, or
// the process ended; it reports whether writes began.
func waitForWrites(t *testing.T, srv *labserver.Server, c *procChild, from int) bool {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if c.exited() {
			return false
		}
		if procWrites(srv) > from {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("numsync sent no write within 90 s")
	return false
}

// procTokens records the tokens numsync presented to the labs.
type procTokens struct {
	mu  sync.Mutex
	set map[string]bool
}

// secrets are the lab credentials and every token presented.
func (p *procTokens) secrets() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := scenario.Secrets()
	for tok := range p.set {
		out = append(out, tok)
	}
	return out
}

// procLab serves both labs seeded with sc on a loopback listener.
func procLab(t *testing.T, sc *scenario.Scenario, latency time.Duration) (*labserver.Server, string, *procTokens) {
	t.Helper()
	srv := labserver.New(labserver.Options{Latency: latency, Seed: 7, StatusDelay: time.Second})
	if err := sc.Seed(srv); err != nil {
		t.Fatalf("seed labs: %v", err)
	}
	toks := &procTokens{set: map[string]bool{}}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, h := range []string{"X-Auth-Token", "Authorization"} {
			if v := strings.TrimSpace(strings.TrimPrefix(r.Header.Get(h), "Bearer ")); v != "" {
				toks.mu.Lock()
				toks.set[v] = true
				toks.mu.Unlock()
			}
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	return srv, hs.URL, toks
}

// checkScenario asserts every invariant of the scenario against the labs,
// and that a final plan shows no changes.
func checkScenario(t *testing.T, e *procEnv, srv *labserver.Server, sc *scenario.Scenario) {
	t.Helper()
	for _, v := range scenario.Check(srv.Snapshot(), sc) {
		if !v.OK() {
			t.Errorf("%s: %d violations, e.g. %s", v.Invariant, v.Violations, strings.Join(v.Examples, "; "))
		}
	}
	if code, out, errs := e.run("plan", "--desired", e.csv, "--detailed-exitcode"); code != ExitOK {
		t.Errorf("final plan exited %d, want 0 (no changes)\n%s\n%s", code, out, errs)
	}
}

// noSecrets asserts no lab credential or token-looking value is in the
// outputs, the report or the journal. secrets are the lab credentials
// and every token numsync presented.
func noSecrets(t *testing.T, e *procEnv, secrets []string, outputs map[string]string) {
	t.Helper()
	for _, f := range []string{e.journal, e.journal + "-wal"} {
		if b, err := os.ReadFile(f); err == nil {
			for _, leak := range scenario.ScanSecrets(filepath.Base(f), b, secrets, nil) {
				if !strings.Contains(leak, "token-looking") { // bytes cut at pages: judged as text below
					t.Error(leak)
				}
			}
		}
	}
	text, err := scenario.JournalText(e.journal)
	if err != nil {
		t.Fatal(err)
	}
	outputs["journal"] = string(text)
	for name, s := range outputs {
		for _, leak := range scenario.ScanSecrets(name, []byte(s), secrets, []string{labserver.OneUCAccountID}) {
			t.Error(leak)
		}
	}
}

// TestProcess runs the built binary as cron would. One build serves the
// subtests.
func TestProcess(t *testing.T) {
	bin := procBuild(t)
	t.Run("SIGKILL at random moments, rerun: converges, nothing applied twice", func(t *testing.T) {
		testKillNine(t, bin)
	})
	t.Run("SIGINT exits 130 and SIGTERM 143, both resumable", func(t *testing.T) {
		testSignals(t, bin)
	})
	t.Run("plan and apply as processes against a numsync lab process", func(t *testing.T) {
		testLabProcess(t, bin)
	})
}

// testKillNine: numsync killed with SIGKILL mid-run several times, then
// rerun until it is done, converges with no activation, update or First
// Orion change applied twice, First Orion untouched before activation,
// no delete-all call, and the rerun after a kill says it resumes.
func testKillNine(t *testing.T, bin string) {
	sc := scenario.Generate(300, 11)
	srv, base, toks := procLab(t, sc, 40*time.Millisecond)
	e := newProcEnv(t, bin, base, sc.CSV)
	rnd := rand.New(rand.NewPCG(11, 6))
	outputs := map[string]string{}
	const kills = 3
	killed := 0
	for i := 1; i <= kills; i++ {
		procSettle(srv)
		from := procWrites(srv)
		report := filepath.Join(e.dir, fmt.Sprintf("report-%d.json", i))
		c := e.start("apply", "--desired", e.csv, "--report", report)
		began := waitForWrites(t, srv, c, from)
		if began {
			d := time.Duration(rnd.IntN(1200)) * time.Millisecond
			time.Sleep(d)
			_ = c.cmd.Process.Signal(syscall.SIGKILL)
			t.Logf("apply %d: SIGKILL %s after its first write (%d writes so far)", i, d, procWrites(srv))
		}
		code := c.wait(t)
		outputs[fmt.Sprintf("apply %d stdout", i)] = c.stdout.String()
		outputs[fmt.Sprintf("apply %d stderr", i)] = c.stderr.String()
		if !c.signaled {
			t.Logf("apply %d ended by itself (exit %d) before its kill", i, code)
			break
		}
		killed++
		if i > 1 && !strings.Contains(c.stderr.String(), "resuming run") {
			t.Errorf("apply %d after a kill did not say it resumes; stderr:\n%s", i, c.stderr.String())
		}
	}
	if killed == 0 {
		t.Fatal("no apply was killed mid-run: the run is too short for this test")
	}
	var code int
	var stderr string
	for i := 1; ; i++ {
		var stdout string
		code, stdout, stderr = e.run("apply", "--desired", e.csv, "--report", filepath.Join(e.dir, "report-final.json"))
		outputs[fmt.Sprintf("rerun %d stdout", i)] = stdout
		outputs[fmt.Sprintf("rerun %d stderr", i)] = stderr
		if i == 1 && !strings.Contains(stderr, "resuming run") {
			t.Errorf("the rerun after a kill did not say \"resuming run\"; stderr:\n%s", stderr)
		}
		if code == ExitOK || i == 4 {
			break
		}
		t.Logf("rerun %d exited %d; stderr:\n%s", i, code, stderr)
	}
	if code != ExitOK {
		t.Fatalf("apply after %d kills exited %d, want 0; stderr:\n%s", killed, code, stderr)
	}
	checkScenario(t, e, srv, sc)
	if b, err := os.ReadFile(filepath.Join(e.dir, "report-final.json")); err == nil {
		outputs["report"] = string(b)
	}
	noSecrets(t, e, toks.secrets(), outputs)
}

// testSignals: SIGINT mid-run stops sending, finishes what is in flight
// and exits 130 saying how to resume; SIGTERM on the resumed run exits
// 143 the same way; the next apply resumes and converges.
func testSignals(t *testing.T, bin string) {
	sc := scenario.Generate(300, 12)
	srv, base, toks := procLab(t, sc, 40*time.Millisecond)
	e := newProcEnv(t, bin, base, sc.CSV)
	outputs := map[string]string{}
	for i, sig := range []struct {
		sig  syscall.Signal
		name string
		code int
	}{{syscall.SIGINT, "SIGINT", ExitSIGINT}, {syscall.SIGTERM, "SIGTERM", ExitSIGTERM}} {
		procSettle(srv)
		from := procWrites(srv)
		c := e.start("apply", "--desired", e.csv)
		if !waitForWrites(t, srv, c, from) {
			t.Fatalf("apply ended (exit %d) before any write: the run is too short for this test\n%s", c.code, c.stderr.String())
		}
		_ = c.cmd.Process.Signal(sig.sig)
		code := c.wait(t)
		stderr := c.stderr.String()
		outputs[sig.name+" stdout"], outputs[sig.name+" stderr"] = c.stdout.String(), stderr
		if code != sig.code {
			t.Fatalf("apply stopped by %s exited %d, want %d; stderr:\n%s", sig.name, code, sig.code, stderr)
		}
		for _, want := range []string{"stopped (" + sig.name + ")", "resumable", "run the same command again to resume"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("apply stopped by %s: stderr lacks %q:\n%s", sig.name, want, stderr)
			}
		}
		if i > 0 && !strings.Contains(stderr, "resuming run") {
			t.Errorf("the apply after an interrupted one did not say it resumes:\n%s", stderr)
		}
	}
	code, stdout, stderr := e.run("apply", "--desired", e.csv)
	outputs["rerun stdout"], outputs["rerun stderr"] = stdout, stderr
	if code != ExitOK {
		t.Fatalf("apply after SIGINT and SIGTERM exited %d, want 0; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "resuming run") {
		t.Errorf("the apply after an interrupted one did not say it resumes:\n%s", stderr)
	}
	checkScenario(t, e, srv, sc)
	noSecrets(t, e, toks.secrets(), outputs)
}

// procSampleOutcomes are the samples' deliberate permanent outcomes (see
// samples/): 5 failed, 4 skipped because their activation failed.
var procSampleOutcomes = []string{
	"failed: oneuc activate +16462190000",
	"failed: oneuc activate +16462199999",
	"failed: oneuc update +12126341211",
	"failed: oneuc update +14153921212",
	"failed: firstorion assign +15012149020",
	"skipped: oneuc update +16462190000",
	"skipped: firstorion assign +16462190000",
	"skipped: oneuc update +16462199999",
	"skipped: firstorion assign +16462199999",
}

// testLabProcess: `numsync lab` runs as a process and prints its address;
// samples/numsync.yaml pointed at it, `plan --out` and `apply` run as
// separate processes; apply ends with exit 3 and exactly the samples'
// nine permanent outcomes, the lab's stats show every other number
// converged, a second plan holds only those nine, and the lab stops
// cleanly on SIGINT.
func testLabProcess(t *testing.T, bin string) {
	dir := t.TempDir()
	lab := exec.Command(bin, "lab", "--listen", "127.0.0.1:0", "--rps", "0", "--rand-seed", "3")
	// A file, not a buffer: the lab writes it directly while the test
	// reads it.
	labErr, err := os.Create(filepath.Join(dir, "lab.stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer labErr.Close()
	lab.Stderr = labErr
	labLog := func() string { b, _ := os.ReadFile(labErr.Name()); return string(b) }
	stdout, err := lab.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := lab.Start(); err != nil {
		t.Fatal(err)
	}
	labDone := make(chan int, 1)
	t.Cleanup(func() {
		if lab.ProcessState == nil {
			_ = lab.Process.Kill()
			<-labDone
		}
	})
	first := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		first <- line
		_, _ = io.Copy(io.Discard, r)
	}()
	go func() { _ = lab.Wait(); labDone <- lab.ProcessState.ExitCode() }()
	var base string
	select {
	case line := <-first:
		m := regexp.MustCompile(`OneUC at (http://127\.0\.0\.1:[0-9]+)/oneuc, First Orion at http://127\.0\.0\.1:[0-9]+/firstorion, stats at http://127\.0\.0\.1:[0-9]+/_lab/stats`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("numsync lab's first line is %q, not its addresses", line)
		}
		base = m[1]
	case <-time.After(60 * time.Second):
		t.Fatalf("numsync lab printed no address; stderr:\n%s", labLog())
	}

	sample, err := os.ReadFile(filepath.Join("..", "..", "samples", "numsync.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.ReplaceAll(string(sample), "http://127.0.0.1:8080", base)
	// The lab has no rate limit here: numsync may go faster than the
	// vendors' documented 10 requests a second.
	conf = strings.ReplaceAll(conf, "rate: {rps: 10, burst: 10}", "rate: {rps: 200, burst: 200}")
	if !strings.Contains(conf, base+"/oneuc") || !strings.Contains(conf, base+"/firstorion") {
		t.Fatalf("samples/numsync.yaml does not point at the lab's default address:\n%s", sample)
	}
	csv, err := os.ReadFile(filepath.Join("..", "..", "samples", "desired.csv"))
	if err != nil {
		t.Fatal(err)
	}
	e := &procEnv{t: t, bin: bin, dir: dir, journal: filepath.Join(dir, "journal.db"),
		cfg: filepath.Join(dir, "numsync.yaml"), csv: filepath.Join(dir, "desired.csv")}
	if err := os.WriteFile(e.cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.csv, csv, 0o644); err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{}
	planPath := filepath.Join(dir, "plan.json")
	code, out, errs := e.run("plan", "--desired", e.csv, "--out", planPath)
	outputs["plan stdout"], outputs["plan stderr"] = out, errs
	if code != ExitOK {
		t.Fatalf("plan exited %d; stderr:\n%s", code, errs)
	}
	if b, err := os.ReadFile(planPath); err != nil {
		t.Fatalf("plan --out wrote no plan: %v", err)
	} else {
		outputs["plan.json"] = string(b)
	}
	before := procStats(t, base)
	if before.OneUC.Writes+before.FirstOrion.Writes != 0 {
		t.Errorf("plan wrote to the labs: %d OneUC and %d First Orion writes", before.OneUC.Writes, before.FirstOrion.Writes)
	}

	code, out, errs = e.run("apply", "--desired", e.csv, "--report", filepath.Join(dir, "report.json"))
	outputs["apply stdout"], outputs["apply stderr"] = out, errs
	if code != ExitFailed {
		t.Fatalf("apply exited %d, want 3 (the samples' permanent failures); stderr:\n%s", code, errs)
	}
	listed := 0
	for _, line := range strings.Split(errs, "\n") {
		if strings.HasPrefix(line, "failed: ") || strings.HasPrefix(line, "skipped: ") {
			listed++
		}
	}
	for _, want := range procSampleOutcomes {
		if !strings.Contains(errs, want) {
			t.Errorf("apply did not list %q", want)
		}
	}
	if listed != len(procSampleOutcomes) {
		t.Errorf("apply listed %d failed or skipped operations, want %d:\n%s", listed, len(procSampleOutcomes), errs)
	}

	st := procStats(t, base)
	if st.FirstOrion.DeleteAllCalls != 0 {
		t.Errorf("%d First Orion delete-all calls", st.FirstOrion.DeleteAllCalls)
	}
	for n, c := range st.OneUC.Counts {
		if c.Activated > 1 || c.Patched > 1 || c.Posted > 0 {
			t.Errorf("%s: applied more than once at OneUC: %+v", n, c)
		}
	}
	for n, m := range st.FirstOrion.Mutations {
		if m > 3 {
			t.Errorf("%s: %d changes at First Orion, more than any one operation needs", n, m)
		}
	}
	for n, at := range st.OneUC.Activations {
		if fw, ok := st.FirstOrion.FirstWrites[n]; ok && !fw.After(at) {
			t.Errorf("%s: First Orion written at %s, before its activation at %s", n, fw, at)
		}
	}
	for _, n := range []string{"+16462190000", "+16462199999"} {
		if _, held := st.OneUC.Numbers[n]; held {
			t.Errorf("%s is held, but the carrier cannot supply it", n)
		}
		if _, there := st.FirstOrion.Numbers[n]; there {
			t.Errorf("%s is at First Orion although its activation failed", n)
		}
	}

	code, out, errs = e.run("plan", "--desired", e.csv, "--format", "csv", "--detailed-exitcode")
	if code != ExitChanges {
		t.Fatalf("second plan exited %d, want 2 (the known failures remain); stderr:\n%s", code, errs)
	}
	var ops []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		f := strings.Split(line, ",")
		if len(f) > 4 {
			ops = append(ops, line)
		}
	}
	if len(ops) != 9 {
		t.Errorf("second plan has %d operations, want the 9 known permanent ones:\n%s", len(ops), out)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "report.json")); err == nil {
		outputs["report"] = string(b)
	}
	outputs["lab stderr"] = labLog()
	noSecrets(t, e, scenario.Secrets(), outputs)

	_ = lab.Process.Signal(syscall.SIGINT)
	select {
	case code := <-labDone:
		if code != 0 {
			t.Errorf("numsync lab exited %d on SIGINT, want 0; stderr:\n%s", code, labLog())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("numsync lab did not stop within 30 s of SIGINT")
	}
}

// procStats reads GET /_lab/stats.
func procStats(t *testing.T, base string) labserver.Stats {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(base + "/_lab/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st labserver.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("/_lab/stats: %v", err)
	}
	return st
}
