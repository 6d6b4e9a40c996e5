package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/numsync/numsync/internal/plan"
)

// tidyError says each vendor's name once per clause of an error message.
// Errors are wrapped at every layer with the vendor's name (the client, its
// log-in, the vendor error itself), which is right for each layer alone
// and read as "oneuc: list numbers: page 1: oneuc: log in: oneuc: could
// not connect" once nested; clauses are the "; "-separated parts, one per
// vendor.
func tidyError(msg string) string {
	clauses := strings.Split(msg, "; ")
	for i, c := range clauses {
		for _, v := range []plan.VendorName{plan.OneUC, plan.FirstOrion} {
			prefix := string(v) + ": "
			first := strings.Index(c, prefix)
			if first < 0 {
				continue
			}
			head, rest := c[:first+len(prefix)], c[first+len(prefix):]
			clauses[i] = head + strings.ReplaceAll(rest, prefix, "")
			c = clauses[i]
		}
	}
	return strings.Join(clauses, "; ")
}

// nextStep says what to do about a vendor error: the config key to check
// for an unreachable address or a refused credential ("check oneuc.url in
// numsync.yaml …"), a phrase without the final stop. "" when there is
// nothing better to say than the error.
func (e *env) nextStep(err error) string {
	var ve *plan.VendorError
	if !errors.As(err, &ve) {
		return ""
	}
	where := "the config"
	if e.cfg != nil && e.cfg.Path != "" {
		where = e.cfg.Path
	}
	v := string(ve.Vendor)
	switch {
	case ve.Code == "invalid_credentials" || ve.Status == 401 || ve.Status == 403:
		return fmt.Sprintf("check %s's credentials in %s and the environment variables it names", v, where)
	case ve.Code == "could not connect" || ve.Code == "timeout" || ve.Code == "connection lost":
		return fmt.Sprintf("check %s.url in %s and that the address answers from this host", v, where)
	case ve.Status == 404:
		return fmt.Sprintf("check %s.url in %s: it must be the API's base URL", v, where)
	case ve.Status >= 500 || ve.Status == 429:
		return fmt.Sprintf("%s is failing or throttling: run again later", v)
	}
	return ""
}
