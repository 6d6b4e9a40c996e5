// Package app wires numsync's parts into the jobs its commands run: it
// builds the vendor clients from the configuration, gathers the live
// inventories and diffs them into a plan, and applies a plan through the
// journal and the executor, resuming an unfinished run. cmd/numsync parses
// flags and prints; app decides what happens.
package app

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/numsync/numsync/internal/config"
	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/vendors/firstorion"
	"github.com/numsync/numsync/internal/vendors/oneuc"
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

// NewVendors builds a client for every vendor the configuration enables.
// hc may be nil (each client then makes its own).
func NewVendors(cfg *config.Config, log *slog.Logger, hc *http.Client) (Vendors, error) {
	var out Vendors
	if cfg.OneUC != nil {
		c, err := oneuc.New(oneuc.Config{
			URL:        cfg.OneUC.URL,
			AccountID:  cfg.OneUC.AccountID,
			APIKey:     cfg.OneUC.APIKey.Reveal(),
			RPS:        cfg.OneUC.Rate.RPS,
			Burst:      cfg.OneUC.Rate.Burst,
			BatchSize:  cfg.OneUC.BatchSize,
			Timeout:    cfg.Retry.Timeout,
			HTTPClient: hc,
			Logger:     log,
		})
		if err != nil {
			return out, fmt.Errorf("oneuc: %w", err)
		}
		out.OneUC = c
	}
	if cfg.FirstOrion != nil {
		c, err := firstorion.New(firstorion.Config{
			URL:        cfg.FirstOrion.URL,
			BusinessID: cfg.FirstOrion.BusinessID,
			APIKey:     cfg.FirstOrion.APIKey.Reveal(),
			SecretKey:  cfg.FirstOrion.SecretKey.Reveal(),
			RPS:        cfg.FirstOrion.Rate.RPS,
			Burst:      cfg.FirstOrion.Rate.Burst,
			BatchSize:  cfg.FirstOrion.BatchSize,
			Timeout:    cfg.Retry.Timeout,
			HTTPClient: hc,
			Logger:     log,
		})
		if err != nil {
			return out, fmt.Errorf("firstorion: %w", err)
		}
		out.FirstOrion = c
	}
	return out, nil
}
