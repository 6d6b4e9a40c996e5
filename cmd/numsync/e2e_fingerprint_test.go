package main

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"

	"github.com/numsync/numsync/internal/labserver"
)

// TestSavedPlanFingerprintsBothVendors: a saved plan holds each vendor's
// inventory fingerprint (SPEC section 4), First Orion's as well as
// OneUC's, and a change at First Orion alone changes First Orion's.
func TestSavedPlanFingerprintsBothVendors(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 12}, nil)
	c := newCLI(t, l.URL, nil)
	csv := c.sampleCSV()
	fingerprints := func(name string) map[string]string {
		t.Helper()
		c.mustRun(0, "plan", "--desired", csv, "--out", c.path(name))
		b, err := os.ReadFile(c.path(name))
		if err != nil {
			t.Fatal(err)
		}
		var saved struct {
			Vendors map[string]struct {
				Fingerprint string `json:"fingerprint"`
			} `json:"vendors"`
		}
		if err := json.Unmarshal(b, &saved); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, v := range []string{"oneuc", "firstorion"} {
			fp := saved.Vendors[v].Fingerprint
			if !sha256Hex.MatchString(fp) {
				t.Errorf("%s: vendors.%s.fingerprint = %q, want a SHA-256", name, v, fp)
			}
			out[v] = fp
		}
		return out
	}
	before := fingerprints("p1.json")

	// Apply changes numbers at both vendors (the samples' deliberate
	// refusals end it exit 3); then each fingerprint moves.
	c.mustRun(ExitFailed, "apply", "--desired", csv)
	after := fingerprints("p2.json")
	for _, v := range []string{"oneuc", "firstorion"} {
		if before[v] == after[v] {
			t.Errorf("%s fingerprint unchanged after an apply changed its numbers", v)
		}
	}
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)
