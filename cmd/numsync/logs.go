package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// stderrLines is standard error as the commands see it. In text mode it
// passes everything through. With --log-format json it turns each line
// written to it (a warning, a failed operation, a notice, cobra's own
// messages) into one slog record, so that every line on standard error
// parses as JSON even where a command prints plain text: "warning: …"
// becomes a WARN record, "failed: …", "skipped: …", "stale: …" an ERROR,
// anything else INFO. Commands log structured records where they have
// attributes to give; this is the net under everything else.
type stderrLines struct {
	e   *env
	raw io.Writer

	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (w *stderrLines) Write(p []byte) (int, error) {
	if w.e.global.logFormat != "json" {
		return w.raw.Write(p)
	}
	w.mu.Lock()
	w.buf.Write(p)
	var lines []string
	for {
		b := w.buf.Bytes()
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, string(b[:i]))
		w.buf.Next(i + 1)
	}
	w.mu.Unlock()
	for _, l := range lines {
		w.logLine(l)
	}
	return len(p), nil
}

// flush logs a last line written without its newline.
func (w *stderrLines) flush() {
	w.mu.Lock()
	rest := w.buf.String()
	w.buf.Reset()
	w.mu.Unlock()
	if rest != "" {
		w.logLine(rest)
	}
}

// linePrefixes are the prefixes commands give a line, with the level the
// line is logged at; the prefix is the message's kind, not its text.
var linePrefixes = []struct {
	prefix string
	level  slog.Level
	kind   string
}{
	{"warning: ", slog.LevelWarn, ""},
	{"failed: ", slog.LevelError, "failed"},
	{"skipped: ", slog.LevelError, "skipped"},
	{"stale: ", slog.LevelError, "stale"},
}

func (w *stderrLines) logLine(line string) {
	line = strings.TrimRight(line, "\r")
	if strings.TrimSpace(line) == "" {
		return
	}
	level, kind := slog.LevelInfo, ""
	for _, p := range linePrefixes {
		if strings.HasPrefix(line, p.prefix) {
			level, kind, line = p.level, p.kind, strings.TrimPrefix(line, p.prefix)
			break
		}
	}
	var attrs []slog.Attr
	if kind != "" {
		attrs = append(attrs, slog.String("state", kind))
	}
	w.e.logger().LogAttrs(context.Background(), level, line, attrs...)
}
