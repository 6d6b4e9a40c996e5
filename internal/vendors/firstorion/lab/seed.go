package lab

import (
	"encoding/json"
	"fmt"
	"os"
)

// Seed is the lab's initial inventory, written in Go or loaded from
// JSON (ReadSeed). Field names follow the API's camelCase.
type Seed struct {
	// BusinessUnits of the lab's business, with their programs. Names may
	// repeat, so that ambiguous names can be tested.
	BusinessUnits []SeedBusinessUnit `json:"businessUnits"`
	// Numbers the business already holds.
	Numbers []SeedNumber `json:"numbers"`
	// Allocated are numbers held by other businesses: creating one answers
	// ALLOCATED_NUMBER naming that business.
	Allocated []SeedAllocated `json:"allocated"`
}

// SeedBusinessUnit is a business unit of a seed.
type SeedBusinessUnit struct {
	ID       string        `json:"id"`
	Name     string        `json:"name"`
	Programs []SeedProgram `json:"programs"`
}

// SeedProgram is a program of a seed; Channel defaults to callerName and
// Active to true.
type SeedProgram struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Channel         string `json:"channel"`
	Active          *bool  `json:"active"`
	CallPurposeCode string `json:"callPurposeCode"`
}

// SeedNumber is a number of a seed. ID is generated when empty; Channel
// defaults to the program's; Status defaults to APPROVED.
type SeedNumber struct {
	ID                 string `json:"id"`
	PhoneNumber        string `json:"phoneNumber"`
	BusinessUnitID     string `json:"businessUnitId"`
	ProgramID          string `json:"programId"`
	Channel            string `json:"channel"`
	CallPurposeCode    string `json:"callPurposeCode"`
	AuthenticatedCalls bool   `json:"authenticatedCalls"`
	Status             string `json:"status"`
}

// SeedAllocated is a number another business holds.
type SeedAllocated struct {
	BusinessID    string `json:"businessId"`
	PhoneNumberID string `json:"phoneNumberId"`
	PhoneNumber   string `json:"phoneNumber"`
}

// ReadSeed reads a seed from a JSON file. Unknown fields are errors, so a
// misspelt key does not silently leave part of the inventory out.
func ReadSeed(path string) (Seed, error) {
	var s Seed
	f, err := os.Open(path)
	if err != nil {
		return s, fmt.Errorf("firstorion: read seed: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("firstorion: read seed %s: %w", path, err)
	}
	return s, nil
}

// BaseSeed is the hierarchy the tests of the client, the lab and the
// contract suite start from: business unit bu-1 with programs p-1
// (callerName) and p-2 (callerImage), bu-2 with p-3 (callerName), and
// +15012149020 held by the business other-business (for ALLOCATED_NUMBER).
func BaseSeed() Seed {
	return Seed{
		BusinessUnits: []SeedBusinessUnit{
			{ID: "bu-1", Name: "East", Programs: []SeedProgram{
				{ID: "p-1", Name: "Sales", Channel: "callerName", CallPurposeCode: "SA"},
				{ID: "p-2", Name: "Support", Channel: "callerImage", CallPurposeCode: "CS"},
			}},
			{ID: "bu-2", Name: "West", Programs: []SeedProgram{
				{ID: "p-3", Name: "Collections", Channel: "callerName", CallPurposeCode: "CO"},
			}},
		},
		Allocated: []SeedAllocated{{BusinessID: "other-business", PhoneNumberID: "other-pn", PhoneNumber: "+15012149020"}},
	}
}
