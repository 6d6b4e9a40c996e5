package plan

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// VendorError is an error a vendor answered (or a failure to reach it),
// classified by what the caller should do next, in the manner of rclone's
// fserrors: Transient errors are worth retrying, the others are not.
type VendorError struct {
	// Vendor is who answered.
	Vendor VendorName
	// Number is the phone number concerned, when the error is about one.
	Number string
	// Status is the HTTP status, 0 when no answer came.
	Status int
	// Code is the vendor's reason code, e.g. "ALLOCATED_NUMBER",
	// "missing_provider_url", "multiple_choice", "too_many_requests".
	Code string
	// Message is the vendor's own words, including any detail a person
	// needs to act (for an ambiguous E911 address, the candidates).
	Message string
	// Temporary marks errors worth retrying: network failures, timeouts,
	// 429 and 5xx other than a vendor's definite refusal.
	Temporary bool
	// RetryAfter is how long the vendor asked the caller to wait (a
	// Retry-After header), 0 when it did not say.
	RetryAfter time.Duration
	// Err is the underlying cause, if any.
	Err error
}

func (e *VendorError) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Vendor))
	if e.Number != "" {
		b.WriteString(" ")
		b.WriteString(e.Number)
	}
	b.WriteString(": ")
	switch {
	case e.Code != "" && e.Message != "" && e.Message != e.Code:
		fmt.Fprintf(&b, "%s: %s", e.Code, e.Message)
	case e.Code != "":
		b.WriteString(e.Code)
	case e.Message != "":
		b.WriteString(e.Message)
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	default:
		b.WriteString("error")
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	return b.String()
}

// Unwrap returns the cause, so errors.Is and errors.As see through.
func (e *VendorError) Unwrap() error { return e.Err }

// Transient reports whether retrying may succeed.
func (e *VendorError) Transient() bool { return e.Temporary }

// transient is implemented by errors that know whether a retry may help.
type transient interface{ Transient() bool }

// IsTransient reports whether err, or an error it wraps, is marked as worth
// retrying. Unclassified errors are permanent: retrying what nobody
// understood only hides it.
func IsTransient(err error) bool {
	var t transient
	if errors.As(err, &t) {
		return t.Transient()
	}
	return false
}

// RetryAfter returns how long the vendor asked to wait before the next
// request, or 0.
func RetryAfter(err error) time.Duration {
	var ve *VendorError
	if errors.As(err, &ve) {
		return ve.RetryAfter
	}
	return 0
}
