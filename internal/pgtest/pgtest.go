// Package pgtest starts throwaway PostgreSQL servers for tests and
// benchmarks: initdb into a fresh directory, pg_ctl start on a free
// loopback port, and pg_ctl stop plus removal of the directory at the end.
// It uses the Debian packages' binaries (/usr/lib/postgresql/*/bin, newest
// version first) or, failing that, initdb and pg_ctl on $PATH.
//
// initdb refuses to run as root, so as root every server command runs as
// the postgres user through runuser(1), in a directory handed over to that
// user.
//
// A test that needs PostgreSQL calls Shared (or URL), which starts one
// server per test binary on first use and skips the test, with the reason,
// when no server can be started; the package's TestMain calls Main so the
// server is stopped when the tests end. Each test gets its own schema, so
// tests sharing the server cannot see each other's tables.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables the test helpers read (tests may read the
// environment; the packages under test never do).
const (
	// EnvURL names an existing server to use instead of starting one: a
	// postgres:// URL of a database in which the tests may create and drop
	// schemas.
	EnvURL = "NUMSYNC_TEST_POSTGRES_URL"
	// EnvRequire, set to 1, turns "no PostgreSQL here" from a skip into a
	// failure, so CI, which installs PostgreSQL, cannot silently skip it.
	EnvRequire = "NUMSYNC_TEST_POSTGRES_REQUIRE"
)

// dirPrefix names server directories under the temporary directory, with
// the owning process id after it, so a later run can reap the servers of a
// test binary that was killed before it could stop them.
const dirPrefix = "numsync-pgtest-"

// Options tune a server.
type Options struct {
	// Durable keeps fsync on, as a production server has it; benchmarks
	// that measure commit latency want it. Tests leave it off: a crash of
	// the test machine loses nothing worth keeping.
	Durable bool
}

// Server is a running throwaway server.
type Server struct {
	bin     string // directory holding initdb, pg_ctl
	dir     string // owns data/, log
	port    int
	runAs   string // "" or the user commands run as (via runuser)
	baseURL string // the postgres database as superuser
	stopped bool
}

// BinDir returns the directory of the PostgreSQL server binaries, or an
// error saying where it looked.
func BinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Newest major version first: 9.6 < 10 < 15 compares as numbers.
	sort.Slice(dirs, func(i, k int) bool { return majorOf(dirs[i]) > majorOf(dirs[k]) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(p)
		if isExec(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	return "", errors.New("no initdb and pg_ctl under /usr/lib/postgresql/*/bin or on $PATH (install the postgresql package)")
}

func majorOf(binDir string) float64 {
	f, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return f
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// Start initialises and starts a new server. The caller must Stop it.
func Start(ctx context.Context, o Options) (*Server, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	reapOrphans(bin)
	s := &Server{bin: bin}
	var owner *user.User
	if os.Geteuid() == 0 {
		owner, err = user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("pgtest: running as root, and initdb refuses root; no postgres user to run it as: %w", err)
		}
		if _, err := exec.LookPath("runuser"); err != nil {
			return nil, fmt.Errorf("pgtest: running as root, and initdb refuses root; no runuser to run it as postgres: %w", err)
		}
		s.runAs = owner.Username
	}
	dir, err := os.MkdirTemp("", dirPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	s.dir = dir
	if owner != nil {
		uid, _ := strconv.Atoi(owner.Uid)
		gid, _ := strconv.Atoi(owner.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: hand %s to postgres: %w", dir, err)
		}
	}
	if out, err := s.run(ctx, "initdb", "-D", s.data(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "--no-instructions"); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: initdb: %w: %s", err, out)
	}
	// A free port can be taken by someone else between our probe and the
	// server's bind; try a few.
	var startErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			startErr = err
			continue
		}
		s.port = port
		opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -c unix_socket_directories=%s -c max_connections=200", port, s.dir)
		if !o.Durable {
			opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
		}
		out, err := s.run(ctx, "pg_ctl", "-D", s.data(), "-l", filepath.Join(s.dir, "log"), "-w", "-t", "60", "-o", opts, "start")
		if err == nil {
			startErr = nil
			break
		}
		startErr = fmt.Errorf("pg_ctl start: %w: %s%s", err, out, s.logTail())
	}
	if startErr != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: %w", startErr)
	}
	s.baseURL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
	return s, nil
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

// run runs one of the server binaries, as the postgres user when root.
func (s *Server) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, name)
	var cmd *exec.Cmd
	if s.runAs != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", s.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = s.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return bytes.TrimSpace(out.Bytes()), err
}

