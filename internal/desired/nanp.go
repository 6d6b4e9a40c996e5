package desired

import (
	"fmt"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// The fast path for numbers that are already canonical NANP E.164
// ("+1NXXNXXXXXX", what numsync's own export writes and what most nightly
// CSVs hold).
//
// The phone-number library decides validity with regular expressions over
// the ten-digit national number: for each NANP territory a leading-digits
// pattern and the patterns of each number type (see the library's
// IsValidNumber, GetRegionCodeForNumber and getNumberTypeHelper). Parsing
// and matching cost ~15 µs a number, too slow for a million rows.
//
// Instead of re-implementing those rules (which would drift from the library
// one day), nanpPrefixLen proves, once per process, from the library's own
// patterns, the smallest k such that every one of them gives the same answer
// for all ten-digit numbers sharing their first k digits. The library's
// verdict is a boolean function of those matches alone, so it is then a
// function of the first k digits too: the verdict the library gave for one
// number of a k-digit block is its verdict for every number of the block.
// The normaliser asks the library for the first number it meets in each
// block and reuses the answer for the rest. Every verdict is still the
// library's; only its repetition is skipped. When the proof fails (a future
// metadata with a pattern that looks at all ten digits) k is 0 and every
// number goes to the library.

const nanpDigits = 10

var (
	nanpOnce sync.Once
	nanpK    int
	nanpErr  error
)

// nanpPrefixLen returns the proven block length k (0 when no memoisation is
// safe) and, for diagnostics, why the proof failed.
func nanpPrefixLen() (int, error) {
	nanpOnce.Do(func() {
		nanpK, nanpErr = proveNANPPrefixLen()
	})
	return nanpK, nanpErr
}

// proveNANPPrefixLen runs the proof over every NANP territory's patterns.
func proveNANPPrefixLen() (int, error) {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return 0, fmt.Errorf("load phone metadata: %w", err)
	}
	var patterns []string
	for _, md := range coll.GetMetadata() {
		if md.GetCountryCode() != 1 {
			continue
		}
		if ld := md.GetLeadingDigits(); ld != "" {
			// A prefix match over an all-digit input is a full match of the
			// pattern followed by any digits.
			patterns = append(patterns, "(?:"+ld+")[0-9]*")
		}
		for _, d := range []*phonenumbers.PhoneNumberDesc{
			md.GetGeneralDesc(), md.GetPremiumRate(), md.GetTollFree(), md.GetSharedCost(),
			md.GetVoip(), md.GetPersonalNumber(), md.GetPager(), md.GetUan(),
			md.GetVoicemail(), md.GetFixedLine(), md.GetMobile(),
		} {
			if d == nil {
				continue
			}
			patterns = append(patterns, d.GetNationalNumberPattern())
		}
	}
	if len(patterns) == 0 {
		return 0, fmt.Errorf("no NANP metadata")
	}
	slices.Sort(patterns)
	patterns = slices.Compact(patterns)
	k := 0
	for _, p := range patterns {
		pk, err := uniformPrefixLen(p)
		if err != nil {
			return 0, err
		}
		k = max(k, pk)
	}
	if k >= nanpDigits {
		return 0, fmt.Errorf("a NANP pattern depends on all %d digits", nanpDigits)
	}
	return k, nil
}

// dfa is a lazily built subset automaton of one pattern over the digits,
// used only for the proof. The pattern is matched against exactly ten
// digits, as the library matches "^(?:pattern)$" against the national
// number.
type dfa struct {
	prog   *syntax.Prog
	states map[string]int // set key -> state id
	sets   [][]uint32     // state id -> sorted pcs (after closure, with match marker)
	acc    []bool
	next   map[[2]int]int // (state, digit) at a given depth -> state
}

// uniformPrefixLen returns the smallest k such that the pattern's verdict
// on ten digits depends only on the first k.
func uniformPrefixLen(pattern string) (int, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return 0, fmt.Errorf("parse pattern %q: %w", pattern, err)
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return 0, fmt.Errorf("compile pattern %q: %w", pattern, err)
	}
	d := &dfa{prog: prog, states: map[string]int{}, next: map[[2]int]int{}}
	start, err := d.closure([]uint32{uint32(prog.Start)}, 0)
	if err != nil {
		return 0, err
	}
	// layers[i] holds the distinct states after i digits.
	layers := make([][]int, nanpDigits+1)
	layers[0] = []int{start}
	for i := 0; i < nanpDigits; i++ {
		seen := map[int]bool{}
		for _, s := range layers[i] {
			for c := byte('0'); c <= '9'; c++ {
				t, err := d.step(s, c, i+1)
				if err != nil {
					return 0, err
				}
				if !seen[t] {
					seen[t] = true
					layers[i+1] = append(layers[i+1], t)
				}
			}
		}
	}
	// verdict[(state, depth)] = 1 all completions accept, 2 none, 3 mixed.
	memo := map[[2]int]uint8{}
	var verdict func(s, depth int) (uint8, error)
	verdict = func(s, depth int) (uint8, error) {
		if depth == nanpDigits {
			if d.acc[s] {
				return 1, nil
			}
			return 2, nil
		}
		key := [2]int{s, depth}
		if v, ok := memo[key]; ok {
			return v, nil
		}
		var v uint8
		for c := byte('0'); c <= '9'; c++ {
			t, err := d.step(s, c, depth+1)
			if err != nil {
				return 0, err
			}
			tv, err := verdict(t, depth+1)
			if err != nil {
				return 0, err
			}
			v |= tv
		}
		memo[key] = v
		return v, nil
	}
	for k := 0; k <= nanpDigits; k++ {
		uniform := true
		for _, s := range layers[k] {
			v, err := verdict(s, k)
			if err != nil {
				return 0, err
			}
			if v == 3 {
				uniform = false
				break
			}
		}
		if uniform {
			return k, nil
		}
	}
	return nanpDigits, nil
}

