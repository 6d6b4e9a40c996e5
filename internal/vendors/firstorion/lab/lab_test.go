package lab

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// labCall sends one raw request to a lab and decodes the envelope.
type labAnswer struct {
	status int
	header http.Header
	env    struct {
		Body  json.RawMessage `json:"body"`
		Error *struct {
			Code        int    `json:"code"`
			Description string `json:"description"`
		} `json:"error"`
		Info *struct {
			NextPage string `json:"nextPage"`
		} `json:"info"`
	}
}

func labCall(t *testing.T, url, method, path, token, body string) labAnswer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var a labAnswer
	a.status, a.header = res.StatusCode, res.Header
	data, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(data, &a.env); err != nil {
		t.Fatalf("%s %s: answer not an envelope: %s", method, path, data)
	}
	return a
}

func labToken(t *testing.T, url string) (string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+pathAuth, nil)
	req.Header.Set("X-SERVICE", "auth")
	req.Header.Set("X-API-KEY", DefaultAPIKey)
	req.Header.Set("X-SECRET-KEY", DefaultSecretKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	tok, err := decodeToken(data)
	if err != nil {
		t.Fatalf("auth: %v (%s)", err, data)
	}
	return tok.Token, tok.RefreshToken
}

// tokenBody is the body of an auth answer, as the tests read it.
type tokenBody struct {
	Token        string  `json:"token"`
	RefreshToken string  `json:"refresh_token"`
	ExpiresIn    float64 `json:"expires_in"`
}

