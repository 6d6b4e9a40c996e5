package plan

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/numsync/numsync/internal/english"
)

// Options steer a diff.
type Options struct {
	// Prune, per vendor, releases (OneUC) or deletes (First Orion) the
	// numbers the vendor holds and the CSV omits.
	Prune map[VendorName]bool
	// MaxDelete is the per-vendor deletion threshold; a vendor missing
	// here gets DefaultMaxDelete.
	MaxDelete map[VendorName]Limit
	// Force marks verdicts that are not OK as overridden (--force).
	Force bool
	// DefaultCallPurpose is the call purpose code a First Orion number
	// gets where the CSV names none (no call_purpose_code column, or an
	// empty cell): the config's default_call_purpose_code. "" means
	// DefaultCallPurposeCode.
	DefaultCallPurpose string
	// CreatedAt stamps the plan; zero means now.
	CreatedAt time.Time
}

// maxListedWarnings bounds how many rows one kind of warning names one by
// one; the rest are counted, so a million-row CSV does not print a million
// lines.
const maxListedWarnings = 20

// Diff compares the desired state with the live inventories and returns
// the plan that closes the gap (SPEC section 4). Numbers already in step
// produce no operation.
//
// Names of business units and programs are resolved against
// inv.Hierarchy: an id matches exactly first, then a name
// case-insensitively, a program within the row's business unit. Rows that
// cannot be resolved are returned together as RowErrors, and no plan.
func Diff(d *Desired, inv *Inventories, opts Options) (*Plan, error) {
	if d == nil {
		return nil, errors.New("plan: no desired state")
	}
	if inv == nil {
		inv = &Inventories{}
	}
	cols := d.Columns
	if cols.ManagesOneUC() && inv.OneUC == nil {
		return nil, errors.New("plan: the CSV manages OneUC columns (cnam, e911_*) but OneUC is not configured")
	}
	if cols.ManagesFirstOrion() && inv.FirstOrion == nil {
		return nil, errors.New("plan: the CSV manages First Orion columns (brand_*, call_purpose_code, authenticated_calls) but First Orion is not configured")
	}

	df := &differ{d: d, inv: inv, opts: opts, cols: cols}
	df.ou.records = map[int][]string{}
	df.fo.records = map[int][]string{}
	if inv.FirstOrion != nil && cols.BusinessUnit {
		if errs := df.resolveAll(); len(errs) > 0 {
			return nil, errs
		}
	}
	for _, v := range []*Inventory{inv.OneUC, inv.FirstOrion} {
		if v != nil && !v.Complete {
			reason := "it stopped early"
			if v.Err != nil {
				reason = v.Err.Error()
			}
			df.warnings = append(df.warnings, fmt.Sprintf("%s: the listing is incomplete (%s): no deletion is planned at %s", v.Vendor, reason, v.Vendor))
		}
	}

	// The two vendors' rows are diffed side by side: neither reads what the
	// other writes, and a million-row diff is mostly map look-ups. The one
	// link between them, a First Orion operation waiting for the number's
	// OneUC activation, is added once both are done.
	df.foCounted = inv.FirstOrion != nil && cols.ManagesFirstOrion()
	var wg sync.WaitGroup
	if inv.OneUC != nil {
		wg.Go(func() {
			for i := range d.Rows {
				df.oneUCRow(&d.Rows[i])
			}
		})
	}
	if df.foCounted {
		wg.Go(func() {
			for i := range d.Rows {
				df.firstOrionRow(i, &d.Rows[i])
			}
		})
	}
	wg.Wait()
	df.linkActivations()
	df.warnings = append(df.warnings, df.fo.warnings...)
	df.fo.warnings = nil
	df.flushRowWarnings()

	p := &Plan{
		Version:   PlanVersion,
		CreatedAt: opts.CreatedAt,
		CSV:       CSVInfo{Path: d.Path, SHA256: d.SHA256, Sheet: d.Sheet},
		Header:    slices.Clone(d.Header),
		Columns:   cols,
		Vendors:   map[VendorName]*VendorSummary{},
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = time.Now().UTC()
	}
	if p.Header == nil {
		p.Header = []string{}
	}

	// First Orion first: a OneUC release depends on the First Orion delete
	// of the same number.
	if fo := inv.FirstOrion; fo != nil {
		p.Vendors[FirstOrion] = df.unmanaged(fo, cols.ManagesFirstOrion(), df.foListed, df.foCounted, func(n string, s State) {
			df.foDelete(n, s, nil)
		})
	}
	if ou := inv.OneUC; ou != nil {
		p.Vendors[OneUC] = df.unmanaged(ou, true, df.ouListed, true, func(n string, s State) {
			if s.Status != StatusInService {
				return
			}
			var deps []string
			if df.foDeleted[n] {
				deps = []string{OpID(FirstOrion, Delete, n)}
			}
			df.ou.add(Op{Vendor: OneUC, Action: Release, Number: n, Before: State{Status: s.Status}, DependsOn: deps}, nil)
		})
	}

	df.ops = append(df.ou.ops, df.fo.ops...)
	df.warnings = append(df.warnings, df.fo.warnings...)
	df.withhold()
	slices.SortFunc(df.ops, compareOps)
	p.Ops = df.ops
	if p.Ops == nil {
		p.Ops = []Op{}
	}
	for v, s := range p.Vendors {
		s.Counts = map[Action]int{}
		for _, a := range vendorActions[v] {
			s.Counts[a] = 0
		}
	}
	for _, op := range p.Ops {
		p.Vendors[op.Vendor].Counts[op.Action]++
	}
	for v, s := range p.Vendors {
		vi := inv.vendor(v)
		s.Safety = Verdict{HasHistory: vi.HasHistory, HistoryCount: vi.History}
	}
	p.Judge(opts.MaxDelete, opts.Force)
	for _, v := range []VendorName{OneUC, FirstOrion} {
		s := p.Vendors[v]
		if s == nil {
			continue
		}
		if s.Safety.Collapsed {
			df.warnings = append(df.warnings, fmt.Sprintf("%s: %s: apply refuses this plan without --force", v, s.Safety.Reason))
		}
	}
	// Keep the CSV records of the lines that still have an operation (a
	// withheld deletion's line may have none).
	for _, op := range p.Ops {
		rec, ok := df.ou.records[op.Line]
		if !ok {
			rec, ok = df.fo.records[op.Line]
		}
		if ok {
			if p.Records == nil {
				p.Records = map[int][]string{}
			}
			p.Records[op.Line] = rec
		}
	}
	p.Names = df.names()
	p.Warnings = df.warnings
	return p, nil
}

