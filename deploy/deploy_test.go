// Package deploy holds numsync's deployment units (systemd, Kubernetes);
// this test checks them: the systemd units pass `systemd-analyze verify`
// (when the tool is there) with a low exposure score, and the Kubernetes
// manifests are consistent with each other and with numsync itself (the
// ConfigMap's config loads, the Secret supplies every ${VAR} it uses, the
// CSV validates, the journal is PostgreSQL).
package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/numsync/numsync/internal/config"
	"github.com/numsync/numsync/internal/desired"
)

// TestSystemdUnitsVerify runs systemd-analyze verify on the service and
// timer. verify only warns (exit 0) about unknown keys, so any output at all
// fails the test. ExecStart must name an executable, so the installed path
// is pointed at this test binary.
func TestSystemdUnitsVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("skipping: systemd-analyze not installed")
	}
	dir := unitCopy(t)
	out, err := exec.Command(sa, "verify", filepath.Join(dir, "numsync.service"), filepath.Join(dir, "numsync.timer")).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// The hardening, scored by systemd itself (0 is fully locked down, 10
	// fully exposed; "OK" starts below 4.5).
	out, err = exec.Command(sa, "security", "--offline=true", filepath.Join(dir, "numsync.service")).CombinedOutput()
	if err != nil {
		t.Skipf("skipping the exposure score: systemd-analyze security --offline unsupported: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for numsync.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	score, _ := strconv.ParseFloat(string(m[1]), 64)
	if score > 2.0 {
		t.Errorf("exposure level %.1f, want at most 2.0:\n%s", score, out)
	}
}

// unitCopy copies the units into a temporary directory with ExecStart's
// binary replaced by an executable that exists.
func unitCopy(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"numsync.service", "numsync.timer"} {
		b, err := os.ReadFile(filepath.Join("systemd", name))
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.ReplaceAll(b, []byte("/usr/local/bin/numsync"), []byte(self))
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestSystemdServiceHardening checks the settings the issue asks for are
// there, whatever systemd-analyze is installed.
func TestSystemdServiceHardening(t *testing.T) {
	keys := unitKeys(t, "systemd/numsync.service")
	want := map[string]string{
		"Type": "oneshot", "User": "numsync", "ProtectSystem": "strict", "ProtectHome": "yes",
		"NoNewPrivileges": "yes", "PrivateTmp": "yes", "StateDirectory": "numsync numsync/metrics",
		"CapabilityBoundingSet": "", "WorkingDirectory": "/var/lib/numsync",
	}
	// The journal comes from numsync.yaml (default ./numsync.db, in the
	// state directory): an environment override would hide a shared
	// postgres:// journal named there.
	for _, e := range keys["Environment"] {
		if strings.HasPrefix(e, "NUMSYNC_JOURNAL=") {
			t.Errorf("numsync.service sets %s, overriding the config's journal", e)
		}
	}
	for k, v := range want {
		if !slices.Contains(keys[k], v) {
			t.Errorf("numsync.service: %s=%s missing (have %q)", k, v, keys[k])
		}
	}
	// The state directory is where the journal lives.
	if exec := strings.Join(keys["ExecStart"], " "); !strings.Contains(exec, "apply --desired") {
		t.Errorf("ExecStart = %q", exec)
	}
	sys, err := os.ReadFile("systemd/numsync.sysusers")
	if err != nil || !strings.Contains(string(sys), "u numsync ") {
		t.Errorf("numsync.sysusers does not create the numsync user: %v %q", err, sys)
	}
	timer := unitKeys(t, "systemd/numsync.timer")
	if len(timer["OnCalendar"]) == 0 || !slices.Contains(timer["Persistent"], "true") || !slices.Contains(timer["WantedBy"], "timers.target") {
		t.Errorf("numsync.timer = %v", timer)
	}
}

// unitKeys reads a unit file's Key=Value lines (continuations joined).
func unitKeys(t *testing.T, path string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if ok {
			out[k] = append(out[k], strings.Join(strings.Fields(v), " "))
		}
	}
	return out
}

// manifests reads every YAML document under kubernetes/, by kind.
func manifests(t *testing.T) map[string]map[string]any {
	t.Helper()
	files, _ := filepath.Glob("kubernetes/*.yaml")
	out := map[string]map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var doc map[string]any
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			kind, _ := doc["kind"].(string)
			if kind == "" {
				t.Fatalf("%s: a document without kind", f)
			}
			if _, dup := out[kind]; dup {
				t.Fatalf("%s: a second %s", f, kind)
			}
			out[kind] = doc
		}
	}
	return out
}

// dig walks a decoded YAML tree: string keys index maps, ints index lists.
func dig(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: not a mapping at %q", path, k)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("%v: no item %d", path, k)
			}
			v = l[k]
		}
	}
	return v
}

