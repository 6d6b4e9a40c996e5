package oneuc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/vendors/jsonscan"
)

// envelope is Kazoo's answer wrapper (vendors.md "Envelope").
type envelope struct {
	AuthToken    string          `json:"auth_token"`
	Data         json.RawMessage `json:"data"`
	Status       string          `json:"status"`
	Error        json.RawMessage `json:"error"`
	Message      json.RawMessage `json:"message"`
	NextStartKey json.RawMessage `json:"next_start_key"`
	Tokens       *struct {
		Remaining *float64 `json:"remaining"`
	} `json:"tokens"`
}

// message returns the top-level message when it is a string.
func (e *envelope) message() string { return rawString(e.Message) }

// decodeEnvelope reads an answer body. An empty body decodes to an empty
// envelope (some errors come without one); anything else must be a JSON
// object.
func decodeEnvelope(body []byte) (*envelope, error) {
	var env envelope
	if len(bytes.TrimSpace(body)) == 0 {
		return &env, nil
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("decode answer: %w", err)
	}
	return &env, nil
}

// sharedEnvelope is envelope with its data left in the answer's buffer
// rather than copied: listing pages are decoded straight from the buffer.
type sharedEnvelope struct {
	envelope
	Data rawRef `json:"data"`
}

// rawRef is json.RawMessage without the copy: it refers to the decoded
// input, which must outlive it.
type rawRef []byte

// UnmarshalJSON implements json.Unmarshaler.
func (r *rawRef) UnmarshalJSON(b []byte) error {
	*r = b
	return nil
}

// decodeEnvelopeShared is decodeEnvelope whose Data refers to body instead
// of holding a copy of it: body must not change while the envelope's Data
// is in use. Errors are decodeEnvelope's own.
func decodeEnvelopeShared(body []byte) (*envelope, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return &envelope{}, nil
	}
	var se sharedEnvelope
	if err := json.Unmarshal(body, &se); err != nil {
		return decodeEnvelope(body)
	}
	env := se.envelope
	env.Data = json.RawMessage(se.Data)
	return &env, nil
}

// rawString returns raw as a string when it holds a JSON string, or the
// text of a JSON number; "" otherwise.
func rawString(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// isNull reports whether raw is absent or JSON null.
func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

// startKey returns the opaque next_start_key to send back, and whether there
// is one. Kazoo's keys are usually strings but may be any JSON value; a
// non-string is sent back as its JSON text.
func startKey(raw json.RawMessage) (string, bool) {
	if isNull(raw) {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, s != ""
	}
	return string(bytes.TrimSpace(raw)), true
}

// gregorianToUnix converts a Kazoo timestamp (Gregorian seconds, a JSON
// number) to Unix seconds; 0 when absent or unreadable.
func gregorianToUnix(n json.Number) int64 {
	if n == "" {
		return 0
	}
	v, err := n.Int64()
	if err != nil {
		f, ferr := n.Float64()
		if ferr != nil || f != f || f > 1e15 || f < -1e15 {
			return 0
		}
		v = int64(f)
	}
	if v <= gregorianOffset {
		return 0
	}
	return v - gregorianOffset
}

// listEntry is one number of an account listing page.
type listEntry struct {
	State    string      `json:"state"`
	Updated  json.Number `json:"updated"`
	Features []string    `json:"features"`
}

// listPage is the data of an account listing page.
type listPage struct {
	Numbers map[string]listEntry `json:"numbers"`
}

// decodeListPage reads one listing page into states, ordered by number
// (JSON objects carry no order; Kazoo pages by number), and the key of the
// next page, if any.
func decodeListPage(env *envelope) ([]plan.State, string, bool, error) {
	return new(listDecoder).decode(env)
}

// listDecoder decodes the pages of one listing, reusing its page map and
// slices from one page to the next, so that a listing of a thousand pages
// does not leave a thousand of each to the garbage collector. The states a
// page returns are valid until the next page is decoded.
type listDecoder struct {
	page    reusedPage
	keys    []string
	out     []plan.State
	entries []scanEntry
}

// reusedPage is listPage with a map that is kept from page to page.
type reusedPage struct {
	Numbers reusedNumbers `json:"numbers"`
}

// reusedNumbers decodes a page's numbers object into m, which may hold a
// previous page's (cleared) map; m ends nil when the key is absent or null,
// as listPage.Numbers would.
type reusedNumbers struct {
	m     map[string]listEntry
	keep  map[string]listEntry
	isNil bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *reusedNumbers) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		r.m, r.isNil = nil, true
		return nil
	}
	if r.m == nil {
		r.m = r.keep
	}
	r.isNil = false
	return json.Unmarshal(b, &r.m)
}

