package desired

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// reference is the phone-number library's verdict, with no fast path.
func reference(s, region string) (string, bool) {
	n, err := phonenumbers.Parse(s, region)
	if err != nil || n.GetExtension() != "" || !phonenumbers.IsValidNumber(n) {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

func TestNANPProof(t *testing.T) {
	k, err := nanpPrefixLen()
	if err != nil {
		t.Fatalf("the proof failed, so the fast path is off: %v", err)
	}
	// Seven digits is the NANP thousands-block (NPA-NXX-X); the proof
	// finding less would mean the metadata stopped distinguishing blocks,
	// more that a pattern looks into the subscriber number.
	if k < 3 || k > 9 {
		t.Errorf("proven block length %d out of the plausible range", k)
	}
	t.Logf("NANP verdict proven to depend on the first %d national digits", k)
}

func TestUniformPrefixLen(t *testing.T) {
	tests := []struct {
		pattern string
		want    int
	}{
		{`\d{10}`, 0},
		{`[2-9]\d{9}`, 1},
		{`212[2-9]\d{6}`, 4},
		{`(?:212|646)555\d{4}`, 6},
		{`\d{9}[13579]`, 10},
		{`\d{3}`, 0}, // never matches ten digits: uniform from the start
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			got, err := uniformPrefixLen(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("uniformPrefixLen(%q) = %d, want %d", tt.pattern, got, tt.want)
			}
		})
	}
	if _, err := uniformPrefixLen(`\b\d{10}`); err == nil {
		t.Errorf("a word boundary should make the proof give up")
	}
}

// genNumbers makes a sample that exercises the fast path's memo (many
// numbers per thousands-block) and its edges: invalid area codes (0xx, 1xx,
// N11, unassigned), invalid exchanges (0xx, 1xx), national numbers starting
// 0 or 1 (which the fast path must leave to the library), and non-canonical
// spellings.
func genNumbers(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	blocks := make([]int, 4000)
	for i := range blocks {
		blocks[i] = r.IntN(10_000_000)
	}
	out := make([]string, n)
	for i := range out {
		switch p := r.IntN(100); {
		case p < 70: // clustered in blocks, any NPA and NXX
			out[i] = fmt.Sprintf("+1%07d%03d", blocks[r.IntN(len(blocks))], r.IntN(1000))
		case p < 95: // anywhere
			out[i] = fmt.Sprintf("+1%010d", r.Int64N(10_000_000_000))
		case p < 97:
			out[i] = fmt.Sprintf("+1%03d%03d%04d", 200+r.IntN(800), 200+r.IntN(800), r.IntN(10000))
		case p < 98:
			out[i] = fmt.Sprintf("(%03d) %03d-%04d", r.IntN(1000), r.IntN(1000), r.IntN(10000))
		case p < 99:
			out[i] = fmt.Sprintf("+1%d", r.Int64N(100_000_000_000)) // wrong lengths
		default:
			out[i] = fmt.Sprintf("+1-%03d-%03d-%04d", r.IntN(1000), r.IntN(1000), r.IntN(10000))
		}
	}
	return out
}

// TestFastPathEqualsLibrary proves on a large sample that the normaliser
// (fast path and memo included) gives exactly the library's verdict and
// E.164 form.
func TestFastPathEqualsLibrary(t *testing.T) {
	n := 200_000
	if raceEnabled {
		n = 4_000
	}
	nums := genNumbers(n, 42)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var mismatches []string
	var fast, valid int
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each worker owns a normaliser and a stripe of the sample in
			// order, so its memo sees many numbers per block.
			p := newPhoneNormalizer("US")
			var lf, lv int
			for i := w; i < len(nums); i += workers {
				s := nums[i]
				if _, ok := p.canonicalNANP(s); ok {
					lf++
				}
				got, reason := p.normalize(s)
				want, ok := reference(s, "US")
				if ok {
					lv++
				}
				if (reason == "") != ok || got != want {
					mu.Lock()
					mismatches = append(mismatches, fmt.Sprintf("%q: normalize=%q,%q library=%q,%v", s, got, reason, want, ok))
					mu.Unlock()
				}
			}
			mu.Lock()
			fast += lf
			valid += lv
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(mismatches) > 0 {
		t.Fatalf("%d mismatches, e.g.:\n%v", len(mismatches), mismatches[:min(10, len(mismatches))])
	}
	if fast < n/2 || valid < n/10 || valid > n*9/10 {
		t.Errorf("sample is not balanced: %d of %d on the fast path, %d valid", fast, n, valid)
	}
	t.Logf("%d numbers, %d canonical NANP, %d valid: all equal to the library", n, fast, valid)
}

