// Package lab is an in-memory implementation of the OneUC (Kazoo crossbar
// v2) phone-number API that numsync uses, written from vendors.md: token
// authentication with expiry, Kazoo's token bucket and its 429s, paging,
// carrier searches with discovery memory, activation rules and carrier
// faults, PATCH versus POST semantics, the E911 rules, release, both
// collection answer shapes, and fault injection. It is an http.Handler, so
// tests serve it with httptest and the lab command with net/http.
//
// It is faithful, not friendly: it refuses what OneUC would refuse. It
// records every request (secrets redacted) so tests can assert what was
// sent and that nothing was applied twice.
package lab

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// GregorianOffset is Kazoo's epoch shift: Unix seconds + GregorianOffset =
// Gregorian seconds (seconds since year 1).
const GregorianOffset = 62167219200

// Collection answer shapes (vendors.md "Collection answers").
const (
	// ShapeMixed picks shape 1 or 2 at random for each request.
	ShapeMixed = 0
	// ShapeSuccessError answers 200 with data.success and data.error.
	ShapeSuccessError = 1
	// ShapeClientError answers 400 "client error" listing failed numbers
	// only, when some failed.
	ShapeClientError = 2
)

// Default values for zero Options fields.
const (
	DefaultAccountID = "4b3c0000000000000000000000000001"
	DefaultAPIKey    = "lab-api-key"
	DefaultTokenTTL  = time.Hour
	DefaultBucket    = 100
	DefaultMaxPage   = 1000
)

// Options configures a Lab. The zero value is a lab with one account
// (DefaultAccountID, key DefaultAPIKey), no rate limit and no faults.
type Options struct {
	// AccountID is the one account the lab serves.
	AccountID string
	// APIKeys are the keys api_auth accepts.
	APIKeys []string
	// TokenTTL is how long a token lives; 0 means an hour (Kazoo's
	// default). The answer never says.
	TokenTTL time.Duration
	// Bucket is the token bucket's size (Kazoo: 100) and RefillPerSec its
	// refill rate (Kazoo: 10); RefillPerSec 0 means no rate limit. The lab
	// has one bucket for its account, shared by every client, and every
	// request (api_auth included) takes one token.
	Bucket       int
	RefillPerSec float64
	// Latency delays every answer.
	Latency time.Duration
	// FaultRate is the share of requests (other than api_auth) answered
	// 503 before the lab acts on them.
	FaultRate float64
	// LostRate is the share of writes the lab carries out and then loses
	// the answer of: a 503, or a connection closed without an answer.
	LostRate float64
	// Seed seeds the lab's randomness (faults, mixed shapes, tokens).
	Seed int64
	// CollectionShape picks the collection answer shape (Shape...).
	CollectionShape int
	// Clock is the lab's time, for token expiry, the bucket and
	// timestamps; nil means time.Now.
	Clock func() time.Time
	// DropWrites makes the lab answer writes as if it applied them while
	// storing nothing, to test a client's verification.
	DropWrites bool
	// MaxPageSize is the largest page_size a listing accepts; 0 means 1000.
	MaxPageSize int
	// WideAnswerMax, when positive, makes the carrier answer a search on a
	// block wider than ten numbers (a prefix of nine digits or fewer) with
	// at most this many numbers, left out at random (Seed): the carrier
	// vendors.md warns of, which returns fewer than asked. Searches on a
	// block of ten are answered in full.
	WideAnswerMax int
}

// Address is an E911 service address in Kazoo's field names.
type Address struct {
	StreetAddress   string `json:"street_address"`
	ExtendedAddress string `json:"extended_address,omitempty"`
	Locality        string `json:"locality"`
	Region          string `json:"region"`
	PostalCode      string `json:"postal_code"`
	CallerName      string `json:"caller_name,omitempty"`
}

// SeedNumber is a number the account holds at the start.
type SeedNumber struct {
	Number   string   `json:"number"`
	State    string   `json:"state"`
	CNAM     string   `json:"cnam,omitempty"`
	E911     *Address `json:"e911,omitempty"`
	Features []string `json:"features,omitempty"`
}

