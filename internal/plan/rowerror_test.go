package plan

import (
	"errors"
	"testing"
)

func TestRowErrorFormat(t *testing.T) {
	tests := []struct {
		name string
		err  *RowError
		want string
	}{
		{"full", &RowError{Path: "a.csv", Line: 7, Column: ColCNAM, Reason: "too long"}, "a.csv:7: cnam: too long"},
		{"no column", &RowError{Path: "a.csv", Line: 3, Reason: "ragged"}, "a.csv:3: ragged"},
		{"no path", &RowError{Line: 3, Column: ColCNAM, Reason: "x"}, "3: cnam: x"},
		{"workbook cell", &RowError{Path: "a.xlsx", Line: 12, Column: ColBrandChannel, Sheet: "Numbers", Cell: "Numbers!K12", Reason: "x"},
			"a.xlsx: Numbers!K12 (row 12): brand_channel: x"},
		{"workbook row", &RowError{Path: "a.xlsx", Line: 12, Sheet: "Numbers", Reason: "x"}, "a.xlsx: Numbers row 12: x"},
		{"workbook cell, no path", &RowError{Line: 2, Cell: "S!A2", Reason: "x"}, "S!A2 (row 2): x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	cause := errors.New("bare quote")
	es := RowErrors{tests[0].err, {Line: 9, Reason: "quote", Err: cause}}
	if es.Error() != "a.csv:7: cnam: too long\n9: quote" {
		t.Errorf("RowErrors.Error() = %q", es.Error())
	}
	var re *RowError
	if !errors.As(error(es), &re) || re.Line != 7 {
		t.Errorf("errors.As through RowErrors failed")
	}
	if !errors.Is(error(es), cause) {
		t.Errorf("errors.Is does not reach a row's cause")
	}
}
