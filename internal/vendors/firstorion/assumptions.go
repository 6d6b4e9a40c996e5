package firstorion

import "time"

// This file is the one place for everything vendors.md marks "assumed":
// behaviour nothing public documents, which the client relies on and the
// lab implements. When the real service is found to differ, correct it
// here and in the lab's own copy (lab/assumptions.go): the lab implements
// the contract independently, so the contract suite checks one against the
// other.

const (
	// pathAuth and pathRefresh are the authentication endpoints (doc); the
	// refresh body {"refresh_token": "..."} is assumed (refreshRequest).
	pathAuth    = "/v1/auth"
	pathRefresh = "/v1/auth/refresh"

	// MaxBatch is the most numbers one write may carry: the portal's limit,
	// assumed for the API. The lab answers 400 above it.
	MaxBatch = 500

	// MaxPageLimit is the largest `limit` a listing accepts (assumed for
	// phone numbers). The client always asks for this much.
	MaxPageLimit = 1000

	// pageHashParam is the query parameter carrying the paging cursor; the
	// next page is announced in info.nextPage as a URL holding it (doc for
	// the admin tool, assumed for phone numbers).
	pageHashParam = "pageHash"

	// batchDeleteSegment is the last segment of the batch-delete URI, a
	// POST (doc).
	batchDeleteSegment = "DELETE"
)

// Rejection reasons read per number in write answers. The names are
// documented; their exact meanings partly assumed (vendors.md, Writes).
const (
	ReasonAllocated           = "ALLOCATED_NUMBER"
	ReasonDuplicate           = "DUPLICATE_NUMBER"
	ReasonInvalidNumber       = "INVALID_NUMBER"
	ReasonRelationshipMissing = "RELATIONSHIP_NOT_FOUND"
	ReasonInvalidRelationship = "INVALID_RELATIONSHIP"
	// ReasonNotFound is assumed: a batch delete of an unknown number or id,
	// or a PUT of a number the business does not hold.
	ReasonNotFound = "NOT_FOUND"
)

// Token schedule (doc: 60-minute tokens, refresh 10 minutes early, retry a
// failed refresh once a minute). The margin and the pause are the same
// shares of whatever lifetime expires_in announces, so a lab's 12-second
// token is refreshed 2 s early and retried every 200 ms.
const (
	// refreshShare is the share of the lifetime before expiry at which a
	// refresh starts: 10 of 60 minutes.
	refreshShare = 6
	// retryShare: a failed refresh is retried every lifetime/60 (one minute
	// of sixty).
	retryShare = 60
	// minRefreshPause keeps a tiny lifetime from turning retries into a
	// busy loop.
	minRefreshPause = 50 * time.Millisecond
	// defaultTokenLife is used when an answer omits expires_in.
	defaultTokenLife = time.Hour
)

// Other assumptions, kept together:
//
//   - An expired or unknown token gets 401 with the error envelope.
//   - 429 carries the error envelope and Retry-After in seconds; the lab
//     limits to 10 requests/s per API key by default.
//   - The phone-number listing is GET /exchange/v1/businesses/{b}/phone-numbers
//     with limit/pageHash, and has businessUnitId/programId only at those
//     levels, with the delivery-channel key (callerName, callerImage,
//     blocking) set true only with a program.
//   - A program's deliveryChannels has one entry; a path naming another
//     channel is RELATIONSHIP_NOT_FOUND.
//   - PUT /exchange/v1/businesses/{b}/phone-numbers/{id} with
//     {"callPurposeCode", "authenticatedCalls"} changes those fields and
//     answers the whole number (the doc's rule that PUT acts as PATCH).
//   - DELETE from a business unit answers 409 while the number is still in
//     a program of that unit.
//   - The batch delete answers {"deletedPhoneNumbers", "rejectedPhoneNumbers"}.
//   - There is no endpoint reading one number by phone number, so Read lists
//     the business and filters.
//   - Create and put answers carry each number's relationships, as the
//     doc's example does; a number answered without them (or elsewhere than
//     asked) is reported Unknown, not Done, and the executor checks it.
//   - A 5xx to a write may come after the vendor acted, so it is Unknown;
//     only a 429 or a request that never left is a safe Retry.
