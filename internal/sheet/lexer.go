package sheet

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// lexer is a small XML tokenizer for the parts of a workbook that are
// streamed (worksheets, shared strings): it yields what encoding/xml's
// RawToken yields for them (start and end elements, character data; a
// self-closing element as a start and an end), skipping comments,
// processing instructions and directives, at several times the speed:
// encoding/xml reads byte by byte and allocates every token, and on a
// 100,000-row sheet it was nine tenths of the read. The current token is
// in the lexer's fields, not boxed in an interface.
//
// It is not a validating parser. It checks what the reader relies on
// (tags closed, attributes quoted, entities known) and otherwise takes
// well-formed input on trust: a workbook is written by a program.
// TestLexerMatchesEncodingXML and FuzzLexer hold it to encoding/xml's
// tokens on what encoding/xml accepts.
type lexer struct {
	r *bufio.Reader
	// Name is the element of a tokStart or tokEnd, Attr a tokStart's
	// attributes, Text a tokText's character data; valid until the next
	// call.
	Name xml.Name
	Attr []xml.Attr
	Text []byte
	// buf holds the current tag or text, unescaped.
	buf []byte
	// pending is set after a self-closing tag: its end element, named
	// pendingName, is returned next.
	pending     bool
	pendingName xml.Name
	names       map[string]string
}

// tokKind is what Next found.
type tokKind int

const (
	_ tokKind = iota
	tokStart
	tokEnd
	tokText
)

func newLexer(r io.Reader) *lexer {
	return &lexer{r: bufio.NewReaderSize(r, 64<<10), names: map[string]string{}}
}

var errUnclosed = errors.New("xml: unexpected end of input inside a tag")

// Next moves to the next token and says what it is; io.EOF at the end.
func (l *lexer) Next() (tokKind, error) {
	if l.pending {
		l.pending = false
		l.Name = l.pendingName
		return tokEnd, nil
	}
	for {
		b, err := l.r.ReadByte()
		if err != nil {
			return 0, err
		}
		if b != '<' {
			_ = l.r.UnreadByte()
			return l.text()
		}
		c, err := l.r.ReadByte()
		if err != nil {
			return 0, errUnclosed
		}
		switch c {
		case '/':
			raw, err := l.until('>')
			if err != nil {
				return 0, err
			}
			l.Name = l.name(bytes.TrimSpace(raw))
			return tokEnd, nil
		case '?':
			if err := l.skipPast("?>"); err != nil {
				return 0, err
			}
		case '!':
			kind, err := l.bang()
			if err != nil || kind != 0 {
				return kind, err
			}
		default:
			_ = l.r.UnreadByte()
			return l.startTag()
		}
	}
}

// text reads character data up to the next '<' (or the end), unescaped.
func (l *lexer) text() (tokKind, error) {
	l.buf = l.buf[:0]
	for {
		chunk, err := l.r.ReadSlice('<')
		if err == nil {
			l.buf = append(l.buf, chunk[:len(chunk)-1]...)
			_ = l.r.UnreadByte()
			break
		}
		l.buf = append(l.buf, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			break
		}
		return 0, err
	}
	out, err := unescape(l.buf)
	if err != nil {
		return 0, err
	}
	l.Text = out
	return tokText, nil
}

// until reads up to and past delim and returns what came before it.
func (l *lexer) until(delim byte) ([]byte, error) {
	l.buf = l.buf[:0]
	for {
		chunk, err := l.r.ReadSlice(delim)
		if err == nil {
			l.buf = append(l.buf, chunk[:len(chunk)-1]...)
			return l.buf, nil
		}
		l.buf = append(l.buf, chunk...)
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, errUnclosed
		}
	}
}

// skipPast reads past the next occurrence of end.
func (l *lexer) skipPast(end string) error {
	last := end[len(end)-1]
	var tail []byte
	for {
		chunk, err := l.r.ReadSlice(last)
		tail = append(tail, chunk...)
		if err == nil && bytes.HasSuffix(tail, []byte(end)) {
			return nil
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return errUnclosed
		}
		if len(tail) > len(end) {
			tail = append(tail[:0], tail[len(tail)-len(end):]...)
		}
	}
}

// bang handles what follows "<!": a comment or a directive (skipped) or
// a CDATA section (character data, as is).
func (l *lexer) bang() (tokKind, error) {
	head, err := l.r.Peek(2)
	if err == nil && string(head) == "--" {
		_, _ = l.r.Discard(2)
		return 0, l.skipPast("-->")
	}
	if head, err := l.r.Peek(7); err == nil && string(head) == "[CDATA[" {
		_, _ = l.r.Discard(7)
		l.buf = l.buf[:0]
		for {
			chunk, err := l.r.ReadSlice('>')
			l.buf = append(l.buf, chunk...)
			if err == nil && bytes.HasSuffix(l.buf, []byte("]]>")) {
				l.Text = l.buf[:len(l.buf)-3]
				return tokText, nil
			}
			if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
				return 0, errUnclosed
			}
		}
	}
	// A directive (DOCTYPE): a workbook has none; skipped whole, as
	// encoding/xml delimits it (its first byte taken as is, quoted
	// brackets not counted).
	if _, err := l.r.ReadByte(); err != nil {
		return 0, errUnclosed
	}
	var quote byte
	depth := 0
	for {
		b, err := l.r.ReadByte()
		if err != nil {
			return 0, errUnclosed
		}
		switch {
		case quote == 0 && b == '>' && depth == 0:
			return 0, nil
		case b == quote:
			quote = 0
		case quote != 0:
		case b == '\'' || b == '"':
			quote = b
		case b == '>':
			depth--
		case b == '<':
			depth++
		}
	}
}

