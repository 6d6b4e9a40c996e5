package lab

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// client is a raw HTTP caller of a lab, for testing the wire itself.
type client struct {
	t     *testing.T
	srv   *httptest.Server
	token string
}

type answer struct {
	Status    int             `json:"-"`
	AuthToken string          `json:"auth_token"`
	Data      json.RawMessage `json:"data"`
	Message   string          `json:"message"`
	Error     string          `json:"error"`
	NextKey   string          `json:"next_start_key"`
	Tokens    struct {
		Remaining int `json:"remaining"`
	} `json:"tokens"`
}

func start(t *testing.T, opts Options, seed Seed) (*Lab, *client) {
	t.Helper()
	l := New(opts)
	if err := l.Seed(seed); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(l)
	t.Cleanup(srv.Close)
	c := &client{t: t, srv: srv}
	a := c.do("PUT", "/v2/api_auth", `{"data":{"api_key":"`+DefaultAPIKey+`"}}`)
	if a.Status != 201 || a.AuthToken == "" {
		t.Fatalf("login: %d %s", a.Status, a.Message)
	}
	c.token = a.AuthToken
	return l, c
}

func (c *client) do(method, path, body string) answer {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.srv.URL+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("X-Auth-Token", c.token)
	}
	resp, err := c.srv.Client().Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil {
		c.t.Fatalf("%s %s: answer %q: %v", method, path, raw, err)
	}
	a.Status = resp.StatusCode
	return a
}

const acct = "/v2/accounts/" + DefaultAccountID

func TestReadSeedFile(t *testing.T) {
	l := New(Options{})
	if err := l.LoadSeed("testdata/basic/seed.json"); err != nil {
		t.Fatal(err)
	}
	n, ok := l.Number("+14155550101")
	if !ok || n.CNAM != "ACME SALES" || n.E911 == nil || n.E911.StreetAddress != "116 NATOMA ST" ||
		n.E911Fields["status"] != "PROVISIONED" {
		t.Fatalf("seeded number %+v", n)
	}
	if got := len(l.Numbers()); got != 3 {
		t.Fatalf("%d numbers held, want 3", got)
	}
	if _, err := ReadSeed("testdata/missing.json"); err == nil {
		t.Fatal("a missing seed file read fine")
	}
}

