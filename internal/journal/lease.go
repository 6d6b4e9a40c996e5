package journal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"time"
)

// Lease is what a Store implementation gives HeldLocks.Start for one lock
// it has just taken: how to refresh it and how to give it up. The rest of
// a held lock (the heartbeat loop, Lost, an idempotent Release, stopping
// on Close) is the same for every store and lives in HeldLock.
type Lease struct {
	// Previous is the holder taken over, or nil.
	Previous *LockedError
	// Every is the heartbeat interval; Ticks, when not nil, replaces it:
	// the lock refreshes at each value received (tests that must know
	// when a beat happens, without waiting on wall time).
	Every time.Duration
	Ticks <-chan time.Time
	// Beat refreshes the lock; ours is false when the lock is no longer
	// this holder's (taken over). An error is tried again at the next beat.
	Beat func(ctx context.Context) (ours bool, err error)
	// Release gives the lock up, when it is still this holder's. It must
	// complete even when ctx is cancelled (bounded by its own timeout).
	Release func(ctx context.Context) error
	// Flush, when not nil, writes what the store still queues for this
	// holder (results written behind the executor) before Release: once
	// the lock is given up, another apply may hold the journal.
	Flush func() error
}

// HeldLock is a held apply lock of any Store: it implements Lock over a
// Lease, with a goroutine refreshing the lease until Release.
type HeldLock struct {
	lease  Lease
	set    *HeldLocks
	stop   context.CancelFunc
	done   chan struct{}
	lost   chan struct{}
	once   sync.Once
	relErr error
}

// HeldLocks is a store's set of held locks, so that Close can stop their
// heartbeats. The zero value is ready to use.
type HeldLocks struct {
	mu   sync.Mutex
	held map[*HeldLock]struct{}
}

// Start starts the heartbeat of a lock just taken and returns it. The
// heartbeat outlives ctx's cancellation (it ends at Release or StopAll).
func (s *HeldLocks) Start(ctx context.Context, lease Lease) *HeldLock {
	hbCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	l := &HeldLock{lease: lease, set: s, stop: stop, done: make(chan struct{}), lost: make(chan struct{})}
	s.mu.Lock()
	if s.held == nil {
		s.held = map[*HeldLock]struct{}{}
	}
	s.held[l] = struct{}{}
	s.mu.Unlock()
	go l.heartbeat(hbCtx)
	return l
}

// StopAll stops the heartbeats of the locks still held, without releasing
// them (a store being closed: its connections are about to go).
func (s *HeldLocks) StopAll() {
	s.mu.Lock()
	held := s.held
	s.held = nil
	s.mu.Unlock()
	for l := range held {
		l.stopHeartbeat()
	}
}

// heartbeat refreshes the lease until stopped. A refresh that finds the
// lock no longer ours (taken over after we were silent too long) closes
// lost and ends; a refresh that fails (a busy database, a server briefly
// unreachable) is tried again at the next tick.
func (l *HeldLock) heartbeat(ctx context.Context) {
	defer close(l.done)
	ticks := l.lease.Ticks
	if ticks == nil {
		t := time.NewTicker(l.lease.Every)
		defer t.Stop()
		ticks = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
		ours, err := l.lease.Beat(ctx)
		if err == nil && !ours {
			close(l.lost)
			return
		}
	}
}

// TookOver reports the holder this lock was taken over from, if any, so the
// caller can warn about it.
func (l *HeldLock) TookOver() (LockInfo, bool) {
	if l.lease.Previous == nil {
		return LockInfo{}, false
	}
	return l.lease.Previous.Holder, true
}

// Previous returns the holder this lock was taken over from, with when it
// took the lock, last beat and why it was judged gone (Reason), or nil.
func (l *HeldLock) Previous() *LockedError { return l.lease.Previous }

// Lost is closed when a heartbeat finds the lock taken over by someone else
// (this process was silent past the stale limit). The holder should stop
// sending: another apply now believes it owns the journal.
func (l *HeldLock) Lost() <-chan struct{} { return l.lost }

// Release stops the heartbeat and gives the lock up. It is idempotent, and
// completes even when ctx is already cancelled (an interrupted apply must
// still free the journal), bounded by the store's timeout. A lock already
// taken over is left to its new holder.
func (l *HeldLock) Release(ctx context.Context) error {
	l.once.Do(func() {
		l.stopHeartbeat()
		l.set.mu.Lock()
		delete(l.set.held, l)
		l.set.mu.Unlock()
		var flushErr error
		if l.lease.Flush != nil {
			flushErr = l.lease.Flush()
		}
		l.relErr = errors.Join(flushErr, l.lease.Release(ctx))
	})
	return l.relErr
}

// stopHeartbeat ends the heartbeat goroutine and waits for it, so no
// refresh can race the release or the closing of the database.
func (l *HeldLock) stopHeartbeat() {
	l.stop()
	<-l.done
}

// NewLockToken returns a random token that marks a lock row as one
// holder's, so a heartbeat or a release never touches a lock that was taken
// over.
func NewLockToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}
