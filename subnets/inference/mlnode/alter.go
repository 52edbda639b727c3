package mlnode

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	lmserver "github.com/tessera-net/tessera/lm/server"
)

// The cheater (Config.AlterEvery): it answers every AlterEvery-th whole completion
// with one generated token changed — the middle one, to the next id — and the text
// and that token's logprobs entry rewritten to match, its log-probabilities kept, as
// an executor saving work or steering answers might. An exact replay finds it at
// that position.

// recorder buffers an answer.
type recorder struct {
	h    http.Header
	code int
	buf  bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.h }
func (r *recorder) WriteHeader(c int) {
	if r.code == 0 {
		r.code = c
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.buf.Write(b)
}

func (s *Server) serveAltered(w http.ResponseWriter, r *http.Request, sv *served) {
	prep, e := sv.srv.Prepare(r.URL.Path, bodyOf(r))
	if e != nil || prep.Stream {
		sv.srv.ServeHTTP(w, r) // errors as the server answers them; streams untouched
		return
	}
	rec := &recorder{h: http.Header{}}
	sv.srv.ServeHTTP(rec, r)
	body := rec.buf.Bytes()
	if rec.code == http.StatusOK {
		sv.mu.Lock()
		sv.count++
		turn := sv.count%s.cfg.AlterEvery == 0
		sv.mu.Unlock()
		if turn {
			if alt, ok := alter(sv.srv, prep, body); ok {
				body = alt
				sv.mu.Lock()
				sv.altered++
				sv.mu.Unlock()
				s.log.Info("cheater: altered a completion", "path", r.URL.Path)
			}
		}
	}
	for k, v := range rec.h {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.code)
	w.Write(body)
}

// Altered is how many completions the cheater has altered on the model up (0 when
// none is up).
func (s *Server) Altered() int {
	s.mu.Lock()
	sv := s.serving
	s.mu.Unlock()
	if sv == nil {
		return 0
	}
	sv.mu.Lock()
	defer sv.mu.Unlock()
	return sv.altered
}

// alter changes one token of an answer: its id in token_ids, the text, and the token's
// text in logprobs (its log-probability kept). false when the answer has no token_ids.
func alter(srv *lmserver.Server, prep lmserver.Prepared, body []byte) ([]byte, bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return nil, false
	}
	var choices []map[string]json.RawMessage
	if json.Unmarshal(top["choices"], &choices) != nil || len(choices) != 1 {
		return nil, false
	}
	c := choices[0]
	var ids []int32
	if json.Unmarshal(c["token_ids"], &ids) != nil || len(ids) == 0 {
		return nil, false
	}
	k := len(ids) / 2
	ids[k] = (ids[k] + 1) % int32(srv.Model().Config.Vocab)
	text, _ := srv.Text(prep, ids)
	tokText, tokBytes := srv.TokenText(ids[k])
	c["token_ids"] = mustJSON(ids)
	if prep.Chat {
		var msg map[string]json.RawMessage
		if json.Unmarshal(c["message"], &msg) == nil {
			msg["content"] = mustJSON(text)
			c["message"] = mustJSON(msg)
		}
	} else {
		c["text"] = mustJSON(text)
	}
	var lp map[string]json.RawMessage
	if json.Unmarshal(c["logprobs"], &lp) == nil && lp != nil {
		if prep.Chat {
			var content []map[string]json.RawMessage
			if json.Unmarshal(lp["content"], &content) == nil && k < len(content) {
				content[k]["token"] = mustJSON(tokText)
				content[k]["bytes"] = mustJSON(tokBytes)
				lp["content"] = mustJSON(content)
			}
		} else {
			var toks []string
			if json.Unmarshal(lp["tokens"], &toks) == nil && k < len(toks) {
				toks[k] = tokText
				lp["tokens"] = mustJSON(toks)
			}
		}
		c["logprobs"] = mustJSON(lp)
	}
	top["choices"] = mustJSON(choices)
	return mustJSON(top), true
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
