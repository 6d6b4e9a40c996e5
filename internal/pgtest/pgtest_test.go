package pgtest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// TestSchemasAreSeparate checks the shared server answers and that two
// tests' schemas do not see each other's tables.
func TestSchemasAreSeparate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b := URL(t), URL(t)
	ca, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close(ctx)
	cb, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close(ctx)
	if _, err := ca.Exec(ctx, `CREATE TABLE x (n int)`); err != nil {
		t.Fatal(err)
	}
	if _, err := cb.Exec(ctx, `CREATE TABLE x (n int)`); err != nil {
		t.Fatalf("same table name in the second schema: %v", err)
	}
	if _, err := ca.Exec(ctx, `INSERT INTO x VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := cb.QueryRow(ctx, `SELECT count(*) FROM x`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("second schema sees %d rows of the first", n)
	}
}

// TestStartStop starts a server of its own and checks Stop removes it.
func TestStartStop(t *testing.T) {
	if _, err := BinDir(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		_ = s.Stop()
		t.Fatal(err)
	}
	var one int
	err = conn.QueryRow(ctx, `SELECT 1`).Scan(&one)
	_ = conn.Close(ctx)
	if err != nil || one != 1 {
		_ = s.Stop()
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Fatalf("server directory %s still there after Stop: %v", s.dir, err)
	}
	if c, err := pgx.Connect(ctx, s.URL("postgres")); err == nil {
		_ = c.Close(ctx)
		t.Fatal("server still answers after Stop")
	}
}
