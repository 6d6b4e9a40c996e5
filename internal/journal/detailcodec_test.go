package journal

import (
	"reflect"
	"testing"

	"github.com/numsync/numsync/internal/plan"
)

func TestDetailCodecRejects(t *testing.T) {
	good := encodeDetail(nil, &plan.State{Status: "in_service", CNAM: ptr("ACME")})
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"one byte", []byte{detailVersion}},
		{"unknown version", append([]byte{9}, good[1:]...)},
		{"truncated", good[:len(good)-1]},
		{"trailing bytes", append(append([]byte(nil), good...), 'x')},
		{"length past the end", []byte{detailVersion, 0, 200, 'a'}},
		{"overlong varint", []byte{detailVersion, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s plan.State
			if err := newDetailDecoder().decode(tc.b, &s); err == nil {
				t.Errorf("decode(%q) succeeded, want an error", tc.b)
			}
		})
	}
}

// FuzzDetailCodec checks that any state survives encoding, and that no
// stored bytes, however damaged, make the decoder panic.
func FuzzDetailCodec(f *testing.F) {
	f.Add("in_service", "cnam,e911", "ACME", "1 MAIN ST", "NY", "pn-1", byte(0xff))
	f.Add("", "", "", "", "", "", byte(0))
	f.Add("APPROVED", ",,", "x\x00y", "", "", "", byte(detailedFlag|authSetFlag))
	f.Fuzz(func(t *testing.T, status, features, cnam, street, region, id string, flags byte) {
		s := plan.State{Status: status, Detailed: flags&detailedFlag != 0, ID: id}
		if features != "" {
			s.Features = splitFeatures(features)
		}
		if flags&cnamFlag != 0 {
			s.CNAM = &cnam
		}
		if flags&e911Flag != 0 {
			s.E911 = &plan.Address{StreetAddress: street, Region: region}
		}
		if flags&authSetFlag != 0 {
			v := flags&authTrueFlag != 0
			s.AuthCalls = &v
		}
		b := encodeDetail(nil, &s)
		var got plan.State
		if err := newDetailDecoder().decode(b, &got); err != nil {
			t.Fatalf("decode of an encoded state: %v", err)
		}
		if !reflect.DeepEqual(got, s) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, s)
		}

		// The same bytes, damaged, must give an error or a state that
		// itself round-trips; never a panic.
		raw := []byte(status + cnam + street)
		var junk plan.State
		if err := newDetailDecoder().decode(append([]byte{detailVersion, flags}, raw...), &junk); err == nil {
			var again plan.State
			if err := newDetailDecoder().decode(encodeDetail(nil, &junk), &again); err != nil || !reflect.DeepEqual(again, junk) {
				t.Fatalf("decoded junk does not round-trip: %+v vs %+v (%v)", again, junk, err)
			}
		}
	})
}

// splitFeatures mirrors how the codec stores features: joined by commas,
// so a feature name cannot itself hold one.
func splitFeatures(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
