package plan

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The output formats of `numsync plan --format`.
const (
	FormatText     = "text"
	FormatJSON     = "json"
	FormatCSV      = "csv"
	FormatMarkdown = "markdown"
)

// Formats lists the formats Render accepts, for flag help.
var Formats = []string{FormatText, FormatJSON, FormatCSV, FormatMarkdown}

// Render writes the plan in one of Formats: text (a reviewed diff), json
// (the saved plan), csv (one row per operation, for a spreadsheet) or
// markdown (for a change request). "md" is taken for markdown.
func (p *Plan) Render(w io.Writer, format string) error {
	switch strings.ToLower(format) {
	case FormatText, "":
		return p.renderText(w)
	case FormatJSON:
		return p.WriteJSON(w)
	case FormatCSV:
		return p.renderCSV(w)
	case FormatMarkdown, "md":
		return p.renderMarkdown(w)
	}
	return fmt.Errorf("plan: unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

// vendorsInOrder lists the plan's vendors in plan order.
func (p *Plan) vendorsInOrder() []VendorName {
	var out []VendorName
	for _, v := range []VendorName{OneUC, FirstOrion} {
		if _, ok := p.Vendors[v]; ok {
			out = append(out, v)
		}
	}
	return out
}

type groupKey struct {
	v VendorName
	a Action
}

// groups sorts the operations by vendor and action, in plan order within
// each group, whatever order a saved plan holds them in.
func (p *Plan) groups() map[groupKey][]Op {
	out := map[groupKey][]Op{}
	for _, op := range p.Ops {
		k := groupKey{op.Vendor, op.Action}
		out[k] = append(out[k], op)
	}
	for _, ops := range out {
		slices.SortStableFunc(ops, compareOps)
	}
	return out
}

// sign is the diff marker of an action: + creates, ~ changes, - deletes.
func sign(a Action) string {
	switch a {
	case Activate, Assign:
		return "+"
	case Release, Delete:
		return "-"
	}
	return "~"
}

// where says where an operation came from: its CSV line, or that the
// number is unmanaged (prune).
func where(op Op) string {
	if op.Line == 0 {
		return "unmanaged"
	}
	return "line " + strconv.Itoa(op.Line)
}

// VendorLine is the one-line summary of a vendor: counts per action, the
// unmanaged count, the listing and the safety verdict.
func (p *Plan) VendorLine(v VendorName) string {
	s := p.Vendors[v]
	if s == nil {
		return string(v) + ": not configured"
	}
	var parts []string
	for _, a := range vendorActions[v] {
		parts = append(parts, fmt.Sprintf("%d %s", s.Counts[a], a))
	}
	line := fmt.Sprintf("%s: %s; %d held, %d unmanaged", v, strings.Join(parts, ", "), s.Held, s.Unmanaged)
	if s.ChangedOutside > 0 {
		line += fmt.Sprintf(", %d changed outside numsync", s.ChangedOutside)
	}
	if !s.Managed {
		line += " (not managed by this CSV)"
	}
	if !s.Complete {
		line += "; listing INCOMPLETE"
	}
	return line + "; safety " + s.Safety.String()
}

// renderText writes the plan as a reviewed diff.
func (p *Plan) renderText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "Plan for %s (sha256 %s)\n", p.CSV.Path, short(p.CSV.SHA256))
	if len(p.Ops) == 0 {
		bw.WriteString("\nNo changes.\n")
	}
	groups := p.groups()
	for _, v := range p.vendorsInOrder() {
		first := true
		for _, a := range vendorActions[v] {
			ops := groups[groupKey{v, a}]
			if len(ops) == 0 {
				continue
			}
			if first {
				fmt.Fprintf(bw, "\n%s\n", v)
				first = false
			}
			fmt.Fprintf(bw, "  %s (%d)\n", a, len(ops))
			for _, op := range ops {
				fmt.Fprintf(bw, "    %s %s %s %s (%s)", sign(op.Action), op.Vendor, op.Action, op.Number, where(op))
				if d := p.describe(op); d != "" {
					bw.WriteString(": ")
					bw.WriteString(d)
				}
				if op.ChangedOutside != nil {
					bw.WriteString("  [")
					bw.WriteString(op.ChangedOutside.String())
					bw.WriteByte(']')
				}
				bw.WriteByte('\n')
			}
		}
	}
	if len(p.Warnings) > 0 {
		bw.WriteString("\nWarnings:\n")
		for _, wn := range p.Warnings {
			fmt.Fprintf(bw, "  ! %s\n", wn)
		}
	}
	bw.WriteString("\nSummary:\n")
	for _, v := range p.vendorsInOrder() {
		fmt.Fprintf(bw, "  %s\n", p.VendorLine(v))
	}
	if p.Refused() {
		bw.WriteString("Apply would refuse this plan (exit 4) without --force.\n")
	}
	return flush(bw)
}

