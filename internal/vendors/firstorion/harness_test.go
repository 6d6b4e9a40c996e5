package firstorion

import (
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// labSeedBase is the hierarchy every contract environment starts from:
// two business units, the first with two programs on different channels,
// the second with one.
func labSeedBase() LabSeed {
	return LabSeed{
		BusinessUnits: []SeedBusinessUnit{
			{ID: "bu-1", Name: "East", Programs: []SeedProgram{
				{ID: "p-1", Name: "Sales", Channel: "callerName", CallPurposeCode: "SA"},
				{ID: "p-2", Name: "Support", Channel: "callerImage", CallPurposeCode: "CS"},
			}},
			{ID: "bu-2", Name: "West", Programs: []SeedProgram{
				{ID: "p-3", Name: "Collections", Channel: "callerName", CallPurposeCode: "CO"},
			}},
		},
		Allocated: []SeedAllocated{{BusinessID: "other-business", PhoneNumberID: "other-pn", PhoneNumber: "+15012149020"}},
	}
}

// startLab serves a lab over loopback HTTP and returns it with its URL.
func startLab(t testing.TB, opts LabOptions, seed LabSeed) (*Lab, string) {
	t.Helper()
	lab := NewLab(opts)
	if err := lab.Seed(seed); err != nil {
		t.Fatalf("seed: %v", err)
	}
	srv := httptest.NewServer(lab)
	t.Cleanup(srv.Close)
	return lab, srv.URL
}

// newLabClient returns a client of lab at url with test-friendly settings.
func newLabClient(t testing.TB, lab *Lab, url string, mod func(*Config), opts ...Option) *Client {
	t.Helper()
	o := lab.Options()
	cfg := Config{URL: url, BusinessID: o.BusinessID, APIKey: o.APIKey, SecretKey: o.SecretKey,
		RPS: -1, BatchSize: 100, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	opts = append([]Option{WithListRetries(4, 10*time.Millisecond)}, opts...)
	c, err := New(cfg, opts...)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	return c
}

// fakeClock is a clock tests move by hand, shared by a lab and a client.
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
