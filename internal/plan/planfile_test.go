package plan

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlanJSONRoundTrip(t *testing.T) {
	d, inv := goldenInputs()
	p, err := Diff(d, inv, goldenOptions())
	if err != nil {
		t.Fatal(err)
	}
	var first bytes.Buffer
	if err := p.WriteJSON(&first); err != nil {
		t.Fatal(err)
	}
	back, err := ReadPlan(bytes.NewReader(first.Bytes()))
	if err != nil {
		t.Fatalf("ReadPlan: %v", err)
	}
	var second bytes.Buffer
	if err := back.WriteJSON(&second); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Error("a saved plan read back and saved again changed")
	}
	if back.Digest() != p.Digest() {
		t.Error("digest changed across a save")
	}
	if back.Refused() != p.Refused() || back.Changes() != p.Changes() {
		t.Error("Refused or Changes changed across a save")
	}
	if back.Records[2] == nil || back.Records[2][0] != "+12125554200" {
		t.Errorf("CSV records lost: %v", back.Records[2])
	}
	if _, ok := back.Op("firstorion/assign/+12125554200"); !ok {
		t.Error("Op does not find an operation of the plan")
	}
}

func TestReadPlanRejects(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("testdata", "golden", "plan.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		edit    func(string) string
		wantErr string
	}{
		{"not json", func(string) string { return "{" }, "plan: read"},
		{"other version", func(s string) string { return strings.Replace(s, `"version": 1`, `"version": 2`, 1) }, "version 2"},
		{"id does not match", func(s string) string {
			return strings.Replace(s, `"id":"oneuc/activate/+12125554200"`, `"id":"oneuc/activate/+19999999999"`, 1)
		}, "does not match"},
		{"action the vendor does not take", func(s string) string {
			return strings.Replace(s, `"id":"oneuc/activate/+12125554200","vendor":"oneuc","action":"activate"`,
				`"id":"oneuc/delete/+12125554200","vendor":"oneuc","action":"delete"`, 1)
		}, "does not accept"},
		{"dependency missing", func(s string) string {
			return strings.Replace(s, `"depends_on":["oneuc/activate/+12125554204"]`, `"depends_on":["oneuc/activate/+10000000000"]`, 1)
		}, "which the plan does not have"},
		{"first orion delete without id", func(s string) string {
			return strings.Replace(s, `"id":"id-4290"`, `"id":""`, 1)
		}, "no First Orion phone-number id"},
		{"operation of a vendor without summary", func(s string) string {
			return strings.Replace(s, `"oneuc": {`, `"oneuc-x": {`, 1)
		}, "unknown vendor"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			edited := tc.edit(string(golden))
			if edited == string(golden) && tc.name != "not json" {
				t.Fatal("the edit changed nothing: the golden file moved on")
			}
			_, err := ReadPlan(strings.NewReader(edited))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func FuzzReadPlan(f *testing.F) {
	if golden, err := os.ReadFile(filepath.Join("testdata", "golden", "plan.json")); err == nil {
		f.Add(golden)
	}
	f.Add([]byte(`{"version":1,"vendors":{},"ops":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ReadPlan(bytes.NewReader(b))
		if err != nil {
			return
		}
		// Whatever ReadPlan accepts renders in every format and survives a
		// save.
		for _, format := range Formats {
			if err := p.Render(&bytes.Buffer{}, format); err != nil {
				t.Fatalf("render %s: %v", format, err)
			}
		}
		var buf bytes.Buffer
		if err := p.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadPlan(&buf); err != nil {
			t.Fatalf("a plan ReadPlan accepted does not read back: %v", err)
		}
	})
}

func TestParseLimit(t *testing.T) {
	tests := []struct {
		in      string
		want    Limit
		of1000  int
		wantErr bool
	}{
		{in: "50", want: Limit{N: 50}, of1000: 50},
		{in: "0", want: Limit{N: 0}, of1000: 0},
		{in: "10%", want: Limit{N: 10, Percent: true}, of1000: 100},
		{in: " 2.5 % ", want: Limit{N: 2.5, Percent: true}, of1000: 25},
		{in: "100%", want: Limit{N: 100, Percent: true}, of1000: 1000},
		{in: "", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "101%", wantErr: true},
		{in: "ten", wantErr: true},
		{in: "%", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseLimit(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParseLimit(%q) = %v, want an error", tc.in, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseLimit(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
			if n := got.Of(1000); n != tc.of1000 {
				t.Errorf("Of(1000) = %d, want %d", n, tc.of1000)
			}
			if back, err := ParseLimit(got.String()); err != nil || back != got {
				t.Errorf("String() %q does not parse back", got.String())
			}
		})
	}
	if n := (Limit{N: 10, Percent: true}).Of(15); n != 1 {
		t.Errorf("10%% of 15 = %d, want 1 (rounded down)", n)
	}
}

func TestJudgeSavedPlan(t *testing.T) {
	d, inv := goldenInputs()
	p, err := Diff(d, inv, goldenOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !p.Refused() {
		t.Fatal("the golden plan should be refused (2 First Orion deletions, max_delete 1)")
	}
	tests := []struct {
		name        string
		maxDelete   map[VendorName]Limit
		force       bool
		wantRefused bool
		wantForced  bool
	}{
		{"same thresholds", goldenOptions().MaxDelete, false, true, false},
		{"forced", goldenOptions().MaxDelete, true, false, true},
		{"higher max-delete", map[VendorName]Limit{OneUC: {N: 50, Percent: true}, FirstOrion: {N: 2}}, false, false, false},
		{"default threshold", nil, false, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := p.WriteJSON(&buf); err != nil {
				t.Fatal(err)
			}
			saved, err := ReadPlan(&buf)
			if err != nil {
				t.Fatal(err)
			}
			saved.Judge(tc.maxDelete, tc.force)
			if saved.Refused() != tc.wantRefused || saved.Vendors[FirstOrion].Safety.Forced != tc.wantForced {
				t.Errorf("refused=%v forced=%v, want %v %v (verdict %+v)", saved.Refused(),
					saved.Vendors[FirstOrion].Safety.Forced, tc.wantRefused, tc.wantForced, saved.Vendors[FirstOrion].Safety)
			}
			if saved.Vendors[FirstOrion].Safety.HistoryCount != 6 {
				t.Error("Judge lost the history")
			}
		})
	}
}

func TestVerdictString(t *testing.T) {
	tests := []struct {
		name string
		v    Verdict
		want string
	}{
		{"ok", judge(FirstOrion, 100, false, 0, 3, Limit{N: 5}, false), "ok (3 of at most 5 deletions)"},
		{"over a count", judge(FirstOrion, 100, false, 0, 6, Limit{N: 5}, false),
			"REFUSED: 6 deletions exceed max_delete 5 (apply needs --force or a higher --max-delete)"},
		{"over a share", judge(OneUC, 100, false, 0, 11, Limit{N: 10, Percent: true}, false),
			"REFUSED: 11 releases exceed max_delete 10% (10 of the 100 numbers held) (apply needs --force or a higher --max-delete)"},
		{"collapsed", judge(OneUC, 10, true, 100, 0, Limit{N: 10, Percent: true}, false),
			"REFUSED: the listing collapsed: 10 numbers listed, 100 held at the end of the last successful run (apply needs --force)"},
		{"forced", judge(OneUC, 10, true, 100, 0, Limit{N: 10, Percent: true}, true),
			"FORCED: the listing collapsed: 10 numbers listed, 100 held at the end of the last successful run"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.v.String(); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
