package config

import (
	"encoding/json"
	"fmt"
	"github.com/numsync/numsync/internal/plan"
	"log/slog"
	"strconv"

	"go.yaml.in/yaml/v3"
)

const redacted = "[redacted]"

// Secret is a credential read from the config (an API key or secret key).
// Every way of printing it — fmt, JSON, YAML, text encoders, slog — shows
// "[redacted]" (or "" when it is empty, so a printed config still tells
// whether it was set); only Reveal gives the value, for the one request that
// needs it.
type Secret string

// Reveal returns the secret's value. Call it only where the value goes on
// the wire.
func (s Secret) Reveal() string { return string(s) }

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString hides the value from %#v.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// Format hides the value from every fmt verb (%x and %q included).
func (s Secret) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprint(f, strconv.Quote(s.String()))
	case 'v':
		if f.Flag('#') {
			fmt.Fprint(f, s.GoString())
			return
		}
		fmt.Fprint(f, s.String())
	default:
		fmt.Fprint(f, s.String())
	}
}

// MarshalJSON hides the value.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText hides the value from encoders that use encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalYAML hides the value.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// LogValue hides the value from log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// UnmarshalYAML reads the secret as a plain string. It exists because
// MarshalText would otherwise make yaml.v3 expect UnmarshalText.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	var v string
	if err := n.Decode(&v); err != nil {
		return err
	}
	*s = Secret(v)
	return nil
}

// MaxDelete is the safety threshold (SPEC section 4): how many deletions or
// releases one vendor's plan may hold, as a count ("50") or a share of what
// the vendor holds ("10%").
type MaxDelete struct {
	// Count is the limit when Percent is false.
	Count int
	// Share is the percentage (0–100) when Percent is true.
	Share   float64
	Percent bool
}

// ParseMaxDelete reads "50" or "10%" (also "12.5%"). The rules are the
// planner's (plan.ParseLimit): the config only carries the value.
func ParseMaxDelete(s string) (MaxDelete, error) {
	l, err := plan.ParseLimit(s)
	if err != nil {
		return MaxDelete{}, err
	}
	if l.Percent {
		return MaxDelete{Share: l.N, Percent: true}, nil
	}
	return MaxDelete{Count: int(l.N)}, nil
}

// Plan returns the threshold in the planner's terms.
func (m MaxDelete) Plan() plan.Limit {
	if m.Percent {
		return plan.Limit{N: m.Share, Percent: true}
	}
	return plan.Limit{N: float64(m.Count)}
}

// Limit returns the largest number of deletions allowed at a vendor that
// holds held numbers (a share rounded down), as the planner judges it.
func (m MaxDelete) Limit(held int) int { return m.Plan().Of(held) }

// String gives the threshold as it is written in the config.
func (m MaxDelete) String() string { return m.Plan().String() }

// UnmarshalYAML reads "50", 50 or "10%".
func (m *MaxDelete) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: safety.max_delete: want a count (50) or a percentage (10%%)", n.Line)
	}
	v, err := ParseMaxDelete(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: safety.max_delete: %w", n.Line, err)
	}
	*m = v
	return nil
}

// MarshalYAML writes the threshold as it is written in the config.
func (m MaxDelete) MarshalYAML() (any, error) { return m.String(), nil }

// MarshalJSON writes the threshold as a string ("10%" or "50").
func (m MaxDelete) MarshalJSON() ([]byte, error) { return json.Marshal(m.String()) }
