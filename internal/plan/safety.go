package plan

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/numsync/numsync/internal/english"
)

// Limit is a max_delete threshold: a count of numbers, or a percentage of
// what the vendor holds.
type Limit struct {
	// N is the count, or the percentage when Percent is true.
	N float64
	// Percent makes N a share of the numbers the vendor holds.
	Percent bool
}

// DefaultMaxDelete is the threshold used for a vendor Options.MaxDelete
// does not mention: the spec's example value. A missing threshold is never
// taken as "no limit"; an operator who wants none says so (100%).
var DefaultMaxDelete = Limit{N: 10, Percent: true}

// ParseLimit reads a max_delete value: a count ("50") or a percentage
// ("10%", "2.5 %").
func ParseLimit(s string) (Limit, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	if pct {
		t = strings.TrimSpace(strings.TrimSuffix(t, "%"))
	}
	if !pct {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			return Limit{}, fmt.Errorf("%q is neither a count (e.g. 50) nor a percentage (e.g. 10%%)", s)
		}
		return Limit{N: float64(n)}, nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 || f > 100 || math.IsNaN(f) {
		return Limit{}, fmt.Errorf("%q is not a percentage between 0%% and 100%%", s)
	}
	return Limit{N: f, Percent: true}, nil
}

// Of returns how many deletions the limit allows from a vendor holding
// held numbers. A percentage is rounded down: 10% of 15 allows 1, so a
// small account never gets more deletions than the share it asked for.
func (l Limit) Of(held int) int {
	if !l.Percent {
		return int(l.N)
	}
	// The small epsilon keeps 10% of 1000 at 100 despite binary floating
	// point (0.1*1000 may come out as 99.999…).
	return int(math.Floor(float64(held)*l.N/100 + 1e-9))
}

// String writes the limit as it is written in the configuration.
func (l Limit) String() string {
	n := strconv.FormatFloat(l.N, 'f', -1, 64)
	if l.Percent {
		return n + "%"
	}
	return n
}

// Verdict is the safety verdict for one vendor: whether the plan's
// deletions stay within max_delete and whether the listing looks whole.
type Verdict struct {
	// OK is false when apply must refuse (exit 4) unless forced.
	OK bool `json:"ok"`
	// Deletions counts First Orion deletes or OneUC releases.
	Deletions int `json:"deletions"`
	// Limit is the number of deletions max_delete allows (MaxDelete applied
	// to what the vendor holds).
	Limit     int    `json:"limit"`
	MaxDelete string `json:"max_delete"`
	// Collapsed is true when the vendor listed fewer than half of what it
	// held at the end of the last successful run (HistoryCount).
	Collapsed    bool `json:"collapsed,omitempty"`
	HasHistory   bool `json:"has_history"`
	HistoryCount int  `json:"history_count,omitempty"`
	// Reason explains a verdict that is not OK, for people.
	Reason string `json:"reason,omitempty"`
	// Forced is true when --force overrode a verdict that is not OK.
	Forced bool `json:"forced,omitempty"`
}

// judge computes the verdict for one vendor holding held numbers, with
// the history the journal gave.
func judge(vendor VendorName, held int, hasHistory bool, history int, deletions int, lim Limit, force bool) Verdict {
	v := Verdict{
		OK:           true,
		Deletions:    deletions,
		Limit:        lim.Of(held),
		MaxDelete:    lim.String(),
		HasHistory:   hasHistory,
		HistoryCount: history,
	}
	var reasons []string
	if hasHistory && held*2 < history {
		v.Collapsed = true
		reasons = append(reasons, fmt.Sprintf("the listing collapsed: %s listed, %d held at the end of the last successful run",
			english.Count(held, "number"), history))
	}
	if deletions > v.Limit {
		verb := "exceed"
		if deletions == 1 {
			verb = "exceeds"
		}
		r := fmt.Sprintf("%s %s max_delete %s", english.Count(deletions, deletionWord(vendor)), verb, v.MaxDelete)
		if lim.Percent {
			r += fmt.Sprintf(" (%d of the %s held)", v.Limit, english.Count(held, "number"))
		}
		reasons = append(reasons, r)
	}
	if len(reasons) > 0 {
		v.OK = false
		v.Reason = strings.Join(reasons, "; ")
		v.Forced = force
	}
	return v
}

// deletionWord is what a deletion is called at a vendor.
func deletionWord(v VendorName) string {
	if v == OneUC {
		return "release"
	}
	return "deletion"
}

// String is the verdict in a few words, for the text summary.
func (v Verdict) String() string {
	switch {
	case v.OK:
		return fmt.Sprintf("ok (%d of at most %s)", v.Deletions, english.Count(v.Limit, "deletion"))
	case v.Forced:
		return "FORCED: " + v.Reason
	case v.Collapsed && v.Deletions <= v.Limit:
		return "REFUSED: " + v.Reason + " (apply needs --force)"
	default:
		return "REFUSED: " + v.Reason + " (apply needs --force or a higher --max-delete)"
	}
}

// Judge recomputes every vendor's safety verdict from the plan's own
// operations and what it saw of each vendor, with the thresholds and force
// of this run: `apply PLAN.json --max-delete 20% --force` judges a saved
// plan by the flags it is applied with, not those it was planned with. A
// vendor missing from maxDelete gets DefaultMaxDelete.
func (p *Plan) Judge(maxDelete map[VendorName]Limit, force bool) {
	deletions := map[VendorName]int{}
	for _, op := range p.Ops {
		if op.Action == Delete || op.Action == Release {
			deletions[op.Vendor]++
		}
	}
	for v, s := range p.Vendors {
		lim, ok := maxDelete[v]
		if !ok {
			lim = DefaultMaxDelete
		}
		s.Safety = judge(v, s.Held, s.Safety.HasHistory, s.Safety.HistoryCount, deletions[v], lim, force)
	}
}
