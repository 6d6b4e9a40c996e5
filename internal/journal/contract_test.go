package journal_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/journal/journaltest"
)

// TestContract runs the journal contract suite against the SQLite file.
func TestContract(t *testing.T) {
	journaltest.Run(t, func(t testing.TB) journaltest.Opener {
		path := filepath.Join(t.TempDir(), "numsync.db")
		return func(t testing.TB, o journaltest.Options) journal.Store {
			t.Helper()
			opts := []journal.Option{journal.WithProcessCheck(o.Alive)}
			if o.Now != nil {
				opts = append(opts, journal.WithClock(o.Now))
			}
			if o.Heartbeat > 0 {
				opts = append(opts, journal.WithHeartbeat(o.Heartbeat))
			}
			if o.Ticks != nil {
				opts = append(opts, journal.WithHeartbeatTicks(o.Ticks))
			}
			if o.ResultDelay > 0 {
				opts = append(opts, journal.WithResultDelay(o.ResultDelay))
			}
			j, err := journal.Open(context.Background(), path, opts...)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { _ = j.Close() })
			return j
		}
	})
}
