package firstorion

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/vendors/jsonscan"
)

// The wire types: what the Exchange API sends and receives. Decoding is
// strict about what matters (ids, numbers) and lenient about the rest, so
// a field the vendor adds or formats differently cannot break a run.

// envelope is every answer: {"body": ..., "error": ..., "info": ...}.
type envelope struct {
	Body  json.RawMessage `json:"body"`
	Error *apiError       `json:"error"`
	Info  *pageInfo       `json:"info"`
}

type apiError struct {
	Code        json.RawMessage `json:"code"`
	Description string          `json:"description"`
}

type pageInfo struct {
	NextPage string `json:"nextPage"`
}

// tokenAnswer is the answer of /v1/auth and /v1/auth/refresh. It may come
// bare or inside the envelope's body; decodeToken reads both.
type tokenAnswer struct {
	Token        string  `json:"token"`
	RefreshToken string  `json:"refresh_token"`
	ExpiresIn    flexNum `json:"expires_in"`
	TokenType    string  `json:"token_type"`
	ExpiresAt    flexNum `json:"expires_at"`
}

// flexNum reads a JSON number, or a number written as a string (the API
// writes its timestamps as strings; expires_in might follow).
type flexNum float64

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexNum) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(strings.TrimSpace(s))
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("not a number: %w", err)
	}
	*f = flexNum(v)
	return nil
}

// refreshRequest is the body of /v1/auth/refresh (assumed).
type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// wireNumber is a phone number as the API describes it.
type wireNumber struct {
	PhoneNumberID      string        `json:"phoneNumberId"`
	PhoneNumber        string        `json:"phoneNumber"`
	Status             string        `json:"status"`
	CallPurposeCode    string        `json:"callPurposeCode"`
	AuthenticatedCalls *bool         `json:"authenticatedCalls"`
	Relationships      relationships `json:"relationships"`
}

type relationships struct {
	BusinessID     string `json:"businessId"`
	BusinessUnitID string `json:"businessUnitId"`
	ProgramID      string `json:"programId"`
	CallerName     bool   `json:"callerName"`
	CallerImage    bool   `json:"callerImage"`
	Blocking       bool   `json:"blocking"`
}

// channel returns the delivery channel whose key is true, "" when none is.
func (r relationships) channel() string {
	switch {
	case r.CallerName:
		return plan.ChannelCallerName
	case r.CallerImage:
		return plan.ChannelCallerImage
	case r.Blocking:
		return plan.ChannelBlocking
	}
	return ""
}

// state converts a wire number to the plan's terms.
func (n wireNumber) state() plan.State {
	s := plan.State{
		Number:       strings.TrimSpace(n.PhoneNumber),
		ID:           n.PhoneNumberID,
		Status:       n.Status,
		BusinessUnit: n.Relationships.BusinessUnitID,
		Program:      n.Relationships.ProgramID,
		CallPurpose:  n.CallPurposeCode,
	}
	if s.Program != "" {
		s.Channel = n.Relationships.channel()
	}
	auth := false
	if n.AuthenticatedCalls != nil {
		auth = *n.AuthenticatedCalls
	}
	s.AuthCalls = &auth
	return s
}

// createItem is one element of a create body.
type createItem struct {
	PhoneNumber        string `json:"phoneNumber"`
	CallPurposeCode    string `json:"callPurposeCode,omitempty"`
	AuthenticatedCalls bool   `json:"authenticatedCalls"`
}

// numbersBody is the body of a PUT into a program or business unit.
type numbersBody struct {
	PhoneNumbers []string `json:"phoneNumbers"`
}

// updateBody is the body of a PUT on one number; absent fields are left as
// they are (PUT acts as PATCH).
type updateBody struct {
	CallPurposeCode    string `json:"callPurposeCode,omitempty"`
	AuthenticatedCalls *bool  `json:"authenticatedCalls,omitempty"`
}

// deleteBody is the body of the batch delete.
type deleteBody struct {
	PhoneNumberIDs []string `json:"phoneNumberIds"`
}

// rejection is one refused number of a write answer.
type rejection struct {
	PhoneNumber            string `json:"phoneNumber"`
	PhoneNumberID          string `json:"phoneNumberId"`
	CallPurposeCode        string `json:"callPurposeCode"`
	RejectionReason        string `json:"rejectionReason"`
	AllocatedBusinessID    string `json:"allocatedBusinessId"`
	AllocatedPhoneNumberID string `json:"allocatedPhoneNumberId"`
	Description            string `json:"description"`
}