func (d *listDecoder) decode(env *envelope) ([]plan.State, string, bool, error) {
	if out, ok := d.scan(env.Data); ok {
		next, more := startKey(env.NextStartKey)
		return out, next, more, nil
	}
	// encoding/json adds an object's pairs to an existing map, each value
	// decoded from zero: a cleared map is as good as a new one.
	keep := d.page.Numbers.keep
	clear(keep)
	d.page = reusedPage{Numbers: reusedNumbers{keep: keep, isNil: true}}
	if err := json.Unmarshal(env.Data, &d.page); err != nil {
		// Decoded again the plain way, so the error reads as it always has.
		var page listPage
		if perr := json.Unmarshal(env.Data, &page); perr != nil {
			err = perr
		}
		d.page = reusedPage{}
		return nil, "", false, fmt.Errorf("decode listing page: %w", err)
	}
	numbers := d.page.Numbers.m
	if d.page.Numbers.isNil && !bytes.Contains(env.Data, []byte(`"numbers"`)) {
		return nil, "", false, errors.New("decode listing page: no numbers object")
	}
	if numbers != nil {
		d.page.Numbers.keep = numbers
	}
	keys := d.keys[:0]
	for k := range numbers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	clear(d.out)
	out := d.out[:0]
	for _, k := range keys {
		e := numbers[k]
		out = append(out, plan.State{
			Number:   k,
			Status:   e.State,
			Updated:  gregorianToUnix(e.Updated),
			Features: e.Features,
		})
	}
	clear(keys)
	d.keys, d.out = keys[:0], out
	next, more := startKey(env.NextStartKey)
	return out, next, more, nil
}

// scanEntry is one number of a page as scan reads it: listEntry with
// `updated` already converted.
type scanEntry struct {
	number   string
	state    string
	updated  int64
	features []string
}

// gregorianBytes is gregorianToUnix of a number's text; plain digits
// (what Kazoo sends) are read without making a string of them.
func gregorianBytes(b []byte) int64 {
	if len(b) == 0 || len(b) > 18 {
		return gregorianToUnix(json.Number(b))
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return gregorianToUnix(json.Number(b))
		}
		v = v*10 + int64(c-'0')
	}
	if v <= gregorianOffset {
		return 0
	}
	return v - gregorianOffset
}

// emptyFeatures is what `"features": []` decodes to (encoding/json makes
// an empty, non-nil slice); shared, as its capacity is 0.
var emptyFeatures = []string{}

// scan decodes a listing page's data with jsonscan into the states decode
// would return, without a map or reflection. It reports false, leaving
// the page to encoding/json, on anything it does not take: no numbers
// object or a repeated one, a number listed twice, a null entry, a key
// that only differs from a field by case, strings with escapes, an
// `updated` that is not a number, bad JSON.
func (d *listDecoder) scan(data []byte) ([]plan.State, bool) {
	sc := jsonscan.New(data)
	entries := d.entries[:0]
	words := make(map[string]string, 8)
	word := func(b []byte) string {
		if w, ok := words[string(b)]; ok {
			return w
		}
		w := string(b)
		words[w] = w
		return w
	}
	entry := func(e *scanEntry) bool {
		return sc.Object(func(key []byte) bool {
			switch string(key) {
			case "state":
				if sc.Peek() == 'n' {
					return sc.Lit("null")
				}
				b, ok := sc.Str()
				e.state = word(b)
				return ok
			case "updated":
				if sc.Peek() == 'n' {
					return sc.Lit("null") // null leaves a string as it is
				}
				b, ok := sc.Num()
				e.updated = gregorianBytes(b)
				return ok
			case "features":
				if sc.Peek() == 'n' {
					e.features = nil
					return sc.Lit("null")
				}
				var fs []string
				ok := sc.Array(func() bool {
					b, ok := sc.Str()
					fs = append(fs, word(b))
					return ok
				})
				if fs == nil {
					fs = emptyFeatures
				}
				e.features = fs
				return ok
			}
			return !jsonscan.CaseVariant(key, "state", "updated", "features") && sc.Skip()
		})
	}
	sawNumbers := false
	ok := sc.Object(func(key []byte) bool {
		if string(key) != "numbers" {
			return !jsonscan.CaseVariant(key, "numbers") && sc.Skip()
		}
		if sawNumbers || sc.Peek() != '{' {
			return false
		}
		sawNumbers = true
		return sc.Object(func(number []byte) bool {
			if sc.Peek() != '{' {
				return false
			}
			entries = append(entries, scanEntry{number: string(number)})
			return entry(&entries[len(entries)-1])
		})
	})
	d.entries = entries[:0]
	if !ok || !sawNumbers || !sc.End() {
		clear(entries)
		return nil, false
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].number < entries[j].number })
	for i := 1; i < len(entries); i++ {
		if entries[i].number == entries[i-1].number {
			// encoding/json keeps the last of a repeated key: its call.
			clear(entries)
			return nil, false
		}
	}
	clear(d.out)
	out := d.out[:0]
	for _, e := range entries {
		out = append(out, plan.State{
			Number:   e.number,
			Status:   e.state,
			Updated:  e.updated,
			Features: e.features,
		})
	}
	clear(entries)
	d.out = out
	return out, true
}

