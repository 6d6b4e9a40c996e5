package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// interruption is a Ctrl-C or SIGTERM that came while the inventories were
// being read: nothing had been sent, so numsync stops at once instead of
// reading on until the executor would notice.
type interruption struct {
	code int
	why  string
}

// err is what the command returns for it.
func (i *interruption) err() error {
	return withCode(i.code, fmt.Errorf("stopped (%s) while reading the inventories: nothing was sent or changed", i.why))
}

// cancelWhileReading cancels apply's context at once when SIGINT or SIGTERM
// stops it before the executor has started (apply's stopper otherwise
// waits for the requests in flight, of which there are none yet).
// --max-duration keeps its meaning: it stops the sending.
func (p *progress) cancelWhileReading(s *stopper) {
	go func() {
		select {
		case <-s.ch:
		case <-s.done:
			return
		}
		code, why := s.why()
		if (code == ExitSIGINT || code == ExitSIGTERM) && p.isReading() {
			p.e.interrupted.Store(&interruption{code: code, why: why})
			s.cancel()
		}
	}()
}

// interruptible is plan's signal handling: SIGINT or SIGTERM cancels ctx
// (plan sends nothing, so there is nothing to finish) and is recorded in
// e.interrupted for the exit code. stop releases the signals.
func (e *env) interruptible(ctx context.Context) (_ context.Context, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			i := &interruption{code: ExitSIGINT, why: "SIGINT"}
			if sig == syscall.SIGTERM {
				i = &interruption{code: ExitSIGTERM, why: "SIGTERM"}
			}
			e.interrupted.Store(i)
			cancel()
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}
