package lab

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// reply is what a handler decided to answer.
type reply struct {
	status  int
	data    any
	message string // error message; "" on success
	extra   map[string]any
	applied bool
}

func ok(status int, data any) reply { return reply{status: status, data: data} }

func fail(status int, message string, data any) reply {
	if data == nil {
		data = map[string]any{}
	}
	return reply{status: status, message: message, data: data}
}

// route is a parsed request path.
type route struct {
	kind    string // auth, search, list, number, activate, collection
	account string
	number  string
}

// parseRoute reads the escaped path segment by segment, so a "%2B" in a
// number is decoded exactly once.
func parseRoute(r *http.Request) (route, bool) {
	segs := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
	for i, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil {
			return route{}, false
		}
		segs[i] = u
	}
	if len(segs) < 2 || segs[0] != "v2" {
		return route{}, false
	}
	switch {
	case len(segs) == 2 && segs[1] == "api_auth":
		return route{kind: "auth"}, true
	case len(segs) == 2 && segs[1] == "phone_numbers":
		return route{kind: "search"}, true
	case len(segs) >= 4 && segs[1] == "accounts" && segs[3] == "phone_numbers":
		rt := route{account: segs[2]}
		switch {
		case len(segs) == 4:
			rt.kind = "list"
		case len(segs) == 6 && segs[4] == "collection" && segs[5] == "activate":
			rt.kind = "collection"
		case len(segs) == 5:
			rt.kind, rt.number = "number", normalize(segs[4])
		case len(segs) == 6 && segs[5] == "activate":
			rt.kind, rt.number = "activate", normalize(segs[4])
		default:
			return route{}, false
		}
		return rt, true
	}
	return route{}, false
}

// normalize reads a number as Kazoo does (doc): a bare ten-digit number is
// North American; any other bare number gets a "+".
func normalize(s string) string {
	if strings.HasPrefix(s, "+") {
		return s
	}
	if len(s) == 10 && digits(s) {
		return "+1" + s
	}
	return "+" + s
}

func isWrite(method string) bool {
	return method == http.MethodPut || method == http.MethodPost ||
		method == http.MethodPatch || method == http.MethodDelete
}

// ServeHTTP answers one request of the OneUC API.
func (l *Lab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if d := l.opts.Latency; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}

	l.mu.Lock()
	l.stats.Requests++
	l.seq++
	reqID := fmt.Sprintf("lab-%06d", l.seq)
	entry := LoggedRequest{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery,
		Body: redact(body), Time: l.now()}
	rt, known := parseRoute(r)
	remaining, throttled := l.take()
	var fault Fault
	forced := false
	if known && rt.kind != "auth" {
		fault, forced = l.takeFault(r.Method, entry.Path)
	}
	var rep reply
	token := r.Header.Get("X-Auth-Token")
	lose := false
	switch {
	case throttled, forced && fault.Kind == FaultThrottle:
		l.stats.Throttled++
		rep = fail(http.StatusTooManyRequests, "too_many_requests", nil)
	case !known:
		rep = fail(http.StatusNotFound, "not_found", map[string]any{"message": "bad identifier"})
	case rt.kind == "auth":
		rep = l.auth(r.Method, body)
		if rep.status < 300 {
			token = rep.extra["auth_token"].(string)
		}
	case !l.validToken(token):
		token = ""
		rep = fail(http.StatusUnauthorized, "invalid credentials", nil)
	case rt.kind != "search" && rt.account != l.opts.AccountID:
		rep = fail(http.StatusForbidden, "forbidden", map[string]any{"message": "access to the account is not allowed"})
	case forced && fault.Kind == FaultUnavailable,
		!forced && l.opts.FaultRate > 0 && l.rnd.Float64() < l.opts.FaultRate:
		l.stats.Faults++
		rep = fail(http.StatusServiceUnavailable, "service unavailable", nil)
	default:
		rep = l.handle(r.Method, rt, r.URL.Query(), body)
		if rep.applied && isWrite(r.Method) && (forced || l.opts.LostRate > 0 && l.rnd.Float64() < l.opts.LostRate) {
			lose = !forced || fault.Kind == FaultLost || fault.Kind == FaultDrop
		}
	}
	entry.Applied = rep.applied
	hijack := false
	if lose {
		l.stats.Lost++
		entry.Lost = true
		if forced {
			hijack = fault.Kind == FaultDrop
		} else {
			hijack = l.rnd.IntN(2) == 0
		}
		rep = fail(http.StatusServiceUnavailable, "service unavailable", nil)
	}
	entry.Status = rep.status
	if hijack {
		entry.Status = 0
	}
	l.log = append(l.log, entry)
	l.mu.Unlock()

	if hijack {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
	}
	writeEnvelope(w, token, reqID, remaining, rep)
}

