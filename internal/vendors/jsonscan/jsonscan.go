// Package jsonscan reads JSON of one known shape straight from a byte
// slice, for the vendors' listing decoders: a page of a thousand numbers
// decoded by reflection costs more than the vendor spends writing it.
//
// It is deliberately partial. Every method reports false on input it does
// not handle, and that includes all invalid JSON, strings with escapes or
// bytes outside printable ASCII, and nesting deeper than maxDepth. A
// decoder built on it then decodes the same bytes again with
// encoding/json, so results and errors on unusual input stay exactly
// encoding/json's; the scanner only has to be right on what it accepts.
package jsonscan

// Scanner reads one JSON text. The zero value is not usable; see New.
type Scanner struct {
	b []byte
	i int
}

// maxDepth bounds the nesting Skip follows (encoding/json allows 10000;
// deeper input here goes to it).
const maxDepth = 512

// New returns a scanner at the start of b.
func New(b []byte) *Scanner { return &Scanner{b: b} }

func (s *Scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// Peek returns the next byte after white space, 0 at the end.
func (s *Scanner) Peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// Consume skips white space and c, and reports whether c was there.
func (s *Scanner) Consume(c byte) bool {
	if s.Peek() == c && c != 0 {
		s.i++
		return true
	}
	return false
}

// End reports whether only white space remains.
func (s *Scanner) End() bool {
	s.ws()
	return s.i == len(s.b)
}

// Str reads a string made of printable ASCII without escapes and returns
// its content, which refers to the input.
func (s *Scanner) Str() ([]byte, bool) {
	if !s.Consume('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c == '\\' || c < 0x20 || c > 0x7e:
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// RawStr reads a string with any escapes JSON allows and returns it
// quoted, as it is in the input, for encoding/json to unquote.
func (s *Scanner) RawStr() ([]byte, bool) {
	if s.Peek() != '"' {
		return nil, false
	}
	start := s.i
	if !s.skipString() {
		return nil, false
	}
	return s.b[start:s.i], true
}

// Lit reads the literal word (true, false or null).
func (s *Scanner) Lit(word string) bool {
	s.ws()
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return false
	}
	s.i += len(word)
	// A literal must end there (encoding/json rejects "nullx").
	if s.i < len(s.b) && isWordByte(s.b[s.i]) {
		return false
	}
	return true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' || c == '+'
}

// Bool reads true or false; null reports ok with set false.
func (s *Scanner) Bool() (v, set, ok bool) {
	switch s.Peek() {
	case 't':
		return true, true, s.Lit("true")
	case 'f':
		return false, true, s.Lit("false")
	case 'n':
		return false, false, s.Lit("null")
	}
	return false, false, false
}

// Num reads a number in JSON's grammar and returns its text.
func (s *Scanner) Num() ([]byte, bool) {
	s.ws()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		s.digits()
	default:
		return nil, false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if !s.digits() {
			return nil, false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if !s.digits() {
			return nil, false
		}
	}
	if s.i < len(s.b) && isWordByte(s.b[s.i]) {
		return nil, false
	}
	return s.b[start:s.i], true
}

func (s *Scanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

// Object reads an object, calling field with each key (its content, as
// Str gives it); field must read the value (or Skip it).
func (s *Scanner) Object(field func(key []byte) bool) bool {
	if !s.Consume('{') {
		return false
	}
	if s.Consume('}') {
		return true
	}
	for {
		key, ok := s.Str()
		if !ok || !s.Consume(':') || !field(key) {
			return false
		}
		if s.Consume(',') {
			continue
		}
		return s.Consume('}')
	}
}

// Array reads an array, calling elem for each element, which must read
// it.
func (s *Scanner) Array(elem func() bool) bool {
	if !s.Consume('[') {
		return false
	}
	if s.Consume(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if s.Consume(',') {
			continue
		}
		return s.Consume(']')
	}
}

// Skip reads any one value, checking it is valid JSON. Unlike Str, it
// takes strings with escapes and any bytes encoding/json takes in them.
func (s *Scanner) Skip() bool { return s.skip(0) }

func (s *Scanner) skip(depth int) bool {
	if depth > maxDepth {
		return false
	}
	switch c := s.Peek(); {
	case c == '{':
		s.i++
		if s.Consume('}') {
			return true
		}
		for {
			if s.Peek() != '"' || !s.skipString() || !s.Consume(':') || !s.skip(depth+1) {
				return false
			}
			if s.Consume(',') {
				continue
			}
			return s.Consume('}')
		}
	case c == '[':
		s.i++
		if s.Consume(']') {
			return true
		}
		for {
			if !s.skip(depth + 1) {
				return false
			}
			if s.Consume(',') {
				continue
			}
			return s.Consume(']')
		}
	case c == '"':
		return s.skipString()
	case c == 't':
		return s.Lit("true")
	case c == 'f':
		return s.Lit("false")
	case c == 'n':
		return s.Lit("null")
	case c == '-' || c >= '0' && c <= '9':
		_, ok := s.Num()
		return ok
	}
	return false
}

// skipString reads a string with any escapes JSON allows.
func (s *Scanner) skipString() bool {
	s.i++ // the opening quote
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			s.i++
			if s.i >= len(s.b) {
				return false
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if len(s.b)-s.i < 5 {
					return false
				}
				for _, h := range s.b[s.i+1 : s.i+5] {
					if (h < '0' || h > '9') && (h < 'a' || h > 'f') && (h < 'A' || h > 'F') {
						return false
					}
				}
				s.i += 5
			default:
				return false
			}
		default:
			s.i++
		}
	}
	return false
}

// CaseVariant reports whether key differs from one of names only by ASCII
// case: encoding/json would fill that field, so a decoder matching names
// exactly must give up rather than skip it.
func CaseVariant(key []byte, names ...string) bool {
	for _, n := range names {
		if len(n) == len(key) && equalFold(key, n) && string(key) != n {
			return true
		}
	}
	return false
}

func equalFold(a []byte, b string) bool {
	for i := range a {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
