package journal

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/plan"
)

// fakeClock is a settable clock for lock and timestamp tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)}
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

// openTest opens a journal in a fresh temporary directory.
func openTest(t testing.TB, opt ...Option) *SQLite {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "numsync.db"), opt...)
}

func openAt(t testing.TB, path string, opt ...Option) *SQLite {
	t.Helper()
	j, err := Open(context.Background(), path, opt...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := j.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return j
}

// loadOps reads the operations fixture.
func loadOps(t testing.TB) []plan.Op {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "ops.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ops []plan.Op
	if err := json.Unmarshal(b, &ops); err != nil {
		t.Fatal(err)
	}
	return ops
}

func TestOpenWidensNoSideFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j := openAt(t, path)
	if err := j.SetCount(context.Background(), plan.OneUC, 1); err != nil {
		t.Fatal(err)
	}
	// A side file left wider than the journal by someone else is narrowed
	// on the next open.
	if err := os.Chmod(path+"-wal", 0o644); err != nil {
		t.Fatal(err)
	}
	openAt(t, path)
	st, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o600 {
		t.Errorf("-wal mode %o after reopen, want 600", got)
	}
}

func TestOpenTwiceMigratesOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	j1 := openAt(t, path)
	if err := j1.SetCount(ctx, plan.FirstOrion, 42); err != nil {
		t.Fatal(err)
	}
	// Opening again, while the first is still open, must neither fail nor
	// re-run a migration (which would fail on CREATE TABLE or lose data).
	j2 := openAt(t, path)
	n, ok, err := j2.LastCount(ctx, plan.FirstOrion)
	if err != nil || !ok || n != 42 {
		t.Fatalf("LastCount after reopen = %d, %v, %v; want 42, true, nil", n, ok, err)
	}
	var v int
	if err := j2.r.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != len(migrations) {
		t.Errorf("user_version = %d, want %d", v, len(migrations))
	}
	var mode string
	if err := j2.r.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
}

func TestOpenConcurrentlyOnNewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			j, err := Open(context.Background(), path)
			if err != nil {
				errs <- err
				return
			}
			errs <- j.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	j, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.w.ExecContext(ctx, `PRAGMA user_version = 999`); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer journal: err = %v, want a 'newer' error", err)
	}
}

func TestOpenOddPath(t *testing.T) {
	// Characters that mean something in a SQLite URI must stay part of the
	// file name.
	dir := filepath.Join(t.TempDir(), "a dir#1")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "j?x%20.db")
	j := openAt(t, path)
	if err := j.SetCount(context.Background(), plan.OneUC, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("journal not at the given path: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		path string
	}{
		{"empty path", ""},
		{"missing directory", filepath.Join(t.TempDir(), "no", "such", "dir", "j.db")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j, err := Open(context.Background(), tc.path)
			if err == nil {
				_ = j.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if !strings.HasPrefix(err.Error(), "journal: ") {
				t.Errorf("error %q lacks the journal: prefix", err)
			}
		})
	}
}
