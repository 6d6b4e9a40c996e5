// Command chaos is a bounded, self-stopping soak of numsync against the
// vendor labs (`make chaos`). It starts `numsync lab` with faults (503s,
// writes whose answer is lost, 429s, short-lived tokens, latency), applies
// a large generated CSV, SIGKILLs numsync at random moments for a number
// of trials, reruns it until the run is done, and then checks against the
// labs' request logs that every number converged, that no change was
// applied twice, that no First Orion write on a number preceded its OneUC
// activation and that no delete-all call was made; and that no secret or
// token appears in any log, report, saved plan or journal. It prints a
// table per trial and one verdict per invariant, and exits 1 on any
// violation (2 on a harness error).
//
// Scale with CHAOS_TRIALS, CHAOS_SECONDS (overall bound), CHAOS_NUMBERS
// and CHAOS_SEED, or the matching flags:
//
//	go run ./internal/tools/chaos -trials 5 -seconds 300 -numbers 2000
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/numsync/numsync/internal/labserver"
	"github.com/numsync/numsync/internal/tools/chaos/scenario"
)

type options struct {
	bin       string
	trials    int
	seconds   int
	numbers   int
	seed      int64
	labRPS    float64
	rps       float64
	faultRate float64
	lostRate  float64
	tokenTTL  time.Duration
	latency   time.Duration
	keep      bool
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "", "numsync binary to soak (default: go build ./cmd/numsync into a temporary directory)")
	flag.IntVar(&o.trials, "trials", envInt("CHAOS_TRIALS", 5), "runs to SIGKILL at a random moment ($CHAOS_TRIALS)")
	flag.IntVar(&o.seconds, "seconds", envInt("CHAOS_SECONDS", 300), "bound in seconds on the trials and reruns; the final checks add up to a minute or two ($CHAOS_SECONDS)")
	flag.IntVar(&o.numbers, "numbers", envInt("CHAOS_NUMBERS", 2000), "rows of the generated CSV ($CHAOS_NUMBERS)")
	flag.Int64Var(&o.seed, "seed", int64(envInt("CHAOS_SEED", 1)), "seed of the scenario, the labs and the kill moments ($CHAOS_SEED)")
	flag.Float64Var(&o.labRPS, "lab-rps", 25, "each lab's request ceiling (429 beyond)")
	flag.Float64Var(&o.rps, "rps", 50, "numsync's request rate per vendor (above -lab-rps, to draw 429s)")
	flag.Float64Var(&o.faultRate, "fault-rate", 0.10, "share of requests the labs answer 503")
	flag.Float64Var(&o.lostRate, "lost-rate", 0.05, "share of writes carried out whose answer is lost")
	flag.DurationVar(&o.tokenTTL, "token-ttl", 20*time.Second, "token lifetime at both labs")
	flag.DurationVar(&o.latency, "latency", 20*time.Millisecond, "latency of every lab answer")
	flag.BoolVar(&o.keep, "keep", false, "keep the working directory (logs, journal, reports)")
	flag.Parse()
	code, err := run(o, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
	}
	os.Exit(code)
}

// trial is one apply the harness ran.
type trial struct {
	name    string
	mode    string // "kill in execution", "kill anytime", "to the end"
	killAt  time.Duration
	killed  bool
	exit    int
	resumed bool
	// nothingToDo: the run found every number in step (a kill that
	// landed after its predecessor finished leaves nothing to resume).
	nothingToDo bool
	converged   int
	took        time.Duration
}

// soak is one chaos run's state.
type soak struct {
	o        options
	out      io.Writer
	dir      string
	bin      string
	csv      string
	cfg      string
	base     string
	sc       *scenario.Scenario
	rnd      *rand.Rand
	deadline time.Time
	trials   []trial
	scanned  []string // files to scan for secrets
	failures []string // operations that failed for good
	notes    []string
}

