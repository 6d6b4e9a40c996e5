package plan

import (
	"iter"
	"strconv"
)

// Records is one vendor's listed numbers, keyed by E.164 number, stored
// compactly: a million-number listing is the largest thing a plan holds.
//
// A listing record (a number in canonical E.164, a state word, OneUC's
// `updated` and features, First Orion's id in canonical UUID form, its
// place and flags) is packed into 32 bytes (48 with an id), its strings
// interned in small tables; a plan.State is 192 bytes and a map of them
// stores each apart.
// Anything that does not pack (details read from the vendor, an unusual
// number or id, a table full) is kept as the State itself. Get gives back
// exactly the State that was Set either way.
//
// The zero value and nil are empty; Set needs a Records from NewRecords or
// RecordsOf. A Records is not safe for concurrent writes.
type Records struct {
	// index is an open-addressing hash table of positions in recs (plus
	// one; 0 is free), keyed by the records' numbers: 4 bytes a slot,
	// where a Go map would take 16 and copy itself as it grows.
	index []int32
	shift uint
	// recs holds the packed records in chunks that never move, so a
	// growing listing copies nothing.
	recs [][]packedState
	// ids holds First Orion's ids beside recs, chunk by chunk, made only
	// where one is stored: OneUC's records carry none.
	ids   [][][16]byte
	n     int // packed records in use (in recs, not dead)
	total int // packed records ever added (positions taken)
	other map[string]State
	words wordTable
}

// packedState is a State reduced to its listing fields (its id, when it
// has one, is in Records.ids); see pack.
type packedState struct {
	num     uint64 // e164Digits of Number
	updated int64
	// Indexes into the word tables; 0 is "" (or nil features).
	status, businessUnit, program, channel, callPurpose, features uint16
	flags                                                         uint8
}

const (
	packedHasID uint8 = 1 << iota
	packedAuthSet
	packedAuthTrue
	// packedDead marks a record replaced by one kept in other.
	packedDead
)

const chunkBits = 12 // 4,096 records a chunk

// at returns the packed record at position i.
func (r *Records) at(i int32) *packedState {
	return &r.recs[i>>chunkBits][i&(1<<chunkBits-1)]
}

// slot finds k in the index: the slot holding it, or the free slot
// where it belongs.
func (r *Records) slot(k uint64) (int, int32) {
	if len(r.index) == 0 {
		return -1, 0
	}
	mask := len(r.index) - 1
	i := int((k * 0x9E3779B97F4A7C15) >> r.shift)
	for {
		p := r.index[i]
		if p == 0 || r.at(p-1).num == k {
			return i, p
		}
		i = (i + 1) & mask
	}
}

// store writes p, and its id, at position pos.
func (r *Records) store(pos int32, p packedState, id *[16]byte) {
	*r.at(pos) = p
	if p.flags&packedHasID == 0 {
		return
	}
	c := int(pos >> chunkBits)
	for len(r.ids) <= c {
		r.ids = append(r.ids, nil)
	}
	if r.ids[c] == nil {
		r.ids[c] = make([][16]byte, 1<<chunkBits)
	}
	r.ids[c][pos&(1<<chunkBits-1)] = *id
}

// idAt returns the id stored at position pos (its record has one).
func (r *Records) idAt(pos int32) *[16]byte {
	return &r.ids[pos>>chunkBits][pos&(1<<chunkBits-1)]
}

// add appends p as a new packed record, growing the index when it is
// more than half full.
func (r *Records) add(p packedState, id *[16]byte) {
	if (r.total+1)*2 > len(r.index) {
		r.rehash(max(1024, len(r.index)*2))
	}
	pos := r.total
	if pos>>chunkBits == len(r.recs) {
		r.recs = append(r.recs, make([]packedState, 1<<chunkBits))
	}
	r.store(int32(pos), p, id)
	r.total++
	r.n++
	i, _ := r.slot(p.num)
	r.index[i] = int32(pos) + 1
}