func TestWire(t *testing.T) {
	seed := Seed{Numbers: []SeedNumber{
		{Number: "+14155550101", State: "in_service", CNAM: "ACME", E911: &Address{StreetAddress: "1 Main St",
			Locality: "Town", Region: "NY", PostalCode: "10001"}},
		{Number: "+14155550102", State: "reserved"},
	}, Available: []string{"+1212555"}}
	tests := []struct {
		name, method, path, body string
		wantStatus               int
		wantMessage              string
		check                    func(t *testing.T, l *Lab, a answer)
	}{
		{name: "write without accept_charges is a quote", method: "PATCH", path: acct + "/phone_numbers/%2B14155550101",
			body: `{"data":{"cnam":{"display_name":"X"}}}`, wantStatus: 402, wantMessage: "accept charges"},
		{name: "post replaces every public field", method: "POST", path: acct + "/phone_numbers/%2B14155550101",
			body: `{"data":{"cnam":{"display_name":"NEW"}},"accept_charges":true}`, wantStatus: 200,
			check: func(t *testing.T, l *Lab, _ answer) {
				if n, _ := l.Number("+14155550101"); n.E911 != nil || n.CNAM != "NEW" {
					t.Fatalf("after POST: %+v", n)
				}
			}},
		{name: "patch merges", method: "PATCH", path: acct + "/phone_numbers/%2B14155550101",
			body: `{"data":{"cnam":{"display_name":"NEW"}},"accept_charges":true}`, wantStatus: 200,
			check: func(t *testing.T, l *Lab, _ answer) {
				if n, _ := l.Number("+14155550101"); n.E911 == nil || n.CNAM != "NEW" {
					t.Fatalf("after PATCH: %+v", n)
				}
			}},
		{name: "cnam longer than 15 is invalid", method: "PATCH", path: acct + "/phone_numbers/%2B14155550101",
			body: `{"data":{"cnam":{"display_name":"ABCDEFGHIJKLMNOP"}},"accept_charges":true}`, wantStatus: 400, wantMessage: "invalid data"},
		{name: "bare ten digits read as +1", method: "GET", path: acct + "/phone_numbers/4155550102", wantStatus: 200},
		{name: "unknown number", method: "GET", path: acct + "/phone_numbers/%2B14155550199", wantStatus: 404, wantMessage: "bad_identifier"},
		{name: "search quantity over 500", method: "GET", path: "/v2/phone_numbers?prefix=212&quantity=501", wantStatus: 400},
		{name: "search prefix too short", method: "GET", path: "/v2/phone_numbers?prefix=21", wantStatus: 400},
		{name: "search skips 0000 and returns the block", method: "GET", path: "/v2/phone_numbers?prefix=%2B1212555000&quantity=20", wantStatus: 200,
			check: func(t *testing.T, l *Lab, a answer) {
				var hits []struct{ E164 string }
				_ = json.Unmarshal(a.Data, &hits)
				if len(hits) != 9 || hits[0].E164 != "+12125550001" {
					t.Fatalf("hits %+v", hits)
				}
				if !l.Discovered("+12125550001") || l.Discovered("+12125550000") {
					t.Fatal("discovery memory wrong")
				}
			}},
		{name: "activation of an undiscovered number", method: "PUT", path: acct + "/phone_numbers/%2B12125550005/activate",
			body: `{"accept_charges":true}`, wantStatus: 500, wantMessage: "unspecified_fault"},
		{name: "page_size over the maximum", method: "GET", path: acct + "/phone_numbers?page_size=1001", wantStatus: 400},
		{name: "paging", method: "GET", path: acct + "/phone_numbers?page_size=1", wantStatus: 200,
			check: func(t *testing.T, _ *Lab, a answer) {
				if a.NextKey != "+14155550102" {
					t.Fatalf("next_start_key %q", a.NextKey)
				}
			}},
		{name: "other account", method: "GET", path: "/v2/accounts/someoneelse/phone_numbers", wantStatus: 403},
		{name: "release then gone", method: "DELETE", path: acct + "/phone_numbers/%2B14155550102", wantStatus: 200,
			check: func(t *testing.T, l *Lab, _ answer) {
				if n, _ := l.Number("+14155550102"); n.Held || len(l.Numbers()) != 1 {
					t.Fatalf("after release: %+v", n)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, c := start(t, Options{}, seed)
			a := c.do(tc.method, tc.path, tc.body)
			if a.Status != tc.wantStatus || (tc.wantMessage != "" && a.Message != tc.wantMessage) {
				t.Fatalf("%d %q (%s), want %d %q", a.Status, a.Message, a.Data, tc.wantStatus, tc.wantMessage)
			}
			if tc.check != nil {
				tc.check(t, l, a)
			}
		})
	}
}

func TestSearchNeedsToken(t *testing.T) {
	_, c := start(t, Options{}, Seed{Available: []string{"+1212555"}})
	c.token = ""
	if a := c.do("GET", "/v2/phone_numbers?prefix=212", ""); a.Status != 401 {
		t.Fatalf("search without a token: %d", a.Status)
	}
}

func TestTokenExpiresWithClock(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	_, c := start(t, Options{TokenTTL: time.Minute, Clock: clock}, Seed{})
	if a := c.do("GET", acct+"/phone_numbers", ""); a.Status != 200 {
		t.Fatalf("fresh token: %d", a.Status)
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	if a := c.do("GET", acct+"/phone_numbers", ""); a.Status != 401 || a.Message != "invalid credentials" {
		t.Fatalf("expired token: %d %q", a.Status, a.Message)
	}
}

func TestBucket(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	l, c := start(t, Options{Bucket: 3, RefillPerSec: 1, Clock: clock}, Seed{})
	// The login took one token; two remain.
	for _, want := range []int{1, 0} {
		if a := c.do("GET", acct+"/phone_numbers", ""); a.Status != 200 || a.Tokens.Remaining != want {
			t.Fatalf("%d remaining %d, want 200 remaining %d", a.Status, a.Tokens.Remaining, want)
		}
	}
	if a := c.do("GET", acct+"/phone_numbers", ""); a.Status != 429 || a.Message != "too_many_requests" {
		t.Fatalf("over the bucket: %d %q", a.Status, a.Message)
	}
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	if a := c.do("GET", acct+"/phone_numbers", ""); a.Status != 200 {
		t.Fatalf("after refill: %d", a.Status)
	}
	if l.Stats().Throttled != 1 {
		t.Fatalf("throttled %d", l.Stats().Throttled)
	}
}

func TestModifiedStrictlyIncreases(t *testing.T) {
	fixed := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l, c := start(t, Options{Clock: func() time.Time { return fixed }},
		Seed{Numbers: []SeedNumber{{Number: "+14155550101", State: "in_service"}}})
	before, _ := l.Number("+14155550101")
	for _, name := range []string{"A", "B"} {
		c.do("PATCH", acct+"/phone_numbers/%2B14155550101", `{"data":{"cnam":{"display_name":"`+name+`"}},"accept_charges":true}`)
	}
	after, _ := l.Number("+14155550101")
	if after.Updated != before.Updated+2 {
		t.Fatalf("updated %d → %d, want +2 for two writes in one second", before.Updated, after.Updated)
	}
	a := c.do("GET", acct+"/phone_numbers?page_size=10", "")
	if !bytes.Contains(a.Data, []byte(`"updated":`)) {
		t.Fatalf("listing lacks updated: %s", a.Data)
	}
	var page struct {
		Numbers map[string]struct{ Updated int64 } `json:"numbers"`
	}
	_ = json.Unmarshal(a.Data, &page)
	if got := page.Numbers["+14155550101"].Updated - GregorianOffset; got != after.Updated {
		t.Fatalf("listing updated %d, number %d", got, after.Updated)
	}
}

func TestLogRedactsKeyAndDropWrites(t *testing.T) {
	l, c := start(t, Options{DropWrites: true}, Seed{Numbers: []SeedNumber{{Number: "+14155550101", State: "in_service", CNAM: "KEEP"}}})
	a := c.do("PATCH", acct+"/phone_numbers/%2B14155550101", `{"data":{"cnam":{"display_name":"LOST"}},"accept_charges":true}`)
	if a.Status != 200 || !bytes.Contains(a.Data, []byte("LOST")) {
		t.Fatalf("dropped write answered %d %s", a.Status, a.Data)
	}
	if n, _ := l.Number("+14155550101"); n.CNAM != "KEEP" {
		t.Fatalf("dropped write stored: %q", n.CNAM)
	}
	for _, r := range l.Requests() {
		if strings.Contains(r.Body, DefaultAPIKey) {
			t.Fatalf("request log holds the key: %s", r.Body)
		}
	}
	if l.Requests()[0].Applied || l.Requests()[0].Path != "/v2/api_auth" {
		t.Fatalf("first logged request %+v", l.Requests()[0])
	}
}

func TestCollectionShapes(t *testing.T) {
	tests := []struct {
		name       string
		shape      int
		wantStatus int
	}{
		{"shape 1 answers 200 with success and error", ShapeSuccessError, 200},
		{"shape 2 answers 400 client error", ShapeClientError, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, c := start(t, Options{CollectionShape: tc.shape},
				Seed{Numbers: []SeedNumber{{Number: "+14155550102", State: "reserved"}}})
			a := c.do("PUT", acct+"/phone_numbers/collection/activate",
				`{"data":{"numbers":["+14155550102","+14155550103"]},"accept_charges":true}`)
			if a.Status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", a.Status, tc.wantStatus, a.Data)
			}
			if !bytes.Contains(a.Data, []byte("missing_provider_url")) {
				t.Fatalf("no fault for the undiscovered number: %s", a.Data)
			}
			if n, _ := l.Number("+14155550102"); n.State != "in_service" {
				t.Fatalf("held number not activated: %s", n.State)
			}
		})
	}
}

