package firstorion

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/numsync/numsync/internal/plan"
)

// moveConcurrency bounds the removals a move batch runs at once; all of
// them wait on the client's pacer anyway.
const moveConcurrency = 4

// BatchKey groups operations that can share one request: assigns by
// (business unit, program, channel), moves by where they go, deletes all
// together; updates travel alone (one PUT per number).
func (c *Client) BatchKey(op plan.Op) (string, int) {
	switch op.Action {
	case plan.Assign:
		return "assign|" + placeKey(op.After), c.cfg.BatchSize
	case plan.Move:
		return "move|" + placeKey(op.After), c.cfg.BatchSize
	case plan.Delete:
		return "delete", c.cfg.BatchSize
	}
	return "", 1
}

func placeKey(s plan.State) string {
	return s.BusinessUnit + "|" + s.Program + "|" + s.Channel
}

// Apply carries out a batch of operations sharing one BatchKey and returns
// one result per operation, in order. Writes are never retried here: the
// outcome says whether the executor may resend (Retry) or must first check
// the live state (Unknown).
func (c *Client) Apply(ctx context.Context, ops []plan.Op) []plan.Result {
	res := make([]plan.Result, len(ops))
	for i, op := range ops {
		res[i].OpID = op.ID
	}
	// Group by action: a batch normally holds one, but a caller mixing them
	// still gets a correct answer for each.
	groups := map[plan.Action][]int{}
	var order []plan.Action
	for i, op := range ops {
		if op.Vendor != "" && op.Vendor != plan.FirstOrion {
			res[i] = failed(op, &plan.VendorError{Vendor: plan.FirstOrion, Number: op.Number, Code: "bad_operation",
				Message: fmt.Sprintf("operation for vendor %q", op.Vendor)})
			continue
		}
		if _, ok := groups[op.Action]; !ok {
			order = append(order, op.Action)
		}
		groups[op.Action] = append(groups[op.Action], i)
	}
	for _, a := range order {
		idx := groups[a]
		sub := make([]plan.Op, len(idx))
		for j, i := range idx {
			sub[j] = ops[i]
		}
		var out []plan.Result
		switch a {
		case plan.Assign:
			out = c.applyAssign(ctx, sub)
		case plan.Move:
			out = c.applyMove(ctx, sub)
		case plan.Update:
			out = make([]plan.Result, len(sub))
			for j, op := range sub {
				out[j] = c.applyUpdate(ctx, op)
			}
		case plan.Delete:
			out = c.applyDelete(ctx, sub)
		default:
			out = make([]plan.Result, len(sub))
			for j, op := range sub {
				out[j] = failed(op, &plan.VendorError{Vendor: plan.FirstOrion, Number: op.Number, Code: "bad_operation",
					Message: fmt.Sprintf("action %q", op.Action), Err: plan.ErrNotSupported})
			}
		}
		for j, i := range idx {
			res[i] = out[j]
		}
	}
	return res
}

func failed(op plan.Op, ve *plan.VendorError) plan.Result {
	return plan.Result{OpID: op.ID, Outcome: plan.Failed, Err: ve}
}

// invalidOp is a permanent failure found before any request.
func invalidOp(op plan.Op, msg string, err error) plan.Result {
	return failed(op, &plan.VendorError{Vendor: plan.FirstOrion, Number: op.Number, Code: "invalid_operation", Message: msg, Err: err})
}

// requestOutcome classifies a request that gave no usable answer: resp is
// nil for transport and auth failures (err set), else a non-2xx answer.
// applied says whether an earlier step of the same operation already
// changed something, which turns a Retry into an Unknown: the number is no
// longer where the operation's Before says.
func (c *Client) requestOutcome(op plan.Op, resp *response, err error, applied bool) plan.Result {
	var out plan.Outcome
	var ve *plan.VendorError
	var te *transportErr
	switch {
	case errors.As(err, &te):
		ve = copyErr(te.ve)
		out = plan.Retry
		if te.sent {
			out = plan.Unknown
		}
	case err != nil:
		if !errors.As(err, &ve) {
			ve = &plan.VendorError{Vendor: plan.FirstOrion, Code: "request_failed", Message: err.Error(), Err: err}
		} else {
			ve = copyErr(ve)
		}
		out = plan.Failed
		if ve.Temporary {
			out = plan.Retry
		}
	default:
		ve = c.statusError(resp, "")
		switch {
		case resp.status == http.StatusTooManyRequests, resp.status == http.StatusUnauthorized:
			// A 401 even after a fresh login: refused before acting.
			out = plan.Retry
		case resp.status >= 500:
			// The vendor may have acted before failing.
			out = plan.Unknown
		default:
			out = plan.Failed
		}
	}
	ve.Number = op.Number
	if applied && out == plan.Retry {
		out = plan.Unknown
	}
	return plan.Result{OpID: op.ID, Outcome: out, Err: ve}
}

