package plan

// The words numsync shares with its vendors and its CSV, in one place:
// OneUC's state words, First Orion's delivery channels, the defaults SPEC
// section 1 gives and the CSV's canonical column names. Every package says
// them through these names, so a spelling lives once.

// OneUC state words (vendors.md). Status carries them as the vendor
// spells them.
const (
	// StatusInService is OneUC's state for a number the account owns and
	// uses: what an activation leaves and a release ends.
	StatusInService = "in_service"
	// The states from which a held number is activated directly.
	StatusDiscovery = "discovery"
	StatusAvailable = "available"
	StatusReserved  = "reserved"
	StatusPortIn    = "port_in"
	StatusAging     = "aging"
	// StatusReleased and StatusDeleted: the account gave the number up;
	// bringing it back starts with a carrier search.
	StatusReleased = "released"
	StatusDeleted  = "deleted"
)

// InService reports whether OneUC holds the number in service.
func InService(s State) bool { return s.Status == StatusInService }

// Activatable reports whether activation brings a OneUC number in status
// into service (vendors.md): one the account does not hold ("", discovered
// by a carrier search first) or holds as discovery, available, reserved,
// port_in or aging. A number in any other state that is not in_service
// cannot be activated and is reported instead.
func Activatable(status string) bool {
	switch status {
	case "", StatusDiscovery, StatusAvailable, StatusReserved, StatusPortIn, StatusAging:
		return true
	}
	return false
}

// First Orion's review status of a number's branding (vendors.md).
const (
	StatusPending     = "PENDING"
	StatusApproved    = "APPROVED"
	StatusUnderReview = "UNDER REVIEW"
)

// Delivery channels of a First Orion program, as the vendor spells them.
const (
	ChannelCallerName  = "callerName"
	ChannelCallerImage = "callerImage"
	ChannelBlocking    = "blocking"
)

// DefaultCallPurposeCode is the call purpose code a First Orion number gets
// when neither the CSV nor the config names one (SPEC section 1).
const DefaultCallPurposeCode = "CS"

// Canonical names of the desired-state CSV's columns (SPEC section 1).
// Errors name columns this way, whatever the header wrote.
const (
	ColPhoneNumber         = "phone_number"
	ColCNAM                = "cnam"
	ColE911StreetAddress   = "e911_street_address"
	ColE911ExtendedAddress = "e911_extended_address"
	ColE911Locality        = "e911_locality"
	ColE911Region          = "e911_region"
	ColE911PostalCode      = "e911_postal_code"
	ColE911CallerName      = "e911_caller_name"
	ColBrandBusinessUnit   = "brand_business_unit"
	ColBrandProgram        = "brand_program"
	ColBrandChannel        = "brand_channel"
	ColCallPurposeCode     = "call_purpose_code"
	ColAuthenticatedCalls  = "authenticated_calls"
)

// The CSV's columns by the vendor they manage, in the order export writes
// them.
var (
	oneUCColumns = []string{ColPhoneNumber, ColCNAM,
		ColE911StreetAddress, ColE911ExtendedAddress, ColE911Locality,
		ColE911Region, ColE911PostalCode, ColE911CallerName}
	firstOrionColumns = []string{ColBrandBusinessUnit, ColBrandProgram, ColBrandChannel,
		ColCallPurposeCode, ColAuthenticatedCalls}
)

// CSVColumns returns every column numsync knows, in the order export writes
// them: phone_number, the OneUC columns, the First Orion columns.
func CSVColumns() []string {
	out := make([]string, 0, len(oneUCColumns)+len(firstOrionColumns))
	return append(append(out, oneUCColumns...), firstOrionColumns...)
}
