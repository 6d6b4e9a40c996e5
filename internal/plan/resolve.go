package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/numsync/numsync/internal/suggest"
)

// foTarget is where a CSV row wants its number at First Orion, in ids.
type foTarget struct {
	// none: the number must not be at First Orion at all.
	none bool
	// bu and program are ids; program "" with anyProgram false means the
	// business-unit level.
	bu, program string
	// anyProgram: the program column is absent, so only the business unit
	// is managed and any place within it will do.
	anyProgram bool
	// channel is the program's delivery channel.
	channel string
	// inactive names a target program that is not active, for a warning.
	inactive bool
}

// resolveKey is what a resolution depends on; rows sharing one are
// resolved once (a million rows name a handful of programs). channel ""
// is a row that names no channel: the program's own is taken.
type resolveKey struct {
	bu, program, channel string
}

type resolveResult struct {
	t    foTarget
	errs []RowError // with Path and Line unset, filled in per row
}

// resolver maps the names and ids written in the CSV to the live hierarchy.
type resolver struct {
	known  bool // false: no hierarchy, values are ids as written
	byID   map[string]*BusinessUnit
	byName map[string][]*BusinessUnit
	memo   map[resolveKey]int32
	cols   Columns
	// results are the distinct resolutions, indexed by memo.
	results []resolveResult
	// last is the previous row's key and result: rows come in runs naming
	// the same place, and comparing four strings beats hashing them.
	last    resolveKey
	lastIdx int32
}

func newResolver(h []BusinessUnit, cols Columns) *resolver {
	r := &resolver{
		known:   h != nil,
		byID:    map[string]*BusinessUnit{},
		byName:  map[string][]*BusinessUnit{},
		memo:    map[resolveKey]int32{},
		lastIdx: -1,
		cols:    cols,
	}
	for i := range h {
		bu := &h[i]
		r.byID[bu.ID] = bu
		k := nameKey(bu.Name)
		r.byName[k] = append(r.byName[k], bu)
	}
	return r
}

// nameKey folds a name for case-insensitive matching with surrounding
// spaces ignored.
func nameKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// businessUnit resolves an id (exactly) or a name (case-insensitively).
func (r *resolver) businessUnit(v string) (*BusinessUnit, string) {
	if bu, ok := r.byID[v]; ok {
		return bu, ""
	}
	m := r.byName[nameKey(v)]
	switch len(m) {
	case 1:
		return m[0], ""
	case 0:
		names := make([]string, 0, len(r.byID))
		for _, bu := range r.byID {
			names = append(names, bu.Name)
		}
		return nil, fmt.Sprintf("business unit %q not found at First Orion%s (give its name as listed or its id)", v, didYouMean(v, names))
	}
	ids := make([]string, len(m))
	for i, bu := range m {
		ids[i] = bu.ID
	}
	slices.Sort(ids)
	return nil, fmt.Sprintf("business unit name %q is ambiguous: it names %s; give the id", v, strings.Join(ids, ", "))
}

// program resolves a program of bu by id (exactly) or name
// (case-insensitively).
func (r *resolver) program(bu *BusinessUnit, v string) (*Program, string) {
	for i := range bu.Programs {
		if bu.Programs[i].ID == v {
			return &bu.Programs[i], ""
		}
	}
	var m []*Program
	for i := range bu.Programs {
		if nameKey(bu.Programs[i].Name) == nameKey(v) {
			m = append(m, &bu.Programs[i])
		}
	}
	switch len(m) {
	case 1:
		return m[0], ""
	case 0:
		// Say where it is, if it exists elsewhere: the usual mistake is the
		// wrong business unit, not the wrong program.
		for _, other := range r.byID {
			for _, p := range other.Programs {
				if p.ID == v || nameKey(p.Name) == nameKey(v) {
					return nil, fmt.Sprintf("program %q is not in business unit %q (it is in %q)", v, bu.Name, other.Name)
				}
			}
		}
		names := make([]string, len(bu.Programs))
		for i, p := range bu.Programs {
			names[i] = p.Name
		}
		return nil, fmt.Sprintf("program %q not found in business unit %q%s", v, bu.Name, didYouMean(v, names))
	}
	ids := make([]string, len(m))
	for i, p := range m {
		ids[i] = p.ID
	}
	slices.Sort(ids)
	return nil, fmt.Sprintf("program name %q is ambiguous in business unit %q: it names %s; give the id", v, bu.Name, strings.Join(ids, ", "))
}

// didYouMean is `: did you mean "Retail"?` for the known name nearest to
// v (case folded, fewer than max(3, a third of its letters) edits off),
// or "".
func didYouMean(v string, names []string) string {
	slices.Sort(names) // a stable hint whatever the listing's order
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = nameKey(n)
	}
	limit := max(3, len(nameKey(v))/3+1)
	best := suggest.Closest(nameKey(v), keys, limit)
	if best == "" {
		return ""
	}
	return fmt.Sprintf(": did you mean %q?", names[slices.Index(keys, best)])
}

// resolve returns the index in r.results of where row wants its number.
// A row names a channel only under a managed brand_channel column and with
// a non-empty cell; otherwise the program's own channel is taken.
func (r *resolver) resolve(row *Row) int32 {
	k := resolveKey{bu: row.BusinessUnit, program: row.Program}
	if r.cols.Channel {
		k.channel = row.Channel
	}
	if r.lastIdx >= 0 && k == r.last {
		return r.lastIdx
	}
	idx, ok := r.memo[k]
	if !ok {
		idx = int32(len(r.results))
		r.results = append(r.results, r.resolveUncached(k))
		r.memo[k] = idx
	}
	r.last, r.lastIdx = k, idx
	return idx
}

func (r *resolver) resolveUncached(k resolveKey) resolveResult {
	var res resolveResult
	if k.bu == "" {
		if k.program != "" {
			res.errs = append(res.errs, RowError{Column: ColBrandProgram, Reason: "a program needs a business unit"})
			return res
		}
		res.t.none = true
		return res
	}
	res.t.anyProgram = !r.cols.Program
	if !r.known {
		res.t.bu, res.t.program = k.bu, k.program
		if k.program != "" {
			res.t.channel = channelOr(k.channel, "")
		}
		return res
	}
	bu, why := r.businessUnit(k.bu)
	if bu == nil {
		res.errs = append(res.errs, RowError{Column: ColBrandBusinessUnit, Reason: why})
		return res
	}
	res.t.bu = bu.ID
	if k.program == "" || !r.cols.Program {
		return res
	}
	p, why := r.program(bu, k.program)
	if p == nil {
		res.errs = append(res.errs, RowError{Column: ColBrandProgram, Reason: why})
		return res
	}
	res.t.program = p.ID
	res.t.channel = channelOr("", p.Channel)
	res.t.inactive = !p.Active
	if k.channel != "" && !strings.EqualFold(k.channel, res.t.channel) {
		res.errs = append(res.errs, RowError{Column: ColBrandChannel,
			Reason: fmt.Sprintf("channel %q is not the channel of program %q (%s)", k.channel, p.Name, res.t.channel)})
	}
	return res
}

// channelOr is the one place the channel default is applied (SPEC section
// 1): the channel the row names, else the program's own, else callerName
// (the program's is not known without the hierarchy, or the vendor did not
// say).
func channelOr(row, program string) string {
	switch {
	case row != "":
		return row
	case program != "":
		return program
	}
	return ChannelCallerName
}
