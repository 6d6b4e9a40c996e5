package lab

import (
	"bytes"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The lab's routes: one handler per endpoint of vendors.md, all called with
// the lab's lock held.

// route dispatches one request. Called with mu held.
func (l *Lab) route(r *http.Request, body []byte) answer {
	switch r.URL.Path {
	case pathAuth:
		if r.Method != http.MethodPost {
			return errAnswer(http.StatusNotFound, "not found")
		}
		return l.login(r)
	case pathRefresh:
		if r.Method != http.MethodPost {
			return errAnswer(http.StatusNotFound, "not found")
		}
		return l.refreshToken(body)
	}
	segs, ok := splitPath(r.URL.EscapedPath())
	if !ok || len(segs) < 4 || segs[0] != "exchange" || segs[1] != "v1" || segs[2] != "businesses" {
		return errAnswer(http.StatusNotFound, "not found")
	}
	if a, ok := l.authorize(r); !ok {
		return a
	}
	if segs[3] != l.opts.BusinessID {
		return errAnswer(http.StatusNotFound, "business not found")
	}
	rest := segs[4:]
	m := r.Method
	switch {
	case len(rest) == 1 && rest[0] == "business-units" && m == http.MethodGet:
		return l.listBUs(r)
	case len(rest) == 3 && rest[0] == "business-units" && rest[2] == "programs" && m == http.MethodGet:
		return l.listPrograms(r, rest[1])
	case len(rest) == 1 && rest[0] == "phone-numbers":
		switch m {
		case http.MethodGet:
			return l.listNumbers(r)
		case http.MethodDelete:
			return l.deleteAllNumbers()
		}
	case len(rest) == 2 && rest[0] == "phone-numbers" && rest[1] == batchDeleteSegment && m == http.MethodPost:
		return l.batchDelete(body)
	case len(rest) == 2 && rest[0] == "phone-numbers":
		switch {
		case m == http.MethodDelete && rest[1] == "":
			return l.deleteAllNumbers()
		case m == http.MethodDelete:
			return l.deleteOne(rest[1])
		case m == http.MethodPut && rest[1] != "":
			return l.updateNumber(rest[1], body)
		}
	case len(rest) == 3 && rest[0] == "business-units" && rest[2] == "phone-numbers":
		switch m {
		case http.MethodPost:
			return l.create(body, rest[1], "", "", false)
		case http.MethodPut:
			return l.put(body, rest[1], "", "", false)
		case http.MethodDelete:
			return l.removeAllFrom(rest[1], "")
		}
	case len(rest) == 4 && rest[0] == "business-units" && rest[2] == "phone-numbers" && m == http.MethodDelete:
		if rest[3] == "" {
			return l.removeAllFrom(rest[1], "")
		}
		return l.removeFromBU(rest[1], rest[3])
	case len(rest) == 7 && rest[0] == "business-units" && rest[2] == "programs" && rest[4] == "delivery-channels" && rest[6] == "a-numbers":
		switch m {
		case http.MethodPost:
			return l.create(body, rest[1], rest[3], rest[5], true)
		case http.MethodPut:
			return l.put(body, rest[1], rest[3], rest[5], true)
		case http.MethodDelete:
			return l.removeAllFrom(rest[1], rest[3])
		}
	case len(rest) == 8 && rest[0] == "business-units" && rest[2] == "programs" && rest[4] == "delivery-channels" && rest[6] == "a-numbers" && m == http.MethodDelete:
		if rest[7] == "" {
			return l.removeAllFrom(rest[1], rest[3])
		}
		return l.removeFromProgram(rest[1], rest[3], rest[5], rest[7])
	}
	// An unsupported method, or an unknown path: 404 either way (doc).
	return errAnswer(http.StatusNotFound, "not found")
}

// splitPath splits an escaped path into unescaped segments, keeping empty
// ones (a trailing slash is an empty last segment: the delete-all form).
func splitPath(p string) ([]string, bool) {
	if !strings.HasPrefix(p, "/") {
		return nil, false
	}
	parts := strings.Split(p[1:], "/")
	for i, s := range parts {
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, false
		}
		parts[i] = u
	}
	return parts, true
}

