package openai

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestContentAndStop(t *testing.T) {
	for _, tc := range []struct {
		body    string
		content string
		stop    []string
		err     string
	}{
		{`{"content":"hi","stop":"x"}`, "hi", []string{"x"}, ""},
		{`{"content":null,"stop":null}`, "", nil, ""},
		{`{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}],"stop":["x","y"]}`, "a\nb", []string{"x", "y"}, ""},
		{`{"content":[{"type":"image_url"}]}`, "", nil, "only text parts"},
		{`{"content":7}`, "", nil, "a string or an array"},
		{`{"stop":7}`, "", nil, "stop must be"},
	} {
		var v struct {
			Content Content  `json:"content"`
			Stop    StopList `json:"stop"`
		}
		err := json.Unmarshal([]byte(tc.body), &v)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.body, err, tc.err)
			}
			continue
		}
		if err != nil || string(v.Content) != tc.content || strings.Join(v.Stop, "|") != strings.Join(tc.stop, "|") {
			t.Errorf("%s: %q %q %v", tc.body, v.Content, v.Stop, err)
		}
	}
}

func TestDecodeBody(t *testing.T) {
	var cr ChatRequest
	if e := DecodeBody([]byte(`{"model":"m","max_tokens":"x"}`), &cr); e == nil || e.Status != 400 || *e.Param != "max_tokens" || *e.Code != "invalid_type" {
		t.Fatalf("%+v", e)
	}
	if e := DecodeBody([]byte(`{"model":"m"} {}`), &cr); e == nil || *e.Code != "invalid_json" {
		t.Fatalf("%+v", e)
	}
	if e := DecodeBody([]byte(`{"model":"m","max_completion_tokens":3,"max_tokens":9,"stream":true,"stream_options":{"include_usage":true}}`), &cr); e != nil ||
		*cr.Limit() != 3 || !cr.IncludeUsage() || cr.CheckStream() != nil {
		t.Fatalf("%+v %+v", e, cr)
	}
	cr = ChatRequest{}
	DecodeBody([]byte(`{"stream_options":{}}`), &cr)
	if e := cr.CheckStream(); e == nil || *e.Param != "stream_options" {
		t.Fatalf("%+v", e)
	}
}

func TestWritersAndIDs(t *testing.T) {
	rec := httptest.NewRecorder()
	sw := &StatusWriter{ResponseWriter: rec}
	s := NewSSE(sw)
	s.Start()
	s.Send(map[string]int{"a": 1})
	s.Error(Invalid("x", "bad", "no %d", 3))
	s.Done()
	want := "data: {\"a\":1}\n\ndata: {\"error\":{\"message\":\"no 3\",\"type\":\"invalid_request_error\",\"param\":\"x\",\"code\":\"bad\"}}\n\ndata: [DONE]\n\n"
	if rec.Body.String() != want || sw.Status != 200 || rec.Header().Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %q", sw.Status, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/v1/x", nil)
	WriteError(rec, MethodNotAllowed(rec, r, "POST", "OPTIONS"))
	if rec.Code != 405 || rec.Header().Get("Allow") != "POST, OPTIONS" || !strings.Contains(rec.Body.String(), "Use POST or OPTIONS for /v1/x.") {
		t.Fatalf("%d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	if RequestID("abc-1") != "abc-1" || !strings.HasPrefix(RequestID("bad id"), "req-") || len(NewID("cmpl-")) != 29 {
		t.Fatal("ids")
	}
}
