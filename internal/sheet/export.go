package sheet

import (
	"io"
	"slices"
	"strconv"

	"github.com/numsync/numsync/internal/plan"
)

// Sheet names of an exported workbook.
const (
	ExportSheet = "Numbers"
	ListsSheet  = "Lists"
)

// WriteExport writes `numsync export`'s table as a workbook: the table on
// a sheet named Numbers, every cell text, with dropdowns for
// brand_channel, authenticated_calls and (when First Orion is exported)
// the business units and programs First Orion has, which a second sheet,
// Lists, sets out with their ids and channels. Read back unedited, it is
// the same table as the CSV export: the lists sheet has no phone_number
// column, so it is not taken for the table.
func WriteExport(w io.Writer, t *plan.ExportTable) error {
	main := &Table{Sheet: ExportSheet, Header: t.Header, Rows: t.Rows}
	col := func(name string) int { return slices.Index(t.Header, name) }
	if c := col("brand_channel"); c >= 0 {
		main.Dropdowns = append(main.Dropdowns, Dropdown{Col: c, Strict: true,
			Values:  []string{plan.ChannelCallerName, plan.ChannelCallerImage, plan.ChannelBlocking},
			Message: "A delivery channel: callerName, callerImage or blocking (blank: callerName)."})
	}
	if c := col("authenticated_calls"); c >= 0 {
		main.Dropdowns = append(main.Dropdowns, Dropdown{Col: c, Strict: true, Values: []string{"true", "false"},
			Message: "true or false (blank: false)."})
	}
	tables := []*Table{main}
	if buCol := col("brand_business_unit"); buCol >= 0 && len(t.Hierarchy) > 0 {
		lists, units, programs := listsTable(t.Hierarchy)
		tables = append(tables, lists)
		main.Dropdowns = append(main.Dropdowns, Dropdown{Col: buCol,
			Source:  RangeRef(ListsSheet, 7, 2, 1+max(units, 1)),
			Message: "Not a business unit First Orion lists by name (see the Lists sheet); an id is accepted too."})
		if pc := col("brand_program"); pc >= 0 {
			main.Dropdowns = append(main.Dropdowns, Dropdown{Col: pc,
				Source:  RangeRef(ListsSheet, 8, 2, 1+max(programs, 1)),
				Message: "Not a program First Orion lists by name (see the Lists sheet for each unit's); an id is accepted too."})
		}
	}
	return WriteWorkbook(w, tables...)
}

// listsTable sets out the hierarchy: one row per program (a unit without
// programs gets one row of its own), then, in columns H and I, the unit
// and program names alone, each once, for the dropdowns.
func listsTable(h []plan.BusinessUnit) (*Table, int, int) {
	t := &Table{Sheet: ListsSheet, Header: []string{"business_unit", "business_unit_id", "program", "program_id", "channel", "active", "", "business_units", "programs"}}
	var units, programs []string
	name := func(n, id string) string {
		if n != "" {
			return n
		}
		return id
	}
	for _, bu := range h {
		u := name(bu.Name, bu.ID)
		if !slices.Contains(units, u) {
			units = append(units, u)
		}
		if len(bu.Programs) == 0 {
			t.Rows = append(t.Rows, []string{u, bu.ID, "", "", "", ""})
		}
		for _, p := range bu.Programs {
			pn := name(p.Name, p.ID)
			t.Rows = append(t.Rows, []string{u, bu.ID, pn, p.ID, p.Channel, strconv.FormatBool(p.Active)})
			if !slices.Contains(programs, pn) {
				programs = append(programs, pn)
			}
		}
	}
	for i := 0; i < max(len(units), len(programs)); i++ {
		for len(t.Rows) <= i {
			t.Rows = append(t.Rows, make([]string, 6))
		}
		r := append(t.Rows[i][:6:6], "", "", "")
		if i < len(units) {
			r[7] = units[i]
		}
		if i < len(programs) {
			r[8] = programs[i]
		}
		t.Rows[i] = r
	}
	return t, len(units), len(programs)
}
