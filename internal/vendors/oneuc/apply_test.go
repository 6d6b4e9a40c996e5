package oneuc

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/numsync/numsync/internal/plan"
)

// stub answers api_auth itself and every other request with the canned
// answer for its method and path suffix; unknown requests get a 418 so a
// test notices.
func stub(t *testing.T, answers map[string]struct {
	status int
	body   string
}) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/v2/api_auth" {
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"auth_token":"tok","data":{},"status":"success"}`)
			return
		}
		for k, a := range answers {
			method, suffix, _ := strings.Cut(k, " ")
			if r.Method == method && strings.HasSuffix(r.URL.EscapedPath(), suffix) {
				w.WriteHeader(a.status)
				_, _ = io.WriteString(w, a.body)
				return
			}
		}
		w.WriteHeader(http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{URL: srv.URL, AccountID: "acct", APIKey: "k", RPS: -1}, WithGetRetries(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func act(n string) plan.Op {
	return plan.Op{ID: "oneuc/activate/" + n, Vendor: plan.OneUC, Action: plan.Activate, Number: n,
		Before: plan.State{Status: "reserved"}}
}

type canned = map[string]struct {
	status int
	body   string
}

func TestActivationEdgeAnswers(t *testing.T) {
	const a, b = "+15550100001", "+15550100002"
	inService := `{"data":{"id":"+15550100002","state":"in_service","_read_only":{"modified":63900000000,"state":"in_service"}},"status":"success"}`
	tests := []struct {
		name    string
		answers canned
		ops     []plan.Op
		want    []plan.Outcome
	}{
		{"whole-request refusal fails only the number it names",
			canned{"PUT /collection/activate": {500, `{"data":{"cause":"+15550100001","code":500,"error":"unspecified_fault","message":"fault by carrier"},"error":"500","message":"unspecified_fault","status":"error"}`}},
			[]plan.Op{act(a), act(b)}, []plan.Outcome{plan.Failed, plan.Unknown}},
		{"whole-request refusal of a single number fails it",
			canned{"PUT /collection/activate": {500, `{"data":{"code":500,"error":"unspecified_fault","message":"missing_provider_url"},"error":"500","message":"unspecified_fault","status":"error"}`}},
			[]plan.Op{act(a)}, []plan.Outcome{plan.Failed}},
		{"plain 503 is unknown",
			canned{"PUT /collection/activate": {503, `{"data":{},"error":"503","message":"service unavailable","status":"error"}`}},
			[]plan.Op{act(a), act(b)}, []plan.Outcome{plan.Unknown, plan.Unknown}},
		{"a proxy's html 502 is unknown",
			canned{"PUT /collection/activate": {502, `<html>bad gateway</html>`}},
			[]plan.Op{act(a)}, []plan.Outcome{plan.Unknown}},
		{"success listing a state other than in_service is unknown",
			canned{"PUT /collection/activate": {200, `{"data":{"success":{"+15550100001":{"state":"reserved"}},"error":[]},"status":"success"}`},
				"GET /%2B15550100002": {200, inService}},
			[]plan.Op{act(a), act(b)}, []plan.Outcome{plan.Unknown, plan.Done}},
		{"empty answer is checked live",
			canned{"PUT /collection/activate": {200, `{"data":{"success":{}},"status":"success"}`},
				"GET /%2B15550100002": {200, inService},
				"GET /%2B15550100001": {404, `{"data":{},"error":"404","message":"bad_identifier","status":"error"}`}},
			[]plan.Op{act(a), act(b)}, []plan.Outcome{plan.Unknown, plan.Done}},
		{"402 quote fails",
			canned{"PUT /collection/activate": {402, `{"data":{},"error":"402","message":"accept charges","status":"error"}`}},
			[]plan.Op{act(a)}, []plan.Outcome{plan.Failed}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := stub(t, tc.answers)
			res := c.Apply(context.Background(), tc.ops)
			for i, r := range res {
				if r.Outcome != tc.want[i] {
					t.Fatalf("op %d: %v (%v), want %v", i, r.Outcome, r.Err, tc.want[i])
				}
				if r.Outcome != plan.Done && r.Err == nil {
					t.Fatalf("op %d: %v without an error", i, r.Outcome)
				}
				if r.Outcome == plan.Unknown && !plan.IsTransient(r.Err) {
					t.Fatalf("op %d: Unknown with a permanent error %v", i, r.Err)
				}
			}
		})
	}
}

func TestReadTreatsOnlyBadIdentifierAsAbsent(t *testing.T) {
	tests := []struct {
		name       string
		answer     canned
		wantAbsent bool
	}{
		{"kazoo bad_identifier", canned{"GET /%2B15550100001": {404, `{"data":{"message":"bad identifier"},"error":"404","message":"bad_identifier","status":"error"}`}}, true},
		{"404 from somewhere else", canned{"GET /%2B15550100001": {404, `404 page not found`}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := stub(t, tc.answer).Read(context.Background(), []string{"+15550100001"})
			if tc.wantAbsent {
				if err != nil || len(got) != 0 {
					t.Fatalf("Read = %v, %v; want absent", got, err)
				}
				return
			}
			var ve *plan.VendorError
			if err == nil || !errors.As(err, &ve) || ve.Status != 404 {
				t.Fatalf("Read = %v, %v; want an error", got, err)
			}
		})
	}
}
