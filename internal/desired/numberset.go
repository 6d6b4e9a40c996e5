package desired

// numberSet is the duplicate check's memory: for each number seen, its
// key (e164Key) and the line it was first seen on. It is an open-addressing
// hash table with linear probing over one slice of 16-byte slots: a first
// sighting costs one probe of one cache line, where a Go map costs a
// lookup and an insert, and the table holds no pointers for the garbage
// collector to scan.
type numberSet struct {
	slots []numberSlot
	n     int
	shift uint
}

// numberSlot is one entry; key 0 marks a free slot, so keys are stored
// plus one (an E.164 key is below 10^15, far from overflowing).
type numberSlot struct {
	key  uint64
	line int
}

const minSetSlots = 1 << 10

// newNumberSet returns a set sized for about n numbers without growing.
func newNumberSet(n int) *numberSet {
	s := &numberSet{}
	s.alloc(max(minSetSlots, n*5/3))
	return s
}

// alloc makes a table of at least n slots (a power of two).
func (s *numberSet) alloc(n int) {
	size, shift := 1, uint(64)
	for size < n {
		size <<= 1
		shift--
	}
	s.slots = make([]numberSlot, size)
	s.shift = shift
}

// firstLine records that key was seen on line, unless it was seen before:
// then it returns the line of the first sighting and true.
func (s *numberSet) firstLine(key uint64, line int) (int, bool) {
	k := key + 1
	mask := len(s.slots) - 1
	// Fibonacci hashing: consecutive numbers (which CSVs are full of)
	// spread over the table instead of filling one run of slots.
	i := int((k * 0x9E3779B97F4A7C15) >> s.shift)
	for {
		sl := &s.slots[i]
		if sl.key == k {
			return sl.line, true
		}
		if sl.key == 0 {
			sl.key, sl.line = k, line
			s.n++
			if s.n*5 > len(s.slots)*3 {
				s.grow()
			}
			return 0, false
		}
		i = (i + 1) & mask
	}
}

// grow doubles the table, keeping the load under 60 %.
func (s *numberSet) grow() {
	old := s.slots
	s.alloc(len(old) * 2)
	mask := len(s.slots) - 1
	for _, sl := range old {
		if sl.key == 0 {
			continue
		}
		i := int((sl.key * 0x9E3779B97F4A7C15) >> s.shift)
		for s.slots[i].key != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = sl
	}
}
