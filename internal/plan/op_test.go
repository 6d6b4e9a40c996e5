package plan

import (
	"strings"
	"testing"
)

// TestMismatch: an operation is satisfied by the live state on the fields
// it is for, and only those (the executor's lost answers, resume and
// verification all ask this).
func TestMismatch(t *testing.T) {
	const num = "+12125554200"
	addr := &Address{StreetAddress: "1 Main St", Locality: "New York", Region: "NY", PostalCode: "10001"}
	geocoded := &Address{StreetAddress: "1 MAIN  ST", Locality: "NEW YORK", Region: "NY", PostalCode: "10001"}
	op := func(v VendorName, a Action, after State) Op {
		return Op{ID: OpID(v, a, num), Vendor: v, Action: a, Number: num, After: after}
	}
	inService := State{Number: num, Status: StatusInService}
	tests := []struct {
		name    string
		live    State
		present bool
		op      Op
		want    string // "" satisfied, else a substring of the mismatch
	}{
		{"activate: in service", inService, true, op(OneUC, Activate, State{Status: StatusInService}), ""},
		{"activate: reserved", State{Status: StatusReserved}, true, op(OneUC, Activate, State{}), `status "reserved", want "in_service"`},
		{"activate: absent", State{}, false, op(OneUC, Activate, State{}), "number not held"},
		{"update: cnam equal", State{CNAM: ptr("ACME")}, true, op(OneUC, Update, State{CNAM: ptr("ACME")}), ""},
		{"update: cnam differs", State{CNAM: ptr("OLD")}, true, op(OneUC, Update, State{CNAM: ptr("ACME")}), `cnam "OLD", want "ACME"`},
		{"update: cnam cleared, none live", State{}, true, op(OneUC, Update, State{CNAM: ptr("")}), ""},
		{"update: e911 not set live", State{CNAM: ptr("X")}, true, op(OneUC, Update, State{E911: addr}), "e911 address differs"},
		{"update: e911 as geocoded", State{CNAM: ptr("X"), E911: geocoded}, true, op(OneUC, Update, State{E911: addr}), ""},
		{"update: e911 and cnam", State{CNAM: ptr("ACME"), E911: geocoded}, true, op(OneUC, Update, State{CNAM: ptr("ACME"), E911: addr}), ""},
		{"update: both differ", State{CNAM: ptr("OLD")}, true, op(OneUC, Update, State{CNAM: ptr("ACME"), E911: addr}), `cnam "OLD", want "ACME"; e911 address differs`},
		{"update: absent", State{}, false, op(OneUC, Update, State{CNAM: ptr("ACME")}), "number not present"},
		{"release: gone", State{}, false, op(OneUC, Release, State{}), ""},
		{"release: available", State{Status: StatusAvailable}, true, op(OneUC, Release, State{}), ""},
		{"release: still in service", inService, true, op(OneUC, Release, State{}), "number still in service"},
		{"assign: in program", State{ID: "a", BusinessUnit: "bu", Program: "p", Channel: ChannelCallerName}, true,
			op(FirstOrion, Assign, State{BusinessUnit: "bu", Program: "p", Channel: ChannelCallerName}), ""},
		{"assign: wrong channel", State{ID: "a", BusinessUnit: "bu", Program: "p", Channel: ChannelBlocking}, true,
			op(FirstOrion, Assign, State{BusinessUnit: "bu", Program: "p", Channel: ChannelCallerName}), `channel "blocking", want "callerName"`},
		{"assign: call purpose is an update's to correct", State{ID: "a", BusinessUnit: "bu", CallPurpose: "SA"}, true,
			op(FirstOrion, Assign, State{BusinessUnit: "bu", CallPurpose: "CS", AuthCalls: ptr(true)}), ""},
		{"assign: business-unit level", State{ID: "a", BusinessUnit: "bu"}, true,
			op(FirstOrion, Assign, State{BusinessUnit: "bu"}), ""},
		{"assign: still in a program", State{ID: "a", BusinessUnit: "bu", Program: "p"}, true,
			op(FirstOrion, Assign, State{BusinessUnit: "bu"}), `program "p", want ""`},
		{"assign: absent", State{}, false, op(FirstOrion, Assign, State{BusinessUnit: "bu"}), "number not present"},
		{"move: other unit", State{ID: "a", BusinessUnit: "bu1"}, true, op(FirstOrion, Move, State{BusinessUnit: "bu2"}), `business unit "bu1", want "bu2"`},
		{"fo update: equal", State{CallPurpose: "CS", AuthCalls: ptr(true)}, true,
			op(FirstOrion, Update, State{CallPurpose: "CS", AuthCalls: ptr(true)}), ""},
		{"fo update: auth calls unset live", State{CallPurpose: "CS"}, true,
			op(FirstOrion, Update, State{CallPurpose: "CS", AuthCalls: ptr(true)}), "authenticated calls false, want true"},
		{"fo update: purpose differs", State{CallPurpose: "SV"}, true, op(FirstOrion, Update, State{CallPurpose: "CS"}), `call purpose code "SV", want "CS"`},
		{"fo update: flag only, purpose ignored", State{CallPurpose: "SV", AuthCalls: ptr(false)}, true, op(FirstOrion, Update, State{AuthCalls: ptr(false)}), ""},
		{"delete: gone", State{}, false, op(FirstOrion, Delete, State{}), ""},
		{"delete: present", State{ID: "a"}, true, op(FirstOrion, Delete, State{}), "number still present"},
		{"invalid action", State{}, true, op(OneUC, "", State{}), `unknown action ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.op.Mismatch(tt.live, tt.present)
			switch {
			case tt.want == "" && got != "":
				t.Errorf("mismatch %q, want satisfied", got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("mismatch %q, want one containing %q", got, tt.want)
			}
			if sat := tt.op.SatisfiedBy(tt.live, tt.present); sat != (tt.want == "") {
				t.Errorf("SatisfiedBy = %v disagrees with Mismatch %q", sat, got)
			}
		})
	}
}

// TestStale: the stale check compares the live state with what the plan
// saw on the fields each operation concerns, and only those: an update's
// Before carries only what it changes, so the fields it leaves alone (and
// a OneUC update's in-service state) are not differences.
func TestStale(t *testing.T) {
	addr := &Address{StreetAddress: "1 MARKET ST", Locality: "SAN FRANCISCO", Region: "CA", PostalCode: "94105"}
	other := &Address{StreetAddress: "350 5TH AVE", Locality: "NEW YORK", Region: "NY", PostalCode: "10118"}
	const num = "+14155550100"
	ouUpdate := Op{ID: "oneuc/update/" + num, Vendor: OneUC, Action: Update, Number: num,
		Before: State{CNAM: ptr("OLD")}, After: State{CNAM: ptr("NEW")}}
	ouE911 := Op{ID: "oneuc/update/" + num, Vendor: OneUC, Action: Update, Number: num,
		Before: State{E911: addr}, After: State{E911: other}}
	ouAfterActivate := ouUpdate
	ouAfterActivate.Before = State{CNAM: ptr("")}
	ouAfterActivate.DependsOn = []string{"oneuc/activate/" + num}
	discover := Op{ID: "oneuc/activate/" + num, Vendor: OneUC, Action: Activate, Number: num,
		After: State{Status: StatusInService}}
	reserved := discover
	reserved.Before = State{Status: StatusReserved}
	release := Op{ID: "oneuc/release/" + num, Vendor: OneUC, Action: Release, Number: num, Before: State{Status: StatusInService}}

	foAuth := Op{ID: "firstorion/update/" + num, Vendor: FirstOrion, Action: Update, Number: num,
		Before: State{ID: "id-1", AuthCalls: ptr(true)}, After: State{AuthCalls: ptr(false)}}
	foCPC := Op{ID: "firstorion/update/" + num, Vendor: FirstOrion, Action: Update, Number: num,
		Before: State{ID: "id-1", CallPurpose: "SA"}, After: State{CallPurpose: "CS"}}
	foMove := Op{ID: "firstorion/move/" + num, Vendor: FirstOrion, Action: Move, Number: num,
		Before: State{ID: "id-1", BusinessUnit: "bu1", Program: "p1", Channel: ChannelCallerName},
		After:  State{BusinessUnit: "bu1", Program: "p2", Channel: ChannelCallerImage}}
	foAssign := Op{ID: "firstorion/assign/" + num, Vendor: FirstOrion, Action: Assign, Number: num,
		After: State{BusinessUnit: "bu1", Program: "p1", Channel: ChannelCallerName, CallPurpose: "CS", AuthCalls: ptr(false)}}
	foDelete := Op{ID: "firstorion/delete/" + num, Vendor: FirstOrion, Action: Delete, Number: num,
		Before: State{ID: "id-1", BusinessUnit: "bu1", Program: "p1", Channel: ChannelCallerName}}
	foLive := State{Number: num, ID: "id-1", BusinessUnit: "bu1", Program: "p1", Channel: ChannelCallerName, CallPurpose: "SA", AuthCalls: ptr(true)}
	with := func(f func(*State)) State { s := foLive; f(&s); return s }

	tests := []struct {
		name    string
		op      Op
		live    State
		present bool
		want    string // "" or a substring of the difference
	}{
		{"oneuc update unchanged", ouUpdate, State{Status: StatusInService, CNAM: ptr("OLD"), E911: addr}, true, ""},
		{"oneuc update, cnam changed by hand", ouUpdate, State{Status: StatusInService, CNAM: ptr("BY HAND")}, true, `cnam "OLD" → "BY HAND"`},
		{"oneuc update ignores e911 it does not set", ouUpdate, State{Status: StatusInService, CNAM: ptr("OLD"), E911: other}, true, ""},
		{"oneuc e911 update unchanged", ouE911, State{Status: StatusInService, CNAM: ptr("ANY"), E911: addr}, true, ""},
		{"oneuc e911 update, address changed", ouE911, State{Status: StatusInService, E911: other}, true, "e911 address changed"},
		{"oneuc update, number released", ouUpdate, State{}, false, "no longer held"},
		{"oneuc update, number disconnected", ouUpdate, State{Status: "disconnected", CNAM: ptr("OLD")}, true, "state in_service → disconnected"},
		{"oneuc update after activation, still reserved", ouAfterActivate, State{Status: StatusReserved}, true, ""},
		{"oneuc update after activation of a number not yet held", ouAfterActivate, State{}, false, ""},
		{"discovery, still not held", discover, State{}, false, ""},
		{"discovery, held but not in service", discover, State{Status: StatusReserved}, true, ""},
		{"discovery, now in service", discover, State{Status: StatusInService}, true, "now held (in_service)"},
		{"reserved activation unchanged", reserved, State{Status: StatusReserved}, true, ""},
		{"reserved activation, activated meanwhile", reserved, State{Status: StatusInService}, true, "state reserved → in_service"},
		{"release unchanged", release, State{Status: StatusInService}, true, ""},
		{"release, released meanwhile", release, State{}, false, "no longer held"},
		{"first orion auth-only update unchanged", foAuth, foLive, true, ""},
		{"first orion auth-only update, auth changed", foAuth, with(func(s *State) { s.AuthCalls = ptr(false) }), true, "call purpose"},
		{"first orion auth-only update ignores call purpose", foAuth, with(func(s *State) { s.CallPurpose = "FR" }), true, ""},
		{"first orion update ignores the place", foAuth, with(func(s *State) { s.Program = "p3" }), true, ""},
		{"first orion cpc-only update unchanged", foCPC, foLive, true, ""},
		{"first orion cpc-only update, cpc changed", foCPC, with(func(s *State) { s.CallPurpose = "FR" }), true, "call purpose SA"},
		{"first orion update, number recreated", foCPC, with(func(s *State) { s.ID = "id-2" }), true, "phone-number id changed"},
		{"first orion move unchanged", foMove, foLive, true, ""},
		{"first orion move, moved by hand", foMove, with(func(s *State) { s.Program = "p3" }), true, "place bu1/p1/callerName → bu1/p3/callerName"},
		{"first orion move, to the unit level by hand", foMove, with(func(s *State) { s.Program, s.Channel = "", "" }), true, "place bu1/p1/callerName → bu1"},
		{"first orion assign, still absent", foAssign, State{}, false, ""},
		{"first orion assign, now present", foAssign, foLive, true, "now held (present)"},
		{"first orion delete, already gone", foDelete, State{}, false, "no longer held"},
		{"first orion delete unchanged", foDelete, foLive, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.op.Stale(tt.live, tt.present)
			switch {
			case tt.want == "" && got != "":
				t.Errorf("stale (%q), want in step", got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("difference %q, want one containing %q", got, tt.want)
			}
		})
	}
}

// TestChanges: the fields an operation sets are what its action and its
// After say, and only a OneUC CNAM or address change needs a detail read.
func TestChanges(t *testing.T) {
	tests := []struct {
		name    string
		op      Op
		want    Fields
		details bool
	}{
		{"activate", Op{Vendor: OneUC, Action: Activate, After: State{Status: StatusInService}}, FieldStatus, false},
		{"release", Op{Vendor: OneUC, Action: Release}, FieldStatus, false},
		{"oneuc update cnam", Op{Vendor: OneUC, Action: Update, After: State{CNAM: ptr("")}}, FieldCNAM, true},
		{"oneuc update e911", Op{Vendor: OneUC, Action: Update, After: State{E911: &Address{}}}, FieldE911, true},
		{"oneuc update both", Op{Vendor: OneUC, Action: Update, After: State{CNAM: ptr("A"), E911: &Address{}}}, FieldCNAM | FieldE911, true},
		{"assign at a unit", Op{Vendor: FirstOrion, Action: Assign, After: State{BusinessUnit: "bu"}}, FieldPlace, false},
		{"assign with purpose and flag", Op{Vendor: FirstOrion, Action: Assign, After: State{BusinessUnit: "bu", CallPurpose: "CS", AuthCalls: ptr(false)}},
			FieldPlace | FieldCallPurpose | FieldAuthCalls, false},
		{"move", Op{Vendor: FirstOrion, Action: Move, After: State{BusinessUnit: "bu", CallPurpose: "ignored"}}, FieldPlace, false},
		{"delete", Op{Vendor: FirstOrion, Action: Delete}, FieldPlace, false},
		{"fo update flag", Op{Vendor: FirstOrion, Action: Update, After: State{AuthCalls: ptr(true)}}, FieldAuthCalls, false},
		{"fo update purpose", Op{Vendor: FirstOrion, Action: Update, After: State{CallPurpose: "SA"}}, FieldCallPurpose, false},
		{"no action", Op{Vendor: OneUC}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.op.Changes(); got != tt.want {
				t.Errorf("Changes = %b, want %b", got, tt.want)
			}
			if got := tt.op.NeedsDetails(); got != tt.details {
				t.Errorf("NeedsDetails = %v, want %v", got, tt.details)
			}
		})
	}
}

// TestSameIntent: two operations share an intent when they would leave the
// same number in the same state at the same vendor by the same action;
// what they saw before does not matter.
func TestSameIntent(t *testing.T) {
	const num = "+12125550001"
	addr := &Address{StreetAddress: "1 Main St", Locality: "New York", Region: "NY", PostalCode: "10001"}
	base := Op{ID: OpID(FirstOrion, Assign, num), Vendor: FirstOrion, Action: Assign, Number: num,
		After: State{BusinessUnit: "bu", Program: "p", Channel: ChannelCallerName, CallPurpose: "CS", AuthCalls: ptr(false)}}
	ou := Op{ID: OpID(OneUC, Update, num), Vendor: OneUC, Action: Update, Number: num,
		Before: State{CNAM: ptr("OLD")}, After: State{CNAM: ptr("NEW"), E911: addr}}
	change := func(o Op, f func(*Op)) Op {
		o.After.AuthCalls = ptr(deref(o.After.AuthCalls))
		f(&o)
		return o
	}
	tests := []struct {
		name string
		a, b Op
		want bool
	}{
		{"identical", base, base, true},
		{"other before", base, change(base, func(o *Op) { o.Before = State{ID: "x", BusinessUnit: "old"} }), true},
		{"equal flag, other pointer", base, change(base, func(o *Op) {}), true},
		{"other program", base, change(base, func(o *Op) { o.After.Program = "q" }), false},
		{"other channel", base, change(base, func(o *Op) { o.After.Channel = ChannelBlocking }), false},
		{"other unit", base, change(base, func(o *Op) { o.After.BusinessUnit = "bu2" }), false},
		{"other purpose", base, change(base, func(o *Op) { o.After.CallPurpose = "SA" }), false},
		{"other flag", base, change(base, func(o *Op) { o.After.AuthCalls = ptr(true) }), false},
		{"flag unset", base, change(base, func(o *Op) { o.After.AuthCalls = nil }), false},
		{"other number", base, change(base, func(o *Op) { o.Number = "+12125550002" }), false},
		{"other action", base, change(base, func(o *Op) { o.Action = Move }), false},
		{"other vendor", ou, func() Op { o := ou; o.Vendor = FirstOrion; return o }(), false},
		{"address as geocoded", ou, func() Op {
			o := ou
			o.After.E911 = &Address{StreetAddress: "1 MAIN ST", Locality: "NEW YORK", Region: "NY", PostalCode: "10001"}
			return o
		}(), true},
		{"other cnam", ou, func() Op { o := ou; o.After.CNAM = ptr("OTHER"); return o }(), false},
		{"cnam unset", ou, func() Op { o := ou; o.After.CNAM = nil; return o }(), false},
		{"address unset", ou, func() Op { o := ou; o.After.E911 = nil; return o }(), false},
		{"status", Op{Vendor: OneUC, Action: Activate, Number: num, After: State{Status: StatusInService}},
			Op{Vendor: OneUC, Action: Activate, Number: num}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.SameIntent(tt.b); got != tt.want {
				t.Errorf("SameIntent = %v, want %v", got, tt.want)
			}
			if got := tt.b.SameIntent(tt.a); got != tt.want {
				t.Errorf("SameIntent is not symmetric")
			}
		})
	}
}

// TestVocabulary: the OneUC states activation works from (vendors.md).
func TestVocabulary(t *testing.T) {
	for _, s := range []string{"", StatusDiscovery, StatusAvailable, StatusReserved, StatusPortIn, StatusAging} {
		if !Activatable(s) {
			t.Errorf("Activatable(%q) = false", s)
		}
	}
	for _, s := range []string{StatusInService, "released", "deleted", "disconnected", "IN_SERVICE"} {
		if Activatable(s) {
			t.Errorf("Activatable(%q) = true", s)
		}
	}
	if !InService(State{Status: "in_service"}) || InService(State{Status: "reserved"}) || InService(State{}) {
		t.Error("InService")
	}
	if got := CSVColumns(); len(got) != 13 || got[0] != ColPhoneNumber || got[len(got)-1] != ColAuthenticatedCalls {
		t.Errorf("CSVColumns = %q", got)
	}
}

// TestHeldChange: what a done operation adds to or takes from its
// vendor's count of numbers (the history a collapsed listing is judged by).
func TestHeldChange(t *testing.T) {
	tests := []struct {
		name string
		op   Op
		want int
	}{
		{"activate a number found by search", Op{Vendor: OneUC, Action: Activate}, 1},
		{"activate a reserved number", Op{Vendor: OneUC, Action: Activate, Before: State{Status: StatusReserved}}, 0},
		{"oneuc update", Op{Vendor: OneUC, Action: Update, After: State{CNAM: ptr("A")}}, 0},
		{"release", Op{Vendor: OneUC, Action: Release, Before: State{Status: StatusInService}}, -1},
		{"assign", Op{Vendor: FirstOrion, Action: Assign}, 1},
		{"move", Op{Vendor: FirstOrion, Action: Move}, 0},
		{"first orion update", Op{Vendor: FirstOrion, Action: Update}, 0},
		{"delete", Op{Vendor: FirstOrion, Action: Delete, Before: State{ID: "x"}}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.op.HeldChange(); got != tt.want {
				t.Errorf("HeldChange = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestColumns: the CSV cells a failed operation is shown at, most
// specific first.
func TestColumns(t *testing.T) {
	place := State{ID: "x", BusinessUnit: "bu1", Program: "p1", Channel: ChannelCallerName}
	tests := []struct {
		name string
		op   Op
		want []string
	}{
		{"activate", Op{Vendor: OneUC, Action: Activate, After: State{Status: StatusInService}}, nil},
		{"release", Op{Vendor: OneUC, Action: Release, Before: State{Status: StatusInService}}, nil},
		{"oneuc cnam", Op{Vendor: OneUC, Action: Update, After: State{CNAM: ptr("")}}, []string{ColCNAM}},
		{"oneuc e911", Op{Vendor: OneUC, Action: Update, After: State{E911: &Address{}}}, []string{ColE911StreetAddress}},
		{"oneuc both", Op{Vendor: OneUC, Action: Update, After: State{CNAM: ptr("A"), E911: &Address{}}}, []string{ColCNAM, ColE911StreetAddress}},
		{"delete", Op{Vendor: FirstOrion, Action: Delete, Before: place}, []string{ColBrandBusinessUnit}},
		{"assign to a program", Op{Vendor: FirstOrion, Action: Assign,
			After: State{BusinessUnit: "bu1", Program: "p1", Channel: ChannelCallerName, CallPurpose: "CS", AuthCalls: ptr(false)}},
			[]string{ColBrandProgram, ColBrandBusinessUnit, ColBrandChannel, ColCallPurposeCode, ColAuthenticatedCalls}},
		{"assign at a unit", Op{Vendor: FirstOrion, Action: Assign, After: State{BusinessUnit: "bu1", CallPurpose: "CS"}},
			[]string{ColBrandBusinessUnit, ColCallPurposeCode}},
		{"move to another program", Op{Vendor: FirstOrion, Action: Move, Before: place,
			After: State{BusinessUnit: "bu1", Program: "p2", Channel: ChannelCallerName}}, []string{ColBrandProgram}},
		{"move to another unit's level", Op{Vendor: FirstOrion, Action: Move, Before: State{ID: "x", BusinessUnit: "bu1"},
			After: State{BusinessUnit: "bu2"}}, []string{ColBrandBusinessUnit}},
		{"move to another channel", Op{Vendor: FirstOrion, Action: Move, Before: place,
			After: State{BusinessUnit: "bu1", Program: "p1", Channel: ChannelCallerImage}}, []string{ColBrandChannel}},
		{"fo update purpose", Op{Vendor: FirstOrion, Action: Update, Before: State{ID: "x", CallPurpose: "SA"},
			After: State{CallPurpose: "CS"}}, []string{ColCallPurposeCode}},
		{"fo update flag", Op{Vendor: FirstOrion, Action: Update, Before: State{ID: "x", AuthCalls: ptr(true)},
			After: State{AuthCalls: ptr(false)}}, []string{ColAuthenticatedCalls}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.op.Columns(); strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("Columns = %q, want %q", got, tt.want)
			}
		})
	}
}
