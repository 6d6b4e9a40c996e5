package main

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/numsync/numsync/internal/app"
	"github.com/numsync/numsync/internal/config"
	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/retry"
	"github.com/numsync/numsync/internal/vendors/firstorion"
	"github.com/numsync/numsync/internal/vendors/oneuc"
)

// The wiring: the configuration turned into the clients and settings the
// jobs in internal/app take. It lives here, beside the flags, so app
// imports no vendor and no configuration.

// newVendors builds a client for every vendor the configuration enables.
// hc may be nil (each client then makes its own).
func newVendors(cfg *config.Config, log *slog.Logger, hc *http.Client) (app.Vendors, error) {
	var out app.Vendors
	// One retry policy (internal/retry) for both clients and the executor.
	pol := retry.Policy{MaxAttempts: cfg.Retry.MaxAttempts, MaxElapsed: cfg.Retry.MaxElapsed}
	if cfg.OneUC != nil {
		c, err := oneuc.New(oneuc.Config{
			URL:        cfg.OneUC.URL,
			AccountID:  cfg.OneUC.AccountID,
			APIKey:     cfg.OneUC.APIKey.Reveal(),
			RPS:        cfg.OneUC.Rate.RPS,
			Burst:      cfg.OneUC.Rate.Burst,
			BatchSize:  cfg.OneUC.BatchSize,
			Timeout:    cfg.Retry.Timeout,
			Retry:      pol,
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
			Retry:      pol,
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

// planOptions derives the per-vendor prune and max_delete settings from
// the configuration and the command line: --prune turns pruning on for
// every enabled vendor; maxDelete, when not nil (--max-delete, parsed
// once, where the flags are checked), replaces the configured threshold
// for this run.
func planOptions(cfg *config.Config, prune bool, maxDelete *plan.Limit) (map[plan.VendorName]bool, map[plan.VendorName]plan.Limit) {
	pr := map[plan.VendorName]bool{}
	md := map[plan.VendorName]plan.Limit{}
	lim := cfg.Safety.MaxDelete.Plan()
	if maxDelete != nil {
		lim = *maxDelete
	}
	if cfg.OneUC != nil {
		pr[plan.OneUC] = prune || cfg.OneUC.Prune
		md[plan.OneUC] = lim
	}
	if cfg.FirstOrion != nil {
		pr[plan.FirstOrion] = prune || cfg.FirstOrion.Prune
		md[plan.FirstOrion] = lim
	}
	return pr, md
}

// defaultCallPurpose is First Orion's configured default call purpose
// code.
func defaultCallPurpose(cfg *config.Config) string {
	if cfg.FirstOrion != nil && cfg.FirstOrion.DefaultCallPurposeCode != "" {
		return cfg.FirstOrion.DefaultCallPurposeCode
	}
	return config.DefaultCallPurposeCode
}

// concurrency is each enabled vendor's configured concurrency.
func concurrency(cfg *config.Config) map[plan.VendorName]int {
	out := map[plan.VendorName]int{}
	if cfg.OneUC != nil {
		out[plan.OneUC] = cfg.OneUC.Concurrency
	}
	if cfg.FirstOrion != nil {
		out[plan.FirstOrion] = cfg.FirstOrion.Concurrency
	}
	return out
}
