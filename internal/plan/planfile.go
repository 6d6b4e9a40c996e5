package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// PlanVersion is the version of the saved-plan format this package writes
// and reads. It changes whenever a field changes meaning, so an old binary
// never applies a plan it would misread.
const PlanVersion = 1

// Plan is the outcome of a diff: every operation that brings the vendors in
// step with the CSV, with what the plan saw of each vendor. It is plain
// data; saved as JSON (WriteJSON) it is the input of `apply PLAN.json` and
// its bytes are the same for the same inputs, apart from created_at.
type Plan struct {
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	// CSV identifies the desired-state file the plan came from.
	CSV CSVInfo `json:"csv"`
	// Header is the CSV header as written, to write records back.
	Header []string `json:"header"`
	// Columns is the scope the header set.
	Columns Columns `json:"columns"`
	// Vendors summarises each configured vendor, keyed by name.
	Vendors map[VendorName]*VendorSummary `json:"vendors"`
	// Ops are the operations, ordered by vendor (oneuc, firstorion), then
	// action, then number.
	Ops []Op `json:"ops"`
	// Records holds the original CSV cells of every line an operation came
	// from, keyed by line, so a failed operation can be written back to a
	// spreadsheet as it was read.
	Records map[int][]string `json:"records,omitempty"`
	// Names maps the First Orion business-unit and program ids the
	// operations mention to their names, for people reading the plan.
	Names map[string]string `json:"names,omitempty"`
	// Warnings are things a person should know that do not stop the plan
	// (blank E911 cells under a managed header, an incomplete listing, …).
	Warnings []string `json:"warnings,omitempty"`
}

// CSVInfo identifies the desired-state file.
type CSVInfo struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	// Sheet is the workbook sheet the rows came from ("" for delimited
	// text), so an operation's Line can be named as a spreadsheet names
	// it (Numbers row 12) when the saved plan is applied.
	Sheet string `json:"sheet,omitempty"`
}

// VendorSummary is what the plan saw of one vendor and will do there.
type VendorSummary struct {
	// Held is how many numbers the vendor listed.
	Held int `json:"held"`
	// Unmanaged counts the numbers the vendor holds and the CSV omits.
	Unmanaged int `json:"unmanaged"`
	// Complete is false when the listing stopped early; ListError says why.
	Complete  bool   `json:"complete"`
	ListError string `json:"list_error,omitempty"`
	// Managed is false when the CSV header manages nothing at this vendor
	// (First Orion without brand columns): it is then left untouched.
	Managed bool `json:"managed"`
	// Prune says whether numbers the CSV omits are deleted or released.
	Prune bool `json:"prune"`
	// Fingerprint is the inventory's fingerprint (see Fingerprint).
	Fingerprint string `json:"fingerprint"`
	// Counts are the operations per action.
	Counts map[Action]int `json:"counts"`
	// Safety is the max_delete and collapse verdict.
	Safety Verdict `json:"safety"`
	// ChangedOutside counts the operations on numbers changed at the
	// vendor outside numsync (Op.ChangedOutside).
	ChangedOutside int `json:"changed_outside,omitempty"`
}

// Refused reports whether apply must refuse the plan (exit 4): a vendor's
// safety verdict is not OK and was not forced.
func (p *Plan) Refused() bool {
	for _, s := range p.Vendors {
		if !s.Safety.OK && !s.Safety.Forced {
			return true
		}
	}
	return false
}

// Changes returns the number of operations.
func (p *Plan) Changes() int { return len(p.Ops) }

// Op returns the operation with the given id, if the plan has it.
func (p *Plan) Op(id string) (Op, bool) {
	for i := range p.Ops {
		if p.Ops[i].ID == id {
			return p.Ops[i], true
		}
	}
	return Op{}, false
}

// Digest is the hex SHA-256 of the plan's canonical JSON with created_at
// left out: equal digests mean the same plan.
func (p *Plan) Digest() string {
	c := *p
	c.CreatedAt = time.Time{}
	b, err := json.Marshal(&c)
	if err != nil {
		// A Plan holds only strings, numbers and maps with string or int
		// keys; marshalling cannot fail.
		return ""
	}
	sum := sha256.Sum256(b)
	return fmt.Sprintf("%x", sum)
}

