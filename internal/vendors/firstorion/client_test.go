package firstorion

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/plan"
	folab "github.com/numsync/numsync/internal/vendors/firstorion/lab"
)

func TestBuildPath(t *testing.T) {
	tests := []struct {
		name    string
		segs    []seg
		want    string
		wantErr bool
	}{
		{name: "literals and ids", segs: []seg{lit("exchange"), id("b-1"), lit("phone-numbers"), id("pn")}, want: "/exchange/b-1/phone-numbers/pn"},
		{name: "id escaped", segs: []seg{lit("x"), id("a/b c")}, want: "/x/a%2Fb%20c"},
		{name: "plus escaped", segs: []seg{lit("x"), id("+1")}, want: "/x/+1"},
		{name: "empty id", segs: []seg{lit("phone-numbers"), id("")}, wantErr: true},
		{name: "blank id", segs: []seg{lit("phone-numbers"), id("  ")}, wantErr: true},
		{name: "dot id", segs: []seg{lit("phone-numbers"), id(".")}, wantErr: true},
		{name: "dot-dot id", segs: []seg{lit("phone-numbers"), id("..")}, wantErr: true},
		{name: "empty literal", segs: []seg{lit("")}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := buildPath(tt.segs...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRequestAllowed(t *testing.T) {
	tests := []struct {
		name, method, path string
		ok                 bool
	}{
		{"delete all numbers", "DELETE", "/exchange/v1/businesses/b/phone-numbers", false},
		{"delete with empty id", "DELETE", "/exchange/v1/businesses/b/phone-numbers/", false},
		{"delete program collection", "DELETE", "/exchange/v1/businesses/b/business-units/u/programs/p/delivery-channels/callerName/a-numbers", false},
		{"delete one from program", "DELETE", "/exchange/v1/businesses/b/business-units/u/programs/p/delivery-channels/callerName/a-numbers/id", true},
		{"delete one from unit", "DELETE", "/exchange/v1/businesses/b/business-units/u/phone-numbers/id", true},
		{"list", "GET", "/exchange/v1/businesses/b/phone-numbers", true},
		{"batch delete post", "POST", "/exchange/v1/businesses/b/phone-numbers/DELETE", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := requestAllowed(tt.method, tt.path); (err == nil) != tt.ok {
				t.Fatalf("requestAllowed = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestPageHashOf(t *testing.T) {
	tests := []struct {
		name, next, want string
		wantErr          bool
	}{
		{name: "full URL", next: "https://api.forp-lab.com/exchange/v1/businesses/b/phone-numbers?limit=1000&pageHash=abc%3D", want: "abc="},
		{name: "relative path", next: "/exchange/v1/businesses/b/phone-numbers?pageHash=xyz&limit=5", want: "xyz"},
		{name: "bare query", next: "?pageHash=q1", want: "q1"},
		{name: "query without question mark", next: "limit=10&pageHash=q2", want: "q2"},
		{name: "bare hash", next: "opaqueHash123", want: "opaqueHash123"},
		{name: "fragment ignored", next: "/x?pageHash=h#frag", want: "h"},
		{name: "URL without pageHash", next: "https://h/x?limit=10", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pageHashOf(tt.next)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewValidatesConfig(t *testing.T) {
	good := Config{URL: "http://127.0.0.1:1", BusinessID: "b", APIKey: "key-SENTINEL", SecretKey: "secret-SENTINEL"}
	tests := []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{name: "good", mod: func(*Config) {}, ok: true},
		{name: "no url", mod: func(c *Config) { c.URL = "" }},
		{name: "not http", mod: func(c *Config) { c.URL = "ftp://x" }},
		{name: "no host", mod: func(c *Config) { c.URL = "http://" }},
		{name: "no business", mod: func(c *Config) { c.BusinessID = " " }},
		{name: "no key", mod: func(c *Config) { c.APIKey = "" }},
		{name: "no secret", mod: func(c *Config) { c.SecretKey = "" }},
		{name: "batch too big", mod: func(c *Config) { c.BatchSize = MaxBatch + 1 }},
		{name: "batch negative", mod: func(c *Config) { c.BatchSize = -1 }},
		{name: "batch at limit", mod: func(c *Config) { c.BatchSize = MaxBatch }, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.mod(&cfg)
			_, err := New(cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("New = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && strings.Contains(err.Error(), "SENTINEL") {
				t.Fatalf("error shows a credential: %v", err)
			}
		})
	}
}

func TestBatchKey(t *testing.T) {
	c, err := New(Config{URL: "http://127.0.0.1:1", BusinessID: "b", APIKey: "k", SecretKey: "s", BatchSize: 250})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		op      plan.Op
		key     string
		maxSize int
	}{
		{"assign in program", plan.Op{Action: plan.Assign, After: plan.State{BusinessUnit: "u", Program: "p", Channel: "callerName"}}, "assign|u|p|callerName", 250},
		{"assign at unit", plan.Op{Action: plan.Assign, After: plan.State{BusinessUnit: "u"}}, "assign|u||", 250},
		{"move", plan.Op{Action: plan.Move, After: plan.State{BusinessUnit: "u", Program: "p", Channel: "blocking"}}, "move|u|p|blocking", 250},
		{"update", plan.Op{Action: plan.Update}, "", 1},
		{"delete", plan.Op{Action: plan.Delete}, "delete", 250},
		{"foreign action", plan.Op{Action: plan.Activate}, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, m := c.BatchKey(tt.op)
			if k != tt.key || m != tt.maxSize {
				t.Fatalf("got %q/%d, want %q/%d", k, m, tt.key, tt.maxSize)
			}
		})
	}
}

func TestMoveSteps(t *testing.T) {
	c, err := New(Config{URL: "http://127.0.0.1:1", BusinessID: "b", APIKey: "k", SecretKey: "s"})
	if err != nil {
		t.Fatal(err)
	}
	pre := "/exchange/v1/businesses/b/business-units/"
	tests := []struct {
		name    string
		before  plan.State
		after   plan.State
		want    []string
		wantErr bool
	}{
		{name: "program to program, same unit", before: plan.State{ID: "i", BusinessUnit: "u1", Program: "p1", Channel: "callerName"},
			after: plan.State{BusinessUnit: "u1", Program: "p2", Channel: "callerName"},
			want:  []string{pre + "u1/programs/p1/delivery-channels/callerName/a-numbers/i"}},
		{name: "program to program, other unit", before: plan.State{ID: "i", BusinessUnit: "u1", Program: "p1", Channel: "callerName"},
			after: plan.State{BusinessUnit: "u2", Program: "p3", Channel: "callerName"},
			want:  []string{pre + "u1/programs/p1/delivery-channels/callerName/a-numbers/i", pre + "u1/phone-numbers/i"}},
		{name: "channel change only", before: plan.State{ID: "i", BusinessUnit: "u1", Program: "p1", Channel: "callerName"},
			after: plan.State{BusinessUnit: "u1", Program: "p1", Channel: "callerImage"},
			want:  []string{pre + "u1/programs/p1/delivery-channels/callerName/a-numbers/i"}},
		{name: "unit level to program of same unit", before: plan.State{ID: "i", BusinessUnit: "u1"},
			after: plan.State{BusinessUnit: "u1", Program: "p1", Channel: "callerName"}},
		{name: "unit level to other unit", before: plan.State{ID: "i", BusinessUnit: "u1"}, after: plan.State{BusinessUnit: "u2"},
			want: []string{pre + "u1/phone-numbers/i"}},
		{name: "business level to anywhere", before: plan.State{ID: "i"}, after: plan.State{BusinessUnit: "u2", Program: "p", Channel: "blocking"}},
		{name: "no id", before: plan.State{BusinessUnit: "u1"}, after: plan.State{BusinessUnit: "u2"}, wantErr: true},
		{name: "program without channel", before: plan.State{ID: "i", BusinessUnit: "u1", Program: "p1"}, after: plan.State{BusinessUnit: "u2"}, wantErr: true},
		{name: "program without unit", before: plan.State{ID: "i", Program: "p1", Channel: "callerName"}, after: plan.State{BusinessUnit: "u2"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.moveSteps(plan.Op{Before: tt.before, After: tt.after})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, wantErr %v", err, tt.wantErr)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// tokenSpy wraps a handler and remembers every Authorization value and
// auth answer, so a test can look for them where they must not be.
type tokenSpy struct {
	h      http.Handler
	mu     sync.Mutex
	tokens []string
}

type recordingWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	w.buf.Write(b)
	return w.ResponseWriter.Write(b)
}

func (s *tokenSpy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw := &recordingWriter{ResponseWriter: w}
	s.h.ServeHTTP(rw, r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := r.Header.Get("Authorization"); a != "" {
		s.tokens = append(s.tokens, a)
	}
	if strings.HasPrefix(r.URL.Path, "/v1/auth") {
		tok, err := decodeToken(rw.buf.Bytes())
		if err == nil {
			s.tokens = append(s.tokens, tok.Token, tok.RefreshToken)
		}
	}
}

func TestNoSecretLogged(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	lab := folab.New(folab.Options{APIKey: "key-SENTINEL-1", SecretKey: "secret-SENTINEL-2", TokenTTL: 6 * time.Second, Clock: clock.Now})
	if err := lab.Seed(labSeedBase()); err != nil {
		t.Fatal(err)
	}
	spy := &tokenSpy{h: lab}
	srv := httptest.NewServer(spy)
	defer srv.Close()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newLabClient(t, lab, srv.URL, func(cfg *Config) { cfg.Logger = logger }, WithClock(clock.Now))
	ctx := context.Background()

	var errs []string
	if _, err := c.BusinessUnits(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(5500 * time.Millisecond) // into the refresh window
	lab.Inject(folab.Fault{PathContains: pathRefresh, Kind: folab.FaultUnavailable})
	res := c.Apply(ctx, []plan.Op{assignOp("+12015550001", "bu-1", "p-1", "callerName"), assignOp("+1", "bu-1", "p-1", "callerName")})
	for _, r := range res {
		if r.Err != nil {
			errs = append(errs, r.Err.Error())
		}
	}
	lab.ExpireTokens()
	if _, err := c.Read(ctx, []string{"+12015550001"}); err != nil {
		t.Fatal(err)
	}
	bad, err := New(Config{URL: srv.URL, BusinessID: folab.DefaultBusinessID, APIKey: "key-SENTINEL-1", SecretKey: "wrong-SENTINEL-3", RPS: -1, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.List(ctx, func(plan.State) error { return nil }); err != nil {
		errs = append(errs, err.Error())
	} else {
		t.Fatal("list with a wrong secret succeeded")
	}
	for _, r := range bad.Apply(ctx, []plan.Op{assignOp("+12015550002", "bu-1", "", "")}) {
		errs = append(errs, r.Err.Error())
	}

	spy.mu.Lock()
	secrets := append([]string{"key-SENTINEL-1", "secret-SENTINEL-2", "wrong-SENTINEL-3"}, spy.tokens...)
	spy.mu.Unlock()
	if len(secrets) < 6 {
		t.Fatalf("spy saw too few tokens: %d", len(secrets))
	}
	haystack := logs.String() + strings.Join(errs, "\n")
	for _, r := range lab.Requests() {
		haystack += r.Path + r.Query + r.Body
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(haystack, s) {
			t.Fatalf("secret %q found in logs, errors or the lab's request log", s)
		}
	}
	if !strings.Contains(logs.String(), "refresh failed") {
		t.Fatalf("the failed refresh was not logged")
	}
}

func TestWrongCredentials(t *testing.T) {
	lab, url := startLab(t, folab.Options{}, labSeedBase())
	c := newLabClient(t, lab, url, func(cfg *Config) { cfg.SecretKey = "nope" })
	err := c.List(context.Background(), func(plan.State) error { return nil })
	var ve *plan.VendorError
	if !errors.As(err, &ve) || ve.Code != "auth_failed" || plan.IsTransient(err) {
		t.Fatalf("list error %v: want a permanent auth_failed", err)
	}
	r := c.Apply(context.Background(), []plan.Op{assignOp("+12015550001", "bu-1", "", "")})[0]
	wantOutcome(t, r, plan.Failed, "auth_failed")
	// A refused login is permanent: not retried by the listing, and each
	// call tries once.
	if n := len(lab.Requests()); n != 2 {
		t.Fatalf("%d requests, want 2 logins", n)
	}
}

func TestWriteOutcomes(t *testing.T) {
	tests := []struct {
		name  string
		fault folab.Fault
		want  plan.Outcome
		held  bool
	}{
		{name: "503 before acting", fault: folab.Fault{Method: "POST", PathContains: "/a-numbers", Kind: folab.FaultUnavailable}, want: plan.Unknown, held: false},
		{name: "503 after acting", fault: folab.Fault{Method: "POST", PathContains: "/a-numbers", Kind: folab.FaultLost}, want: plan.Unknown, held: true},
		{name: "dropped connection", fault: folab.Fault{Method: "POST", PathContains: "/a-numbers", Kind: folab.FaultDrop}, want: plan.Unknown, held: true},
		{name: "login 503", fault: folab.Fault{Method: "POST", PathContains: pathAuth, Kind: folab.FaultUnavailable}, want: plan.Retry, held: false},
		{name: "429", fault: folab.Fault{Method: "POST", PathContains: "/a-numbers", Kind: folab.FaultThrottle}, want: plan.Retry, held: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lab, url := startLab(t, folab.Options{}, labSeedBase())
			c := newLabClient(t, lab, url, nil)
			lab.Inject(tt.fault)
			r := c.Apply(context.Background(), []plan.Op{assignOp("+12015550001", "bu-1", "p-1", "callerName")})[0]
			wantOutcome(t, r, tt.want, "")
			if !plan.IsTransient(r.Err) {
				t.Fatalf("error not transient: %v", r.Err)
			}
			if _, ok := lab.Number("+12015550001"); ok != tt.held {
				t.Fatalf("held = %v, want %v", ok, tt.held)
			}
		})
	}
}

func TestTransportFailures(t *testing.T) {
	// A port nobody listens on: the request never left, so Retry.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	c, err := New(Config{URL: dead, BusinessID: "b", APIKey: "k", SecretKey: "s", RPS: -1})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Apply(context.Background(), []plan.Op{assignOp("+12015550001", "u", "", "")})[0]
	wantOutcome(t, r, plan.Retry, "")

	// A vendor that takes the write and never answers: Unknown at the
	// timeout.
	lab := folab.New(folab.Options{})
	if err := lab.Seed(labSeedBase()); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/phone-numbers") {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		lab.ServeHTTP(w, r)
	}))
	defer srv.Close()
	defer close(release)
	c = newLabClient(t, lab, srv.URL, func(cfg *Config) { cfg.Timeout = 200 * time.Millisecond })
	r = c.Apply(context.Background(), []plan.Op{assignOp("+12015550001", "bu-1", "", "")})[0]
	wantOutcome(t, r, plan.Unknown, "timeout")
}

func TestListingFailureIsPartial(t *testing.T) {
	lab, url := startLab(t, folab.Options{}, labSeedBase())
	var seed []folab.SeedNumber
	for i := 0; i < 25; i++ {
		seed = append(seed, folab.SeedNumber{PhoneNumber: "+130355500" + string(rune('1'+i/10)) + string(rune('0'+i%10))})
	}
	if err := lab.Seed(folab.Seed{Numbers: seed}); err != nil {
		t.Fatal(err)
	}
	c := newLabClient(t, lab, url, nil, WithPageLimit(10))
	n := 0
	// The first page answers; every try of the second fails.
	if err := c.List(context.Background(), func(plan.State) error {
		if n == 0 {
			lab.Inject(folab.Fault{Method: http.MethodGet, Kind: folab.FaultUnavailable, Times: 100})
		}
		n++
		return nil
	}); err == nil {
		t.Fatal("listing with a failing page reported complete")
	} else if !plan.IsTransient(err) {
		t.Fatalf("503 listing error not transient: %v", err)
	}
	if n != 10 {
		t.Fatalf("gave %d records before failing, want the first page (10)", n)
	}
	gets := 0
	for _, r := range lab.Requests() {
		if r.Method == http.MethodGet {
			gets++
		}
	}
	if gets != 1+4 {
		t.Fatalf("%d GETs, want 1 + 4 tries", gets)
	}
	// An error from fn is returned as is.
	stop := errors.New("stop")
	lab2, url2 := startLab(t, folab.Options{}, labSeedBase())
	_ = lab2.Seed(folab.Seed{Numbers: seed[:3]})
	c2 := newLabClient(t, lab2, url2, nil)
	if err := c2.List(context.Background(), func(plan.State) error { return stop }); err != stop {
		t.Fatalf("fn error came back as %v", err)
	}
}

func TestBusinessUnits(t *testing.T) {
	seed, err := folab.ReadSeed("lab/testdata/seed.json")
	if err != nil {
		t.Fatal(err)
	}
	lab, url := startLab(t, folab.Options{}, seed)
	c := newLabClient(t, lab, url, nil, WithPageLimit(1))
	bus, err := c.BusinessUnits(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(bus) != 3 || bus[1].Name != "West" || bus[2].Name != "West" {
		t.Fatalf("business units: %+v (want three, two named West)", bus)
	}
	want := plan.Program{ID: "prog-support", Name: "Support", Channel: "callerImage", Active: true, CallPurpose: "CS"}
	if len(bus[0].Programs) != 2 || bus[0].Programs[1] != want {
		t.Fatalf("programs of East: %+v", bus[0].Programs)
	}
	states, err := c.Read(context.Background(), []string{"+12125550101", "+12125550102", "+12125550103", "+19999999999"})
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 3 {
		t.Fatalf("read %d numbers, want 3", len(states))
	}
	s := states["+12125550101"]
	if s.ID != "11111111-1111-4111-8111-111111111111" || s.Program != "prog-sales" || s.Channel != "callerName" || s.Status != "APPROVED" {
		t.Fatalf("seeded number: %+v", s)
	}
	if s := states["+12125550103"]; s.BusinessUnit != "" || s.Channel != "" || s.AuthCalls == nil || !*s.AuthCalls {
		t.Fatalf("business-level number: %+v", s)
	}
}

func TestStatusesAfterDelay(t *testing.T) {
	tests := []struct {
		name      string
		legalName string
		allReview bool
	}{
		{name: "random with seed", legalName: "Acme Inc"},
		{name: "suspicious legal name", legalName: "Acme suspicious Inc", allReview: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
			lab, url := startLab(t, folab.Options{LegalName: tt.legalName, StatusDelay: time.Minute, Seed: 7, Clock: clock.Now}, labSeedBase())
			c := newLabClient(t, lab, url, nil, WithClock(clock.Now))
			var ops []plan.Op
			var nums []string
			for i := 0; i < 20; i++ {
				n := "+120155500" + string(rune('0'+i/10)) + string(rune('0'+i%10))
				nums = append(nums, n)
				ops = append(ops, assignOp(n, "bu-1", "p-1", "callerName"))
			}
			for _, r := range c.Apply(context.Background(), ops) {
				if r.Outcome != plan.Done || r.After.Status != "PENDING" {
					t.Fatalf("create: %+v", r)
				}
			}
			for _, s := range live(t, c, nums...) {
				if s.Status != "PENDING" {
					t.Fatalf("status %s before the delay", s.Status)
				}
			}
			clock.Advance(time.Minute)
			counts := map[string]int{}
			for _, s := range live(t, c, nums...) {
				counts[s.Status]++
			}
			if counts["APPROVED"]+counts["UNDER REVIEW"] != 20 {
				t.Fatalf("statuses after the delay: %v", counts)
			}
			if tt.allReview && counts["UNDER REVIEW"] != 20 {
				t.Fatalf("suspicious business: %v", counts)
			}
			if !tt.allReview && (counts["APPROVED"] == 0 || counts["UNDER REVIEW"] == 0) {
				t.Fatalf("not random: %v", counts)
			}
		})
	}
}

func TestDecodeToken(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		life    float64
		wantErr bool
	}{
		{name: "bare, as documented", in: `{"token":"t","refresh_token":"r","expires_in":3600,"token_type":"Bearer","expires_at":1700000000}`, life: 3600},
		{name: "in the envelope", in: `{"body":{"token":"t","expires_in":12},"error":null}`, life: 12},
		{name: "expires_in as a string", in: `{"token":"t","expires_in":"600"}`, life: 600},
		{name: "no expires_in", in: `{"token":"t"}`, life: 0},
		{name: "no token", in: `{"refresh_token":"r","expires_in":3600}`, wantErr: true},
		{name: "negative lifetime", in: `{"token":"t","expires_in":-5}`, wantErr: true},
		{name: "not JSON", in: `<html>`, wantErr: true},
		{name: "expires_in not a number", in: `{"token":"t","expires_in":"soon"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := decodeToken([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && float64(tok.ExpiresIn) != tt.life {
				t.Fatalf("expires_in %v, want %v", tok.ExpiresIn, tt.life)
			}
		})
	}
}

// TestConcurrentUse drives one client from many goroutines, writes and
// listings mixed, for the race detector. Between rounds the clock moves
// into the refresh window, so every round after the first starts with all
// goroutines finding a refresh due at once: one refreshes, the others go on
// with the still-valid token.
func TestConcurrentUse(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	lab, url := startLab(t, folab.Options{TokenTTL: 6 * time.Second, Clock: clock.Now}, labSeedBase())
	c := newLabClient(t, lab, url, nil, WithClock(clock.Now))
	ctx := context.Background()
	const goroutines, rounds, per = 8, 3, 5
	errs := make(chan error, goroutines*rounds*(per+1))
	for round := 0; round < rounds; round++ {
		var wg sync.WaitGroup
		for g := 0; g < goroutines; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				var ops []plan.Op
				for i := 0; i < per; i++ {
					ops = append(ops, assignOp(fmt.Sprintf("+1404%03d%04d", g, round*10+i), "bu-1", "p-1", "callerName"))
				}
				for _, r := range c.Apply(ctx, ops) {
					if r.Outcome != plan.Done {
						errs <- fmt.Errorf("%s: %v %v", r.OpID, r.Outcome, r.Err)
					}
				}
				if err := c.List(ctx, func(plan.State) error { return nil }); err != nil {
					errs <- err
				}
			}(g)
		}
		wg.Wait()
		clock.Advance(5200 * time.Millisecond)
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if lab.Count() != goroutines*rounds*per {
		t.Fatalf("lab holds %d numbers, want %d", lab.Count(), goroutines*rounds*per)
	}
	logins, refreshed := 0, 0
	for _, r := range lab.Requests() {
		switch {
		case r.Status == http.StatusUnauthorized:
			t.Fatalf("a request went out with an expired token")
		case r.Path == pathAuth:
			logins++
		case r.Path == pathRefresh && r.Status == http.StatusOK:
			refreshed++
		}
	}
	if logins != 1 || refreshed != rounds-1 {
		t.Fatalf("%d logins and %d refreshes, want 1 and %d", logins, refreshed, rounds-1)
	}
}

func TestMoveBatch(t *testing.T) {
	lab, url := startLab(t, folab.Options{}, labSeedRules())
	c := newLabClient(t, lab, url, nil)
	ctx := context.Background()
	st := live(t, c, "+12025550001", "+12025550002", "+12025550003")
	stale := st["+12025550001"]
	stale.BusinessUnit, stale.Program, stale.Channel = "", "", "" // the plan saw it at business level; it is in p-1
	ops := []plan.Op{
		moveOp(st["+12025550002"], "bu-2", "p-3", "callerName"), // unit level in bu-1: out of bu-1, then put
		moveOp(st["+12025550003"], "bu-2", "p-3", "callerName"), // business level: put only
		moveOp(stale, "bu-2", "p-3", "callerName"),              // in the way: rejected by the put
	}
	res := c.Apply(ctx, ops)
	wantOutcome(t, res[0], plan.Done, "")
	wantOutcome(t, res[1], plan.Done, "")
	wantOutcome(t, res[2], plan.Failed, ReasonInvalidRelationship)
	puts := 0
	for _, p := range writePaths(lab) {
		if strings.HasPrefix(p, "PUT ") {
			puts++
		}
	}
	if puts != 1 {
		t.Fatalf("%d PUTs for one batch, want 1", puts)
	}
	if n, _ := lab.Number("+12025550001"); n.ProgramID != "p-1" {
		t.Fatalf("rejected number moved: %+v", n)
	}
}

// TestLabUnderPrefix serves the lab below a path prefix, as the lab
// command does beside OneUC's: the client keeps its base path across
// pages (the lab's own test checks that nextPage keeps the prefix).
func TestLabUnderPrefix(t *testing.T) {
	lab := folab.New(folab.Options{})
	if err := lab.Seed(labSeedRules()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/fo/", http.StripPrefix("/fo", lab))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := newLabClient(t, lab, srv.URL+"/fo/", nil, WithPageLimit(1))
	if got := live(t, c, "+12025550001", "+12025550002", "+12025550003"); len(got) != 3 {
		t.Fatalf("read %d numbers through the prefix, want 3", len(got))
	}
	r := c.Apply(context.Background(), []plan.Op{assignOp("+12025550100", "bu-1", "p-1", "callerName")})[0]
	wantOutcome(t, r, plan.Done, "")
}

// TestReadListsOncePerCall checks that Read and ReadStates list the
// business once per call, however many numbers they are asked for: the
// API reads numbers only by listing, and a listing per number (or per
// chunk of them) would multiply the whole inventory's pages.
func TestReadListsOncePerCall(t *testing.T) {
	seed, err := folab.ReadSeed("lab/testdata/seed.json")
	if err != nil {
		t.Fatal(err)
	}
	lab, url := startLab(t, folab.Options{}, seed)
	c := newLabClient(t, lab, url, nil, WithPageLimit(1)) // a page per number
	inventory := lab.Count()
	asked := []string{"+12125550101", "+12125550102", "+12125550103", "+19999999999", "+12125550101"}
	seen := 0
	listingPages := func() int {
		log := lab.Requests()
		pages := 0
		for _, r := range log[seen:] {
			if r.Method == "GET" && strings.HasSuffix(r.Path, "/phone-numbers") {
				pages++
			}
		}
		seen = len(log)
		return pages
	}
	tests := []struct {
		name string
		read func(context.Context, []string) (map[string]plan.State, error)
	}{
		{"Read", c.Read},
		{"ReadStates", c.ReadStates},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			listingPages()
			got, err := tt.read(context.Background(), asked)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 3 {
				t.Errorf("read %d numbers, want the 3 held", len(got))
			}
			// One page per number of the business, plus the empty page
			// some listings end on: never one listing per number asked.
			if pages := listingPages(); pages < inventory || pages > inventory+1 {
				t.Errorf("%d listing pages for %d numbers asked of an inventory of %d, want one listing",
					pages, len(asked), inventory)
			}
		})
	}
}

// TestListingPagesDoNotLeak lists an inventory whose numbers alternate
// between a program, a business unit alone and the business alone, one
// page at a time: pages are decoded into reused buffers, and a field of one
// page (a program, a channel, authenticated calls) must never show up on a
// number of the next page that lacks it.
func TestListingPagesDoNotLeak(t *testing.T) {
	seed, err := folab.ReadSeed("lab/testdata/seed.json")
	if err != nil {
		t.Fatal(err)
	}
	bu, prog := seed.BusinessUnits[0], seed.BusinessUnits[0].Programs[0]
	seed.Numbers = nil
	for i := 0; i < 30; i++ {
		n := folab.SeedNumber{PhoneNumber: fmt.Sprintf("+1212555%04d", 2000+i), CallPurposeCode: []string{"CS", "SA", "CO"}[i%3], AuthenticatedCalls: i%2 == 0}
		switch i % 3 {
		case 0:
			n.BusinessUnitID, n.ProgramID = bu.ID, prog.ID
		case 1:
			n.BusinessUnitID = bu.ID
		}
		seed.Numbers = append(seed.Numbers, n)
	}
	for _, limit := range []int{1, 2, 7} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			lab, url := startLab(t, folab.Options{}, seed)
			c := newLabClient(t, lab, url, nil, WithPageLimit(limit))
			got := map[string]plan.State{}
			err := c.List(context.Background(), func(s plan.State) error { got[s.Number] = s; return nil })
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(seed.Numbers) {
				t.Fatalf("listed %d numbers, want %d", len(got), len(seed.Numbers))
			}
			for _, n := range lab.Numbers() {
				s := got[n.PhoneNumber]
				auth := s.AuthCalls != nil && *s.AuthCalls
				if s.ID != n.ID || s.BusinessUnit != n.BusinessUnitID || s.Program != n.ProgramID ||
					s.CallPurpose != n.CallPurposeCode || auth != n.AuthenticatedCalls || (n.ProgramID == "") != (s.Channel == "") {
					t.Errorf("%s listed as %+v, lab holds %+v", n.PhoneNumber, s, n)
				}
			}
		})
	}
}

// TestLabDropWrites: a write the vendor answers but does not keep is Done
// for the client (only a later read can tell), which the chaos runs rely on.
func TestLabDropWrites(t *testing.T) {
	lab, url := startLab(t, folab.Options{}, labSeedRules())
	c := newLabClient(t, lab, url, nil)
	lab.SetDropWrites(true)
	r := c.Apply(t.Context(), []plan.Op{assignOp("+12025550100", "bu-1", "", "")})[0]
	if r.Outcome.String() != "done" {
		t.Fatalf("dropped write answered %v", r.Outcome)
	}
	if _, ok := lab.Number("+12025550100"); ok {
		t.Fatalf("a dropped write was stored")
	}
}
