package firstorion

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
	"time"

	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/retry"
	"github.com/numsync/numsync/internal/vendors/vendorhttp"
)

// Config is what the client needs to reach one First Orion business. It is
// filled by cmd from the configuration file; the package never reads the
// environment.
type Config struct {
	// URL is the API base, e.g. https://api.forp-lab.com; paths start with
	// /v1/auth and /exchange/v1.
	URL string
	// BusinessID is the business whose numbers are managed.
	BusinessID string
	// APIKey and SecretKey are exchanged for a token. They are sent only in
	// the auth request's headers and never logged.
	APIKey    string
	SecretKey string
	// RPS and Burst pace every request of the client, auth included (the
	// vendor limits per API key, and the lab counts every request). RPS 0
	// means the lab's default of 10; a negative RPS means unlimited. Burst
	// 0 means max(1, RPS).
	RPS   float64
	Burst int
	// BatchSize is the most numbers one write carries: 1 to MaxBatch, 0
	// for 100.
	BatchSize int
	// Timeout bounds each request; 0 means 30 s.
	Timeout time.Duration
	// Retry is the retry policy of the requests the client retries on its
	// own (listings); zero fields take its defaults. Writes are sent once:
	// the executor decides what to do next.
	Retry retry.Policy
	// HTTPClient is used for every request; nil means a default client.
	HTTPClient *http.Client
	// Logger receives debug and warning records; nil discards them.
	Logger *slog.Logger
}

// Option adjusts a Client beyond its Config, mostly for tests.
type Option func(*Client)

// WithClock replaces the clock of the token schedule, the pacer and the
// retries.
func WithClock(now func() time.Time) Option {
	return func(c *Client) { c.now, c.retry.Now = now, now }
}

// WithSleep replaces how the pacer and the retries wait: a fake clock's
// sleep advances it, so a test spends pauses without waiting.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) { c.sleep, c.retry.Sleep = sleep, sleep }
}

// WithListRetries gives listing requests (GET, idempotent) one round of
// attempts tries, the first pause backoff, and a budget that ends with the
// round, so a test sees the error of a listing that keeps failing at once
// instead of after retry.max_elapsed. Writes are never retried by the
// client.
func WithListRetries(attempts int, backoff time.Duration) Option {
	return func(c *Client) {
		if attempts >= 1 && backoff > 0 {
			c.retry.MaxAttempts = attempts
			c.retry.Base = backoff
			c.retry.Max = backoff << attempts
			c.retry.MaxElapsed = backoff << attempts
		}
	}
}

// WithPageLimit sets the listing page size (1 to MaxPageLimit); the
// default is MaxPageLimit. Tests use small pages to make long listings
// cheaply.
func WithPageLimit(n int) Option {
	return func(c *Client) {
		if n >= 1 && n <= MaxPageLimit {
			c.pageLimit = n
		}
	}
}

// Client is a First Orion Exchange API client for one business. It is safe
// for concurrent use.
type Client struct {
	cfg       Config
	base      *url.URL
	hc        *http.Client
	log       *slog.Logger
	pacer     *vendorhttp.Pacer
	auth      *tokenSource
	now       func() time.Time
	sleep     func(ctx context.Context, d time.Duration) error
	retry     retry.Policy
	endpoint  string
	pageLimit int
}

var (
	_ plan.Vendor      = (*Client)(nil)
	_ plan.Hierarchy   = (*Client)(nil)
	_ plan.StateReader = (*Client)(nil)
)

// maxAnswer bounds how much of an answer is read: a 1000-number page is
// well under a megabyte.
const maxAnswer = 32 << 20

// New validates cfg and returns a client. It sends nothing: the first
// request logs in.
func New(cfg Config, opts ...Option) (*Client, error) {
	if cfg.URL == "" {
		return nil, errors.New("firstorion: config: url is required")
	}
	base, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("firstorion: config: url %q is not an http(s) URL", cfg.URL)
	}
	if strings.TrimSpace(cfg.BusinessID) == "" {
		return nil, errors.New("firstorion: config: business_id is required")
	}
	if cfg.APIKey == "" || cfg.SecretKey == "" {
		return nil, errors.New("firstorion: config: api_key and secret_key are required")
	}
	switch {
	case cfg.BatchSize == 0:
		cfg.BatchSize = 100
	case cfg.BatchSize < 0 || cfg.BatchSize > MaxBatch:
		return nil, fmt.Errorf("firstorion: config: batch_size %d is outside 1..%d", cfg.BatchSize, MaxBatch)
	}
	if cfg.RPS == 0 {
		cfg.RPS = 10
	}
	if cfg.Burst <= 0 {
		cfg.Burst = max(1, int(cfg.RPS))
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	c := &Client{
		cfg:       cfg,
		base:      base,
		hc:        cfg.HTTPClient,
		log:       cfg.Logger,
		now:       time.Now,
		retry:     cfg.Retry,
		pageLimit: MaxPageLimit,
	}
	ep := *base
	ep.User, ep.RawQuery, ep.Fragment = nil, "", ""
	c.endpoint = ep.String()
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	for _, o := range opts {
		o(c)
	}
	c.retry = c.retry.WithDefaults()
	c.pacer = vendorhttp.NewPacer(cfg.RPS, cfg.Burst)
	if c.sleep != nil {
		c.pacer.SetClock(c.now, c.sleep)
	}
	c.auth = newTokenSource(c)
	return c, nil
}