// vendorActions lists each vendor's actions in plan order.
var vendorActions = map[VendorName][]Action{
	OneUC:      {Activate, Update, Release},
	FirstOrion: {Assign, Move, Update, Delete},
}

func vendorRank(v VendorName) int {
	if v == OneUC {
		return 0
	}
	return 1
}

func actionRank(v VendorName, a Action) int {
	return slices.Index(vendorActions[v], a)
}

// compareOps orders operations by vendor, action, then number, so the same
// inputs give the same plan bytes.
func compareOps(a, b Op) int {
	return cmp.Or(
		cmp.Compare(vendorRank(a.Vendor), vendorRank(b.Vendor)),
		cmp.Compare(actionRank(a.Vendor, a.Action), actionRank(b.Vendor, b.Action)),
		strings.Compare(a.Number, b.Number),
	)
}

// differ carries one diff's working state.
type differ struct {
	d    *Desired
	inv  *Inventories
	opts Options
	cols Columns

	// targets are the distinct First Orion targets of the rows and
	// targetOf each row's index into them (a million rows name a handful
	// of places), when brand_business_unit is managed.
	targets  []foTarget
	targetOf []int32
	// ouListed and foListed count the rows whose number the vendor lists,
	// counted while diffing so the unmanaged counts need no second pass.
	ouListed, foListed int
	foCounted          bool
	// ou and fo collect each vendor's operations; ops is both, at the end.
	ou, fo lane
	ops    []Op
	// foDeleted marks numbers with a First Orion delete in the plan.
	foDeleted map[string]bool

	warnings  []string
	blankE911 []*Row // rows with blank E911 cells under a managed header
	stuck     []string
	inactive  []int
}