// rehash rebuilds the index with size slots (a power of two).
func (r *Records) rehash(size int) {
	shift := uint(64)
	for n := 1; n < size; n <<= 1 {
		shift--
	}
	r.index, r.shift = make([]int32, size), shift
	for pos := range r.total {
		i, _ := r.slot(r.at(int32(pos)).num)
		r.index[i] = int32(pos) + 1
	}
}

// wordTable interns the few distinct strings and feature lists of a
// listing; index 0 is "" and nil, index 1 of lists is the empty list.
type wordTable struct {
	strs  []string
	strIx map[string]uint16
	lists [][]string
	listX map[string]uint16
}

const maxWords = 1<<16 - 1

// NewRecords returns an empty Records ready for Set.
func NewRecords() *Records {
	return &Records{other: map[string]State{}}
}

// RecordsOf returns the records of m (keyed by number, as a vendor lists
// them); m's keys are the numbers, whatever the States' Number says.
func RecordsOf(m map[string]State) *Records {
	r := NewRecords()
	for n, s := range m {
		s.Number = n
		r.Set(s)
	}
	return r
}

// Len is the number of records.
func (r *Records) Len() int {
	if r == nil {
		return 0
	}
	return r.n + len(r.other)
}

// Get returns the record of number, and whether there is one.
func (r *Records) Get(number string) (State, bool) {
	if r == nil {
		return State{}, false
	}
	if k, ok := e164Digits(number); ok {
		if _, pos := r.slot(k); pos != 0 {
			if p := r.at(pos - 1); p.flags&packedDead == 0 {
				return r.unpack(pos-1, number), true
			}
		}
	}
	s, ok := r.other[number]
	return s, ok
}

// Set adds s under s.Number, replacing any record of that number.
func (r *Records) Set(s State) {
	k, canonical := e164Digits(s.Number)
	if canonical {
		_, pos := r.slot(k)
		var old *packedState
		if pos != 0 {
			old = r.at(pos - 1)
		}
		var id [16]byte
		if p, ok := r.pack(k, s, &id); ok {
			delete(r.other, s.Number)
			switch {
			case old == nil:
				r.add(p, &id)
			case old.flags&packedDead != 0:
				r.store(pos-1, p, &id)
				r.n++
			default:
				r.store(pos-1, p, &id)
			}
			return
		}
		if old != nil && old.flags&packedDead == 0 {
			// The number leaves the packed records; its place stays.
			old.flags |= packedDead
			r.n--
		}
	}
	r.other[s.Number] = s
}

// All yields every record with its number, in no particular order.
func (r *Records) All() iter.Seq2[string, State] {
	return func(yield func(string, State) bool) {
		if r == nil {
			return
		}
		for pos := range r.total {
			p := r.at(int32(pos))
			if p.flags&packedDead != 0 {
				continue
			}
			n := formatE164(p.num)
			if !yield(n, r.unpack(int32(pos), n)) {
				return
			}
		}
		for n, s := range r.other {
			if !yield(n, s) {
				return
			}
		}
	}
}

// pack reduces s to a packedState (and id) when nothing is lost.
func (r *Records) pack(k uint64, s State, id *[16]byte) (packedState, bool) {
	if s.Detailed || s.CNAM != nil || s.E911 != nil || r.total >= 1<<30 {
		return packedState{}, false
	}
	p := packedState{num: k, updated: s.Updated}
	if s.ID != "" {
		if !parseUUID(s.ID, id) {
			return packedState{}, false
		}
		p.flags |= packedHasID
	}
	if s.AuthCalls != nil {
		p.flags |= packedAuthSet
		if *s.AuthCalls {
			p.flags |= packedAuthTrue
		}
	}
	var ok [6]bool
	p.status, ok[0] = r.words.str(s.Status)
	p.businessUnit, ok[1] = r.words.str(s.BusinessUnit)
	p.program, ok[2] = r.words.str(s.Program)
	p.channel, ok[3] = r.words.str(s.Channel)
	p.callPurpose, ok[4] = r.words.str(s.CallPurpose)
	p.features, ok[5] = r.words.list(s.Features)
	for _, o := range ok {
		if !o {
			return packedState{}, false
		}
	}
	return p, true
}

