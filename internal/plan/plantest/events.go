// Package plantest holds in-memory stand-ins for the interfaces of package
// plan, for tests of the code that drives them: Fake, a vendor that keeps
// its numbers in a map and can be told to fail in every way the vendor
// contract allows, and Journal, an operation journal with the method set
// the executor writes to. Both can share an EventLog, so a test can assert
// the order of journal writes and vendor requests across the two.
package plantest

import (
	"sync"
)

// Event kinds written to an EventLog.
const (
	// EventMarkSent: the journal committed the operations as sent.
	EventMarkSent = "marksent"
	// EventRecord: the journal committed results for the operations.
	EventRecord = "record"
	// EventApply: the fake vendor received the operations in one Apply call.
	EventApply = "apply"
	// EventRead: the fake vendor was asked to read the numbers (Read).
	EventRead = "read"
	// EventReadStates: the fake vendor was asked for the numbers' states
	// (ReadStates).
	EventReadStates = "readstates"
)

// Event is one entry of an EventLog.
type Event struct {
	// Seq is the event's position in the log, from 0.
	Seq int
	// Kind is one of the Event* constants.
	Kind string
	// IDs are the operation ids (or, for EventRead and EventReadStates, the
	// numbers) concerned.
	IDs []string
}

// EventLog is an append-only, concurrency-safe record of what the fakes
// were asked to do, in the order they were asked. The zero value is ready.
type EventLog struct {
	mu     sync.Mutex
	events []Event
}

// Add appends an event. A nil log ignores it, so fakes need not check.
func (l *EventLog) Add(kind string, ids ...string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, Event{Seq: len(l.events), Kind: kind, IDs: append([]string(nil), ids...)})
}

// Events returns a copy of the log.
func (l *EventLog) Events() []Event {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.events...)
}

// SentBeforeApplied checks the write-ahead rule for every operation in the
// log: each time an operation reaches the vendor (EventApply), a MarkSent
// naming it was logged after its previous Apply (or ever, for the first).
// It returns the ids that broke the rule.
func (l *EventLog) SentBeforeApplied() []string {
	marked := map[string]bool{}
	var bad []string
	for _, e := range l.Events() {
		switch e.Kind {
		case EventMarkSent:
			for _, id := range e.IDs {
				marked[id] = true
			}
		case EventApply:
			for _, id := range e.IDs {
				if !marked[id] {
					bad = append(bad, id)
				}
				marked[id] = false
			}
		}
	}
	return bad
}