// writeEnvelope writes Kazoo's answer envelope.
func writeEnvelope(w http.ResponseWriter, token, reqID string, remaining int, rep reply) {
	env := map[string]any{
		"auth_token": token,
		"data":       rep.data,
		"request_id": reqID,
		"revision":   "undefined",
		"tokens":     map[string]any{"consumed": 1, "remaining": remaining},
	}
	if rep.message == "" {
		env["status"] = "success"
	} else {
		env["status"] = "error"
		env["error"] = strconv.Itoa(rep.status)
		env["message"] = rep.message
	}
	for k, v := range rep.extra {
		env[k] = v
	}
	b, err := json.Marshal(env)
	if err != nil {
		http.Error(w, "lab: encode answer", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	_, _ = w.Write(b)
}

// redact hides api_key values in a logged body.
func redact(body []byte) string {
	s := string(body)
	if strings.Contains(s, "api_key") {
		var v any
		if json.Unmarshal(body, &v) == nil {
			scrub(v)
			if b, err := json.Marshal(v); err == nil {
				s = string(b)
			}
		} else {
			s = "[unreadable body with api_key redacted]"
		}
	}
	if len(s) > 4096 {
		s = s[:4096]
	}
	return s
}

func scrub(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if k == "api_key" {
				t[k] = "[redacted]"
				continue
			}
			scrub(x)
		}
	case []any:
		for _, x := range t {
			scrub(x)
		}
	}
}

// take takes one token from the bucket; throttled when it is empty.
func (l *Lab) take() (remaining int, throttled bool) {
	if l.opts.RefillPerSec <= 0 {
		return l.opts.Bucket, false
	}
	now := l.now()
	if el := now.Sub(l.refilledAt).Seconds(); el > 0 {
		l.bucket = math.Min(float64(l.opts.Bucket), l.bucket+el*l.opts.RefillPerSec)
	}
	l.refilledAt = now
	if l.bucket < 1 {
		return 0, true
	}
	l.bucket--
	return int(l.bucket), false
}

func (l *Lab) validToken(tok string) bool {
	if tok == "" {
		return false
	}
	exp, ok := l.tokens[tok]
	if !ok {
		return false
	}
	if !l.now().Before(exp) {
		delete(l.tokens, tok)
		return false
	}
	return true
}

