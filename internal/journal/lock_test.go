package journal

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var (
	holderA = LockInfo{Host: "batch-1", PID: 4242, Command: "apply"}
	holderB = LockInfo{Host: "batch-2", PID: 777, Command: "apply"}
)

// twoJournals opens one file twice, as two processes would, sharing clock.
func twoJournals(t *testing.T, opt ...Option) (*SQLite, *SQLite) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "j.db")
	return openAt(t, path, opt...), openAt(t, path, opt...)
}

func TestLockContention(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	j1, j2 := twoJournals(t, WithClock(clock.Now), WithHeartbeat(time.Hour))

	l, err := j1.Lock(ctx, holderA)
	if err != nil {
		t.Fatal(err)
	}
	if _, took := l.TookOver(); took {
		t.Error("a free lock reported a takeover")
	}
	since := clock.Now()
	clock.Advance(90 * time.Second) // silent, but not for two minutes yet

	_, err = j2.Lock(ctx, holderB)
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second Lock: %v, want *LockedError", err)
	}
	if le.Holder != holderA || !le.Since.Equal(since) || !le.LastBeat.Equal(since) {
		t.Errorf("LockedError %+v, want holder %+v since %v", le, holderA, since)
	}
	for _, want := range []string{"batch-1", "4242", "apply", since.Format(time.RFC3339)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not name %q", err, want)
		}
	}

	// The same process asking again is refused too.
	if _, err := j1.Lock(ctx, holderA); !errors.As(err, &le) {
		t.Errorf("Lock by the holder itself: %v, want *LockedError", err)
	}

	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx); err != nil {
		t.Errorf("second Release: %v", err)
	}
	l2, err := j2.Lock(ctx, holderB)
	if err != nil {
		t.Fatalf("Lock after Release: %v", err)
	}
	if err := l2.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestLockStaleTakeover(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	j1, j2 := twoJournals(t, WithClock(clock.Now), WithHeartbeat(time.Hour))

	old, err := j1.Lock(ctx, holderA)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		advance  time.Duration
		takeOver bool
	}{
		{"silent 1m59s: still held", 119 * time.Second, false},
		{"silent 2m: taken over", time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock.Advance(tc.advance)
			l, err := j2.Lock(ctx, holderB)
			if !tc.takeOver {
				var le *LockedError
				if !errors.As(err, &le) {
					t.Fatalf("Lock: %v, want *LockedError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Lock of a stale lock: %v", err)
			}
			prev, took := l.TookOver()
			if !took || prev != holderA {
				t.Errorf("TookOver = %+v, %v; want %+v, true", prev, took, holderA)
			}
			if p := l.Previous(); p == nil || !strings.Contains(p.Error(), "batch-1") {
				t.Errorf("Previous = %v", p)
			}
			// The old holder's release must not free the new holder's lock.
			if err := old.Release(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := j1.Lock(ctx, holderA); err == nil {
				t.Error("the old holder got the lock back after the takeover")
			}
			if err := l.Release(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLockHeartbeatKeepsItAlive(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	// The test hands the heartbeat its ticks: with a wall-clock ticker, a
	// beat could land between the clock's move and the second Lock (a
	// loaded machine), and the refusal would name a later beat.
	ticks := make(chan time.Time)
	j1, j2 := twoJournals(t, WithClock(clock.Now), WithHeartbeatTicks(ticks))

	l, err := j1.Lock(ctx, holderA)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Release(ctx) }()
	// Move the clock on, beat once, and wait (no deadline on speed beyond
	// the test's own timeout) until the beat has written the new time.
	clock.Advance(10 * time.Minute)
	beatAt := clock.Now()
	ticks <- beatAt
	for {
		var beat int64
		if err := j2.r.QueryRowContext(ctx, `SELECT beat FROM lock`).Scan(&beat); err != nil {
			t.Fatal(err)
		}
		if fromNanos(beat).Equal(beatAt) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	// Ten minutes after it was taken, the lock is still alive thanks to
	// the heartbeat.
	clock.Advance(time.Minute)
	_, err = j2.Lock(ctx, holderB)
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("Lock of a heart-beating lock: %v, want *LockedError", err)
	}
	// One tick, one beat: the refusal names it.
	if !le.LastBeat.Equal(beatAt) {
		t.Errorf("LastBeat %v, want %v", le.LastBeat, beatAt)
	}
}

func TestLockLostAfterTakeover(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	path := filepath.Join(t.TempDir(), "j.db")
	// The first holder beats often, but its clock is frozen in the past as
	// if it had been suspended; the second takes over.
	j1 := openAt(t, path, WithClock(func() time.Time { return newFakeClock().Now() }), WithHeartbeat(5*time.Millisecond))
	j2 := openAt(t, path, WithClock(clock.Now), WithHeartbeat(time.Hour))

	l1, err := j1.Lock(ctx, holderA)
	if err != nil {
		t.Fatal(err)
	}
	defer l1.Release(ctx)
	clock.Advance(3 * time.Minute)
	l2, err := j2.Lock(ctx, holderB)
	if err != nil {
		t.Fatalf("takeover: %v", err)
	}
	defer l2.Release(ctx)
	<-l1.Lost() // the first holder learns at its next heartbeat
}

func TestLockDeadProcessOnSameHost(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	dead := map[int]bool{4242: true}
	alive := func(pid int) bool { return !dead[pid] }
	j1, j2 := twoJournals(t, WithClock(clock.Now), WithHeartbeat(time.Hour), WithProcessCheck(alive))

	for _, tc := range []struct {
		name     string
		holder   LockInfo
		takeOver bool
	}{
		{"dead pid on the same host", LockInfo{Host: "batch-1", PID: 5000}, true},
		{"same pid number on another host", LockInfo{Host: "batch-9", PID: 5000}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l1, err := j1.Lock(ctx, holderA) // pid 4242, "dead"
			if err != nil {
				t.Fatal(err)
			}
			l2, err := j2.Lock(ctx, tc.holder)
			if tc.takeOver {
				if err != nil {
					t.Fatalf("Lock: %v, want a takeover", err)
				}
				if _, took := l2.TookOver(); !took {
					t.Error("no takeover reported")
				}
				_ = l2.Release(ctx)
			} else if err == nil {
				_ = l2.Release(ctx)
				t.Fatal("a lock held on another host was taken over")
			}
			_ = l1.Release(ctx)
		})
	}
}

func TestLockContendersExactlyOneWins(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	clock := newFakeClock()
	// A stale lock sits in the journal; many contenders in several
	// "processes" race to take it over.
	stale := openAt(t, path, WithClock(clock.Now), WithHeartbeat(time.Hour))
	l0, err := stale.Lock(ctx, holderA)
	if err != nil {
		t.Fatal(err)
	}
	defer l0.Release(ctx)
	clock.Advance(5 * time.Minute)

	const procs, perProc = 4, 4
	js := make([]*SQLite, procs)
	for i := range js {
		js[i] = openAt(t, path, WithClock(clock.Now), WithHeartbeat(time.Hour))
	}
	var (
		wins, refused atomic.Int32
		wg            sync.WaitGroup
		start         = make(chan struct{})
		mu            sync.Mutex
		held          []Lock
		other         []error
	)
	for p := range procs {
		for i := range perProc {
			wg.Go(func() {
				<-start
				l, err := js[p].Lock(ctx, LockInfo{Host: fmt.Sprintf("host-%d-%d", p, i), PID: 1000 + p*perProc + i})
				var le *LockedError
				switch {
				case err == nil:
					wins.Add(1)
					mu.Lock()
					held = append(held, l)
					mu.Unlock()
				case errors.As(err, &le):
					refused.Add(1)
				default:
					mu.Lock()
					other = append(other, err)
					mu.Unlock()
				}
			})
		}
	}
	close(start)
	wg.Wait()
	for _, err := range other {
		t.Errorf("unexpected error: %v", err)
	}
	if wins.Load() != 1 || refused.Load() != procs*perProc-1 {
		t.Errorf("%d won, %d refused; want exactly 1 winner", wins.Load(), refused.Load())
	}
	for _, l := range held {
		if _, took := l.TookOver(); !took {
			t.Error("the winner did not report taking over the stale lock")
		}
		_ = l.Release(ctx)
	}
}

func TestCloseStopsHeartbeat(t *testing.T) {
	ctx := context.Background()
	j, err := Open(ctx, filepath.Join(t.TempDir(), "j.db"), WithHeartbeat(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	l, err := j.Lock(ctx, holderA)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.(*HeldLock).done:
	default:
		t.Fatal("heartbeat still running after Close")
	}
	// Releasing after Close reports the closed database, without hanging.
	if err := l.Release(ctx); err == nil {
		t.Error("Release after Close succeeded")
	}
}

// TestLockPolicyReason: the policy says why it judged a lock free, a gone
// process first (the surer news), and refuses a live, beating holder or
// its own process.
func TestLockPolicyReason(t *testing.T) {
	now := newFakeClock().Now()
	p := LockPolicy{StaleAfter: DefaultStaleAfter, Alive: func(pid int) bool { return pid != 4242 }}
	held := func(host string, pid int, silent time.Duration) *LockedError {
		return &LockedError{Holder: LockInfo{Host: host, PID: pid}, LastBeat: now.Add(-silent)}
	}
	me := LockInfo{Host: "h", PID: 5000}
	for _, tc := range []struct {
		name string
		cur  *LockedError
		want TakeoverReason
	}{
		{"live and beating", held("h", 77, time.Second), 0},
		{"dead pid on this host", held("h", 4242, time.Second), TakeoverProcessGone},
		{"dead pid, silent too", held("h", 4242, time.Hour), TakeoverProcessGone},
		{"dead pid on another host, beating", held("other", 4242, time.Second), 0},
		{"another host, silent", held("other", 4242, DefaultStaleAfter), TakeoverStale},
		{"live, silent", held("h", 77, DefaultStaleAfter), TakeoverStale},
		{"this very process", held("h", 5000, time.Second), 0},
	} {
		if got := p.TakeOver(tc.cur, me, now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		prev, err := p.Decide(tc.cur, me, now)
		if tc.want == 0 && (err == nil || prev != nil) {
			t.Errorf("%s: Decide = %v, %v, want the holder as error", tc.name, prev, err)
		}
		if tc.want != 0 && (err != nil || prev == nil || prev.Reason != tc.want || tc.cur.Reason != 0) {
			t.Errorf("%s: Decide = %+v, %v, want a copy with reason %v", tc.name, prev, err, tc.want)
		}
	}
	if prev, err := p.Decide(nil, me, now); prev != nil || err != nil {
		t.Errorf("Decide on a free lock = %v, %v", prev, err)
	}
}
