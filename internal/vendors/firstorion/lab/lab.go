// Package lab is an in-memory implementation of First Orion's Exchange API
// v1 as vendors.md describes it, served over HTTP for the contract suite
// (firstoriontest), the client's tests, the demo (numsync lab) and the
// benchmarks. It carries out the documented delete-all calls and records
// them, so tests can prove numsync never makes them.
package lab

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/numsync/numsync/internal/plan"
	"golang.org/x/time/rate"
)

// DefaultRPS is the request rate the lab allows per API key when a
// command does not say (vendors.md: no limit is published; the lab assumes
// 10 requests/s).
const DefaultRPS = 10

// Options configure a Lab. The zero value is a lab with no rate limit,
// no faults, no latency and one-hour tokens; BusinessID, APIKey and
// SecretKey default to fixed lab values.
type Options struct {
	// BusinessID is the lab's business; other ids in a path are 404.
	BusinessID string
	// LegalName is the business's legal name; one containing "suspicious"
	// (case sensitive, as documented) puts every number UNDER REVIEW.
	LegalName string
	// APIKey and SecretKey are the credentials /v1/auth accepts.
	APIKey    string
	SecretKey string
	// TokenTTL is a token's lifetime, announced in whole seconds (at least
	// one); 0 means 3600 s.
	TokenTTL time.Duration
	// RPS is the request rate allowed per API key, every request counted;
	// above it the lab answers 429 with Retry-After. 0 means unlimited.
	RPS float64
	// Burst is the bucket size; 0 means RPS+1, one request of slack so a
	// client pacing at exactly RPS is not refused for network jitter.
	Burst int
	// Latency delays every answer.
	Latency time.Duration
	// FaultRate is the share of requests answered 503 before acting.
	FaultRate float64
	// LostRate is the share of writes carried out whose answer is then
	// lost: a 503, or a dropped connection, at random.
	LostRate float64
	// StatusDelay is how long a new number stays PENDING before it turns
	// APPROVED or UNDER REVIEW (chosen at random with Seed).
	StatusDelay time.Duration
	// Seed seeds every random choice (statuses, ids, faults).
	Seed int64
	// PageLimitMax is the largest `limit` accepted; 0 means MaxPageLimit.
	PageLimitMax int
	// Clock drives token expiry and status changes; nil means time.Now.
	// The rate limit always runs on real time.
	Clock func() time.Time
}

// Lab credentials used when Options leaves them empty.
const (
	DefaultBusinessID = "719d140e-fd6c-4d59-9241-3dee71b38320"
	DefaultAPIKey     = "lab-api-key"
	DefaultSecretKey  = "lab-secret-key"
)

// FaultKind is a fault Inject can force on matching requests.
type FaultKind int

// The injectable faults.
const (
	// FaultUnavailable answers 503 before acting.
	FaultUnavailable FaultKind = iota + 1
	// FaultLost acts, then answers 503: the change happened, the answer
	// says otherwise.
	FaultLost
	// FaultDrop acts, then drops the connection without an answer.
	FaultDrop
	// FaultThrottle answers 429 with Retry-After before acting.
	FaultThrottle
)

// Fault forces a fault on the next Times requests whose method matches
// (empty: any) and whose path contains PathContains (empty: any).
type Fault struct {
	Method       string
	PathContains string
	Kind         FaultKind
	Times        int
	// RetryAfter is announced with FaultThrottle; 0 means one second.
	RetryAfter time.Duration
}

// LoggedRequest is one request as the lab saw it. Body holds the request
// body, except for the auth endpoints, whose bodies are never kept (a
// refresh token is a secret); headers are never kept.
type LoggedRequest struct {
	Method string
	Path   string
	Query  string
	// Status is the answer's status; 0 when the connection was dropped.
	Status int
	Body   string
	Time   time.Time
	// Applied is true when the request changed the inventory.
	Applied bool
	// DeleteAll flags a delete-all call (carried out, as documented).
	DeleteAll bool
}

// Number is a number as the lab holds it.
type Number struct {
	ID                 string
	PhoneNumber        string
	BusinessUnitID     string
	ProgramID          string
	Channel            string
	CallPurposeCode    string
	AuthenticatedCalls bool
	Status             string
	// Mutations counts the changes applied to this number (creation
	// included), so tests can prove nothing was applied twice.
	Mutations int
}