// interner shares equal strings and feature lists: a listing of a million
// numbers holds a handful of distinct states and feature sets, and keeping
// one copy of each instead of a million saves tens of MiB. It stops
// remembering new values past maxInterned, so a listing of unusual variety
// costs no more than it did. The zero value is ready to use.
type interner struct {
	words map[string]string
	lists map[string][]string
}

const maxInterned = 4096

func (in *interner) get(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := in.words[s]; ok {
		return v
	}
	if in.words == nil {
		in.words = make(map[string]string)
	}
	if len(in.words) < maxInterned {
		in.words[s] = s
	}
	return s
}

// list returns a shared copy of fs (nil and empty stay as they are). The
// shared slice is clipped to its length, so an append by one holder never
// writes into another's.
func (in *interner) list(fs []string) []string {
	if len(fs) == 0 {
		return fs
	}
	n := len(fs)
	for _, f := range fs {
		n += len(f)
	}
	key := make([]byte, 0, n)
	for _, f := range fs {
		key = append(key, f...)
		key = append(key, 0)
	}
	if v, ok := in.lists[string(key)]; ok {
		return v
	}
	if in.lists == nil {
		in.lists = make(map[string][]string)
	}
	for i, f := range fs {
		fs[i] = in.get(f)
	}
	fs = fs[:len(fs):len(fs)]
	if len(in.lists) < maxInterned {
		in.lists[string(key)] = fs
	}
	return fs
}

// numberDoc is a full number as GET, PATCH and activation answer it.
type numberDoc struct {
	ID       string   `json:"id"`
	State    string   `json:"state"`
	Features []string `json:"features"`
	CNAM     *struct {
		DisplayName *string `json:"display_name"`
	} `json:"cnam"`
	E911     *e911Doc `json:"e911"`
	ReadOnly struct {
		Modified json.Number `json:"modified"`
		State    string      `json:"state"`
		Features []string    `json:"features"`
	} `json:"_read_only"`
}

// e911Doc is the address part of a number's e911 object; geocoding fields
// the plan does not compare are ignored.
type e911Doc struct {
	StreetAddress   string `json:"street_address"`
	ExtendedAddress string `json:"extended_address"`
	Locality        string `json:"locality"`
	Region          string `json:"region"`
	PostalCode      string `json:"postal_code"`
	CallerName      string `json:"caller_name"`
}

// decodeNumber reads a full number from an answer's data.
func decodeNumber(data json.RawMessage) (*numberDoc, error) {
	var d numberDoc
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("decode number: %w", err)
	}
	return &d, nil
}

// state converts a full number to the plan's terms, with CNAM and E911 read
// (Detailed). Updated is _read_only.modified: the same stamp the listing
// shows as `updated`.
func (d *numberDoc) state(number string) plan.State {
	st := plan.State{Number: number, Detailed: true}
	st.Status = d.State
	if st.Status == "" {
		st.Status = d.ReadOnly.State
	}
	st.Updated = gregorianToUnix(d.ReadOnly.Modified)
	st.Features = d.ReadOnly.Features
	if st.Features == nil {
		st.Features = d.Features
	}
	cnam := ""
	if d.CNAM != nil && d.CNAM.DisplayName != nil {
		cnam = *d.CNAM.DisplayName
	}
	st.CNAM = &cnam
	if d.E911 != nil && d.E911.StreetAddress != "" {
		st.E911 = &plan.Address{
			StreetAddress:   d.E911.StreetAddress,
			ExtendedAddress: d.E911.ExtendedAddress,
			Locality:        d.E911.Locality,
			Region:          d.E911.Region,
			PostalCode:      d.E911.PostalCode,
			CallerName:      d.E911.CallerName,
		}
	}
	return st
}

