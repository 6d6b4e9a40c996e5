package sheet

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// token boxes the lexer's current token the way encoding/xml's RawToken
// returns it, for comparison.
func (l *lexer) token() (xml.Token, error) {
	kind, err := l.Next()
	if err != nil {
		return nil, err
	}
	switch kind {
	case tokStart:
		return xml.StartElement{Name: l.Name, Attr: l.Attr}, nil
	case tokEnd:
		return xml.EndElement{Name: l.Name}, nil
	}
	return xml.CharData(l.Text), nil
}

// errDirective marks input with a directive (<!DOCTYPE …>), which no
// workbook part has: the lexer skips it without encoding/xml's finer
// rules (comments nested in it), so the two are not compared there.
var errDirective = errors.New("directive")

// tokens renders a token stream for comparison: adjacent character data
// joined (encoding/xml splits it at CDATA sections), comments and
// processing instructions left out (the lexer skips them).
func tokens(next func() (xml.Token, error)) ([]string, error) {
	var out []string
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			out = append(out, "text "+text.String())
			text.Reset()
		}
	}
	for n := 0; n < 100000; n++ {
		tok, err := next()
		if errors.Is(err, io.EOF) {
			flush()
			return out, nil
		}
		if err != nil {
			return out, err
		}
		switch t := tok.(type) {
		case xml.Directive:
			return out, errDirective
		case xml.CharData:
			text.Write(t)
		case xml.StartElement:
			flush()
			s := "start " + t.Name.Space + ":" + t.Name.Local
			for _, a := range t.Attr {
				s += fmt.Sprintf(" %s:%s=%q", a.Name.Space, a.Name.Local, a.Value)
			}
			out = append(out, s)
		case xml.EndElement:
			flush()
			out = append(out, "end "+t.Name.Space+":"+t.Name.Local)
		}
	}
	return out, errors.New("too many tokens")
}

// checkLexer holds the lexer to encoding/xml's RawToken on input that
// encoding/xml reads without error.
func checkLexer(t *testing.T, in []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(in))
	want, err := tokens(d.RawToken)
	if err != nil {
		return
	}
	got, err := tokens(newLexer(bytes.NewReader(in)).token)
	if err != nil {
		t.Fatalf("lexer: %v on input encoding/xml reads:\n%q", err, in)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("lexer and encoding/xml disagree on\n%q\n got %q\nwant %q", in, got, want)
	}
}

// TestLexerMatchesEncodingXML runs every part of every fixture workbook,
// and some hand-written XML, through both tokenizers.
func TestLexerMatchesEncodingXML(t *testing.T) {
	for _, in := range []string{
		`<?xml version="1.0"?><!-- c --><a x:y='1 &amp; 2' b="&#x41;&#66;>"><b/><c >t&lt;e&gt;xt<![CDATA[<raw>&amp;]]>more</c></a>`,
		"<a>line\r\nbreak\rcr</a>",
		`<a  b = "1"   c='2' /><x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c></x:row>`,
	} {
		checkLexer(t, []byte(in))
	}
	files, _ := filepath.Glob(filepath.Join("..", "desired", "testdata", "workbooks", "*", "*.xlsx"))
	more, _ := filepath.Glob(filepath.Join("..", "..", "cmd", "numsync", "testdata", "workbooks", "*", "*.xlsx"))
	files = append(files, more...)
	if len(files) < 8 {
		t.Fatalf("fixtures: %v", files)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			if !strings.HasSuffix(f.Name, ".xml") && !strings.HasSuffix(f.Name, ".rels") {
				continue
			}
			rc, _ := f.Open()
			part, _ := io.ReadAll(rc)
			rc.Close()
			t.Run(filepath.Base(filepath.Dir(name))+"/"+filepath.Base(name)+"/"+f.Name, func(t *testing.T) { checkLexer(t, part) })
		}
	}
}

// FuzzLexer: on whatever encoding/xml reads, the lexer yields the same.
func FuzzLexer(f *testing.F) {
	f.Add([]byte(`<a x:y='1 &amp; 2' b="&#x41;"><b/><c>t&lt;<![CDATA[<r>]]></c></a>`))
	f.Add([]byte("<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t xml:space=\"preserve\"> a\r\n</t></is></c></row>"))
	f.Fuzz(func(t *testing.T, in []byte) { checkLexer(t, in) })
}

// TestLexerSkipsDirectives: a directive, quoted brackets and all, is
// skipped.
func TestLexerSkipsDirectives(t *testing.T) {
	got, err := tokens(newLexer(strings.NewReader(`<!DOCTYPE x [<!ENTITY e "v>">]><a>x</a>`)).token)
	if err != nil || strings.Join(got, "|") != "start :a|text x|end :a" {
		t.Fatalf("%q, %v", got, err)
	}
}
