// Package firstorion is numsync's First Orion side: a client of the
// Exchange API v1 that implements plan.Vendor and plan.Hierarchy. Its lab
// (an in-memory HTTP implementation of the same API for tests, the demo
// and benchmarks) is package firstorion/lab, and the contract suite the
// client passes against the lab and a real account is firstoriontest, as
// for OneUC.
//
// The API as numsync uses it is described in vendors.md. Every point that
// document marks "assumed" (nothing public says) is kept in assumptions.go,
// so the code is easy to correct against the real service.
//
// Two rules shape the client. First, the vendor's "delete all" calls
// (DELETE .../phone-numbers, or DELETE .../phone-numbers/{id} with an empty
// id) must be impossible: the client has no code that names them, and every
// path is built by one function, buildPath, that refuses an empty segment.
// Second, writes are never retried inside the client: Apply reports each
// operation's outcome (Done, Failed, Retry, Unknown) and the executor,
// which journals, decides what to send again.
package firstorion