// WriteJSON writes the plan in the saved-plan format: indented JSON with
// one operation a line, map keys sorted and a final newline, so the same
// plan gives the same bytes and a saved plan diffs and greps by operation.
// (Indenting every field of a million operations would also cost more than
// the diff itself.)
func (p *Plan) WriteJSON(w io.Writer) error {
	c := *p
	c.Ops = []Op{}
	c.Records = nil
	head, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return fmt.Errorf("plan: encode: %w", err)
	}
	// Strings cannot hold a raw newline in JSON, so this is the ops key of
	// the top-level object and nothing else.
	const emptyOps = "\n  \"ops\": []"
	at := bytes.Index(head, []byte(emptyOps))
	if at < 0 {
		return errors.New("plan: encode: no ops key")
	}
	var buf bytes.Buffer
	buf.Grow(len(head) + 400*len(p.Ops))
	buf.Write(head[:at])
	buf.WriteString("\n  \"ops\": [")
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i := range p.Ops {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n    ")
		if err := enc.Encode(&p.Ops[i]); err != nil {
			return fmt.Errorf("plan: encode %s: %w", p.Ops[i].ID, err)
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
	}
	if len(p.Ops) > 0 {
		buf.WriteString("\n  ")
	}
	buf.WriteByte(']')
	if len(p.Records) > 0 {
		lines := make([]int, 0, len(p.Records))
		for l := range p.Records {
			lines = append(lines, l)
		}
		slices.Sort(lines)
		buf.WriteString(",\n  \"records\": {")
		for i, l := range lines {
			if i > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, "\n    \"%d\": ", l)
			if err := enc.Encode(p.Records[l]); err != nil {
				return fmt.Errorf("plan: encode record of line %d: %w", l, err)
			}
			buf.Truncate(buf.Len() - 1)
		}
		buf.WriteString("\n  }")
	}
	buf.Write(head[at+len(emptyOps):])
	buf.WriteByte('\n')
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("plan: write: %w", err)
	}
	return nil
}

// ReadPlan reads a saved plan and checks it: its version, that every
// operation is one its vendor accepts, that ids are what OpID gives and are
// unique, and that every dependency names an operation of the plan.
func ReadPlan(r io.Reader) (*Plan, error) {
	var p Plan
	dec := json.NewDecoder(r)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("plan: read: %w", err)
	}
	if p.Version != PlanVersion {
		return nil, fmt.Errorf("plan: version %d, this numsync reads version %d: plan again with this binary", p.Version, PlanVersion)
	}
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	return &p, nil
}

// check validates the plan's operations.
func (p *Plan) check() error {
	if p.Vendors == nil {
		return errors.New("no vendor summary")
	}
	for v, s := range p.Vendors {
		if v != OneUC && v != FirstOrion {
			return fmt.Errorf("unknown vendor %q", v)
		}
		if s == nil {
			return fmt.Errorf("vendor %s: no summary", v)
		}
	}
	ids := make(map[string]bool, len(p.Ops))
	for i, op := range p.Ops {
		if p.Vendors[op.Vendor] == nil {
			return fmt.Errorf("operation %d: vendor %q has no summary in the plan", i+1, op.Vendor)
		}
		if !op.Action.Valid(op.Vendor) {
			return fmt.Errorf("operation %d: %s does not accept %q", i+1, op.Vendor, op.Action)
		}
		if op.Number == "" {
			return fmt.Errorf("operation %d: no number", i+1)
		}
		if op.ID != OpID(op.Vendor, op.Action, op.Number) {
			return fmt.Errorf("operation %d: id %q does not match %s %s %s", i+1, op.ID, op.Vendor, op.Action, op.Number)
		}
		if ids[op.ID] {
			return fmt.Errorf("operation %q appears twice", op.ID)
		}
		ids[op.ID] = true
		if (op.Action == Move || op.Action == Delete || (op.Vendor == FirstOrion && op.Action == Update)) && op.Before.ID == "" {
			// Every First Orion write by id needs the id; an empty one would
			// build the vendor's delete-everything path.
			return fmt.Errorf("operation %q: no First Orion phone-number id in before", op.ID)
		}
	}
	for _, op := range p.Ops {
		for _, d := range op.DependsOn {
			if !ids[d] {
				return fmt.Errorf("operation %q depends on %q, which the plan does not have", op.ID, d)
			}
		}
	}
	return nil
}
