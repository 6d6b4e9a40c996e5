package journal_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/journal/journaltest"
)

// BenchmarkJournalSize measures what a 100,000-operation run adds to a
// SQLite journal (journaltest.Workload: the operations with their CSV
// rows, the saved plan, every state change of an apply), in MB. Schema 1
// (one row per operation body, the plan stored as it is) took 146 MB for
// the same run.
func BenchmarkJournalSize(b *testing.B) {
	const n = 100_000
	w := journaltest.NewWorkload(n)
	var mb float64
	for b.Loop() {
		path := filepath.Join(b.TempDir(), "numsync.db")
		j, err := journal.Open(context.Background(), path)
		if err != nil {
			b.Fatal(err)
		}
		before := diskBytes(path)
		w.Apply(b, j)
		// Closing checkpoints the WAL into the file and removes it.
		if err := j.Close(); err != nil {
			b.Fatal(err)
		}
		mb = float64(diskBytes(path)-before) / 1e6
	}
	b.ReportMetric(mb*100_000/n, "MB/100k-ops")
}

func diskBytes(path string) int64 {
	var n int64
	for _, f := range []string{path, path + "-wal"} {
		if st, err := os.Stat(f); err == nil {
			n += st.Size()
		}
	}
	return n
}
