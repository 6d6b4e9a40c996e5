// Package oneuc is numsync's client for OneUC, a carrier platform built on
// 2600Hz Kazoo (crossbar API v2). It implements plan.Vendor and
// plan.StateReader: listing the account's numbers, reading their states by
// GETs or a listing pass (whichever costs fewer requests), reading CNAM and
// E911, activating numbers (discovering
// them by a carrier search first when the account does not hold them),
// updating CNAM and E911 with PATCH, and releasing numbers.
//
// What the client assumes about the API beyond OneUC's own pages is kept in
// assumptions.go. The lab subpackage is an in-memory implementation of the
// same API for tests, the demo and benchmarks; oneuctest holds the contract
// suite run against it (and, behind a flag, against a real sandbox).
package oneuc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"

	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/retry"
	"github.com/numsync/numsync/internal/vendors/vendorhttp"
)

// Config is what the client needs to reach one OneUC account.
type Config struct {
	// URL is the API base; request paths (/v2/...) are appended to it.
	URL string
	// AccountID is the Kazoo account whose numbers are managed.
	AccountID string
	// APIKey is exchanged for an X-Auth-Token. It is never logged or put in
	// an error.
	APIKey string
	// RPS and Burst set the client's own token bucket, shared by every
	// request. RPS 0 means 10 (Kazoo's refill rate); a negative RPS means
	// unlimited. Burst 0 means 10.
	RPS   float64
	Burst int
	// BatchSize is how many numbers one collection/activate request
	// carries; 0 means 100.
	BatchSize int
	// Timeout bounds each HTTP request, answer included; 0 means 30 s.
	Timeout time.Duration
	// Retry is the retry policy of every request the client retries on
	// its own (reads, listings, searches); zero fields take its defaults.
	// Writes are sent once: the executor decides what to do next.
	Retry retry.Policy
	// HTTPClient is used for every request; nil means a client of its own.
	HTTPClient *http.Client
	// Logger receives debug lines per request and warnings; nil discards.
	Logger *slog.Logger
}

// Option adjusts a Client beyond its Config, mostly for tests and
// benchmarks.
type Option func(*Client)

// WithBucket tells the client how fast the vendor's token bucket refills,
// when it differs from Kazoo's default (assumptions.go), and how many
// tokens to keep in reserve beyond those the requests in flight will take
// (default 0); a lab running scaled uses it. A negative refill turns
// pacing on tokens.remaining off, for a test that wants the 429 itself.
func WithBucket(refillPerSec float64, reserve int) Option {
	return func(c *Client) {
		if refillPerSec != 0 {
			c.refill = refillPerSec
		}
		if reserve >= 0 {
			c.reserve = reserve
		}
	}
}

// WithGetRetries gives the reads one round of attempts tries, the first
// pause backoff, and a budget that ends with the round, so a test sees
// the error of a read that keeps failing at once instead of after
// retry.max_elapsed.
func WithGetRetries(attempts int, backoff time.Duration) Option {
	return func(c *Client) {
		if attempts > 0 && backoff > 0 {
			c.retry.MaxAttempts = attempts
			c.retry.Base = backoff
			c.retry.Max = backoff << attempts
			c.retry.MaxElapsed = backoff << attempts
		}
	}
}

// WithClock replaces the clock of the client's pacer and retries: now
// reads it and sleep waits on it. A fake clock whose sleep advances it
// lets a test spend a budget or a pacing pause without waiting.
func WithClock(now func() time.Time, sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) {
		c.retry.Now, c.retry.Sleep = now, sleep
		c.clockNow = now
		c.sleep = sleep
	}
}

// Client talks to one OneUC account. It is safe for concurrent use.
type Client struct {
	base     string
	account  string
	apiKey   string
	endpoint string
	batch    int
	timeout  time.Duration
	http     *http.Client
	log      *slog.Logger
	pacer    *vendorhttp.Pacer
	refill   float64
	reserve  int
	retry    retry.Policy
	sleep    func(ctx context.Context, d time.Duration) error
	// inFlight counts requests sent and not yet answered, the tokens the
	// vendor's bucket may still owe them (observe).
	inFlight atomic.Int64
	// peakInFlight is the most requests seen in flight at once.
	peakInFlight atomic.Int64
	// refillEst is the estimate of the vendor's refill rate (refillRate).
	refillMu  sync.Mutex
	refillEst float64

	// listedPages is the page count of the last complete listing (0 before
	// the first), ReadStates' measure of what a listing costs.
	listedPages atomic.Int64

	authMu sync.Mutex
	token  string

	searches singleflight.Group
	blocksMu sync.Mutex
	blocks   map[string]searchedBlock
	clockNow func() time.Time
}

