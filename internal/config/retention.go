package config

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults of journal_retention (SPEC section 2).
const (
	DefaultKeepRuns  = 200
	DefaultOlderThan = Age(90 * 24 * time.Hour)
)

// Retention says which finished runs `numsync journal prune`, and every
// apply after it finishes, removes from the journal. A run is removed when
// either limit says so; 0 turns a limit off. A run that is unfinished (open
// or resumable) is never removed, whatever its age or rank.
type Retention struct {
	// KeepRuns keeps the newest KeepRuns runs; older ones are removed.
	KeepRuns int `yaml:"keep_runs" json:"keep_runs"`
	// OlderThan removes runs that started longer ago than this.
	OlderThan Age `yaml:"older_than" json:"older_than"`
}

// Age is a duration that may also be written in days or weeks ("90d",
// "2w"), the units a retention is thought of in; Go durations ("36h") work
// too.
type Age time.Duration

// ParseAge reads an Age: a whole number of days ("90d") or weeks ("2w"),
// or a Go duration ("36h", "90m"). It must not be negative.
func ParseAge(s string) (Age, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	var d time.Duration
	if unit := s[len(s)-1]; unit == 'd' || unit == 'w' {
		n, err := strconv.Atoi(s[:len(s)-1])
		if err != nil {
			return 0, fmt.Errorf("%q is not an age (e.g. 90d, 2w, 36h)", s)
		}
		day := 24 * time.Hour
		if unit == 'w' {
			day *= 7
		}
		d = time.Duration(n) * day
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not an age (e.g. 90d, 2w, 36h)", s)
		}
	}
	if d < 0 {
		return 0, fmt.Errorf("%q: an age cannot be negative", s)
	}
	return Age(d), nil
}

// String writes the age in days when it is a whole number of them.
func (a Age) String() string {
	d := time.Duration(a)
	if d != 0 && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}

// UnmarshalYAML reads "90d", "2w" or a Go duration.
func (a *Age) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := ParseAge(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*a = v
	return nil
}

// MarshalYAML writes the age as String does.
func (a Age) MarshalYAML() (any, error) { return a.String(), nil }

// MarshalText writes the age as String does (JSON, logs).
func (a Age) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

func (r Retention) validate(bad func(path, format string, args ...any)) {
	if r.KeepRuns < 0 {
		bad("journal_retention.keep_runs", "must be 0 (no limit) or more, got %d", r.KeepRuns)
	}
	if r.OlderThan < 0 {
		bad("journal_retention.older_than", "must not be negative, got %s", r.OlderThan)
	}
}

// RedactJournal hides the password of a postgres:// journal URL, for every
// place a config is printed or logged. A file path is returned as it is.
func RedactJournal(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "[redacted journal URL]"
	}
	return u.Redacted()
}