// Lab is an in-memory implementation of the First Orion Exchange API as
// vendors.md describes it: faithful, not friendly. It is an http.Handler,
// safe for concurrent use.
type Lab struct {
	opts    Options
	limiter *rate.Limiter

	mu      sync.Mutex
	rng     *rand.Rand
	bus     []*labBU
	buByID  map[string]*labBU
	nums    map[string]*labNum // by phoneNumberId
	byPhone map[string]*labNum
	// bySeq caches the numbers in creation order for listing; nil once a
	// number was added or removed, so a listing of N numbers sorts them
	// once rather than once per page.
	bySeq      []*labNum
	seq        int64
	allocated  map[string]SeedAllocated
	tokens     map[string]time.Time
	refresh    map[string]bool
	log        []LoggedRequest
	mutations  map[string]int
	deleteAll  int
	dropWrites bool
	faults     []Fault
}

type labBU struct {
	id, name string
	programs []*labProgram
}

type labProgram struct {
	id, name, channel, cpc string
	active                 bool
}

type labNum struct {
	id, phone, bu, prog, channel, cpc string
	auth                              bool
	status, final                     string
	submitted                         time.Time
	seq                               int64
}

// New returns an empty lab.
func New(opts Options) *Lab {
	if opts.BusinessID == "" {
		opts.BusinessID = DefaultBusinessID
	}
	if opts.APIKey == "" {
		opts.APIKey = DefaultAPIKey
	}
	if opts.SecretKey == "" {
		opts.SecretKey = DefaultSecretKey
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = time.Hour
	}
	if opts.PageLimitMax <= 0 {
		opts.PageLimitMax = maxPageLimit
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	l := &Lab{
		opts:      opts,
		rng:       rand.New(rand.NewPCG(uint64(opts.Seed), 0x6669727374)),
		buByID:    map[string]*labBU{},
		nums:      map[string]*labNum{},
		byPhone:   map[string]*labNum{},
		allocated: map[string]SeedAllocated{},
		tokens:    map[string]time.Time{},
		refresh:   map[string]bool{},
		mutations: map[string]int{},
	}
	if opts.RPS > 0 {
		burst := opts.Burst
		if burst <= 0 {
			burst = int(math.Ceil(opts.RPS)) + 1
		}
		l.limiter = rate.NewLimiter(rate.Limit(opts.RPS), burst)
	}
	return l
}

// Options returns the lab's effective options (credentials included: the
// lab's are not secrets).
func (l *Lab) Options() Options { return l.opts }

// Seed adds a seed's business units, programs and numbers to the lab.
func (l *Lab) Seed(s Seed) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.opts.Clock()
	for _, b := range s.BusinessUnits {
		if b.ID == "" || l.buByID[b.ID] != nil {
			return fmt.Errorf("firstorion: seed: business unit id %q empty or repeated", b.ID)
		}
		bu := &labBU{id: b.ID, name: b.Name}
		for _, p := range b.Programs {
			if p.ID == "" {
				return fmt.Errorf("firstorion: seed: business unit %s: program without id", b.ID)
			}
			ch := p.Channel
			if ch == "" {
				ch = plan.ChannelCallerName
			}
			if !validChannel(ch) {
				return fmt.Errorf("firstorion: seed: program %s: unknown channel %q", p.ID, ch)
			}
			active := p.Active == nil || *p.Active
			bu.programs = append(bu.programs, &labProgram{id: p.ID, name: p.Name, channel: ch, cpc: p.CallPurposeCode, active: active})
		}
		l.bus = append(l.bus, bu)
		l.buByID[bu.id] = bu
	}
	for _, a := range s.Allocated {
		if !validE164(a.PhoneNumber) || a.BusinessID == "" {
			return fmt.Errorf("firstorion: seed: allocated number %q needs an E.164 number and a business id", a.PhoneNumber)
		}
		if a.PhoneNumberID == "" {
			a.PhoneNumberID = l.newID()
		}
		l.allocated[a.PhoneNumber] = a
	}
	for _, n := range s.Numbers {
		if !validE164(n.PhoneNumber) {
			return fmt.Errorf("firstorion: seed: %q is not E.164", n.PhoneNumber)
		}
		if l.byPhone[n.PhoneNumber] != nil {
			return fmt.Errorf("firstorion: seed: %s twice", n.PhoneNumber)
		}
		if _, ok := l.allocated[n.PhoneNumber]; ok {
			return fmt.Errorf("firstorion: seed: %s is allocated to another business", n.PhoneNumber)
		}
		num := &labNum{id: n.ID, phone: n.PhoneNumber, bu: n.BusinessUnitID, prog: n.ProgramID, cpc: n.CallPurposeCode,
			auth: n.AuthenticatedCalls, status: n.Status, submitted: now}
		if num.id == "" {
			num.id = l.newID()
		}
		if l.nums[num.id] != nil {
			return fmt.Errorf("firstorion: seed: phone number id %s twice", num.id)
		}
		if num.prog != "" && num.bu == "" {
			return fmt.Errorf("firstorion: seed: %s has a program but no business unit", n.PhoneNumber)
		}
		if num.bu != "" {
			bu := l.buByID[num.bu]
			if bu == nil {
				return fmt.Errorf("firstorion: seed: %s: unknown business unit %s", n.PhoneNumber, num.bu)
			}
			if num.prog != "" {
				p := bu.program(num.prog)
				if p == nil {
					return fmt.Errorf("firstorion: seed: %s: program %s is not in business unit %s", n.PhoneNumber, num.prog, num.bu)
				}
				num.channel = n.Channel
				if num.channel == "" {
					num.channel = p.channel
				}
				if num.channel != p.channel {
					return fmt.Errorf("firstorion: seed: %s: program %s has channel %s, not %s", n.PhoneNumber, p.id, p.channel, num.channel)
				}
			}
		}
		if num.status == "" {
			num.status = "APPROVED"
		}
		num.final = num.status
		l.seq++
		num.seq = l.seq
		l.nums[num.id] = num
		l.byPhone[num.phone] = num
		l.bySeq = nil
	}
	return nil
}