// unpack rebuilds the State of the record at pos, whose number is n.
func (r *Records) unpack(pos int32, n string) State {
	p := r.at(pos)
	s := State{
		Number:       n,
		Status:       r.words.strs[p.status],
		Updated:      p.updated,
		Features:     r.words.lists[p.features],
		BusinessUnit: r.words.strs[p.businessUnit],
		Program:      r.words.strs[p.program],
		Channel:      r.words.strs[p.channel],
		CallPurpose:  r.words.strs[p.callPurpose],
	}
	if p.flags&packedHasID != 0 {
		s.ID = formatUUID(r.idAt(pos))
	}
	if p.flags&packedAuthSet != 0 {
		b := p.flags&packedAuthTrue != 0
		s.AuthCalls = &b
	}
	return s
}

// str returns the index of s, adding it; false when the table is full.
func (w *wordTable) str(s string) (uint16, bool) {
	if s == "" {
		return 0, true
	}
	if i, ok := w.strIx[s]; ok {
		return i, true
	}
	if w.strIx == nil {
		w.strIx = map[string]uint16{}
		w.strs = []string{""}
	}
	if len(w.strs) >= maxWords {
		return 0, false
	}
	i := uint16(len(w.strs))
	w.strs = append(w.strs, s)
	w.strIx[s] = i
	return i, true
}

// list returns the index of the feature list fs (nil and empty kept
// apart), adding it; false when the table is full. The stored list is a
// copy clipped to its length, so no holder's append reaches another's.
func (w *wordTable) list(fs []string) (uint16, bool) {
	if w.listX == nil {
		w.listX = map[string]uint16{}
		w.lists = [][]string{nil, {}}
	}
	if fs == nil {
		return 0, true
	}
	if len(fs) == 0 {
		return 1, true
	}
	n := len(fs)
	for _, f := range fs {
		n += len(f)
	}
	key := make([]byte, 0, n)
	for _, f := range fs {
		key = append(key, f...)
		key = append(key, 0)
	}
	if i, ok := w.listX[string(key)]; ok {
		return i, true
	}
	if len(w.lists) >= maxWords {
		return 0, false
	}
	i := uint16(len(w.lists))
	c := make([]string, len(fs))
	copy(c, fs)
	w.lists = append(w.lists, c)
	w.listX[string(key)] = i
	return i, true
}

// e164Digits returns the digits of a canonical E.164 number ("+" and 1 to
// 15 digits, the first not 0) as an integer: one-to-one with the string,
// which formatE164 gives back.
func e164Digits(n string) (uint64, bool) {
	if len(n) < 2 || len(n) > 16 || n[0] != '+' || n[1] == '0' {
		return 0, false
	}
	var k uint64
	for i := 1; i < len(n); i++ {
		c := n[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		k = k*10 + uint64(c-'0')
	}
	return k, true
}

// formatE164 is e164Digits' inverse.
func formatE164(k uint64) string {
	var b [17]byte
	b[0] = '+'
	return string(strconv.AppendUint(b[:1], k, 10))
}

const hexDigits = "0123456789abcdef"

// parseUUID reads a canonical lower-case UUID (8-4-4-4-12 hex digits),
// the only spelling formatUUID gives back.
func parseUUID(s string, out *[16]byte) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, lo := unhex(s[i]), unhex(s[i+1])
		if hi < 0 || lo < 0 {
			return false
		}
		out[j] = byte(hi<<4 | lo)
		j++
		i += 2
	}
	return true
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}

// formatUUID writes id in canonical lower-case form.
func formatUUID(id *[16]byte) string {
	var b [36]byte
	return string(appendUUID(b[:0], id))
}

// appendUUID appends id in canonical lower-case form.
func appendUUID(b []byte, id *[16]byte) []byte {
	for i, v := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[v>>4], hexDigits[v&15])
	}
	return b
}
