// Package oneuctest holds the contract suite every implementation of the
// OneUC API numsync talks to must pass with numsync's client: the lab in
// `go test`, and a real OneUC sandbox behind the -oneuc-sandbox flag (see
// RunContract).
package oneuctest

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/vendors/oneuc"
	"github.com/numsync/numsync/internal/vendors/oneuc/lab"
)

// Setup is the state and behaviour one contract case needs.
type Setup struct {
	// Seed is the account's numbers and the carrier pool.
	Seed lab.Seed
	// Lab adjusts the lab (bucket, faults, answer shape, clock, token TTL).
	// AccountID and APIKeys are the harness's.
	Lab lab.Options
	// WrongKey makes the client log in with a key the vendor refuses.
	WrongKey bool
	// RPS is the client's own rate; 0 means unlimited, so the vendor's
	// bucket is what paces.
	RPS float64
	// BatchSize is the client's batch size; 0 means 100.
	BatchSize int
	// Options are extra client options.
	Options []oneuc.Option
}

// Env is one started case: a client against a fresh implementation.
type Env struct {
	Client *oneuc.Client
	// Lab is the implementation when it is the lab; nil against a real
	// sandbox, where cases that need to seed state or inspect the vendor's
	// side are skipped.
	Lab *lab.Lab
	// APIKey is the key the client was given, so cases can check it never
	// leaks.
	APIKey string
	logs   *syncBuffer
}

// Logs returns everything the client logged (debug level) so far.
func (e *Env) Logs() string { return e.logs.String() }

// NeedLab skips the case unless it runs against the lab.
func (e *Env) NeedLab(t *testing.T) *lab.Lab {
	t.Helper()
	if e.Lab == nil {
		t.Skip("needs the lab: seeds state or inspects the vendor's side")
	}
	return e.Lab
}

// Harness builds the implementation under test for each case.
type Harness struct {
	// Start returns a client against a fresh implementation in the state s
	// describes (an implementation that cannot be seeded ignores s.Seed and
	// s.Lab and returns an Env whose Lab is nil).
	Start func(t *testing.T, s Setup) *Env
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// debugLogger returns a logger writing every level to buf.
func debugLogger(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// LabHarness runs each case against a fresh lab served by httptest.
func LabHarness() Harness {
	return Harness{Start: func(t *testing.T, s Setup) *Env {
		t.Helper()
		opts := s.Lab
		opts.AccountID = lab.DefaultAccountID
		opts.APIKeys = []string{lab.DefaultAPIKey}
		l := lab.New(opts)
		if err := l.Seed(s.Seed); err != nil {
			t.Fatalf("seed lab: %v", err)
		}
		srv := httptest.NewServer(l)
		t.Cleanup(srv.Close)
		key := lab.DefaultAPIKey
		if s.WrongKey {
			key = "wrong-" + key
		}
		logs := &syncBuffer{}
		rps := s.RPS
		if rps == 0 {
			rps = -1
		}
		c, err := oneuc.New(oneuc.Config{URL: srv.URL, AccountID: l.AccountID(), APIKey: key,
			RPS: rps, Burst: 100, BatchSize: s.BatchSize, Timeout: 5 * time.Second,
			Logger: debugLogger(logs)}, s.Options...)
		if err != nil {
			t.Fatalf("new client: %v", err)
		}
		return &Env{Client: c, Lab: l, APIKey: key, logs: logs}
	}}
}

// SandboxHarness runs the cases that need no seeding against a real OneUC
// account. Cases that write or seed are skipped: a sandbox cannot be put in
// a known state from outside.
func SandboxHarness(url, accountID, apiKey string) Harness {
	return Harness{Start: func(t *testing.T, s Setup) *Env {
		t.Helper()
		key := apiKey
		if s.WrongKey {
			key = "wrong-" + apiKey
		}
		logs := &syncBuffer{}
		c, err := oneuc.New(oneuc.Config{URL: url, AccountID: accountID, APIKey: key,
			RPS: 5, Burst: 5, BatchSize: s.BatchSize, Timeout: 30 * time.Second,
			Logger: debugLogger(logs)}, s.Options...)
		if err != nil {
			t.Fatalf("new client: %v", err)
		}
		return &Env{Client: c, APIKey: key, logs: logs}
	}}
}
