package firstorion

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// checkScanned is the scanner's contract: when it takes a page, encoding/json
// (decodePageInto's general path) takes it too and decodes exactly the same.
func checkScanned(t *testing.T, data []byte) bool {
	t.Helper()
	got, info, ok := scanNumbersPage(data, nil)
	if !ok {
		return false
	}
	var env pageEnvelope[wireNumber]
	if err := json.Unmarshal(data, &env); err != nil || !env.Body.set {
		t.Fatalf("scanned a page encoding/json rejects (%v, body set %v):\n%s", err, env.Body.set, data)
	}
	want := env.Body.items
	if want == nil {
		want = []wireNumber{}
	}
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(info, env.Info) {
		t.Fatalf("scanned %+v %+v\nencoding/json %+v %+v\nfrom %s", got, info, want, env.Info, data)
	}
	return true
}

// pageParts are the pieces genPage builds pages from: the lab's and the
// contract's shapes, and what a vendor might also send.
var (
	numberFields = []string{
		`"phoneNumberId":"%s"`, `"phoneNumber":"+1212555%04d"`, `"status":"APPROVED"`, `"status":"PENDING"`,
		`"callPurposeCode":"CS"`, `"authenticatedCalls":true`, `"authenticatedCalls":false`, `"authenticatedCalls":null`,
		`"relationships":{"businessId":"b1","businessUnitId":"bu-east","programId":"p-east-1","callerName":true}`,
		`"relationships":{"businessUnitId":"bu-west","blocking":true,"callerImage":false}`,
		`"relationships":null`, `"relationships":{"programId":null,"callerName":null}`,
		`"lastStatusChangeTimestamp":"1796195756"`, `"submittedTimestamp":1796195756.5e-3`,
		`"extra":[1,{"a":"b\"c\u00e9"},null,true,-0.5E+2]`, `"Status":"APPROVED"`, `"phonenumber":"+12125550000"`,
		`"status":"caf\u00e9"`, `"status":"café"`, `"status":null`, `"status":7`, `"authenticatedCalls":"yes"`,
		`"phoneNumber":"+1 212"`, `"relationships":{"BusinessUnitId":"x"}`, `"relationships":[]`,
	}
	pageTails = []string{
		`"error":null`, `"info":{"nextPage":"/v1/x?pageHash=abc"}`, `"info":null`, `"info":{}`,
		`"info":{"nextPage":null,"other":1}`, `"info":{"nextPage":"/v1/x?limit=1000\u0026pageHash=h\ud83d"}`, `"error":{"code":1,"description":"x"}`, `"Info":{"nextPage":"h"}`,
		`"body":[]`, `"body":null`, `"meta":{"total":3}`,
	}
)

func genPage(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString("{")
	parts := []string{}
	if r.IntN(10) > 0 {
		var body strings.Builder
		body.WriteString(`"body":[`)
		for i := range r.IntN(6) {
			if i > 0 {
				body.WriteString(",")
			}
			if r.IntN(30) == 0 {
				body.WriteString("null")
				continue
			}
			body.WriteString("{")
			// Mostly the common fields, with a few odd ones mixed in.
			fields := []string{fmt.Sprintf(numberFields[0], fmt.Sprintf("%08x-0000-4000-8000-%012x", r.Uint32(), r.Uint64N(1<<48))), fmt.Sprintf(numberFields[1], r.IntN(10000))}
			for range r.IntN(6) {
				// Fields from "Status" on make encoding/json decide.
				f := numberFields[2+r.IntN(13)]
				if r.IntN(25) == 0 {
					f = numberFields[15+r.IntN(len(numberFields)-15)]
				}
				fields = append(fields, f)
			}
			r.Shuffle(len(fields), func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
			body.WriteString(strings.Join(fields, ","))
			body.WriteString("}")
		}
		body.WriteString("]")
		parts = append(parts, body.String())
	}
	for range r.IntN(3) {
		t := pageTails[r.IntN(6)]
		if r.IntN(6) == 0 {
			t = pageTails[r.IntN(len(pageTails))]
		}
		parts = append(parts, t)
	}
	r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	sep := []string{",", " , ", ",\n\t"}[r.IntN(3)]
	b.WriteString(strings.Join(parts, sep))
	b.WriteString("}")
	out := b.String()
	switch r.IntN(20) {
	case 0:
		out = out[:r.IntN(len(out))] // truncated
	case 1:
		out += " x"
	case 2:
		out = "  \n" + out + "\n"
	case 3:
		i := r.IntN(len(out))
		out = out[:i] + string("{}[],:\"\\ 0n"[r.IntN(11)]) + out[i:]
	}
	return out
}

// TestScanNumbersPageMatchesEncodingJSON compares the hand scanner with
// encoding/json on 50,000 generated pages: the lab's shape, odd fields,
// nulls, case variants, escapes, repeated keys, broken JSON.
func TestScanNumbersPageMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	scanned := 0
	const n = 50_000
	for range n {
		if checkScanned(t, []byte(genPage(r))) {
			scanned++
		}
	}
	if scanned < n/4 || scanned > n*9/10 {
		t.Errorf("scanned %d of %d pages: the sample does not exercise both paths", scanned, n)
	}
	t.Logf("%d of %d pages scanned, all equal to encoding/json", scanned, n)
}

// FuzzScanNumbersPage holds the scanner to encoding/json on any input.
func FuzzScanNumbersPage(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		f.Add([]byte(genPage(r)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkScanned(t, data)
	})
}

// TestScanTakesLabPages: the pages the lab (and the contract) send are
// the ones scanned; a scanner that gave them all to encoding/json would
// pass the comparisons and lose the speed.
func TestScanTakesLabPages(t *testing.T) {
	item := map[string]any{
		"authenticatedCalls": false, "callPurposeCode": "CS", "lastStatusChangeTimestamp": "1796195756",
		"phoneNumber": "+12122000001", "phoneNumberId": "2f1b7c82-11ad-4280-bb5c-8c447fa07266",
		"relationships": map[string]any{"businessId": "719d140e-fd6c-4d59-9241-3dee71b38320", "businessUnitId": "bu-east", "callerName": true, "programId": "p-east-1"},
		"status":        "APPROVED", "submittedTimestamp": "1796195756",
	}
	for _, env := range []map[string]any{
		{"body": []any{item, item}, "error": nil, "info": map[string]any{"nextPage": "/exchange/v1/businesses/b/phone-numbers?limit=1000&pageHash=abc"}},
		{"body": []any{item}, "error": nil},
	} {
		var b strings.Builder
		if err := json.NewEncoder(&b).Encode(env); err != nil { // as the lab writes pages
			t.Fatal(err)
		}
		if !checkScanned(t, []byte(b.String())) {
			t.Errorf("lab page not scanned:\n%s", b.String())
		}
	}
}
