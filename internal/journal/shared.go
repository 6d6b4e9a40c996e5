package journal

import "github.com/numsync/numsync/internal/plan"

// This file exports to the other journal implementations (pgjournal) the
// pieces whose meaning must not differ between them: the detail cache's
// value encoding, the set of operation states and the lock's shared
// timings. Keeping one copy is what makes a journal copied from SQLite to
// PostgreSQL (numsync journal migrate) read back the same.

// EncodeDetail appends the detail cache's encoding of s to buf. The
// encoding omits s.Number and s.Updated, which the cache keeps as columns.
func EncodeDetail(buf []byte, s *plan.State) []byte { return encodeDetail(buf, s) }

// DetailDecoder decodes what EncodeDetail wrote. It interns repeated
// strings (localities, regions, features) across the entries it decodes, so
// a million-entry load holds each distinct string once. Not safe for
// concurrent use.
type DetailDecoder struct{ d *detailDecoder }

// NewDetailDecoder returns a decoder with an empty intern table.
func NewDetailDecoder() *DetailDecoder { return &DetailDecoder{d: newDetailDecoder()} }

// Decode decodes b into s. b may be reused by the caller once it returns.
func (d *DetailDecoder) Decode(b []byte, s *plan.State) error { return d.d.decode(b, s) }

// ValidState reports whether s is one of the states an operation may be
// journaled with.
func ValidState(s plan.OpState) bool { return validState(s) }

// States lists every operation state, in the order Run.Counts is built.
func States() []plan.OpState { return append([]plan.OpState(nil), allStates...) }