func (bu *labBU) program(id string) *labProgram {
	for _, p := range bu.programs {
		if p.id == id {
			return p
		}
	}
	return nil
}

// Number returns the lab's record of a phone number.
func (l *Lab) Number(phone string) (Number, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.byPhone[phone]
	if n == nil {
		return Number{}, false
	}
	return l.labNumber(n), true
}

// Numbers returns every number the business holds, in creation order.
func (l *Lab) Numbers() []Number {
	l.mu.Lock()
	defer l.mu.Unlock()
	all := make([]*labNum, 0, len(l.nums))
	for _, n := range l.nums {
		all = append(all, n)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].seq < all[j].seq })
	out := make([]Number, len(all))
	for i, n := range all {
		out[i] = l.labNumber(n)
	}
	return out
}

// labNumber copies a number out. Called with mu held.
func (l *Lab) labNumber(n *labNum) Number {
	l.resolve(n)
	return Number{ID: n.id, PhoneNumber: n.phone, BusinessUnitID: n.bu, ProgramID: n.prog, Channel: n.channel,
		CallPurposeCode: n.cpc, AuthenticatedCalls: n.auth, Status: n.status, Mutations: l.mutations[n.phone]}
}

// Count returns how many numbers the business holds.
func (l *Lab) Count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.nums)
}

// Mutations returns how many changes were applied to a phone number.
func (l *Lab) Mutations(phone string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mutations[phone]
}

// Requests returns a copy of the request log.
func (l *Lab) Requests() []LoggedRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]LoggedRequest(nil), l.log...)
}

// DeleteAllCalls returns how many delete-all calls the lab received (and
// carried out).
func (l *Lab) DeleteAllCalls() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.deleteAll
}

// SetDropWrites makes the lab answer writes as if done without changing
// anything, so verification can be tested.
func (l *Lab) SetDropWrites(drop bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropWrites = drop
}

// Inject queues a forced fault.
func (l *Lab) Inject(f Fault) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f.Times < 1 {
		f.Times = 1
	}
	l.faults = append(l.faults, f)
}

// ClearFaults drops every fault Inject queued and not yet used.
func (l *Lab) ClearFaults() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.faults = nil
}

// ExpireTokens makes every token issued so far expired (refresh tokens
// stay usable), as if the clock had passed their expiry.
func (l *Lab) ExpireTokens() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for t := range l.tokens {
		l.tokens[t] = time.Time{}
	}
}

// newID returns a UUID-shaped id from the seeded generator. Called with mu
// held (or before the lab is shared).
func (l *Lab) newID() string {
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", l.rng.Uint32(), l.rng.Uint32()&0xffff, l.rng.Uint32()&0xfff,
		0x8000|l.rng.Uint32()&0x3fff, l.rng.Uint64()&0xffffffffffff)
}

