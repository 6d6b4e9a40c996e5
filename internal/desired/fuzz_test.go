package desired

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/numsync/numsync/internal/sheet"
)

// FuzzDesiredRead feeds arbitrary bytes to the reader: it must never
// panic, every error must carry a line, and every row it accepts must hold
// an E.164 number on a line after the header.
func FuzzDesiredRead(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.csv"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
	}
	f.Add([]byte("phone_number,cnam\n\"+1212\n5554200\",\"x\"\"y\"\n"), true)
	f.Add([]byte("\xef\xbb\xbfPhone Number\r\n1.2E+10\r\n\r\n"), false)
	f.Add([]byte("phone_number,e911_region,e911_street_address,e911_locality,e911_postal_code\n+12125554200,tx,a,b,c\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, allowExtra bool) {
		var st, stCheck Stats
		opts := Options{Path: "f.csv", OneUCEnabled: true, FirstOrionEnabled: !allowExtra, AllowExtraColumns: allowExtra, Workers: 2, Stats: &st}
		d, _, err := Read(bytes.NewReader(data), opts)
		// Checking only must find exactly what a full read finds.
		check := opts
		check.CheckOnly, check.Stats = true, &stCheck
		_, _, errCheck := Read(bytes.NewReader(data), check)
		if fmt.Sprint(err) != fmt.Sprint(errCheck) || st != stCheck {
			t.Fatalf("CheckOnly disagrees: %v %+v\n---\n%v %+v", err, st, errCheck, stCheck)
		}
		if d != nil && st.Valid != len(d.Rows) {
			t.Fatalf("Stats.Valid %d, %d rows", st.Valid, len(d.Rows))
		}
		if errors.Is(err, sheet.ErrNotTable) {
			// Binary data is refused whole, in one line.
			return
		}
		if err != nil {
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("non-row error from an in-memory reader: %v", err)
			}
			if len(es) == 0 {
				t.Fatalf("empty Errors returned as an error")
			}
			for _, e := range es {
				if e.Line < 1 {
					t.Fatalf("error without a line: %#v", e)
				}
				if !strings.HasPrefix(e.Error(), "f.csv:") {
					t.Fatalf("error without the file: %v", e)
				}
			}
		}
		if d == nil {
			t.Fatalf("nil Desired")
		}
		for _, r := range d.Rows {
			if r.Line < 2 || !strings.HasPrefix(r.Number, "+") || len(r.Record) != len(d.Header) {
				t.Fatalf("bad row %+v (header %q)", r, d.Header)
			}
		}
	})
}