// writeAnswer is the body of create and put answers.
type writeAnswer struct {
	PhoneNumbers         []wireNumber `json:"phoneNumbers"`
	RejectedPhoneNumbers []rejection  `json:"rejectedPhoneNumbers"`
}

// deletedNumber is one element of deletedPhoneNumbers.
type deletedNumber struct {
	PhoneNumberID string `json:"phoneNumberId"`
	PhoneNumber   string `json:"phoneNumber"`
}

// deleteAnswer is the body of a batch-delete answer (shape assumed).
type deleteAnswer struct {
	DeletedPhoneNumbers  []deletedNumber `json:"deletedPhoneNumbers"`
	RejectedPhoneNumbers []rejection     `json:"rejectedPhoneNumbers"`
}

// wireBusinessUnit and wireProgram are listing elements.
type wireBusinessUnit struct {
	BusinessUnitID string `json:"businessUnitId"`
	Name           string `json:"name"`
}

type wireProgram struct {
	ProgramID        string   `json:"programId"`
	ProgramName      string   `json:"programName"`
	Active           bool     `json:"active"`
	CallPurposeCode  string   `json:"callPurposeCode"`
	DeliveryChannels []string `json:"deliveryChannels"`
}

var errNoBody = errors.New("answer has no body")

// decodeEnvelope reads an answer's envelope. A body that is not JSON, or
// not an object, is an error: an answer nobody understood never counts as
// success.
func decodeEnvelope(data []byte) (envelope, error) {
	var env envelope
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return env, errors.New("answer is not a JSON object")
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return env, fmt.Errorf("decode answer: %w", err)
	}
	return env, nil
}

// decodeBody decodes an envelope's body into v; a null or absent body is
// errNoBody.
func decodeBody(env envelope, v any) error {
	b := bytes.TrimSpace(env.Body)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return errNoBody
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode body: %w", err)
	}
	return nil
}

// decodeToken reads an auth answer, bare ({"token": ...}) or enveloped
// ({"body": {"token": ...}}): the doc shows the bare form, the envelope is
// the API's general rule, so both are accepted.
func decodeToken(data []byte) (tokenAnswer, error) {
	var t tokenAnswer
	env, err := decodeEnvelope(data)
	if err != nil {
		return t, err
	}
	if len(bytes.TrimSpace(env.Body)) > 0 && !bytes.Equal(bytes.TrimSpace(env.Body), []byte("null")) {
		if err := decodeBody(env, &t); err != nil {
			return t, err
		}
	} else if err := json.Unmarshal(data, &t); err != nil {
		return t, fmt.Errorf("decode token: %w", err)
	}
	if t.Token == "" {
		return t, errors.New("auth answer has no token")
	}
	if t.ExpiresIn < 0 || t.ExpiresIn > 1e7 {
		return t, errors.New("auth answer has an unreasonable expires_in")
	}
	return t, nil
}

// decodeAs reads an answer whose body is a T.
func decodeAs[T any](data []byte) (T, error) {
	var a T
	env, err := decodeEnvelope(data)
	if err != nil {
		return a, err
	}
	if err := decodeBody(env, &a); err != nil {
		return a, err
	}
	return a, nil
}

// decodeWrite reads a create or put answer.
func decodeWrite(data []byte) (writeAnswer, error) { return decodeAs[writeAnswer](data) }

// decodeOne reads an answer whose body is one phone number; the number must
// have an id.
func decodeOne(data []byte) (wireNumber, error) {
	n, err := decodeAs[wireNumber](data)
	if err == nil && n.PhoneNumberID == "" {
		err = errors.New("answer has no phoneNumberId")
	}
	return n, err
}

// decodeDelete reads a batch-delete answer.
func decodeDelete(data []byte) (deleteAnswer, error) { return decodeAs[deleteAnswer](data) }

// pageEnvelope is a listing answer decoded in one pass: the body straight
// into its items, not copied as raw JSON first.
type pageEnvelope[T any] struct {
	Body  pageBody[T] `json:"body"`
	Error *apiError   `json:"error"`
	Info  *pageInfo   `json:"info"`
}