// searchedBlock remembers what a carrier search on one block returned.
type searchedBlock struct {
	at      time.Time
	numbers map[string]bool
}

var (
	_ plan.Vendor      = (*Client)(nil)
	_ plan.StateReader = (*Client)(nil)
)

// New returns a client for cfg. It sends nothing: the first request logs in.
func New(cfg Config, opts ...Option) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("oneuc: url %q must be an http(s) URL", cfg.URL)
	}
	if cfg.AccountID == "" {
		return nil, errors.New("oneuc: account_id is required")
	}
	if strings.ContainsAny(cfg.AccountID, "/?#%") {
		return nil, fmt.Errorf("oneuc: account_id %q is not a Kazoo account id", cfg.AccountID)
	}
	if cfg.APIKey == "" {
		return nil, errors.New("oneuc: api_key is required")
	}
	if cfg.BatchSize < 0 {
		return nil, fmt.Errorf("oneuc: batch_size %d must be positive", cfg.BatchSize)
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	c := &Client{
		base:     strings.TrimRight(cfg.URL, "/"),
		endpoint: strings.TrimRight(u.String(), "/"),
		account:  cfg.AccountID,
		apiKey:   cfg.APIKey,
		batch:    cfg.BatchSize,
		timeout:  cfg.Timeout,
		http:     cfg.HTTPClient,
		log:      cfg.Logger,
		refill:   assumedRefillPerSec,
		retry:    cfg.Retry,
		blocks:   map[string]searchedBlock{},
		clockNow: time.Now,
	}
	if c.batch == 0 {
		c.batch = 100
	}
	if c.timeout <= 0 {
		c.timeout = 30 * time.Second
	}
	if c.http == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 32
		c.http = &http.Client{Transport: tr}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	for _, o := range opts {
		o(c)
	}
	c.retry = c.retry.WithDefaults()
	rps, burst := cfg.RPS, cfg.Burst
	if rps == 0 {
		rps = 10
	}
	if burst <= 0 {
		burst = 10
	}
	c.pacer = vendorhttp.NewPacer(rps, burst)
	if c.sleep != nil {
		c.pacer.SetClock(c.clockNow, c.sleep)
	}
	return c, nil
}

// Endpoint returns the API base the client talks to, for messages that
// must say which vendor could not be reached. It holds no secret.
func (c *Client) Endpoint() string { return c.endpoint }

// Name returns plan.OneUC.
func (c *Client) Name() plan.VendorName { return plan.OneUC }

// Pacer returns the pacer every request of the client waits on, so callers
// (the executor's progress, tests) can see how often the vendor throttled.
func (c *Client) Pacer() *vendorhttp.Pacer { return c.pacer }

// answer is an HTTP answer with its decoded envelope.
type answer struct {
	status int
	header http.Header
	env    *envelope
	// decodeErr is set when the body was not a Kazoo envelope (a proxy's
	// HTML page, a truncated body).
	decodeErr error
	// buf holds the body, which env.Data refers to. release gives it back
	// to bodyPool once the answer is decoded; an answer never released
	// leaves it to the garbage collector.
	buf *bytes.Buffer
}

// release returns the answer's buffer to the pool; env.Data must not be
// used afterwards. Everything else in the answer is a copy.
func (a *answer) release() {
	if a.buf == nil {
		return
	}
	putBody(a.buf)
	a.buf = nil
	if a.env != nil {
		a.env.Data = nil
	}
}

// errNotSent marks a failure that happened before the request itself left
// (logging in failed, the pacer's wait was cancelled): a write certainly
// did not happen.
type errNotSent struct{ err error }

func (e *errNotSent) Error() string { return e.err.Error() }
func (e *errNotSent) Unwrap() error { return e.err }

