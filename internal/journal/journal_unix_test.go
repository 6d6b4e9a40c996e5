//go:build unix

package journal

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/numsync/numsync/internal/plan"
)

func TestOpenFileModes(t *testing.T) {
	// A permissive umask must not widen the files, and a strict one must not
	// leave the owner unable to write.
	for _, tc := range []struct {
		name  string
		umask int
	}{
		{"permissive umask", 0o000},
		{"usual umask", 0o022},
		{"strict umask", 0o277},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := syscall.Umask(tc.umask)
			defer syscall.Umask(old)

			path := filepath.Join(t.TempDir(), "j.db")
			j := openAt(t, path)
			// Write something so the WAL certainly exists.
			if err := j.SetCount(context.Background(), plan.OneUC, 1); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				st, err := os.Stat(p)
				if err != nil {
					t.Fatalf("stat %s: %v", filepath.Base(p), err)
				}
				if got := st.Mode().Perm(); got != 0o600 {
					t.Errorf("%s: mode %o, want 600", filepath.Base(p), got)
				}
			}
		})
	}
}