func (l *Lab) login(r *http.Request) answer {
	if r.Header.Get("X-SERVICE") != "auth" {
		return errAnswer(http.StatusBadRequest, "X-SERVICE: auth is required")
	}
	if r.Header.Get("X-API-KEY") != l.opts.APIKey || r.Header.Get("X-SECRET-KEY") != l.opts.SecretKey {
		return errAnswer(http.StatusUnauthorized, "invalid credentials")
	}
	return l.issue()
}

func (l *Lab) refreshToken(body []byte) answer {
	var req refreshRequest
	if err := json.Unmarshal(body, &req); err != nil || req.RefreshToken == "" {
		return errAnswer(http.StatusBadRequest, "refresh_token is required")
	}
	if !l.refresh[req.RefreshToken] {
		return errAnswer(http.StatusUnauthorized, "invalid refresh token")
	}
	// A refresh token is used once; the access token it came with stays
	// valid until it expires (tokens cannot be revoked).
	delete(l.refresh, req.RefreshToken)
	return l.issue()
}

func (l *Lab) issue() answer {
	tok, ref := randomToken(), randomToken()
	secs := int64(math.Max(1, math.Round(l.opts.TokenTTL.Seconds())))
	now := l.opts.Clock()
	exp := now.Add(time.Duration(secs) * time.Second)
	l.tokens[tok] = exp
	l.refresh[ref] = true
	return answer{status: http.StatusOK, body: map[string]any{
		"token": tok, "refresh_token": ref, "expires_in": secs, "token_type": "Bearer", "expires_at": exp.Unix(),
	}}
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}

// authorize checks the Authorization header: the bare token (doc) or
// "Bearer <token>".
func (l *Lab) authorize(r *http.Request) (answer, bool) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		h = strings.TrimSpace(h[7:])
	}
	exp, ok := l.tokens[h]
	if h == "" || !ok {
		return errAnswer(http.StatusUnauthorized, "invalid token"), false
	}
	if !l.opts.Clock().Before(exp) {
		return errAnswer(http.StatusUnauthorized, "token expired"), false
	}
	return answer{}, true
}

// pageParams reads limit and pageHash; the cursor is the sequence number
// after which the page starts.
func (l *Lab) pageParams(r *http.Request) (limit int, after int64, bad *answer) {
	q := r.URL.Query()
	limit = 100
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > l.opts.PageLimitMax {
			a := errAnswer(http.StatusBadRequest, fmt.Sprintf("limit must be 1 to %d", l.opts.PageLimitMax))
			return 0, 0, &a
		}
		limit = n
	}
	if h := q.Get(pageHashParam); h != "" {
		raw, err := base64.RawURLEncoding.DecodeString(h)
		var v int64
		if err == nil {
			v, err = strconv.ParseInt(strings.TrimPrefix(string(raw), "after:"), 10, 64)
		}
		if err != nil || !bytes.HasPrefix(raw, []byte("after:")) {
			a := errAnswer(http.StatusBadRequest, "invalid pageHash")
			return 0, 0, &a
		}
		after = v
	}
	return limit, after, nil
}

// nextPage builds info.nextPage as a full URL, as the admin tool shows it.
func nextPage(r *http.Request, limit int, last int64) map[string]any {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	// The path as the caller sent it: when the lab is mounted under a
	// prefix (http.StripPrefix), r.URL has lost it but RequestURI has not.
	path := r.URL.EscapedPath()
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil && r.RequestURI != "" {
		path = u.EscapedPath()
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}, pageHashParam: {base64.RawURLEncoding.EncodeToString([]byte("after:" + strconv.FormatInt(last, 10)))}}
	return map[string]any{"nextPage": scheme + "://" + r.Host + path + "?" + q.Encode()}
}

