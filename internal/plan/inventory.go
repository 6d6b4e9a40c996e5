package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
)

// Inventory is one vendor's live inventory as the planner sees it: every
// number the listing gave, whether the listing was whole, and what the
// journal remembers of the vendor's size.
type Inventory struct {
	// Vendor is whose inventory this is.
	Vendor VendorName
	// Records holds the listed numbers, keyed by E.164 number (compactly:
	// see Records). OneUC records of numbers whose CNAM and E911 the CSV
	// manages are Detailed.
	Records *Records
	// Complete is true when every listing page was read and the last one
	// said it was the last. No deletion is planned from an incomplete
	// inventory.
	Complete bool
	// Err is why the listing stopped early, when it did.
	Err error
	// Held is the number of numbers listed (Records.Len()): the base of a
	// percentage max_delete and the count the journal should record as the
	// vendor's size at the end of a successful run.
	Held int
	// History is what the journal saw the vendor hold at the end of the
	// last successful run; HasHistory is false for a vendor never run
	// against, which is then taken as it lists.
	History    int
	HasHistory bool
	// Fingerprint is the hex SHA-256 of the records in number order (see
	// Fingerprint): two plans with equal fingerprints saw the same vendor.
	Fingerprint string
	// Fresh holds the OneUC details read from the vendor by this Gather
	// (not taken from the cache). Gather has already offered them to the
	// DetailCache; they are here for callers that keep their own.
	Fresh []CachedState
}

// NewInventory builds a complete inventory from records, with Held and
// Fingerprint filled in. Tests, benchmarks and callers that list a vendor
// by other means use it; Gather builds its inventories the same way.
func NewInventory(v VendorName, records map[string]State) *Inventory {
	recs := RecordsOf(records)
	return &Inventory{
		Vendor:      v,
		Records:     recs,
		Complete:    true,
		Held:        recs.Len(),
		Fingerprint: Fingerprint(recs),
	}
}

// Inventories is everything the diff compares the CSV with. A nil vendor
// inventory means that vendor is disabled by configuration.
type Inventories struct {
	OneUC      *Inventory
	FirstOrion *Inventory
	// Hierarchy is First Orion's business units and programs, used to
	// resolve the names written in the CSV. Nil means it is not known (the
	// vendor does not offer it): CSV values are then taken as ids as
	// written, and the vendor rejects an unknown one when it is applied.
	Hierarchy []BusinessUnit
	// Warnings are problems met while gathering that do not stop a plan
	// (a detail cache that could not be written). Diff does not copy them:
	// the caller shows them (app.MakePlan puts them before the plan's own),
	// so the saved plan's bytes depend only on the CSV and the inventories.
	Warnings []string
}

// vendor returns the inventory of v, or nil.
func (inv *Inventories) vendor(v VendorName) *Inventory {
	if inv == nil {
		return nil
	}
	switch v {
	case OneUC:
		return inv.OneUC
	case FirstOrion:
		return inv.FirstOrion
	}
	return nil
}

// Fingerprint returns the hex SHA-256 of records in number order, over every
// field a listing or a detail read carries, so it does not depend on the
// order in which the vendor listed them.
func Fingerprint(records *Records) string {
	keys := make([]string, 0, records.Len())
	for k := range records.All() {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := sha256.New()
	var buf []byte
	for _, k := range keys {
		rec, _ := records.Get(k)
		buf = appendStateKey(buf[:0], k, rec)
		_, _ = h.Write(buf)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// appendStateKey appends a canonical, unambiguous encoding of one record:
// fields are separated by 0x1f and records end with 0x1e, bytes that never
// occur in vendor data. Hand-written rather than JSON so fingerprinting a
// million records stays cheap.
func appendStateKey(b []byte, number string, s State) []byte {
	const us, rs = 0x1f, 0x1e
	b = append(b, number...)
	b = append(b, us)
	b = append(b, s.Status...)
	b = append(b, us)
	b = strconv.AppendInt(b, s.Updated, 10)
	b = append(b, us)
	for i, f := range s.Features {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, f...)
	}
	b = append(b, us)
	if s.CNAM != nil {
		b = append(b, '=')
		b = append(b, *s.CNAM...)
	}
	b = append(b, us)
	if a := s.E911; a != nil {
		for _, f := range []string{a.StreetAddress, a.ExtendedAddress, a.Locality, a.Region, a.PostalCode, a.CallerName} {
			b = append(b, f...)
			b = append(b, '|')
		}
	}
	b = append(b, us)
	b = append(b, s.ID...)
	b = append(b, us)
	b = append(b, s.BusinessUnit...)
	b = append(b, us)
	b = append(b, s.Program...)
	b = append(b, us)
	b = append(b, s.Channel...)
	b = append(b, us)
	b = append(b, s.CallPurpose...)
	b = append(b, us)
	if s.AuthCalls != nil {
		b = strconv.AppendBool(b, *s.AuthCalls)
	}
	return append(b, rs)
}