func TestKubernetesManifests(t *testing.T) {
	m := manifests(t)
	cj, secret, cm := m["CronJob"], m["Secret"], m["ConfigMap"]
	if cj == nil || secret == nil || cm == nil {
		t.Fatalf("want a CronJob, a Secret and a ConfigMap, have %v", keysOf(m))
	}
	if got := dig(t, cj, "apiVersion"); got != "batch/v1" {
		t.Errorf("CronJob apiVersion %v", got)
	}
	if got := dig(t, cj, "spec", "concurrencyPolicy"); got != "Forbid" {
		t.Errorf("concurrencyPolicy = %v, want Forbid", got)
	}
	pod := dig(t, cj, "spec", "jobTemplate", "spec", "template", "spec")
	if got := dig(t, pod, "restartPolicy"); got != "Never" {
		t.Errorf("restartPolicy = %v", got)
	}
	c := dig(t, pod, "containers", 0)
	if dig(t, c, "securityContext", "readOnlyRootFilesystem") != true || dig(t, c, "securityContext", "allowPrivilegeEscalation") != false {
		t.Errorf("container securityContext = %v", dig(t, c, "securityContext"))
	}
	if dig(t, pod, "securityContext", "runAsNonRoot") != true {
		t.Error("the pod may run as root")
	}

	// The Secret the container reads, and what it holds.
	secretName := dig(t, secret, "metadata", "name")
	if got := dig(t, c, "envFrom", 0, "secretRef", "name"); got != secretName {
		t.Errorf("envFrom secret %v, the Secret is %v", got, secretName)
	}
	env := map[string]string{}
	for k, v := range dig(t, secret, "stringData").(map[string]any) {
		env[k], _ = v.(string)
	}
	for _, e := range dig(t, c, "env").([]any) {
		e := e.(map[string]any)
		env[e["name"].(string)], _ = e["value"].(string)
	}
	if !strings.HasPrefix(env["NUMSYNC_JOURNAL"], "postgres://") {
		t.Errorf("NUMSYNC_JOURNAL = %q, want the PostgreSQL journal", env["NUMSYNC_JOURNAL"])
	}

	// The ConfigMap is mounted where the arguments and NUMSYNC_CONFIG look.
	cmName := dig(t, cm, "metadata", "name")
	var mount string
	for _, v := range dig(t, pod, "volumes").([]any) {
		v := v.(map[string]any)
		if cmv, ok := v["configMap"].(map[string]any); ok && cmv["name"] == cmName {
			for _, vm := range dig(t, c, "volumeMounts").([]any) {
				vm := vm.(map[string]any)
				if vm["name"] == v["name"] {
					mount, _ = vm["mountPath"].(string)
				}
			}
		}
	}
	if mount == "" {
		t.Fatal("the ConfigMap is not mounted")
	}
	data := dig(t, cm, "data").(map[string]any)
	inMount := func(p string) string {
		t.Helper()
		rel, err := filepath.Rel(mount, p)
		if err != nil || strings.HasPrefix(rel, "..") {
			t.Fatalf("%s is not under the ConfigMap's mount %s", p, mount)
		}
		s, ok := data[rel].(string)
		if !ok {
			t.Fatalf("the ConfigMap has no key %s (for %s)", rel, p)
		}
		return s
	}
	cfgText := inMount(env["NUMSYNC_CONFIG"])
	var args []string
	for _, a := range dig(t, c, "args").([]any) {
		args = append(args, a.(string))
	}
	i := slices.Index(args, "--desired")
	if len(args) == 0 || args[0] != "apply" || i < 0 || i+1 >= len(args) {
		t.Fatalf("args = %q, want apply --desired FILE", args)
	}
	csvText := inMount(args[i+1])

	// The config loads, with every ${VAR} from the Secret, and the journal
	// the Secret names.
	for _, ref := range regexp.MustCompile(`\$\{([A-Z0-9_]+)\}`).FindAllStringSubmatch(cfgText, -1) {
		if env[ref[1]] == "" {
			t.Errorf("the config uses ${%s}, which the Secret does not set", ref[1])
		}
	}
	path := filepath.Join(t.TempDir(), "numsync.yaml")
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("the ConfigMap's numsync.yaml does not load: %v", err)
	}
	if !strings.HasPrefix(cfg.Journal, "postgres://") {
		t.Errorf("journal = %q, want the Secret's postgres:// URL", config.RedactJournal(cfg.Journal))
	}
	if !cfg.OneUCEnabled() || !cfg.FirstOrionEnabled() {
		t.Error("the example config should enable both vendors")
	}
	csvPath := filepath.Join(t.TempDir(), "desired.csv")
	if err := os.WriteFile(csvPath, []byte(csvText), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := desired.ReadFile(csvPath, desired.Options{Path: csvPath, DefaultRegion: cfg.DefaultRegion,
		OneUCEnabled: cfg.OneUCEnabled(), FirstOrionEnabled: cfg.FirstOrionEnabled()}); err != nil {
		t.Errorf("the ConfigMap's desired.csv does not validate: %v", err)
	}
}

func keysOf(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