// page slices items [after, after+limit) by position (positions start at
// 1) and sets info when more remain.
func page[T any](r *http.Request, all []T, limit int, after int64) answer {
	if after < 0 || after > int64(len(all)) {
		return errAnswer(http.StatusBadRequest, "invalid pageHash")
	}
	end := min(int(after)+limit, len(all))
	items := append([]T{}, all[after:end]...)
	a := answer{status: http.StatusOK, body: items}
	if end < len(all) {
		a.info = nextPage(r, limit, int64(end))
	}
	return a
}

func (l *Lab) listBUs(r *http.Request) answer {
	limit, after, bad := l.pageParams(r)
	if bad != nil {
		return *bad
	}
	all := make([]map[string]any, len(l.bus))
	for i, b := range l.bus {
		all[i] = map[string]any{"businessUnitId": b.id, "name": b.name, "businessId": l.opts.BusinessID}
	}
	return page(r, all, limit, after)
}

func (l *Lab) listPrograms(r *http.Request, buID string) answer {
	bu := l.buByID[buID]
	if bu == nil {
		return errAnswer(http.StatusNotFound, "business unit not found")
	}
	limit, after, bad := l.pageParams(r)
	if bad != nil {
		return *bad
	}
	all := make([]map[string]any, len(bu.programs))
	for i, p := range bu.programs {
		all[i] = map[string]any{"programId": p.id, "programName": p.name, "active": p.active,
			"callPurposeCode": p.cpc, "deliveryChannels": []string{p.channel}, "businessUnitId": bu.id}
	}
	return page(r, all, limit, after)
}

// listNumbers pages by sequence number (keyset), so numbers deleted between
// pages do not shift later ones out of the listing.
func (l *Lab) listNumbers(r *http.Request) answer {
	limit, after, bad := l.pageParams(r)
	if bad != nil {
		return *bad
	}
	all := l.numsBySeq()
	sorted := all[sort.Search(len(all), func(i int) bool { return all[i].seq > after }):]
	items := []map[string]any{}
	for _, n := range sorted {
		if len(items) == limit {
			break
		}
		l.resolve(n)
		items = append(items, l.wire(n))
	}
	a := answer{status: http.StatusOK, body: items}
	if len(sorted) > limit {
		a.info = nextPage(r, limit, sorted[limit-1].seq)
	}
	return a
}

// numsBySeq returns the numbers in creation order, from a cache that
// adding or removing a number clears. The slice is shared: callers must
// not change it. Called with mu held.
func (l *Lab) numsBySeq() []*labNum {
	if l.bySeq == nil {
		l.bySeq = make([]*labNum, 0, len(l.nums))
		for _, n := range l.nums {
			l.bySeq = append(l.bySeq, n)
		}
		sort.Slice(l.bySeq, func(i, j int) bool { return l.bySeq[i].seq < l.bySeq[j].seq })
	}
	return l.bySeq
}

// place checks that a business unit, and a program with its channel,
// exist. Called with mu held.
func (l *Lab) place(buID, progID, channel string, withProgram bool) bool {
	bu := l.buByID[buID]
	if bu == nil {
		return false
	}
	if !withProgram {
		return true
	}
	p := bu.program(progID)
	return p != nil && p.channel == channel
}

func rejectedItem(phone, cpc, reason string) map[string]any {
	return map[string]any{"phoneNumber": phone, "callPurposeCode": cpc, "rejectionReason": reason}
}

func (l *Lab) mutate(phone string) { l.mutations[phone]++ }

