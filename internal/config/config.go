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
	"github.com/numsync/numsync/internal/suggest"
	"io"
	"math"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
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

// mappingValue returns the value node of key in a mapping, or nil. A key
// present with a null value (`oneuc:`) counts as absent.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
				return nil
			}
			return v
		}
	}
	return nil
}

var (
	durationType  = reflect.TypeOf(time.Duration(0))
	maxDeleteType = reflect.TypeOf(MaxDelete{})
	secretType    = reflect.TypeOf(Secret(""))
	ageType       = reflect.TypeOf(Age(0))
)

// leaf reports whether t is read from one scalar.
func leaf(t reflect.Type) bool {
	return t == durationType || t == maxDeleteType || t == secretType || t.Kind() != reflect.Struct
}

// fields lists a struct type's YAML keys with their types.
func fields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		out[name] = ft
	}
	return out
}

// checkKeys rejects unknown keys, naming their full path and line: a typo
// must not silently leave a default in place.
func checkKeys(n *yaml.Node, t reflect.Type, path string) error {
	if leaf(t) {
		return nil
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: %s: want a mapping of keys", n.Line, strings.TrimPrefix(path, "."))
	}
	known := fields(t)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		p := strings.TrimPrefix(path+"."+k.Value, ".")
		ft, ok := known[k.Value]
		if !ok {
			msg := fmt.Sprintf("line %d: unknown key %s", k.Line, p)
			if s := closest(k.Value, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", strings.TrimPrefix(path+"."+s, "."))
			}
			return errors.New(msg)
		}
		if seen[k.Value] {
			return fmt.Errorf("line %d: key %s appears twice", k.Line, p)
		}
		seen[k.Value] = true
		if err := checkKeys(n.Content[i+1], ft, path+"."+k.Value); err != nil {
			return err
		}
	}
	return nil
}

func closest(name string, known map[string]reflect.Type) string {
	keys := make([]string, 0, len(known))
	for k := range known {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return suggest.Closest(name, keys, 3)
}

var quoted = regexp.MustCompile("`[^`]*`")

var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandNode replaces ${VAR} in every scalar value from env. A variable
// that is not set expands to "" and is remembered, so a required key left
// empty by it is reported with the variable's name.
func expandNode(n *yaml.Node, path string, env func(string) string, unset map[string]string, expanded *[]string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			expandNode(n.Content[i+1], strings.TrimPrefix(path+"."+n.Content[i].Value, "."), env, unset, expanded)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			expandNode(c, path, env, unset, expanded)
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return
		}
		n.Value = varRef.ReplaceAllStringFunc(n.Value, func(m string) string {
			name := m[2 : len(m)-1]
			v := env(name)
			if v == "" {
				unset[path] = name
			}
			*expanded = append(*expanded, v)
			return v
		})
		// The expanded text is typed by what it now says ("10" is a
		// number), as if it had been written in the file.
		n.Tag = ""
		n.Style = 0
	}
}

// EnvName returns the environment override of a key path such as
// "oneuc.rate.rps": NUMSYNC_ONEUC_RATE_RPS.
func EnvName(path string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

// applyOverrides sets every key whose NUMSYNC_ variable is set. Overrides
// fill keys of sections the file has; they never create a vendor section,
// so a stray NUMSYNC_ONEUC_API_KEY in a shell cannot enable a vendor the
// file leaves out.
func applyOverrides(n *yaml.Node, t reflect.Type, path string, env func(string) string) error {
	known := fields(t)
	keys := make([]string, 0, len(known))
	for k := range known {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ft := known[k]
		p := strings.TrimPrefix(path+"."+k, ".")
		if leaf(ft) {
			v := env(EnvName(p))
			if v == "" {
				continue
			}
			if err := checkScalar(ft, v); err != nil {
				return fmt.Errorf("%s (%s): %w", EnvName(p), p, err)
			}
			setScalar(n, k, v)
			continue
		}
		child := mappingValue(n, k)
		if child == nil {
			if k == "oneuc" || k == "firstorion" {
				continue
			}
			child = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			if !hasKey(n, k) {
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, child)
			} else {
				setValue(n, k, child)
			}
		}
		if err := applyOverrides(child, ft, p, env); err != nil {
			return err
		}
	}
	return nil
}

func hasKey(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

func setValue(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
}

func setScalar(m *yaml.Node, key, value string) {
	setValue(m, key, &yaml.Node{Kind: yaml.ScalarNode, Value: value})
}

// checkScalar makes an override's type error name the variable instead of
// a YAML line that does not exist.
func checkScalar(t reflect.Type, v string) error {
	switch {
	case t == durationType:
		if _, err := time.ParseDuration(v); err != nil {
			return fmt.Errorf("%q is not a duration (e.g. 30s)", v)
		}
	case t == maxDeleteType:
		if _, err := ParseMaxDelete(v); err != nil {
			return err
		}
	case t == ageType:
		if _, err := ParseAge(v); err != nil {
			return err
		}
	case t.Kind() == reflect.Int:
		if _, err := strconv.Atoi(v); err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
	case t.Kind() == reflect.Float64:
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
	case t.Kind() == reflect.Bool:
		if _, err := strconv.ParseBool(v); err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
	}
	return nil
}

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