// resolveAll resolves every row's business unit and program.
func (df *differ) resolveAll() RowErrors {
	res := newResolver(df.inv.Hierarchy, df.cols)
	df.targetOf = make([]int32, len(df.d.Rows))
	var errs RowErrors
	for i := range df.d.Rows {
		r := &df.d.Rows[i]
		idx := res.resolve(r)
		out := &res.results[idx]
		for _, e := range out.errs {
			e.Path, e.Line = df.d.Path, r.Line
			errs = append(errs, &e)
		}
		df.targetOf[i] = idx
		if out.t.inactive {
			df.inactive = append(df.inactive, r.Line)
		}
	}
	df.targets = make([]foTarget, len(res.results))
	for i := range res.results {
		df.targets[i] = res.results[i].t
	}
	return errs
}

// lane is one vendor's share of a diff's output, so the two vendors can be
// diffed at the same time.
type lane struct {
	ops      []Op
	records  map[int][]string
	warnings []string
}

// add appends an operation, filling in its id, and keeps the CSV record of
// the row it came from.
func (l *lane) add(op Op, r *Row) string {
	if op.Vendor == FirstOrion && op.Action != Assign && op.Before.ID == "" {
		// Writes by id with an empty id would build First Orion's
		// delete-everything path; a listing without ids breaks the vendor
		// contract, so say so instead of planning the write.
		l.warnings = append(l.warnings, fmt.Sprintf("%s: firstorion listed it without a phone-number id: its %s is not planned", op.Number, op.Action))
		return ""
	}
	op.ID = OpID(op.Vendor, op.Action, op.Number)
	if r != nil {
		op.Line = r.Line
		if r.Record != nil {
			l.records[r.Line] = r.Record
		}
	}
	l.ops = append(l.ops, op)
	return op.ID
}

// linkActivations makes every First Orion operation on a number wait for
// that number's OneUC activation.
func (df *differ) linkActivations() {
	activated := map[string]string{}
	for _, op := range df.ou.ops {
		if op.Action == Activate {
			activated[op.Number] = op.ID
		}
	}
	if len(activated) == 0 {
		return
	}
	for i := range df.fo.ops {
		op := &df.fo.ops[i]
		if id, ok := activated[op.Number]; ok {
			op.DependsOn = append([]string{id}, op.DependsOn...)
		}
	}
}

// oneUCRow plans OneUC for one row.
func (df *differ) oneUCRow(r *Row) {
	live, held := df.inv.OneUC.Records.Get(r.Number)
	status := ""
	if held {
		status = live.Status
		df.ouListed++
	}
	activating := false
	activateID := ""
	switch {
	case status == StatusInService:
	case Activatable(status):
		activating = true
		activateID = df.ou.add(Op{Vendor: OneUC, Action: Activate, Number: r.Number,
			Before: State{Status: status}, After: State{Status: StatusInService}}, r)
	default:
		df.stuck = append(df.stuck, fmt.Sprintf("line %d: %s: oneuc holds it as %q, from which it cannot be activated: nothing is planned for it at oneuc", r.Line, r.Number, status))
		return
	}
	if !df.cols.ManagesOneUC() {
		return
	}
	// A number being activated is taken to have no CNAM and no address:
	// whatever an inactive number carries, the update sets what the row
	// wants once it is in service.
	liveCNAM := ""
	var liveE911 *Address
	if !activating {
		if live.CNAM != nil {
			liveCNAM = *live.CNAM
		}
		liveE911 = live.E911
	}
	var before, after State
	changed := false
	if df.cols.CNAM && r.CNAM != liveCNAM {
		before.CNAM, after.CNAM = ptr(liveCNAM), ptr(r.CNAM)
		changed = true
	}
	if df.cols.E911 {
		switch {
		case r.E911 == nil:
			df.blankE911 = append(df.blankE911, r)
		case !addressEqual(r.E911, liveE911):
			if liveE911 != nil {
				a := *liveE911
				before.E911 = &a
			}
			a := *r.E911
			after.E911 = &a
			changed = true
		}
	}
	if changed {
		var deps []string
		if activateID != "" {
			deps = []string{activateID}
		}
		df.ou.add(Op{Vendor: OneUC, Action: Update, Number: r.Number, Before: before, After: after, DependsOn: deps}, r)
	}
}

