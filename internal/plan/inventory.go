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
	h := sha256.New()
	var buf []byte
	if records == nil {
		return hex.EncodeToString(h.Sum(nil))
	}
	// The packed records, sorted by their number's text without making
	// it, are merged with the others' sorted numbers.
	packed := make([]int32, 0, records.n)
	for pos := range records.total {
		if records.at(int32(pos)).flags&packedDead == 0 {
			packed = append(packed, int32(pos))
		}
	}
	slices.SortFunc(packed, func(a, b int32) int { return cmpDecimal(records.at(a).num, records.at(b).num) })
	others := make([]string, 0, len(records.other))
	for k := range records.other {
		others = append(others, k)
	}
	slices.Sort(others)
	var text [17]byte
	for len(packed) > 0 || len(others) > 0 {
		if len(packed) > 0 {
			p := records.at(packed[0])
			n := strconv.AppendUint(append(text[:0], '+'), p.num, 10)
			if len(others) == 0 || string(n) < others[0] {
				buf = records.appendPackedKey(buf[:0], n, packed[0])
				_, _ = h.Write(buf)
				packed = packed[1:]
				continue
			}
		}
		buf = appendStateKey(buf[:0], others[0], records.other[others[0]])
		_, _ = h.Write(buf)
		others = others[1:]
	}
	return hex.EncodeToString(h.Sum(nil))
}

// cmpDecimal compares a and b as their decimal texts compare (which is
// how their E.164 strings sort): by the leading digits, a prefix first.
func cmpDecimal(a, b uint64) int {
	da, db := decimalDigits(a), decimalDigits(b)
	switch {
	case da == db:
		return cmpUint(a, b)
	case da < db:
		if c := cmpUint(a, b/pow10[db-da]); c != 0 {
			return c
		}
		return -1
	default:
		if c := cmpUint(a/pow10[da-db], b); c != 0 {
			return c
		}
		return 1
	}
}

var pow10 = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

func decimalDigits(v uint64) int {
	n := 1
	for n < len(pow10) && v >= pow10[n] {
		n++
	}
	return n
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// appendPackedKey is appendStateKey of the packed record at pos, whose number
// text is n, written without unpacking it.
func (r *Records) appendPackedKey(b, n []byte, pos int32) []byte {
	const us, rs = 0x1f, 0x1e
	p := r.at(pos)
	w := &r.words
	b = append(b, n...)
	b = append(b, us)
	b = append(b, w.strs[p.status]...)
	b = append(b, us)
	b = strconv.AppendInt(b, p.updated, 10)
	b = append(b, us)
	for i, f := range w.lists[p.features] {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, f...)
	}
	b = append(b, us, us, us) // no CNAM, no E911: those do not pack
	if p.flags&packedHasID != 0 {
		b = appendUUID(b, r.idAt(pos))
	}
	b = append(b, us)
	b = append(b, w.strs[p.businessUnit]...)
	b = append(b, us)
	b = append(b, w.strs[p.program]...)
	b = append(b, us)
	b = append(b, w.strs[p.channel]...)
	b = append(b, us)
	b = append(b, w.strs[p.callPurpose]...)
	b = append(b, us)
	if p.flags&packedAuthSet != 0 {
		b = strconv.AppendBool(b, p.flags&packedAuthTrue != 0)
	}
	return append(b, rs)
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
