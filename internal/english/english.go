// Package english writes counts in user-facing text: "1 number", "2
// numbers", "1 retry", "3 retries". Every count numsync prints goes
// through Count, so a run of one never reads "1 runs".
package english

import (
	"strconv"
	"strings"
)

// Count is n followed by noun, in the plural unless n is 1. noun is the
// singular; in a phrase ("valid number") the last word is the one that
// takes the plural.
func Count(n int, noun string) string {
	if n == 1 || n == -1 {
		return strconv.Itoa(n) + " " + noun
	}
	return strconv.Itoa(n) + " " + Plural(noun)
}

// CountWere is Count with its verb: "1 operation was", "3 operations
// were".
func CountWere(n int, noun string) string {
	if n == 1 {
		return Count(n, noun) + " was"
	}
	return Count(n, noun) + " were"
}

// Plural is noun's plural, by the regular rules of the nouns numsync
// uses (run → runs, entry → entries, address → addresses); the last word
// of a phrase takes it.
func Plural(noun string) string {
	if noun == "" {
		return noun
	}
	last := noun
	if i := strings.LastIndexByte(noun, ' '); i >= 0 {
		last = noun[i+1:]
	}
	switch {
	case strings.HasSuffix(last, "s"), strings.HasSuffix(last, "x"),
		strings.HasSuffix(last, "ch"), strings.HasSuffix(last, "sh"):
		return noun + "es"
	case len(last) >= 2 && last[len(last)-1] == 'y' && !strings.ContainsRune("aeiou", rune(last[len(last)-2])):
		return noun[:len(noun)-1] + "ies"
	}
	return noun + "s"
}
