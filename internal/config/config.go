// Package config loads numsync's YAML configuration (SPEC section 2):
// defaults, ${VAR} expansion, NUMSYNC_<SECTION>_<KEY> environment
// overrides and validation with messages that name the key.
//
// The environment is passed in (a func like os.Getenv) and the file path is
// decided by the command; this package reads nothing global. Secrets are of
// type Secret, which never prints its value.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults of SPEC section 2.
const (
	DefaultRegion          = "US"
	DefaultJournal         = "./numsync.db"
	DefaultRPS             = 10
	DefaultBurst           = 10
	DefaultConcurrency     = 4
	DefaultBatchSize       = 100
	DefaultCallPurposeCode = "CS"
	DefaultMaxAttempts     = 6
	DefaultTimeout         = 30 * time.Second
	// DefaultMaxElapsed is how long one operation may keep being retried
	// or re-checked: a vendor outage shorter than this costs time, not a
	// failed night.
	DefaultMaxElapsed = 5 * time.Minute
	// MaxFirstOrionBatch is First Orion's documented batch ceiling.
	MaxFirstOrionBatch = 500
	// MaxOneUCBatch bounds OneUC collection requests; vendors.md names no
	// ceiling, so numsync keeps requests to a size a proxy will pass.
	MaxOneUCBatch = 1000
	// maxConcurrency keeps a typo (4000 for 40) from opening thousands of
	// connections to a vendor.
	maxConcurrency = 256
	// EnvPrefix starts every environment override.
	EnvPrefix = "NUMSYNC_"
)

// Config is numsync's whole configuration.
type Config struct {
	// DefaultRegion is the ISO 3166 region national-format numbers in the
	// CSV belong to.
	DefaultRegion string `yaml:"default_region" json:"default_region"`
	// Journal is the SQLite journal's path, or a postgres:// URL for a
	// journal shared by several hosts.
	Journal string `yaml:"journal" json:"journal"`
	// JournalRetention says which finished runs are pruned after an apply.
	JournalRetention Retention `yaml:"journal_retention" json:"journal_retention"`
	// OneUC is nil when the section is absent: the vendor is disabled.
	OneUC *OneUC `yaml:"oneuc,omitempty" json:"oneuc,omitempty"`
	// FirstOrion is nil when the section is absent: the vendor is disabled.
	FirstOrion *FirstOrion `yaml:"firstorion,omitempty" json:"firstorion,omitempty"`
	Safety     Safety      `yaml:"safety" json:"safety"`
	Retry      Retry       `yaml:"retry" json:"retry"`

	// Path is the file the config was loaded from ("" for Default).
	Path string `yaml:"-" json:"-"`
}

// Rate is a token bucket: rps tokens a second, at most burst at once.
type Rate struct {
	RPS   float64 `yaml:"rps" json:"rps"`
	Burst int     `yaml:"burst" json:"burst"`
}

// OneUC configures the Kazoo-based carrier platform.
type OneUC struct {
	// URL is the API base; request paths start with /v2.
	URL       string `yaml:"url" json:"url"`
	AccountID string `yaml:"account_id" json:"account_id"`
	// APIKey is exchanged for an X-Auth-Token.
	APIKey      Secret `yaml:"api_key" json:"api_key"`
	Rate        Rate   `yaml:"rate" json:"rate"`
	Concurrency int    `yaml:"concurrency" json:"concurrency"`
	// BatchSize is how many numbers one collection request carries.
	BatchSize int `yaml:"batch_size" json:"batch_size"`
	// Prune releases numbers the account holds and the CSV omits.
	Prune bool `yaml:"prune" json:"prune"`
}

// FirstOrion configures the branded caller-ID platform.
type FirstOrion struct {
	// URL is the API base; paths start with /v1/auth and /exchange/v1.
	URL                    string `yaml:"url" json:"url"`
	BusinessID             string `yaml:"business_id" json:"business_id"`
	APIKey                 Secret `yaml:"api_key" json:"api_key"`
	SecretKey              Secret `yaml:"secret_key" json:"secret_key"`
	DefaultCallPurposeCode string `yaml:"default_call_purpose_code" json:"default_call_purpose_code"`
	Rate                   Rate   `yaml:"rate" json:"rate"`
	Concurrency            int    `yaml:"concurrency" json:"concurrency"`
	// BatchSize is at most 500 (First Orion's ceiling).
	BatchSize int `yaml:"batch_size" json:"batch_size"`
	// Prune deletes First Orion numbers the CSV omits.
	Prune bool `yaml:"prune" json:"prune"`
}

// Safety holds the deletion threshold.
type Safety struct {
	MaxDelete MaxDelete `yaml:"max_delete" json:"max_delete"`
}

// Retry bounds retries of transient failures (internal/retry applies it).
type Retry struct {
	// MaxAttempts is how many times one request is tried in a row before
	// its operation pauses; a 429 is not a try.
	MaxAttempts int `yaml:"max_attempts" json:"max_attempts"`
	// Timeout is per request.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
	// MaxElapsed is how long one operation (or one listing) may keep being
	// retried or re-checked; what is still unresolved then leaves the run
	// resumable.
	MaxElapsed time.Duration `yaml:"max_elapsed" json:"max_elapsed"`
}

