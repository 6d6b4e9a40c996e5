package desired

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nyaruka/phonenumbers"
)

// sciNotation matches what a spreadsheet shows for a long number it stored
// as a float: "1.21255E+10", "2.12555E10", "1E+11".
var sciNotation = regexp.MustCompile(`^[+-]?[0-9]+([.,][0-9]+)?[eE][+-]?[0-9]+$`)

// phoneNormalizer turns a phone-number cell into E.164. One is used by one
// goroutine at a time: its block memo is not locked.
type phoneNormalizer struct {
	region string
	// k is the proven NANP block length (see nanp.go); 0 disables the memo.
	k int
	// spelled says which other spellings of a NANP number may share the
	// memo (see nanpSpellingsSafe): those with "+1", and those without a
	// "+" when the default region is a NANP one.
	plusSpelled, nationalSpelled bool
	// blocks memoises the library's verdict per k-digit NANP block.
	blocks *blockMemo
}

func newPhoneNormalizer(region string) *phoneNormalizer {
	k, blocks := sharedBlockMemo()
	p := &phoneNormalizer{region: region, k: k, blocks: blocks}
	if k > 0 {
		p.plusSpelled, p.nationalSpelled = nanpSpellingsSafe(region)
	}
	return p
}

// normalize returns the number in E.164, or a reason it is not a valid one.
func (p *phoneNormalizer) normalize(cell string) (string, string) {
	s := strings.TrimSpace(cell)
	if s == "" {
		return "", "is required"
	}
	if key, ok := p.canonicalNANP(s); ok {
		if valid, seen := p.blocks.get(key); seen {
			if valid {
				return s, ""
			}
			return "", p.invalidReason(s)
		}
		e164, reason := p.library(s)
		// Memoise only when the library confirmed the canonical spelling,
		// so a hit can return the input unchanged.
		if reason == "" && e164 == s {
			p.blocks.set(key, true)
		} else if reason != "" && e164 == "" && parsedAsIs(s) {
			p.blocks.set(key, false)
		}
		return e164, reason
	}
	if nsn, plus, ok := nanpSpelling(s); ok && (plus && p.plusSpelled || !plus && p.nationalSpelled) {
		return p.spelledNANP(s, &nsn)
	}
	if sciNotation.MatchString(s) {
		return "", "looks like Excel scientific notation (" + s + "): the spreadsheet stored the number as a float and its last digits are lost; format the column as text and export again"
	}
	return p.library(s)
}

// maxMemoK bounds the block length the memo covers: 10^8 blocks at two
// bits each is 25 MB of address space, touched only where numbers are.
const maxMemoK = 8

var shared struct {
	once   sync.Once
	k      int
	blocks *blockMemo
}

// sharedBlockMemo returns the proven block length (0: no memo) and the
// process's one memo. The verdict it holds is the library's on country
// code 1 and a block's digits, which depends on no region, file or
// worker, so every normaliser shares what any of them learnt.
func sharedBlockMemo() (int, *blockMemo) {
	shared.once.Do(func() {
		k, _ := nanpPrefixLen()
		if k == 0 || k > maxMemoK {
			return
		}
		n := 1
		for range k {
			n *= 10
		}
		shared.k = k
		shared.blocks = &blockMemo{words: make([]atomic.Uint32, (n+15)/16)}
	})
	return shared.k, shared.blocks
}

// blockMemo holds two bits a block (unknown, valid, invalid) in words
// updated atomically: workers share it without a lock, and a lookup is an
// index, not a hash.
type blockMemo struct {
	words []atomic.Uint32
}

const (
	memoValid   = 1
	memoInvalid = 2
)

// get returns the memoised verdict of block key, and whether there is one.
func (m *blockMemo) get(key uint64) (valid, seen bool) {
	v := m.words[key/16].Load() >> (key % 16 * 2) & 3
	return v == memoValid, v != 0
}

// set records the verdict of block key.
func (m *blockMemo) set(key uint64, valid bool) {
	bits := uint32(memoInvalid)
	if valid {
		bits = memoValid
	}
	m.words[key/16].Or(bits << (key % 16 * 2))
}

// spelledNANP answers for s, a spelling nanpSpelling recognised with the
// ten national digits nsn. The library reads such a spelling as country
// code 1 with exactly those digits (see nanpSpellingsSafe), so its verdict
// is the one of the canonical "+1"+nsn and shares the block memo with it.
// The first number of a block still goes to the library as written.
func (p *phoneNormalizer) spelledNANP(s string, nsn *[nanpDigits]byte) (string, string) {
	var key uint64
	for i := 0; i < p.k; i++ {
		key = key*10 + uint64(nsn[i]-'0')
	}
	if valid, seen := p.blocks.get(key); seen {
		if valid {
			return e164NANP(nsn), ""
		}
		return "", p.invalidReason(s)
	}
	e164, reason := p.library(s)
	if reason == "" && e164 == e164NANP(nsn) {
		p.blocks.set(key, true)
	} else if e164 == "" && reason == p.invalidReason(s) && parsedAsNSN(s, p.region, string(nsn[:])) {
		p.blocks.set(key, false)
	}
	return e164, reason
}

