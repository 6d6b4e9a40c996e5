package vendorhttp

import (
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/numsync/numsync/internal/plan"
)

// TransportError classifies a failure to get an answer at all (the request
// could not be sent, the connection dropped, the deadline passed). Such an
// error is transient, and the outcome of a write is unknown: the vendor may
// have acted before the answer was lost. sent says whether any byte of the
// request may have reached the vendor; when it is false, a write certainly
// did not happen.
func TransportError(v plan.VendorName, err error, sent bool) *plan.VendorError {
	var msg string
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		msg = "timeout"
	case !sent:
		msg = "could not connect"
	default:
		msg = "connection lost"
	}
	return &plan.VendorError{Vendor: v, Code: msg, Message: address(err), Temporary: true, Err: err}
}

// address names where a failed request went and the innermost cause
// ("http://127.0.0.1:8080: connection refused"), so a connection error says
// which address to check. Only the scheme and host: the path and query are
// the client's business, and never carry a credential here.
func address(err error) string {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return ""
	}
	where := ue.URL
	if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
		where = u.Scheme + "://" + u.Host
	}
	cause := err
	for {
		next := errors.Unwrap(cause)
		if next == nil {
			break
		}
		cause = next
	}
	return where + ": " + cause.Error()
}

// SentBeforeFailure reports whether a request that failed with err may have
// reached the vendor. Only a failure to dial proves it did not; anything
// later (a reset, EOF, a timeout while waiting for the answer) may have come
// after the vendor acted.
func SentBeforeFailure(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	return true
}

// StatusTransient reports whether an HTTP status is worth retrying: 429,
// every 5xx, and a 401. Clients log in again and repeat a request once on a
// 401, so a 401 that reaches this question came on a fresh token: the token
// expired in between (a lab hands out tokens of seconds), which the next
// try's login mends; a refused login is the clients' own, permanent, error.
// Vendors that answer a definite refusal with a 5xx (OneUC's
// missing_provider_url is a 500) decide that themselves before asking.
func StatusTransient(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusUnauthorized || status >= 500
}

// ParseRetryAfter reads a Retry-After header given in seconds or as an
// HTTP date; 0 when absent or unreadable.
func ParseRetryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		// Saturate, as t.Sub does for a far date below: multiplying would
		// wrap a huge value into a short or negative wait.
		if s > int(math.MaxInt64/time.Second) {
			return math.MaxInt64
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
