// Package scenario generates a desired-state CSV with the lab seeds it
// differs from (activations by discovery and of reserved numbers, CNAM and
// E911 changes, First Orion assignments at program and business-unit level,
// moves within and across business units, call-purpose and
// authenticated-calls updates, removals), and checks what the labs
// recorded after numsync applied it: every number converged, nothing was
// applied twice, the order rules held, no delete-all call was made. The
// chaos harness (internal/tools/chaos) and the tests that run numsync as a
// separate process (cmd/numsync) share it.
package scenario

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/numsync/numsync/internal/labserver"
	folab "github.com/numsync/numsync/internal/vendors/firstorion/lab"
	oulab "github.com/numsync/numsync/internal/vendors/oneuc/lab"
)

// The First Orion hierarchy of every scenario.
const (
	BUSales = "5a1e0000-0000-4000-8000-000000000001"
	BUCare  = "5a1e0000-0000-4000-8000-000000000002"
	BUHQ    = "5a1e0000-0000-4000-8000-000000000003"

	PrOutbound = "9f000000-0000-4000-8000-000000000001" // Sales, callerName, CS
	PrPromo    = "9f000000-0000-4000-8000-000000000002" // Sales, callerImage, SA
	PrService  = "9f000000-0000-4000-8000-000000000003" // Care, callerName, CS
	PrShield   = "9f000000-0000-4000-8000-000000000004" // Care, blocking, FR
)

// Place is where a number sits at First Orion; the zero Place is "not at
// First Orion".
type Place struct {
	BU, Program, Channel, Purpose string
	Auth                          bool
}

var (
	outbound = Place{BU: BUSales, Program: PrOutbound, Channel: "callerName", Purpose: "CS"}
	promo    = Place{BU: BUSales, Program: PrPromo, Channel: "callerImage", Purpose: "SA"}
	service  = Place{BU: BUCare, Program: PrService, Channel: "callerName", Purpose: "CS"}
	shield   = Place{BU: BUCare, Program: PrShield, Channel: "blocking", Purpose: "FR"}
	hqLevel  = Place{BU: BUHQ, Purpose: "CS"}
)

var buNames = map[string]string{BUSales: "Sales", BUCare: "Care", BUHQ: "Headquarters"}
var programNames = map[string]string{PrOutbound: "Outbound", PrPromo: "Promotions", PrService: "Service", PrShield: "Fraud Shield"}

// Address is an E911 address as the lab stores it (upper case).
type Address = oulab.Address

var offices = []Address{
	{StreetAddress: "350 5TH AVE", ExtendedAddress: "FLOOR 21", Locality: "NEW YORK", Region: "NY", PostalCode: "10118", CallerName: "ACME CORP"},
	{StreetAddress: "1 MARKET ST", Locality: "SAN FRANCISCO", Region: "CA", PostalCode: "94105", CallerName: "ACME CORP"},
	{StreetAddress: "233 S WACKER DR", Locality: "CHICAGO", Region: "IL", PostalCode: "60606", CallerName: "ACME CORP"},
	{StreetAddress: "100 FEDERAL ST", ExtendedAddress: "FLOOR 4", Locality: "BOSTON", Region: "MA", PostalCode: "02110", CallerName: "ACME CORP"},
}

// Kind is what a number needs.
type Kind int

// The kinds of numbers a scenario holds.
const (
	InStep        Kind = iota // nothing to do
	Discover                  // OneUC: found by a search, activated, CNAM and E911 set; First Orion: assigned to a program
	Reserved                  // OneUC: reserved, activated, CNAM and E911 set; First Orion: assigned at business-unit level
	CNAMChange                // OneUC: one PATCH
	E911Change                // OneUC: one PATCH
	Assign                    // First Orion: assigned to a program
	MoveProgram               // First Orion: to another program of its business unit (removal + put)
	MoveUnit                  // First Orion: to a program of another business unit (two removals + put)
	PurposeChange             // First Orion: one update
	AuthChange                // First Orion: one update
	Remove                    // First Orion: deleted (the row names no business unit)
)

var kindNames = [...]string{"in step", "discover+activate", "reserved+activate", "cnam", "e911", "assign", "move program", "move unit", "call purpose", "authenticated calls", "remove"}

// String names the kind.
func (k Kind) String() string { return kindNames[k] }

// mix is how many numbers of 20 get each kind.
var mix = []Kind{Discover, Discover, Reserved, CNAMChange, CNAMChange, E911Change, E911Change,
	Assign, Assign, MoveProgram, MoveUnit, PurposeChange, AuthChange, Remove,
	InStep, InStep, InStep, InStep, InStep, InStep}

// Number is one row of a scenario with what the labs must end with.
type Number struct {
	E164 string
	Kind Kind
	// CNAM and E911 are what OneUC must end with; Place what First Orion
	// must end with (zero: not there).
	CNAM  string
	E911  Address
	Place Place
	// MaxActivations, MaxPatches and MaxMutations bound what the labs may
	// have done to the number: each change once, the steps of a move.
	MaxActivations, MaxPatches, MaxMutations int
}

