package scenario

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/labserver"
	folab "github.com/numsync/numsync/internal/vendors/firstorion/lab"
	oulab "github.com/numsync/numsync/internal/vendors/oneuc/lab"
)

// converged builds the stats of labs that ended exactly as sc wants, with
// each change applied once, activations before First Orion's writes.
func converged(sc *Scenario) labserver.Stats {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st := labserver.Stats{
		OneUC: labserver.OneUCStats{Counts: map[string]oulab.NumberCounts{}, Numbers: map[string]labserver.OneUCNumber{},
			Activations: map[string]time.Time{}},
		FirstOrion: labserver.FirstOrionStats{Numbers: map[string]folab.Number{},
			FirstWrites: map[string]time.Time{}, Mutations: map[string]int{}},
	}
	for _, n := range sc.Numbers {
		a := n.E911
		st.OneUC.Numbers[n.E164] = labserver.OneUCNumber{State: "in_service", CNAM: n.CNAM, E911: &a}
		st.OneUC.Counts[n.E164] = oulab.NumberCounts{Activated: n.MaxActivations, Patched: n.MaxPatches}
		if n.MaxActivations > 0 {
			st.OneUC.Activations[n.E164] = t0
		}
		if n.MaxMutations > 0 {
			st.FirstOrion.Mutations[n.E164] = n.MaxMutations
			st.FirstOrion.FirstWrites[n.E164] = t0.Add(time.Second)
		}
		if p := n.Place; p.BU != "" {
			st.FirstOrion.Numbers[n.E164] = folab.Number{PhoneNumber: n.E164, BusinessUnitID: p.BU,
				ProgramID: p.Program, Channel: p.Channel, CallPurposeCode: p.Purpose, AuthenticatedCalls: p.Auth}
		}
	}
	return st
}

func find(sc *Scenario, k Kind) Number {
	for _, n := range sc.Numbers {
		if n.Kind == k {
			return n
		}
	}
	panic("no number of kind " + k.String())
}

// TestCheckFindsEachViolation proves the chaos verdicts are not vacuous:
// labs that ended as wanted pass every invariant, and a hand-made breach
// of each invariant is reported under that invariant and no other.
func TestCheckFindsEachViolation(t *testing.T) {
	sc := Generate(60, 3)
	for _, v := range Check(converged(sc), sc) {
		if !v.OK() {
			t.Fatalf("converged labs: %s violated: %v", v.Invariant, v.Examples)
		}
	}
	disc, upd, move, rem := find(sc, Discover), find(sc, CNAMChange), find(sc, MoveUnit), find(sc, Remove)
	breaches := []struct {
		invariant string
		breach    func(st *labserver.Stats)
	}{
		{InvConverged, func(st *labserver.Stats) {
			n := st.OneUC.Numbers[upd.E164]
			n.CNAM = "OLD NAME"
			st.OneUC.Numbers[upd.E164] = n
		}},
		{InvConverged, func(st *labserver.Stats) { delete(st.OneUC.Numbers, disc.E164) }},
		{InvConverged, func(st *labserver.Stats) {
			n := st.FirstOrion.Numbers[move.E164]
			n.ProgramID = "somewhere-else"
			st.FirstOrion.Numbers[move.E164] = n
		}},
		{InvConverged, func(st *labserver.Stats) {
			st.FirstOrion.Numbers[rem.E164] = folab.Number{PhoneNumber: rem.E164, BusinessUnitID: BUHQ}
		}},
		{InvActivation, func(st *labserver.Stats) {
			c := st.OneUC.Counts[disc.E164]
			c.Activated = 2
			st.OneUC.Counts[disc.E164] = c
		}},
		{InvPatch, func(st *labserver.Stats) {
			c := st.OneUC.Counts[upd.E164]
			c.Patched = 2
			st.OneUC.Counts[upd.E164] = c
		}},
		{InvPatch, func(st *labserver.Stats) {
			c := st.OneUC.Counts[upd.E164]
			c.Posted = 1
			st.OneUC.Counts[upd.E164] = c
		}},
		{InvMutation, func(st *labserver.Stats) { st.FirstOrion.Mutations[move.E164] = 4 }},
		{InvMutation, func(st *labserver.Stats) { st.FirstOrion.Mutations[upd.E164] = 1 }},
		{InvOrder, func(st *labserver.Stats) {
			st.FirstOrion.FirstWrites[disc.E164] = st.OneUC.Activations[disc.E164].Add(-time.Millisecond)
		}},
		{InvOrder, func(st *labserver.Stats) { delete(st.OneUC.Activations, disc.E164) }},
		{InvDeleteAll, func(st *labserver.Stats) { st.FirstOrion.DeleteAllCalls = 1 }},
		{InvRelease, func(st *labserver.Stats) {
			c := st.OneUC.Counts[upd.E164]
			c.Released = 1
			st.OneUC.Counts[upd.E164] = c
		}},
	}
	for _, b := range breaches {
		st := converged(sc)
		b.breach(&st)
		for _, v := range Check(st, sc) {
			if want := v.Invariant == b.invariant; want == v.OK() {
				t.Errorf("breach of %q: %s reported %d violations %v", b.invariant, v.Invariant, v.Violations, v.Examples)
			}
		}
	}
}

// TestScanSecretsFindsLeaks proves the secret scan finds the credentials,
// tokens of both labs' shapes and tokens written with their names, and
// passes the account id and SHA-256 digests (and fragments of them).
func TestScanSecretsFindsLeaks(t *testing.T) {
	digest := strings.Repeat("0123456789abcdef", 4)
	clean := []byte(`{"csv":{"sha256":"` + digest + `"},"account":"4b3c0000000000000000000000000001"} ` + digest[:32] + "-" + digest)
	if got := ScanSecrets("clean", clean, Secrets(), []string{"4b3c0000000000000000000000000001"}); len(got) != 0 {
		t.Errorf("clean text reported: %v", got)
	}
	for _, leak := range []string{
		"key=lab-oneuc-key",
		"secret lab-secret-key",
		"token 0f1e2d3c4b5a69788796a5b4c3d2e1f0 here",                   // OneUC shape
		"refresh 0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a6978 here", // First Orion shape
		"Authorization: Bearer abcdef0123",
		`{"refresh_token": "abcdef0123456"}`,
	} {
		if got := ScanSecrets("leak", []byte(leak), Secrets(), nil); len(got) == 0 {
			t.Errorf("%q: no finding", leak)
		}
	}
}

// TestGenerateIsDeterministicAndReadable proves a scenario is the same for
// a seed, its CSV has one row per number with the spec's header, and its
// kinds follow the mix.
func TestGenerateIsDeterministicAndReadable(t *testing.T) {
	a, b := Generate(100, 5), Generate(100, 5)
	if !bytes.Equal(a.CSV, b.CSV) {
		t.Fatal("two scenarios of one seed differ")
	}
	rows, err := csv.NewReader(bytes.NewReader(a.CSV)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 101 || rows[0][0] != "Phone Number" {
		t.Fatalf("CSV has %d rows, header %v", len(rows), rows[0])
	}
	c := a.Counts()
	if c[Discover] != 10 || c[InStep] != 30 || c[Remove] != 5 {
		t.Errorf("kinds: %v", c)
	}
	seen := map[string]bool{}
	for _, n := range a.Numbers {
		if seen[n.E164] {
			t.Errorf("%s twice", n.E164)
		}
		seen[n.E164] = true
		if strings.HasSuffix(n.E164, "0000") || strings.HasSuffix(n.E164, "9999") {
			t.Errorf("%s ends in a suffix the OneUC lab treats specially", n.E164)
		}
	}
}