// pageBody decodes a listing body into items, which may hold a previous
// page's backing array to reuse; set records that a non-null body was
// there.
type pageBody[T any] struct {
	items []T
	set   bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (p *pageBody[T]) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		p.set = false
		return nil
	}
	p.set = true
	// A second "body" key starts from zeroed elements, as the first did.
	clear(p.items)
	p.items = p.items[:0]
	return json.Unmarshal(b, &p.items)
}

// decodePage reads a listing page into items and returns the next page's
// cursor ("" on the last page).
func decodePage[T any](data []byte) ([]T, string, error) {
	return decodePageInto[T](data, nil)
}

// decodePageInto is decodePage where reuse, when not nil, is a previous
// page's items, no longer used, whose backing array the new items may
// reuse.
//
// A well-formed page is decoded in one pass. Anything else (not an object,
// bad JSON, no body, a body that is not a list of T) is decoded again the
// general way, envelope then body, so that the error is the one every
// other answer gets.
func decodePageInto[T any](data []byte, reuse []T) ([]T, string, error) {
	var items []T
	var info *pageInfo
	// encoding/json decodes into a reused element without zeroing it
	// first: a field absent from this page must not keep the last page's.
	clear(reuse[:cap(reuse)])
	fast := pageEnvelope[T]{Body: pageBody[T]{items: reuse[:0]}}
	scanned := false
	if numbers, ok := any(reuse).([]wireNumber); ok {
		// A page of numbers, the listing's million, is scanned by hand;
		// anything the scanner does not take is decoded as below.
		if got, inf, ok := scanNumbersPage(data, numbers[:0]); ok {
			items, info, scanned = any(got).([]T), inf, true
		} else {
			clear(reuse[:cap(reuse)])
		}
	}
	if scanned {
	} else if b := bytes.TrimSpace(data); len(b) > 0 && b[0] == '{' && json.Unmarshal(b, &fast) == nil && fast.Body.set {
		items, info = fast.Body.items, fast.Info
	} else {
		env, err := decodeEnvelope(data)
		if err != nil {
			return nil, "", err
		}
		if err := decodeBody(env, &items); err != nil {
			return nil, "", err
		}
		info = env.Info
	}
	next := ""
	if info != nil && strings.TrimSpace(info.NextPage) != "" {
		var err error
		next, err = pageHashOf(info.NextPage)
		if err != nil {
			return nil, "", err
		}
	}
	return items, next, nil
}

