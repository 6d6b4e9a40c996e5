package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// fingerprintOfMap is Fingerprint as it was computed over a map, before
// Records: saved plans hold it, so the value must not change.
func fingerprintOfMap(records map[string]State) string {
	keys := make([]string, 0, len(records))
	for k := range records {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := sha256.New()
	var buf []byte
	for _, k := range keys {
		buf = appendStateKey(buf[:0], k, records[k])
		_, _ = h.Write(buf)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// randomState makes listing records of both vendors, most of which pack
// and some of which must not: details, unusual numbers and ids, nil and
// empty features, every AuthCalls.
func randomState(r *rand.Rand) State {
	var s State
	switch r.IntN(10) {
	case 0:
		s.Number = fmt.Sprintf("+44%010d", r.IntN(1e9))
	case 9: // numbers that are prefixes of others, to test the sort
		s.Number = fmt.Sprintf("+1212555%d", r.IntN(200))
	case 1:
		s.Number = []string{"+0123", "12125550100", "+1 212 555 0100", "+", "", "+1234567890123456", "+123456789012345"}[r.IntN(7)]
	default:
		s.Number = fmt.Sprintf("+1212555%04d", r.IntN(3000))
	}
	s.Status = []string{"", "in_service", "reserved", "APPROVED", "PENDING"}[r.IntN(5)]
	if r.IntN(2) == 0 { // OneUC
		s.Updated = r.Int64N(1 << 40)
		switch r.IntN(4) {
		case 0:
			s.Features = nil
		case 1:
			s.Features = []string{}
		case 2:
			s.Features = []string{"cnam", "e911"}
		default:
			s.Features = []string{"local", fmt.Sprint("f", r.IntN(3))}
		}
		if r.IntN(5) == 0 {
			s.Detailed = true
			c := fmt.Sprint("NAME ", r.IntN(9))
			s.CNAM = &c
			if r.IntN(2) == 0 {
				s.E911 = &Address{StreetAddress: "1 Main St", Locality: "Dallas", Region: "TX", PostalCode: "75201"}
			}
		}
	} else { // First Orion
		switch r.IntN(6) {
		case 0:
			s.ID = "ABCDEF01-2345-6789-abcd-ef0123456789" // upper case: kept as is
		case 1:
			s.ID = fmt.Sprint("id-", r.IntN(100))
		default:
			s.ID = fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<16), r.IntN(1<<16), r.Uint64N(1<<48))
		}
		s.BusinessUnit = []string{"", "bu-east", "bu-west"}[r.IntN(3)]
		s.Program = []string{"", "p-1", "p-2"}[r.IntN(3)]
		s.Channel = []string{"", ChannelCallerName, ChannelBlocking}[r.IntN(3)]
		s.CallPurpose = []string{"", "CS", "MK"}[r.IntN(3)]
		if r.IntN(3) > 0 {
			b := r.IntN(2) == 0
			s.AuthCalls = &b
		}
	}
	return s
}

// TestRecordsAsMap checks Records against a map of States, through
// replacements that pack, unpack and pack again, and the fingerprint
// against its value over the map.
func TestRecordsAsMap(t *testing.T) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 11))
		recs := NewRecords()
		want := map[string]State{}
		for range 5000 {
			s := randomState(r)
			recs.Set(s)
			want[s.Number] = s
		}
		if recs.Len() != len(want) {
			t.Fatalf("seed %d: Len %d, want %d", seed, recs.Len(), len(want))
		}
		got := map[string]State{}
		for n, s := range recs.All() {
			if _, dup := got[n]; dup {
				t.Fatalf("seed %d: All yields %s twice", seed, n)
			}
			got[n] = s
		}
		if !reflect.DeepEqual(got, want) {
			for n, w := range want {
				if g := got[n]; !reflect.DeepEqual(g, w) {
					t.Fatalf("seed %d: All gives %s as %+v, want %+v", seed, n, g, w)
				}
			}
			t.Fatalf("seed %d: All differs", seed)
		}
		for n, w := range want {
			if g, ok := recs.Get(n); !ok || !reflect.DeepEqual(g, w) {
				t.Fatalf("seed %d: Get(%q) = %+v %v, want %+v", seed, n, g, ok, w)
			}
		}
		for _, n := range []string{"+12125559999", "+999", "nope", "+12125550001"} {
			_, in := want[n]
			if _, ok := recs.Get(n); ok != in {
				t.Fatalf("seed %d: Get(%q) found=%v, set=%v", seed, n, ok, in)
			}
		}
		if f, w := Fingerprint(recs), fingerprintOfMap(want); f != w {
			t.Fatalf("seed %d: fingerprint %s, over the map %s", seed, f, w)
		}
		if recs.n < recs.Len()/2 {
			t.Errorf("seed %d: only %d of %d records packed", seed, recs.n, recs.Len())
		}
	}
	var nilRecs *Records
	if _, ok := nilRecs.Get("+12125550100"); ok || nilRecs.Len() != 0 {
		t.Error("nil Records is not empty")
	}
	for range nilRecs.All() {
		t.Error("nil Records yields")
	}
}

func TestUUIDRoundTrip(t *testing.T) {
	for _, s := range []string{"2f1b7c82-11ad-4280-bb5c-8c447fa07266", "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"} {
		var id [16]byte
		if !parseUUID(s, &id) || formatUUID(&id) != s {
			t.Errorf("%s does not round-trip", s)
		}
	}
	for _, s := range []string{"2F1B7C82-11AD-4280-BB5C-8C447FA07266", "2f1b7c82-11ad-4280-bb5c-8c447fa0726", "2f1b7c82x11ad-4280-bb5c-8c447fa07266", "2f1b7c82-11ad-4280-bb5c-8c447fa0726g", ""} {
		var id [16]byte
		if parseUUID(s, &id) {
			t.Errorf("%q parsed as a canonical UUID", s)
		}
	}
}
