// Package plan is numsync's domain: the desired state read from the CSV, the
// live state a vendor reports, the operations that close the gap between
// them, and the interfaces through which a vendor is read and changed.
//
// It imports no vendor, no SQLite and no HTTP: everything here is plain data
// that can be printed, saved, hashed and compared (see STYLE.md, dnscontrol's
// diff2). The vendor packages implement its interfaces; the executor and the
// journal speak its types.
package plan

import (
	"fmt"
	"strings"
	"time"
)

// VendorName names one of the two vendors numsync keeps in step.
type VendorName string

// The vendors numsync knows. The string values appear in saved plans, the
// journal and the command line, so they never change.
const (
	OneUC      VendorName = "oneuc"
	FirstOrion VendorName = "firstorion"
)

// Action is what one operation does to one number at one vendor. The zero
// value is invalid, so an operation that was never given an action cannot
// pass for a real one.
type Action string

// The actions of SPEC section 4. Which vendor accepts which is fixed:
// OneUC takes activate, update and release; First Orion takes assign, move,
// update and delete.
const (
	// Activate puts a number in service on the OneUC account, discovering it
	// by a carrier search first when the account does not hold it yet.
	Activate Action = "activate"
	// Update changes fields of a number the vendor already holds: CNAM and
	// E911 at OneUC, call purpose code and authenticated calls at First Orion.
	Update Action = "update"
	// Release removes a number from the OneUC account (prune only).
	Release Action = "release"
	// Assign creates a number at First Orion, in a program or at the
	// business-unit level.
	Assign Action = "assign"
	// Move changes the business unit, program or channel of a number First
	// Orion already holds: removal from the old place, then a put.
	Move Action = "move"
	// Delete removes a number from the First Orion business (prune, or a row
	// whose brand columns are empty).
	Delete Action = "delete"
)

// Valid reports whether the vendor accepts the action.
func (a Action) Valid(v VendorName) bool {
	switch v {
	case OneUC:
		return a == Activate || a == Update || a == Release
	case FirstOrion:
		return a == Assign || a == Move || a == Update || a == Delete
	}
	return false
}

// Address is an E911 service address in OneUC's field names.
type Address struct {
	StreetAddress   string `json:"street_address"`
	ExtendedAddress string `json:"extended_address,omitempty"`
	Locality        string `json:"locality"`
	Region          string `json:"region"`
	PostalCode      string `json:"postal_code"`
	CallerName      string `json:"caller_name,omitempty"`
}

// Equal reports whether two addresses name the same place. The vendor
// geocodes what it is sent and answers in its own spelling (upper case,
// single spaces), so a byte comparison would find a change every night;
// fields are compared case-insensitively with white space folded.
func (a *Address) Equal(b *Address) bool {
	if a == nil || b == nil {
		return a == b
	}
	return fold(a.StreetAddress) == fold(b.StreetAddress) &&
		fold(a.ExtendedAddress) == fold(b.ExtendedAddress) &&
		fold(a.Locality) == fold(b.Locality) &&
		fold(a.Region) == fold(b.Region) &&
		fold(a.PostalCode) == fold(b.PostalCode) &&
		fold(a.CallerName) == fold(b.CallerName)
}

func fold(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(s), " "))
}

// Row is one valid row of the desired-state CSV, normalised. Which of its
// fields count is decided by the header (Columns): a field whose column is
// absent is not managed and must be ignored, whatever its value.
type Row struct {
	// Line is the CSV line the row starts on (1 is the header).
	Line int
	// Number is the phone number in E.164 form.
	Number string
	// Record holds the row's original cells, in header order, so a failed
	// operation can be written back to a spreadsheet as it was read.
	Record []string

	// CNAM is the wanted caller name; "" means none (cleared).
	CNAM string
	// E911 is the wanted emergency address, or nil when the row's E911
	// cells are all blank: blank never removes a live address.
	E911 *Address

	// BusinessUnit and Program are First Orion ids or names as written in
	// the CSV; they are resolved against the live hierarchy by the plan.
	// Both empty (under a managed business-unit column) means the number
	// must not be at First Orion at all.
	BusinessUnit string
	Program      string
	// Channel is the delivery channel the row names, in the vendor's
	// spelling (ChannelCallerName, …); "" when its cell is empty. Defaults
	// are the plan's, applied in one place: Diff takes the program's own
	// channel for a row that names none.
	Channel string
	// CallPurpose is the call purpose code the row names; "" when its cell
	// is empty, for which Diff takes Options.DefaultCallPurpose.
	CallPurpose string
	// AuthCalls is the authenticated-calls flag, default false.
	AuthCalls bool
}

// Columns records which optional columns the CSV header has: the scope of
// the run. A column that is absent is not managed.
type Columns struct {
	CNAM         bool `json:"cnam"`
	E911         bool `json:"e911"`
	BusinessUnit bool `json:"brand_business_unit"`
	Program      bool `json:"brand_program"`
	Channel      bool `json:"brand_channel"`
	CallPurpose  bool `json:"call_purpose_code"`
	AuthCalls    bool `json:"authenticated_calls"`
}

