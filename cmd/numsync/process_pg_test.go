package main

// Process tests of the PostgreSQL journal: the built binary, as cron or a
// CronJob runs it, against a throwaway PostgreSQL server (internal/pgtest;
// skipped when PostgreSQL is not installed), killed with SIGKILL and rerun,
// and two "hosts" sharing the journal.

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/pgtest"
	"github.com/numsync/numsync/internal/tools/chaos/scenario"
)

// testLease is the lock lease the failover test's binary is linked with
// (main.lockLease): the production lease is two minutes, which the test
// would otherwise wait out.
const testLease = 6 * time.Second

// TestProcessPostgres runs the built binary against a PostgreSQL journal.
func TestProcessPostgres(t *testing.T) {
	url := pgtest.URL(t) // skips, saying why, without PostgreSQL
	bin := procBuildLease(t, testLease)
	t.Run("SIGKILL at random moments, rerun: converges, nothing applied twice", func(t *testing.T) {
		testKillNinePG(t, bin, url)
	})
	t.Run("two hosts: the second is refused, then takes over after the lease and converges", func(t *testing.T) {
		testFailover(t, bin, pgtest.URL(t))
	})
}

// procBuildLease builds numsync with the lock lease shortened to lease.
func procBuildLease(t *testing.T, lease time.Duration) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("process tests need the go command on PATH to build numsync")
	}
	bin := filepath.Join(t.TempDir(), "numsync")
	cmd := exec.Command(gobin, "build", "-ldflags", "-X main.lockLease="+lease.String(), "-o", bin, "github.com/numsync/numsync/cmd/numsync")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// testKillNinePG is testKillNine with the journal in PostgreSQL: killed
