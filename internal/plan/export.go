package plan

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// ExportTable is the live inventories written as a desired-state CSV:
// `numsync export`. Planning an unedited export shows no changes.
type ExportTable struct {
	// Header is phone_number, then every column of the vendors exported.
	Header []string
	// Rows are in number order.
	Rows [][]string
	// Warnings name the numbers left out because a row could not say what
	// the vendors hold without the plan changing it.
	Warnings []string
	// Hierarchy is First Orion's business units and programs when First
	// Orion is exported and lists them: a workbook export offers them in
	// dropdowns.
	Hierarchy []BusinessUnit
}

// Export builds the desired-state CSV of the live inventories: the OneUC
// columns when inv.OneUC is set (its in_service numbers, with CNAM and
// E911: gather them with Sources.Desired nil so every one is read), the
// First Orion columns when inv.FirstOrion is set, with business units and
// programs by name (by id where a name would not resolve back to the same
// one).
//
// Numbers a CSV row cannot describe are left out, with a warning, so that
// they stay unmanaged instead of being changed by the next plan: OneUC
// numbers not in service (a row would activate them), OneUC numbers whose
// details were not read (a row would clear their CNAM), and First Orion
// numbers at the business level outside any business unit (a row with
// blank brand cells would delete them). With both vendors, a First Orion
// number that is not in service at OneUC is left out as well.
func Export(inv *Inventories) (*ExportTable, error) {
	if inv == nil || (inv.OneUC == nil && inv.FirstOrion == nil) {
		return nil, fmt.Errorf("export: no vendor configured")
	}
	t := &ExportTable{Header: []string{ColPhoneNumber}}
	if inv.OneUC != nil {
		t.Header = append(t.Header, oneUCColumns[1:]...)
	}
	if inv.FirstOrion != nil {
		t.Header = append(t.Header, firstOrionColumns...)
		t.Hierarchy = inv.Hierarchy
	}

	var numbers []string
	var notInService, undetailed, businessLevel, foNotInService int
	if ou := inv.OneUC; ou != nil {
		for n, rec := range ou.Records.All() {
			switch {
			case rec.Status != StatusInService:
				notInService++
			case !rec.Detailed:
				undetailed++
			default:
				numbers = append(numbers, n)
			}
		}
	}
	if fo := inv.FirstOrion; fo != nil {
		for n, rec := range fo.Records.All() {
			if inv.OneUC != nil {
				if ourec, ok := inv.OneUC.Records.Get(n); !ok || ourec.Status != StatusInService {
					foNotInService++
				}
				continue
			}
			if rec.BusinessUnit == "" {
				businessLevel++
				continue
			}
			numbers = append(numbers, n)
		}
	}
	slices.Sort(numbers)

	res := newResolver(inv.Hierarchy, Columns{BusinessUnit: true, Program: true})
	unknownIDs := map[string]bool{}
	for _, n := range numbers {
		row := []string{n}
		if ou := inv.OneUC; ou != nil {
			rec, _ := ou.Records.Get(n)
			cnam := ""
			if rec.CNAM != nil {
				cnam = *rec.CNAM
			}
			a := rec.E911
			if a == nil {
				a = &Address{}
			}
			row = append(row, cnam, a.StreetAddress, a.ExtendedAddress, a.Locality, a.Region, a.PostalCode, a.CallerName)
		}
		if fo := inv.FirstOrion; fo != nil {
			rec, held := fo.Records.Get(n)
			if held && rec.BusinessUnit == "" {
				// Reached only with OneUC too: keep the OneUC row out as well
				// rather than write blank brand cells that would delete it.
				businessLevel++
				continue
			}
			if !held {
				row = append(row, "", "", "", "", "")
			} else {
				bu, prog := res.exportNames(rec.BusinessUnit, rec.Program, unknownIDs)
				ch := ""
				if rec.Program != "" {
					ch = rec.Channel
				}
				auth := rec.AuthCalls != nil && *rec.AuthCalls
				row = append(row, bu, prog, ch, rec.CallPurpose, strconv.FormatBool(auth))
			}
		}
		t.Rows = append(t.Rows, row)
	}

	warn := func(n int, what string) {
		if n > 0 {
			t.Warnings = append(t.Warnings, fmt.Sprintf("%d %s left out: they stay unmanaged, and a plan with pruning would remove them", n, what))
		}
	}
	warn(notInService, "OneUC numbers not in service")
	warn(undetailed, "OneUC numbers whose CNAM and E911 were not read")
	warn(foNotInService, "First Orion numbers not in service at OneUC")
	warn(businessLevel, "First Orion numbers outside any business unit")
	if len(unknownIDs) > 0 {
		ids := make([]string, 0, len(unknownIDs))
		for id := range unknownIDs {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		t.Warnings = append(t.Warnings, fmt.Sprintf("business units or programs not in the First Orion hierarchy, written as ids: %v", ids))
	}
	return t, nil
}

// exportNames returns the names to write for a business unit and program
// id: the name when resolving it gives back the same id, else the id.
func (r *resolver) exportNames(buID, progID string, unknown map[string]bool) (string, string) {
	if !r.known {
		return buID, progID
	}
	bu, ok := r.byID[buID]
	if !ok {
		unknown[buID] = true
		return buID, progID
	}
	buName := bu.ID
	if got, _ := r.businessUnit(bu.Name); got == bu && bu.Name != "" {
		buName = bu.Name
	}
	if progID == "" {
		return buName, ""
	}
	for i := range bu.Programs {
		p := &bu.Programs[i]
		if p.ID != progID {
			continue
		}
		if got, _ := r.program(bu, p.Name); got == p && p.Name != "" {
			return buName, p.Name
		}
		return buName, p.ID
	}
	unknown[progID] = true
	return buName, progID
}

// WriteCSV writes the table as a desired-state CSV.
func (t *ExportTable) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Header); err != nil {
		return fmt.Errorf("export: write csv: %w", err)
	}
	if err := cw.WriteAll(t.Rows); err != nil {
		return fmt.Errorf("export: write csv: %w", err)
	}
	return nil
}
