package mlnode

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// FuzzCheck: whatever an executor answers, the exact check returns a verdict or an
// error and never panics; an answer it was not given honestly never validates unless
// it is the honest one.
func FuzzCheck(f *testing.F) {
	n := newNode(f, Config{}, tinyModel)
	ctx := context.Background()
	if err := n.c.InferenceUp(ctx, "tiny", nil); err != nil {
		f.Fatal(err)
	}
	body := chatBody(5, 8)
	_, honest := forward(f, n.c, PathChat, body)
	f.Add(honest)
	f.Add([]byte(`{"choices":[{"token_ids":[1,2,3],"message":{"content":"x"},"logprobs":{"content":[{"token":"a","logprob":-1e308,"top_logprobs":[{"token":"b","logprob":1e308}]}]}}]}`))
	f.Add([]byte(`{"choices":[{"token_ids":[-1]}]}`))
	f.Add([]byte(`{"choices":[{"token_ids":[99999999]}],"prompt_token_ids":[]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, resp []byte) {
		done := make(chan struct{})
		go func() {
			select {
			case <-done:
			case <-time.After(3 * time.Second):
				panic(fmt.Sprintf("slow: %q", resp))
			}
		}()
		res, err := n.s.Check(ctx, InferenceCheck{Model: "tiny", Path: PathChat, Request: body, Response: resp})
		close(done)
		if err == nil && res.Valid && !sameExceptID(resp, honest) {
			// Another encoding of the honest answer may validate; anything else must not.
			if len(tokenIDsOrNil(resp)) != len(tokenIDsOrNil(honest)) {
				t.Fatalf("a made-up answer validated: %s", resp)
			}
		}
	})
}

func tokenIDsOrNil(resp []byte) []int32 {
	var a answer
	if jsonUnmarshal(resp, &a) != nil || len(a.Choices) != 1 {
		return nil
	}
	return a.Choices[0].TokenIDs
}

var jsonUnmarshal = func(b []byte, v any) error { return json.Unmarshal(b, v) }
