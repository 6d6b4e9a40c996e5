package lab

// This file is the lab's copy of what vendors.md marks "assumed" about
// First Orion. The client keeps its own (firstorion/assumptions.go); the
// lab implements the contract independently, as OneUC's lab does, so the
// contract suite checks one against the other instead of a constant against
// itself. When the real service is found to differ, correct both.

const (
	// pathAuth and pathRefresh are the authentication endpoints (doc); the
	// refresh body {"refresh_token": "..."} is assumed.
	pathAuth    = "/v1/auth"
	pathRefresh = "/v1/auth/refresh"

	// maxBatch is the most numbers one write may carry (the portal's limit,
	// assumed for the API); more is a 400.
	maxBatch = 500

	// maxPageLimit is the largest `limit` a listing accepts when
	// Options.PageLimitMax is 0 (assumed for phone numbers).
	maxPageLimit = 1000

	// pageHashParam is the query parameter carrying the paging cursor.
	pageHashParam = "pageHash"

	// batchDeleteSegment is the last segment of the batch-delete URI.
	batchDeleteSegment = "DELETE"
)

// Rejection reasons the lab answers per number (vendors.md, Writes).
const (
	reasonAllocated           = "ALLOCATED_NUMBER"
	reasonDuplicate           = "DUPLICATE_NUMBER"
	reasonInvalidNumber       = "INVALID_NUMBER"
	reasonRelationshipMissing = "RELATIONSHIP_NOT_FOUND"
	reasonInvalidRelationship = "INVALID_RELATIONSHIP"
	reasonNotFound            = "NOT_FOUND"
)

// refreshRequest is the body of POST /v1/auth/refresh (assumed).
type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// createItem is one number of a create request.
type createItem struct {
	PhoneNumber        string `json:"phoneNumber"`
	CallPurposeCode    string `json:"callPurposeCode"`
	AuthenticatedCalls bool   `json:"authenticatedCalls"`
}

// numbersBody is the body of a PUT into a program or business unit.
type numbersBody struct {
	PhoneNumbers []string `json:"phoneNumbers"`
}