// ManagesOneUC reports whether the CSV manages any OneUC field beyond the
// number being in service.
func (c Columns) ManagesOneUC() bool { return c.CNAM || c.E911 }

// ManagesFirstOrion reports whether the CSV manages anything at First Orion.
func (c Columns) ManagesFirstOrion() bool {
	return c.BusinessUnit || c.Program || c.Channel || c.CallPurpose || c.AuthCalls
}

// Desired is the whole desired-state CSV after validation.
type Desired struct {
	// Path is the file as given on the command line.
	Path string
	// SHA256 is the hex digest of the file's bytes: the identity of a run
	// for resume.
	SHA256 string
	// Header is the header row as written, for writing rows back.
	Header []string
	// Sheet is the workbook sheet the rows came from; "" for delimited
	// text. With it, a row's errors name their cell (Sheet!B12).
	Sheet string
	// Columns is the scope set by the header.
	Columns Columns
	// Rows are the valid rows in file order.
	Rows []Row
}

// State is what one vendor holds for one number, in the plan's terms. The
// same type carries a listing record, a read-back, and the before and after
// of an operation; in the last two only the fields the operation concerns
// are set. Pointer fields distinguish "not known / not concerned" (nil) from
// "none" (pointer to the zero value).
type State struct {
	// Number is the E.164 number.
	Number string `json:"number,omitempty"`

	// Status is the vendor's state word: OneUC StatusInService,
	// StatusReserved, …; First Orion StatusPending, StatusApproved,
	// StatusUnderReview (vocab.go).
	Status string `json:"status,omitempty"`

	// OneUC fields.

	// Updated is the OneUC listing's `updated`, as Unix seconds. The plan
	// compares it with the journal to decide whether CNAM and E911 must be
	// read again.
	Updated int64 `json:"updated,omitempty"`
	// Features are OneUC's feature names ("cnam", "e911", "local", …).
	Features []string `json:"features,omitempty"`
	// Detailed is true when CNAM and E911 below were actually read (a full
	// GET of the number), not merely absent from a listing.
	Detailed bool `json:"-"`
	// CNAM is the display name; pointer to "" means none.
	CNAM *string `json:"cnam,omitempty"`
	// E911 is the service address; nil means none (or, unless Detailed,
	// not known).
	E911 *Address `json:"e911,omitempty"`

	// First Orion fields.

	// ID is First Orion's phoneNumberId: the reference every write by id
	// needs. Never empty for a number First Orion lists.
	ID string `json:"id,omitempty"`
	// BusinessUnit and Program are ids; "" means the number is not at that
	// level.
	BusinessUnit string `json:"business_unit,omitempty"`
	Program      string `json:"program,omitempty"`
	// Channel is the delivery channel; set only with a program.
	Channel string `json:"channel,omitempty"`
	// CallPurpose is the call purpose code.
	CallPurpose string `json:"call_purpose_code,omitempty"`
	// AuthCalls is the authenticated-calls flag; nil when not concerned.
	AuthCalls *bool `json:"authenticated_calls,omitempty"`
}

// Op is one operation of a plan: one action on one number at one vendor.
type Op struct {
	// ID is unique within a plan and stable for the same inputs:
	// "<vendor>/<action>/<number>".
	ID     string     `json:"id"`
	Vendor VendorName `json:"vendor"`
	Action Action     `json:"action"`
	Number string     `json:"number"`
	// Before is the live state the plan saw, limited to the fields the
	// operation changes (plus, at First Orion, the phone-number id and
	// current place a move or delete needs). Empty for a number the vendor
	// does not hold.
	Before State `json:"before"`
	// After is the state the operation must leave, limited to the fields it
	// sets. Verification compares the live state with it.
	After State `json:"after"`
	// DependsOn lists the ids of operations that must be done before this
	// one may be sent.
	DependsOn []string `json:"depends_on,omitempty"`
	// Line is the CSV line the operation came from; 0 for an unmanaged
	// number (prune).
	Line int `json:"line"`
	// ChangedOutside is set when someone changed the number at the vendor
	// outside numsync since numsync last wrote or read it (drift): this
	// operation undoes that change. Nil when numsync knows of no such
	// change. Set after the diff, from the journal (see internal/drift).
	ChangedOutside *Outside `json:"changed_outside,omitempty"`
}

// Outside says when numsync last wrote or read a number that has since
// been changed outside numsync: the run (0 when it was read by a plan
// outside any run) and the time.
type Outside struct {
	Run int64     `json:"run,omitempty"`
	At  time.Time `json:"at"`
}

// String is "changed outside numsync since run 3 (2026-12-01)".
func (o *Outside) String() string {
	date := o.At.UTC().Format(time.DateOnly)
	if o.Run == 0 {
		return "changed outside numsync since it was read (" + date + ")"
	}
	return fmt.Sprintf("changed outside numsync since run %d (%s)", o.Run, date)
}

// OpID builds the stable id of the operation on number.
func OpID(v VendorName, a Action, number string) string {
	return string(v) + "/" + string(a) + "/" + number
}
