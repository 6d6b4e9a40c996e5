package oneuc

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/numsync/numsync/internal/plan"
)

// referenceStates is what encoding/json makes of a page's data, the way
// decode's general path reads it.
func referenceStates(data []byte) ([]plan.State, bool) {
	var page listPage
	if json.Unmarshal(data, &page) != nil || page.Numbers == nil {
		return nil, false
	}
	keys := make([]string, 0, len(page.Numbers))
	for k := range page.Numbers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []plan.State
	for _, k := range keys {
		e := page.Numbers[k]
		out = append(out, plan.State{Number: k, Status: e.State, Updated: gregorianToUnix(e.Updated), Features: e.Features})
	}
	return out, true
}

// checkScan is the scanner's contract: a page it takes, encoding/json
// takes too and reads the same.
func checkScan(t *testing.T, d *listDecoder, data []byte) bool {
	t.Helper()
	got, ok := d.scan(data)
	if !ok {
		return false
	}
	want, wok := referenceStates(data)
	if !wok {
		t.Fatalf("scanned a page encoding/json rejects:\n%s", data)
	}
	if len(got) != 0 || len(want) != 0 {
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("scanned %+v\nencoding/json %+v\nfrom %s", got, want, data)
		}
	}
	return true
}

var (
	entryFields = []string{
		`"state":"in_service"`, `"state":"reserved"`, `"updated":63963414956`, `"updated":6.3963414956e10`,
		`"features":[]`, `"features":["cnam","e911"]`, `"features":null`, `"assigned_to":"4b3c"`, `"created":63963414956`,
		`"state":null`, `"updated":null`, `"extra":{"a":["\u00e9",1,null]}`,
		// From here on encoding/json decides.
		`"State":"x"`, `"updated":"63963414956"`, `"features":[null]`, `"features":[1]`, `"state":"caf\u00e9"`, `"state":7`,
	}
	dataTails = []string{`"cascade_quantity":0`, `"other":[1,2]`, `"numbers":null`, `"Numbers":{}`, `"numbers":{}`}
)

func genData(r *rand.Rand) string {
	var parts []string
	if r.IntN(12) > 0 {
		var nb strings.Builder
		nb.WriteString(`"numbers":{`)
		for i := range r.IntN(6) {
			if i > 0 {
				nb.WriteString(",")
			}
			fmt.Fprintf(&nb, `"+1212555%04d":`, r.IntN(20)) // repeats happen
			if r.IntN(40) == 0 {
				nb.WriteString("null")
				continue
			}
			var fs []string
			for range r.IntN(5) {
				f := entryFields[r.IntN(12)]
				if r.IntN(25) == 0 {
					f = entryFields[12+r.IntN(len(entryFields)-12)]
				}
				fs = append(fs, f)
			}
			nb.WriteString("{" + strings.Join(fs, ",") + "}")
		}
		nb.WriteString("}")
		parts = append(parts, nb.String())
	}
	for range r.IntN(2) {
		t := dataTails[r.IntN(2)]
		if r.IntN(5) == 0 {
			t = dataTails[r.IntN(len(dataTails))]
		}
		parts = append(parts, t)
	}
	r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	out := "{" + strings.Join(parts, []string{",", " ,\n "}[r.IntN(2)]) + "}"
	switch r.IntN(20) {
	case 0:
		out = out[:r.IntN(len(out))]
	case 1:
		out += "]"
	case 2:
		i := r.IntN(len(out))
		out = out[:i] + string("{}[],:\"\\ 0n"[r.IntN(11)]) + out[i:]
	}
	return out
}

// TestScanMatchesEncodingJSON compares the listing scanner with
// encoding/json on 50,000 generated pages (repeated numbers, nulls, case
// variants, escapes, broken JSON), reusing one decoder as List does.
func TestScanMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	d := new(listDecoder)
	scanned := 0
	const n = 50_000
	for range n {
		if checkScan(t, d, []byte(genData(r))) {
			scanned++
		}
	}
	if scanned < n/4 || scanned > n*9/10 {
		t.Errorf("scanned %d of %d pages: the sample does not exercise both paths", scanned, n)
	}
	t.Logf("%d of %d pages scanned, all equal to encoding/json", scanned, n)
}

// FuzzListScan holds the scanner to encoding/json on any input.
func FuzzListScan(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		f.Add([]byte(genData(r)))
	}
	d := new(listDecoder)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkScan(t, d, data)
	})
}

// TestScanTakesLabPages: the lab's listing data is what gets scanned.
func TestScanTakesLabPages(t *testing.T) {
	data := `{"cascade_quantity":0,"numbers":{"+12122000001":{"assigned_to":"4b3c0000000000000000000000000001","created":63963414956,"features":[],"state":"in_service","updated":63963414956},"+12122000002":{"assigned_to":"4b3c0000000000000000000000000001","created":63963414956,"features":["cnam"],"state":"reserved","updated":63963414957}}}`
	if !checkScan(t, new(listDecoder), []byte(data)) {
		t.Errorf("lab page not scanned:\n%s", data)
	}
}
