package plan

import (
	"unicode"
	"unicode/utf8"
)

// addressEqual is Address.Equal without its allocations: the diff compares
// a million addresses, and folding each field into a new upper-case string
// costs more than the rest of the diff together. It must agree with
// Address.Equal (FuzzAddressEqual checks that).
func addressEqual(a, b *Address) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a == b {
		return true
	}
	return foldEqual(a.StreetAddress, b.StreetAddress) &&
		foldEqual(a.ExtendedAddress, b.ExtendedAddress) &&
		foldEqual(a.Locality, b.Locality) &&
		foldEqual(a.Region, b.Region) &&
		foldEqual(a.PostalCode, b.PostalCode) &&
		foldEqual(a.CallerName, b.CallerName)
}

// foldEqual reports whether fold(a) == fold(b): the same words, split on
// Unicode white space, equal rune by rune after unicode.ToUpper.
func foldEqual(a, b string) bool {
	if a == b {
		return true
	}
	i, j := 0, 0
	for {
		i, j = skipSpace(a, i), skipSpace(b, j)
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		// Compare one word of each.
		for {
			ra, na := runeAt(a, i)
			rb, nb := runeAt(b, j)
			endA := na == 0 || unicode.IsSpace(ra)
			endB := nb == 0 || unicode.IsSpace(rb)
			if endA || endB {
				if endA != endB {
					return false
				}
				break
			}
			if ra != rb && unicode.ToUpper(ra) != unicode.ToUpper(rb) {
				return false
			}
			i, j = i+na, j+nb
		}
	}
}

// runeAt decodes the rune at s[i:]; n is 0 at the end of s. Invalid bytes
// decode as utf8.RuneError, as strings.ToUpper would turn them into it.
func runeAt(s string, i int) (r rune, n int) {
	if i >= len(s) {
		return 0, 0
	}
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

func skipSpace(s string, i int) int {
	for i < len(s) {
		r, n := runeAt(s, i)
		if !unicode.IsSpace(r) {
			break
		}
		i += n
	}
	return i
}