// create serves POST a-numbers and POST business-unit phone-numbers.
func (l *Lab) create(body []byte, buID, progID, channel string, withProgram bool) answer {
	var items []createItem
	if err := json.Unmarshal(body, &items); err != nil {
		return errAnswer(http.StatusBadRequest, "body must be an array of phone numbers")
	}
	if len(items) == 0 || len(items) > maxBatch {
		return errAnswer(http.StatusBadRequest, fmt.Sprintf("1 to %d phone numbers per request", maxBatch))
	}
	okPlace := l.place(buID, progID, channel, withProgram)
	created, rejected := []map[string]any{}, []map[string]any{}
	seen := map[string]bool{}
	now := l.opts.Clock()
	applied := false
	for _, it := range items {
		switch {
		case !validE164(it.PhoneNumber):
			rejected = append(rejected, rejectedItem(it.PhoneNumber, it.CallPurposeCode, reasonInvalidNumber))
		case seen[it.PhoneNumber]:
			rejected = append(rejected, rejectedItem(it.PhoneNumber, it.CallPurposeCode, reasonDuplicate))
		case !okPlace:
			seen[it.PhoneNumber] = true
			rejected = append(rejected, rejectedItem(it.PhoneNumber, it.CallPurposeCode, reasonRelationshipMissing))
		default:
			seen[it.PhoneNumber] = true
			if a, ok := l.allocated[it.PhoneNumber]; ok {
				rej := rejectedItem(it.PhoneNumber, it.CallPurposeCode, reasonAllocated)
				rej["allocatedBusinessId"] = a.BusinessID
				rej["allocatedPhoneNumberId"] = a.PhoneNumberID
				rejected = append(rejected, rej)
				continue
			}
			if l.byPhone[it.PhoneNumber] != nil {
				rejected = append(rejected, rejectedItem(it.PhoneNumber, it.CallPurposeCode, reasonDuplicate))
				continue
			}
			n := &labNum{id: l.newID(), phone: it.PhoneNumber, bu: buID, cpc: it.CallPurposeCode, auth: it.AuthenticatedCalls,
				status: "PENDING", submitted: now}
			if withProgram {
				n.prog, n.channel = progID, channel
			}
			n.final = "APPROVED"
			if strings.Contains(l.opts.LegalName, "suspicious") || l.rng.IntN(2) == 0 {
				n.final = "UNDER REVIEW"
			}
			created = append(created, l.wire(n))
			if !l.dropWrites {
				l.seq++
				n.seq = l.seq
				l.nums[n.id] = n
				l.byPhone[n.phone] = n
				l.bySeq = nil
				l.mutate(n.phone)
				applied = true
			}
		}
	}
	return answer{status: http.StatusCreated, body: map[string]any{"phoneNumbers": created, "rejectedPhoneNumbers": rejected},
		applied: applied, lostable: true}
}

