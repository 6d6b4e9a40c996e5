package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/numsync/numsync/internal/desired"
	"github.com/numsync/numsync/internal/sheet"
)

// inputKind is what a file given to apply holds, told by its content.
type inputKind int

const (
	inputDesired inputKind = iota + 1 // a desired-state CSV (or spreadsheet)
	inputPlan                         // a saved plan, JSON from plan --out
)

// sniffInput tells a saved plan from a desired-state file by its first
// bytes (SPEC section 3): JSON is a plan, a spreadsheet (a zip) or a CSV
// whose first line names a phone_number column is a desired state.
// Anything else is an error naming the file and what was expected, so
// 'numsync apply numsync.yaml' does not answer with a JSON parser's
// complaint about its first character.
func sniffInput(path string) (inputKind, error) {
	fh, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	head, err := bufio.NewReader(fh).Peek(64 << 10)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if bytes.HasPrefix(head, []byte("PK\x03\x04")) || strings.EqualFold(filepath.Ext(path), ".xlsx") {
		return inputDesired, nil
	}
	// Text as spreadsheet programs write it (UTF-16 included) is decoded
	// first; binary data is refused here, in one line.
	text, err := sheet.DecodeText(head)
	if err != nil {
		return 0, fmt.Errorf("%s is %w", path, err)
	}
	body := bytes.TrimLeft(text, " \t\r\n")
	if len(body) > 0 && body[0] == '{' {
		return inputPlan, nil
	}
	for _, delim := range []rune{',', ';', '\t'} {
		r := csv.NewReader(bytes.NewReader(body))
		r.FieldsPerRecord, r.LazyQuotes, r.Comma = -1, true, delim
		header, _ := r.Read()
		for _, h := range header {
			if c, ok := desired.CanonicalColumn(h); ok && c == "phone_number" {
				return inputDesired, nil
			}
		}
	}
	return 0, fmt.Errorf("%s is neither a saved plan (the JSON 'numsync plan --out' writes) nor a desired-state CSV (its first line names no phone_number column; 'numsync validate %s' lists the header's problems)", path, path)
}

// kindWords names an input kind for the line apply prints about it.
func kindWords(k inputKind) string {
	if k == inputPlan {
		return "a saved plan"
	}
	return "a desired-state file"
}

// applyInput decides what apply reads: --desired FILE is a desired state
// (a saved plan given that way is an error saying how to give it), and a
// FILE argument is whichever its content shows, said on standard error.
// It returns the saved plan's path, or "" with f.desired set.
func (e *env) applyInput(f *applyFlags, pos []string) (planPath string, err error) {
	if f.desired != "" {
		if k, err := sniffInput(f.desired); err == nil && k == inputPlan {
			return "", &usageError{fmt.Errorf("%s is a saved plan: give it as the argument, 'numsync apply %s', without --desired", f.desired, f.desired)}
		}
		return "", nil
	}
	k, err := sniffInput(pos[0])
	if err != nil {
		return "", err
	}
	e.notice("reading %s as %s", pos[0], kindWords(k))
	if k == inputPlan {
		return pos[0], nil
	}
	f.desired = pos[0]
	return "", nil
}

// notSavedPlan refuses a saved plan given to a command that reads a
// desired-state file (validate, plan): read as a CSV its first character
// would be reported as an unknown column "{", which tells the user nothing.
// A file that cannot be told apart is left to the reader, whose errors
// name the row and column. Exit 1: a bad argument (SPEC section 3).
func notSavedPlan(command, path string) error {
	if k, err := sniffInput(path); err != nil || k != inputPlan {
		return nil
	}
	what := "validate reads desired-state files only"
	if command == "plan" {
		what = "plan makes a plan from a desired-state file"
	}
	return fmt.Errorf("%s is a saved plan (the JSON 'numsync plan --out' writes), not a desired-state file: %s; apply the plan with 'numsync apply %s' (it checks the plan against the vendors first), or see the runs already made with 'numsync runs' and 'numsync show RUN'", path, what, path)
}
