package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/numsync/numsync/internal/plan"
)

// PlanRequest is what a plan is made from.
type PlanRequest struct {
	Desired *plan.Desired
	Vendors Vendors
	// Cache and History come from the journal; nil reads every detail and
	// treats every vendor as having no history.
	Cache   plan.DetailCache
	History plan.History
	// Prune and MaxDelete per vendor (config merged with flags).
	Prune     map[plan.VendorName]bool
	MaxDelete map[plan.VendorName]plan.Limit
	Force     bool
	// DefaultCallPurpose is First Orion's default call purpose code.
	DefaultCallPurpose string
}

// ErrListing marks a plan that could not be made because a vendor's
// inventory could not be read whole: numsync plans from whole inventories
// only (a partial one would create numbers that exist and, with pruning,
// delete numbers that were merely not listed).
var ErrListing = errors.New("inventory listing failed")

// MakePlan gathers both inventories and diffs the CSV against them. A
// listing that failed stops it with ErrListing (wrapped, naming the vendor
// and its reason); names the CSV uses that do not resolve come back as
// plan.RowErrors.
func MakePlan(ctx context.Context, req PlanRequest) (*plan.Plan, *plan.Inventories, error) {
	inv, err := plan.Gather(ctx, plan.Sources{
		OneUC:      req.Vendors.OneUC,
		FirstOrion: req.Vendors.FirstOrion,
		Desired:    req.Desired,
		Cache:      req.Cache,
		History:    req.History,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read inventories: %w", err)
	}
	if err := ListingError(inv); err != nil {
		return nil, inv, err
	}
	p, err := plan.Diff(req.Desired, inv, plan.Options{
		Prune:              req.Prune,
		MaxDelete:          req.MaxDelete,
		Force:              req.Force,
		DefaultCallPurpose: req.DefaultCallPurpose,
	})
	if err != nil {
		return nil, inv, err
	}
	p.Warnings = append(inv.Warnings, p.Warnings...)
	return p, inv, nil
}

// ListingError returns an ErrListing naming every vendor whose listing did
// not complete, or nil. It wraps each vendor's error too, so the caller
// can tell a refused login from an unreachable host (errors.As).
func ListingError(inv *plan.Inventories) error {
	format := "%w: "
	args := []any{ErrListing}
	for _, v := range []*plan.Inventory{inv.OneUC, inv.FirstOrion} {
		if v == nil || v.Complete {
			continue
		}
		err := v.Err
		switch {
		case err == nil:
			err = fmt.Errorf("%s: listing ended early", v.Vendor)
		case !strings.HasPrefix(err.Error(), string(v.Vendor)+":"):
			err = fmt.Errorf("%s: %w", v.Vendor, err)
		}
		if len(args) > 1 {
			format += "; "
		}
		format += "%w"
		args = append(args, err)
	}
	if len(args) == 1 {
		return nil
	}
	return fmt.Errorf(format, args...)
}

// Export reads the live inventories of the given vendors, every in-service
// OneUC number's CNAM and E911 included, and returns them as desired-state
// rows. A listing that did not complete is an error: an export missing
// numbers would, fed back with pruning on, remove them.
func Export(ctx context.Context, vs Vendors) (*plan.ExportTable, error) {
	inv, err := plan.Gather(ctx, plan.Sources{OneUC: vs.OneUC, FirstOrion: vs.FirstOrion})
	if err != nil {
		return nil, fmt.Errorf("read inventories: %w", err)
	}
	if err := ListingError(inv); err != nil {
		return nil, err
	}
	return plan.Export(inv)
}
