package config

// Validation of a decoded configuration: every problem at once, each
// naming its key.

import (
	"fmt"
	"math"
	"net/url"
	"strings"
)

// validate checks every key and reports all problems at once.
func (c *Config) validate(unset map[string]string, needSecrets bool) error {
	var probs []string
	bad := func(path, format string, args ...any) {
		probs = append(probs, path+": "+fmt.Sprintf(format, args...))
	}
	required := func(path, val string) {
		if strings.TrimSpace(val) != "" {
			return
		}
		if v, ok := unset[path]; ok {
			bad(path, "is empty: ${%s} is not set in the environment (or set %s)", v, EnvName(path))
			return
		}
		bad(path, "is required when the section is present (or set %s)", EnvName(path))
	}
	c.DefaultRegion = strings.ToUpper(strings.TrimSpace(c.DefaultRegion))
	if !isRegion(c.DefaultRegion) {
		bad("default_region", "%q is not a 2-letter region code (e.g. US)", c.DefaultRegion)
	}
	if strings.TrimSpace(c.Journal) == "" {
		bad("journal", "must name the journal file (default %s)", DefaultJournal)
	}
	c.JournalRetention.validate(bad)
	rate := func(path string, r Rate) {
		if math.IsNaN(r.RPS) || math.IsInf(r.RPS, 0) || r.RPS <= 0 {
			bad(path+".rps", "must be a number of requests per second greater than 0, got %v", r.RPS)
		}
		if r.Burst < 1 {
			bad(path+".burst", "must be at least 1, got %d", r.Burst)
		}
	}
	counts := func(path string, conc, batch, maxBatch int) {
		if conc < 1 || conc > maxConcurrency {
			bad(path+".concurrency", "must be between 1 and %d, got %d", maxConcurrency, conc)
		}
		if batch < 1 || batch > maxBatch {
			bad(path+".batch_size", "must be between 1 and %d, got %d", maxBatch, batch)
		}
	}
	if o := c.OneUC; o != nil {
		o.URL = strings.TrimRight(strings.TrimSpace(o.URL), "/")
		required("oneuc.url", o.URL)
		if o.URL != "" {
			checkURL(bad, "oneuc.url", o.URL)
		}
		required("oneuc.account_id", o.AccountID)
		if needSecrets {
			required("oneuc.api_key", o.APIKey.Reveal())
		}
		rate("oneuc.rate", o.Rate)
		counts("oneuc", o.Concurrency, o.BatchSize, MaxOneUCBatch)
	}
	if f := c.FirstOrion; f != nil {
		f.URL = strings.TrimRight(strings.TrimSpace(f.URL), "/")
		required("firstorion.url", f.URL)
		if f.URL != "" {
			checkURL(bad, "firstorion.url", f.URL)
		}
		required("firstorion.business_id", f.BusinessID)
		if needSecrets {
			required("firstorion.api_key", f.APIKey.Reveal())
			required("firstorion.secret_key", f.SecretKey.Reveal())
		}
		f.DefaultCallPurposeCode = strings.TrimSpace(f.DefaultCallPurposeCode)
		if f.DefaultCallPurposeCode == "" {
			f.DefaultCallPurposeCode = DefaultCallPurposeCode
		}
		rate("firstorion.rate", f.Rate)
		counts("firstorion", f.Concurrency, f.BatchSize, MaxFirstOrionBatch)
	}
	if c.Retry.MaxAttempts < 1 {
		bad("retry.max_attempts", "must be at least 1, got %d", c.Retry.MaxAttempts)
	}
	if c.Retry.Timeout <= 0 {
		bad("retry.timeout", "must be a positive duration (e.g. 30s), got %s", c.Retry.Timeout)
	}
	if c.Retry.MaxElapsed <= 0 {
		bad("retry.max_elapsed", "must be a positive duration (e.g. 5m), got %s", c.Retry.MaxElapsed)
	}
	if len(probs) > 0 {
		return &ValidationError{Problems: probs}
	}
	return nil
}

func checkURL(bad func(string, string, ...any), path, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad(path, "%q is not an http(s) URL", raw)
		return
	}
	if u.User != nil {
		// Credentials in a URL would be printed with it.
		bad(path, "must not carry credentials; use the key settings")
	}
}

func isRegion(s string) bool {
	if len(s) != 2 {
		return false
	}
	for i := 0; i < 2; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
