// Package labserver serves both vendor labs behind one listener: OneUC
// under /oneuc and First Orion under /firstorion, plus a read-only /_lab
// endpoint with what the labs recorded. The demo, the lab command and the
// tests that run numsync as a separate process use it.
package labserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/numsync/numsync/internal/config"
	folab "github.com/numsync/numsync/internal/vendors/firstorion/lab"
	oulab "github.com/numsync/numsync/internal/vendors/oneuc/lab"
)

// Credentials the labs accept. They are lab credentials, printed on
// purpose by `numsync lab`; real ones come from the environment.
const (
	OneUCAPIKey      = "lab-oneuc-key"
	OneUCAccountID   = oulab.DefaultAccountID
	FOAPIKey         = folab.DefaultAPIKey
	FOSecretKey      = folab.DefaultSecretKey
	FOBusinessID     = folab.DefaultBusinessID
	OneUCPrefix      = "/oneuc"
	FirstOrionPrefix = "/firstorion"
)

// Options shape both labs.
type Options struct {
	// RPS is each lab's request ceiling (OneUC: refill per second of a
	// bucket of 10×RPS, like Kazoo's 100 + 10/s; First Orion: requests per
	// second). 0 means unlimited.
	RPS float64
	// Latency delays every answer.
	Latency time.Duration
	// FaultRate is the share of requests answered 503 before acting;
	// LostRate the share of writes acted on whose answer is lost.
	FaultRate, LostRate float64
	// TokenTTL shortens token lifetimes (0: the vendors' defaults).
	TokenTTL time.Duration
	// StatusDelay is how long a new First Orion number stays PENDING.
	StatusDelay time.Duration
	// Seed seeds the labs' randomness.
	Seed int64
}

// Server is both labs.
type Server struct {
	OneUC      *oulab.Lab
	FirstOrion *folab.Lab
	mux        *http.ServeMux
}

// New builds both labs, empty.
func New(o Options) *Server {
	bucket := 0
	if o.RPS > 0 {
		bucket = int(10 * o.RPS)
	}
	s := &Server{
		OneUC: oulab.New(oulab.Options{
			APIKeys:      []string{OneUCAPIKey},
			AccountID:    OneUCAccountID,
			TokenTTL:     o.TokenTTL,
			Bucket:       bucket,
			RefillPerSec: o.RPS,
			Latency:      o.Latency,
			FaultRate:    o.FaultRate,
			LostRate:     o.LostRate,
			Seed:         o.Seed,
		}),
		FirstOrion: folab.New(folab.Options{
			BusinessID:  FOBusinessID,
			LegalName:   "Acme Corp",
			APIKey:      FOAPIKey,
			SecretKey:   FOSecretKey,
			TokenTTL:    o.TokenTTL,
			RPS:         o.RPS,
			Latency:     o.Latency,
			FaultRate:   o.FaultRate,
			LostRate:    o.LostRate,
			StatusDelay: o.StatusDelay,
			Seed:        o.Seed + 1,
		}),
		mux: http.NewServeMux(),
	}
	s.mux.Handle(OneUCPrefix+"/", http.StripPrefix(OneUCPrefix, s.OneUC))
	s.mux.Handle(FirstOrionPrefix+"/", http.StripPrefix(FirstOrionPrefix, s.FirstOrion))
	s.mux.HandleFunc("GET /_lab/stats", s.stats)
	return s
}

// ServeHTTP serves both labs.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SeedFS seeds both labs from oneuc-seed.json and firstorion-seed.json in
// fsys (samples/ or a directory given to `numsync lab --seed`).
func (s *Server) SeedFS(fsys fs.FS) error {
	var ou oulab.Seed
	if err := readJSON(fsys, "oneuc-seed.json", &ou); err != nil {
		return err
	}
	var fo folab.Seed
	if err := readJSON(fsys, "firstorion-seed.json", &fo); err != nil {
		return err
	}
	if err := s.OneUC.Seed(ou); err != nil {
		return fmt.Errorf("oneuc seed: %w", err)
	}
	if err := s.FirstOrion.Seed(fo); err != nil {
		return fmt.Errorf("firstorion seed: %w", err)
	}
	return nil
}

func readJSON(fsys fs.FS, name string, v any) error {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("lab seed: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("lab seed %s: %w", name, err)
	}
	return nil
}

