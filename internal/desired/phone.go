package desired

import (
	"regexp"
	"strconv"
	"strings"

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
	// blocks memoises the library's verdict per k-digit NANP block.
	blocks map[uint64]bool
}

func newPhoneNormalizer(region string) *phoneNormalizer {
	k, _ := nanpPrefixLen()
	return &phoneNormalizer{region: region, k: k, blocks: make(map[uint64]bool)}
}

// normalize returns the number in E.164, or a reason it is not a valid one.
func (p *phoneNormalizer) normalize(cell string) (string, string) {
	s := strings.TrimSpace(cell)
	if s == "" {
		return "", "is required"
	}
	if key, ok := p.canonicalNANP(s); ok {
		if valid, seen := p.blocks[key]; seen {
			if valid {
				return s, ""
			}
			return "", p.invalidReason(s)
		}
		e164, reason := p.library(s)
		// Memoise only when the library confirmed the canonical spelling,
		// so a hit can return the input unchanged.
		if reason == "" && e164 == s {
			p.blocks[key] = true
		} else if reason != "" && e164 == "" && parsedAsIs(s) {
			p.blocks[key] = false
		}
		return e164, reason
	}
	if sciNotation.MatchString(s) {
		return "", "looks like Excel scientific notation (" + s + "): the spreadsheet stored the number as a float and its last digits are lost; format the column as text and export again"
	}
	return p.library(s)
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