func copyErr(ve *plan.VendorError) *plan.VendorError {
	cp := *ve
	return &cp
}

// rejectionResult turns a per-number rejection into a Failed result.
func rejectionResult(op plan.Op, r rejection, status int) plan.Result {
	ve := &plan.VendorError{Vendor: plan.FirstOrion, Number: op.Number, Status: status, Code: r.RejectionReason}
	switch {
	case r.RejectionReason == ReasonAllocated:
		ve.Message = "allocated to business " + r.AllocatedBusinessID
	case r.Description != "":
		ve.Message = r.Description
	}
	if ve.Code == "" {
		ve.Code = "rejected"
	}
	return failed(op, ve)
}

// readWriteAnswer maps a create or put answer back onto ops, number by
// number. A number is Done only when the answer lists it with an id at the
// place asked for; a number the answer does not mention is Unknown.
func (c *Client) readWriteAnswer(ops []plan.Op, resp *response, where plan.State) []plan.Result {
	out := make([]plan.Result, len(ops))
	ans, err := decodeWrite(resp.body)
	if err != nil {
		for i, op := range ops {
			out[i] = plan.Result{OpID: op.ID, Outcome: plan.Unknown, Err: &plan.VendorError{Vendor: plan.FirstOrion,
				Number: op.Number, Status: resp.status, Code: "bad_answer", Message: err.Error(), Err: err}}
		}
		return out
	}
	done := map[string]wireNumber{}
	for _, n := range ans.PhoneNumbers {
		done[strings.TrimSpace(n.PhoneNumber)] = n
	}
	rejected := map[string]rejection{}
	for _, r := range ans.RejectedPhoneNumbers {
		rejected[strings.TrimSpace(r.PhoneNumber)] = r
	}
	for i, op := range ops {
		if n, ok := done[op.Number]; ok {
			st := n.state()
			switch {
			case n.PhoneNumberID == "":
				out[i] = unknown(op, resp.status, "answer lists the number without a phoneNumberId")
			case st.BusinessUnit != where.BusinessUnit || st.Program != where.Program ||
				(where.Program != "" && st.Channel != "" && st.Channel != where.Channel):
				out[i] = unknown(op, resp.status, "answer shows the number elsewhere than asked")
			default:
				out[i] = plan.Result{OpID: op.ID, Outcome: plan.Done, Ref: n.PhoneNumberID, After: &st}
			}
			continue
		}
		if r, ok := rejected[op.Number]; ok {
			out[i] = rejectionResult(op, r, resp.status)
			continue
		}
		out[i] = unknown(op, resp.status, "answer does not mention the number")
	}
	return out
}

func unknown(op plan.Op, status int, msg string) plan.Result {
	return plan.Result{OpID: op.ID, Outcome: plan.Unknown, Err: &plan.VendorError{Vendor: plan.FirstOrion,
		Number: op.Number, Status: status, Code: "unknown_outcome", Message: msg}}
}