func run(o options, out io.Writer) (int, error) {
	start := time.Now()
	s := &soak{o: o, out: out, rnd: rand.New(rand.NewPCG(uint64(o.seed), 0x6b696c6c)),
		deadline: start.Add(time.Duration(o.seconds) * time.Second)}
	var err error
	if s.dir, err = os.MkdirTemp("", "numsync-chaos-"); err != nil {
		return 2, err
	}
	if o.keep {
		fmt.Fprintf(out, "chaos: working directory %s (kept)\n", s.dir)
	} else {
		defer os.RemoveAll(s.dir)
	}
	if s.bin, err = s.binary(); err != nil {
		return 2, err
	}
	s.sc = scenario.Generate(o.numbers, o.seed)
	seedDir := filepath.Join(s.dir, "seed")
	if err := os.Mkdir(seedDir, 0o755); err != nil {
		return 2, err
	}
	if s.csv, err = s.sc.WriteFiles(seedDir); err != nil {
		return 2, err
	}
	lab, err := s.startLab(seedDir)
	if err != nil {
		return 2, err
	}
	defer lab.kill()
	s.cfg = filepath.Join(s.dir, "numsync.yaml")
	conf := scenario.ConfigYAML(s.base, scenario.Options{RPS: o.rps, MaxAttempts: 10, Timeout: "10s",
		Journal: filepath.Join(s.dir, "journal.db")})
	if err := os.WriteFile(s.cfg, []byte(conf), 0o644); err != nil {
		return 2, err
	}
	fmt.Fprintf(out, "chaos: %d numbers (%s), %d trials, bound %ds, seed %d; labs at %s with %.0f%% 503, %.0f%% lost answers, %g rps (numsync %g), tokens %s, latency %s\n",
		o.numbers, kindSummary(s.sc), o.trials, o.seconds, o.seed, s.base, 100*o.faultRate, 100*o.lostRate,
		o.labRPS, o.rps, o.tokenTTL, o.latency)

	violations := map[string][]string{}
	if err := s.savePlan(); err != nil {
		return 2, err
	}
	for i := 1; i <= o.trials && time.Now().Before(s.deadline); i++ {
		t, err := s.killTrial(i)
		if err != nil {
			return 2, err
		}
		s.trials = append(s.trials, t)
	}
	done, err := s.finish()
	if err != nil {
		return 2, err
	}
	if !done {
		violations["the run finished within the bound"] = []string{fmt.Sprintf("not done after %ds", o.seconds)}
	}
	for i := 1; i < len(s.trials); i++ {
		prev, t := s.trials[i-1], s.trials[i]
		if prev.killed && prev.mode == modeExec && !t.resumed && !t.nothingToDo {
			violations["a rerun after a kill resumes its run"] = append(violations["a rerun after a kill resumes its run"],
				fmt.Sprintf("%s did not say \"resuming run\" after %s was killed mid-run", t.name, prev.name))
		}
	}
	if code, err := s.finalPlan(); err != nil {
		return 2, err
	} else if code != 0 {
		violations["a final plan shows no changes"] = []string{fmt.Sprintf("plan --detailed-exitcode exited %d", code)}
	}
	st, err := fetchStats(s.base)
	if err != nil {
		return 2, err
	}
	verdicts := scenario.Check(st, s.sc)

	labCode := lab.stop()
	if labCode != 0 {
		violations["the lab stops cleanly on SIGINT"] = []string{fmt.Sprintf("numsync lab exited %d", labCode)}
	}
	s.scanned = append(s.scanned, lab.logPath)
	allowed := []string{labserver.OneUCAccountID}
	var leaks []string
	for _, f := range s.scanned {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		leaks = append(leaks, scenario.ScanSecrets(filepath.Base(f), b, scenario.Secrets(), allowed)...)
	}
	// The journal's bytes are searched for the credentials; its values,
	// read back as text, for tokens too (bytes cut values at pages).
	journal := filepath.Join(s.dir, "journal.db")
	for _, ext := range []string{"", "-wal"} {
		if b, err := os.ReadFile(journal + ext); err == nil {
			leaks = append(leaks, scenario.ScanSecrets("journal.db"+ext, b, scenario.Secrets(), nil)...)
			leaks = slicesDeleteTokenLooking(leaks)
		}
	}
	text, err := scenario.JournalText(journal)
	if err != nil {
		return 2, err
	}
	leaks = append(leaks, scenario.ScanSecrets("journal", text, scenario.Secrets(), allowed)...)
	s.scanned = append(s.scanned, journal)

	s.printTrials()
	fmt.Fprintf(out, "\nlab: OneUC %d requests (%d answered 429, %d 503, %d answers lost, %d logins); First Orion %d requests (%d writes, %d answered 429, %d 503)\n",
		st.OneUC.Stats.Requests, st.OneUC.Stats.Throttled, st.OneUC.Stats.Faults, st.OneUC.Stats.Lost, st.OneUC.Stats.Logins,
		st.FirstOrion.Requests, st.FirstOrion.Writes, st.FirstOrion.Throttled, st.FirstOrion.Faults)
	for _, n := range s.notes {
		fmt.Fprintln(out, "note:", n)
	}
	failed := false
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\ninvariant\tresult\tdetail")
	row := func(name string, bad []string) {
		if len(bad) == 0 {
			fmt.Fprintf(tw, "%s\tok\t\n", name)
			return
		}
		failed = true
		fmt.Fprintf(tw, "%s\tVIOLATED (%d)\t%s\n", name, len(bad), strings.Join(first(bad, 3), "; "))
	}
	row("the run finished within the bound", violations["the run finished within the bound"])
	row("a rerun after a kill resumes its run", violations["a rerun after a kill resumes its run"])
	row("a final plan shows no changes", violations["a final plan shows no changes"])
	row("no operation failed for good (every fault is transient)", s.failures)
	for _, v := range verdicts {
		if v.OK() {
			row(v.Invariant, nil)
			continue
		}
		bad := v.Examples
		if v.Violations > len(bad) {
			bad = append(bad, fmt.Sprintf("… %d in all", v.Violations))
		}
		row(v.Invariant, bad)
	}
	row(fmt.Sprintf("no secret or token in %d logs, reports, plan, journal", len(s.scanned)), leaks)
	row("the lab stops cleanly on SIGINT", violations["the lab stops cleanly on SIGINT"])
	_ = tw.Flush()
	verdict := "PASS"
	if failed {
		verdict = "FAIL"
	}
	fmt.Fprintf(out, "\nchaos: %s in %s\n", verdict, time.Since(start).Round(100*time.Millisecond))
	if failed {
		if !o.keep {
			fmt.Fprintln(out, "chaos: rerun with -keep to keep the logs, journal and reports")
		}
		return 1, nil
	}
	return 0, nil
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("… %d in all", len(s)))
	}
	return s
}