// describe is the human account of what an operation changes.
func (p *Plan) describe(op Op) string {
	switch {
	case op.Vendor == OneUC && op.Action == Activate:
		if op.Before.Status == "" {
			return "not on the account → " + StatusInService
		}
		return op.Before.Status + " → " + StatusInService
	case op.Vendor == OneUC && op.Action == Update:
		var parts []string
		if op.After.CNAM != nil {
			parts = append(parts, fmt.Sprintf("cnam: %s → %s", cnamText(op.Before.CNAM), cnamText(op.After.CNAM)))
		}
		if op.After.E911 != nil {
			parts = append(parts, fmt.Sprintf("e911: %s → %s", addressText(op.Before.E911), addressText(op.After.E911)))
		}
		return strings.Join(parts, "; ")
	case op.Vendor == OneUC && op.Action == Release:
		return op.Before.Status + " → released"
	case op.Action == Assign:
		return fmt.Sprintf("%s, call purpose %s, authenticated calls %s", p.placeText(op.After), op.After.CallPurpose, boolText(op.After.AuthCalls))
	case op.Action == Move:
		return p.placeText(op.Before) + " → " + p.placeText(op.After)
	case op.Vendor == FirstOrion && op.Action == Update:
		var parts []string
		if op.After.CallPurpose != "" {
			parts = append(parts, fmt.Sprintf("call purpose: %s → %s", orNone(op.Before.CallPurpose), op.After.CallPurpose))
		}
		if op.After.AuthCalls != nil {
			parts = append(parts, fmt.Sprintf("authenticated calls: %s → %s", boolText(op.Before.AuthCalls), boolText(op.After.AuthCalls)))
		}
		return strings.Join(parts, "; ")
	case op.Action == Delete:
		return "was " + p.placeText(op.Before)
	}
	return ""
}

// name is the name of a business unit or program id, or the id.
func (p *Plan) name(id string) string {
	if n, ok := p.Names[id]; ok && n != "" {
		return n
	}
	return id
}

// placeText says where a First Orion number is: "Sales / Retail
// (callerName)", "Sales (business-unit level)" or "business level".
func (p *Plan) placeText(s State) string {
	switch {
	case s.BusinessUnit == "":
		return "business level"
	case s.Program == "":
		return p.name(s.BusinessUnit) + " (business-unit level)"
	}
	return fmt.Sprintf("%s / %s (%s)", p.name(s.BusinessUnit), p.name(s.Program), s.Channel)
}

func cnamText(c *string) string {
	if c == nil || *c == "" {
		return "none"
	}
	return strconv.Quote(*c)
}

func addressText(a *Address) string {
	if a == nil {
		return "none"
	}
	parts := []string{a.StreetAddress}
	if a.ExtendedAddress != "" {
		parts = append(parts, a.ExtendedAddress)
	}
	s := strings.Join(append(parts, a.Locality), ", ") + ", " + a.Region + " " + a.PostalCode
	if a.CallerName != "" {
		s += " (caller name " + strconv.Quote(a.CallerName) + ")"
	}
	return s
}

func boolText(b *bool) string {
	if b == nil {
		return "false"
	}
	return strconv.FormatBool(*b)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func short(digest string) string {
	if len(digest) > 12 {
		return digest[:12]
	}
	return digest
}

// compact writes the fields a State sets as "key=value; …", for the csv and
// markdown formats.
func (p *Plan) compact(s State) string {
	var parts []string
	add := func(k, v string) { parts = append(parts, k+"="+v) }
	if s.Status != "" {
		add("status", s.Status)
	}
	if s.CNAM != nil {
		add("cnam", strconv.Quote(*s.CNAM))
	}
	if s.E911 != nil {
		add("e911", addressText(s.E911))
	}
	if s.ID != "" {
		add("id", s.ID)
	}
	if s.BusinessUnit != "" {
		add("business_unit", p.name(s.BusinessUnit))
	}
	if s.Program != "" {
		add("program", p.name(s.Program))
	}
	if s.Channel != "" {
		add("channel", s.Channel)
	}
	if s.CallPurpose != "" {
		add("call_purpose_code", s.CallPurpose)
	}
	if s.AuthCalls != nil {
		add("authenticated_calls", strconv.FormatBool(*s.AuthCalls))
	}
	return strings.Join(parts, "; ")
}

// CSVHeader is the header of the csv format.
var CSVHeader = []string{"id", "vendor", "action", "number", "line", "before", "after", "depends_on", "changed_outside"}

// renderCSV writes one row per operation.
func (p *Plan) renderCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("plan: write csv: %w", err)
	}
	for _, op := range p.Ops {
		line := ""
		if op.Line > 0 {
			line = strconv.Itoa(op.Line)
		}
		outside := ""
		if op.ChangedOutside != nil {
			outside = op.ChangedOutside.String()
		}
		rec := []string{op.ID, string(op.Vendor), string(op.Action), op.Number, line,
			p.compact(op.Before), p.compact(op.After), strings.Join(op.DependsOn, " "), outside}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("plan: write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("plan: write csv: %w", err)
	}
	return nil
}

