package plan

import "testing"

func TestAddressEqual(t *testing.T) {
	base := Address{StreetAddress: "1 Main St", Locality: "New York", Region: "NY", PostalCode: "10001"}
	tests := []struct {
		name string
		a, b *Address
		want bool
	}{
		{"both nil", nil, nil, true},
		{"one nil", &base, nil, false},
		{"same", &base, &Address{StreetAddress: "1 Main St", Locality: "New York", Region: "NY", PostalCode: "10001"}, true},
		{"case and spaces", &base, &Address{StreetAddress: "  1  MAIN\tst ", Locality: "NEW YORK", Region: "ny", PostalCode: "10001"}, true},
		{"different street", &base, &Address{StreetAddress: "1 Main Ave", Locality: "New York", Region: "NY", PostalCode: "10001"}, false},
		{"words joined", &base, &Address{StreetAddress: "1 MainSt", Locality: "New York", Region: "NY", PostalCode: "10001"}, false},
		{"extended added", &base, &Address{StreetAddress: "1 Main St", ExtendedAddress: "Fl 2", Locality: "New York", Region: "NY", PostalCode: "10001"}, false},
		{"unicode case", &Address{Locality: "Zürich"}, &Address{Locality: "ZÜRICH"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := addressEqual(tc.a, tc.b); got != tc.want {
				t.Errorf("addressEqual = %v, want %v", got, tc.want)
			}
			if got := tc.a.Equal(tc.b); got != tc.want {
				t.Errorf("Address.Equal = %v, want %v (the test is wrong)", got, tc.want)
			}
		})
	}
}

// FuzzAddressEqual checks that the diff's allocation-free comparison
// agrees with Address.Equal.
func FuzzAddressEqual(f *testing.F) {
	f.Add("1 Main St", "  1 MAIN   ST")
	f.Add("Zürich", "ZÜRICH")
	f.Add("a\u00a0b", "A B")
	f.Add("\xff", "\xfe")
	f.Add("ǅ", "ǆ")
	f.Fuzz(func(t *testing.T, x, y string) {
		a, b := &Address{StreetAddress: x}, &Address{StreetAddress: y}
		if got, want := addressEqual(a, b), a.Equal(b); got != want {
			t.Fatalf("addressEqual(%q, %q) = %v, Address.Equal = %v", x, y, got, want)
		}
	})
}