// Config returns a configuration that points numsync at the labs served at
// base (e.g. "http://127.0.0.1:8080"), with the given per-vendor rate.
func Config(base string, rps float64) *config.Config {
	cfg := config.Default()
	cfg.OneUC = &config.OneUC{
		URL:         strings.TrimRight(base, "/") + OneUCPrefix,
		AccountID:   OneUCAccountID,
		APIKey:      config.Secret(OneUCAPIKey),
		Rate:        config.Rate{RPS: rps, Burst: max(1, int(rps))},
		Concurrency: config.DefaultConcurrency,
		BatchSize:   config.DefaultBatchSize,
	}
	cfg.FirstOrion = &config.FirstOrion{
		URL:                    strings.TrimRight(base, "/") + FirstOrionPrefix,
		BusinessID:             FOBusinessID,
		APIKey:                 config.Secret(FOAPIKey),
		SecretKey:              config.Secret(FOSecretKey),
		DefaultCallPurposeCode: config.DefaultCallPurposeCode,
		Rate:                   config.Rate{RPS: rps, Burst: max(1, int(rps))},
		Concurrency:            config.DefaultConcurrency,
		BatchSize:              config.DefaultBatchSize,
	}
	return cfg
}

// ConfigYAML is the configuration snippet `numsync lab` prints: the lab's
// addresses, with the credentials read from the environment as a real
// configuration would.
func ConfigYAML(base string) string {
	base = strings.TrimRight(base, "/")
	return fmt.Sprintf(`# numsync.yaml for the labs at %[1]s
# export ONEUC_API_KEY=%[2]s FO_API_KEY=%[3]s FO_SECRET_KEY=%[4]s
default_region: US
journal: ./numsync.db
oneuc:
  url: %[1]s%[5]s
  account_id: %[6]s
  api_key: ${ONEUC_API_KEY}
  rate: {rps: 10, burst: 10}
firstorion:
  url: %[1]s%[7]s
  business_id: %[8]s
  api_key: ${FO_API_KEY}
  secret_key: ${FO_SECRET_KEY}
  rate: {rps: 10, burst: 10}
safety:
  max_delete: 10%%
`, base, OneUCAPIKey, FOAPIKey, FOSecretKey, OneUCPrefix, OneUCAccountID, FirstOrionPrefix, FOBusinessID)
}

// Stats is what /_lab/stats answers: enough for a test in another process
// to check what numsync did.
type Stats struct {
	OneUC      OneUCStats      `json:"oneuc"`
	FirstOrion FirstOrionStats `json:"firstorion"`
}

// OneUCStats summarises the OneUC lab.
type OneUCStats struct {
	Stats  oulab.Stats                   `json:"stats"`
	Counts map[string]oulab.NumberCounts `json:"counts"`
	// Numbers is the account's state per held number.
	Numbers map[string]OneUCNumber `json:"numbers"`
	// Writes counts the write requests (PUT, POST, PATCH, DELETE) the lab
	// received, whatever their answer.
	Writes int `json:"writes"`
	// Activations says when each number that an activation put in service
	// was activated: the time of the earliest activation request carrying
	// it that the lab acted on. A process that cannot read the request log
	// checks with it that nothing at First Orion preceded the activation.
	Activations map[string]time.Time `json:"activations,omitempty"`
}

// OneUCNumber is one held number.
type OneUCNumber struct {
	State string         `json:"state"`
	CNAM  string         `json:"cnam,omitempty"`
	E911  *oulab.Address `json:"e911,omitempty"`
}

// FirstOrionStats summarises the First Orion lab.
type FirstOrionStats struct {
	Requests       int                     `json:"requests"`
	DeleteAllCalls int                     `json:"delete_all_calls"`
	Numbers        map[string]folab.Number `json:"numbers"`
	// Writes counts the write requests (anything but GET) the lab
	// received, authentication excluded, whatever their answer.
	Writes int `json:"writes"`
	// Throttled counts the requests answered 429; Faults those answered
	// 503 (injected faults and lost answers).
	Throttled int `json:"throttled"`
	Faults    int `json:"faults"`
	// FirstWrites says when the lab first received a write request about
	// each phone number (named in the body, or by its phoneNumberId in the
	// path while the number is still held), whatever its answer.
	FirstWrites map[string]time.Time `json:"first_writes,omitempty"`
	// Mutations counts the changes applied per phone number (creation
	// included), deleted numbers included when a request named them.
	Mutations map[string]int `json:"mutations,omitempty"`
}