// applyAssign creates numbers in one program, or at one business unit's
// level when After.Program is empty.
func (c *Client) applyAssign(ctx context.Context, ops []plan.Op) []plan.Result {
	out := make([]plan.Result, len(ops))
	var send []plan.Op
	var sendIdx []int
	seen := map[string]bool{}
	for i, op := range ops {
		switch {
		case op.Number == "":
			out[i] = invalidOp(op, "assign without a number", nil)
		case seen[op.Number]:
			out[i] = invalidOp(op, "number twice in one batch", nil)
		case op.After.BusinessUnit == "" || placeKey(op.After) != placeKey(ops[0].After):
			out[i] = invalidOp(op, "assign without a business unit, or mixed places in one batch", nil)
		default:
			seen[op.Number] = true
			send = append(send, op)
			sendIdx = append(sendIdx, i)
		}
	}
	if len(send) == 0 {
		return out
	}
	where := plan.State{BusinessUnit: send[0].After.BusinessUnit, Program: send[0].After.Program, Channel: send[0].After.Channel}
	var path string
	var err error
	if where.Program != "" {
		path, err = c.pathProgramNumbers(where.BusinessUnit, where.Program, where.Channel)
	} else {
		path, err = c.pathBUNumbers(where.BusinessUnit)
	}
	items := make([]createItem, len(send))
	for i, op := range send {
		items[i] = createItem{PhoneNumber: op.Number, CallPurposeCode: op.After.CallPurpose, AuthenticatedCalls: op.After.AuthCalls != nil && *op.After.AuthCalls}
	}
	var results []plan.Result
	if err != nil {
		results = make([]plan.Result, len(send))
		for i, op := range send {
			results[i] = invalidOp(op, "cannot build the request path", err)
		}
	} else {
		resp, err := c.send(ctx, http.MethodPost, path, nil, items)
		results = c.batchResults(send, resp, err, where)
	}
	for j, i := range sendIdx {
		out[i] = results[j]
	}
	return out
}

// batchResults reads a create or put answer, or classifies its failure for
// every op.
func (c *Client) batchResults(ops []plan.Op, resp *response, err error, where plan.State) []plan.Result {
	if err != nil || !resp.ok() {
		out := make([]plan.Result, len(ops))
		for i, op := range ops {
			out[i] = c.requestOutcome(op, resp, err, false)
		}
		return out
	}
	return c.readWriteAnswer(ops, resp, where)
}