// renderMarkdown writes the plan for a change request: a summary table,
// then one table of operations per vendor.
func (p *Plan) renderMarkdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("# numsync plan\n\n")
	fmt.Fprintf(bw, "- Desired state: `%s` (SHA-256 `%s`)\n", mdCode(p.CSV.Path), short(p.CSV.SHA256))
	fmt.Fprintf(bw, "- Created: %s\n", p.CreatedAt.UTC().Format(time.RFC3339))
	fmt.Fprintf(bw, "- Operations: %d\n\n", len(p.Ops))
	bw.WriteString("| vendor | held | unmanaged | listing | changes | safety |\n")
	bw.WriteString("|---|---:|---:|---|---|---|\n")
	for _, v := range p.vendorsInOrder() {
		s := p.Vendors[v]
		var parts []string
		for _, a := range vendorActions[v] {
			parts = append(parts, fmt.Sprintf("%d %s", s.Counts[a], a))
		}
		listing := "complete"
		if !s.Complete {
			listing = "**incomplete**"
		}
		safety := s.Safety.String()
		if !s.Safety.OK {
			safety = "**" + safety + "**"
		}
		fmt.Fprintf(bw, "| %s | %d | %d | %s | %s | %s |\n", v, s.Held, s.Unmanaged, listing, strings.Join(parts, ", "), mdCell(safety))
	}
	if len(p.Ops) == 0 {
		bw.WriteString("\nNo changes.\n")
	}
	groups := p.groups()
	for _, v := range p.vendorsInOrder() {
		var ops []Op
		for _, a := range vendorActions[v] {
			ops = append(ops, groups[groupKey{v, a}]...)
		}
		if len(ops) == 0 {
			continue
		}
		fmt.Fprintf(bw, "\n## %s\n\n", v)
		bw.WriteString("| | action | number | line | before | after | depends on |\n")
		bw.WriteString("|---|---|---|---:|---|---|---|\n")
		for _, op := range ops {
			line := "unmanaged"
			if op.Line > 0 {
				line = strconv.Itoa(op.Line)
			}
			deps := slices.Clone(op.DependsOn)
			for j := range deps {
				deps[j] = "`" + deps[j] + "`"
			}
			after := p.compact(op.After)
			if op.ChangedOutside != nil {
				after += " **(" + op.ChangedOutside.String() + ")**"
			}
			fmt.Fprintf(bw, "| %s | %s | `%s` | %s | %s | %s | %s |\n", mdSign(op.Action), op.Action, op.Number, line,
				mdCell(p.compact(op.Before)), mdCell(after), strings.Join(deps, " "))
		}
	}
	if len(p.Warnings) > 0 {
		bw.WriteString("\n## Warnings\n\n")
		for _, wn := range p.Warnings {
			fmt.Fprintf(bw, "- %s\n", mdCell(wn))
		}
	}
	if p.Refused() {
		bw.WriteString("\n**Apply would refuse this plan (exit 4) without `--force`.**\n")
	}
	return flush(bw)
}

// mdSign spells the diff marker so markdown does not read "-" or "+" at the
// start of a cell as anything else.
func mdSign(a Action) string {
	return "`" + sign(a) + "`"
}

// mdCell escapes what would break a table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// mdCode keeps a backtick from closing an inline code span early.
func mdCode(s string) string { return strings.ReplaceAll(s, "`", "'") }

func flush(bw *bufio.Writer) error {
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("plan: write: %w", err)
	}
	return nil
}
