package journal

import (
	"encoding/binary"
	"errors"
	"strings"

	"github.com/numsync/numsync/internal/plan"
)

// The detail cache's binary form of a plan.State (its Number and Updated
// are columns of their own). Version 1:
//
//	byte     version (1)
//	byte     flags (detailedFlag, …)
//	string   status
//	string   features, comma separated
//	string   CNAM                       if cnamFlag
//	6 string E911 fields in Address order  if e911Flag
//	5 string ID, BusinessUnit, Program, Channel, CallPurpose  if foFlag
//
// where a string is a uvarint length and that many bytes. Length-prefixed
// strings need no escaping, whatever a vendor put in a caller name.
const detailVersion = 1

const (
	detailedFlag = 1 << iota
	cnamFlag
	e911Flag
	foFlag
	authSetFlag
	authTrueFlag
)

var errBadDetail = errors.New("malformed cached state")

// encodeDetail appends the binary form of s to buf.
func encodeDetail(buf []byte, s *plan.State) []byte {
	var flags byte
	if s.Detailed {
		flags |= detailedFlag
	}
	if s.CNAM != nil {
		flags |= cnamFlag
	}
	if s.E911 != nil {
		flags |= e911Flag
	}
	hasFO := s.ID != "" || s.BusinessUnit != "" || s.Program != "" || s.Channel != "" || s.CallPurpose != ""
	if hasFO {
		flags |= foFlag
	}
	if s.AuthCalls != nil {
		flags |= authSetFlag
		if *s.AuthCalls {
			flags |= authTrueFlag
		}
	}
	buf = append(buf, detailVersion, flags)
	buf = appendStr(buf, s.Status)
	buf = appendStr(buf, strings.Join(s.Features, ","))
	if s.CNAM != nil {
		buf = appendStr(buf, *s.CNAM)
	}
	if a := s.E911; a != nil {
		for _, f := range []string{a.StreetAddress, a.ExtendedAddress, a.Locality, a.Region, a.PostalCode, a.CallerName} {
			buf = appendStr(buf, f)
		}
	}
	if hasFO {
		for _, f := range []string{s.ID, s.BusinessUnit, s.Program, s.Channel, s.CallPurpose} {
			buf = appendStr(buf, f)
		}
	}
	return buf
}

func appendStr(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// detailDecoder decodes cached states, sharing one copy of the values that
// repeat across numbers (status words, feature lists, localities, regions),
// so that a million entries do not hold a million copies of "in_service".
type detailDecoder struct {
	in    map[string]string
	feats map[string][]string
}

// maxInterned bounds the interning tables, so a column of unique values
// cannot grow them without limit.
const maxInterned = 4096

func newDetailDecoder() *detailDecoder {
	return &detailDecoder{in: map[string]string{}, feats: map[string][]string{}}
}

// decode fills s from b. b may be reused by the caller afterwards: every
// string is copied out.
func (d *detailDecoder) decode(b []byte, s *plan.State) error {
	if len(b) < 2 || b[0] != detailVersion {
		return errBadDetail
	}
	flags := b[1]
	r := reader{b: b[2:]}
	s.Status = d.intern(r.bytes())
	if f := r.bytes(); len(f) > 0 {
		s.Features = d.features(f)
	}
	s.Detailed = flags&detailedFlag != 0
	if flags&cnamFlag != 0 {
		v := string(r.bytes())
		s.CNAM = &v
	}
	if flags&e911Flag != 0 {
		s.E911 = &plan.Address{
			StreetAddress:   string(r.bytes()),
			ExtendedAddress: string(r.bytes()),
			Locality:        d.intern(r.bytes()),
			Region:          d.intern(r.bytes()),
			PostalCode:      d.intern(r.bytes()),
			CallerName:      string(r.bytes()),
		}
	}
	if flags&foFlag != 0 {
		s.ID = string(r.bytes())
		s.BusinessUnit = d.intern(r.bytes())
		s.Program = d.intern(r.bytes())
		s.Channel = d.intern(r.bytes())
		s.CallPurpose = d.intern(r.bytes())
	}
	if flags&authSetFlag != 0 {
		v := flags&authTrueFlag != 0
		s.AuthCalls = &v
	}
	if r.bad || len(r.b) != 0 {
		return errBadDetail
	}
	return nil
}

func (d *detailDecoder) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if v, ok := d.in[string(b)]; ok { // no allocation for the lookup
		return v
	}
	v := string(b)
	if len(d.in) < maxInterned {
		d.in[v] = v
	}
	return v
}

// features returns a fresh slice (callers may modify it) of shared names.
func (d *detailDecoder) features(b []byte) []string {
	names, ok := d.feats[string(b)]
	if !ok {
		names = strings.Split(string(b), ",")
		for i := range names {
			names[i] = d.intern([]byte(names[i]))
		}
		if len(d.feats) < maxInterned {
			d.feats[string(b)] = names
		}
	}
	return append([]string(nil), names...)
}

// reader reads length-prefixed strings, remembering the first error so
// decode checks once at the end.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) bytes() []byte {
	if r.bad {
		return nil
	}
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n > uint64(len(r.b)-k) {
		r.bad = true
		return nil
	}
	v := r.b[k : k+int(n)]
	r.b = r.b[k+int(n):]
	return v
}
