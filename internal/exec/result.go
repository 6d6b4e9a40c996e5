package exec

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/numsync/numsync/internal/plan"
)

// actionOrder is the order actions appear in a summary: OneUC's, then
// First Orion's, each in the order a number meets them.
var actionOrder = []plan.Action{plan.Activate, plan.Assign, plan.Move, plan.Update, plan.Delete, plan.Release}

func (r *runner) result(started time.Time) *Result {
	finished := r.cfg.Now()
	res := &Result{Interrupted: r.interrupted, maxElapsed: r.pol.MaxElapsed}
	unresolved := map[*vendorRun]int{}
	for _, n := range r.nodes {
		rec := n.rec
		res.Ops = append(res.Ops, rec)
		switch {
		case rec.State == plan.StateFailed || rec.State == plan.StateSkipped:
			res.Failed = append(res.Failed, rec)
		case (rec.State == plan.StateSent || rec.State == plan.StatePending) && n.unresolved:
			res.Unresolved = append(res.Unresolved, rec)
			unresolved[n.vr]++
		}
	}
	for _, vr := range r.vendors {
		if unresolved[vr] == 0 {
			continue
		}
		u := Unreachable{Vendor: vr.name, Operations: unresolved[vr], LastError: vr.lastErr}
		if ep, ok := vr.v.(Endpointer); ok {
			u.Endpoint = ep.Endpoint()
		}
		res.Unreachable = append(res.Unreachable, u)
	}
	s := Summary{
		RunID: r.cfg.RunID, Started: started, Finished: finished,
		DurationSeconds: finished.Sub(started).Seconds(), Interrupted: r.interrupted,
	}
	for _, vr := range r.vendors {
		vs := vr.sum
		vs.Actions = nil
		byAction := map[plan.Action]*ActionSummary{}
		for _, n := range r.nodes {
			if n.vr != vr {
				continue
			}
			a := byAction[n.rec.Op.Action]
			if a == nil {
				a = &ActionSummary{Action: n.rec.Op.Action}
				byAction[n.rec.Op.Action] = a
			}
			a.Total++
			switch n.rec.State {
			case plan.StateDone:
				a.Done++
				if n.applied {
					a.Applied++
				}
			case plan.StateFailed:
				a.Failed++
			case plan.StateSkipped:
				a.Skipped++
			default: // sent or pending
				if n.unresolved {
					a.Unresolved++
				} else {
					a.Pending++
				}
			}
		}
		actions := slices.SortedFunc(maps.Keys(byAction), func(x, y plan.Action) int {
			if d := rank(x) - rank(y); d != 0 {
				return d
			}
			return strings.Compare(string(x), string(y))
		})
		for _, act := range actions {
			a := byAction[act]
			if st := vr.actions[act]; st != nil && !st.first.IsZero() && st.last.After(st.first) {
				d := st.last.Sub(st.first)
				a.DurationSeconds = d.Seconds()
				a.NumbersPerSecond = float64(a.Applied) / d.Seconds()
			}
			vs.Actions = append(vs.Actions, *a)
		}
		s.Vendors = append(s.Vendors, vs)
	}
	res.Summary = s
	return res
}

func rank(a plan.Action) int {
	if i := slices.Index(actionOrder, a); i >= 0 {
		return i
	}
	return len(actionOrder)
}