func kindSummary(sc *scenario.Scenario) string {
	c := sc.Counts()
	return fmt.Sprintf("%d to activate, %d OneUC updates, %d First Orion assigns, %d moves, %d updates, %d removals",
		c[scenario.Discover]+c[scenario.Reserved], c[scenario.CNAMChange]+c[scenario.E911Change],
		c[scenario.Assign], c[scenario.MoveProgram]+c[scenario.MoveUnit], c[scenario.PurposeChange]+c[scenario.AuthChange],
		c[scenario.Remove])
}

// binary returns the numsync binary: -bin, or one built now.
func (s *soak) binary() (string, error) {
	if s.o.bin != "" {
		return filepath.Abs(s.o.bin)
	}
	bin := filepath.Join(s.dir, "numsync")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/numsync/numsync/cmd/numsync")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build numsync: %w", err)
	}
	return bin, nil
}

// labProc is the `numsync lab` child.
type labProc struct {
	cmd     *exec.Cmd
	logPath string
	waited  chan error
}

var labLine = regexp.MustCompile(`OneUC at (http://[^ ,]+)/oneuc`)

func (s *soak) startLab(seedDir string) (*labProc, error) {
	o := s.o
	lp := &labProc{logPath: filepath.Join(s.dir, "lab.log"), waited: make(chan error, 1)}
	logf, err := os.Create(lp.logPath)
	if err != nil {
		return nil, err
	}
	lp.cmd = exec.Command(s.bin, "lab", "--listen", "127.0.0.1:0", "--seed", seedDir,
		"--rps", fmt.Sprint(o.labRPS), "--fault-rate", fmt.Sprint(o.faultRate), "--lost-rate", fmt.Sprint(o.lostRate),
		"--token-ttl", o.tokenTTL.String(), "--latency", o.latency.String(), "--rand-seed", fmt.Sprint(o.seed))
	stdout, err := lp.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	lp.cmd.Stderr = logf
	if err := lp.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start numsync lab: %w", err)
	}
	go func() { lp.waited <- lp.cmd.Wait(); logf.Close() }()
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		lines <- line
		// The rest of stdout is the banner: a configuration snippet that
		// names the lab's credentials on purpose. It is not scanned; the
		// lab's log (stderr) is.
		_, _ = io.Copy(io.Discard, r)
	}()
	select {
	case line := <-lines:
		m := labLine.FindStringSubmatch(line)
		if m == nil {
			lp.kill()
			return nil, fmt.Errorf("numsync lab printed %q, not its address", line)
		}
		s.base = m[1]
	case <-time.After(30 * time.Second):
		lp.kill()
		return nil, errors.New("numsync lab did not print its address within 30 s")
	}
	return lp, nil
}

