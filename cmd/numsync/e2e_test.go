package main

// End-to-end tests: numsync's commands run in process (through run, as
// main would) against both vendor labs served over loopback HTTP, and the
// assertions are what a user would notice: the exit code, standard output
// and error, the files written, and what the labs recorded.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/exec"
	"github.com/numsync/numsync/internal/labserver"
	"github.com/numsync/numsync/internal/pgtest"
	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/samples"
)

func TestMain(m *testing.M) {
	// Short executor backoffs: the labs' faults are retried in
	// milliseconds, not seconds. Set once, before any test runs.
	testExecTweak = func(c *exec.Config) {
		c.BaseBackoff = 5 * time.Millisecond
		c.MaxBackoff = 50 * time.Millisecond
	}
	// The demo without its deliberate slowness (it is paced for people
	// watching the progress bar): same labs, seeds, steps and output.
	demoLabRPS, demoClientRPS, demoLatency = 0, 2000, 0
	// pgtest.Main runs the tests and stops the throwaway PostgreSQL server
	// the PostgreSQL journal tests start.
	code := pgtest.Main(m)
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// labSecrets are the lab credentials; none may appear in any output.
var labSecrets = []string{labserver.OneUCAPIKey, labserver.FOAPIKey, labserver.FOSecretKey}

// e2eLab is both labs on a loopback listener, with the tokens numsync
// presented recorded so tests can prove none leaked.
type e2eLab struct {
	*labserver.Server
	URL string

	mu     sync.Mutex
	tokens map[string]bool
}

// newLab starts both labs, seeded by seed (nil: samples/).
func newLab(t *testing.T, o labserver.Options, seed func(*labserver.Server) error) *e2eLab {
	t.Helper()
	srv := labserver.New(o)
	if seed == nil {
		seed = func(s *labserver.Server) error { return s.SeedFS(samples.FS) }
	}
	if err := seed(srv); err != nil {
		t.Fatalf("seed labs: %v", err)
	}
	l := &e2eLab{Server: srv, tokens: map[string]bool{}}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		for _, h := range []string{"X-Auth-Token", "Authorization"} {
			if v := strings.TrimSpace(strings.TrimPrefix(r.Header.Get(h), "Bearer ")); v != "" {
				l.tokens[v] = true
			}
		}
		l.mu.Unlock()
		if !strings.Contains(r.URL.Path, "auth") {
			srv.ServeHTTP(w, r)
			return
		}
		// Authentication answers: record every token they hand out
		// (access and refresh), then pass the answer on.
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, r)
		l.recordTokens(rec.Body.Bytes())
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(hs.Close)
	l.URL = hs.URL
	return l
}

// recordTokens remembers every string under a key naming a token in a
// JSON answer.
func (l *e2eLab) recordTokens(body []byte) {
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && strings.Contains(strings.ToLower(k), "token") && len(s) >= 8 && k != "token_type" {
					l.mu.Lock()
					l.tokens[s] = true
					l.mu.Unlock()
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	var v any
	if json.Unmarshal(body, &v) == nil {
		walk(v)
	}
}

// secrets returns the lab keys and every token the labs handed out or
// numsync presented.
func (l *e2eLab) secrets() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(labSecrets)
	for tok := range l.tokens {
		out = append(out, tok)
	}
	return out
}

// labWrites counts the requests to both labs that could change something:
// anything but a GET and the authentication endpoints.
type labWrites struct{ oneuc, firstorion, applied int }

func (l *e2eLab) writes() labWrites {
	var w labWrites
	for _, r := range l.OneUC.Requests() {
		if r.Method != http.MethodGet && !strings.Contains(r.Path, "api_auth") {
			w.oneuc++
		}
		if r.Applied {
			w.applied++
		}
	}
	for _, r := range l.FirstOrion.Requests() {
		if r.Method != http.MethodGet && !strings.Contains(r.Path, "/auth") {
			w.firstorion++
		}
		if r.Applied {
			w.applied++
		}
	}
	return w
}

// e2eCLI runs numsync's command line in process against one lab, with its
// own config, journal and working files in a temporary directory.
type e2eCLI struct {
	t       *testing.T
	dir     string
	config  string
	journal string
	env     map[string]string
}

