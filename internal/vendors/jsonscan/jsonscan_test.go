package jsonscan

import (
	"encoding/json"
	"testing"
)

var samples = []string{
	`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `-1.5e+3`, `1E2`, `"a\"b\\c\/\b\f\n\r\t\u00e9"`, `"caf\u00E9 é"`,
	`{"a":[1,{"b":null}],"c":"d"}`, ` {"a" : 1 } `, `[1,2,[3,[4]]]`,
	// Invalid.
	`{`, `}`, `[1,]`, `{"a":1,}`, `{"a"}`, `{a:1}`, `01`, `1.`, `.5`, `-`, `1e`, `+1`, `nul`, `nulll`, `truex`,
	`"\x"`, `"\u12"`, "\"a\x01\"", `"abc`, `[1 2]`, `{"a":1 "b":2}`, `1 2`, `tru`, `[`, `""x`, `nan`,
}

// TestSkipAgreesWithValid: whatever Skip accepts as a whole text,
// encoding/json accepts too (the converse need not hold: deep nesting).
func TestSkipAgreesWithValid(t *testing.T) {
	for _, in := range samples {
		s := New([]byte(in))
		got := s.Skip() && s.End()
		if got != json.Valid([]byte(in)) {
			t.Errorf("Skip(%q) = %v, json.Valid = %v", in, got, !got)
		}
	}
}

// FuzzSkip holds Skip, Str and Num to encoding/json's grammar.
func FuzzSkip(f *testing.F) {
	for _, in := range samples {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := New(data)
		if s.Skip() && s.End() && !json.Valid(data) {
			t.Fatalf("Skip accepts invalid JSON %q", data)
		}
		s = New(data)
		if b, ok := s.Str(); ok && s.End() {
			var v string
			if err := json.Unmarshal(data, &v); err != nil || v != string(b) {
				t.Fatalf("Str(%q) = %q, encoding/json %q %v", data, b, v, err)
			}
		}
		s = New(data)
		if b, ok := s.Num(); ok && s.End() {
			var n json.Number
			if err := json.Unmarshal(data, &n); err != nil || string(n) != string(b) {
				t.Fatalf("Num(%q) = %q, encoding/json %q %v", data, b, n, err)
			}
		}
	})
}