// numberFault is one number's error in a collection answer.
type numberFault struct {
	Code    json.RawMessage `json:"code"`
	Error   json.RawMessage `json:"error"`
	Message json.RawMessage `json:"message"`
	Cause   json.RawMessage `json:"cause"`
}

// verdict is what a collection answer says about one number.
type verdict struct {
	outcome plan.Outcome
	after   *plan.State
	err     *plan.VendorError
}

// decodeCollection reads a collection/activate answer number by number, in
// either of Kazoo's shapes (vendors.md): 200 with data.success and
// data.error, or 400 "client error" with data mapping failed numbers to
// their errors. Only numbers of the request that the answer mentions get a
// verdict; the caller checks the others against live state. ok is false
// when the answer mentions no requested number at all, so the caller falls
// back to classifying the request as a whole.
func decodeCollection(status int, env *envelope, numbers []string) (map[string]verdict, bool) {
	out := map[string]verdict{}
	if env == nil || isNull(env.Data) {
		return out, false
	}
	var data map[string]json.RawMessage
	if json.Unmarshal(env.Data, &data) != nil {
		return out, false
	}
	wanted := make(map[string]bool, len(numbers))
	for _, n := range numbers {
		wanted[n] = true
	}
	if status >= 200 && status < 300 {
		var success map[string]json.RawMessage
		if raw, ok := data["success"]; ok && !isNull(raw) {
			_ = json.Unmarshal(raw, &success) // an unreadable map mentions nobody
		}
		faults := map[string]numberFault{}
		if raw, ok := data["error"]; ok && bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
			faults = decodeFaults(raw)
		}
		for n := range wanted {
			f, failed := faults[n]
			doc, succeeded := success[n]
			switch {
			case failed && succeeded:
				out[n] = verdict{outcome: plan.Unknown, err: &plan.VendorError{
					Vendor: plan.OneUC, Number: n, Status: status, Code: "contradictory_answer",
					Message: "the answer lists the number as both activated and failed", Temporary: true}}
			case failed:
				out[n] = faultVerdict(n, status, f)
			case succeeded:
				out[n] = successVerdict(n, doc)
			}
		}
		return out, len(out) > 0
	}
	// Shape 2: data maps each failed number to its error.
	faults := decodeFaults(env.Data)
	for n := range wanted {
		if f, ok := faults[n]; ok {
			out[n] = faultVerdict(n, status, f)
		}
	}
	return out, len(out) > 0
}

// decodeFaults reads a map of number to error, skipping entries that are
// not error objects (shape 2's data may carry other keys).
func decodeFaults(raw json.RawMessage) map[string]numberFault {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	out := make(map[string]numberFault, len(m))
	for k, v := range m {
		var f numberFault
		if json.Unmarshal(v, &f) != nil {
			continue
		}
		if isNull(f.Code) && isNull(f.Error) && isNull(f.Message) {
			continue
		}
		out[k] = f
	}
	return out
}

// successVerdict reads a number the answer lists as activated. It is Done
// only if the entry does not contradict it (a state other than in_service).
func successVerdict(n string, raw json.RawMessage) verdict {
	doc, err := decodeNumber(raw)
	if err != nil {
		// Listed under success but unreadable: the vendor says it worked.
		return verdict{outcome: plan.Done, after: &plan.State{Number: n, Status: plan.StatusInService}}
	}
	st := doc.state(n)
	st.Detailed = false
	st.CNAM = nil
	st.E911 = nil
	if st.Status == "" {
		st.Status = plan.StatusInService
	}
	if !plan.InService(st) {
		return verdict{outcome: plan.Unknown, err: &plan.VendorError{
			Vendor: plan.OneUC, Number: n, Code: "unexpected_state",
			Message: "activation answered success with state " + strconv.Quote(st.Status), Temporary: true}}
	}
	return verdict{outcome: plan.Done, after: &st}
}

