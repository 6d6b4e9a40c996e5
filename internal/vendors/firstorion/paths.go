package firstorion

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// errEmptySegment is returned when a path would be built from an empty id.
// At First Orion, DELETE .../phone-numbers/ with an empty id deletes every
// number of the business, so an empty segment is never sent anywhere.
var errEmptySegment = errors.New("empty path segment")

// seg is one path segment: fixed words of the API (lit) or an identifier
// coming from data (id), which is validated and escaped.
type seg struct {
	s     string
	isLit bool
}

func lit(s string) seg { return seg{s: s, isLit: true} }
func id(s string) seg  { return seg{s: s} }

// buildPath is the only way the client builds a request path. Every
// segment must be non-empty (after trimming space) and an identifier may
// not be "." or ".." (which a proxy might resolve away), so no path can
// lose its last id and turn into a delete-all call.
func buildPath(segs ...seg) (string, error) {
	var b strings.Builder
	for i, s := range segs {
		v := s.s
		if strings.TrimSpace(v) == "" {
			return "", fmt.Errorf("path segment %d: %w", i, errEmptySegment)
		}
		if !s.isLit {
			if v == "." || v == ".." {
				return "", fmt.Errorf("path segment %d: invalid identifier %q", i, v)
			}
			v = url.PathEscape(v)
		}
		b.WriteByte('/')
		b.WriteString(v)
	}
	return b.String(), nil
}

// Path helpers for each resource the client uses. Each takes its ids in the
// order of the URL and fails on any empty one.

func (c *Client) pathBusinessUnits() (string, error) {
	return buildPath(lit("exchange"), lit("v1"), lit("businesses"), id(c.cfg.BusinessID), lit("business-units"))
}

func (c *Client) pathPrograms(bu string) (string, error) {
	return buildPath(lit("exchange"), lit("v1"), lit("businesses"), id(c.cfg.BusinessID), lit("business-units"), id(bu), lit("programs"))
}

// pathNumbers is the business's phone-number collection: only ever used
// with GET (the listing). The DELETE on it is the delete-all call, which
// the client never makes: requestAllowed refuses it.
func (c *Client) pathNumbers() (string, error) {
	return buildPath(lit("exchange"), lit("v1"), lit("businesses"), id(c.cfg.BusinessID), lit("phone-numbers"))
}

func (c *Client) pathNumber(pnID string) (string, error) {
	return buildPath(lit("exchange"), lit("v1"), lit("businesses"), id(c.cfg.BusinessID), lit("phone-numbers"), id(pnID))
}

func (c *Client) pathBatchDelete() (string, error) {
	return buildPath(lit("exchange"), lit("v1"), lit("businesses"), id(c.cfg.BusinessID), lit("phone-numbers"), lit(batchDeleteSegment))
}

func (c *Client) pathBUNumbers(bu string) (string, error) {
	return buildPath(lit("exchange"), lit("v1"), lit("businesses"), id(c.cfg.BusinessID), lit("business-units"), id(bu), lit("phone-numbers"))
}

func (c *Client) pathBUNumber(bu, pnID string) (string, error) {
	return buildPath(lit("exchange"), lit("v1"), lit("businesses"), id(c.cfg.BusinessID), lit("business-units"), id(bu), lit("phone-numbers"), id(pnID))
}

func (c *Client) pathProgramNumbers(bu, prog, channel string) (string, error) {
	return buildPath(lit("exchange"), lit("v1"), lit("businesses"), id(c.cfg.BusinessID), lit("business-units"), id(bu),
		lit("programs"), id(prog), lit("delivery-channels"), id(channel), lit("a-numbers"))
}

func (c *Client) pathProgramNumber(bu, prog, channel, pnID string) (string, error) {
	return buildPath(lit("exchange"), lit("v1"), lit("businesses"), id(c.cfg.BusinessID), lit("business-units"), id(bu),
		lit("programs"), id(prog), lit("delivery-channels"), id(channel), lit("a-numbers"), id(pnID))
}

// requestAllowed is the last guard before a request leaves: a DELETE must
// end in an identifier below a collection, never on a collection itself.
// It repeats, on the final path, what buildPath already guarantees, so a
// future path helper written carelessly still cannot send a delete-all.
func requestAllowed(method, path string) error {
	if method != "DELETE" {
		return nil
	}
	last := path[strings.LastIndexByte(path, '/')+1:]
	switch last {
	case "", "phone-numbers", "a-numbers", batchDeleteSegment:
		return fmt.Errorf("refusing DELETE on a collection (%s): it would delete every number", path)
	}
	return nil
}