// Endpoint returns the API base the client talks to, for messages that
// must say which vendor could not be reached. It holds no secret.
func (c *Client) Endpoint() string { return c.endpoint }

// Name returns plan.FirstOrion.
func (c *Client) Name() plan.VendorName { return plan.FirstOrion }

// Pacer returns the client's pacer, so callers can report throttling.
func (c *Client) Pacer() *vendorhttp.Pacer { return c.pacer }

// transportErr is a failure to get any answer, with whether the request
// may have reached the vendor: a write that was never sent is safe to
// resend (Retry), one that was may have acted (Unknown).
type transportErr struct {
	ve   *plan.VendorError
	sent bool
}

func (e *transportErr) Error() string { return e.ve.Error() }
func (e *transportErr) Unwrap() error { return e.ve }

// response is an answer read whole.
type response struct {
	status int
	header http.Header
	body   []byte
	// buf holds body when it was read into a pooled buffer; release
	// gives it back once nothing refers to body any more.
	buf *bytes.Buffer
}

// bodyPool recycles the buffers answers are read into, so that listing a
// million numbers does not leave a thousand page-sized buffers (grown by
// doubling) behind for the garbage collector.
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBody is the largest buffer kept for reuse: a listing page of
// 1000 numbers is a few hundred KiB.
const maxPooledBody = 4 << 20

// release returns the answer's buffer to the pool. body must not be used
// afterwards; decoding copies every string it keeps, so a decoded answer
// does not refer to it.
func (r *response) release() {
	if r.buf == nil {
		return
	}
	if r.buf.Cap() <= maxPooledBody {
		r.buf.Reset()
		bodyPool.Put(r.buf)
	}
	r.buf, r.body = nil, nil
}

func (r *response) ok() bool { return r.status >= 200 && r.status < 300 }

// send makes one authenticated request and returns the answer whatever its
// status, after one re-authentication on a 401. Errors are transport
// failures (*transportErr) or authentication failures (*plan.VendorError).
//
// The pacer's wait comes before the token is taken: at a low rate a
// request may wait its turn for longer than a token lives, and it must
// leave with a token checked after the wait, not before.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, body any) (*response, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("firstorion: encode request: %w", err)
		}
	}
	for attempt := 0; ; attempt++ {
		if err := c.wait(ctx); err != nil {
			return nil, err
		}
		tok, gen, err := c.auth.get(ctx)
		if err != nil {
			return nil, err
		}
		hdr := http.Header{}
		hdr.Set("Authorization", tok)
		resp, err := c.roundTrip(ctx, method, path, query, hdr, payload)
		if err != nil {
			return nil, err
		}
		if resp.status == http.StatusUnauthorized && attempt == 0 {
			c.log.Debug("firstorion: 401, logging in again", "method", method, "path", path)
			c.auth.invalidate(gen)
			continue
		}
		return resp, nil
	}
}

// wait takes the request's turn from the pacer.
func (c *Client) wait(ctx context.Context) error {
	if err := c.pacer.Wait(ctx); err != nil {
		return &transportErr{ve: vendorhttp.TransportError(plan.FirstOrion, err, false), sent: false}
	}
	return nil
}