// decodeToken reads an auth answer's token from the success envelope.
func decodeToken(data []byte) (tokenBody, error) {
	var env struct {
		Body tokenBody `json:"body"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return tokenBody{}, err
	}
	if env.Body.Token == "" {
		return tokenBody{}, errors.New("auth answer has no token")
	}
	return env.Body, nil
}

// rejection is one rejected number of a write answer.
type rejection struct {
	RejectionReason        string `json:"rejectionReason"`
	AllocatedBusinessID    string `json:"allocatedBusinessId"`
	AllocatedPhoneNumberID string `json:"allocatedPhoneNumberId"`
}

// startLab serves a lab over loopback HTTP and returns it with its URL.
func startLab(t testing.TB, opts Options, seed Seed) (*Lab, string) {
	t.Helper()
	l := New(opts)
	if err := l.Seed(seed); err != nil {
		t.Fatalf("seed: %v", err)
	}
	srv := httptest.NewServer(l)
	t.Cleanup(srv.Close)
	return l, srv.URL
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// labSeedRules places numbers for the rule tests.
func labSeedRules() Seed {
	s := BaseSeed()
	s.Numbers = []SeedNumber{
		{ID: "in-p1", PhoneNumber: "+12025550001", BusinessUnitID: "bu-1", ProgramID: "p-1"},
		{ID: "at-bu1", PhoneNumber: "+12025550002", BusinessUnitID: "bu-1"},
		{ID: "at-business", PhoneNumber: "+12025550003"},
	}
	return s
}

func TestLabRules(t *testing.T) {
	const b = "/exchange/v1/businesses/" + DefaultBusinessID
	const prog1 = b + "/business-units/bu-1/programs/p-1/delivery-channels/callerName/a-numbers"
	const prog2 = b + "/business-units/bu-1/programs/p-2/delivery-channels/callerImage/a-numbers"
	const prog3 = b + "/business-units/bu-2/programs/p-3/delivery-channels/callerName/a-numbers"
	many := make([]string, maxBatch+1)
	for i := range many {
		many[i] = `{"phoneNumber":"+1303555` + strings.Repeat("0", 4-len(strconv.Itoa(i))) + strconv.Itoa(i) + `"}`
	}
	tests := []struct {
		name, method, path, body string
		noAuth                   bool
		status                   int
		reason                   string // first rejection's reason
	}{
		{name: "no token", method: "GET", path: b + "/phone-numbers", noAuth: true, status: 401},
		{name: "other business", method: "GET", path: "/exchange/v1/businesses/other/phone-numbers", status: 404},
		{name: "unsupported method", method: "PATCH", path: b + "/phone-numbers", status: 404},
		{name: "unknown path", method: "GET", path: b + "/nothing", status: 404},
		{name: "limit above maximum", method: "GET", path: b + "/phone-numbers?limit=1001", status: 400},
		{name: "bad page hash", method: "GET", path: b + "/phone-numbers?pageHash=zz", status: 400},
		{name: "create over the batch limit", method: "POST", path: prog1, body: "[" + strings.Join(many, ",") + "]", status: 400},
		{name: "create invalid number", method: "POST", path: prog1, body: `[{"phoneNumber":"2125550000"}]`, status: 201, reason: reasonInvalidNumber},
		{name: "create held number", method: "POST", path: prog1, body: `[{"phoneNumber":"+12025550003"}]`, status: 201, reason: reasonDuplicate},
		{name: "create twice in one request", method: "POST", path: prog1, body: `[{"phoneNumber":"+12025550009"},{"phoneNumber":"+12025550009"}]`, status: 201, reason: reasonDuplicate},
		{name: "create allocated number", method: "POST", path: prog1, body: `[{"phoneNumber":"+15012149020"}]`, status: 201, reason: reasonAllocated},
		{name: "create in unknown unit", method: "POST", path: b + "/business-units/nope/phone-numbers", body: `[{"phoneNumber":"+12025550009"}]`, status: 201, reason: reasonRelationshipMissing},
		{name: "create on the wrong channel", method: "POST", path: b + "/business-units/bu-1/programs/p-1/delivery-channels/blocking/a-numbers", body: `[{"phoneNumber":"+12025550009"}]`, status: 201, reason: reasonRelationshipMissing},
		{name: "create program of another unit", method: "POST", path: b + "/business-units/bu-2/programs/p-1/delivery-channels/callerName/a-numbers", body: `[{"phoneNumber":"+12025550009"}]`, status: 201, reason: reasonRelationshipMissing},
		{name: "put into a program of another unit", method: "PUT", path: prog3, body: `{"phoneNumbers":["+12025550002"]}`, status: 200, reason: reasonInvalidRelationship},
		{name: "put into another program of the unit", method: "PUT", path: prog2, body: `{"phoneNumbers":["+12025550001"]}`, status: 200, reason: reasonInvalidRelationship},
		{name: "put into a unit while in a program", method: "PUT", path: b + "/business-units/bu-2/phone-numbers", body: `{"phoneNumbers":["+12025550001"]}`, status: 200, reason: reasonInvalidRelationship},
		{name: "put a number not held", method: "PUT", path: prog1, body: `{"phoneNumbers":["+12025550999"]}`, status: 200, reason: reasonNotFound},
		{name: "put from business level", method: "PUT", path: prog3, body: `{"phoneNumbers":["+12025550003"]}`, status: 200},
		{name: "remove from unit while in a program", method: "DELETE", path: b + "/business-units/bu-1/phone-numbers/in-p1", status: 409},
		{name: "remove from a program it is not in", method: "DELETE", path: prog2 + "/in-p1", status: 404},
		{name: "remove unknown id", method: "DELETE", path: prog1 + "/nope", status: 404},
		{name: "update unknown id", method: "PUT", path: b + "/phone-numbers/nope", body: `{"callPurposeCode":"SA"}`, status: 404},
		{name: "batch delete unknown id", method: "POST", path: b + "/phone-numbers/DELETE", body: `{"phoneNumberIds":["nope"]}`, status: 200, reason: reasonNotFound},
		{name: "batch delete empty", method: "POST", path: b + "/phone-numbers/DELETE", body: `{"phoneNumberIds":[]}`, status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lab, url := startLab(t, Options{}, labSeedRules())
			tok := ""
			if !tt.noAuth {
				tok, _ = labToken(t, url)
			}
			a := labCall(t, url, tt.method, tt.path, tok, tt.body)
			if a.status != tt.status {
				t.Fatalf("status %d, want %d (%+v)", a.status, tt.status, a.env.Error)
			}
			if a.status >= 400 && (a.env.Error == nil || a.env.Error.Code != a.status || string(a.env.Body) != "null") {
				t.Fatalf("error answer not in the error envelope: %+v", a.env)
			}
			var w struct {
				Rejected []rejection `json:"rejectedPhoneNumbers"`
			}
			if a.status < 400 {
				_ = json.Unmarshal(a.env.Body, &w)
			}
			got := ""
			if len(w.Rejected) > 0 {
				got = w.Rejected[len(w.Rejected)-1].RejectionReason
			}
			if got != tt.reason {
				t.Fatalf("rejection %q, want %q (%s)", got, tt.reason, a.env.Body)
			}
			if tt.reason == reasonAllocated && (w.Rejected[0].AllocatedBusinessID != "other-business" || w.Rejected[0].AllocatedPhoneNumberID != "other-pn") {
				t.Fatalf("allocated rejection without the owner: %+v", w.Rejected[0])
			}
			if lab.DeleteAllCalls() != 0 {
				t.Fatalf("counted as delete-all")
			}
		})
	}
}

func TestLabDeleteAllIsCarriedOutAndRecorded(t *testing.T) {
	const b = "/exchange/v1/businesses/" + DefaultBusinessID
	tests := []struct{ name, path string }{
		{"collection", b + "/phone-numbers"},
		{"empty id", b + "/phone-numbers/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lab, url := startLab(t, Options{}, labSeedRules())
			tok, _ := labToken(t, url)
			if a := labCall(t, url, http.MethodDelete, tt.path, tok, ""); a.status != http.StatusOK {
				t.Fatalf("status %d", a.status)
			}
			if lab.Count() != 0 || lab.DeleteAllCalls() != 1 {
				t.Fatalf("numbers left %d, delete-all calls %d; want 0 and 1", lab.Count(), lab.DeleteAllCalls())
			}
			reqs := lab.Requests()
			if last := reqs[len(reqs)-1]; !last.DeleteAll || !last.Applied {
				t.Fatalf("delete-all not flagged: %+v", last)
			}
		})
	}
}

func TestLabAuth(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	lab, url := startLab(t, Options{TokenTTL: 12 * time.Second, Clock: clock.Now}, labSeedRules())
	list := "/exchange/v1/businesses/" + DefaultBusinessID + "/phone-numbers"
	tok, ref := labToken(t, url)
	if a := labCall(t, url, "GET", list, tok, ""); a.status != 200 {
		t.Fatalf("bare token refused: %d", a.status)
	}
	if a := labCall(t, url, "GET", list, "Bearer "+tok, ""); a.status != 200 {
		t.Fatalf("bearer token refused: %d", a.status)
	}
	// Refresh: a new token; the refresh token is single-use; the old
	// token lives on until it expires.
	req, _ := http.NewRequest(http.MethodPost, url+pathRefresh, strings.NewReader(`{"refresh_token":"`+ref+`"}`))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	nt, err := decodeToken(data)
	if err != nil || float64(nt.ExpiresIn) != 12 || nt.Token == tok {
		t.Fatalf("refresh answer %s (%v)", data, err)
	}
	if a := labCall(t, url, "POST", pathRefresh, "", `{"refresh_token":"`+ref+`"}`); a.status != 401 {
		t.Fatalf("reused refresh token: %d", a.status)
	}
	if a := labCall(t, url, "GET", list, tok, ""); a.status != 200 {
		t.Fatalf("old token revoked by refresh: %d", a.status)
	}
	clock.Advance(12 * time.Second)
	if a := labCall(t, url, "GET", list, nt.Token, ""); a.status != 401 || a.env.Error == nil {
		t.Fatalf("expired token: %d %+v", a.status, a.env.Error)
	}
	if a := labCall(t, url, "POST", pathAuth, "", ""); a.status != 400 {
		t.Fatalf("auth without X-SERVICE: %d", a.status)
	}
	for _, r := range lab.Requests() {
		if strings.HasPrefix(r.Path, "/v1/auth") && r.Body != "" {
			t.Fatalf("auth body logged: %q", r.Body)
		}
	}
}

func TestLabRateLimit(t *testing.T) {
	_, url := startLab(t, Options{RPS: 1, Burst: 1}, labSeedRules())
	tok, _ := labToken(t, url) // takes the only token of the bucket
	a := labCall(t, url, "GET", "/exchange/v1/businesses/"+DefaultBusinessID+"/phone-numbers", tok, "")
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") != "1" || a.env.Error == nil {
		t.Fatalf("want 429 with Retry-After: 1 and the error envelope; got %d %q %+v", a.status, a.header.Get("Retry-After"), a.env.Error)
	}
}

func TestReadSeed(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"businessUnits": [], "numbrs": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		ok         bool
	}{
		{"fixture", "testdata/seed.json", true},
		{"unknown field", bad, false},
		{"missing file", filepath.Join(dir, "none.json"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ReadSeed(tt.path)
			if (err == nil) != tt.ok {
				t.Fatalf("ReadSeed = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok {
				if err := New(Options{}).Seed(s); err != nil {
					t.Fatalf("seed: %v", err)
				}
			}
		})
	}
	inconsistent := []struct {
		name string
		seed Seed
	}{
		{"program of another unit", Seed{BusinessUnits: BaseSeed().BusinessUnits, Numbers: []SeedNumber{{PhoneNumber: "+12025550001", BusinessUnitID: "bu-2", ProgramID: "p-1"}}}},
		{"program without unit", Seed{BusinessUnits: BaseSeed().BusinessUnits, Numbers: []SeedNumber{{PhoneNumber: "+12025550001", ProgramID: "p-1"}}}},
		{"wrong channel", Seed{BusinessUnits: BaseSeed().BusinessUnits, Numbers: []SeedNumber{{PhoneNumber: "+12025550001", BusinessUnitID: "bu-1", ProgramID: "p-1", Channel: "blocking"}}}},
		{"not E.164", Seed{Numbers: []SeedNumber{{PhoneNumber: "2025550001"}}}},
		{"twice", Seed{Numbers: []SeedNumber{{PhoneNumber: "+12025550001"}, {PhoneNumber: "+12025550001"}}}},
	}
	for _, tt := range inconsistent {
		t.Run(tt.name, func(t *testing.T) {
			if err := New(Options{}).Seed(tt.seed); err == nil {
				t.Fatal("inconsistent seed accepted")
			}
		})
	}
}

// TestLabUnderPrefix serves the lab below a path prefix, as the lab
// command does beside OneUC's: nextPage names the path the caller used.
func TestLabUnderPrefix(t *testing.T) {
	l := New(Options{})
	if err := l.Seed(labSeedRules()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/fo/", http.StripPrefix("/fo", l))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tok, _ := labToken(t, srv.URL+"/fo")
	a := labCall(t, srv.URL, "GET", "/fo/exchange/v1/businesses/"+DefaultBusinessID+"/phone-numbers?limit=1", tok, "")
	if a.env.Info == nil || !strings.HasPrefix(a.env.Info.NextPage, srv.URL+"/fo/exchange/v1/") {
		t.Fatalf("nextPage %+v does not keep the prefix", a.env.Info)
	}
}