// newCLI writes a config for the labs at base (the snippet `numsync lab`
// prints, credentials from the environment) with fast client rates;
// edit, when set, changes the YAML further.
func newCLI(t *testing.T, base string, edit func(string) string) *e2eCLI {
	t.Helper()
	dir := t.TempDir()
	y := strings.ReplaceAll(labserver.ConfigYAML(base), "rate: {rps: 10, burst: 10}", "rate: {rps: 2000, burst: 200}")
	if edit != nil {
		y = edit(y)
	}
	c := &e2eCLI{t: t, dir: dir, config: filepath.Join(dir, "numsync.yaml"), journal: filepath.Join(dir, "numsync.db"),
		env: map[string]string{
			"ONEUC_API_KEY": labserver.OneUCAPIKey,
			"FO_API_KEY":    labserver.FOAPIKey,
			"FO_SECRET_KEY": labserver.FOSecretKey,
		}}
	if err := os.WriteFile(c.config, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

// path names a file in the CLI's directory.
func (c *e2eCLI) path(name string) string { return filepath.Join(c.dir, name) }

// run runs one command line with the CLI's config and journal.
func (c *e2eCLI) run(args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	return c.runCtx(context.Background(), args...)
}

func (c *e2eCLI) runCtx(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute) // hang guard only
	defer cancel()
	var out, errb bytes.Buffer
	full := append([]string{"--config", c.config, "--journal", c.journal, "--no-progress"}, args...)
	code = run(ctx, full, &out, &errb, func(k string) string { return c.env[k] })
	return code, out.String(), errb.String()
}

// mustRun runs a command line and fails the test unless it exits with
// want.
func (c *e2eCLI) mustRun(want int, args ...string) (stdout, stderr string) {
	c.t.Helper()
	code, out, errOut := c.run(args...)
	if code != want {
		c.t.Fatalf("numsync %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errOut)
	}
	return out, errOut
}

// sampleCSV copies samples/desired.csv into the CLI's directory.
func (c *e2eCLI) sampleCSV() string {
	c.t.Helper()
	b, err := samples.FS.ReadFile("desired.csv")
	if err != nil {
		c.t.Fatal(err)
	}
	p := c.path("desired.csv")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		c.t.Fatal(err)
	}
	return p
}

// writeFile writes a file in the CLI's directory and returns its path.
func (c *e2eCLI) writeFile(name, content string) string {
	c.t.Helper()
	p := c.path(name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return p
}

// readPlan reads a saved plan.
func readPlanFile(t *testing.T, path string) *plan.Plan {
	t.Helper()
	p, err := readSavedPlan(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The samples' deliberate permanent outcomes (samples/README and the
// demo): 5 failed, 4 skipped because their activation failed.
var sampleFailures = map[string]string{
	"oneuc/activate/+16462190000":    "failed",
	"oneuc/activate/+16462199999":    "failed",
	"oneuc/update/+12126341211":      "failed",
	"oneuc/update/+14153921212":      "failed",
	"firstorion/assign/+15012149020": "failed",
	"oneuc/update/+16462190000":      "skipped",
	"firstorion/assign/+16462190000": "skipped",
	"oneuc/update/+16462199999":      "skipped",
	"firstorion/assign/+16462199999": "skipped",
}

// failureLines returns the "failed: …"/"skipped: …" lines apply prints,
// keyed by op id.
func failureLines(stderr string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(stderr, "\n") {
		state, rest, ok := strings.Cut(line, ": ")
		if !ok || (state != "failed" && state != "skipped") {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 3 {
			continue
		}
		out[f[0]+"/"+f[1]+"/"+f[2]] = state
	}
	return out
}

// opIDs lists a plan's operation ids, sorted.
func opIDs(p *plan.Plan) []string {
	var ids []string
	for _, op := range p.Ops {
		ids = append(ids, op.ID)
	}
	sort.Strings(ids)
	return ids
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// checkConverged checks every operation of p that is not a known failure
// against the labs' recorded state: the op's After holds live.
func checkConverged(t *testing.T, l *e2eLab, p *plan.Plan, known map[string]string) {
	t.Helper()
	for _, op := range p.Ops {
		if _, ok := known[op.ID]; ok {
			continue
		}
		switch op.Vendor {
		case plan.OneUC:
			n, ok := l.OneUC.Number(op.Number)
			switch op.Action {
			case plan.Release:
				if ok && n.Held {
					t.Errorf("%s: still held after release", op.ID)
				}
				continue
			}
			if !ok || !n.Held || n.State != "in_service" {
				t.Errorf("%s: lab holds %+v, want in_service", op.ID, n)
				continue
			}
			if op.After.CNAM != nil && n.CNAM != *op.After.CNAM {
				t.Errorf("%s: cnam %q, want %q", op.ID, n.CNAM, *op.After.CNAM)
			}
			if a := op.After.E911; a != nil {
				if n.E911 == nil || !strings.EqualFold(n.E911.PostalCode, a.PostalCode) || !strings.EqualFold(n.E911.Locality, a.Locality) {
					t.Errorf("%s: e911 %+v, want %+v", op.ID, n.E911, *a)
				}
			}
		case plan.FirstOrion:
			n, ok := l.FirstOrion.Number(op.Number)
			if op.Action == plan.Delete {
				if ok {
					t.Errorf("%s: still at First Orion: %+v", op.ID, n)
				}
				continue
			}
			if !ok {
				t.Errorf("%s: not at First Orion", op.ID)
				continue
			}
			a := op.After
			if op.Action != plan.Update && (n.BusinessUnitID != a.BusinessUnit || n.ProgramID != a.Program || (a.Program != "" && n.Channel != a.Channel)) {
				t.Errorf("%s: at %s/%s/%s, want %s/%s/%s", op.ID, n.BusinessUnitID, n.ProgramID, n.Channel, a.BusinessUnit, a.Program, a.Channel)
			}
			if a.CallPurpose != "" && n.CallPurposeCode != a.CallPurpose {
				t.Errorf("%s: call purpose %s, want %s", op.ID, n.CallPurposeCode, a.CallPurpose)
			}
			if a.AuthCalls != nil && n.AuthenticatedCalls != *a.AuthCalls {
				t.Errorf("%s: authenticated calls %v, want %v", op.ID, n.AuthenticatedCalls, *a.AuthCalls)
			}
		}
	}
}

// checkNothingTwice proves no number was changed more often than the
// plan's operations call for: at OneUC at most one activation per number
// and no more stored updates than planned updates; at First Orion no more
// mutations than planned operations (a move counts its removal and its
// placement). Delete-all is never called.
func checkNothingTwice(t *testing.T, l *e2eLab, p *plan.Plan) {
	t.Helper()
	ouUpdates := map[string]int{}
	foOps := map[string]int{}
	for _, op := range p.Ops {
		switch {
		case op.Vendor == plan.OneUC && op.Action == plan.Update:
			ouUpdates[op.Number]++
		case op.Vendor == plan.FirstOrion:
			foOps[op.Number] += foMutationsFor(op)
		}
	}
	for n, c := range l.OneUC.AllCounts() {
		if c.Activated > 1 {
			t.Errorf("oneuc %s activated %d times", n, c.Activated)
		}
		if c.Patched+c.Posted > ouUpdates[n] {
			t.Errorf("oneuc %s updated %d times, the plan has %d updates", n, c.Patched+c.Posted, ouUpdates[n])
		}
	}
	phones := map[string]bool{}
	for n := range foOps {
		phones[n] = true
	}
	for _, n := range l.FirstOrion.Numbers() {
		phones[n.PhoneNumber] = true
	}
	for phone := range phones {
		if m := l.FirstOrion.Mutations(phone); m > foOps[phone] {
			t.Errorf("firstorion %s mutated %d times, the plan's operations make %d", phone, m, foOps[phone])
		}
	}
	if c := l.FirstOrion.DeleteAllCalls(); c != 0 {
		t.Errorf("%d First Orion delete-all calls", c)
	}
}

// foMutationsFor is how many lab mutations one First Orion operation makes
// when applied once: a move takes the number out of its program (and out
// of its business unit when it changes) before placing it.
func foMutationsFor(op plan.Op) int {
	if op.Action != plan.Move {
		return 1
	}
	m := 1
	if op.Before.Program != "" {
		m++
	}
	if op.Before.BusinessUnit != "" && op.Before.BusinessUnit != op.After.BusinessUnit {
		m++
	}
	return m
}

// readFile reads a file the test made or numsync wrote.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