// moveSteps are the removals a move needs before its put, derived from
// Before only (vendors.md, the seed's two- and three-step recipes): out of
// the old program when the program, channel or unit changes; out of the
// old business unit when the unit changes.
func (c *Client) moveSteps(op plan.Op) (paths []string, err error) {
	b, a := op.Before, op.After
	if b.ID == "" {
		return nil, errors.New("move without the number's phoneNumberId")
	}
	if b.Program != "" && (b.Program != a.Program || b.Channel != a.Channel || b.BusinessUnit != a.BusinessUnit) {
		p, err := c.pathProgramNumber(b.BusinessUnit, b.Program, b.Channel, b.ID)
		if err != nil {
			return nil, fmt.Errorf("remove from program: %w", err)
		}
		paths = append(paths, p)
	}
	if b.BusinessUnit != "" && b.BusinessUnit != a.BusinessUnit {
		p, err := c.pathBUNumber(b.BusinessUnit, b.ID)
		if err != nil {
			return nil, fmt.Errorf("remove from business unit: %w", err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// applyMove runs each number's removals (bounded concurrency, all through
// the pacer), then one PUT for every number whose removals succeeded.
func (c *Client) applyMove(ctx context.Context, ops []plan.Op) []plan.Result {
	out := make([]plan.Result, len(ops))
	ready := make([]bool, len(ops))
	applied := make([]bool, len(ops))
	removed := make([]*plan.State, len(ops)) // the number as the last removal left it
	where := plan.State{BusinessUnit: ops[0].After.BusinessUnit, Program: ops[0].After.Program, Channel: ops[0].After.Channel}

	var wg sync.WaitGroup
	sem := make(chan struct{}, moveConcurrency)
	seen := map[string]bool{}
	for i, op := range ops {
		if op.Number == "" || seen[op.Number] || placeKey(op.After) != placeKey(where) {
			out[i] = invalidOp(op, "move without a number, twice in a batch, or mixed places in one batch", nil)
			continue
		}
		seen[op.Number] = true
		steps, err := c.moveSteps(op)
		if err != nil {
			out[i] = invalidOp(op, err.Error(), err)
			continue
		}
		if len(steps) == 0 {
			ready[i] = true
			continue
		}
		wg.Add(1)
		go func(i int, op plan.Op, steps []string) {
			defer wg.Done()
			for k, p := range steps {
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					out[i] = c.requestOutcome(op, nil, &transportErr{ve: &plan.VendorError{Vendor: plan.FirstOrion, Code: "canceled", Temporary: true, Err: ctx.Err()}}, k > 0)
					return
				}
				resp, err := c.send(ctx, http.MethodDelete, p, nil, nil)
				<-sem
				if err != nil || !resp.ok() {
					out[i] = c.requestOutcome(op, resp, err, k > 0)
					if ve, ok := out[i].Err.(*plan.VendorError); ok && out[i].Outcome == plan.Failed && k > 0 {
						ve.Message += " (after an earlier removal step succeeded: the number has left its old place)"
					}
					return
				}
				n, err := decodeOne(resp.body)
				if err != nil {
					// The status said yes; the body is unreadable. The
					// removal most likely happened, but only a read can tell.
					out[i] = unknown(op, resp.status, "removal answer unreadable: "+err.Error())
					return
				}
				st := n.state()
				if st.Number == "" {
					st.Number = op.Number
				}
				removed[i] = &st
				applied[i] = true
			}
			ready[i] = true
		}(i, op, steps)
	}
	wg.Wait()

	var send []plan.Op
	var sendIdx []int
	for i, op := range ops {
		if !ready[i] {
			continue
		}
		if placeKey(op.Before) == placeKey(where) && op.Before.ID != "" {
			// Already where it must go (a resend after an answer was lost):
			// nothing to do.
			st := op.Before
			out[i] = plan.Result{OpID: op.ID, Outcome: plan.Done, Ref: op.Before.ID, After: &st}
			continue
		}
		if where.Program == "" && (where.BusinessUnit == "" || op.Before.BusinessUnit == where.BusinessUnit) {
			// Out of a program into its own unit's level, or to the
			// business level: the removals were the whole move, and a put
			// would only repeat where the number already is.
			st := op.Before
			st.BusinessUnit, st.Program, st.Channel = where.BusinessUnit, "", ""
			if removed[i] != nil {
				st = *removed[i]
			}
			if st.BusinessUnit != where.BusinessUnit || st.Program != "" {
				out[i] = unknown(op, 0, "removal answer shows the number elsewhere than asked")
				continue
			}
			out[i] = plan.Result{OpID: op.ID, Outcome: plan.Done, Ref: op.Before.ID, After: &st}
			continue
		}
		send = append(send, op)
		sendIdx = append(sendIdx, i)
	}
	if len(send) == 0 {
		return out
	}
	var path string
	var err error
	if where.Program != "" {
		path, err = c.pathProgramNumbers(where.BusinessUnit, where.Program, where.Channel)
	} else {
		path, err = c.pathBUNumbers(where.BusinessUnit)
	}
	var results []plan.Result
	if err != nil {
		results = make([]plan.Result, len(send))
		for j, op := range send {
			results[j] = invalidOp(op, "cannot build the request path", err)
		}
	} else {
		body := numbersBody{PhoneNumbers: make([]string, len(send))}
		for j, op := range send {
			body.PhoneNumbers[j] = op.Number
		}
		resp, err := c.send(ctx, http.MethodPut, path, nil, body)
		if err != nil || !resp.ok() {
			results = make([]plan.Result, len(send))
			for j, op := range send {
				results[j] = c.requestOutcome(op, resp, err, applied[sendIdx[j]])
			}
		} else {
			results = c.readWriteAnswer(send, resp, where)
		}
	}
	for j, i := range sendIdx {
		if ve, ok := results[j].Err.(*plan.VendorError); ok && applied[i] && results[j].Outcome == plan.Failed {
			ve.Message += " (after its removal from the old place succeeded)"
		}
		out[i] = results[j]
	}
	return out
}

// applyUpdate changes one number's call purpose code and authenticated
// calls flag; only the fields After sets are sent (PUT acts as PATCH).
func (c *Client) applyUpdate(ctx context.Context, op plan.Op) plan.Result {
	body := updateBody{CallPurposeCode: op.After.CallPurpose, AuthenticatedCalls: op.After.AuthCalls}
	if body.CallPurposeCode == "" && body.AuthenticatedCalls == nil {
		return invalidOp(op, "update changes nothing", nil)
	}
	path, err := c.pathNumber(op.Before.ID)
	if err != nil {
		return invalidOp(op, "update without the number's phoneNumberId", err)
	}
	resp, err := c.send(ctx, http.MethodPut, path, nil, body)
	if err != nil || !resp.ok() {
		return c.requestOutcome(op, resp, err, false)
	}
	n, err := decodeOne(resp.body)
	if err != nil {
		return unknown(op, resp.status, "update answer unreadable: "+err.Error())
	}
	st := n.state()
	if st.Number != "" && st.Number != op.Number {
		return unknown(op, resp.status, "update answer is about another number")
	}
	if (body.CallPurposeCode != "" && st.CallPurpose != body.CallPurposeCode) ||
		(body.AuthenticatedCalls != nil && n.AuthenticatedCalls != nil && *n.AuthenticatedCalls != *body.AuthenticatedCalls) {
		return unknown(op, resp.status, "update answer does not show the change")
	}
	if st.Number == "" {
		st.Number = op.Number
	}
	return plan.Result{OpID: op.ID, Outcome: plan.Done, Ref: n.PhoneNumberID, After: &st}
}

// applyDelete removes numbers from the business through the batch-delete
// POST, by phone-number id. A NOT_FOUND rejection counts as Done: the
// number is already gone, which is what the operation wanted (a resend
// after a lost answer finds exactly that).
func (c *Client) applyDelete(ctx context.Context, ops []plan.Op) []plan.Result {
	out := make([]plan.Result, len(ops))
	var send []int
	seen := map[string]bool{}
	body := deleteBody{}
	for i, op := range ops {
		pid := strings.TrimSpace(op.Before.ID)
		switch {
		case pid == "":
			out[i] = invalidOp(op, "delete without the number's phoneNumberId", errEmptySegment)
		case seen[pid]:
			out[i] = invalidOp(op, "phoneNumberId twice in one batch", nil)
		default:
			seen[pid] = true
			send = append(send, i)
			body.PhoneNumberIDs = append(body.PhoneNumberIDs, pid)
		}
	}
	if len(send) == 0 {
		return out
	}
	path, err := c.pathBatchDelete()
	if err != nil {
		for _, i := range send {
			out[i] = invalidOp(ops[i], "cannot build the request path", err)
		}
		return out
	}
	resp, err := c.send(ctx, http.MethodPost, path, nil, body)
	if err != nil || !resp.ok() {
		for _, i := range send {
			out[i] = c.requestOutcome(ops[i], resp, err, false)
		}
		return out
	}
	sent := make([]plan.Op, len(send))
	for j, i := range send {
		sent[j] = ops[i]
	}
	for j, r := range readDeleteAnswer(sent, resp) {
		out[send[j]] = r
	}
	return out
}

// readDeleteAnswer maps a batch-delete answer back onto ops, by
// phone-number id (or, failing that, by number).
func readDeleteAnswer(ops []plan.Op, resp *response) []plan.Result {
	out := make([]plan.Result, len(ops))
	ans, err := decodeDelete(resp.body)
	if err != nil {
		for i, op := range ops {
			out[i] = unknown(op, resp.status, "delete answer unreadable: "+err.Error())
		}
		return out
	}
	deletedByID := map[string]bool{}
	deletedByNumber := map[string]bool{}
	for _, d := range ans.DeletedPhoneNumbers {
		if d.PhoneNumberID != "" {
			deletedByID[d.PhoneNumberID] = true
		}
		if d.PhoneNumber != "" {
			deletedByNumber[strings.TrimSpace(d.PhoneNumber)] = true
		}
	}
	rejByID := map[string]rejection{}
	rejByNumber := map[string]rejection{}
	for _, r := range ans.RejectedPhoneNumbers {
		if r.PhoneNumberID != "" {
			rejByID[r.PhoneNumberID] = r
		}
		if r.PhoneNumber != "" {
			rejByNumber[strings.TrimSpace(r.PhoneNumber)] = r
		}
	}
	for i, op := range ops {
		pid := strings.TrimSpace(op.Before.ID)
		r, rejected := rejByID[pid]
		if !rejected {
			r, rejected = rejByNumber[op.Number]
		}
		switch {
		case deletedByID[pid] || (deletedByNumber[op.Number] && !rejected):
			out[i] = plan.Result{OpID: op.ID, Outcome: plan.Done, Ref: pid, After: &plan.State{Number: op.Number}}
		case rejected && r.RejectionReason == ReasonNotFound:
			out[i] = plan.Result{OpID: op.ID, Outcome: plan.Done, Ref: pid, After: &plan.State{Number: op.Number}}
		case rejected:
			out[i] = rejectionResult(op, r, resp.status)
		default:
			out[i] = unknown(op, resp.status, "answer does not mention the number")
		}
	}
	return out
}