// Seed is a lab's starting state: the numbers the account holds and the
// carrier's available pool. Each pool entry is a number or a prefix of
// numbers ("+1415233") that searches may return; a number whose last four
// digits are 0000 is never returned, one ending in 9999 faults at the
// carrier when activated (vendors.md lab rules). The lab's numbers are 11
// digits after the "+" (NANP).
type Seed struct {
	Numbers   []SeedNumber `json:"numbers"`
	Available []string     `json:"available"`
}

// Number is what the lab holds for one number, for tests to inspect.
type Number struct {
	Number string
	State  string
	// Held is false once the number was released (or before activation).
	Held     bool
	CNAM     string
	E911     *Address
	Features []string
	// Updated is the listing's `updated` (= GET's _read_only.modified) in
	// Unix seconds.
	Updated int64
	// E911Fields are every e911 field as stored, geocoding included.
	E911Fields map[string]any
}

// LoggedRequest is one request the lab received.
type LoggedRequest struct {
	Method string
	// Path is the escaped path, as sent (%2B for "+").
	Path string
	// Query is the raw query string.
	Query  string
	Status int
	// Body is the request body with secrets (api_key) redacted, cut at
	// 4 KiB.
	Body string
	Time time.Time
	// Applied is true when the lab changed its state for this request,
	// even if the answer was then lost.
	Applied bool
	// Lost is true when the lab acted and then did not deliver its answer.
	Lost bool
}

// FaultKind is a fault Inject forces on matching requests.
type FaultKind int

// The injectable faults (as the First Orion lab has them).
const (
	// FaultUnavailable answers 503 before acting.
	FaultUnavailable FaultKind = iota + 1
	// FaultLost acts, then answers 503: the change happened, the answer
	// says otherwise.
	FaultLost
	// FaultDrop acts, then closes the connection without an answer.
	FaultDrop
	// FaultThrottle answers 429 (too_many_requests) before acting.
	FaultThrottle
)

// Fault forces Kind on the next Times requests (at least one) whose method
// matches Method (empty: any) and whose escaped path contains PathContains
// (empty: any). api_auth is never faulted, so a test aims at the request
// it means. FaultLost and FaultDrop on a request that changes nothing
// answer it normally (and are used up).
type Fault struct {
	Method       string
	PathContains string
	Kind         FaultKind
	Times        int
}

// NumberCounts says how often the lab acted on one number.
type NumberCounts struct {
	// Activated counts activations that put the number in service.
	Activated int
	// ActivateRequests counts activation requests carrying the number,
	// no-ops on in_service numbers included.
	ActivateRequests int
	// Patched and Posted count stored PATCH and POST updates.
	Patched int
	Posted  int
	// Released counts releases that removed it from the account.
	Released int
}

// Stats are counters over all requests.
type Stats struct {
	Requests    int
	Logins      int
	Searches    int
	Throttled   int // answered 429
	Faults      int // answered 503 before acting
	Lost        int // acted, answer lost
	Activations int // collection or single activation requests acted on
}

type number struct {
	number   string
	state    string
	held     bool
	doc      map[string]any
	features []string
	created  int64
	modified int64
}

// Lab is the in-memory OneUC. It is safe for concurrent use. Its discovery
// memory (the numbers searches returned, which activation requires) belongs
// to the account and never expires.
type Lab struct {
	opts Options
	now  func() time.Time

	mu      sync.Mutex
	rnd     *rand.Rand
	numbers map[string]*number
	// heldIndex caches sortedHeld; nil once a number joined or left the
	// account (Seed, activate, release), so a listing of N numbers sorts
	// them once rather than once per page.
	heldIndex  []string
	pool       []string
	discovered map[string]bool
	tokens     map[string]time.Time
	bucket     float64
	refilledAt time.Time
	log        []LoggedRequest
	counts     map[string]*NumberCounts
	stats      Stats
	omit       map[string]bool
	faults     []Fault
	seq        int
}

