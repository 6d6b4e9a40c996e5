// Package app holds the jobs numsync's commands run, in the domain's terms:
// it gathers the live inventories and diffs them into a plan (MakePlan,
// Export), checks a saved plan against the live state (StaleCheck), and
// owns the apply lifecycle from the journal's lock to the run's typed
// Outcome (Apply). It knows vendors only as plan.Vendor and the journal
// only as journal.Store, and reads no configuration: cmd/numsync builds
// the clients and the journal from the configuration, turns flags into a
// request and the outcome into output and an exit code.
package app

import (
	"github.com/numsync/numsync/internal/plan"
)

// Vendors holds the configured vendor clients; a nil field is a vendor the
// configuration disables.
type Vendors struct {
	OneUC      plan.Vendor
	FirstOrion plan.Vendor
}

// Map returns the enabled vendors by name.
func (v Vendors) Map() map[plan.VendorName]plan.Vendor {
	m := map[plan.VendorName]plan.Vendor{}
	if v.OneUC != nil {
		m[plan.OneUC] = v.OneUC
	}
	if v.FirstOrion != nil {
		m[plan.FirstOrion] = v.FirstOrion
	}
	return m
}

// Get returns the named vendor, or nil when it is disabled.
func (v Vendors) Get(name plan.VendorName) plan.Vendor {
	switch name {
	case plan.OneUC:
		return v.OneUC
	case plan.FirstOrion:
		return v.FirstOrion
	}
	return nil
}
