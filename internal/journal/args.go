package journal

import (
	"net/url"
	"strings"
)

// Redacted replaces a value RedactArgs dropped.
const Redacted = "[redacted]"

// secretWords mark a flag or variable name whose value is a credential.
var secretWords = []string{"key", "secret", "token", "passw", "pwd", "credential", "auth"}

// looksSecret reports whether a flag or variable name names a credential.
func looksSecret(name string) bool {
	n := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// RedactArgs returns a copy of command-line arguments with the values of
// secret-looking flags replaced by Redacted: "--api-key=X" and "--api-key X"
// (the next argument, unless it is itself a flag), "FO_SECRET_KEY=X"
// assignments, and passwords inside URLs ("https://u:X@host"). numsync
// takes no secret on its command line, so this only catches mistakes; the
// names of the flags are kept, so a reader sees that something was given.
func RedactArgs(args []string) []string {
	if args == nil {
		return nil
	}
	out := make([]string, len(args))
	redactNext := false
	for i, a := range args {
		if redactNext {
			redactNext = false
			if !strings.HasPrefix(a, "-") {
				out[i] = Redacted
				continue
			}
		}
		switch {
		case strings.HasPrefix(a, "-") && a != "-" && a != "--":
			name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if looksSecret(name) {
				if hasValue {
					a = a[:strings.IndexByte(a, '=')+1] + Redacted
				} else {
					redactNext = true
				}
			}
		case strings.Contains(a, "="):
			name, _, _ := strings.Cut(a, "=")
			if looksSecret(name) && !strings.ContainsAny(name, "/:") {
				a = name + "=" + Redacted
			}
		}
		out[i] = redactURL(a)
	}
	return out
}

// redactURL hides the password of any URL in s ("--config=https://u:p@h").
func redactURL(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	// The URL starts after the last '=' before the scheme separator, if any.
	start := strings.LastIndexByte(s[:i], '=') + 1
	u, err := url.Parse(s[start:])
	if err != nil {
		// Unparseable: hide any user information rather than guess.
		rest := s[i+3:]
		at := strings.IndexByte(rest, '@')
		if at < 0 || strings.ContainsAny(rest[:at], "/?#") {
			return s
		}
		return s[:i+3] + Redacted + rest[at:]
	}
	if u.User == nil {
		return s
	}
	if _, has := u.User.Password(); !has {
		return s
	}
	return s[:start] + u.Redacted()
}