// roundTrip sends one request, which the caller has paced (wait). It is
// the only place a request leaves the client.
func (c *Client) roundTrip(ctx context.Context, method, path string, query url.Values, hdr http.Header, payload []byte) (*response, error) {
	if err := requestAllowed(method, path); err != nil {
		return nil, fmt.Errorf("firstorion: %w", err)
	}
	u := *c.base
	u.Path = c.base.Path + path
	u.RawPath = c.base.EscapedPath() + path
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(rctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("firstorion: build request: %w", err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	res, err := c.hc.Do(req)
	if err != nil {
		sent := vendorhttp.SentBeforeFailure(err)
		c.log.Debug("firstorion: request failed", "method", method, "path", path, "sent", sent, "error", err)
		ve := vendorhttp.TransportError(plan.FirstOrion, err, sent)
		return nil, &transportErr{ve: ve, sent: sent}
	}
	defer res.Body.Close()
	buf := bodyPool.Get().(*bytes.Buffer)
	if _, err := buf.ReadFrom(io.LimitReader(res.Body, maxAnswer)); err != nil {
		buf.Reset()
		bodyPool.Put(buf)
		ve := vendorhttp.TransportError(plan.FirstOrion, err, true)
		return nil, &transportErr{ve: ve, sent: true}
	}
	c.log.Debug("firstorion: request", "method", method, "path", path, "status", res.StatusCode, "duration", time.Since(start))
	// Callers that never release the answer just leave its buffer to the
	// garbage collector, as a plain read would.
	resp := &response{status: res.StatusCode, header: res.Header, body: buf.Bytes(), buf: buf}
	if res.StatusCode == http.StatusTooManyRequests {
		c.pacer.Throttled(vendorhttp.ParseRetryAfter(res.Header, time.Now()))
	}
	return resp, nil
}

// authCall runs /v1/auth or /v1/auth/refresh. Its errors carry the status
// and the vendor's description, never a header or body that was sent.
func (c *Client) authCall(ctx context.Context, path string, hdr http.Header, body any) (tokenAnswer, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return tokenAnswer{}, fmt.Errorf("firstorion: encode auth request: %w", err)
		}
	}
	if err := c.wait(ctx); err != nil {
		return tokenAnswer{}, err
	}
	resp, err := c.roundTrip(ctx, http.MethodPost, path, nil, hdr, payload)
	if err != nil {
		return tokenAnswer{}, err
	}
	if !resp.ok() {
		ve := c.statusError(resp, "")
		if resp.status == http.StatusUnauthorized || resp.status == http.StatusForbidden {
			ve.Code = "auth_failed"
			ve.Temporary = false
		}
		return tokenAnswer{}, ve
	}
	tok, err := decodeToken(resp.body)
	if err != nil {
		return tokenAnswer{}, &plan.VendorError{Vendor: plan.FirstOrion, Status: resp.status, Code: "bad_auth_answer", Message: err.Error(), Temporary: true}
	}
	return tok, nil
}

// statusError turns a non-2xx answer into a classified error: the error
// envelope's code and description, Retry-After, transient for 429 and 5xx.
func (c *Client) statusError(resp *response, number string) *plan.VendorError {
	ve := &plan.VendorError{
		Vendor:     plan.FirstOrion,
		Number:     number,
		Status:     resp.status,
		Code:       strconv.Itoa(resp.status),
		Temporary:  vendorhttp.StatusTransient(resp.status),
		RetryAfter: vendorhttp.ParseRetryAfter(resp.header, time.Now()),
	}
	if resp.status == http.StatusTooManyRequests {
		ve.Code = "too_many_requests"
	}
	if env, err := decodeEnvelope(resp.body); err == nil && env.Error != nil {
		ve.Message = env.Error.Description
	} else {
		ve.Message = http.StatusText(resp.status)
	}
	return ve
}

// get reads a listing page under the retry policy (retry.Policy.Do):
// transient failures (GET is idempotent) are tried again within the
// operation's budget; 429 pauses are obeyed through the pacer. The caller
// releases the answer once it is decoded.
func (c *Client) get(ctx context.Context, path string, query url.Values) (*response, error) {
	var got *response
	err := c.retry.Do(ctx, func(ctx context.Context) error {
		resp, err := c.send(ctx, http.MethodGet, path, query, nil)
		if err != nil {
			return err
		}
		if !resp.ok() {
			ve := c.statusError(resp, "")
			resp.release()
			c.log.Debug("firstorion: listing request failed", "path", path, "error", ve)
			return ve
		}
		got = resp
		return nil
	})
	if err != nil {
		return nil, err
	}
	return got, nil
}

// listAll pages through a collection, calling fn for every page's items.
// fn must not keep the slice it is given: the next page reuses it.
func listAll[T any](ctx context.Context, c *Client, path string, fn func([]T) error) error {
	seen := map[string]bool{}
	hash := ""
	var items []T
	for {
		q := url.Values{"limit": {strconv.Itoa(c.pageLimit)}}
		if hash != "" {
			q.Set(pageHashParam, hash)
		}
		resp, err := c.get(ctx, path, q)
		if err != nil {
			return err
		}
		var next string
		items, next, err = decodePageInto(resp.body, items)
		resp.release()
		if err != nil {
			return &plan.VendorError{Vendor: plan.FirstOrion, Code: "bad_answer", Message: err.Error(), Err: err}
		}
		if err := fn(items); err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		if seen[next] {
			return &plan.VendorError{Vendor: plan.FirstOrion, Code: "bad_answer", Message: "listing repeats a page cursor"}
		}
		seen[next] = true
		hash = next
	}
}