// resolve turns a PENDING number into its final status once StatusDelay
// has passed. Called with mu held.
func (l *Lab) resolve(n *labNum) {
	if n.status == "PENDING" && n.final != "PENDING" && !l.opts.Clock().Before(n.submitted.Add(l.opts.StatusDelay)) {
		n.status = n.final
	}
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

func validE164(s string) bool { return e164.MatchString(s) }

func validChannel(ch string) bool {
	return ch == plan.ChannelCallerName || ch == plan.ChannelCallerImage || ch == plan.ChannelBlocking
}

// wire renders a number as the API does. Called with mu held.
func (l *Lab) wire(n *labNum) map[string]any {
	rel := map[string]any{"businessId": l.opts.BusinessID}
	if n.bu != "" {
		rel["businessUnitId"] = n.bu
	}
	if n.prog != "" {
		rel["programId"] = n.prog
		rel[n.channel] = true
	}
	ts := strconv.FormatInt(n.submitted.Unix(), 10)
	return map[string]any{
		"phoneNumberId": n.id, "phoneNumber": n.phone, "status": n.status,
		"callPurposeCode": n.cpc, "authenticatedCalls": n.auth,
		"submittedTimestamp": ts, "lastStatusChangeTimestamp": ts,
		"relationships": rel,
	}
}

// answer is what a route handler produces.
type answer struct {
	status    int
	body      any
	errMsg    string
	info      map[string]any
	applied   bool
	deleteAll bool
	lostable  bool // a write that acted: its answer may be lost
}

func errAnswer(status int, msg string) answer { return answer{status: status, errMsg: msg} }

// ServeHTTP serves the API.
func (l *Lab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if l.opts.Latency > 0 {
		t := time.NewTimer(l.opts.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	rec := LoggedRequest{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Time: l.opts.Clock()}
	isAuth := r.URL.Path == pathAuth || r.URL.Path == pathRefresh
	if !isAuth {
		rec.Body = string(body)
	}

	l.mu.Lock()
	ans, drop := l.serveLocked(r, body)
	rec.Status = ans.status
	rec.Applied = ans.applied
	rec.DeleteAll = ans.deleteAll
	if drop {
		rec.Status = 0
	}
	l.log = append(l.log, rec)
	l.mu.Unlock()

	if drop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		ans = errAnswer(http.StatusServiceUnavailable, "service unavailable")
	}
	writeLabAnswer(w, ans)
}

func writeLabAnswer(w http.ResponseWriter, ans answer) {
	env := map[string]any{"body": nil, "error": nil}
	if ans.errMsg != "" {
		env["error"] = map[string]any{"code": ans.status, "description": ans.errMsg}
	} else {
		env["body"] = ans.body
	}
	if ans.info != nil {
		env["info"] = ans.info
	}
	w.Header().Set("Content-Type", "application/json")
	if ans.status == http.StatusTooManyRequests {
		ra := 1
		if d, ok := ans.body.(time.Duration); ok && d > time.Second {
			ra = int(math.Ceil(d.Seconds()))
		}
		env["body"] = nil
		w.Header().Set("Retry-After", strconv.Itoa(ra))
	}
	w.WriteHeader(ans.status)
	_ = json.NewEncoder(w).Encode(env)
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

// serveLocked does everything under the lock: rate limit, faults, auth,
// routing. drop says the connection must be dropped without an answer.
func (l *Lab) serveLocked(r *http.Request, body []byte) (answer, bool) {
	if l.limiter != nil {
		now := time.Now()
		res := l.limiter.ReserveN(now, 1)
		if d := res.DelayFrom(now); d > 0 {
			res.CancelAt(now)
			return answer{status: http.StatusTooManyRequests, errMsg: "too many requests", body: d}, false
		}
	}
	fault, forced := l.takeFault(r.Method, r.URL.Path)
	if forced {
		switch fault.Kind {
		case FaultUnavailable:
			return errAnswer(http.StatusServiceUnavailable, "service unavailable"), false
		case FaultThrottle:
			return answer{status: http.StatusTooManyRequests, errMsg: "too many requests", body: fault.RetryAfter}, false
		}
	} else if l.opts.FaultRate > 0 && l.rng.Float64() < l.opts.FaultRate {
		return errAnswer(http.StatusServiceUnavailable, "service unavailable"), false
	}

	ans := l.route(r, body)

	if ans.lostable || ans.applied {
		lose, drop := false, false
		switch {
		case forced && fault.Kind == FaultLost:
			lose = true
		case forced && fault.Kind == FaultDrop:
			lose, drop = true, true
		case !forced && l.opts.LostRate > 0 && l.rng.Float64() < l.opts.LostRate:
			lose, drop = true, l.rng.IntN(2) == 0
		}
		if lose {
			lost := errAnswer(http.StatusServiceUnavailable, "service unavailable")
			lost.applied, lost.deleteAll = ans.applied, ans.deleteAll
			return lost, drop
		}
	}
	return ans, false
}