// mid-run several times, then rerun, numsync converges with nothing
// applied twice, says it resumes, and journals no secret.
func testKillNinePG(t *testing.T, bin, url string) {
	sc := scenario.Generate(300, 23)
	srv, base, toks := procLab(t, sc, 40*time.Millisecond)
	e := newProcEnv(t, bin, base, sc.CSV)
	e.journal = url
	rnd := rand.New(rand.NewPCG(23, 5))
	outputs := map[string]string{}
	killed := 0
	for i := 1; i <= 3; i++ {
		procSettle(srv)
		from := procWrites(srv)
		c := e.start("apply", "--desired", e.csv)
		if waitForWrites(t, srv, c, from) {
			d := time.Duration(rnd.IntN(1200)) * time.Millisecond
			time.Sleep(d)
			_ = c.cmd.Process.Signal(syscall.SIGKILL)
			t.Logf("apply %d: SIGKILL %s after its first write", i, d)
		}
		code := c.wait(t)
		outputs[fmt.Sprintf("apply %d stderr", i)] = c.stderr.String()
		outputs[fmt.Sprintf("apply %d stdout", i)] = c.stdout.String()
		if !c.signaled {
			t.Logf("apply %d ended by itself (exit %d)", i, code)
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
	code, stdout, stderr := e.run("apply", "--desired", e.csv)
	outputs["rerun stdout"], outputs["rerun stderr"] = stdout, stderr
	if !strings.Contains(stderr, "resuming run") {
		t.Errorf("the rerun after a kill did not say \"resuming run\"; stderr:\n%s", stderr)
	}
	if code != ExitOK {
		t.Fatalf("apply after %d kills exited %d, want 0; stderr:\n%s", killed, code, stderr)
	}
	checkScenario(t, e, srv, sc)
	text := pgJournalText(t, url)
	for name, s := range map[string]string{"journal": text} {
		outputs[name] = s
	}
	for name, s := range outputs {
		for _, leak := range scenario.ScanSecrets(name, []byte(s), toks.secrets(), nil) {
			if name != "journal" || !strings.Contains(leak, "token-looking") {
				t.Error(leak)
			}
		}
	}
}

// testFailover: host A applies; host B, started meanwhile, exits 5 naming
// A. A is killed (SIGKILL: its lock stays behind). B is still refused while
// A's lease runs; once it has run out, B takes the lock over with a
// warning naming A, resumes A's run and converges, nothing applied twice.
// The hosts get their own hostnames through `unshare -u` (as root);
// otherwise both share this host's name and B may take over at once,
// seeing A's process gone.
func testFailover(t *testing.T, bin, url string) {
	sc := scenario.Generate(300, 31)
	srv, base, _ := procLab(t, sc, 40*time.Millisecond)
	binA, binB, hostA, hostB := bin, bin, "", ""
	if hostsAvailable() {
		binA, hostA = hostWrapper(t, bin, "numsync-host-a")
		binB, hostB = hostWrapper(t, bin, "numsync-host-b")
	} else {
		t.Log("not root or no unshare: both processes share this host's name")
	}
	a := newProcEnv(t, binA, base, sc.CSV)
	a.journal = url
	b := newProcEnv(t, binB, base, sc.CSV)
	b.journal = url

	from := procWrites(srv)
	ca := a.start("apply", "--desired", a.csv)
	if !waitForWrites(t, srv, ca, from) {
		t.Fatalf("host A's apply ended before writing (exit %d):\n%s", ca.code, ca.stderr.String())
	}
	pidA := ca.cmd.Process.Pid
	code, _, errB := b.run("apply", "--desired", b.csv)
	if code != ExitLocked {
		t.Fatalf("host B while A applies: exit %d, want %d\n%s", code, ExitLocked, errB)
	}
	want := fmt.Sprintf("(pid %d)", pidA)
	if hostA != "" {
		want = fmt.Sprintf("on host %s (pid %d)", hostA, pidA)
	}
	t.Logf("host B refused:\n%s", errB)
	if !strings.Contains(errB, want) || !strings.Contains(errB, " since ") {
		t.Errorf("host B's refusal does not name host A (%s):\n%s", want, errB)
	}
	if ca.exited() {
		t.Fatalf("host A's apply ended too soon for the test (exit %d)", ca.code)
	}
	_ = ca.cmd.Process.Signal(syscall.SIGKILL)
	ca.wait(t)
	killedAt := time.Now()
	procSettle(srv)

	if hostB != "" {
		// Another host cannot see that A's process is gone: it waits for
		// the lease to run out.
		code, _, errB = b.run("apply", "--desired", b.csv)
		if code != ExitLocked && time.Since(killedAt) < testLease/2 {
			t.Errorf("host B right after A's death: exit %d, want %d (the lease has not run out)\n%s", code, ExitLocked, errB)
		}
	}
	var errTake string
	deadline := time.Now().Add(time.Minute)
	for {
		code, _, errTake = b.run("apply", "--desired", b.csv)
		if code != ExitLocked {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("host B still refused a minute after host A died:\n%s", errTake)
		}
		time.Sleep(testLease / 4)
	}
	if code != ExitOK {
		t.Fatalf("host B's takeover apply exited %d, want 0\n%s", code, errTake)
	}
	if !strings.Contains(errTake, "took over the journal's lock") || !regexp.MustCompile(fmt.Sprintf(`pid\W+%d`, pidA)).MatchString(errTake) {
		t.Errorf("the takeover does not warn naming host A (pid %d):\n%s", pidA, errTake)
	}
	t.Logf("host B took over:\n%.1500s", errTake)
	if !strings.Contains(errTake, "resuming run 1") {
		t.Errorf("host B did not resume host A's run:\n%s", errTake)
	}
	checkScenario(t, b, srv, sc)
}

// hostsAvailable reports whether processes can be given hostnames of
// their own (a UTS namespace needs root).
func hostsAvailable() bool {
	if os.Geteuid() != 0 {
		return false
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		return false
	}
	return exec.Command("unshare", "-u", "true").Run() == nil
}

// hostWrapper returns a script that runs bin with the hostname host, in a
// UTS namespace of its own. Each step execs the next, so the process the
// test starts (and kills) is numsync itself.
func hostWrapper(t *testing.T, bin, host string) (string, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), host)
	script := fmt.Sprintf("#!/bin/sh\nexec unshare -u /bin/sh -c 'hostname %s && exec \"$0\" \"$@\"' %s \"$@\"\n", host, bin)
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p, host
}

// pgJournalText is scenario.JournalText for a PostgreSQL journal: every
// value of every table as text, compressed values decompressed.
func pgJournalText(t *testing.T, url string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var buf bytes.Buffer
	for _, tb := range []string{"runs", "ops", "lock", "history", "details"} {
		rows, err := conn.Query(ctx, `SELECT row_to_json(t)::text FROM `+tb+` t`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			buf.WriteString(tb + ": " + s + "\n")
		}
		rows.Close()
	}
	rows, err := conn.Query(ctx, `SELECT data FROM op_chunks UNION ALL SELECT plan FROM runs WHERE plan IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		if txt, err := journal.ChunkText(b); err == nil {
			buf.Write(txt)
		} else if p, err := journal.DecompressPlan(b); err == nil {
			buf.Write(p)
		}
		buf.WriteByte('\n')
	}
	return buf.String()
}