// Default returns the configuration used when no file is given: defaults
// only, with both vendors disabled.
func Default() *Config {
	return &Config{
		DefaultRegion:    DefaultRegion,
		Journal:          DefaultJournal,
		JournalRetention: Retention{KeepRuns: DefaultKeepRuns, OlderThan: DefaultOlderThan},
		Safety:           Safety{MaxDelete: MaxDelete{Share: 10, Percent: true}},
		Retry:            Retry{MaxAttempts: DefaultMaxAttempts, Timeout: DefaultTimeout, MaxElapsed: DefaultMaxElapsed},
	}
}

func defaultOneUC() *OneUC {
	return &OneUC{
		Rate:        Rate{RPS: DefaultRPS, Burst: DefaultBurst},
		Concurrency: DefaultConcurrency,
		BatchSize:   DefaultBatchSize,
	}
}

func defaultFirstOrion() *FirstOrion {
	return &FirstOrion{
		DefaultCallPurposeCode: DefaultCallPurposeCode,
		Rate:                   Rate{RPS: DefaultRPS, Burst: DefaultBurst},
		Concurrency:            DefaultConcurrency,
		BatchSize:              DefaultBatchSize,
	}
}

// Load reads the config file at path, expands ${VAR} from env, applies
// NUMSYNC_<SECTION>_<KEY> overrides from env and validates the result.
// env is os.Getenv in production and a map lookup in tests.
func Load(path string, env func(string) string) (*Config, error) {
	return load(path, env, true)
}

// LoadWithoutSecrets is Load for commands that never call a vendor
// (validate): every key is checked except that the API keys and secret key
// may be empty, so a CI job can validate a CSV without holding credentials.
func LoadWithoutSecrets(path string, env func(string) string) (*Config, error) {
	return load(path, env, false)
}

func load(path string, env func(string) string, needSecrets bool) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := parse(data, env, needSecrets)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	cfg.Path = path
	return cfg, nil
}

// ValidationError lists every problem found in a config, each naming its
// key ("oneuc.rate.rps: must be greater than 0").
type ValidationError struct {
	Problems []string
}

// Error lists the problems, one a line after a count when there are
// several.
func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0]
	}
	return fmt.Sprintf("%d problems:\n  %s", len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// Parse is Load without the file: it reads YAML bytes.
func Parse(data []byte, env func(string) string) (*Config, error) {
	return parse(data, env, true)
}

func parse(data []byte, env func(string) string, needSecrets bool) (*Config, error) {
	if env == nil {
		env = func(string) string { return "" }
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			root = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		} else {
			root = root.Content[0]
		}
	}
	if root.Kind == 0 {
		root = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		root = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: the config must be a mapping of keys (default_region, journal, oneuc, …)", root.Line)
	}
	if err := checkKeys(root, reflect.TypeOf(Config{}), ""); err != nil {
		return nil, err
	}
	unset := map[string]string{}
	var expanded []string
	expandNode(root, "", env, unset, &expanded)
	if err := applyOverrides(root, reflect.TypeOf(Config{}), "", env); err != nil {
		return nil, err
	}
	cfg, err := decodeAndValidate(root, unset, needSecrets)
	if err != nil {
		return nil, scrub(err, expanded)
	}
	return cfg, nil
}

// scrub removes from err's text every value that came from a ${VAR}: such
// a value is often a secret, and a type error would quote it ("cannot
// unmarshal !!str `s3cr3t` into int").
func scrub(err error, values []string) error {
	msg := err.Error()
	leaked := false
	// yaml quotes values in backticks, shortened to a prefix and "...".
	msg = quoted.ReplaceAllStringFunc(msg, func(q string) string {
		core := strings.TrimSuffix(q[1:len(q)-1], "...")
		for _, v := range values {
			if core != "" && strings.HasPrefix(v, core) {
				leaked = true
				return "`" + redacted + "`"
			}
		}
		return q
	})
	for _, v := range values {
		if v != "" && strings.Contains(msg, v) {
			msg = strings.ReplaceAll(msg, v, redacted)
			leaked = true
		}
	}
	if !leaked {
		return err
	}
	return errors.New(msg)
}

func decodeAndValidate(root *yaml.Node, unset map[string]string, needSecrets bool) (*Config, error) {

	cfg := Default()
	if mappingValue(root, "oneuc") != nil {
		cfg.OneUC = defaultOneUC()
	}
	if mappingValue(root, "firstorion") != nil {
		cfg.FirstOrion = defaultFirstOrion()
	}
	if err := root.Decode(cfg); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if err := cfg.validate(unset, needSecrets); err != nil {
		return nil, err
	}
	return cfg, nil
}

// OneUCEnabled reports whether the OneUC section is present.
func (c *Config) OneUCEnabled() bool { return c != nil && c.OneUC != nil }

// FirstOrionEnabled reports whether the First Orion section is present.
func (c *Config) FirstOrionEnabled() bool { return c != nil && c.FirstOrion != nil }

// Redacted returns the config as YAML with every secret replaced by
// "[redacted]": what `numsync` prints or logs when asked to show its
// configuration.
func (c *Config) Redacted() string {
	cp := *c
	cp.Journal = RedactJournal(c.Journal) // a postgres:// URL may carry a password
	out, err := yaml.Marshal(&cp)
	if err != nil {
		return fmt.Sprintf("config: %v", err)
	}
	return string(out)
}

// String is Redacted, so a config printed by accident leaks nothing.
func (c *Config) String() string { return c.Redacted() }
