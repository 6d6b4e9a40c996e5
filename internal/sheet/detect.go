// Package sheet is the file-format layer of the desired-state table: it
// tells a delimited text file from an .xlsx workbook by content, decodes
// text the way spreadsheet programs write it (UTF-8 or UTF-16 with a
// byte-order mark; comma, semicolon or tab separated), streams a
// workbook's rows with each cell read by its type, and writes tables as
// workbooks. It knows nothing of what the columns mean: internal/desired
// validates the records it yields.
package sheet

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind is the format of a desired-state file.
type Kind int

// The kinds. The zero value is invalid.
const (
	_ Kind = iota
	// KindText is delimited text (CSV, semicolon- or tab-separated).
	KindText
	// KindWorkbook is an Office Open XML spreadsheet (.xlsx).
	KindWorkbook
)

// String names the kind as the user knows it.
func (k Kind) String() string {
	switch k {
	case KindText:
		return "delimited text"
	case KindWorkbook:
		return "xlsx workbook"
	}
	return "unknown"
}

// ErrNotTable is wrapped by the error Detect returns for a file that is
// neither text nor a workbook.
var ErrNotTable = errors.New("neither a text file nor an .xlsx workbook")

// sniffLen is how much of a file Detect looks at.
const sniffLen = 8 << 10

// Detect tells the kind of a file from its bytes. A zip archive is a
// workbook when it holds a workbook part; other zip archives (an
// OpenDocument spreadsheet, a Word file), old binary Excel files and any
// other binary data are refused with one line saying what the file seems
// to be.
func Detect(data []byte) (Kind, error) {
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")) || bytes.HasPrefix(data, []byte("PK\x05\x06")):
		if isWorkbookZip(data) {
			return KindWorkbook, nil
		}
		if zipMimetype(data) == "application/vnd.oasis.opendocument.spreadsheet" {
			return 0, fmt.Errorf("an OpenDocument spreadsheet (.ods), %w: save it as .xlsx or CSV", ErrNotTable)
		}
		return 0, fmt.Errorf("a zip archive without a workbook in it, %w", ErrNotTable)
	case bytes.HasPrefix(data, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}):
		return 0, fmt.Errorf("an old binary Excel file (.xls) or other OLE document, %w: save it as .xlsx or CSV", ErrNotTable)
	}
	if _, err := DecodeText(data[:min(len(data), sniffLen)]); err != nil {
		return 0, err
	}
	return KindText, nil
}

// DecodeText returns the UTF-8 text of a delimited file: a UTF-8
// byte-order mark is dropped, UTF-16 (little or big endian, told by its
// byte-order mark, as Excel's "Unicode text" writes it) is decoded. Data
// with NUL bytes or mostly control characters is refused (ErrNotTable):
// quoting it back as a header would help no one.
func DecodeText(data []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:]
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return decodeUTF16(data[2:], false), nil
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return decodeUTF16(data[2:], true), nil
	}
	if binary(data[:min(len(data), sniffLen)]) {
		return nil, fmt.Errorf("binary data, %w", ErrNotTable)
	}
	return data, nil
}

// binary reports whether head looks like binary data: a NUL byte (no text
// encoding but UTF-16 has them, and UTF-16 comes with its byte-order
// mark), or more than one byte in 20 a control character other than tab,
// line feed, carriage return and form feed.
func binary(head []byte) bool {
	if bytes.IndexByte(head, 0) >= 0 {
		return true
	}
	ctrl := 0
	for _, b := range head {
		if b < 0x20 && b != '\t' && b != '\n' && b != '\r' && b != '\f' || b == 0x7F {
			ctrl++
		}
	}
	return ctrl*20 > len(head)
}

func decodeUTF16(b []byte, bigEndian bool) []byte {
	u := make([]uint16, len(b)/2)
	for i := range u {
		if bigEndian {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
		}
	}
	runes := utf16.Decode(u)
	out := make([]byte, 0, len(runes))
	for _, r := range runes {
		out = utf8.AppendRune(out, r)
	}
	return out
}

// Delimiters are the separators SniffDelimiter chooses from.
const Delimiters = ",;\t"

// SniffDelimiter tells the separator of delimited text from its header
// line: whichever of comma, semicolon and tab occurs most outside quotes
// (a comma when none does, as for a one-column file).
func SniffDelimiter(text []byte) rune {
	var counts [3]int
	inQuote := false
	for _, b := range text {
		if b == '"' {
			inQuote = !inQuote
			continue
		}
		if inQuote {
			continue
		}
		if b == '\n' {
			break
		}
		switch b {
		case ',':
			counts[0]++
		case ';':
			counts[1]++
		case '\t':
			counts[2]++
		}
	}
	best := 0
	for i := 1; i < 3; i++ {
		if counts[i] > counts[best] {
			best = i
		}
	}
	return rune(Delimiters[best])
}

// ParseDelimiter reads a --delimiter value: one of , ; and tab, the tab
// also as `\t` or `tab`.
func ParseDelimiter(s string) (rune, error) {
	switch s {
	case ",", "comma":
		return ',', nil
	case ";", "semicolon":
		return ';', nil
	case "\t", `\t`, "tab":
		return '\t', nil
	}
	return 0, fmt.Errorf("delimiter %q: use , ; or tab", s)
}
