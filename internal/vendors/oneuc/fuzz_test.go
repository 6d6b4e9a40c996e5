package oneuc

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/numsync/numsync/internal/plan"
)

var fuzzNumbers = []string{"+15550100001", "+15550100002", "+15550100003"}

// FuzzDecodeCollection feeds arbitrary answers to the collection decoder:
// it must never panic, and never call a number Done unless a 2xx answer
// lists it under data.success and not under data.error.
func FuzzDecodeCollection(f *testing.F) {
	for _, s := range []struct {
		status int
		body   string
	}{
		{200, `{"data":{"success":{"+15550100001":{"id":"+15550100001","state":"in_service","_read_only":{"modified":63628542222}}},"error":{}},"status":"success"}`},
		{200, `{"data":{"success":{"+15550100001":{}},"error":{"+15550100002":{"code":500,"error":"unspecified_fault","message":"missing_provider_url"}}}}`},
		{200, `{"data":{"success":{},"error":[]}}`},
		{400, `{"data":{"+15550100002":{"code":500,"error":"unspecified_fault","message":"fault by carrier","cause":"+15550100002"}},"error":"400","message":"client error","status":"error"}`},
		{503, `{"data":{},"error":"503","message":"service unavailable","status":"error"}`},
		{200, `{"data":{"success":{"+15550100001":{"state":"reserved"}}}}`},
		{200, `not json`},
	} {
		f.Add(s.status, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		env, err := decodeEnvelope(body)
		if err != nil {
			return
		}
		verdicts, _ := decodeCollection(status, env, fuzzNumbers)
		for n, v := range verdicts {
			if v.outcome < plan.Done || v.outcome > plan.Unknown {
				t.Fatalf("%s: invalid outcome %d", n, v.outcome)
			}
			if v.outcome != plan.Done {
				if v.err == nil {
					t.Fatalf("%s: %v without an error", n, v.outcome)
				}
				continue
			}
			if status < 200 || status > 299 {
				t.Fatalf("%s: Done from HTTP %d", n, status)
			}
			if !listedAsSuccess(body, n) {
				t.Fatalf("%s: Done but the answer does not list it as a success: %s", n, body)
			}
		}
	})
}

// listedAsSuccess is the fuzz oracle, written independently of the
// decoder: data.success has n and data.error does not. An answer whose
// "data" key appears in several spellings is not judged (which one a
// decoder takes is not the question here).
func listedAsSuccess(body []byte, n string) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return false
	}
	var data json.RawMessage
	spellings := 0
	for k, v := range top {
		if strings.EqualFold(k, "data") {
			data = v
			spellings++
		}
	}
	if spellings != 1 {
		return true
	}
	var d map[string]json.RawMessage
	if json.Unmarshal(data, &d) != nil {
		return false
	}
	var success, failures map[string]json.RawMessage
	if json.Unmarshal(d["success"], &success) != nil {
		return false
	}
	_ = json.Unmarshal(d["error"], &failures)
	_, ok := success[n]
	_, failed := failures[n]
	return ok && !failed
}

// FuzzDecodeAnswer feeds arbitrary answers to every other decoder the
// client uses (envelope, listing page, number, E911 refusal, validation,
// error classification): errors are fine, panics are not.
func FuzzDecodeAnswer(f *testing.F) {
	for _, s := range []string{
		`{"data":{"numbers":{"+14152338421":{"state":"in_service","updated":63628550806,"features":["local"]}}},"next_start_key":"+14155558921"}`,
		`{"data":{"_read_only":{"modified":63627848989,"state":"reserved","features":["local"]},"cnam":{"display_name":"X"},"e911":{"street_address":"1 A ST"}}}`,
		`{"data":{"multiple_choice":{"e911":{"cause":{"street_address":"Main"},"details":[{"street_address":"1 MAIN"},{}],"message":"more than one address found"}}},"error":"400","message":"multiple_choice"}`,
		`{"data":{"address":{"invalid":{"cause":{"street_address":"1 NOWHERE"},"message":"Location is not geocoded"}}},"message":"invalid data"}`,
		`{"data":{"cnam.display_name":{"maxLength":{"message":"too long"}}},"message":"invalid data","tokens":{"remaining":3}}`,
		`{"data":{"numbers":{}},"next_start_key":["a",1]}`,
	} {
		f.Add(400, []byte(s))
	}
	c, err := New(Config{URL: "http://127.0.0.1:1", AccountID: "a", APIKey: "k"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		env, err := decodeEnvelope(body)
		if err != nil {
			return
		}
		_, _, _, _ = decodeListPage(env)
		if doc, err := decodeNumber(env.Data); err == nil {
			st := doc.state("+15550100001")
			if !st.Detailed || st.CNAM == nil {
				t.Fatal("a read number must be Detailed with a CNAM pointer")
			}
		}
		_, _ = e911Reason(env.Data)
		_ = validationText(env.Data)
		ve := c.httpError(&answer{status: status, header: http.Header{}, env: env}, "+15550100001")
		if ve == nil || ve.Error() == "" {
			t.Fatal("httpError returned nothing")
		}
		c.observe(&answer{status: status, env: env, header: http.Header{}})
	})
}
