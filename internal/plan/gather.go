package plan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/numsync/numsync/internal/english"
)

// Default sizes for reading OneUC details.
const (
	// DefaultDetailBatch is how many numbers one Read call is given.
	DefaultDetailBatch = 100
	// DefaultDetailConcurrency is how many Read calls run at once; the
	// vendor's own pacer still decides the request rate.
	DefaultDetailConcurrency = 4
)

// Sources is what Gather reads from.
type Sources struct {
	// OneUC and FirstOrion are the configured vendors; nil disables one.
	OneUC      Vendor
	FirstOrion Vendor
	// Desired is the validated CSV. It decides which OneUC numbers need
	// their CNAM and E911 read. Nil means export: every in_service number
	// is read in full.
	Desired *Desired
	// Cache remembers OneUC details between runs (the journal). Nil reads
	// every needed number from the vendor.
	Cache DetailCache
	// History tells each vendor's size at the end of the last successful
	// run (the journal). Nil treats every vendor as having no history.
	History History
	// DetailBatch is how many numbers one Read call gets (default 100).
	DetailBatch int
	// DetailConcurrency is how many Read calls run at once (default 4).
	DetailConcurrency int
}

// Gather reads the live inventories of the configured vendors, each
// concurrently with the other, with First Orion's hierarchy when the vendor
// offers it, and then fills in OneUC's CNAM and E911 where the CSV manages
// them.
//
// A listing that fails does not fail Gather: its inventory comes back with
// Complete false and Err set, so the caller decides whether to stop, and the
// diff plans no deletion from it. Gather fails when the context ends, when
// the hierarchy, the history or the detail cache cannot be read, or when a
// detail read fails (a plan comparing CNAM with an unknown value would be
// wrong).
//
// Details are taken from the cache when the cached `updated` equals the
// listing's; the others are read from the vendor in batches, returned in
// Inventory.Fresh and saved to the cache by Gather itself. A failure to save
// them only costs a re-read next time, so it becomes a warning, not an
// error.
func Gather(ctx context.Context, src Sources) (*Inventories, error) {
	inv := &Inventories{}
	g, gctx := errgroup.WithContext(ctx)
	if src.OneUC != nil {
		g.Go(func() error {
			ou, warn, err := gatherOneUC(gctx, src)
			if err != nil {
				return err
			}
			inv.OneUC = ou
			if warn != "" {
				inv.Warnings = append(inv.Warnings, warn)
			}
			return nil
		})
	}
	if src.FirstOrion != nil {
		g.Go(func() error {
			fo, err := listVendor(gctx, src.FirstOrion, FirstOrion, src.History)
			if err != nil {
				return err
			}
			// Its listing carries everything the plan compares, so the
			// fingerprint is taken as listed (OneUC's once details are in).
			fo.Fingerprint = Fingerprint(fo.Records)
			inv.FirstOrion = fo
			return nil
		})
		if h, ok := src.FirstOrion.(Hierarchy); ok {
			g.Go(func() error {
				bus, err := h.BusinessUnits(gctx)
				if err != nil {
					// Said once: the client's own error may say it.
					if !strings.HasPrefix(err.Error(), "firstorion: list business units") {
						err = fmt.Errorf("firstorion: list business units: %w", err)
					}
					return err
				}
				if bus == nil {
					bus = []BusinessUnit{}
				}
				inv.Hierarchy = bus
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return inv, nil
}

// listVendor lists one vendor into an inventory and looks up its history.
// Only the end of ctx is an error; a failed listing is recorded in the
// inventory.
func listVendor(ctx context.Context, v Vendor, name VendorName, hist History) (*Inventory, error) {
	records := NewRecords()
	err := v.List(ctx, func(s State) error {
		records.Set(s)
		return nil
	})
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("%s: list numbers: %w", name, ctx.Err())
	}
	out := &Inventory{Vendor: name, Records: records, Complete: err == nil, Held: records.Len()}
	if err != nil {
		// The client's error names the vendor and the listing already
		// (oneuc: list numbers: page 3: …): adding them again made them
		// read twice.
		out.Err = err
	}
	if hist != nil {
		n, ok, herr := hist.LastCount(ctx, name)
		if herr != nil {
			return nil, fmt.Errorf("%s: read history: %w", name, herr)
		}
		out.History, out.HasHistory = n, ok
	}
	return out, nil
}

// gatherOneUC lists OneUC, then completes the details the diff needs. The
// returned warning is non-empty when the cache could not be written.
func gatherOneUC(ctx context.Context, src Sources) (*Inventory, string, error) {
	ou, err := listVendor(ctx, src.OneUC, OneUC, src.History)
	if err != nil {
		return nil, "", err
	}
	wanted := detailCandidates(ou, src.Desired)
	if len(wanted) == 0 {
		ou.Fingerprint = Fingerprint(ou.Records)
		return ou, "", nil
	}
	var cached map[string]CachedState
	if src.Cache != nil {
		cached, err = src.Cache.Details(ctx, OneUC)
		if err != nil {
			return nil, "", fmt.Errorf("oneuc: read detail cache: %w", err)
		}
	}
	var toRead []string
	for _, n := range wanted {
		rec, _ := ou.Records.Get(n)
		if c, ok := cached[n]; ok && rec.Updated != 0 && c.Updated == rec.Updated {
			ou.Records.Set(withDetails(rec, c.State))
			continue
		}
		toRead = append(toRead, n)
	}
	fresh, err := readDetails(ctx, src, toRead)
	if err != nil {
		return nil, "", err
	}
	for _, n := range toRead {
		d, ok := fresh[n]
		if !ok {
			// The number left the account between listing and reading: keep
			// the listing record; the diff treats unknown details as none.
			continue
		}
		rec, _ := ou.Records.Get(n)
		rec = withDetails(rec, d)
		ou.Records.Set(rec)
		ou.Fresh = append(ou.Fresh, CachedState{Number: n, Updated: rec.Updated, State: rec})
	}
	ou.Fingerprint = Fingerprint(ou.Records)
	var warn string
	if src.Cache != nil && len(ou.Fresh) > 0 {
		if err := src.Cache.SaveDetails(ctx, OneUC, ou.Fresh); err != nil {
			if ctx.Err() != nil {
				return nil, "", fmt.Errorf("oneuc: save detail cache: %w", ctx.Err())
			}
			warn = fmt.Sprintf("oneuc: details of %s could not be cached (they will be read again next time): %v", english.Count(len(ou.Fresh), "number"), err)
		}
	}
	return ou, warn, nil
}

// detailCandidates lists, in number order, the OneUC numbers whose CNAM or
// E911 the diff will compare: in_service numbers the CSV lists when it
// manages those columns, or every in_service number for an export. A
// number being activated has no live details worth reading.
func detailCandidates(ou *Inventory, d *Desired) []string {
	var out []string
	if d == nil {
		for n, rec := range ou.Records.All() {
			if rec.Status == StatusInService {
				out = append(out, n)
			}
		}
	} else {
		if !d.Columns.ManagesOneUC() {
			return nil
		}
		for i := range d.Rows {
			n := d.Rows[i].Number
			if rec, ok := ou.Records.Get(n); ok && rec.Status == StatusInService {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// withDetails returns the listing record rec with the CNAM and E911 of a
// detailed record d. The listing's status and `updated` stay: they are what
// the cache is compared with next time.
func withDetails(rec, d State) State {
	rec.Detailed = true
	if d.CNAM != nil {
		c := *d.CNAM
		rec.CNAM = &c
	} else {
		empty := ""
		rec.CNAM = &empty
	}
	if d.E911 != nil {
		a := *d.E911
		rec.E911 = &a
	} else {
		rec.E911 = nil
	}
	if len(rec.Features) == 0 && len(d.Features) > 0 {
		rec.Features = slices.Clone(d.Features)
	}
	return rec
}

// readDetails reads numbers from OneUC in batches, a few batches at a time.
func readDetails(ctx context.Context, src Sources, numbers []string) (map[string]State, error) {
	out := make(map[string]State, len(numbers))
	if len(numbers) == 0 {
		return out, nil
	}
	batch := src.DetailBatch
	if batch <= 0 {
		batch = DefaultDetailBatch
	}
	conc := src.DetailConcurrency
	if conc <= 0 {
		conc = DefaultDetailConcurrency
	}
	results := make([]map[string]State, (len(numbers)+batch-1)/batch)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for i := range results {
		lo := i * batch
		hi := min(lo+batch, len(numbers))
		g.Go(func() error {
			m, err := src.OneUC.Read(gctx, numbers[lo:hi])
			if err != nil {
				return fmt.Errorf("oneuc: read details of %s from %s: %w", english.Count(hi-lo, "number"), numbers[lo], err)
			}
			results[i] = m
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return nil, fmt.Errorf("oneuc: read details: %w", ctx.Err())
		}
		return nil, err
	}
	for _, m := range results {
		for n, s := range m {
			out[n] = s
		}
	}
	return out, nil
}
