// Package suggest finds the known name a misspelt one was meant to be, for
// "did you mean" hints in the CSV header and configuration errors.
package suggest

// Closest returns the candidate nearest to name by edit distance, if it is
// nearer than limit edits; "" otherwise. Ties go to the earlier candidate,
// so callers that pass candidates in a fixed order get a stable hint.
func Closest(name string, candidates []string, limit int) string {
	best, bestD := "", limit
	for _, c := range candidates {
		if d := Distance(name, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// Distance is the Levenshtein distance of two short strings (bytes).
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