// put serves PUT a-numbers and PUT business-unit phone-numbers: existing
// numbers into a program or business unit, when nothing is in the way.
func (l *Lab) put(body []byte, buID, progID, channel string, withProgram bool) answer {
	var req numbersBody
	if err := json.Unmarshal(body, &req); err != nil {
		return errAnswer(http.StatusBadRequest, `body must be {"phoneNumbers": [...]}`)
	}
	if len(req.PhoneNumbers) == 0 || len(req.PhoneNumbers) > maxBatch {
		return errAnswer(http.StatusBadRequest, fmt.Sprintf("1 to %d phone numbers per request", maxBatch))
	}
	okPlace := l.place(buID, progID, channel, withProgram)
	done, rejected := []map[string]any{}, []map[string]any{}
	seen := map[string]bool{}
	applied := false
	for _, phone := range req.PhoneNumbers {
		n := l.byPhone[phone]
		switch {
		case !validE164(phone):
			rejected = append(rejected, rejectedItem(phone, "", reasonInvalidNumber))
			continue
		case seen[phone]:
			rejected = append(rejected, rejectedItem(phone, "", reasonDuplicate))
			continue
		case n == nil:
			seen[phone] = true
			rejected = append(rejected, rejectedItem(phone, "", reasonNotFound))
			continue
		case !okPlace:
			seen[phone] = true
			rejected = append(rejected, rejectedItem(phone, n.cpc, reasonRelationshipMissing))
			continue
		}
		seen[phone] = true
		// What is in the way: another business unit, or (for a program)
		// another program; for a business-unit put, any program.
		blocked := n.bu != "" && n.bu != buID
		if withProgram {
			blocked = blocked || (n.prog != "" && n.prog != progID)
		} else {
			blocked = blocked || n.prog != ""
		}
		if blocked {
			rejected = append(rejected, rejectedItem(phone, n.cpc, reasonInvalidRelationship))
			continue
		}
		if n.bu == buID && n.prog == progID && (!withProgram || n.channel == channel) {
			done = append(done, l.wire(n)) // already there: nothing to change
			continue
		}
		if l.dropWrites {
			cp := *n
			cp.bu, cp.prog, cp.channel = buID, progID, channel
			done = append(done, l.wire(&cp))
			continue
		}
		n.bu = buID
		if withProgram {
			n.prog, n.channel = progID, channel
		}
		l.mutate(phone)
		applied = true
		done = append(done, l.wire(n))
	}
	return answer{status: http.StatusOK, body: map[string]any{"phoneNumbers": done, "rejectedPhoneNumbers": rejected},
		applied: applied, lostable: true}
}

// removeFromProgram serves DELETE .../a-numbers/{id}.
func (l *Lab) removeFromProgram(buID, progID, channel, id string) answer {
	n := l.nums[id]
	if n == nil {
		return errAnswer(http.StatusNotFound, "phone number not found")
	}
	if !l.place(buID, progID, channel, true) || n.bu != buID || n.prog != progID || n.channel != channel {
		return errAnswer(http.StatusNotFound, "phone number is not in this program")
	}
	if l.dropWrites {
		cp := *n
		cp.prog, cp.channel = "", ""
		return answer{status: http.StatusOK, body: l.wire(&cp), lostable: true}
	}
	n.prog, n.channel = "", ""
	l.mutate(n.phone)
	return answer{status: http.StatusOK, body: l.wire(n), applied: true, lostable: true}
}

// removeFromBU serves DELETE .../business-units/{bu}/phone-numbers/{id}.
func (l *Lab) removeFromBU(buID, id string) answer {
	n := l.nums[id]
	if n == nil {
		return errAnswer(http.StatusNotFound, "phone number not found")
	}
	if l.buByID[buID] == nil || n.bu != buID {
		return errAnswer(http.StatusNotFound, "phone number is not in this business unit")
	}
	if n.prog != "" {
		return errAnswer(http.StatusConflict, "phone number is still in a program of this business unit")
	}
	if l.dropWrites {
		cp := *n
		cp.bu = ""
		return answer{status: http.StatusOK, body: l.wire(&cp), lostable: true}
	}
	n.bu = ""
	l.mutate(n.phone)
	return answer{status: http.StatusOK, body: l.wire(n), applied: true, lostable: true}
}

// removeAllFrom serves the id-less DELETE on a program's a-numbers or a
// business unit's phone-numbers: it takes every number out, as the doc
// warns, and is counted as a delete-all call.
func (l *Lab) removeAllFrom(buID, progID string) answer {
	l.deleteAll++
	applied := false
	for _, n := range l.nums {
		if n.bu != buID {
			continue
		}
		if progID != "" && n.prog == progID {
			n.prog, n.channel = "", ""
			l.mutate(n.phone)
			applied = true
		} else if progID == "" && n.prog == "" {
			n.bu = ""
			l.mutate(n.phone)
			applied = true
		}
	}
	return answer{status: http.StatusOK, body: map[string]any{}, applied: applied, deleteAll: true, lostable: true}
}

