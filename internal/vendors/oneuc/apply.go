package oneuc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"

	"github.com/numsync/numsync/internal/plan"
)

// BatchKey batches activations (collection/activate, BatchSize numbers per
// request); updates and releases go one number per request.
func (c *Client) BatchKey(op plan.Op) (string, int) {
	if op.Action == plan.Activate {
		return "activate", c.batch
	}
	return "", 1
}

// Apply carries out ops and returns one Result per op, in order. Writes are
// sent once: a failure to get an answer is reported as Retry (the request
// certainly did not reach OneUC) or Unknown (it may have), never retried
// here.
func (c *Client) Apply(ctx context.Context, ops []plan.Op) []plan.Result {
	results := make([]plan.Result, len(ops))
	var acts []int
	for i, op := range ops {
		results[i].OpID = op.ID
		if op.Vendor != "" && op.Vendor != plan.OneUC {
			results[i] = failed(op, &plan.VendorError{Vendor: plan.OneUC, Number: op.Number,
				Code: "wrong_vendor", Message: "operation is for " + string(op.Vendor), Err: plan.ErrNotSupported})
			continue
		}
		if err := checkE164(op.Number); err != nil {
			results[i] = failed(op, &plan.VendorError{Vendor: plan.OneUC, Number: op.Number,
				Code: "invalid_number", Message: err.Error()})
			continue
		}
		switch op.Action {
		case plan.Activate:
			acts = append(acts, i)
		case plan.Update:
			results[i] = c.update(ctx, op)
		case plan.Release:
			results[i] = c.release(ctx, op)
		default:
			results[i] = failed(op, &plan.VendorError{Vendor: plan.OneUC, Number: op.Number,
				Code: "unsupported_action", Message: "oneuc cannot " + string(op.Action), Err: plan.ErrNotSupported})
		}
	}
	if len(acts) > 0 {
		c.activate(ctx, ops, acts, results)
	}
	return results
}

func failed(op plan.Op, err error) plan.Result {
	return plan.Result{OpID: op.ID, Outcome: plan.Failed, Err: err}
}

// writeFailure turns a write that got no usable answer into a result: a
// request that never left is Retry; one that may have been acted on is
// Unknown; a 429 is Retry; a 5xx is Unknown unless it is a definite
// refusal; anything else is a permanent failure.
func (c *Client) writeFailure(op plan.Op, ans *answer, err error) plan.Result {
	res := plan.Result{OpID: op.ID}
	if err != nil {
		res.Err = withNumber(err, op.Number)
		var ns *errNotSent
		switch {
		case errors.As(err, &ns) && plan.IsTransient(err):
			res.Outcome = plan.Retry
		case errors.As(err, &ns):
			res.Outcome = plan.Failed
		default:
			res.Outcome = plan.Unknown
		}
		return res
	}
	ve := c.httpError(ans, op.Number)
	res.Err = ve
	switch {
	case ans.status == http.StatusTooManyRequests, ans.status == http.StatusUnauthorized:
		// A 401 even after a fresh login: refused before acting.
		res.Outcome = plan.Retry
	case ans.status >= 500 && ve.Temporary:
		res.Outcome = plan.Unknown
	default:
		ve.Temporary = false
		res.Outcome = plan.Failed
	}
	return res
}

// writeBody wraps data in Kazoo's write envelope, with accept_charges so
// the write is not a dry run.
func writeBody(data any) ([]byte, error) {
	return json.Marshal(map[string]any{"data": data, "accept_charges": true})
}

