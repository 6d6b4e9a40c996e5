package suggest

import "testing"

func TestClosest(t *testing.T) {
	known := []string{"phone_number", "cnam", "brand_program", "brand_channel"}
	tests := []struct {
		name, in, want string
		limit          int
	}{
		{"one typo", "phone_numbr", "phone_number", 3},
		{"transposed", "cnma", "cnam", 3},
		{"too far", "zip_code", "", 3},
		{"exact", "brand_program", "brand_program", 3},
		{"tie goes to the first", "brand_x", "", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Closest(tt.in, known, tt.limit); got != tt.want {
				t.Errorf("Closest(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"a", "", 1}, {"kitten", "sitting", 3}, {"rps", "rsp", 2}} {
		if got := Distance(c.a, c.b); got != c.d {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}