// Scenario is a CSV, the seeds it differs from, and the expected end.
type Scenario struct {
	Numbers    []Number
	OneUC      oulab.Seed
	FirstOrion folab.Seed
	CSV        []byte
}

// Generate makes a scenario of n numbers (at least 20), deterministic for
// a seed.
func Generate(n int, seed int64) *Scenario {
	if n < len(mix) {
		n = len(mix)
	}
	rnd := rand.New(rand.NewPCG(uint64(seed), 0x63686173))
	kinds := make([]Kind, n)
	for i := range kinds {
		kinds[i] = mix[i%len(mix)]
	}
	rnd.Shuffle(n, func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	areas := []string{"212", "415", "312", "617", "646", "718", "202", "305"}
	sc := &Scenario{FirstOrion: folab.Seed{BusinessUnits: []folab.SeedBusinessUnit{
		{ID: BUSales, Name: "Sales", Programs: []folab.SeedProgram{
			{ID: PrOutbound, Name: "Outbound", Channel: "callerName", CallPurposeCode: "CS"},
			{ID: PrPromo, Name: "Promotions", Channel: "callerImage", CallPurposeCode: "SA"}}},
		{ID: BUCare, Name: "Care", Programs: []folab.SeedProgram{
			{ID: PrService, Name: "Service", Channel: "callerName", CallPurposeCode: "CS"},
			{ID: PrShield, Name: "Fraud Shield", Channel: "blocking", CallPurposeCode: "FR"}}},
		{ID: BUHQ, Name: "Headquarters"},
	}}}
	programs := []Place{outbound, promo, service, shield}
	for i, k := range kinds {
		e164 := fmt.Sprintf("+1%s%03d%04d", areas[i%len(areas)], 200+i/8000, 1001+i%8000)
		office := offices[rnd.IntN(len(offices))]
		cnam := fmt.Sprintf("ACME %04d", i%10000)
		place := programs[rnd.IntN(len(programs))]
		num := Number{E164: e164, Kind: k, CNAM: cnam, E911: office, Place: place}
		live := oulab.SeedNumber{Number: e164, State: "in_service", CNAM: cnam, E911: &office}
		livePlace := place
		switch k {
		case Discover:
			num.MaxActivations, num.MaxPatches, num.MaxMutations = 1, 1, 1
			livePlace = Place{}
			sc.OneUC.Available = append(sc.OneUC.Available, e164)
		case Reserved:
			num.MaxActivations, num.MaxPatches, num.MaxMutations = 1, 1, 1
			num.Place, livePlace = hqLevel, Place{}
			live = oulab.SeedNumber{Number: e164, State: "reserved"}
		case CNAMChange:
			num.MaxPatches = 1
			live.CNAM = "OLD NAME"
		case E911Change:
			num.MaxPatches = 1
			other := offices[(indexOf(office)+1)%len(offices)]
			live.E911 = &other
		case Assign:
			num.MaxMutations = 1
			livePlace = Place{}
		case MoveProgram:
			num.MaxMutations = 2
			if place.BU == BUSales {
				livePlace = programs[1-indexOfPlace(programs, place)]
			} else {
				livePlace = programs[5-indexOfPlace(programs, place)]
			}
			livePlace.Purpose = place.Purpose
		case MoveUnit:
			num.MaxMutations = 3
			livePlace = programs[(indexOfPlace(programs, place)+2)%4]
			livePlace.Purpose = place.Purpose
		case PurposeChange:
			num.MaxMutations = 1
			livePlace.Purpose = "CO"
		case AuthChange:
			num.MaxMutations = 1
			num.Place.Auth = true
		case Remove:
			num.MaxMutations = 1
			num.Place = Place{}
		}
		if k != Discover {
			sc.OneUC.Numbers = append(sc.OneUC.Numbers, live)
		}
		if livePlace.BU != "" {
			sc.FirstOrion.Numbers = append(sc.FirstOrion.Numbers, folab.SeedNumber{
				ID:          fmt.Sprintf("%08x-0000-4000-8000-%012d", seed&0xffffffff, i),
				PhoneNumber: e164, BusinessUnitID: livePlace.BU, ProgramID: livePlace.Program,
				Channel: livePlace.Channel, CallPurposeCode: livePlace.Purpose, AuthenticatedCalls: livePlace.Auth})
		}
		sc.Numbers = append(sc.Numbers, num)
	}
	sc.CSV = sc.writeCSV(rnd)
	return sc
}

func indexOf(a Address) int {
	for i, o := range offices {
		if o == a {
			return i
		}
	}
	return 0
}

func indexOfPlace(ps []Place, p Place) int {
	for i, q := range ps {
		if q.Program == p.Program {
			return i
		}
	}
	return 0
}

// writeCSV writes the desired state in the mixed formats a spreadsheet
// export has: national and E.164 numbers, names and ids, mixed case.
func (sc *Scenario) writeCSV(rnd *rand.Rand) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"Phone Number", "CNAM", "E911 Street Address", "E911 Extended Address", "E911 Locality",
		"E911 Region", "E911 Postal Code", "E911 Caller Name", "Brand Business Unit", "Brand Program",
		"Brand Channel", "Call Purpose Code", "Authenticated Calls"})
	for _, n := range sc.Numbers {
		d := n.E164[2:]
		phone := n.E164
		switch rnd.IntN(3) {
		case 0:
			phone = fmt.Sprintf("(%s) %s-%s", d[:3], d[3:6], d[6:])
		case 1:
			phone = fmt.Sprintf("%s.%s.%s", d[:3], d[3:6], d[6:])
		}
		a := n.E911
		bu, prog := n.Place.BU, n.Place.Program
		if rnd.IntN(2) == 0 {
			bu, prog = buNames[bu], programNames[prog]
		}
		auth := "false"
		if n.Place.Auth {
			auth = "true"
		}
		row := []string{phone, n.CNAM, strings.ToLower(a.StreetAddress), a.ExtendedAddress, a.Locality, a.Region,
			a.PostalCode, a.CallerName, bu, prog, n.Place.Channel, n.Place.Purpose, auth}
		if n.Place.BU == "" {
			row[11], row[12] = "", ""
		}
		_ = w.Write(row)
	}
	w.Flush()
	return buf.Bytes()
}

