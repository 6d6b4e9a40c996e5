package oneuc

import "time"

// This file gathers, in one place, what the client assumes about OneUC's API
// beyond what its own pages document (vendors.md marks these "kazoo" or
// "assumed"). When the real service turns out to differ, this is the file to
// correct; the lab (lab/) implements the same assumptions independently.

const (
	// gregorianOffset converts Kazoo's Gregorian seconds (seconds since
	// 0001-01-01) to Unix seconds: Unix = Gregorian - gregorianOffset (kazoo).
	gregorianOffset = 62167219200

	// listPageSize is the page_size the client asks for when listing. Kazoo
	// defaults to 50; the lab allows up to 1000 (assumed).
	listPageSize = 1000

	// searchQuantity is the quantity asked of a carrier search on a block of
	// ten numbers (a ten-digit prefix). Ten is enough to return every number
	// of the block; Kazoo's maximum is 500.
	searchQuantity = 10

	// blockDigits is how many leading digits of an E.164 number name its
	// block for a discovery search (vendors.md: "ten digits, a block of ten
	// numbers").
	blockDigits = 10

	// assumedRefillPerSec is the rate at which Kazoo's token bucket refills
	// (kazoo default: 100 tokens, 10 per second). The answer reports only
	// tokens.remaining, not the bucket's size, so the client paces on
	// remaining against the requests it has in flight (refillPause) and
	// computes from this rate how long the bucket takes to refill.
	assumedRefillPerSec = 10.0

	// discoveryTTL is how long the client trusts a block search's answer for
	// later batches; Kazoo keeps searched numbers in "discovery" for a while
	// (assumed: at least this long).
	discoveryTTL = 10 * time.Minute

	// assumedListingPages is how many requests ReadStates expects a listing
	// of the account to take before the client has completed one (after
	// that, it uses the page count of the last complete listing). A GET of
	// one number costs one request and a listing page holds listPageSize
	// numbers, so reading n numbers by GETs is cheaper exactly when n is at
	// most the listing's page count. 50 pages is an account of 50,000
	// numbers, above the accounts numsync is sized for (20,000): a check of
	// a few lost answers stays a few GETs, while verifying hundreds of
	// activations becomes one listing. Against a much larger account the
	// first such read may list when GETs were cheaper; the next uses the
	// real count.
	assumedListingPages = 50

	// readConcurrency bounds the GETs Read keeps in flight at once.
	readConcurrency = 8

	// maxAnswerBytes caps how much of an answer is read, so a broken proxy
	// cannot make the client buffer without limit.
	maxAnswerBytes = 64 << 20
)

// Kazoo's words that the client acts on (kazoo, doc).
const (
	// msgMissingProviderURL: activation of a number no search returned.
	msgMissingProviderURL = "missing_provider_url"
	// msgFaultByCarrier: the carrier refused to provision the number.
	msgFaultByCarrier = "fault by carrier"
	// msgMultipleChoice: an ambiguous E911 address.
	msgMultipleChoice = "multiple_choice"
	// msgInvalidData: a validation failure, such as an address that does not
	// geocode.
	msgInvalidData = "invalid data"
	// msgBadIdentifier: the number is not on the account.
	msgBadIdentifier = "bad_identifier"
	// msgTooManyRequests: over the rate limit.
	msgTooManyRequests = "too_many_requests"
)

// Discovery searches as wide as vendors.md allows (assumed: "a search on a
// 100-number block with quantity=100 returns every available number of
// it"). Kazoo's quantity is at most 500, so the next wider block (1,000
// numbers) cannot be asked whole; and since a carrier may return fewer
// than asked, a number missing from a wide answer is looked for in its
// block of ten (blockDigits, searchQuantity) before it is declared not
// available.
const (
	// wideDigits is how many leading digits name a wide block: nine, a
	// block of a hundred NANP numbers.
	wideDigits = 9
	// maxSearchQuantity is the largest quantity a search may ask (kazoo).
	maxSearchQuantity = 500
)