// firstOrionRow plans First Orion for row i. Its operations do not wait
// for the number's OneUC activation yet: linkActivations adds that.
func (df *differ) firstOrionRow(i int, r *Row) {
	live, held := df.inv.FirstOrion.Records.Get(r.Number)
	if held {
		df.foListed++
	}
	moveID := ""
	if df.cols.BusinessUnit {
		t := &df.targets[df.targetOf[i]]
		switch {
		case t.none:
			if held {
				df.foDelete(r.Number, live, r)
			}
			return
		case !held:
			after := State{BusinessUnit: t.bu, Program: t.program, CallPurpose: df.callPurpose(r), AuthCalls: ptr(df.cols.AuthCalls && r.AuthCalls)}
			if t.program != "" {
				after.Channel = t.channel
			}
			df.fo.add(Op{Vendor: FirstOrion, Action: Assign, Number: r.Number, After: after}, r)
			return
		case !placed(&live, t):
			after := State{BusinessUnit: t.bu, Program: t.program}
			if t.program != "" {
				after.Channel = t.channel
			}
			moveID = df.fo.add(Op{Vendor: FirstOrion, Action: Move, Number: r.Number,
				Before: State{ID: live.ID, Status: live.Status, BusinessUnit: live.BusinessUnit, Program: live.Program, Channel: live.Channel},
				After:  after}, r)
		}
	} else if !held {
		// Without a business-unit column numsync only updates what First
		// Orion already holds.
		return
	}

	before := State{ID: live.ID}
	var after State
	changed := false
	if df.cols.CallPurpose {
		if want := df.callPurpose(r); want != live.CallPurpose {
			before.CallPurpose, after.CallPurpose = live.CallPurpose, want
			changed = true
		}
	}
	if df.cols.AuthCalls {
		have := live.AuthCalls != nil && *live.AuthCalls
		if r.AuthCalls != have {
			before.AuthCalls, after.AuthCalls = ptr(have), ptr(r.AuthCalls)
			changed = true
		}
	}
	if !changed {
		return
	}
	var deps []string
	if moveID != "" {
		deps = []string{moveID}
	}
	df.fo.add(Op{Vendor: FirstOrion, Action: Update, Number: r.Number, Before: before, After: after, DependsOn: deps}, r)
}

// placed reports whether a number First Orion holds at live already sits
// where t wants it.
func placed(live *State, t *foTarget) bool {
	if live.BusinessUnit != t.bu {
		return false
	}
	if t.anyProgram {
		return true
	}
	if live.Program != t.program {
		return false
	}
	return t.program == "" || live.Channel == t.channel
}

// callPurpose is the code the row wants: the one place the call purpose
// default is applied (SPEC section 1). A row names a code only under a
// managed call_purpose_code column and with a non-empty cell; otherwise the
// configured default is taken, and DefaultCallPurposeCode without one.
func (df *differ) callPurpose(r *Row) string {
	switch {
	case df.cols.CallPurpose && r.CallPurpose != "":
		return r.CallPurpose
	case df.opts.DefaultCallPurpose != "":
		return df.opts.DefaultCallPurpose
	}
	return DefaultCallPurposeCode
}

// foDelete plans the deletion of a number First Orion holds: from a row
// whose brand cells are empty (r set), or by pruning (r nil).
func (df *differ) foDelete(n string, live State, r *Row) {
	if df.foDeleted == nil {
		df.foDeleted = map[string]bool{}
	}
	df.foDeleted[n] = true
	df.fo.add(Op{Vendor: FirstOrion, Action: Delete, Number: n,
		Before: State{ID: live.ID, Status: live.Status, BusinessUnit: live.BusinessUnit, Program: live.Program, Channel: live.Channel}}, r)
}