// TestInject checks each injected fault on its own request, and that a
// fault is used up.
func TestInject(t *testing.T) {
	const n = "+15550200001"
	path := acct + "/phone_numbers/%2B15550200001"
	tests := []struct {
		name    string
		kind    FaultKind
		status  int
		applied bool
	}{
		{"unavailable", FaultUnavailable, 503, false},
		{"throttle", FaultThrottle, 429, false},
		{"lost", FaultLost, 503, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, c := start(t, Options{}, Seed{Numbers: []SeedNumber{{Number: n, State: "in_service"}}})
			l.Inject(Fault{Method: "PATCH", PathContains: "%2B15550200001", Kind: tt.kind})
			if a := c.do("GET", path, ""); a.Status != 200 {
				t.Fatalf("a GET met the PATCH fault: %d", a.Status)
			}
			a := c.do("PATCH", path, `{"data":{"cnam":{"display_name":"X"}},"accept_charges":true}`)
			if a.Status != tt.status {
				t.Fatalf("status %d, want %d", a.Status, tt.status)
			}
			if got, _ := l.Number(n); (got.CNAM == "X") != tt.applied {
				t.Fatalf("cnam %q after the fault, applied want %v", got.CNAM, tt.applied)
			}
			if a := c.do("PATCH", path, `{"data":{"cnam":{"display_name":"Y"}},"accept_charges":true}`); a.Status != 200 {
				t.Fatalf("fault not used up: %d", a.Status)
			}
		})
	}
	t.Run("drop", func(t *testing.T) {
		l, c := start(t, Options{}, Seed{Numbers: []SeedNumber{{Number: n, State: "in_service"}}})
		l.Inject(Fault{Method: "DELETE", Kind: FaultDrop})
		req, _ := http.NewRequest("DELETE", c.srv.URL+path, nil)
		req.Header.Set("X-Auth-Token", c.token)
		if resp, err := c.srv.Client().Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("dropped request answered %d", resp.StatusCode)
		}
		if got, _ := l.Number(n); got.Held {
			t.Fatal("the dropped release was not carried out")
		}
	})
}

