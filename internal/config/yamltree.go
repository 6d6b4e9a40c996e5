package config

// The YAML tree before it is decoded: unknown keys, ${VAR} expansion and
// the NUMSYNC_<PATH> environment overrides.

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/numsync/numsync/internal/suggest"
	"go.yaml.in/yaml/v3"
)

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