// unmanaged counts the numbers v holds that the CSV omits and, when the
// vendor is managed and pruned, hands each to prune. listed is the number
// of rows whose number v lists, when counted is true.
func (df *differ) unmanaged(v *Inventory, managed bool, listed int, counted bool, prune func(string, State)) *VendorSummary {
	s := &VendorSummary{
		Held:        v.Held,
		Complete:    v.Complete,
		Managed:     managed,
		Prune:       managed && df.opts.Prune[v.Vendor],
		Fingerprint: v.Fingerprint,
	}
	if v.Err != nil {
		s.ListError = v.Err.Error()
	}
	if !s.Prune {
		// Rows are unique by number (the CSV reader rejects duplicates), so
		// the unmanaged count needs no set of the CSV's numbers.
		if !counted {
			listed = 0
			for i := range df.d.Rows {
				if _, ok := v.Records.Get(df.d.Rows[i].Number); ok {
					listed++
				}
			}
		}
		s.Unmanaged = v.Records.Len() - listed
		return s
	}
	inCSV := make(map[string]struct{}, len(df.d.Rows))
	for i := range df.d.Rows {
		inCSV[df.d.Rows[i].Number] = struct{}{}
	}
	for n, rec := range v.Records.All() {
		if _, ok := inCSV[n]; ok {
			continue
		}
		s.Unmanaged++
		prune(n, rec)
	}
	return s
}

// withhold drops every deletion and release planned from an incomplete
// inventory, saying how many.
func (df *differ) withhold() {
	for _, v := range []*Inventory{df.inv.FirstOrion, df.inv.OneUC} {
		if v == nil || v.Complete {
			continue
		}
		kept := df.ops[:0]
		dropped := 0
		for _, op := range df.ops {
			if op.Vendor == v.Vendor && (op.Action == Delete || op.Action == Release) {
				dropped++
				continue
			}
			kept = append(kept, op)
		}
		df.ops = kept
		if dropped > 0 {
			df.warnings = append(df.warnings, fmt.Sprintf("%s: %s withheld because the listing is incomplete", v.Vendor, english.Count(dropped, "deletion")))
		}
	}
	// A release whose First Orion delete was withheld must not point at it.
	ids := make(map[string]bool, len(df.ops))
	for _, op := range df.ops {
		ids[op.ID] = true
	}
	for i := range df.ops {
		deps := df.ops[i].DependsOn
		if len(deps) == 0 {
			continue
		}
		kept := deps[:0:0]
		for _, d := range deps {
			if ids[d] {
				kept = append(kept, d)
			}
		}
		if len(kept) == 0 {
			kept = nil
		}
		df.ops[i].DependsOn = kept
	}
}

// flushRowWarnings turns the per-row findings into warnings, naming at
// most maxListedWarnings rows of each kind.
func (df *differ) flushRowWarnings() {
	df.warnings = append(df.warnings, capped(df.stuck, "more numbers OneUC holds in a state activation does not work from")...)
	var blank []string
	for i, r := range df.blankE911 {
		if i == maxListedWarnings {
			blank = append(blank, fmt.Sprintf("… and %s more with blank E911 cells (the live address is left as it is)", english.Count(len(df.blankE911)-i, "row")))
			break
		}
		blank = append(blank, fmt.Sprintf("line %d: %s: blank E911 cells under a managed E911 header: the live address is left as it is", r.Line, r.Number))
	}
	df.warnings = append(df.warnings, blank...)
	var inactive []string
	for _, l := range df.inactive {
		inactive = append(inactive, fmt.Sprintf("line %d: the row's First Orion program is not active", l))
	}
	df.warnings = append(df.warnings, capped(inactive, "more rows in a program that is not active")...)
}

func capped(lines []string, more string) []string {
	if len(lines) <= maxListedWarnings {
		return lines
	}
	out := slices.Clone(lines[:maxListedWarnings])
	return append(out, fmt.Sprintf("… and %d %s", len(lines)-maxListedWarnings, more))
}

// names maps the business-unit and program ids the operations mention to
// their names.
func (df *differ) names() map[string]string {
	if len(df.inv.Hierarchy) == 0 {
		return nil
	}
	known := map[string]string{}
	for _, bu := range df.inv.Hierarchy {
		known[bu.ID] = bu.Name
		for _, p := range bu.Programs {
			known[p.ID] = p.Name
		}
	}
	out := map[string]string{}
	for _, op := range df.ops {
		if op.Vendor != FirstOrion {
			continue
		}
		for _, id := range []string{op.Before.BusinessUnit, op.Before.Program, op.After.BusinessUnit, op.After.Program} {
			if name, ok := known[id]; ok && id != "" {
				out[id] = name
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func ptr[T any](v T) *T { return &v }