// e164NANP is "+1" followed by the ten national digits.
func e164NANP(nsn *[nanpDigits]byte) string {
	var b [2 + nanpDigits]byte
	b[0], b[1] = '+', '1'
	copy(b[2:], nsn[:])
	return string(b[:])
}

// nanpSpelling recognises the usual ways of writing a NANP number other
// than canonical E.164, and returns its ten national digits and whether it
// was written with "+1":
//
//	(212) 555-0101   212.555.0101   212-555-0101   212 555 0101   2125550101
//	1-212-555-0101   1 (212) 555-0101   12125550101   +1 212 555 0101
//	+1 (212) 555-0101   +1-212-555-0101   +1.212.555.0101
//
// that is: an optional "+1" or "1" trunk prefix, the area code (optionally
// in parentheses), the exchange and the line number, with at most one
// space, "-" or "." between the groups. The area code must start with 2-9
// (what the library could read otherwise is left to it). Only ASCII digits
// and those separators occur, so the library's extraction, extension and
// letter rules cannot apply: it strips the separators and reads the digits.
func nanpSpelling(s string) (nsn [nanpDigits]byte, plus, ok bool) {
	i := 0
	sep := func() {
		if i < len(s) && (s[i] == ' ' || s[i] == '-' || s[i] == '.') {
			i++
		}
	}
	digits := func(at, n int) bool {
		if i+n > len(s) {
			return false
		}
		for j := 0; j < n; j++ {
			c := s[i+j]
			if c < '0' || c > '9' {
				return false
			}
			nsn[at+j] = c
		}
		i += n
		return true
	}
	if len(s) > 0 && s[0] == '+' {
		if len(s) < 2 || s[1] != '1' {
			return nsn, false, false
		}
		plus = true
		i = 2
		sep()
	} else if len(s) > 0 && s[0] == '1' {
		i = 1
		sep()
	}
	if i < len(s) && s[i] == '(' {
		i++
		if !digits(0, 3) || i >= len(s) || s[i] != ')' {
			return nsn, false, false
		}
		i++
	} else if !digits(0, 3) {
		return nsn, false, false
	}
	sep()
	if !digits(3, 3) {
		return nsn, false, false
	}
	sep()
	if !digits(6, 4) || i != len(s) || nsn[0] < '2' {
		return nsn, false, false
	}
	return nsn, plus, true
}

// canonicalNANP reports whether s is "+1" and ten digits with a national
// number starting 2-9, and returns its memo key (the first k national
// digits).
func (p *phoneNormalizer) canonicalNANP(s string) (uint64, bool) {
	if p.k == 0 || len(s) != 12 || s[0] != '+' || s[1] != '1' || s[2] < '2' || s[2] > '9' {
		return 0, false
	}
	var key uint64
	for i := 2; i < 12; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if i < 2+p.k {
			key = key*10 + uint64(c-'0')
		}
	}
	return key, true
}

// parsedAsIs reports whether the library reads s as country code 1 with the
// ten digits as national number, so its invalid verdict is a verdict on
// exactly those digits (not on a number it rewrote while parsing).
func parsedAsIs(s string) bool {
	n, err := phonenumbers.Parse(s, "ZZ")
	if err != nil {
		return false
	}
	return n.GetCountryCode() == 1 && phonenumbers.GetNationalSignificantNumber(n) == s[2:]
}

// parsedAsNSN reports whether the library reads s, in region, as country
// code 1 with national number nsn, so an invalid verdict on s is a verdict
// on exactly those digits.
func parsedAsNSN(s, region, nsn string) bool {
	n, err := phonenumbers.Parse(s, region)
	if err != nil {
		return false
	}
	return n.GetCountryCode() == 1 && phonenumbers.GetNationalSignificantNumber(n) == nsn
}

// library asks the phone-number library: the slow, general path.
func (p *phoneNormalizer) library(s string) (string, string) {
	n, err := phonenumbers.Parse(s, p.region)
	if err != nil {
		return "", "not a phone number (" + strings.ToLower(err.Error()) + ")"
	}
	if n.GetExtension() != "" {
		return "", "has an extension; give the number alone"
	}
	if !phonenumbers.IsValidNumber(n) {
		return "", p.invalidReason(s)
	}
	return phonenumbers.Format(n, phonenumbers.E164), ""
}

func (p *phoneNormalizer) invalidReason(s string) string {
	if strings.HasPrefix(s, "+") {
		return strconv.Quote(s) + " is not a valid, dialable number"
	}
	return strconv.Quote(s) + " is not a valid, dialable number (a national number is read as " + p.region + "; write other countries' numbers with + and the country code)"
}
