package metrics

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	numexec "github.com/numsync/numsync/internal/exec"
	"github.com/numsync/numsync/internal/plan"
)

// monitoring is deploy/monitoring, from this package's directory.
const monitoring = "../../deploy/monitoring"

// TestAlertRules checks the alert rules with promtool, when it is on PATH
// (Debian's prometheus package; CI installs it): 'check rules' for the
// syntax, 'test rules' for what fires when.
func TestAlertRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not on PATH (Debian package prometheus)")
	}
	for _, args := range [][]string{
		{"check", "rules", "numsync-alerts.yml"},
		{"test", "rules", "numsync-alerts.test.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = monitoring
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}

// TestMonitoringNamesExist: every numsync metric the alert rules and the
// dashboard query is one numsync writes, so a renamed metric cannot leave
// an alert silently blind.
func TestMonitoringNamesExist(t *testing.T) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	r := New("apply", c.now)
	r.AddVendor("oneuc")
	r.Plan(&plan.Plan{Vendors: map[plan.VendorName]*plan.VendorSummary{
		plan.OneUC: {Counts: map[plan.Action]int{plan.Activate: 1}, Safety: plan.Verdict{OK: true}}}})
	r.Apply(1, &numexec.Summary{Vendors: []numexec.VendorSummary{{Vendor: plan.OneUC,
		Actions: []numexec.ActionSummary{{Action: plan.Activate, Total: 1, Done: 1}}}}})
	path := filepath.Join(t.TempDir(), "numsync.prom")
	if err := r.Write(path, Done, 0); err != nil {
		t.Fatal(err)
	}
	written, err := ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`numsync_[a-z_]+`)
	for _, file := range []string{"numsync-alerts.yml", "numsync-dashboard.json"} {
		b, err := os.ReadFile(filepath.Join(monitoring, file))
		if err != nil {
			t.Fatal(err)
		}
		if file == "numsync-dashboard.json" {
			var dash struct {
				Panels []struct {
					Title   string `json:"title"`
					Targets []struct {
						Expr string `json:"expr"`
					} `json:"targets"`
				} `json:"panels"`
			}
			if err := json.Unmarshal(b, &dash); err != nil {
				t.Fatalf("the dashboard is not JSON: %v", err)
			}
			if len(dash.Panels) < 5 {
				t.Errorf("the dashboard has %d panels", len(dash.Panels))
			}
		}
		found := 0
		for _, n := range name.FindAllString(string(b), -1) {
			found++
			if _, ok := written[n]; !ok {
				t.Errorf("%s queries %s, which numsync does not write", file, n)
			}
		}
		if found == 0 {
			t.Errorf("%s queries no numsync metric", file)
		}
	}
}