// call sends one request, paced and authenticated, logging in again and
// repeating it once if the token was refused (401). It returns the answer
// whatever its status; an error means no answer came, and is wrapped in
// errNotSent when the request certainly never reached the vendor.
//
// The pacer's wait comes before the token is taken: a request that waited
// its turn for long must not leave with a token that expired meanwhile.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body []byte) (*answer, error) {
	for attempt := 0; ; attempt++ {
		if err := c.pacer.Wait(ctx); err != nil {
			return nil, &errNotSent{vendorhttp.TransportError(plan.OneUC, err, false)}
		}
		tok, err := c.currentToken(ctx)
		if err != nil {
			return nil, &errNotSent{err}
		}
		ans, err := c.send(ctx, method, path, query, body, tok)
		if err != nil {
			return nil, err
		}
		if ans.status == http.StatusUnauthorized && attempt == 0 {
			c.log.Debug("oneuc token refused; logging in again", "method", method, "path", path)
			c.dropToken(tok)
			continue
		}
		return ans, nil
	}
}

// send makes one HTTP request, which the caller has paced, and reads its
// answer.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, body []byte, token string) (*answer, error) {
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	target := c.base + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(rctx, method, target, rd)
	if err != nil {
		return nil, &errNotSent{fmt.Errorf("oneuc: build request: %w", err)}
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	if n := c.inFlight.Add(1); n > c.peakInFlight.Load() {
		c.peakInFlight.Store(n) // racy by one at worst: a hint, not a bound
	}
	defer c.inFlight.Add(-1)
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		sent := vendorhttp.SentBeforeFailure(err)
		ve := vendorhttp.TransportError(plan.OneUC, err, sent)
		c.log.Debug("oneuc request failed", "method", method, "path", path, "error", ve.Code)
		if !sent {
			return nil, &errNotSent{ve}
		}
		return nil, ve
	}
	defer resp.Body.Close()
	// The body is read into a pooled buffer, which the envelope's data
	// refers to (everything else in the envelope is a copy); the listing
	// gives it back once a page is decoded.
	buf := bodyPool.Get().(*bytes.Buffer)
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, maxAnswerBytes)); err != nil {
		putBody(buf)
		ve := vendorhttp.TransportError(plan.OneUC, err, true)
		return nil, ve
	}
	ans := &answer{status: resp.StatusCode, header: resp.Header, buf: buf}
	ans.env, ans.decodeErr = decodeEnvelopeShared(buf.Bytes())
	if ans.env == nil {
		ans.env = &envelope{}
	}
	c.log.Debug("oneuc request", "method", method, "path", path, "status", resp.StatusCode,
		"duration", time.Since(start))
	c.observe(ans)
	return ans, nil
}