// Snapshot gathers the labs' stats.
func (s *Server) Snapshot() Stats {
	st := Stats{
		OneUC: OneUCStats{Stats: s.OneUC.Stats(), Counts: s.OneUC.AllCounts(), Numbers: map[string]OneUCNumber{}},
		FirstOrion: FirstOrionStats{
			Requests:       len(s.FirstOrion.Requests()),
			DeleteAllCalls: s.FirstOrion.DeleteAllCalls(),
			Numbers:        map[string]folab.Number{},
		},
	}
	for _, n := range s.OneUC.Numbers() {
		if n.Held {
			st.OneUC.Numbers[n.Number] = OneUCNumber{State: n.State, CNAM: n.CNAM, E911: n.E911}
		}
	}
	for _, n := range s.FirstOrion.Numbers() {
		st.FirstOrion.Numbers[n.PhoneNumber] = n
	}
	s.oneucRequestStats(&st.OneUC)
	s.firstOrionRequestStats(&st.FirstOrion)
	return st
}

// phoneInText finds phone numbers in request bodies and paths: E.164, or
// the bare digits Kazoo also accepts.
var phoneInText = regexp.MustCompile(`(?:^|[^0-9A-Za-z-])(?:\+|%2B)?([0-9]{10,15})(?:$|[^0-9A-Za-z-])`)

// phonesIn returns the numbers text names, in E.164 (a bare ten-digit
// number is North American, as the OneUC lab reads it).
func phonesIn(text string) []string {
	var out []string
	for _, sub := range phoneInText.FindAllStringSubmatch(text, -1) {
		m := sub[1]
		if len(m) == 10 {
			m = "1" + m
		}
		out = append(out, "+"+m)
	}
	return out
}

func isWriteMethod(m string) bool { return m != http.MethodGet && m != http.MethodHead }

// oneucRequestStats adds what the OneUC request log tells: writes, and
// when each activated number was first activated.
func (s *Server) oneucRequestStats(st *OneUCStats) {
	for _, r := range s.OneUC.Requests() {
		if !isWriteMethod(r.Method) || strings.HasSuffix(r.Path, "/api_auth") {
			continue
		}
		st.Writes++
		if !r.Applied || !strings.HasSuffix(r.Path, "/activate") {
			continue
		}
		for _, n := range phonesIn(r.Path + " " + r.Body) {
			if st.Counts[n].Activated == 0 {
				continue
			}
			if st.Activations == nil {
				st.Activations = map[string]time.Time{}
			}
			if t, ok := st.Activations[n]; !ok || r.Time.Before(t) {
				st.Activations[n] = r.Time
			}
		}
	}
}

// firstOrionRequestStats adds what the First Orion request log tells:
// writes, the first write about each number, and mutations per number.
func (s *Server) firstOrionRequestStats(st *FirstOrionStats) {
	byID := map[string]string{}
	phones := map[string]bool{}
	for p, n := range st.Numbers {
		byID[n.ID] = p
		phones[p] = true
	}
	for _, r := range s.FirstOrion.Requests() {
		switch r.Status {
		case http.StatusTooManyRequests:
			st.Throttled++
		case http.StatusServiceUnavailable:
			st.Faults++
		}
		if !isWriteMethod(r.Method) || strings.HasPrefix(r.Path, "/v1/auth") {
			continue
		}
		st.Writes++
		named := phonesIn(r.Body)
		for _, seg := range strings.Split(r.Path, "/") {
			if p, ok := byID[seg]; ok {
				named = append(named, p)
			}
		}
		for _, p := range named {
			phones[p] = true
			if st.FirstWrites == nil {
				st.FirstWrites = map[string]time.Time{}
			}
			if t, ok := st.FirstWrites[p]; !ok || r.Time.Before(t) {
				st.FirstWrites[p] = r.Time
			}
		}
	}
	for p := range phones {
		if m := s.FirstOrion.Mutations(p); m > 0 {
			if st.Mutations == nil {
				st.Mutations = map[string]int{}
			}
			st.Mutations[p] = m
		}
	}
}

func (s *Server) stats(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s.Snapshot())
}

// SeedFile seeds both labs from path: a directory holding
// oneuc-seed.json and firstorion-seed.json, or one JSON file
// {"oneuc": {...}, "firstorion": {...}}.
func (s *Server) SeedFile(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("lab seed: %w", err)
	}
	if st.IsDir() {
		return s.SeedFS(os.DirFS(path))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("lab seed: %w", err)
	}
	var both struct {
		OneUC      oulab.Seed `json:"oneuc"`
		FirstOrion folab.Seed `json:"firstorion"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&both); err != nil {
		return fmt.Errorf("lab seed %s: %w", path, err)
	}
	if err := s.OneUC.Seed(both.OneUC); err != nil {
		return fmt.Errorf("oneuc seed: %w", err)
	}
	if err := s.FirstOrion.Seed(both.FirstOrion); err != nil {
		return fmt.Errorf("firstorion seed: %w", err)
	}
	return nil
}
