package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

var secretEnv = map[string]string{
	"ONEUC_API_KEY": "oneuc-super-secret-1",
	"FO_API_KEY":    "fo-api-secret-2",
	"FO_SECRET_KEY": "fo-secret-key-3",
}

func TestLoadFull(t *testing.T) {
	cfg, err := Load(filepath.Join("testdata", "full.yaml"), mapEnv(secretEnv))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DefaultRegion != "US" {
		t.Errorf("DefaultRegion = %q, want US (upper-cased)", cfg.DefaultRegion)
	}
	if cfg.OneUC == nil || cfg.FirstOrion == nil {
		t.Fatalf("both vendors should be enabled: %+v", cfg)
	}
	if got := cfg.OneUC.URL; got != "https://api.oneuc.example" {
		t.Errorf("OneUC.URL = %q, want trailing slash trimmed", got)
	}
	if got := cfg.OneUC.APIKey.Reveal(); got != secretEnv["ONEUC_API_KEY"] {
		t.Errorf("OneUC.APIKey = %q, want expanded", got)
	}
	if got := cfg.FirstOrion.SecretKey.Reveal(); got != secretEnv["FO_SECRET_KEY"] {
		t.Errorf("FirstOrion.SecretKey = %q", got)
	}
	if got := cfg.FirstOrion.Rate; got != (Rate{RPS: 5, Burst: 2}) {
		t.Errorf("FirstOrion.Rate = %+v", got)
	}
	if !cfg.FirstOrion.Prune || cfg.OneUC.Prune {
		t.Errorf("prune flags wrong: oneuc %v firstorion %v", cfg.OneUC.Prune, cfg.FirstOrion.Prune)
	}
	if got := cfg.Safety.MaxDelete.Limit(1000); got != 100 {
		t.Errorf("MaxDelete.Limit(1000) = %d, want 100", got)
	}
	if cfg.Retry.Timeout != 30*time.Second || cfg.Retry.MaxAttempts != 6 || cfg.Retry.MaxElapsed != 90*time.Second {
		t.Errorf("Retry = %+v", cfg.Retry)
	}
}