// TestSearchRules checks the carrier search against vendors.md: a prefix
// of 3 to 10 digits, with or without the +; quantity 1 by default and at
// most 500; at most quantity numbers; a block asked with a quantity at
// least its size answers every available number of it; and the short
// carrier of WideAnswerMax, which answers wide searches with fewer.
func TestSearchRules(t *testing.T) {
	seed := Seed{Available: []string{"+1212555"}, Numbers: []SeedNumber{{Number: "+12125550042", State: "in_service"}}}
	tests := []struct {
		name   string
		query  string
		wide   int // Options.WideAnswerMax
		status int
		hits   int // -1: do not check
	}{
		{"three digits", "prefix=212", 0, 200, 1},
		{"ten digits with +", "prefix=%2B1212555001&quantity=10", 0, 200, 10},
		{"ten digits bare", "prefix=2125550011&quantity=10", 0, 200, 1},
		{"two digits", "prefix=21", 0, 400, -1},
		{"eleven digits", "prefix=%2B12125550011", 0, 400, -1},
		{"not digits", "prefix=%2B1212x", 0, 400, -1},
		{"quantity zero", "prefix=212&quantity=0", 0, 400, -1},
		{"quantity 500", "prefix=212&quantity=500", 0, 200, 500},
		{"quantity 501", "prefix=212&quantity=501", 0, 400, -1},
		{"at most quantity", "prefix=%2B1212555&quantity=7", 0, 200, 7},
		// 100 numbers, less …0000 and the held …0042.
		{"a block of a hundred whole", "prefix=%2B121255500&quantity=100", 0, 200, 98},
		{"a block of ten whole", "prefix=%2B1212555004&quantity=10", 0, 200, 9},
		{"short carrier: a wide answer cut", "prefix=%2B121255500&quantity=100", 30, 200, 30},
		{"short carrier: a block of ten whole", "prefix=%2B1212555004&quantity=10", 3, 200, 9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, c := start(t, Options{WideAnswerMax: tc.wide}, seed)
			a := c.do("GET", "/v2/phone_numbers?"+tc.query, "")
			if a.Status != tc.status {
				t.Fatalf("status %d (%s), want %d", a.Status, a.Data, tc.status)
			}
			if tc.hits < 0 {
				return
			}
			var hits []struct{ E164 string }
			if err := json.Unmarshal(a.Data, &hits); err != nil {
				t.Fatal(err)
			}
			if len(hits) != tc.hits {
				t.Fatalf("%d hits, want %d", len(hits), tc.hits)
			}
			for _, h := range hits {
				if !strings.HasPrefix(h.E164, "+1212555") || strings.HasSuffix(h.E164, "0000") || h.E164 == "+12125550042" {
					t.Fatalf("search returned %s", h.E164)
				}
				if !l.Discovered(h.E164) {
					t.Fatalf("%s returned but not discovered", h.E164)
				}
			}
		})
	}
}