// New returns an empty lab.
func New(opts Options) *Lab {
	if opts.AccountID == "" {
		opts.AccountID = DefaultAccountID
	}
	if len(opts.APIKeys) == 0 {
		opts.APIKeys = []string{DefaultAPIKey}
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = DefaultTokenTTL
	}
	if opts.Bucket <= 0 {
		opts.Bucket = DefaultBucket
	}
	if opts.MaxPageSize <= 0 {
		opts.MaxPageSize = DefaultMaxPage
	}
	now := opts.Clock
	if now == nil {
		now = time.Now
	}
	l := &Lab{
		opts:       opts,
		now:        now,
		rnd:        rand.New(rand.NewPCG(uint64(opts.Seed), 0x6c6162)),
		numbers:    map[string]*number{},
		discovered: map[string]bool{},
		tokens:     map[string]time.Time{},
		bucket:     float64(opts.Bucket),
		refilledAt: now(),
		counts:     map[string]*NumberCounts{},
		omit:       map[string]bool{},
	}
	return l
}

// AccountID returns the account the lab serves.
func (l *Lab) AccountID() string { return l.opts.AccountID }

// APIKey returns the first API key the lab accepts.
func (l *Lab) APIKey() string { return l.opts.APIKeys[0] }

// ReadSeed reads a seed from a JSON file.
func ReadSeed(path string) (Seed, error) {
	var s Seed
	b, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("oneuc lab: read seed: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("oneuc lab: read seed %s: %w", path, err)
	}
	return s, nil
}

// LoadSeed seeds the lab from a JSON file (see Seed).
func (l *Lab) LoadSeed(path string) error {
	s, err := ReadSeed(path)
	if err != nil {
		return err
	}
	return l.Seed(s)
}

var validStates = map[string]bool{
	"discovery": true, "available": true, "reserved": true, "in_service": true, "port_in": true,
	"port_out": true, "released": true, "aging": true, "deleted": true,
}

// Seed adds numbers to the account and entries to the carrier's pool. A
// seeded E911 address is stored geocoded, as OneUC would hold it.
func (l *Lab) Seed(s Seed) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.gregorianNow()
	for _, sn := range s.Numbers {
		if !validE164(sn.Number) {
			return fmt.Errorf("oneuc lab: seed: %q is not an E.164 number", sn.Number)
		}
		st := sn.State
		if st == "" {
			st = "in_service"
		}
		if !validStates[st] {
			return fmt.Errorf("oneuc lab: seed %s: unknown state %q", sn.Number, st)
		}
		n := &number{number: sn.Number, state: st, held: true, doc: map[string]any{},
			features: append([]string(nil), sn.Features...), created: now, modified: now}
		if sn.CNAM != "" {
			n.doc["cnam"] = map[string]any{"display_name": sn.CNAM}
		}
		if sn.E911 != nil {
			n.doc["e911"] = geocode(addressMap(*sn.E911))
		}
		l.numbers[sn.Number] = n
		l.heldIndex = nil
	}
	for _, p := range s.Available {
		if !strings.HasPrefix(p, "+") || !digits(p[1:]) || len(p) < 2 {
			return fmt.Errorf("oneuc lab: seed: pool entry %q is not a +digits prefix", p)
		}
		l.pool = append(l.pool, p)
	}
	return nil
}

// Number returns what the lab holds for n, released numbers included.
func (l *Lab) Number(n string) (Number, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	x, ok := l.numbers[n]
	if !ok {
		return Number{}, false
	}
	return x.public(), true
}

// Numbers returns every number the account holds, ordered.
func (l *Lab) Numbers() []Number {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Number
	for _, n := range l.sortedHeld() {
		out = append(out, l.numbers[n].public())
	}
	return out
}

func (x *number) public() Number {
	ln := Number{Number: x.number, State: x.state, Held: x.held, Features: x.featureList(),
		Updated: x.modified - GregorianOffset}
	if c, ok := x.doc["cnam"].(map[string]any); ok {
		ln.CNAM, _ = c["display_name"].(string)
	}
	if e, ok := x.doc["e911"].(map[string]any); ok {
		ln.E911Fields = deepCopy(e).(map[string]any)
		str := func(k string) string { s, _ := e[k].(string); return s }
		ln.E911 = &Address{StreetAddress: str("street_address"), ExtendedAddress: str("extended_address"),
			Locality: str("locality"), Region: str("region"), PostalCode: str("postal_code"),
			CallerName: str("caller_name")}
	}
	return ln
}

// Requests returns a copy of the request log.
func (l *Lab) Requests() []LoggedRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]LoggedRequest(nil), l.log...)
}

