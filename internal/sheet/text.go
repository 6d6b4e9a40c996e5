package sheet

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// IsZip reports whether data starts like a zip archive (an .xlsx
// workbook is one).
func IsZip(head []byte) bool {
	return bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06"))
}

// NewTextReader streams delimited text as UTF-8, like DecodeText on the
// whole: a UTF-8 byte-order mark is dropped, UTF-16 with its byte-order
// mark is decoded as it is read, and data that looks binary (judged on its
// start) is refused with ErrNotTable. The result is buffered; peeking it
// shows the header row.
func NewTextReader(r io.Reader) (*bufio.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(sniffLen)
	utf16 := func(e unicode.Endianness) *bufio.Reader {
		_, _ = br.Discard(2)
		dec := unicode.UTF16(e, unicode.IgnoreBOM).NewDecoder()
		return bufio.NewReaderSize(transform.NewReader(br, dec), 64<<10)
	}
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return utf16(unicode.LittleEndian), nil
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return utf16(unicode.BigEndian), nil
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		_, _ = br.Discard(3)
		head = head[3:]
	}
	if binary(head) {
		return nil, fmt.Errorf("binary data, %w", ErrNotTable)
	}
	return br, nil
}

// HeaderLine peeks at the first line of text (up to 64 KiB) without
// consuming it, for SniffDelimiter.
func HeaderLine(br *bufio.Reader) []byte {
	for n := 4 << 10; ; n *= 2 {
		b, err := br.Peek(n)
		if bytes.IndexByte(b, '\n') >= 0 || err != nil || n >= 64<<10 {
			return b
		}
	}
}