// List streams every number of the business, 1000 a page (MaxPageLimit).
func (c *Client) List(ctx context.Context, fn func(plan.State) error) error {
	ctx = c.retry.Scope(ctx) // one budget for every page
	path, err := c.pathNumbers()
	if err != nil {
		return fmt.Errorf("firstorion: list numbers: %w", err)
	}
	var fnErr error
	var words interner // a million numbers share a few units, programs and states
	err = listAll(ctx, c, path, func(items []wireNumber) error {
		for _, n := range items {
			if n.PhoneNumberID == "" || strings.TrimSpace(n.PhoneNumber) == "" {
				return &plan.VendorError{Vendor: plan.FirstOrion, Code: "bad_answer", Message: "listed number without phoneNumberId or phoneNumber"}
			}
			s := n.state()
			s.Status = words.get(s.Status)
			s.BusinessUnit = words.get(s.BusinessUnit)
			s.Program = words.get(s.Program)
			s.CallPurpose = words.get(s.CallPurpose)
			if err := fn(s); err != nil {
				fnErr = err
				return err
			}
		}
		return nil
	})
	if err != nil && fnErr != nil && errors.Is(err, fnErr) {
		return err
	}
	if err != nil {
		return fmt.Errorf("firstorion: list numbers: %w", err)
	}
	return nil
}

// Read returns the live state of numbers. The API has no endpoint that
// reads one number by phone number (vendors.md), so Read lists the whole
// business and keeps those asked for: one listing serves any number of
// numbers.
func (c *Client) Read(ctx context.Context, numbers []string) (map[string]plan.State, error) {
	ctx = c.retry.Scope(ctx) // one budget for every page
	want := make(map[string]bool, len(numbers))
	for _, n := range numbers {
		want[n] = true
	}
	out := make(map[string]plan.State, len(numbers))
	if len(want) == 0 {
		return out, nil
	}
	err := c.List(ctx, func(s plan.State) error {
		if want[s.Number] {
			out[s.Number] = s
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("firstorion: read: %w", err)
	}
	return out, nil
}

// ReadStates implements plan.StateReader. First Orion's listing already
// carries everything the plan compares, and a listing is the only way to
// read a number, so it is Read: one listing pass for all the numbers
// asked, however many. The executor gives it every number it needs at
// once, so verifying a run lists the business once instead of once per
// chunk.
func (c *Client) ReadStates(ctx context.Context, numbers []string) (map[string]plan.State, error) {
	return c.Read(ctx, numbers)
}

// BusinessUnits lists the business units with their programs.
func (c *Client) BusinessUnits(ctx context.Context) ([]plan.BusinessUnit, error) {
	ctx = c.retry.Scope(ctx) // one budget for every page
	path, err := c.pathBusinessUnits()
	if err != nil {
		return nil, fmt.Errorf("firstorion: list business units: %w", err)
	}
	var bus []plan.BusinessUnit
	err = listAll(ctx, c, path, func(items []wireBusinessUnit) error {
		for _, b := range items {
			if b.BusinessUnitID == "" {
				return &plan.VendorError{Vendor: plan.FirstOrion, Code: "bad_answer", Message: "business unit without businessUnitId"}
			}
			bus = append(bus, plan.BusinessUnit{ID: b.BusinessUnitID, Name: b.Name})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("firstorion: list business units: %w", err)
	}
	for i := range bus {
		ppath, err := c.pathPrograms(bus[i].ID)
		if err != nil {
			return nil, fmt.Errorf("firstorion: list programs: %w", err)
		}
		err = listAll(ctx, c, ppath, func(items []wireProgram) error {
			for _, p := range items {
				if p.ProgramID == "" {
					return &plan.VendorError{Vendor: plan.FirstOrion, Code: "bad_answer", Message: "program without programId"}
				}
				ch := ""
				if len(p.DeliveryChannels) > 0 {
					ch = p.DeliveryChannels[0]
				}
				bus[i].Programs = append(bus[i].Programs, plan.Program{
					ID: p.ProgramID, Name: p.ProgramName, Channel: ch, Active: p.Active, CallPurpose: p.CallPurposeCode,
				})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("firstorion: list programs of business unit %s: %w", bus[i].ID, err)
		}
	}
	return bus, nil
}