func (s *Server) logTail() string {
	b, err := os.ReadFile(filepath.Join(s.dir, "log"))
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "\nserver log:\n" + string(b)
}

// Port is the loopback TCP port the server listens on.
func (s *Server) Port() int { return s.port }

// URL returns the superuser URL of database db on this server.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, url.PathEscape(db))
}

// Stop shuts the server down (fast mode: sessions are ended, nothing is
// kept) and removes its directory. It is idempotent.
func (s *Server) Stop() error {
	if s == nil || s.stopped {
		return nil
	}
	s.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	if out, err := s.run(ctx, "pg_ctl", "-D", s.data(), "-m", "fast", "-w", "stop"); err != nil {
		errs = append(errs, fmt.Errorf("pg_ctl stop: %w: %s", err, out))
	}
	if err := os.RemoveAll(s.dir); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("pgtest: stop: %w", err)
	}
	return nil
}

// NewSchema creates a schema with a fresh random name in the server's
// postgres database and returns a URL whose search_path is that schema, so
// that whatever is created through the URL lands in it.
func (s *Server) NewSchema(ctx context.Context) (string, error) {
	return newSchema(ctx, s.baseURL)
}

func newSchema(ctx context.Context, base string) (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	name := "t_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", fmt.Errorf("pgtest: connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		return "", fmt.Errorf("pgtest: create schema: %w", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// reapOrphans stops and removes the servers left by test processes that no
// longer exist (killed before their cleanup ran), so a crashed test run
// does not leave a server running for good.
func reapOrphans(bin string) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, d := range dirs {
		rest := strings.TrimPrefix(filepath.Base(d), dirPrefix)
		pidStr, _, ok := strings.Cut(rest, "-")
		if !ok {
			continue
		}
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			continue // the owner is alive (or not ours to judge)
		}
		s := &Server{bin: bin, dir: d}
		if os.Geteuid() == 0 {
			s.runAs = "postgres"
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if _, err := os.Stat(filepath.Join(s.data(), "postmaster.pid")); err == nil {
			_, _ = s.run(ctx, "pg_ctl", "-D", s.data(), "-m", "immediate", "-w", "stop")
		}
		cancel()
		_ = os.RemoveAll(d)
	}
}

// The server shared by the tests of one test binary.
var shared struct {
	mu   sync.Mutex
	once bool
	srv  *Server
	base string // an external server's URL (EnvURL), when given
	err  error
}

// URL returns a postgres:// URL of a fresh, empty schema for this test, on
// the test binary's shared server, which is started on first use. When no
// server can be had, the test is skipped saying why (or fails, when
// EnvRequire is set). The schema is dropped when the test ends.
func URL(tb testing.TB) string {
	tb.Helper()
	base := sharedBase(tb)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u, err := newSchema(ctx, base)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { dropSchema(base, u) })
	return u
}

// sharedBase returns the superuser URL of the shared server, starting it
// when needed, or skips.
func sharedBase(tb testing.TB) string {
	tb.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.once {
		shared.once = true
		if u := os.Getenv(EnvURL); u != "" {
			shared.base = u
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			shared.srv, shared.err = Start(ctx, Options{})
			cancel()
			if shared.err == nil {
				shared.base = shared.srv.baseURL
			}
		}
	}
	if shared.err != nil {
		if os.Getenv(EnvRequire) == "1" {
			tb.Fatalf("PostgreSQL required (%s=1) but not available: %v", EnvRequire, shared.err)
		}
		tb.Skipf("skipping: no PostgreSQL server for this test: %v", shared.err)
	}
	return shared.base
}

func dropSchema(base, schemaURL string) {
	u, err := url.Parse(schemaURL)
	if err != nil {
		return
	}
	name := u.Query().Get("search_path")
	if !strings.HasPrefix(name, "t_") {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return
	}
	defer conn.Close(context.Background())
	_, _ = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+name+" CASCADE")
}

// Main runs the tests and then stops the shared server, if one was
// started. A package whose tests call URL uses it as its TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	shared.mu.Lock()
	srv := shared.srv
	shared.srv = nil
	shared.mu.Unlock()
	if err := srv.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// DurableURL starts a server of the caller's own with fsync on, as a
// production server has it, for benchmarks that time commits, and returns
// the URL of a fresh schema on it; the server is stopped when tb ends.
// Without PostgreSQL it skips, as URL does.
func DurableURL(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{Durable: true})
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			tb.Fatalf("PostgreSQL required (%s=1) but not available: %v", EnvRequire, err)
		}
		tb.Skipf("skipping: no PostgreSQL server for this benchmark: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Stop(); err != nil {
			tb.Error(err)
		}
	})
	u, err := s.NewSchema(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}
