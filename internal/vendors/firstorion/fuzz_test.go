package firstorion

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/numsync/numsync/internal/plan"
)

// FuzzDecodeAnswers feeds arbitrary bytes to every decoder of vendor
// answers, and to the code that maps write and delete answers back onto
// operations: it may fail, never panic, and never report Done for a number
// the answer does not show done.
func FuzzDecodeAnswers(f *testing.F) {
	seeds := []string{
		`{"body":{"phoneNumbers":[{"phoneNumberId":"id-1","phoneNumber":"+12125550001","status":"PENDING","relationships":{"businessUnitId":"bu-1","programId":"p-1","callerName":true}}],"rejectedPhoneNumbers":[{"phoneNumber":"+12125550002","rejectionReason":"ALLOCATED_NUMBER","allocatedBusinessId":"x"}]},"error":null}`,
		`{"body":{"deletedPhoneNumbers":[{"phoneNumberId":"id-1","phoneNumber":"+12125550001"}],"rejectedPhoneNumbers":[{"phoneNumberId":"id-2","rejectionReason":"NOT_FOUND"}]},"error":null}`,
		`{"body":[{"phoneNumberId":"a","phoneNumber":"+1"}],"info":{"nextPage":"https://h/x?pageHash=abc"},"error":null}`,
		`{"token":"t","refresh_token":"r","expires_in":3600}`,
		`{"body":null,"error":{"code":409,"description":"conflict"}}`,
		`{"body":{"phoneNumbers":[{"phoneNumber":"+12125550001"}]}}`,
		`{"body":{"phoneNumbers":null,"rejectedPhoneNumbers":{}}}`,
		`[]`, `null`, ``, `{"body":"x"}`, `{"body":[1,2,3]}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	c, err := New(Config{URL: "http://127.0.0.1:1", BusinessID: "b", APIKey: "k", SecretKey: "s"})
	if err != nil {
		f.Fatal(err)
	}
	where := plan.State{BusinessUnit: "bu-1", Program: "p-1", Channel: "callerName"}
	ops := []plan.Op{
		assignOp("+12125550001", "bu-1", "p-1", "callerName"),
		assignOp("+12125550002", "bu-1", "p-1", "callerName"),
	}
	delOps := []plan.Op{
		{ID: "d1", Action: plan.Delete, Number: "+12125550001", Before: plan.State{ID: "id-1"}},
		{ID: "d2", Action: plan.Delete, Number: "+12125550002", Before: plan.State{ID: "id-2"}},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = decodeToken(data)
		_, _ = decodeOne(data)
		_, _, _ = decodePage[wireNumber](data)
		_, _, _ = decodePage[wireProgram](data)
		_, _ = pageHashOf(string(data))
		resp := &response{status: 201, body: data}

		res := c.readWriteAnswer(ops, resp, where)
		if len(res) != len(ops) {
			t.Fatalf("%d results for %d ops", len(res), len(ops))
		}
		ans, decErr := decodeWrite(data)
		for i, r := range res {
			if r.Outcome < plan.Done || r.Outcome > plan.Unknown {
				t.Fatalf("invalid outcome %v", r.Outcome)
			}
			if r.Outcome != plan.Done {
				if r.Err == nil {
					t.Fatalf("%v without an error", r.Outcome)
				}
				continue
			}
			if decErr != nil || r.Ref == "" || r.After == nil || r.After.Number != ops[i].Number ||
				r.After.BusinessUnit != where.BusinessUnit || r.After.Program != where.Program {
				t.Fatalf("wrong Done: %+v", r)
			}
			found := false
			for _, n := range ans.PhoneNumbers {
				if strings.TrimSpace(n.PhoneNumber) == ops[i].Number && n.PhoneNumberID == r.Ref {
					found = true
				}
			}
			if !found {
				t.Fatalf("Done for a number the answer does not list: %+v", r)
			}
		}

		dres := readDeleteAnswer(delOps, resp)
		dans, derr := decodeDelete(data)
		for i, r := range dres {
			if r.Outcome != plan.Done {
				continue
			}
			ok := false
			for _, d := range dans.DeletedPhoneNumbers {
				if d.PhoneNumberID == delOps[i].Before.ID || strings.TrimSpace(d.PhoneNumber) == delOps[i].Number {
					ok = true
				}
			}
			for _, rj := range dans.RejectedPhoneNumbers {
				if rj.RejectionReason == ReasonNotFound && (rj.PhoneNumberID == delOps[i].Before.ID || strings.TrimSpace(rj.PhoneNumber) == delOps[i].Number) {
					ok = true
				}
			}
			if derr != nil || !ok {
				t.Fatalf("wrong delete Done: %+v for %s", r, data)
			}
		}
		if !json.Valid(data) && (decErr == nil || derr == nil) {
			t.Fatalf("invalid JSON decoded")
		}
	})
}