// WriteFiles writes desired.csv, oneuc-seed.json and firstorion-seed.json
// into dir (the seed directory `numsync lab --seed DIR` reads) and returns
// the CSV's path.
func (sc *Scenario) WriteFiles(dir string) (string, error) {
	ou, err := json.MarshalIndent(sc.OneUC, "", " ")
	if err != nil {
		return "", err
	}
	fo, err := json.MarshalIndent(sc.FirstOrion, "", " ")
	if err != nil {
		return "", err
	}
	csvPath := filepath.Join(dir, "desired.csv")
	for name, b := range map[string][]byte{"oneuc-seed.json": ou, "firstorion-seed.json": fo, "desired.csv": sc.CSV} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return "", err
		}
	}
	return csvPath, nil
}

// Seed seeds an in-process lab server with the scenario.
func (sc *Scenario) Seed(srv *labserver.Server) error {
	if err := srv.OneUC.Seed(sc.OneUC); err != nil {
		return err
	}
	return srv.FirstOrion.Seed(sc.FirstOrion)
}

// Counts says how many numbers of each kind the scenario holds.
func (sc *Scenario) Counts() map[Kind]int {
	out := map[Kind]int{}
	for _, n := range sc.Numbers {
		out[n.Kind]++
	}
	return out
}

// Options of the configuration a scenario run uses.
type Options struct {
	// RPS is numsync's request rate per vendor; Concurrency its requests
	// in flight per vendor.
	RPS         float64
	Concurrency int
	// MaxAttempts per request; Timeout per request (e.g. "10s").
	MaxAttempts int
	Timeout     string
	// Journal is the journal's path.
	Journal string
}

// ConfigYAML is a numsync.yaml for the labs at base with the credentials
// read from the environment (ONEUC_API_KEY, FO_API_KEY, FO_SECRET_KEY,
// as `numsync lab` prints them).
func ConfigYAML(base string, o Options) string {
	base = strings.TrimRight(base, "/")
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 6
	}
	if o.Timeout == "" {
		o.Timeout = "10s"
	}
	burst := max(1, int(o.RPS))
	return fmt.Sprintf(`default_region: US
journal: %[1]q
oneuc:
  url: %[2]s%[3]s
  account_id: %[4]s
  api_key: ${ONEUC_API_KEY}
  rate: {rps: %[5]g, burst: %[6]d}
  concurrency: %[7]d
  batch_size: 100
firstorion:
  url: %[2]s%[8]s
  business_id: %[9]s
  api_key: ${FO_API_KEY}
  secret_key: ${FO_SECRET_KEY}
  default_call_purpose_code: CS
  rate: {rps: %[5]g, burst: %[6]d}
  concurrency: %[7]d
  batch_size: 100
safety:
  max_delete: 50%%
retry:
  max_attempts: %[10]d
  timeout: %[11]s
`, o.Journal, base, labserver.OneUCPrefix, labserver.OneUCAccountID, o.RPS, burst, o.Concurrency,
		labserver.FirstOrionPrefix, labserver.FOBusinessID, o.MaxAttempts, o.Timeout)
}

// Env is the child environment entries carrying the lab credentials.
func Env() []string {
	return []string{"ONEUC_API_KEY=" + labserver.OneUCAPIKey, "FO_API_KEY=" + labserver.FOAPIKey,
		"FO_SECRET_KEY=" + labserver.FOSecretKey}
}

// Secrets are the credential values that must appear in no log, report,
// plan or journal.
func Secrets() []string {
	return []string{labserver.OneUCAPIKey, labserver.FOAPIKey, labserver.FOSecretKey}
}
