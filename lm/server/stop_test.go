package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/internal/openai"
)

func TestHeldBackAndFirstStop(t *testing.T) {
	for _, tc := range []struct {
		s     string
		stops []string
		held  int
		first int
	}{
		{"hello wor", []string{"world"}, 3, -1},
		{"hello world", []string{"world"}, 0, 6},
		{"abcab", []string{"abc"}, 2, 0},
		{"xyz", []string{"a", "zz"}, 1, -1},
		{"xyz", nil, 0, -1},
		{"a b", []string{"b c", "c"}, 1, -1},
		{"stop here stop", []string{"here", "stop"}, 0, 0},
		{"é", []string{"éa"}, 2, -1},
	} {
		if got := heldBack(tc.s, tc.stops); got != tc.held {
			t.Errorf("heldBack(%q, %q) = %d, want %d", tc.s, tc.stops, got, tc.held)
		}
		if got := firstStop(tc.s, tc.stops); got != tc.first {
			t.Errorf("firstStop(%q, %q) = %d, want %d", tc.s, tc.stops, got, tc.first)
		}
	}
}

// sseChunks reads the data lines of a stream up to [DONE].
func sseChunks[T any](t *testing.T, body []byte) []T {
	t.Helper()
	var out []T
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	done := false
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if line == "[DONE]" {
			done = true
			continue
		}
		var v T
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("%v in %s", err, line)
		}
		out = append(out, v)
	}
	if !done {
		t.Fatalf("no [DONE] in %s", body)
	}
	return out
}

// A stop string cuts the text before it, as OpenAI does, whole and streamed, and the
// stream never sends a part of it; the finish reason is "stop". The completion's
// tokens run up to the one in which the stop string completed.
func TestStopStrings(t *testing.T) {
	ts := startServer(t, tiny(t), Options{})
	base := `"model":"tessera-random","prompt":"once upon a time","max_tokens":60,"temperature":0,"ignore_eos":true`
	var full openai.TextCompletion
	ts.postJSON(t, "/v1/completions", "{"+base+"}", &full)
	text := full.Choices[0].Text
	words := strings.Fields(text)
	if len(words) < 6 {
		t.Fatalf("too short a completion to test stops: %q", text)
	}
	// A word from the middle, with the space before it, and a made-up one.
	stop := " " + words[len(words)/2]
	cut := strings.Index(text, stop)
	for _, tc := range []struct {
		stops  []string
		want   string
		finish string
	}{
		{[]string{stop}, text[:cut], "stop"},
		{[]string{"no such text", stop}, text[:cut], "stop"},
		{[]string{text[:1]}, "", "stop"},
		{[]string{"no such text"}, text, "length"},
	} {
		stops, _ := json.Marshal(tc.stops)
		var whole openai.TextCompletion
		ts.postJSON(t, "/v1/completions", fmt.Sprintf(`{%s,"stop":%s,"return_token_ids":true}`, base, stops), &whole)
		ch := whole.Choices[0]
		if ch.Text != tc.want || *ch.FinishReason != tc.finish {
			t.Fatalf("stop %q: %q (%s), want %q (%s)", tc.stops, ch.Text, *ch.FinishReason, tc.want, tc.finish)
		}
		if tc.finish == "stop" && (len(ch.TokenIDs) >= 60 || whole.Usage.CompletionTokens != len(ch.TokenIDs)) {
			t.Fatalf("stop %q: %d tokens, usage %+v", tc.stops, len(ch.TokenIDs), whole.Usage)
		}
		resp, body := ts.post(t, "/v1/completions", fmt.Sprintf(`{%s,"stop":%s,"stream":true}`, base, stops))
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		var streamed strings.Builder
		finish := ""
		for _, c := range sseChunks[openai.TextCompletion](t, body) {
			for _, cc := range c.Choices {
				streamed.WriteString(cc.Text)
				if !strings.HasPrefix(tc.want, streamed.String()) {
					t.Fatalf("stop %q: the stream sent %q, beyond the cut %q", tc.stops, streamed.String(), tc.want)
				}
				if cc.FinishReason != nil {
					finish = *cc.FinishReason
				}
			}
		}
		if streamed.String() != tc.want || finish != tc.finish {
			t.Fatalf("stop %q streamed %q (%s), want %q (%s)", tc.stops, streamed.String(), finish, tc.want, tc.finish)
		}
	}
}

// The decoder holds back exactly what could begin a stop string, releasing it when
// the next token shows it does not.
func TestDecoderHoldsBack(t *testing.T) {
	d := &decoder{stops: []string{"END"}}
	var got []string
	for _, piece := range []string{"a E", "N", "x E", "ND", "more"} {
		d.pending += piece
		got = append(got, d.release(false))
	}
	got = append(got, d.finish())
	want := []string{"a ", "", "ENx ", "", "", ""}
	if strings.Join(got, "|") != strings.Join(want, "|") || d.text.String() != "a ENx " || !d.stopped {
		t.Fatalf("released %q, text %q, stopped %v", got, d.text.String(), d.stopped)
	}
}

func TestUnfinished(t *testing.T) {
	for _, tc := range []struct {
		b    string
		want int
	}{
		{"", 0}, {"abc", 0}, {"\xe2", 1}, {"a\xe2\x82", 2}, {"\xe2\x82\xac", 0}, {"\xf0\x9f\x98", 3},
		{"\x82", 0}, {"\xc3\xa9\xe2", 1}, {"\xff", 0},
	} {
		if got := unfinished([]byte(tc.b)); got != tc.want {
			t.Errorf("unfinished(%q) = %d, want %d", tc.b, got, tc.want)
		}
	}
}