// bodyPool recycles the buffers answers are read into, so that listing a
// million numbers does not leave a thousand page-sized buffers (grown by
// doubling) behind for the garbage collector.
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putBody returns a buffer to bodyPool unless it grew very large (a
// listing page is a few hundred KiB).
func putBody(buf *bytes.Buffer) {
	if buf.Cap() <= 4<<20 {
		buf.Reset()
		bodyPool.Put(buf)
	}
}

// observe paces the client on what an answer says about the vendor's
// bucket: a 429 pauses every request and halves the rate for a while; a
// tokens.remaining too low for the requests that may still come pauses
// until the bucket has refilled the difference and holds the client to the
// vendor's refill rate (refillPause), so the 429 never comes.
func (c *Client) observe(ans *answer) {
	if ans.status == http.StatusTooManyRequests {
		c.pacer.Throttled(vendorhttp.ParseRetryAfter(ans.header, time.Now()))
		c.slowerRefill()
		return
	}
	if ans.env.Tokens == nil || ans.env.Tokens.Remaining == nil || c.refill <= 0 {
		return
	}
	// This answer's request is still counted in flight; the others may
	// not have been charged yet.
	others := c.inFlight.Load() - 1
	peak := c.peakInFlight.Load()
	remaining := *ans.env.Tokens.Remaining
	refill := c.refillRate()
	wait, hold := refillPause(remaining, others, peak, c.reserve, refill)
	switch {
	case hold:
		c.pacer.Hold(refill)
		if wait > 0 {
			c.pacer.Pause(wait)
		}
	default:
		c.pacer.Release()
		if remaining >= 4*float64(max(peak, 1)+int64(c.reserve)) {
			// The bucket filled up while the client was held: it refills
			// faster than the estimate.
			c.fasterRefill()
		}
	}
}

// refillRate is the client's estimate of how fast the vendor's bucket
// refills: the assumed rate (assumptions.go, WithBucket) until a 429 shows
// it is slower. Operators set their own bucket, so a 429 while the client
// paced on remaining means the bucket refills slower than assumed: the
// estimate halves (down to a sixteenth of the assumed rate), and it grows
// back towards the assumed rate when answers show the bucket filling up.
func (c *Client) refillRate() float64 {
	c.refillMu.Lock()
	defer c.refillMu.Unlock()
	if c.refillEst <= 0 {
		c.refillEst = c.refill
	}
	return c.refillEst
}

func (c *Client) slowerRefill() {
	if c.refill <= 0 {
		return
	}
	c.refillMu.Lock()
	defer c.refillMu.Unlock()
	if c.refillEst <= 0 {
		c.refillEst = c.refill
	}
	c.refillEst = max(c.refillEst/2, c.refill/16)
}

func (c *Client) fasterRefill() {
	c.refillMu.Lock()
	defer c.refillMu.Unlock()
	if c.refillEst > 0 && c.refillEst < c.refill {
		c.refillEst = min(c.refillEst*1.25, c.refill)
	}
}

// refillPause is the pacing rule on a bucket whose size the client does
// not know, only what each answer says remains. The tokens remaining must
// cover the requests still in flight (each may not have been charged yet)
// and the next one, plus reserve: when they do not, every request waits
// for the bucket to refill the difference at refill tokens a second
// (wait). Near that level (below enough for every request the client has
// had in flight at once, peak, to leave together) the client is held to
// the refill rate (hold), one request at a time, so the requests queued
// behind a pause do not all leave when it ends and meet an empty bucket.
// No level is fixed in advance: a bucket of 10 is spent down to what the
// requests in flight need and then run at its refill rate, the ceiling, as
// is one of 1,000.
func refillPause(remaining float64, others, peak int64, reserve int, refill float64) (wait time.Duration, hold bool) {
	need := float64(max(others, 0)+1) + float64(reserve)
	// A negative (or nonsense) count means empty: the pause never exceeds
	// what refilling the need from nothing takes.
	remaining = max(remaining, 0)
	if remaining < need {
		wait = time.Duration((need - remaining) / refill * float64(time.Second))
	}
	return wait, remaining < need+float64(max(peak, 1))
}

// currentToken returns the session token, logging in when there is none.
// Logins are serialised, so a burst of 401s costs one login.
func (c *Client) currentToken(ctx context.Context) (string, error) {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	if c.token != "" {
		return c.token, nil
	}
	tok, err := c.login(ctx)
	if err != nil {
		return "", err
	}
	c.token = tok
	return tok, nil
}

// dropToken forgets tok unless another goroutine already replaced it.
func (c *Client) dropToken(tok string) {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	if c.token == tok {
		c.token = ""
	}
}

// login exchanges the API key for a token (PUT /v2/api_auth). It is tried
// once: a transient failure is the failure of the request that needed the
// token, which that request's own retry (get) or the executor (writes)
// tries again. Neither the key nor the token appears in any error or log
// line.
func (c *Client) login(ctx context.Context) (string, error) {
	body, err := json.Marshal(map[string]any{"data": map[string]string{"api_key": c.apiKey}})
	if err != nil {
		return "", fmt.Errorf("oneuc: log in: %w", err)
	}
	if err := c.pacer.Wait(ctx); err != nil {
		return "", fmt.Errorf("oneuc: log in: %w", vendorhttp.TransportError(plan.OneUC, err, false))
	}
	ans, err := c.send(ctx, http.MethodPut, "/v2/api_auth", nil, body, "")
	if err != nil {
		return "", fmt.Errorf("oneuc: log in: %w", err)
	}
	if ans.status != http.StatusCreated && ans.status != http.StatusOK {
		ve := c.httpError(ans, "")
		if ans.status == http.StatusUnauthorized || ans.status == http.StatusForbidden {
			ve.Code = "invalid_credentials"
			ve.Message = "the API key was refused"
			ve.Temporary = false // a refused key does not mend by retrying
		}
		return "", fmt.Errorf("oneuc: log in: %w", ve)
	}
	if ans.env.AuthToken == "" {
		return "", fmt.Errorf("oneuc: log in: %w", &plan.VendorError{Vendor: plan.OneUC,
			Status: ans.status, Code: "no_token", Message: "the answer carried no auth_token"})
	}
	c.log.Debug("oneuc logged in")
	return ans.env.AuthToken, nil
}

// get sends an idempotent GET under the retry policy (retry.Policy.Do):
// transient failures (network, timeout, 429, 5xx, an answer that is not an
// envelope) are tried again within the operation's budget; a 4xx answer
// is returned as is.
func (c *Client) get(ctx context.Context, path string, query url.Values) (*answer, error) {
	var got *answer
	err := c.retry.Do(ctx, func(ctx context.Context) error {
		ans, err := c.call(ctx, http.MethodGet, path, query, nil)
		switch {
		case err != nil:
			return err
		case ans.status == http.StatusTooManyRequests || ans.status >= 500:
			ve := c.httpError(ans, "")
			ans.release()
			return ve
		case ans.decodeErr != nil:
			ans.release()
			return &plan.VendorError{Vendor: plan.OneUC, Status: ans.status, Code: "bad_answer",
				Message: "answer is not a Kazoo envelope", Temporary: true, Err: ans.decodeErr}
		}
		got = ans
		return nil
	})
	if err != nil {
		return nil, err
	}
	return got, nil
}

// httpError classifies an answer that is not a success. number is the
// phone number concerned, if any.
func (c *Client) httpError(ans *answer, number string) *plan.VendorError {
	env := ans.env
	ve := &plan.VendorError{Vendor: plan.OneUC, Number: number, Status: ans.status,
		Code: env.message(), RetryAfter: vendorhttp.ParseRetryAfter(ans.header, time.Now())}
	var data struct {
		Message json.RawMessage `json:"message"`
		Cause   json.RawMessage `json:"cause"`
	}
	_ = json.Unmarshal(env.Data, &data) // data need not be an object
	detail := rawString(data.Message)
	switch {
	case detail == msgMissingProviderURL || ve.Code == msgMissingProviderURL:
		ve.Code = msgMissingProviderURL
		ve.Message = "not available from the carrier (no search returned it)"
		return ve
	case detail == msgFaultByCarrier || ve.Code == msgFaultByCarrier:
		ve.Code = "fault_by_carrier"
		ve.Message = "the carrier refused to activate the number (fault by carrier)"
		return ve
	}
	if code, reason := e911Reason(env.Data); code != "" {
		ve.Code, ve.Message = code, reason
		return ve
	}
	switch {
	case detail != "":
		ve.Message = detail
	case ans.status == http.StatusBadRequest && ve.Code == msgInvalidData:
		ve.Message = validationText(env.Data)
	}
	if ans.status == http.StatusPaymentRequired {
		ve.Message = "the vendor asked to accept charges"
	}
	if ve.Code == "" {
		ve.Code = http.StatusText(ans.status)
	}
	if ans.status == http.StatusTooManyRequests {
		ve.Code = msgTooManyRequests
	}
	ve.Temporary = vendorhttp.StatusTransient(ans.status)
	return ve
}

// accountPath returns the path of the account's resource rest.
func (c *Client) accountPath(rest string) string {
	return "/v2/accounts/" + url.PathEscape(c.account) + "/" + rest
}

// numberPath returns the URL-encoded path of one number: always the +E.164
// form, since Kazoo reads a bare 8-digit number as international (doc).
func (c *Client) numberPath(number string) (string, error) {
	if err := checkE164(number); err != nil {
		return "", err
	}
	return c.accountPath("phone_numbers/%2B" + number[1:]), nil
}

// checkE164 accepts "+" followed by 2 to 15 digits.
func checkE164(number string) error {
	if len(number) < 3 || len(number) > 16 || number[0] != '+' {
		return fmt.Errorf("%q is not an E.164 number", number)
	}
	for _, r := range number[1:] {
		if r < '0' || r > '9' {
			return fmt.Errorf("%q is not an E.164 number", number)
		}
	}
	return nil
}

// List streams every number the account holds, page by page.
func (c *Client) List(ctx context.Context, fn func(plan.State) error) error {
	ctx = c.retry.Scope(ctx) // one budget for every page
	seen := map[string]bool{}
	key := ""
	var words interner // a million numbers share a few states and feature lists
	var pages listDecoder
	for page := 1; ; page++ {
		q := url.Values{"page_size": {strconv.Itoa(listPageSize)}}
		if key != "" {
			q.Set("start_key", key)
		}
		ans, err := c.get(ctx, c.accountPath("phone_numbers"), q)
		if err != nil {
			return fmt.Errorf("oneuc: list numbers: page %d: %w", page, err)
		}
		if ans.status != http.StatusOK {
			return fmt.Errorf("oneuc: list numbers: page %d: %w", page, c.httpError(ans, ""))
		}
		states, next, more, err := pages.decode(ans.env)
		ans.release()
		if err != nil {
			return fmt.Errorf("oneuc: list numbers: page %d: %w", page, err)
		}
		for _, st := range states {
			st.Status = words.get(st.Status)
			st.Features = words.list(st.Features)
			if err := fn(st); err != nil {
				return err
			}
		}
		if !more {
			c.listedPages.Store(int64(page))
			return nil
		}
		if seen[next] || next == key {
			return fmt.Errorf("oneuc: list numbers: page %d: next_start_key repeats a page", page)
		}
		seen[next] = true
		key = next
	}
}

// Read fetches the given numbers in full, a few at a time. A number the
// account does not hold (404) is absent from the map.
func (c *Client) Read(ctx context.Context, numbers []string) (map[string]plan.State, error) {
	ctx = c.retry.Scope(ctx) // one budget for every GET
	out := make(map[string]plan.State, len(numbers))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(readConcurrency)
	for _, n := range numbers {
		g.Go(func() error {
			st, ok, err := c.readOne(gctx, n)
			if err != nil {
				return err
			}
			if ok {
				mu.Lock()
				out[n] = st
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("oneuc: read numbers: %w", err)
	}
	return out, nil
}

// ReadStates implements plan.StateReader. It reads the numbers asked by
// whichever costs fewer requests: one GET per number when they are no more
// than the pages a listing takes (listingCost), else one listing pass kept
// to the numbers asked. GETs give Detailed records (CNAM and E911 read);
// the listing does not, and its records say so (Detailed false). A number
// the account does not hold is absent either way.
func (c *Client) ReadStates(ctx context.Context, numbers []string) (map[string]plan.State, error) {
	ctx = c.retry.Scope(ctx)
	want := make(map[string]bool, len(numbers))
	unique := make([]string, 0, len(numbers))
	for _, n := range numbers {
		if err := checkE164(n); err != nil {
			// Refused up front, as Read does, rather than silently missing
			// from the listing (which would read as "not held").
			return nil, fmt.Errorf("oneuc: read states: %w", &plan.VendorError{Vendor: plan.OneUC, Number: n,
				Code: "invalid_number", Message: err.Error()})
		}
		if !want[n] {
			want[n] = true
			unique = append(unique, n)
		}
	}
	if len(unique) <= c.listingCost() {
		return c.Read(ctx, unique)
	}
	out := make(map[string]plan.State, len(unique))
	err := c.List(ctx, func(s plan.State) error {
		if want[s.Number] {
			out[s.Number] = s
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("oneuc: read states: %w", err)
	}
	return out, nil
}

// listingCost is how many requests a listing of the account is expected to
// take: the pages of the last complete listing, or assumedListingPages
// before there was one.
func (c *Client) listingCost() int {
	if n := c.listedPages.Load(); n > 0 {
		return int(n)
	}
	return assumedListingPages
}

// readOne GETs one number; ok is false when the account does not hold it.
func (c *Client) readOne(ctx context.Context, number string) (plan.State, bool, error) {
	path, err := c.numberPath(number)
	if err != nil {
		return plan.State{}, false, &plan.VendorError{Vendor: plan.OneUC, Number: number,
			Code: "invalid_number", Message: err.Error()}
	}
	ans, err := c.get(ctx, path, nil)
	if err != nil {
		return plan.State{}, false, withNumber(err, number)
	}
	switch {
	case ans.status == http.StatusOK:
	case ans.status == http.StatusNotFound && ans.env.message() == msgBadIdentifier:
		// Only Kazoo's own "not on the account" counts as absent: a 404
		// from a wrong base URL must not make every number look missing
		// (the plan would then activate them all).
		return plan.State{}, false, nil
	default:
		return plan.State{}, false, c.httpError(ans, number)
	}
	doc, err := decodeNumber(ans.env.Data)
	if err != nil {
		return plan.State{}, false, &plan.VendorError{Vendor: plan.OneUC, Number: number,
			Status: ans.status, Code: "bad_answer", Message: "unreadable number", Err: err}
	}
	return doc.state(number), true, nil
}

// withNumber sets the number on a VendorError that has none.
func withNumber(err error, number string) error {
	var ve *plan.VendorError
	if errors.As(err, &ve) && ve.Number == "" {
		cp := *ve
		cp.Number = number
		return &cp
	}
	return err
}