func TestNANPSpelling(t *testing.T) {
	tests := []struct {
		in   string
		nsn  string
		plus bool
	}{
		{"(212) 555-0101", "2125550101", false},
		{"(212)555-0101", "2125550101", false},
		{"212.555.0101", "2125550101", false},
		{"212-555-0101", "2125550101", false},
		{"212 555 0101", "2125550101", false},
		{"2125550101", "2125550101", false},
		{"212-555.0101", "2125550101", false},
		{"1-212-555-0101", "2125550101", false},
		{"1 (212) 555-0101", "2125550101", false},
		{"1(212)5550101", "2125550101", false},
		{"12125550101", "2125550101", false},
		{"1.212.555.0101", "2125550101", false},
		{"+1 212 555 0101", "2125550101", true},
		{"+1 (212) 555-0101", "2125550101", true},
		{"+1-212-555-0101", "2125550101", true},
		{"+1.212.555.0101", "2125550101", true},
		{"+1(212)555-0101", "2125550101", true},
		{"+12125550101", "2125550101", true},
		// Left to the library.
		{"(112) 555-0101", "", false},
		{"012-555-0101", "", false},
		{"1-012-555-0101", "", false},
		{"1125550101", "", false},
		{"(212 555-0101", "", false},
		{"212) 555-0101", "", false},
		{"212--555-0101", "", false},
		{"212 - 555 - 0101", "", false},
		{"212-555-01010", "", false},
		{"212-555-010", "", false},
		{"+2 212 555 0101", "", false},
		{"+ 1 212 555 0101", "", false},
		{"++1 212 555 0101", "", false},
		{"11-212-555-0101", "", false},
		{"212-555-0101 x12", "", false},
		{"212-555-0101#", "", false},
		{"212/555/0101", "", false},
		{"２１２-５５５-０１０１", "", false},
		{"212-555-O1O1", "", false},
		{"1-800-FLOWERS", "", false},
		{"", "", false},
		{"+", "", false},
		{"1", "", false},
		{"(", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			nsn, plus, ok := nanpSpelling(tt.in)
			if ok != (tt.nsn != "") || ok && (string(nsn[:]) != tt.nsn || plus != tt.plus) {
				t.Errorf("nanpSpelling(%q) = %q %v %v, want %q %v", tt.in, nsn[:], plus, ok, tt.nsn, tt.plus)
			}
		})
	}
}

// TestNANPSpellingsSafe pins that today's metadata lets both kinds of
// spelling share the canonical memo for US and CA, and that a non-NANP
// default region keeps national spellings on the library.
func TestNANPSpellingsSafe(t *testing.T) {
	for _, tt := range []struct {
		region         string
		plus, national bool
	}{{"US", true, true}, {"CA", true, true}, {"GB", true, false}, {"AG", true, false}} {
		plus, national := nanpSpellingsSafe(tt.region)
		if plus != tt.plus || national != tt.national {
			t.Errorf("nanpSpellingsSafe(%s) = %v %v, want %v %v", tt.region, plus, national, tt.plus, tt.national)
		}
	}
}