// startTag reads a start tag after its '<': its name and attributes, up
// to the '>' outside quotes.
func (l *lexer) startTag() (tokKind, error) {
	l.buf = l.buf[:0]
	var quote byte
	for {
		chunk, err := l.r.ReadSlice('>')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return 0, errUnclosed
		}
		for _, b := range chunk {
			if quote == 0 && (b == '"' || b == '\'') {
				quote = b
			} else if b == quote {
				quote = 0
			}
		}
		l.buf = append(l.buf, chunk...)
		if err == nil && quote == 0 {
			break
		}
	}
	raw := l.buf[:len(l.buf)-1]
	self := false
	if n := len(raw); n > 0 && raw[n-1] == '/' {
		self, raw = true, raw[:n-1]
	}
	i := 0
	for i < len(raw) && !isSpace(raw[i]) {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("xml: a tag without a name")
	}
	name := l.name(raw[:i])
	l.Attr = l.Attr[:0]
	rest := raw[i:]
	for {
		rest = bytes.TrimLeft(rest, " \t\r\n")
		if len(rest) == 0 {
			break
		}
		eq := bytes.IndexByte(rest, '=')
		if eq <= 0 {
			return 0, fmt.Errorf("xml: attribute without a value in <%s>", name.Local)
		}
		an := l.name(bytes.TrimRight(rest[:eq], " \t\r\n"))
		rest = bytes.TrimLeft(rest[eq+1:], " \t\r\n")
		if len(rest) == 0 || rest[0] != '"' && rest[0] != '\'' {
			return 0, fmt.Errorf("xml: unquoted attribute %s in <%s>", an.Local, name.Local)
		}
		end := bytes.IndexByte(rest[1:], rest[0])
		if end < 0 {
			return 0, errUnclosed
		}
		v, err := unescape(rest[1 : 1+end])
		if err != nil {
			return 0, err
		}
		var value string
		if an.Local == "t" || an.Local == "s" {
			// Cell types and style numbers repeat on every cell.
			value = l.intern(v)
		} else {
			value = string(v)
		}
		l.Attr = append(l.Attr, xml.Attr{Name: an, Value: value})
		rest = rest[2+end:]
	}
	l.Name = name
	if self {
		l.pending, l.pendingName = true, name
	}
	return tokStart, nil
}

// attr is the value of the current start tag's attribute of that local
// name, "" when it has none.
func (l *lexer) attr(local string) string {
	for _, a := range l.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// name splits prefix:local like RawToken; names are interned (a sheet
// repeats a handful of them a million times).
func (l *lexer) name(b []byte) xml.Name {
	var n xml.Name
	if i := bytes.IndexByte(b, ':'); i > 0 && i < len(b)-1 {
		n.Space, n.Local = l.intern(b[:i]), l.intern(b[i+1:])
	} else {
		n.Local = l.intern(b)
	}
	return n
}

func (l *lexer) intern(b []byte) string {
	switch string(b) {
	// The names of nearly every tag of a sheet, without a map lookup.
	case "c":
		return "c"
	case "v":
		return "v"
	case "row":
		return "row"
	case "t":
		return "t"
	case "r":
		return "r"
	case "s":
		return "s"
	}
	if s, ok := l.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(l.names) < 1024 {
		l.names[s] = s
	}
	return s
}

// unescape replaces the five entities and character references, and
// normalises line ends to \n as XML does. It works in place.
func unescape(b []byte) ([]byte, error) {
	if bytes.IndexByte(b, '&') < 0 && bytes.IndexByte(b, '\r') < 0 {
		return b, nil
	}
	out := b[:0]
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch c {
		case '\r':
			out = append(out, '\n')
			if i+1 < len(b) && b[i+1] == '\n' {
				i++
			}
			continue
		case '&':
		default:
			out = append(out, c)
			continue
		}
		end := bytes.IndexByte(b[i:], ';')
		if end < 0 {
			return nil, fmt.Errorf("xml: unterminated entity")
		}
		ent := string(b[i+1 : i+end])
		var r rune
		switch ent {
		case "lt":
			r = '<'
		case "gt":
			r = '>'
		case "amp":
			r = '&'
		case "quot":
			r = '"'
		case "apos":
			r = '\''
		default:
			if len(ent) < 2 || ent[0] != '#' {
				return nil, fmt.Errorf("xml: unknown entity &%s;", ent)
			}
			var n uint64
			var err error
			if ent[1] == 'x' {
				n, err = strconv.ParseUint(ent[2:], 16, 32)
			} else {
				n, err = strconv.ParseUint(ent[1:], 10, 32)
			}
			if err != nil || !utf8.ValidRune(rune(n)) {
				return nil, fmt.Errorf("xml: bad character reference &%s;", ent)
			}
			r = rune(n)
		}
		// The rune is never longer than the entity it replaces, so
		// writing in place never overtakes reading.
		out = utf8.AppendRune(out, r)
		i += end
	}
	return out, nil
}