// faultVerdict classifies one number's error in a collection answer.
func faultVerdict(n string, status int, f numberFault) verdict {
	msg := rawString(f.Message)
	code := rawString(f.Code)
	kind := rawString(f.Error)
	ve := &plan.VendorError{Vendor: plan.OneUC, Number: n, Status: status}
	switch {
	case msg == msgMissingProviderURL:
		ve.Code = msgMissingProviderURL
		ve.Message = "not available from the carrier (no search returned it)"
		return verdict{outcome: plan.Failed, err: ve}
	case msg == msgFaultByCarrier:
		ve.Code = "fault_by_carrier"
		ve.Message = "the carrier refused to activate the number (fault by carrier)"
		return verdict{outcome: plan.Failed, err: ve}
	case code == "429" || msg == msgTooManyRequests:
		ve.Code = msgTooManyRequests
		ve.Message = "rate limited"
		ve.Temporary = true
		return verdict{outcome: plan.Retry, err: ve}
	case code == "503" || code == "504":
		// The vendor says it did not get to this number.
		ve.Code = kind
		ve.Message = msg
		ve.Temporary = true
		return verdict{outcome: plan.Retry, err: ve}
	}
	ve.Code = kind
	if ve.Code == "" {
		ve.Code = code
	}
	ve.Message = msg
	if cause := rawString(f.Cause); cause != "" && cause != n {
		ve.Message = strings.TrimSpace(ve.Message + " (" + cause + ")")
	}
	if ve.Code == "" && ve.Message == "" {
		ve.Message = "activation refused"
	}
	return verdict{outcome: plan.Failed, err: ve}
}

// addressText renders a candidate or rejected address for a person.
func addressText(raw json.RawMessage) string {
	var a e911Doc
	if json.Unmarshal(raw, &a) != nil {
		return ""
	}
	var parts []string
	for _, p := range []string{a.StreetAddress, a.ExtendedAddress, a.Locality, strings.TrimSpace(a.Region + " " + a.PostalCode)} {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

// e911Reason reads an E911 refusal (vendors.md): "invalid data" with
// data.address.invalid, or "multiple_choice" with the candidate addresses.
// It returns "" when the data holds neither.
func e911Reason(data json.RawMessage) (code, reason string) {
	var d struct {
		Address *struct {
			Invalid *struct {
				Cause   json.RawMessage `json:"cause"`
				Message json.RawMessage `json:"message"`
			} `json:"invalid"`
		} `json:"address"`
		MultipleChoice *struct {
			E911 *struct {
				Cause   json.RawMessage   `json:"cause"`
				Details []json.RawMessage `json:"details"`
				Message json.RawMessage   `json:"message"`
			} `json:"e911"`
		} `json:"multiple_choice"`
	}
	if json.Unmarshal(data, &d) != nil {
		return "", ""
	}
	if d.MultipleChoice != nil && d.MultipleChoice.E911 != nil {
		mc := d.MultipleChoice.E911
		var b strings.Builder
		b.WriteString("E911 address is ambiguous")
		if m := rawString(mc.Message); m != "" {
			b.WriteString(" (" + m + ")")
		}
		if c := addressText(mc.Cause); c != "" {
			b.WriteString(": " + c)
		}
		b.WriteString("; pick one of:")
		for i, cand := range mc.Details {
			fmt.Fprintf(&b, " %d) %s", i+1, addressText(cand))
			if i < len(mc.Details)-1 {
				b.WriteString(";")
			}
		}
		return msgMultipleChoice, b.String()
	}
	if d.Address != nil && d.Address.Invalid != nil {
		inv := d.Address.Invalid
		reason := "E911 address rejected"
		if m := rawString(inv.Message); m != "" {
			reason += ": " + m
		}
		if c := addressText(inv.Cause); c != "" {
			reason += " (" + c + ")"
		}
		return "e911_invalid", reason
	}
	return "", ""
}

// validationText flattens a Kazoo validation error's data ({"field":
// {"rule": {"message": ...}}}) into one line, bounded in length.
func validationText(data json.RawMessage) string {
	var m map[string]map[string]struct {
		Message json.RawMessage `json:"message"`
	}
	if json.Unmarshal(data, &m) != nil {
		return ""
	}
	fields := make([]string, 0, len(m))
	for f := range m {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	var parts []string
	for _, f := range fields {
		rules := make([]string, 0, len(m[f]))
		for r := range m[f] {
			rules = append(rules, r)
		}
		sort.Strings(rules)
		for _, r := range rules {
			parts = append(parts, fmt.Sprintf("%s: %s", f, rawString(m[f][r].Message)))
		}
	}
	s := strings.Join(parts, "; ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
