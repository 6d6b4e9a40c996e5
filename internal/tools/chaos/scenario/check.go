package scenario

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/numsync/numsync/internal/labserver"
)

// The invariants Check judges, in the order it reports them.
const (
	InvConverged  = "every number converged"
	InvActivation = "no activation applied twice"
	InvPatch      = "no OneUC update applied twice"
	InvMutation   = "no First Orion change applied twice"
	InvOrder      = "OneUC activation before any First Orion write"
	InvDeleteAll  = "zero First Orion delete-all calls"
	InvRelease    = "nothing released at OneUC"
)

// Invariants lists every invariant Check judges.
var Invariants = []string{InvConverged, InvActivation, InvPatch, InvMutation, InvOrder, InvDeleteAll, InvRelease}

// Verdict is one invariant's outcome: Violations counts the numbers (or
// calls) breaking it; Examples shows a few.
type Verdict struct {
	Invariant  string
	Violations int
	Examples   []string
}

// OK reports whether the invariant held.
func (v Verdict) OK() bool { return v.Violations == 0 }

const maxExamples = 5

func (v *Verdict) add(format string, a ...any) {
	v.Violations++
	if len(v.Examples) < maxExamples {
		v.Examples = append(v.Examples, fmt.Sprintf(format, a...))
	}
}

// Check judges the labs' end state and request logs against the scenario.
func Check(st labserver.Stats, sc *Scenario) []Verdict {
	vs := map[string]*Verdict{}
	for _, inv := range Invariants {
		vs[inv] = &Verdict{Invariant: inv}
	}
	for _, n := range sc.Numbers {
		checkConverged(vs[InvConverged], st, n)
		c := st.OneUC.Counts[n.E164]
		if c.Activated > n.MaxActivations {
			vs[InvActivation].add("%s activated %d times (at most %d)", n.E164, c.Activated, n.MaxActivations)
		}
		if c.Patched > n.MaxPatches || c.Posted > 0 {
			vs[InvPatch].add("%s patched %d times (at most %d), replaced %d times", n.E164, c.Patched, n.MaxPatches, c.Posted)
		}
		if m := st.FirstOrion.Mutations[n.E164]; m > n.MaxMutations {
			vs[InvMutation].add("%s changed %d times at First Orion (at most %d for %s)", n.E164, m, n.MaxMutations, n.Kind)
		}
		if c.Released > 0 {
			vs[InvRelease].add("%s released %d times", n.E164, c.Released)
		}
		if n.MaxActivations > 0 {
			at, activated := st.OneUC.Activations[n.E164]
			fw, wrote := st.FirstOrion.FirstWrites[n.E164]
			switch {
			case wrote && !activated:
				vs[InvOrder].add("%s written at First Orion (%s) but never activated", n.E164, fw.Format("15:04:05.000"))
			case wrote && !fw.After(at):
				vs[InvOrder].add("%s written at First Orion at %s, before its activation at %s", n.E164,
					fw.Format("15:04:05.000"), at.Format("15:04:05.000"))
			}
		}
	}
	if d := st.FirstOrion.DeleteAllCalls; d > 0 {
		vs[InvDeleteAll].Violations = d
		vs[InvDeleteAll].Examples = []string{fmt.Sprintf("%d delete-all calls", d)}
	}
	out := make([]Verdict, 0, len(Invariants))
	for _, inv := range Invariants {
		out = append(out, *vs[inv])
	}
	return out
}

func checkConverged(v *Verdict, st labserver.Stats, n Number) {
	ou, held := st.OneUC.Numbers[n.E164]
	switch {
	case !held || ou.State != "in_service":
		v.add("%s: OneUC state %q, want in_service", n.E164, ou.State)
		return
	case ou.CNAM != n.CNAM:
		v.add("%s: CNAM %q, want %q", n.E164, ou.CNAM, n.CNAM)
		return
	case ou.E911 == nil || !sameAddress(*ou.E911, n.E911):
		v.add("%s: E911 %+v, want %+v", n.E164, ou.E911, n.E911)
		return
	}
	fo, there := st.FirstOrion.Numbers[n.E164]
	want := n.Place
	switch {
	case want.BU == "" && there:
		v.add("%s: at First Orion (%s/%s), want absent", n.E164, fo.BusinessUnitID, fo.ProgramID)
	case want.BU == "":
	case !there:
		v.add("%s: absent at First Orion, want %s/%s", n.E164, want.BU, want.Program)
	case fo.BusinessUnitID != want.BU || fo.ProgramID != want.Program || (want.Program != "" && fo.Channel != want.Channel):
		v.add("%s: at %s/%s/%s, want %s/%s/%s", n.E164, fo.BusinessUnitID, fo.ProgramID, fo.Channel, want.BU, want.Program, want.Channel)
	case fo.CallPurposeCode != want.Purpose || fo.AuthenticatedCalls != want.Auth:
		v.add("%s: call purpose %q authenticated %v, want %q %v", n.E164, fo.CallPurposeCode, fo.AuthenticatedCalls, want.Purpose, want.Auth)
	}
}

func sameAddress(a, b Address) bool {
	norm := func(s string) string { return strings.ToUpper(strings.Join(strings.Fields(s), " ")) }
	return norm(a.StreetAddress) == norm(b.StreetAddress) && norm(a.ExtendedAddress) == norm(b.ExtendedAddress) &&
		norm(a.Locality) == norm(b.Locality) && norm(a.Region) == norm(b.Region) &&
		a.PostalCode == b.PostalCode && norm(a.CallerName) == norm(b.CallerName)
}

// hexRun finds runs of hexadecimal digits; the labs' tokens are 32 (OneUC)
// and 48 (First Orion) of them.
var hexRun = regexp.MustCompile(`[0-9a-fA-F]{32,}`)

// tokenWords are a token written with its name.
var tokenWords = regexp.MustCompile(`(?i)(bearer +[0-9a-f]{8}|x-auth-token["=: ]+[0-9a-f]{8}|"(auth_token|refresh_token|token)" *: *"[0-9a-f]{8})`)

// ScanSecrets returns what in data looks like a leaked secret: any of
// secrets, a run of exactly 32 or 48 hexadecimal digits (the labs' token
// shapes) other than allowed ones (e.g. the OneUC account id) and
// fragments of longer runs (digests), or a token written with its name.
// where names data in the findings.
func ScanSecrets(where string, data []byte, secrets, allowed []string) []string {
	var out []string
	for _, s := range secrets {
		if s != "" && bytes.Contains(data, []byte(s)) {
			out = append(out, fmt.Sprintf("%s: holds the secret %q", where, s))
		}
	}
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[strings.ToLower(a)] = true
	}
	runs := hexRun.FindAll(data, -1)
	var long [][]byte
	for _, m := range runs {
		if len(m) > 48 {
			long = append(long, bytes.ToLower(m))
		}
	}
	// A fragment of a longer run (a SHA-256 digest cut at a page boundary
	// of the journal) is not a token.
	fragment := func(m []byte) bool {
		for _, l := range long {
			if bytes.Contains(l, bytes.ToLower(m)) {
				return true
			}
		}
		return false
	}
	for _, m := range runs {
		if (len(m) == 32 || len(m) == 48) && !ok[strings.ToLower(string(m))] && !fragment(m) {
			out = append(out, fmt.Sprintf("%s: holds a token-looking value %s…", where, m[:6]))
		}
	}
	for _, m := range tokenWords.FindAll(data, 3) {
		out = append(out, fmt.Sprintf("%s: names a token (%q)", where, m))
	}
	return out
}