// update PATCHes the CNAM and E911 fields the op changes. PATCH merges (RFC
// 7396), so fields the op does not concern are left alone; POST would wipe
// them.
func (c *Client) update(ctx context.Context, op plan.Op) plan.Result {
	data := map[string]any{}
	if op.After.CNAM != nil {
		if *op.After.CNAM == "" {
			data["cnam"] = nil
		} else {
			data["cnam"] = map[string]any{"display_name": *op.After.CNAM}
		}
	}
	if a := op.After.E911; a != nil {
		// Every address field, null where the new address has none, or
		// the old value would survive the merge.
		data["e911"] = map[string]any{
			"street_address":   a.StreetAddress,
			"extended_address": nullIfEmpty(a.ExtendedAddress),
			"locality":         a.Locality,
			"region":           a.Region,
			"postal_code":      a.PostalCode,
			"caller_name":      nullIfEmpty(a.CallerName),
		}
	}
	if len(data) == 0 {
		return plan.Result{OpID: op.ID, Outcome: plan.Done}
	}
	body, err := writeBody(data)
	if err != nil {
		return failed(op, fmt.Errorf("oneuc: encode update: %w", err))
	}
	path, _ := c.numberPath(op.Number) // checked by Apply
	ans, err := c.call(ctx, http.MethodPatch, path, nil, body)
	if err != nil || ans.status != http.StatusOK {
		return c.writeFailure(op, ans, err)
	}
	res := plan.Result{OpID: op.ID, Outcome: plan.Done}
	if doc, err := decodeNumber(ans.env.Data); err == nil && ans.decodeErr == nil {
		st := doc.state(op.Number)
		res.After = &st
	}
	return res
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// release DELETEs the number. A 404 bad_identifier means it is already
// off the account: the release is done.
func (c *Client) release(ctx context.Context, op plan.Op) plan.Result {
	path, _ := c.numberPath(op.Number) // checked by Apply
	ans, err := c.call(ctx, http.MethodDelete, path, nil, nil)
	if err != nil {
		return c.writeFailure(op, ans, err)
	}
	switch {
	case ans.status == http.StatusOK:
		st := plan.State{Number: op.Number, Status: "available"}
		if doc, derr := decodeNumber(ans.env.Data); derr == nil && doc.State != "" {
			st.Status = doc.State
		}
		return plan.Result{OpID: op.ID, Outcome: plan.Done, After: &st}
	case ans.status == http.StatusNotFound && ans.env.message() == msgBadIdentifier:
		return plan.Result{OpID: op.ID, Outcome: plan.Done}
	}
	return c.writeFailure(op, ans, nil)
}

// activate puts the ops at idx in service: numbers the account holds go
// straight to collection/activate; the others are first discovered by
// carrier searches (discover).
func (c *Client) activate(ctx context.Context, ops []plan.Op, idx []int, results []plan.Result) {
	var send, need []int
	for _, i := range idx {
		op := ops[i]
		switch {
		case plan.InService(op.Before):
			// Activating an in_service number is a no-op at Kazoo.
			st := plan.State{Number: op.Number, Status: plan.StatusInService}
			results[i] = plan.Result{OpID: op.ID, Outcome: plan.Done, After: &st}
		case op.Before.Status != "" && op.Before.Status != plan.StatusReleased && op.Before.Status != plan.StatusDeleted:
			// Held by the account (plan.Activatable's states, or another
			// the vendor may accept): straight to collection/activate.
			send = append(send, i)
		default:
			need = append(need, i)
		}
	}
	if len(need) > 0 {
		send = append(send, c.discover(ctx, ops, need, results)...)
	}
	sort.Ints(send)
	for start := 0; start < len(send); start += c.batch {
		end := min(start+c.batch, len(send))
		c.activateBatch(ctx, ops, send[start:end], results)
	}
}

// activateBatch sends one collection/activate and reads its answer number
// by number; numbers the answer does not mention are checked against live
// state.
func (c *Client) activateBatch(ctx context.Context, ops []plan.Op, idx []int, results []plan.Result) {
	numbers := make([]string, len(idx))
	for k, i := range idx {
		numbers[k] = ops[i].Number
	}
	body, err := writeBody(map[string]any{"numbers": numbers})
	if err != nil {
		for _, i := range idx {
			results[i] = failed(ops[i], fmt.Errorf("oneuc: encode activation: %w", err))
		}
		return
	}
	ans, err := c.call(ctx, http.MethodPut, c.accountPath("phone_numbers/collection/activate"), nil, body)
	if err != nil {
		for _, i := range idx {
			results[i] = c.writeFailure(ops[i], nil, err)
		}
		return
	}
	verdicts, _ := decodeCollection(ans.status, ans.env, numbers)
	var unmentioned []int
	for _, i := range idx {
		op := ops[i]
		v, ok := verdicts[op.Number]
		if !ok {
			unmentioned = append(unmentioned, i)
			continue
		}
		results[i] = plan.Result{OpID: op.ID, Outcome: v.outcome, After: v.after}
		if v.err != nil {
			results[i].Err = v.err
		}
	}
	if len(unmentioned) == 0 {
		return
	}
	// The answer left numbers out. When it settled none at all and was not
	// a success, the request failed as a whole: classify it by its status
	// (a 5xx is Unknown, and the executor reads live state before sending
	// again, so the client does not spend a GET per number here).
	if len(verdicts) == 0 && (ans.status < 200 || ans.status >= 300) {
		cause := faultCause(ans.env)
		for _, i := range unmentioned {
			res := c.writeFailure(ops[i], ans, nil)
			// A definite refusal (missing_provider_url, fault by carrier)
			// answered for the whole request is about one number; it
			// fails only the number it names, or the only one sent. The
			// others' fate is unknown.
			if res.Outcome == plan.Failed && ans.status >= 500 && len(idx) > 1 && ops[i].Number != cause {
				res = plan.Result{OpID: ops[i].ID, Outcome: plan.Unknown, Err: &plan.VendorError{
					Vendor: plan.OneUC, Number: ops[i].Number, Status: ans.status, Code: "unknown_outcome",
					Message: "the activation request was refused as a whole", Temporary: true, Err: res.Err}}
			}
			results[i] = res
		}
		return
	}
	c.checkLive(ctx, ops, unmentioned, results, ans)
}

// checkLive decides activations the answer did not settle by reading the
// numbers: in_service is Done; anything else stays Unknown (the executor
// checks again before resending).
func (c *Client) checkLive(ctx context.Context, ops []plan.Op, idx []int, results []plan.Result, ans *answer) {
	numbers := make([]string, len(idx))
	for k, i := range idx {
		numbers[k] = ops[i].Number
	}
	why := "the activation answer did not mention the number"
	if ans.status != http.StatusOK {
		why = fmt.Sprintf("the activation request failed (HTTP %d)", ans.status)
	}
	live, err := c.Read(ctx, numbers)
	for _, i := range idx {
		op := ops[i]
		if err != nil {
			results[i] = plan.Result{OpID: op.ID, Outcome: plan.Unknown, Err: &plan.VendorError{
				Vendor: plan.OneUC, Number: op.Number, Status: ans.status, Code: "unknown_outcome",
				Message: why + "; its live state could not be read", Temporary: true, Err: err}}
			continue
		}
		st, held := live[op.Number]
		if op.SatisfiedBy(st, held) {
			results[i] = plan.Result{OpID: op.ID, Outcome: plan.Done, After: &st}
			continue
		}
		state := "not on the account"
		if held {
			state = "state " + strconv.Quote(st.Status)
		}
		var cause error
		if ans.status >= 300 {
			cause = c.httpError(ans, op.Number)
		}
		results[i] = plan.Result{OpID: op.ID, Outcome: plan.Unknown, Err: &plan.VendorError{
			Vendor: plan.OneUC, Number: op.Number, Status: ans.status, Code: "unknown_outcome",
			Message: why + "; live: " + state, Temporary: true, Err: cause}}
	}
}

// faultCause returns the number a whole-request fault names in data.cause,
// or "".
func faultCause(env *envelope) string {
	var d struct {
		Cause json.RawMessage `json:"cause"`
	}
	if json.Unmarshal(env.Data, &d) != nil {
		return ""
	}
	return rawString(d.Cause)
}