func (l *Lab) auth(method string, body []byte) reply {
	if method != http.MethodPut {
		return fail(http.StatusMethodNotAllowed, "method_not_allowed", nil)
	}
	var req struct {
		Data struct {
			APIKey string `json:"api_key"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &req) != nil || req.Data.APIKey == "" {
		return fail(http.StatusBadRequest, "invalid data", map[string]any{"api_key": map[string]any{
			"required": map[string]any{"message": "Field is required but missing"}}})
	}
	okKey := false
	for _, k := range l.opts.APIKeys {
		if k == req.Data.APIKey {
			okKey = true
		}
	}
	if !okKey {
		return fail(http.StatusUnauthorized, "invalid credentials", nil)
	}
	l.stats.Logins++
	var b [16]byte
	for i := range b {
		b[i] = byte(l.rnd.IntN(256))
	}
	tok := hex.EncodeToString(b[:])
	l.tokens[tok] = l.now().Add(l.opts.TokenTTL)
	rep := ok(http.StatusCreated, map[string]any{"account_id": l.opts.AccountID, "method": "api_auth"})
	rep.extra = map[string]any{"auth_token": tok}
	return rep
}

// handle dispatches an authenticated request.
func (l *Lab) handle(method string, rt route, q url.Values, body []byte) reply {
	switch {
	case rt.kind == "search" && method == http.MethodGet:
		return l.search(q)
	case rt.kind == "list" && method == http.MethodGet:
		return l.list(q)
	case rt.kind == "collection" && method == http.MethodPut:
		return l.collection(body)
	case rt.kind == "activate" && method == http.MethodPut:
		return l.activateOne(rt.number, body)
	case rt.kind == "number" && method == http.MethodGet:
		x, held := l.numbers[rt.number]
		if !held || !x.held {
			return notFound()
		}
		return ok(http.StatusOK, x.full())
	case rt.kind == "number" && (method == http.MethodPatch || method == http.MethodPost):
		return l.update(method, rt.number, body)
	case rt.kind == "number" && method == http.MethodDelete:
		return l.release(rt.number)
	}
	return fail(http.StatusMethodNotAllowed, "method_not_allowed", nil)
}

func notFound() reply {
	return fail(http.StatusNotFound, "bad_identifier",
		map[string]any{"message": "bad identifier", "not_found": "The number could not be found"})
}

// full is a number as GET answers it.
func (x *number) full() map[string]any {
	d := deepCopy(x.doc).(map[string]any)
	feats := x.featureList()
	d["id"] = x.number
	d["state"] = x.state
	d["features"] = feats
	d["_read_only"] = map[string]any{"created": x.created, "modified": x.modified,
		"state": x.state, "features": feats}
	return d
}

func (l *Lab) search(q url.Values) reply {
	prefix := q.Get("prefix")
	var base string
	switch {
	case strings.HasPrefix(prefix, "+") && digits(prefix[1:]) && len(prefix) >= 4 && len(prefix) <= 11:
		base = prefix
	case digits(prefix) && len(prefix) >= 3 && len(prefix) <= 10:
		base = "+1" + prefix
	default:
		return fail(http.StatusBadRequest, "invalid data", map[string]any{"prefix": map[string]any{
			"pattern": map[string]any{"message": "prefix must be 3 to 10 digits"}}})
	}
	quantity := 1
	if s := q.Get("quantity"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > 500 {
			return fail(http.StatusBadRequest, "invalid data", map[string]any{"quantity": map[string]any{
				"maximum": map[string]any{"message": "quantity must be 1 to 500"}}})
		}
		quantity = v
	}
	l.stats.Searches++
	found := map[string]bool{}
	for _, p := range l.pool {
		var b string
		switch {
		case strings.HasPrefix(p, base):
			b = p
		case strings.HasPrefix(base, p):
			b = base
		default:
			continue
		}
		l.enumerate(b, quantity, found)
	}
	hits := make([]string, 0, len(found))
	for n := range found {
		hits = append(hits, n)
	}
	sort.Strings(hits)
	if len(hits) > quantity {
		hits = hits[:quantity]
	}
	if m := l.opts.WideAnswerMax; m > 0 && labLen-len(base) > 1 && len(hits) > m {
		// A carrier that answers a wide search short: keep m at random.
		l.rnd.Shuffle(len(hits), func(i, j int) { hits[i], hits[j] = hits[j], hits[i] })
		hits = hits[:m]
		sort.Strings(hits)
	}
	data := make([]any, 0, len(hits))
	for _, n := range hits {
		l.discovered[n] = true
		data = append(data, map[string]any{
			"e164": n, "number": n, "formatted_number": n, "npa_nxx": n[2:8],
			"number_id": fmt.Sprintf("LAB-%s", n[1:]), "status": "Available", "ten_digit": n[2:],
			"rate_center": map[string]any{"lata": "000", "name": "LAB", "state": "XX"},
		})
	}
	return ok(http.StatusOK, data)
}

// labLen is the length of a lab number: "+" and 11 digits.
const labLen = 12

// enumerate adds up to want searchable numbers starting with b to found.
func (l *Lab) enumerate(b string, want int, found map[string]bool) {
	if len(b) >= labLen {
		if len(b) == labLen && l.searchable(b) {
			found[b] = true
		}
		return
	}
	free := labLen - len(b)
	limit := int(math.Pow10(free))
	got := 0
	for i := 0; i < limit && got < want && i < 200000; i++ {
		n := b + fmt.Sprintf("%0*d", free, i)
		if l.searchable(n) {
			found[n] = true
			got++
		}
	}
}

// searchable reports whether a search may return n: not held by the
// account, and not one of the numbers the carrier never has (…0000).
func (l *Lab) searchable(n string) bool {
	if strings.HasSuffix(n, "0000") {
		return false
	}
	x, ok := l.numbers[n]
	return !ok || !x.held
}

func (l *Lab) list(q url.Values) reply {
	size := 50
	if s := q.Get("page_size"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > l.opts.MaxPageSize {
			return fail(http.StatusBadRequest, "invalid data", map[string]any{"page_size": map[string]any{
				"maximum": map[string]any{"message": fmt.Sprintf("page_size must be 1 to %d", l.opts.MaxPageSize)}}})
		}
		size = v
	}
	held := l.sortedHeld()
	start := 0
	if k := q.Get("start_key"); k != "" {
		start = sort.SearchStrings(held, k)
	}
	end := min(start+size, len(held))
	nums := map[string]any{}
	for _, n := range held[start:end] {
		x := l.numbers[n]
		nums[n] = map[string]any{"assigned_to": l.opts.AccountID, "created": x.created,
			"updated": x.modified, "state": x.state, "features": x.featureList()}
	}
	rep := ok(http.StatusOK, map[string]any{"cascade_quantity": 0, "numbers": nums})
	rep.extra = map[string]any{"page_size": end - start}
	if k := q.Get("start_key"); k != "" {
		rep.extra["start_key"] = k
	}
	if end < len(held) {
		rep.extra["next_start_key"] = held[end]
	}
	return rep
}

// acceptsCharges reports whether a write body carries accept_charges:true.
func acceptsCharges(body []byte) bool {
	var b struct {
		AcceptCharges bool `json:"accept_charges"`
	}
	return json.Unmarshal(body, &b) == nil && b.AcceptCharges
}

func chargesQuote() reply {
	return fail(http.StatusPaymentRequired, "accept charges", map[string]any{
		"phone_numbers": map[string]any{"activation_charges": 0, "quantity": 1}})
}

var directStates = map[string]bool{"reserved": true, "available": true, "port_in": true, "aging": true, "discovery": true}

// activate carries out one number's activation; fault is nil on success.
func (l *Lab) activate(n string) (doc map[string]any, fault map[string]any, applied bool) {
	c := l.count(n)
	c.ActivateRequests++
	x, exists := l.numbers[n]
	if exists && x.held && x.state == "in_service" {
		return x.full(), nil, false
	}
	direct := exists && x.held && directStates[x.state]
	if !direct && !l.discovered[n] {
		return nil, map[string]any{"code": 500, "error": "unspecified_fault", "message": "missing_provider_url"}, false
	}
	if exists && x.held && x.state == "port_out" {
		return nil, map[string]any{"code": 500, "error": "unspecified_fault", "message": "number is porting out", "cause": n}, false
	}
	if strings.HasSuffix(n, "9999") {
		return nil, map[string]any{"cause": n, "code": 500, "error": "unspecified_fault", "message": "fault by carrier"}, false
	}
	if l.opts.DropWrites {
		now := l.gregorianNow()
		return map[string]any{"id": n, "state": "in_service", "_read_only": map[string]any{
			"created": now, "modified": now, "state": "in_service"}}, nil, true
	}
	if !exists || !x.held {
		now := l.gregorianNow()
		x = &number{number: n, doc: map[string]any{}, created: now}
		l.numbers[n] = x
		x.held = true
		l.heldIndex = nil
	}
	x.state = "in_service"
	l.touch(x)
	c.Activated++
	return map[string]any{"id": n, "state": "in_service", "_read_only": map[string]any{
		"created": x.created, "modified": x.modified, "state": "in_service"}}, nil, true
}

func (l *Lab) activateOne(n string, body []byte) reply {
	if !acceptsCharges(body) {
		return chargesQuote()
	}
	doc, fault, applied := l.activate(n)
	if fault != nil {
		msg, _ := fault["message"].(string)
		if msg == "missing_provider_url" || msg == "fault by carrier" {
			return fail(http.StatusInternalServerError, "unspecified_fault", fault)
		}
		return fail(http.StatusBadRequest, "invalid data", fault)
	}
	l.stats.Activations++
	rep := ok(http.StatusOK, doc)
	rep.applied = applied
	return rep
}

func (l *Lab) collection(body []byte) reply {
	if !acceptsCharges(body) {
		return chargesQuote()
	}
	var req struct {
		Data struct {
			Numbers []string `json:"numbers"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &req) != nil || len(req.Data.Numbers) == 0 {
		return fail(http.StatusBadRequest, "invalid data", map[string]any{"numbers": map[string]any{
			"required": map[string]any{"message": "Field is required but missing"}}})
	}
	success := map[string]any{}
	faults := map[string]any{}
	applied := false
	for _, raw := range req.Data.Numbers {
		n := normalize(raw)
		doc, fault, did := l.activate(n)
		applied = applied || did
		if l.omit[n] {
			continue
		}
		if fault != nil {
			faults[n] = fault
		} else {
			success[n] = doc
		}
	}
	if applied {
		l.stats.Activations++
	}
	shape := l.opts.CollectionShape
	if shape != ShapeSuccessError && shape != ShapeClientError {
		shape = 1 + l.rnd.IntN(2)
	}
	var rep reply
	if shape == ShapeClientError && len(faults) > 0 {
		rep = fail(http.StatusBadRequest, "client error", faults)
	} else {
		data := map[string]any{"success": success}
		switch {
		case len(faults) > 0:
			data["error"] = faults
		case l.opts.CollectionShape == ShapeMixed:
			// Kazoo answers "no failures" in several ways.
			switch l.rnd.IntN(3) {
			case 0:
				data["error"] = map[string]any{}
			case 1:
				data["error"] = []any{}
			}
		default:
			data["error"] = map[string]any{}
		}
		rep = ok(http.StatusOK, data)
	}
	rep.applied = applied
	return rep
}

// publicKey reports whether a client may set a top-level field.
func publicKey(k string) bool {
	return k != "id" && k != "state" && k != "features" && !strings.HasPrefix(k, "_") && k != "pvt_type"
}

// update applies a PATCH (RFC 7396 merge) or a POST (replace all public
// fields) to a held number, with the CNAM and E911 rules.
func (l *Lab) update(method, n string, body []byte) reply {
	if !acceptsCharges(body) {
		return chargesQuote()
	}
	x, exists := l.numbers[n]
	if !exists || !x.held {
		return notFound()
	}
	var req struct {
		Data map[string]any `json:"data"`
	}
	if json.Unmarshal(body, &req) != nil || req.Data == nil {
		return fail(http.StatusBadRequest, "invalid data", map[string]any{"data": map[string]any{
			"type": map[string]any{"message": "data must be an object"}}})
	}
	var next map[string]any
	if method == http.MethodPost {
		next = map[string]any{}
		for k, v := range req.Data {
			if publicKey(k) && v != nil {
				next[k] = deepCopy(v)
			}
		}
	} else {
		next = deepCopy(x.doc).(map[string]any)
		for k, v := range req.Data {
			if publicKey(k) {
				mergeInto(next, k, v)
			}
		}
	}
	if c, has := next["cnam"]; has {
		cm, isMap := c.(map[string]any)
		if !isMap {
			return fail(http.StatusBadRequest, "invalid data", map[string]any{"cnam": map[string]any{
				"type": map[string]any{"message": "cnam must be an object"}}})
		}
		if dn, has := cm["display_name"]; has {
			s, isStr := dn.(string)
			if !isStr || len([]rune(s)) < 1 || len([]rune(s)) > 15 {
				return fail(http.StatusBadRequest, "invalid data", map[string]any{"cnam.display_name": map[string]any{
					"maxLength": map[string]any{"message": "String must be 1 to 15 characters", "target": 15}}})
			}
		}
	}
	if e, has := next["e911"]; has && !reflect.DeepEqual(e, x.doc["e911"]) {
		em, isMap := e.(map[string]any)
		if !isMap {
			return fail(http.StatusBadRequest, "invalid data", map[string]any{"e911": map[string]any{
				"type": map[string]any{"message": "e911 must be an object"}}})
		}
		if x.state != "in_service" {
			return fail(http.StatusBadRequest, "invalid data", map[string]any{"e911": map[string]any{
				"state": map[string]any{"message": "E911 can only be set on an in_service number"}}})
		}
		if rep, bad := checkAddress(em); bad {
			return rep
		}
		next["e911"] = geocode(em)
	}
	if l.opts.DropWrites {
		shadow := *x
		shadow.doc = next
		return reply{status: http.StatusOK, data: shadow.full(), applied: true}
	}
	x.doc = next
	l.touch(x)
	if method == http.MethodPost {
		l.count(n).Posted++
	} else {
		l.count(n).Patched++
	}
	return reply{status: http.StatusOK, data: x.full(), applied: true}
}

// mergeInto applies one RFC 7396 merge-patch member to target.
func mergeInto(target map[string]any, k string, v any) {
	if v == nil {
		delete(target, k)
		return
	}
	pm, isMap := v.(map[string]any)
	if !isMap {
		target[k] = deepCopy(v)
		return
	}
	tm, ok := target[k].(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for kk, vv := range pm {
		mergeInto(tm, kk, vv)
	}
	target[k] = tm
}

// addressFields are the fields a client gives; geocoding adds the others.
var addressFields = []string{"street_address", "extended_address", "locality", "region", "postal_code", "caller_name"}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// checkAddress applies the lab's geocoding rules (vendors.md "Lab rules").
func checkAddress(e map[string]any) (reply, bool) {
	cause := map[string]any{}
	for _, f := range addressFields {
		if v, ok := e[f]; ok {
			cause[f] = v
		}
	}
	street := str(e, "street_address")
	if strings.Contains(strings.ToUpper(street), "NOWHERE") || street == "" || str(e, "locality") == "" ||
		len(str(e, "region")) != 2 || str(e, "postal_code") == "" {
		return fail(http.StatusBadRequest, "invalid data", map[string]any{"address": map[string]any{
			"invalid": map[string]any{"cause": cause, "message": "Location is not geocoded"}}}), true
	}
	if street[0] < '0' || street[0] > '9' {
		cand := func(house string) map[string]any {
			c := map[string]any{"street_address": house + " " + strings.ToUpper(street),
				"locality": strings.ToUpper(str(e, "locality")), "region": strings.ToUpper(str(e, "region")),
				"postal_code": str(e, "postal_code")}
			if ext := str(e, "extended_address"); ext != "" {
				c["extended_address"] = strings.ToUpper(ext)
			}
			return c
		}
		return fail(http.StatusBadRequest, "multiple_choice", map[string]any{"multiple_choice": map[string]any{
			"e911": map[string]any{"cause": cause, "details": []any{cand("1"), cand("100")},
				"message": "more than one address found"}}}), true
	}
	if cn := str(e, "caller_name"); cn != "" && len(cn) < 3 {
		return fail(http.StatusBadRequest, "invalid data", map[string]any{"e911.caller_name": map[string]any{
			"minLength": map[string]any{"message": "String must be at least 3 characters", "target": 3}}}), true
	}
	return reply{}, false
}

// geocode returns the address as the lab's geocoder answers it: upper
// case, single spaces, with coordinates, a location id and legacy data.
func geocode(e map[string]any) map[string]any {
	up := func(s string) string { return strings.ToUpper(strings.Join(strings.Fields(s), " ")) }
	out := map[string]any{}
	for k, v := range e {
		out[k] = deepCopy(v)
	}
	for _, k := range []string{"street_address", "extended_address", "locality", "region"} {
		if s := str(e, k); s != "" {
			out[k] = up(s)
		} else {
			delete(out, k)
		}
	}
	h := fnv.New64a()
	for _, k := range []string{"street_address", "locality", "region", "postal_code"} {
		h.Write([]byte(up(str(e, k)) + "|"))
	}
	sum := h.Sum64()
	out["latitude"] = fmt.Sprintf("%.6f", 25+float64(sum%2000000)/100000)
	out["longitude"] = fmt.Sprintf("%.6f", -70-float64((sum>>21)%5000000)/100000)
	out["location_id"] = strconv.FormatUint(sum%100000000, 10)
	out["status"] = "PROVISIONED"
	street := up(str(e, "street_address"))
	house, rest, _ := strings.Cut(street, " ")
	legacy := map[string]any{"house_number": house, "streetname": rest}
	if ext := str(out, "extended_address"); ext != "" {
		legacy["suite"] = ext
	}
	out["legacy_data"] = legacy
	return out
}

// release removes a held number from the account (it goes back to the
// carrier as available and keeps none of its fields).
func (l *Lab) release(n string) reply {
	x, exists := l.numbers[n]
	if !exists || !x.held {
		return notFound()
	}
	if l.opts.DropWrites {
		return reply{status: http.StatusOK, applied: true, data: map[string]any{"id": n, "state": "available",
			"_read_only": map[string]any{"created": x.created, "modified": x.modified, "state": "available"}}}
	}
	x.held = false
	l.heldIndex = nil
	x.state = "available"
	x.doc = map[string]any{}
	x.features = nil
	l.touch(x)
	l.count(n).Released++
	return reply{status: http.StatusOK, applied: true, data: map[string]any{"id": n, "state": "available",
		"_read_only": map[string]any{"created": x.created, "modified": x.modified, "state": "available"}}}
}
