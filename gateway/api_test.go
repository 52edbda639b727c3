package gateway

import (
	"testing"
)

// A request textgen's Validate refuses is answered with the parameter Validate names
// and its message, word for word.
func TestParseChatRequestValidation(t *testing.T) {
	models := map[string]Model{"m": {ID: "m", Netuid: 1}}
	for _, tc := range []struct {
		body, param, msg string
	}{
		{`{"model":"m","messages":[{"role":"robot","content":"x"}]}`, "messages[0].role",
			`Invalid 'messages[0].role': "robot" is not system, developer, user, assistant or tool`},
		{`{"model":"m","messages":[{"role":"user","content":"x"},{"content":"y"}]}`, "messages[1].role",
			`Invalid 'messages[1].role': missing`},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":3}`, "temperature",
			`Invalid 'temperature': 3 is not in [0, 2]`},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"top_p":1.5}`, "top_p",
			`Invalid 'top_p': 1.5 is not in [0, 1]`},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":-1}`, "max_tokens",
			`Invalid 'max_tokens': -1 is negative`},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"max_completion_tokens":-2}`, "max_tokens",
			`Invalid 'max_tokens': -2 is negative`},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"stop":["a","b","c","d","e"]}`, "stop",
			`Invalid 'stop': 5 sequences, at most 4`},
	} {
		_, e := parseChatRequest([]byte(tc.body), models)
		if e == nil {
			t.Fatalf("%s: accepted", tc.body)
		}
		if e.Status != 400 || e.Type != "invalid_request_error" || e.Code == nil || *e.Code != "invalid_value" ||
			e.Param == nil || *e.Param != tc.param || e.Message != tc.msg {
			t.Errorf("%s:\ngot  %d %s code %v param %v %q\nwant 400 invalid_request_error code invalid_value param %s %q",
				tc.body, e.Status, e.Type, deref(e.Code), deref(e.Param), e.Message, tc.param, tc.msg)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