// spellings are the ways genSpelled writes a ten-digit national number
// (%s are the area code, exchange and line): every form nanpSpelling
// takes, and near misses it must leave to the library.
var spellings = []string{
	"(%s) %s-%s", "(%s)%s-%s", "%s.%s.%s", "%s-%s-%s", "%s %s %s", "%s%s%s", "%s-%s.%s",
	"1-%s-%s-%s", "1 (%s) %s-%s", "1(%s)%s%s", "1%s%s%s", "1.%s.%s.%s",
	"+1 %s %s %s", "+1 (%s) %s-%s", "+1-%s-%s-%s", "+1.%s.%s.%s", "+1(%s)%s-%s", "+1%s%s%s",
	// Near misses.
	"(%s %s-%s", "%s--%s-%s", "%s - %s - %s", "%s-%s-%s0", "%s-%s-%s x12", "%s/%s/%s",
	"+2 %s %s %s", "11-%s-%s-%s", "0%s%s%s", "+1 1%s%s%s", "%s %s %s ext 7", "tel:+1-%s-%s-%s",
}

// genSpelled makes n numbers in every spelling: national numbers clustered
// in blocks (so the memo is hit), anywhere (invalid area codes and
// exchanges included), and starting 0 or 1.
func genSpelled(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, seed^0x5bd1e995))
	blocks := make([]int, 3000)
	for i := range blocks {
		blocks[i] = 2_000_000 + r.IntN(8_000_000)
	}
	out := make([]string, n)
	for i := range out {
		var nsn string
		switch p := r.IntN(100); {
		case p < 60:
			nsn = fmt.Sprintf("%07d%03d", blocks[r.IntN(len(blocks))], r.IntN(1000))
		case p < 75: // real area codes, any exchange
			nsn = fmt.Sprintf("%d%07d", benchAreaCodes[r.IntN(len(benchAreaCodes))], r.IntN(10_000_000))
		case p < 95:
			nsn = fmt.Sprintf("%010d", r.Int64N(10_000_000_000))
		default: // N11 and 1xx area codes
			nsn = fmt.Sprintf("%d11%07d", 2+r.IntN(8), r.IntN(10_000_000))
		}
		f := spellings[r.IntN(len(spellings))]
		out[i] = fmt.Sprintf(f, nsn[:3], nsn[3:6], nsn[6:])
	}
	return out
}

// TestSpellingsEqualLibrary proves on a large sample, in every spelling and
// several default regions, that the normaliser gives exactly the library's
// verdict and E.164 form for national and separated spellings.
func TestSpellingsEqualLibrary(t *testing.T) {
	n := 150_000
	if raceEnabled {
		n = 4_000
	}
	for _, region := range []string{"US", "CA", "GB"} {
		t.Run(region, func(t *testing.T) {
			nums := genSpelled(n, 7)
			if region != "US" {
				nums = nums[:n/5]
			}
			workers := runtime.GOMAXPROCS(0)
			var wg sync.WaitGroup
			var mu sync.Mutex
			var mismatches []string
			var spelled, valid, invalidSpelled int
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					p := newPhoneNormalizer(region)
					var ls, lv, li int
					for i := w; i < len(nums); i += workers {
						s := nums[i]
						got, reason := p.normalize(s)
						want, ok := reference(s, region)
						if _, _, sp := nanpSpelling(s); sp {
							ls++
							if !ok {
								li++
							}
						}
						if ok {
							lv++
						}
						if (reason == "") != ok || got != want {
							mu.Lock()
							mismatches = append(mismatches, fmt.Sprintf("%q: normalize=%q,%q library=%q,%v", s, got, reason, want, ok))
							mu.Unlock()
						}
					}
					mu.Lock()
					spelled, valid, invalidSpelled = spelled+ls, valid+lv, invalidSpelled+li
					mu.Unlock()
				}()
			}
			wg.Wait()
			if len(mismatches) > 0 {
				t.Fatalf("%d mismatches, e.g.:\n%v", len(mismatches), mismatches[:min(10, len(mismatches))])
			}
			m := len(nums)
			if spelled < m/2 || invalidSpelled < m/20 || valid < m/10 || valid > m*9/10 {
				t.Errorf("sample is not balanced: %d of %d spelled (%d invalid), %d valid", spelled, m, invalidSpelled, valid)
			}
			t.Logf("%d numbers, %d in a fast-path spelling (%d of them invalid), %d valid: all equal to the library", m, spelled, invalidSpelled, valid)
		})
	}
}
