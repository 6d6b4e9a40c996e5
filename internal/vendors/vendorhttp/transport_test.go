package vendorhttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/plan"
)

// timeoutErr is a net.Error that timed out, like a read deadline passing.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var (
	dialRefused = &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	dialTimeout = &net.OpError{Op: "dial", Net: "tcp", Err: timeoutErr{}}
	readReset   = &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	readTimeout = &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}
	writeBroken = &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)}
)

// asClient wraps err the way http.Client.Do returns it.
func asClient(err error) error {
	return &url.Error{Op: "Post", URL: "https://vendor.example/x", Err: err}
}

func TestSentBeforeFailure(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"dial refused", dialRefused, false},
		{"dial refused via client", asClient(dialRefused), false},
		{"dial timeout", dialTimeout, false},
		{"dial wrapped with %w", fmt.Errorf("oneuc: %w", asClient(dialRefused)), false},
		{"dns failure", &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "vendor.example", IsNotFound: true}}, false},
		{"read reset", readReset, true},
		{"read reset via client", asClient(readReset), true},
		{"read timeout", asClient(readTimeout), true},
		{"write broken", writeBroken, true},
		{"eof", asClient(io.EOF), true},
		{"unexpected eof", io.ErrUnexpectedEOF, true},
		{"deadline", asClient(context.DeadlineExceeded), true},
		{"unclassified", errors.New("something"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SentBeforeFailure(tt.err); got != tt.want {
				t.Fatalf("SentBeforeFailure(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// TestSentBeforeFailureOnTheWire checks the classification against errors
// net/http really returns, not only ones built by hand.
func TestSentBeforeFailureOnTheWire(t *testing.T) {
	// A port nobody listens on: bind, note the address, close.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + ln.Addr().String() + "/"
	ln.Close()

	// A server that reads the request and drops the connection unanswered:
	// the request reached the vendor, the answer was lost.
	drop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	}))
	defer drop.Close()

	tests := []struct {
		name     string
		url      string
		wantSent bool
		wantCode string
	}{
		{"connection refused", closedURL, false, "could not connect"},
		{"dropped after the request", drop.URL, true, "connection lost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// No keep-alive reuse: a retried idle connection would blur the
			// case being tested.
			c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			req, err := http.NewRequest(http.MethodPost, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.Do(req)
			if err == nil {
				res.Body.Close()
				t.Fatal("request succeeded, want a transport failure")
			}
			sent := SentBeforeFailure(err)
			if sent != tt.wantSent {
				t.Fatalf("SentBeforeFailure(%v) = %v, want %v", err, sent, tt.wantSent)
			}
			ve := TransportError(plan.OneUC, err, sent)
			if ve.Code != tt.wantCode {
				t.Fatalf("Code = %q, want %q (err %v)", ve.Code, tt.wantCode, err)
			}
			// The message names the address to check.
			if u, _ := url.Parse(tt.url); !strings.Contains(ve.Error(), "http://"+u.Host+": ") {
				t.Errorf("%q does not name %s", ve.Error(), u.Host)
			}
		})
	}
}

func TestTransportError(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		sent     bool
		wantCode string
	}{
		{"deadline", context.DeadlineExceeded, true, "timeout"},
		{"deadline via client", asClient(context.DeadlineExceeded), true, "timeout"},
		{"read timeout", asClient(readTimeout), true, "timeout"},
		{"dial timeout", asClient(dialTimeout), false, "timeout"},
		{"not sent", asClient(dialRefused), false, "could not connect"},
		{"not sent, unclassified", errors.New("pacer: context canceled"), false, "could not connect"},
		{"lost", asClient(readReset), true, "connection lost"},
		{"lost on eof", asClient(io.EOF), true, "connection lost"},
		{"cancelled is not timeout", asClient(context.Canceled), true, "connection lost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ve := TransportError(plan.FirstOrion, tt.err, tt.sent)
			if ve.Code != tt.wantCode {
				t.Errorf("Code = %q, want %q", ve.Code, tt.wantCode)
			}
			if !ve.Temporary || !plan.IsTransient(ve) {
				t.Error("transport failure not marked Temporary")
			}
			if ve.Vendor != plan.FirstOrion {
				t.Errorf("Vendor = %q, want %q", ve.Vendor, plan.FirstOrion)
			}
			if ve.Status != 0 {
				t.Errorf("Status = %d, want 0: no answer came", ve.Status)
			}
			if !errors.Is(ve, tt.err) {
				t.Error("cause lost: errors.Is does not see the original error")
			}
		})
	}
}

func TestStatusTransient(t *testing.T) {
	tests := []struct {
		status int
		want   bool
	}{
		{200, false},
		{400, false},
		{401, true}, // only asked after a fresh login: the token expired in between
		{403, false},
		{404, false},
		{409, false},
		{429, true},
		{500, true},
		{502, true},
		{503, true},
		{504, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			if got := StatusTransient(tt.status); got != tt.want {
				t.Fatalf("StatusTransient(%d) = %v, want %v", tt.status, got, tt.want)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 0, 30, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header []string // Retry-After values; nil means absent
		want   time.Duration
	}{
		{"absent", nil, 0},
		{"empty", []string{""}, 0},
		{"seconds", []string{"120"}, 120 * time.Second},
		{"zero seconds", []string{"0"}, 0},
		{"http date ahead", []string{now.Add(90 * time.Second).Format(http.TimeFormat)}, 90 * time.Second},
		{"http date in the past", []string{now.Add(-time.Minute).Format(http.TimeFormat)}, 0},
		{"http date now", []string{now.Format(http.TimeFormat)}, 0},
		{"rfc850 date", []string{now.Add(time.Hour).Format(time.RFC850)}, time.Hour},
		{"asctime date", []string{now.Add(time.Hour).Format(time.ANSIC)}, time.Hour},
		{"negative", []string{"-5"}, 0},
		{"fractional", []string{"1.5"}, 0},
		{"garbage", []string{"soon"}, 0},
		{"seconds with unit", []string{"10s"}, 0},
		// Beyond what a Duration holds: wait as long as it can say, the way a
		// far-future date does, rather than wrapping to a short or negative one.
		{"huge seconds", []string{"99999999999999"}, time.Duration(1<<63 - 1)},
		{"first of several", []string{"3", "60"}, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.header {
				h.Add("Retry-After", v)
			}
			if got := ParseRetryAfter(h, now); got != tt.want {
				t.Fatalf("ParseRetryAfter(%q) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}