func TestDefaults(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		check func(t *testing.T, c *Config)
	}{
		{"empty file gives defaults and no vendor", "empty.yaml", func(t *testing.T, c *Config) {
			if c.OneUC != nil || c.FirstOrion != nil {
				t.Errorf("vendors should be disabled")
			}
			if c.DefaultRegion != "US" || c.Journal != "./numsync.db" {
				t.Errorf("defaults: %+v", c)
			}
			if c.Safety.MaxDelete.String() != "10%" {
				t.Errorf("max_delete default = %s", c.Safety.MaxDelete)
			}
			if c.Retry.MaxAttempts != 6 || c.Retry.Timeout != 30*time.Second || c.Retry.MaxElapsed != 5*time.Minute {
				t.Errorf("retry defaults: %+v", c.Retry)
			}
		}},
		{"partial vendor section keeps defaults", "oneuc-only.yaml", func(t *testing.T, c *Config) {
			if c.FirstOrion != nil {
				t.Errorf("First Orion should be disabled")
			}
			o := c.OneUC
			if o.Rate.RPS != 2.5 || o.Rate.Burst != DefaultBurst {
				t.Errorf("rate = %+v, want rps 2.5 with default burst", o.Rate)
			}
			if o.Concurrency != DefaultConcurrency || o.BatchSize != DefaultBatchSize {
				t.Errorf("counts = %d %d", o.Concurrency, o.BatchSize)
			}
			if c.Safety.MaxDelete.Percent || c.Safety.MaxDelete.Count != 50 {
				t.Errorf("max_delete = %+v", c.Safety.MaxDelete)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(filepath.Join("testdata", tt.file), mapEnv(nil))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want []string
	}{
		{"unknown key names its path", "oneuc:\n  url: http://x\n  rate:\n    rsp: 10\n", nil,
			[]string{"unknown key oneuc.rate.rsp", "did you mean oneuc.rate.rps", "line 4"}},
		{"unknown top-level key", "jornal: x.db\n", nil, []string{"unknown key jornal", "did you mean journal"}},
		{"duplicate key", "journal: a\njournal: b\n", nil, []string{"journal"}},
		{"bad rate", "oneuc: {url: 'http://x', account_id: a, api_key: k, rate: {rps: -1}}\n", nil,
			[]string{"oneuc.rate.rps: must be a number of requests per second greater than 0"}},
		{"bad burst", "oneuc: {url: 'http://x', account_id: a, api_key: k, rate: {burst: 0}}\n", nil,
			[]string{"oneuc.rate.burst: must be at least 1"}},
		{"bad max_delete word", "safety:\n  max_delete: ten\n", nil, []string{"safety.max_delete", `"ten" is neither a count`}},
		{"bad max_delete percent", "safety:\n  max_delete: 150%\n", nil, []string{"safety.max_delete", "percentage"}},
		{"negative max_delete", "safety:\n  max_delete: -3\n", nil, []string{"safety.max_delete"}},
		{"first orion batch over 500", "firstorion: {url: 'https://f', business_id: b, api_key: k, secret_key: s, batch_size: 501}\n", nil,
			[]string{"firstorion.batch_size: must be between 1 and 500, got 501"}},
		{"missing url and keys", "oneuc: {account_id: a}\nfirstorion: {url: 'https://f'}\n", nil,
			[]string{"oneuc.url: is required", "oneuc.api_key: is required", "firstorion.business_id: is required", "firstorion.api_key", "firstorion.secret_key"}},
		{"unset variable is named", "oneuc: {url: 'http://x', account_id: a, api_key: '${ONEUC_API_KEY}'}\n", nil,
			[]string{"oneuc.api_key: is empty: ${ONEUC_API_KEY} is not set", "NUMSYNC_ONEUC_API_KEY"}},
		{"region not two letters", "default_region: USA\n", nil, []string{`default_region: "USA" is not a 2-letter region code`}},
		{"not an http url", "oneuc: {url: 'ftp://x', account_id: a, api_key: k}\n", nil, []string{"oneuc.url", "not an http(s) URL"}},
		{"url with credentials", "oneuc: {url: 'https://u:p@x', account_id: a, api_key: k}\n", nil, []string{"must not carry credentials"}},
		{"bad timeout", "retry: {timeout: 0s}\n", nil, []string{"retry.timeout: must be a positive duration"}},
		{"bad max attempts", "retry: {max_attempts: 0}\n", nil, []string{"retry.max_attempts: must be at least 1"}},
		{"bad max elapsed", "retry: {max_elapsed: 0s}\n", nil, []string{"retry.max_elapsed: must be a positive duration"}},
		{"concurrency out of range", "oneuc: {url: 'http://x', account_id: a, api_key: k, concurrency: 0}\n", nil, []string{"oneuc.concurrency"}},
		{"section not a mapping", "oneuc: 5\n", nil, []string{"oneuc: want a mapping"}},
		{"not a mapping at all", "- a\n- b\n", nil, []string{"must be a mapping"}},
		{"yaml syntax", "oneuc: [\n", nil, []string{"parse YAML"}},
		{"wrong type", "retry: {max_attempts: many}\n", nil, []string{"decode", "many"}},
		{"override of wrong type names the variable", "", map[string]string{"NUMSYNC_RETRY_MAX_ATTEMPTS": "lots"},
			[]string{"NUMSYNC_RETRY_MAX_ATTEMPTS (retry.max_attempts)", "not a whole number"}},
		{"override of bad rate", "oneuc: {url: 'http://x', account_id: a, api_key: k}\n", map[string]string{"NUMSYNC_ONEUC_RATE_RPS": "fast"},
			[]string{"NUMSYNC_ONEUC_RATE_RPS", "not a number"}},
		{"expanded value is not quoted in a type error", "retry: {max_attempts: '${ONEUC_API_KEY}'}\n", secretEnv, []string{"decode", "[redacted]"}},
		{"override of bad max_delete", "", map[string]string{"NUMSYNC_SAFETY_MAX_DELETE": "half"}, []string{"NUMSYNC_SAFETY_MAX_DELETE", `"half"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), mapEnv(tt.env))
			if err == nil {
				t.Fatalf("Parse succeeded, want error containing %q", tt.want)
			}
			for _, v := range secretEnv {
				if strings.Contains(err.Error(), v) {
					t.Errorf("error leaked a secret: %v", err)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestValidationErrorListsEveryProblem(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "bad-values.yaml"), mapEnv(nil))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *ValidationError, got %v", err)
	}
	want := []string{"default_region", "oneuc.url", "oneuc.rate.rps", "oneuc.rate.burst", "oneuc.concurrency", "firstorion.batch_size", "retry.max_attempts"}
	if len(ve.Problems) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(ve.Problems), len(want), err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w+":") {
			t.Errorf("error does not mention %s:\n%v", w, err)
		}
	}
	if !strings.HasPrefix(err.Error(), "config testdata/bad-values.yaml: ") {
		t.Errorf("error should name the file: %v", err)
	}
}

func TestOverrides(t *testing.T) {
	env := map[string]string{
		"ONEUC_API_KEY":                 "from-var",
		"FO_API_KEY":                    "a",
		"FO_SECRET_KEY":                 "b",
		"NUMSYNC_FIRSTORION_API_KEY":    "from-override",
		"NUMSYNC_ONEUC_RATE_RPS":        "3.5",
		"NUMSYNC_ONEUC_PRUNE":           "true",
		"NUMSYNC_SAFETY_MAX_DELETE":     "25",
		"NUMSYNC_DEFAULT_REGION":        "ca",
		"NUMSYNC_JOURNAL":               "/var/lib/numsync/j.db",
		"NUMSYNC_RETRY_TIMEOUT":         "5s",
		"NUMSYNC_FIRSTORION_BATCH_SIZE": "250",
	}
	cfg, err := Load(filepath.Join("testdata", "full.yaml"), mapEnv(env))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"firstorion api key", cfg.FirstOrion.APIKey.Reveal(), "from-override"},
		{"oneuc api key from ${VAR}", cfg.OneUC.APIKey.Reveal(), "from-var"},
		{"nested rate", cfg.OneUC.Rate.RPS, 3.5},
		{"nested rate keeps burst", cfg.OneUC.Rate.Burst, 10},
		{"bool", cfg.OneUC.Prune, true},
		{"max_delete", cfg.Safety.MaxDelete.String(), "25"},
		{"top-level region", cfg.DefaultRegion, "CA"},
		{"top-level journal", cfg.Journal, "/var/lib/numsync/j.db"},
		{"duration", cfg.Retry.Timeout, 5 * time.Second},
		{"int", cfg.FirstOrion.BatchSize, 250},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		})
	}
}

func TestOverrideNeverEnablesVendor(t *testing.T) {
	cfg, err := Parse([]byte("journal: x.db\n"), mapEnv(map[string]string{"NUMSYNC_ONEUC_API_KEY": "k", "NUMSYNC_ONEUC_URL": "http://x"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OneUCEnabled() {
		t.Errorf("an override enabled OneUC without a oneuc section")
	}
}

func TestEnvName(t *testing.T) {
	tests := map[string]string{
		"firstorion.api_key": "NUMSYNC_FIRSTORION_API_KEY",
		"oneuc.rate.rps":     "NUMSYNC_ONEUC_RATE_RPS",
		"safety.max_delete":  "NUMSYNC_SAFETY_MAX_DELETE",
		"default_region":     "NUMSYNC_DEFAULT_REGION",
		"journal":            "NUMSYNC_JOURNAL",
	}
	for path, want := range tests {
		t.Run(path, func(t *testing.T) {
			if got := EnvName(path); got != want {
				t.Errorf("EnvName(%q) = %q, want %q", path, got, want)
			}
		})
	}
}

func TestMaxDelete(t *testing.T) {
	tests := []struct {
		in      string
		held    int
		want    int
		str     string
		wantErr bool
	}{
		{"50", 1000, 50, "50", false},
		{"0", 1000, 0, "0", false},
		{"10%", 1000, 100, "10%", false},
		{"10%", 5, 0, "10%", false},
		{"12.5%", 80, 10, "12.5%", false},
		{" 100% ", 7, 7, "100%", false},
		{"10%", 0, 0, "10%", false},
		{"-1", 0, 0, "", true},
		{"101%", 0, 0, "", true},
		{"ten", 0, 0, "", true},
		{"%", 0, 0, "", true},
		{"", 0, 0, "", true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q of %d", tt.in, tt.held), func(t *testing.T) {
			m, err := ParseMaxDelete(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := m.Limit(tt.held); got != tt.want {
				t.Errorf("Limit(%d) = %d, want %d", tt.held, got, tt.want)
			}
			if m.String() != tt.str {
				t.Errorf("String() = %q, want %q", m.String(), tt.str)
			}
		})
	}
}

// TestNoSecretPrinted prints the config and its secrets every way a
// program might, and fails if a secret's value appears.
func TestNoSecretPrinted(t *testing.T) {
	cfg, err := Load(filepath.Join("testdata", "full.yaml"), mapEnv(secretEnv))
	if err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("config", "cfg", cfg, "key", cfg.OneUC.APIKey, "fo", cfg.FirstOrion)
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("config", "key", cfg.FirstOrion.SecretKey, "oneuc", cfg.OneUC, "fo", cfg.FirstOrion)
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ym, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	printed := map[string]string{
		"Redacted":    cfg.Redacted(),
		"String":      cfg.String(),
		"%v":          fmt.Sprintf("%v", cfg),
		"%+v":         fmt.Sprintf("%+v", *cfg),
		"%#v":         fmt.Sprintf("%#v", *cfg),
		"%+v oneuc":   fmt.Sprintf("%+v", *cfg.OneUC),
		"%#v fo":      fmt.Sprintf("%#v", *cfg.FirstOrion),
		"%s secret":   fmt.Sprintf("%s", cfg.OneUC.APIKey),
		"%q secret":   fmt.Sprintf("%q", cfg.OneUC.APIKey),
		"%x secret":   fmt.Sprintf("%x", cfg.OneUC.APIKey),
		"%d secret":   fmt.Sprintf("%d", cfg.FirstOrion.SecretKey),
		"Sprint":      fmt.Sprint(cfg.FirstOrion.SecretKey),
		"json":        string(js),
		"yaml":        string(ym),
		"slog":        logBuf.String(),
		"error chain": fmt.Errorf("wrap: %v", cfg.FirstOrion.APIKey).Error(),
	}
	for how, out := range printed {
		t.Run(how, func(t *testing.T) {
			for name, v := range secretEnv {
				if strings.Contains(out, v) {
					t.Errorf("%s leaked %s:\n%s", how, name, out)
				}
			}
		})
	}
	if !strings.Contains(cfg.Redacted(), "[redacted]") {
		t.Errorf("Redacted() should mark secrets as [redacted]:\n%s", cfg.Redacted())
	}
	if !strings.Contains(cfg.Redacted(), "timeout: 30s") {
		t.Errorf("Redacted() should show durations readably:\n%s", cfg.Redacted())
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("want ErrNotExist wrapped, got %v", err)
	}
}

func FuzzConfigLoad(f *testing.F) {
	for _, name := range []string{"full.yaml", "oneuc-only.yaml", "typo.yaml", "bad-values.yaml", "bad-maxdelete.yaml", "empty.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("oneuc: {rate: {rps: .nan}}\n"))
	f.Add([]byte("safety: {max_delete: [1]}\n"))
	f.Add([]byte("&a [*a]"))
	f.Add([]byte("retry: {max_attempts: ${FO_SECRET_KEY}}\noneuc: {url: ${FO_API_KEY}}\n"))
	env := mapEnv(secretEnv)
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, env)
		if err != nil {
			for name, v := range secretEnv {
				if strings.Contains(err.Error(), v) {
					t.Fatalf("error leaked %s: %v", name, err)
				}
			}
			return
		}
		out := cfg.Redacted()
		for name, v := range secretEnv {
			if strings.Contains(out, v) {
				t.Fatalf("Redacted leaked %s", name)
			}
		}
		if cfg.OneUC != nil && cfg.OneUC.Rate.RPS <= 0 {
			t.Fatalf("validated config has rps %v", cfg.OneUC.Rate.RPS)
		}
	})
}

func TestLoadWithoutSecrets(t *testing.T) {
	path := filepath.Join("testdata", "full.yaml")
	if _, err := Load(path, mapEnv(nil)); err == nil {
		t.Fatalf("Load should require the keys")
	}
	cfg, err := LoadWithoutSecrets(path, mapEnv(nil))
	if err != nil {
		t.Fatalf("LoadWithoutSecrets: %v", err)
	}
	if !cfg.OneUCEnabled() || !cfg.FirstOrionEnabled() || cfg.OneUC.APIKey.Reveal() != "" {
		t.Errorf("cfg: %+v", cfg)
	}
	if _, err := LoadWithoutSecrets(filepath.Join("testdata", "bad-values.yaml"), mapEnv(nil)); err == nil {
		t.Errorf("other keys must still be validated")
	}
}