// scanNumbersPage decodes a page of numbers the way decodePageInto's
// encoding/json path does, with jsonscan, into items (a previous page's,
// zeroed): {"body": [wireNumber...], "error": null, "info": {"nextPage":
// "..."}}. It reports false, leaving the page to encoding/json, on
// anything else: a null or repeated body, an error that is not null,
// strings it does not take, a key that only differs from a field by case,
// an element that is not an object, bad JSON.
func scanNumbersPage(data []byte, items []wireNumber) ([]wireNumber, *pageInfo, bool) {
	sc := jsonscan.New(data)
	var info *pageInfo
	var sawBody, sawError, sawInfo bool
	// A page repeats a few words (units, programs, states, codes) a
	// thousand times: one string each.
	words := make(map[string]string, 16)
	word := func(b []byte) string {
		if w, ok := words[string(b)]; ok {
			return w
		}
		w := string(b)
		words[w] = w
		return w
	}
	// str reads a string field: null leaves it as it is.
	str := func(dst *string, intern bool) bool {
		if sc.Peek() == 'n' {
			return sc.Lit("null")
		}
		b, ok := sc.Str()
		if !ok {
			return false
		}
		if intern {
			*dst = word(b)
		} else {
			*dst = string(b)
		}
		return true
	}
	boolField := func(dst *bool) bool {
		v, set, ok := sc.Bool()
		if set {
			*dst = v
		}
		return ok
	}
	relationships := func(r *relationships) bool {
		return sc.Object(func(key []byte) bool {
			switch string(key) {
			case "businessId":
				return str(&r.BusinessID, true)
			case "businessUnitId":
				return str(&r.BusinessUnitID, true)
			case "programId":
				return str(&r.ProgramID, true)
			case "callerName":
				return boolField(&r.CallerName)
			case "callerImage":
				return boolField(&r.CallerImage)
			case "blocking":
				return boolField(&r.Blocking)
			}
			return !jsonscan.CaseVariant(key, "businessId", "businessUnitId", "programId", "callerName", "callerImage", "blocking") && sc.Skip()
		})
	}
	number := func(n *wireNumber) bool {
		return sc.Object(func(key []byte) bool {
			switch string(key) {
			case "phoneNumberId":
				return str(&n.PhoneNumberID, false)
			case "phoneNumber":
				return str(&n.PhoneNumber, false)
			case "status":
				return str(&n.Status, true)
			case "callPurposeCode":
				return str(&n.CallPurposeCode, true)
			case "authenticatedCalls":
				v, set, ok := sc.Bool()
				if set {
					n.AuthenticatedCalls = &v
				} else {
					n.AuthenticatedCalls = nil
				}
				return ok
			case "relationships":
				if sc.Peek() == 'n' {
					return sc.Lit("null")
				}
				return relationships(&n.Relationships)
			}
			return !jsonscan.CaseVariant(key, "phoneNumberId", "phoneNumber", "status", "callPurposeCode", "authenticatedCalls", "relationships") && sc.Skip()
		})
	}
	ok := sc.Object(func(key []byte) bool {
		switch string(key) {
		case "body":
			if sawBody || sc.Peek() != '[' {
				return false
			}
			sawBody = true
			return sc.Array(func() bool {
				if sc.Peek() != '{' {
					return false
				}
				items = append(items, wireNumber{})
				return number(&items[len(items)-1])
			})
		case "error":
			if sawError {
				return false
			}
			sawError = true
			return sc.Lit("null")
		case "info":
			if sawInfo {
				return false
			}
			sawInfo = true
			if sc.Peek() == 'n' {
				return sc.Lit("null")
			}
			info = &pageInfo{}
			return sc.Object(func(key []byte) bool {
				if string(key) == "nextPage" {
					// A URL: its & comes escaped (\u0026), which
					// encoding/json unquotes, on this one string.
					if sc.Peek() == 'n' {
						return sc.Lit("null")
					}
					raw, ok := sc.RawStr()
					return ok && json.Unmarshal(raw, &info.NextPage) == nil
				}
				return !jsonscan.CaseVariant(key, "nextPage") && sc.Skip()
			})
		}
		return !jsonscan.CaseVariant(key, "body", "error", "info") && sc.Skip()
	})
	if !ok || !sawBody || !sc.End() {
		return nil, nil, false
	}
	if items == nil {
		items = []wireNumber{} // as encoding/json makes of []
	}
	return items, info, true
}

// interner shares equal strings: a listing of a million numbers holds a
// handful of distinct business units, programs, states and codes, and
// keeping one copy of each instead of a million saves tens of MiB. It
// stops remembering new strings past maxInterned, so a listing of unusual
// variety costs no more than it did. The zero value is ready to use.
type interner struct {
	m map[string]string
}

const maxInterned = 4096

func (in *interner) get(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := in.m[s]; ok {
		return v
	}
	if in.m == nil {
		in.m = make(map[string]string)
	}
	if len(in.m) < maxInterned {
		in.m[s] = s
	}
	return s
}

// pageHashOf extracts the cursor from info.nextPage, which may be a full
// URL, a relative path with a query, a bare query, or (leniently) the hash
// itself. The client never follows the URL as given: it keeps its own host
// and path and sends only the cursor, so an answer cannot redirect it.
func pageHashOf(next string) (string, error) {
	next = strings.TrimSpace(next)
	if !strings.ContainsAny(next, "/?=&") {
		return next, nil
	}
	q := next
	if i := strings.IndexByte(next, '?'); i >= 0 {
		q = next[i+1:]
	} else if u, err := url.Parse(next); err == nil && u.RawQuery != "" {
		q = u.RawQuery
	}
	if i := strings.IndexByte(q, '#'); i >= 0 {
		q = q[:i]
	}
	vals, err := url.ParseQuery(q)
	if err != nil {
		return "", fmt.Errorf("read nextPage: %w", err)
	}
	h := vals.Get(pageHashParam)
	if h == "" {
		return "", fmt.Errorf("nextPage %q has no %s", next, pageHashParam)
	}
	return h, nil
}
