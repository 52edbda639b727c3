package textgen

import (
	"errors"
	"strings"
	"testing"
)

// Validate names the parameter at fault in a *ParamError, and its text stays
// "param: message" (miners send it to callers as it is).
func TestValidateParamError(t *testing.T) {
	user := []Message{{Role: "user", Content: "x"}}
	hot, cold := 2.5, -0.1
	for _, tc := range []struct {
		req   Request
		param string
		text  string
	}{
		{Request{}, "messages", "messages: at least one message is required"},
		{Request{Messages: make([]Message, MaxMessages+1)}, "messages", "messages: 1025 messages, at most 1024"},
		{Request{Messages: []Message{{Role: "user"}, {Role: ""}}}, "messages[1].role", "messages[1].role: missing"},
		{Request{Messages: []Message{{Role: "robot"}}}, "messages[0].role",
			`messages[0].role: "robot" is not system, developer, user, assistant or tool`},
		{Request{Messages: user, MaxTokens: -1}, "max_tokens", "max_tokens: -1 is negative"},
		{Request{Messages: user, Temperature: &hot}, "temperature", "temperature: 2.5 is not in [0, 2]"},
		{Request{Messages: user, TopP: &cold}, "top_p", "top_p: -0.1 is not in [0, 1]"},
		{Request{Messages: user, Stop: strings.Split("a,b,c,d,e", ",")}, "stop", "stop: 5 sequences, at most 4"},
	} {
		err := tc.req.Validate()
		var pe *ParamError
		if !errors.As(err, &pe) {
			t.Fatalf("%s: err = %v, want a *ParamError", tc.text, err)
		}
		if pe.Param != tc.param || err.Error() != tc.text {
			t.Errorf("got param %q text %q, want %q %q", pe.Param, err, tc.param, tc.text)
		}
	}
	if err := (&Request{Messages: user}).Validate(); err != nil {
		t.Fatalf("a valid request: %v", err)
	}
}
