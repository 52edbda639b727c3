package infdev

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// A process's warnings and errors reach the devnet's log at their level (the text form
// without its time and level); its other lines only at debug.
func TestChildLinesKeepTheirLevel(t *testing.T) {
	for _, c := range []struct {
		line, want string
		lvl        slog.Level
	}{
		{`time=2026-12-02T17:12:30.645Z level=WARN msg="submit starts" err="timeout"`, `msg="submit starts" err="timeout"`, slog.LevelWarn},
		{`time=2026-12-02T17:12:30.645Z level=ERROR msg=down`, `msg=down`, slog.LevelError},
		{`{"time":"2026-12-02T17:12:30Z","level":"WARN","msg":"submit starts"}`, `{"time":"2026-12-02T17:12:30Z","level":"WARN","msg":"submit starts"}`, slog.LevelWarn},
		{`time=2026-12-02T17:12:30.645Z level=INFO msg=serving`, `time=2026-12-02T17:12:30.645Z level=INFO msg=serving`, slog.LevelDebug},
		{`level=WARNING-ish nonsense`, `level=WARNING-ish nonsense`, slog.LevelDebug},
		{`a line without a level`, `a line without a level`, slog.LevelDebug},
		{`level=WARN`, ``, slog.LevelWarn},
	} {
		if lvl, got := childLevel(c.line); lvl != c.lvl || got != c.want {
			t.Errorf("childLevel(%q) = %v %q, want %v %q", c.line, lvl, got, c.lvl, c.want)
		}
	}
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var tail tailBuffer
	logLines(strings.NewReader("time=x level=INFO msg=hidden\ntime=x level=WARN msg=shown\n"+
		`time=x level=WARN msg="api node step" err="load models: \"node-a\" down" repeated=239`+"\n"), log, &tail)
	out := buf.String()
	if strings.Contains(out, "hidden") || !strings.Contains(out, "level=WARN msg=shown") {
		t.Fatalf("a devnet at warn logged:\n%s", out)
	}
	// The process's message and attributes are passed on as such, not as one string.
	if !strings.Contains(out, `level=WARN msg="api node step" err="load models: \"node-a\" down" repeated=239`) {
		t.Fatalf("the warning's pairs were not passed on as they were:\n%s", out)
	}
}

func TestTextPairs(t *testing.T) {
	for _, c := range []struct {
		line, msg string
		attrs     []any
		ok        bool
	}{
		{`msg="submit starts" err="timeout"`, "submit starts", []any{"err", "timeout"}, true},
		{`msg=down node=a b=""`, "down", []any{"node", "a", "b", ""}, true},
		{`err=x msg=late`, "late", []any{"err", "x"}, true},
		{`msg="unterminated`, "", nil, false},
		{`no pairs here`, "", nil, false},
		{`err=x`, "", nil, false},
		{``, "", nil, false},
	} {
		msg, attrs, ok := textPairs(c.line)
		if msg != c.msg || ok != c.ok || fmt.Sprint(attrs) != fmt.Sprint(c.attrs) {
			t.Errorf("textPairs(%q) = %q %v %v, want %q %v %v", c.line, msg, attrs, ok, c.msg, c.attrs, c.ok)
		}
	}
}