const matchMarker = ^uint32(0)

// closure follows empty transitions from pcs at input position pos and
// interns the resulting set.
func (d *dfa) closure(pcs []uint32, pos int) (int, error) {
	set := map[uint32]bool{}
	var out []uint32
	stack := append([]uint32(nil), pcs...)
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if set[pc] {
			continue
		}
		set[pc] = true
		in := &d.prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, in.Out, in.Arg)
		case syntax.InstNop, syntax.InstCapture:
			stack = append(stack, in.Out)
		case syntax.InstEmptyWidth:
			op := syntax.EmptyOp(in.Arg)
			var have syntax.EmptyOp
			if pos == 0 {
				have |= syntax.EmptyBeginText | syntax.EmptyBeginLine
			}
			if pos == nanpDigits {
				have |= syntax.EmptyEndText | syntax.EmptyEndLine
			}
			if op&^(syntax.EmptyBeginText|syntax.EmptyBeginLine|syntax.EmptyEndText|syntax.EmptyEndLine) != 0 {
				return 0, fmt.Errorf("pattern uses a word boundary the proof does not model")
			}
			if op&^have == 0 {
				stack = append(stack, in.Out)
			}
		case syntax.InstMatch:
			if pos == nanpDigits {
				out = append(out, matchMarker)
			}
		case syntax.InstFail:
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			out = append(out, pc)
		default:
			return 0, fmt.Errorf("pattern op %v not modelled", in.Op)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	var b strings.Builder
	b.WriteString(strconv.Itoa(pos))
	for _, pc := range out {
		b.WriteByte(',')
		b.WriteString(strconv.FormatUint(uint64(pc), 10))
	}
	key := b.String()
	if id, ok := d.states[key]; ok {
		return id, nil
	}
	id := len(d.sets)
	d.states[key] = id
	d.sets = append(d.sets, out)
	d.acc = append(d.acc, len(out) > 0 && out[len(out)-1] == matchMarker)
	return id, nil
}

// step consumes digit c from state s, arriving at input position pos.
func (d *dfa) step(s int, c byte, pos int) (int, error) {
	key := [2]int{s, int(c)}
	if t, ok := d.next[key]; ok {
		return t, nil
	}
	var pcs []uint32
	for _, pc := range d.sets[s] {
		if pc == matchMarker {
			continue
		}
		in := &d.prog.Inst[pc]
		if in.MatchRune(rune(c)) {
			pcs = append(pcs, in.Out)
		}
	}
	t, err := d.closure(pcs, pos)
	if err != nil {
		return 0, err
	}
	d.next[key] = t
	return t, nil
}

// nanpSpellingsSafe reports, from the library's own metadata, when a NANP
// number spelled with separators, parentheses or a trunk "1" (nanpSpelling)
// is read by the library exactly like its canonical "+1" form, so the two
// share one verdict: plus for spellings with "+1", national for those
// without a "+" parsed in region.
//
// The library strips the separators (the spellings hold nothing else), then
// looks for a country code: after "+" it reads 1 and takes the metadata of
// 1's main region; without one it takes the default region's and, when the
// digits start with its country code 1 and are too long for it, reads that
// 1 as the country code. Then it strips a national prefix. So the readings
// agree when, for the region concerned: its country code is 1; its
// international prefix is 011 (the spelled digits start 1 or 2-9, so are
// never taken for one); no possible length reaches 11 digits (so a trunk
// "1" is always the country code); and its national prefix for parsing is
// exactly "1" with no transform rule (so ten digits starting 2-9 are never
// rewritten). When any of this changes in a future metadata, that kind of
// spelling simply goes to the library again.
func nanpSpellingsSafe(region string) (plus, national bool) {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return false, false
	}
	main := phonenumbers.GetRegionCodeForCountryCode(1)
	for _, md := range coll.GetMetadata() {
		id := md.GetId()
		if id != main && id != region {
			continue
		}
		ok := md.GetCountryCode() == 1 &&
			md.GetInternationalPrefix() == "011" &&
			md.GetNationalPrefixForParsing() == "1" &&
			md.GetNationalPrefixTransformRule() == ""
		for _, l := range md.GetGeneralDesc().GetPossibleLength() {
			ok = ok && l < nanpDigits+1
		}
		for _, l := range md.GetGeneralDesc().GetPossibleLengthLocalOnly() {
			ok = ok && l < nanpDigits+1
		}
		if id == main {
			plus = ok
		}
		if id == region {
			national = ok
		}
	}
	return plus, national
}