// stop sends SIGINT and returns the lab's exit code (-1 if it had to be
// killed).
func (lp *labProc) stop() int {
	_ = lp.cmd.Process.Signal(syscall.SIGINT)
	select {
	case werr := <-lp.waited:
		_ = werr // the exit code below says what became of it
		return lp.cmd.ProcessState.ExitCode()
	case <-time.After(15 * time.Second):
		lp.kill()
		return -1
	}
}

func (lp *labProc) kill() {
	if lp.cmd.ProcessState == nil {
		_ = lp.cmd.Process.Kill()
	}
}

func fetchStats(base string) (labserver.Stats, error) {
	var st labserver.Stats
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(base + "/_lab/stats")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("/_lab/stats: %s", resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// child is one numsync command run by the harness.
type child struct {
	cmd      *exec.Cmd
	started  time.Time
	waited   chan struct{}
	err      error
	errPath  string
	outPath  string
	exitCode int
}

func (s *soak) start(name string, args ...string) (*child, error) {
	outPath := filepath.Join(s.dir, name+".stdout")
	errPath := filepath.Join(s.dir, name+".stderr")
	fo, err := os.Create(outPath)
	if err != nil {
		return nil, err
	}
	fe, err := os.Create(errPath)
	if err != nil {
		fo.Close()
		return nil, err
	}
	s.scanned = append(s.scanned, outPath, errPath)
	full := []string{args[0], "--config", s.cfg, "--no-progress", "--log-format", "json"}
	if lv := os.Getenv("CHAOS_LOG_LEVEL"); lv != "" { // e.g. debug, to see every request numsync makes
		full = append(full, "--log-level", lv)
	}
	full = append(full, args[1:]...)
	c := &child{cmd: exec.Command(s.bin, full...), waited: make(chan struct{}), errPath: errPath, outPath: outPath}
	c.cmd.Env = append(os.Environ(), scenario.Env()...)
	c.cmd.Dir = s.dir
	c.cmd.Stdout, c.cmd.Stderr = fo, fe
	c.started = time.Now()
	if err := c.cmd.Start(); err != nil {
		fo.Close()
		fe.Close()
		return nil, err
	}
	go func() {
		c.err = c.cmd.Wait()
		c.exitCode = c.cmd.ProcessState.ExitCode()
		if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			c.exitCode = -int(ws.Signal())
		}
		fo.Close()
		fe.Close()
		close(c.waited)
	}()
	return c, nil
}

func (c *child) exited() bool {
	select {
	case <-c.waited:
		return true
	default:
		return false
	}
}

func (c *child) stderr() string {
	b, _ := os.ReadFile(c.errPath)
	return string(b)
}

func (c *child) stdout() string {
	b, _ := os.ReadFile(c.outPath)
	return string(b)
}

// wait waits for the child, killing it at the deadline.
func (c *child) wait(deadline time.Time) int {
	select {
	case <-c.waited:
	case <-time.After(time.Until(deadline)):
		_ = c.cmd.Process.Kill()
		<-c.waited
	}
	return c.exitCode
}

// savePlan runs `plan --out` (it also fills the journal's detail cache),
// retrying a plan a fault made fail.
func (s *soak) savePlan() error {
	for i := 1; i <= 3; i++ {
		c, err := s.start(fmt.Sprintf("plan-%d", i), "plan", "--desired", s.csv, "--out", filepath.Join(s.dir, "plan.json"))
		if err != nil {
			return err
		}
		code := c.wait(s.deadline)
		if code == 0 {
			s.scanned = append(s.scanned, filepath.Join(s.dir, "plan.json"))
			return nil
		}
		s.notes = append(s.notes, fmt.Sprintf("plan attempt %d exited %d", i, code))
	}
	return errors.New("plan failed three times")
}

const (
	modeExec    = "kill in execution"
	modeAnytime = "kill anytime"
	modeFinish  = "to the end"
)

// killTrial starts apply and SIGKILLs it at a random moment: in most
// trials a moment after its first write reached a lab (mid-execution);
// every third trial any moment from its start (planning included).
func (s *soak) killTrial(i int) (trial, error) {
	t := trial{name: fmt.Sprintf("trial %d", i), mode: modeExec}
	if i%3 == 0 {
		t.mode = modeAnytime
	}
	before, err := s.settle()
	if err != nil {
		return t, err
	}
	c, err := s.startApply(fmt.Sprintf("apply-%d", i))
	if err != nil {
		return t, err
	}
	var killAt time.Time
	if t.mode == modeAnytime {
		killAt = c.started.Add(time.Duration(100+s.rnd.IntN(3000)) * time.Millisecond)
	} else {
		// Wait for the first write of this run, then kill within a window
		// that grows with the scenario (1.5 s for 150 numbers, 15 s from
		// 1500), so that kills land early and deep in the run.
		for !c.exited() && time.Now().Before(s.deadline) {
			st, err := fetchStats(s.base)
			if err == nil && st.OneUC.Writes+st.FirstOrion.Writes > before.OneUC.Writes+before.FirstOrion.Writes {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		window := min(max(s.o.numbers*10, 1500), 15000)
		killAt = time.Now().Add(time.Duration(s.rnd.IntN(window)) * time.Millisecond)
	}
	select {
	case <-c.waited:
	case <-time.After(time.Until(killAt)):
		if err := c.cmd.Process.Signal(syscall.SIGKILL); err == nil {
			t.killed = true
		}
		<-c.waited
	}
	t.killAt = killAt.Sub(c.started)
	t.exit = c.exitCode
	t.took = time.Since(c.started)
	if t.exit >= 0 {
		t.killed = false
	}
	t.resumed = strings.Contains(c.stderr(), "resuming run")
	t.nothingToDo = strings.Contains(c.stdout(), "Nothing to do")
	return t, s.snapshot(&t)
}

// settle waits until the labs stop receiving writes (the requests a killed
// process had in flight land for a moment after its death and must not
// pass for the next run's first writes) and returns their stats.
func (s *soak) settle() (labserver.Stats, error) {
	prev, err := fetchStats(s.base)
	for err == nil {
		time.Sleep(300 * time.Millisecond)
		var st labserver.Stats
		if st, err = fetchStats(s.base); err == nil && st.OneUC.Writes+st.FirstOrion.Writes == prev.OneUC.Writes+prev.FirstOrion.Writes {
			return st, nil
		}
		prev = st
	}
	return prev, err
}

func (s *soak) startApply(name string) (*child, error) {
	report := filepath.Join(s.dir, name+".report.json")
	s.scanned = append(s.scanned, report)
	return s.start(name, "apply", "--desired", s.csv, "--report", report)
}

func (s *soak) snapshot(t *trial) error {
	st, err := fetchStats(s.base)
	if err != nil {
		return err
	}
	v := scenario.Check(st, s.sc)
	t.converged = len(s.sc.Numbers) - v[0].Violations
	return nil
}

// finish reruns apply until it is done: exit 0, or 3 with every failure
// permanent (none expected: those are retried with --retry-failed and
// noted). It stops at the deadline.
func (s *soak) finish() (bool, error) {
	retryFailed := false
	for i := 1; time.Now().Before(s.deadline) && i <= 20; i++ {
		name := fmt.Sprintf("rerun-%d", i)
		args := []string{"apply", "--desired", s.csv, "--report", filepath.Join(s.dir, name+".report.json")}
		s.scanned = append(s.scanned, filepath.Join(s.dir, name+".report.json"))
		if retryFailed {
			args = append(args, "--retry-failed")
		}
		c, err := s.start(name, args...)
		if err != nil {
			return false, err
		}
		t := trial{name: name, mode: modeFinish}
		t.exit = c.wait(s.deadline)
		t.took = time.Since(c.started)
		t.resumed = strings.Contains(c.stderr(), "resuming run")
		t.nothingToDo = strings.Contains(c.stdout(), "Nothing to do")
		if err := s.snapshot(&t); err != nil {
			return false, err
		}
		s.trials = append(s.trials, t)
		switch {
		case t.exit == 0:
			return true, nil
		case t.exit == 3 && !strings.Contains(c.stderr(), "could not be read back"):
			// The scenario has no permanent failure and the labs' faults are
			// all transient: a failure for good is a violation. The rerun
			// with --retry-failed still lets the run converge.
			for _, line := range strings.Split(c.stderr(), "\n") {
				if strings.HasPrefix(line, "failed: ") {
					s.failures = append(s.failures, name+": "+line)
				}
			}
			retryFailed = true
		default:
			retryFailed = false
		}
	}
	return false, nil
}

// finalPlan runs `plan --detailed-exitcode`: 0 when nothing is left to do.
// A plan a fault made fail (exit 1) is tried again.
func (s *soak) finalPlan() (int, error) {
	code := 1
	for i := 1; i <= 3 && code == 1; i++ {
		c, err := s.start(fmt.Sprintf("final-plan-%d", i), "plan", "--desired", s.csv, "--detailed-exitcode")
		if err != nil {
			return 0, err
		}
		code = c.wait(time.Now().Add(90 * time.Second))
	}
	return code, nil
}

func (s *soak) printTrials() {
	tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nrun\tmode\tkilled at\texit\tresumed\ttook\tconverged")
	for _, t := range s.trials {
		kill := "-"
		if t.killed {
			kill = t.killAt.Round(10 * time.Millisecond).String()
		}
		exit := strconv.Itoa(t.exit)
		if t.exit < 0 {
			exit = "SIGKILL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\t%d/%d\n", t.name, t.mode, kill, exit, t.resumed,
			t.took.Round(10*time.Millisecond), t.converged, len(s.sc.Numbers))
	}
	_ = tw.Flush()
}

// slicesDeleteTokenLooking drops the token-shape findings of a binary
// file: only its credentials findings count.
func slicesDeleteTokenLooking(leaks []string) []string {
	out := leaks[:0]
	for _, l := range leaks {
		if !strings.HasPrefix(l, "journal.db") || !strings.Contains(l, "token-looking") {
			out = append(out, l)
		}
	}
	return out
}