// updateNumber serves PUT /phone-numbers/{id}: PUT acts as PATCH.
func (l *Lab) updateNumber(id string, body []byte) answer {
	n := l.nums[id]
	if n == nil {
		return errAnswer(http.StatusNotFound, "phone number not found")
	}
	var req struct {
		CallPurposeCode    *string `json:"callPurposeCode"`
		AuthenticatedCalls *bool   `json:"authenticatedCalls"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return errAnswer(http.StatusBadRequest, "invalid body")
	}
	target := n
	if l.dropWrites {
		cp := *n
		target = &cp
	}
	changed := false
	if req.CallPurposeCode != nil && *req.CallPurposeCode != target.cpc {
		target.cpc = *req.CallPurposeCode
		changed = true
	}
	if req.AuthenticatedCalls != nil && *req.AuthenticatedCalls != target.auth {
		target.auth = *req.AuthenticatedCalls
		changed = true
	}
	applied := changed && !l.dropWrites
	if applied {
		l.mutate(n.phone)
	}
	l.resolve(target)
	return answer{status: http.StatusOK, body: l.wire(target), applied: applied, lostable: true}
}

// deleteOne serves DELETE /phone-numbers/{id} ("not recommended").
func (l *Lab) deleteOne(id string) answer {
	n := l.nums[id]
	if n == nil {
		return errAnswer(http.StatusNotFound, "phone number not found")
	}
	body := l.wire(n)
	if !l.dropWrites {
		l.remove(n)
	}
	return answer{status: http.StatusOK, body: body, applied: !l.dropWrites, lostable: true}
}

func (l *Lab) remove(n *labNum) {
	delete(l.nums, n.id)
	delete(l.byPhone, n.phone)
	l.bySeq = nil
	l.mutate(n.phone)
}

// deleteAllNumbers serves the documented "DO NOT USE" calls: every number
// of the business is deleted, and the call is counted and flagged.
func (l *Lab) deleteAllNumbers() answer {
	l.deleteAll++
	deleted := []map[string]any{}
	for _, n := range l.nums {
		deleted = append(deleted, map[string]any{"phoneNumberId": n.id, "phoneNumber": n.phone})
		l.remove(n)
	}
	return answer{status: http.StatusOK, body: map[string]any{"deletedPhoneNumbers": deleted, "rejectedPhoneNumbers": []any{}},
		applied: len(deleted) > 0, deleteAll: true, lostable: true}
}

// batchDelete serves POST /phone-numbers/DELETE, by ids or by numbers.
func (l *Lab) batchDelete(body []byte) answer {
	var req struct {
		PhoneNumberIDs []string `json:"phoneNumberIds"`
		PhoneNumbers   []string `json:"phoneNumbers"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return errAnswer(http.StatusBadRequest, "invalid body")
	}
	total := len(req.PhoneNumberIDs) + len(req.PhoneNumbers)
	if total == 0 || total > maxBatch {
		return errAnswer(http.StatusBadRequest, fmt.Sprintf("1 to %d phone numbers or ids per request", maxBatch))
	}
	deleted, rejected := []map[string]any{}, []map[string]any{}
	applied := false
	del := func(n *labNum) {
		deleted = append(deleted, map[string]any{"phoneNumberId": n.id, "phoneNumber": n.phone})
		if !l.dropWrites {
			l.remove(n)
			applied = true
		}
	}
	for _, pid := range req.PhoneNumberIDs {
		if n := l.nums[pid]; n != nil {
			del(n)
		} else {
			rejected = append(rejected, map[string]any{"phoneNumberId": pid, "rejectionReason": reasonNotFound})
		}
	}
	for _, phone := range req.PhoneNumbers {
		if n := l.byPhone[phone]; n != nil {
			del(n)
		} else {
			rejected = append(rejected, rejectedItem(phone, "", reasonNotFound))
		}
	}
	return answer{status: http.StatusOK, body: map[string]any{"deletedPhoneNumbers": deleted, "rejectedPhoneNumbers": rejected},
		applied: applied, lostable: true}
}