// Counts returns how often the lab acted on n.
func (l *Lab) Counts(n string) NumberCounts {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c := l.counts[n]; c != nil {
		return *c
	}
	return NumberCounts{}
}

// AllCounts returns the counts of every number the lab acted on.
func (l *Lab) AllCounts() map[string]NumberCounts {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]NumberCounts, len(l.counts))
	for k, v := range l.counts {
		out[k] = *v
	}
	return out
}

// Stats returns the lab's counters.
func (l *Lab) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// Discovered reports whether a search of the account ever returned n.
func (l *Lab) Discovered(n string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.discovered[n]
}

// SetDropWrites switches silent dropping of writes on or off.
func (l *Lab) SetDropWrites(on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.opts.DropWrites = on
}

// SetFaults changes the fault and lost-answer rates.
func (l *Lab) SetFaults(faultRate, lostRate float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.opts.FaultRate, l.opts.LostRate = faultRate, lostRate
}

// SetWideAnswerMax changes Options.WideAnswerMax.
func (l *Lab) SetWideAnswerMax(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.opts.WideAnswerMax = n
}

// SetCollectionShape changes the collection answer shape.
func (l *Lab) SetCollectionShape(shape int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.opts.CollectionShape = shape
}

// OmitFromAnswers makes collection answers leave out the given numbers
// (they are still acted on), as an answer that does not mention a number.
func (l *Lab) OmitFromAnswers(numbers ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range numbers {
		l.omit[n] = true
	}
}

// Inject queues a fault for the next matching requests.
func (l *Lab) Inject(f Fault) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f.Times = max(f.Times, 1)
	l.faults = append(l.faults, f)
}

// takeFault pops a queued fault matching the request. Called with mu held.
func (l *Lab) takeFault(method, path string) (Fault, bool) {
	for i, f := range l.faults {
		if (f.Method == "" || f.Method == method) && strings.Contains(path, f.PathContains) {
			l.faults[i].Times--
			if l.faults[i].Times <= 0 {
				l.faults = append(l.faults[:i], l.faults[i+1:]...)
			}
			return f, true
		}
	}
	return Fault{}, false
}

// ExpireTokens makes every token issued so far invalid, as if its lifetime
// had passed.
func (l *Lab) ExpireTokens() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tokens = map[string]time.Time{}
}

func (l *Lab) count(n string) *NumberCounts {
	c := l.counts[n]
	if c == nil {
		c = &NumberCounts{}
		l.counts[n] = c
	}
	return c
}

// gregorianNow is the lab clock in Gregorian seconds.
func (l *Lab) gregorianNow() int64 { return l.now().Unix() + GregorianOffset }

// touch bumps a number's modified stamp. It strictly increases, even for
// two writes in one second, because clients cache details by it.
func (l *Lab) touch(x *number) {
	now := l.gregorianNow()
	if now <= x.modified {
		now = x.modified + 1
	}
	x.modified = now
}

// sortedHeld returns the held numbers in order. The slice is shared (the
// cache): callers must not change it. Called with mu held.
func (l *Lab) sortedHeld() []string {
	if l.heldIndex != nil {
		return l.heldIndex
	}
	var out []string
	for k, x := range l.numbers {
		if x.held {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	l.heldIndex = out
	return out
}

func (x *number) featureList() []string {
	set := map[string]bool{}
	for _, f := range x.features {
		set[f] = true
	}
	if c, ok := x.doc["cnam"].(map[string]any); ok {
		if s, _ := c["display_name"].(string); s != "" {
			set["cnam"] = true
		}
	}
	if _, ok := x.doc["e911"].(map[string]any); ok {
		set["e911"] = true
	}
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

func validE164(s string) bool {
	return len(s) >= 3 && len(s) <= 16 && s[0] == '+' && digits(s[1:])
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func addressMap(a Address) map[string]any {
	m := map[string]any{"street_address": a.StreetAddress, "locality": a.Locality,
		"region": a.Region, "postal_code": a.PostalCode}
	if a.ExtendedAddress != "" {
		m["extended_address"] = a.ExtendedAddress
	}
	if a.CallerName != "" {
		m["caller_name"] = a.CallerName
	}
	return m
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = deepCopy(x)
		}
		return s
	}
	return v
}
