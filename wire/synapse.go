package wire

import (
	"bytes"
	"crypto/sha3"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
)

// TerminalInfo describes one end of a call, as Bittensor's TerminalInfo does. Every field
// is optional (null in JSON); the field order is the order of model_dump().
type TerminalInfo struct {
	StatusCode    *int    `json:"status_code"`    // HTTP status of the call
	StatusMessage *string `json:"status_message"` // "Success" or what went wrong
	ProcessTime   *Float  `json:"process_time"`   // seconds the axon spent
	IP            *string `json:"ip"`             // the terminal's address
	Port          *int    `json:"port"`           // the terminal's port
	Version       *int64  `json:"version"`        // Bittensor version integer
	Nonce         *int64  `json:"nonce"`          // request nonce, ns
	UUID          *string `json:"uuid"`           // session id
	Hotkey        *string `json:"hotkey"`         // SS58 hotkey
	Signature     *string `json:"signature"`      // 0x-hex sr25519 signature
}

// Float is a float64 that encodes in JSON as Python's json.dumps writes a float: always
// with a fractional part or an exponent ("12.0", "1e-05"), so that bodies read the same
// to a Python peer and compare byte for byte with Python's. Use it for synapse fields
// declared float in Python.
type Float float64

// MarshalJSON writes f as Python would. NaN and infinities are refused, as
// encoding/json refuses them for float64 (Python writes non-JSON NaN/Infinity).
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, fmt.Errorf("wire.Float %v is not representable in JSON", v)
	}
	return AppendPyFloat(make([]byte, 0, 24), v), nil
}

// DefaultTimeout is Bittensor's default synapse timeout, in seconds.
const DefaultTimeout = 12.0

// Base holds the fields every synapse has, in the order Bittensor's Synapse dumps them.
// Embed it (by value, first) in a synapse type:
//
//	type Echo struct {
//		wire.Base
//		Text string `json:"text" wire:"required"`
//	}
//
// A field tagged wire:"required" is one the Python model declares without a default; a
// dendrite sends an empty value of its type in a bt_header_input_obj_ header, which
// Python axons need to build the synapse from the headers.
type Base struct {
	Name             string       `json:"name"`               // the synapse name; set by the wire layer
	Timeout          Float        `json:"timeout"`            // seconds; 0 means DefaultTimeout
	TotalSize        int64        `json:"total_size"`         // CPython artefact, kept for the wire
	HeaderSize       int64        `json:"header_size"`        // CPython artefact, kept for the wire
	Dendrite         TerminalInfo `json:"dendrite"`           // the caller, as the axon authenticated it
	Axon             TerminalInfo `json:"axon"`               // the callee and the call's status
	ComputedBodyHash string       `json:"computed_body_hash"` // the signed body hash (axon side)
}

// SynapseBase returns b; through embedding it makes every synapse type a Synapse.
func (b *Base) SynapseBase() *Base { return b }

// Synapse is a request/response type of the wire protocol: a pointer to a struct that
// embeds Base. Its JSON is the request and response body.
type Synapse interface {
	SynapseBase() *Base
}

// HashFielder is implemented by synapses whose body hash covers fields: the names, in
// order, of Bittensor's required_hash_fields (JSON names). Without it the body hash is
// the hash of nothing, as in Bittensor.
type HashFielder interface {
	RequiredHashFields() []string
}

// Namer is implemented by synapses whose wire name (the route, Python's class name) is
// not their Go type name.
type Namer interface {
	SynapseName() string
}

// EmptyBodyHash is the body hash of a synapse with no required hash fields: the SHA3-256
// of the empty string.
const EmptyBodyHash = "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"

// jsonField is one field of a struct as encoding/json sees it.
type jsonField struct {
	name     string
	typ      reflect.Type
	index    []int
	required bool
}

// jsonFields lists the JSON fields of struct type t in encoding order, flattening
// embedded structs without a JSON name the way encoding/json does (without its rules for
// conflicting names, which synapse types do not need).
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			idx := append(slices.Clone(index), i)
			ft := f.Type
			if f.Anonymous && name == "" {
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft, idx)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			out = append(out, jsonField{name: name, typ: f.Type, index: idx, required: f.Tag.Get("wire") == "required"})
		}
	}
	walk(t, nil)
	return out
}

// schema is what the wire layer needs to know about a synapse type, computed once per
// type (by Attach on the axon, on first use in a dendrite).
type schema struct {
	typ        reflect.Type // the struct type; synapses are *typ
	name       string
	hashFields []jsonField
	hashZero   [][]byte    // JSON of the zero value of each hash field, for absent fields
	scan       []jsonField // hashFields, then the terminals ("dendrite", "axon")
	inputObj   [][2]string
}

func schemaOf(syn Synapse) (*schema, error) {
	if syn == nil {
		return nil, fmt.Errorf("synapse is nil")
	}
	pt := reflect.TypeOf(syn)
	if pt.Kind() != reflect.Pointer || pt.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("synapse type %s is not a pointer to a struct", pt)
	}
	t := pt.Elem()
	s := &schema{typ: t, name: t.Name()}
	if t == reflect.TypeFor[Base]() {
		s.name = "Synapse" // Base alone is Bittensor's base class, the ping synapse
	}
	if n, ok := syn.(Namer); ok {
		s.name = n.SynapseName()
	}
	if s.name == "" || strings.ContainsAny(s.name, "/?# ") {
		return nil, fmt.Errorf("synapse type %s has an unusable wire name %q", pt, s.name)
	}
	fields := jsonFields(t)
	byName := make(map[string]jsonField, len(fields))
	for _, f := range fields {
		byName[f.name] = f
		if f.required {
			s.inputObj = append(s.inputObj, [2]string{prefixInput + f.name, emptyValueB64(f.typ)})
		}
	}
	if hf, ok := syn.(HashFielder); ok {
		for _, name := range hf.RequiredHashFields() {
			f, ok := byName[name]
			if !ok {
				return nil, fmt.Errorf("synapse %s: required hash field %q is not a JSON field of %s", s.name, name, pt)
			}
			zero, err := json.Marshal(reflect.Zero(f.typ).Interface())
			if err != nil {
				return nil, fmt.Errorf("synapse %s: hash field %q: %w", s.name, name, err)
			}
			s.hashFields = append(s.hashFields, f)
			s.hashZero = append(s.hashZero, zero)
		}
	}
	s.scan = append(slices.Clone(s.hashFields), jsonField{name: "dendrite"}, jsonField{name: "axon"})
	return s, nil
}

// emptyValueB64 is base64(json.dumps(type(value)())) for a field of Go type t: the empty
// value of the matching Python type, as Bittensor's to_headers sends it.
func emptyValueB64(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var v string
	switch t.Kind() {
	case reflect.Bool:
		v = "false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v = "0"
	case reflect.Float32, reflect.Float64:
		v = "0.0"
	case reflect.String:
		v = `""`
	case reflect.Slice, reflect.Array:
		v = "[]"
	default:
		v = "{}"
	}
	return base64.StdEncoding.EncodeToString([]byte(v))
}

// hashHex appends the lower-case hex SHA3-256 of data to dst.
func hashHex(dst, data []byte) []byte {
	sum := sha3.Sum256(data)
	return hex.AppendEncode(dst, sum[:])
}

// BodyHashOfStrings is Bittensor's body hash over the Python str() renderings of the
// required hash fields, in order: sha3(sha3(s1) ‖ sha3(s2) ‖ …), lower-case hex.
func BodyHashOfStrings(strs ...string) string {
	concat := make([]byte, 0, 64*len(strs))
	for _, s := range strs {
		concat = hashHex(concat, []byte(s))
	}
	return string(hashHex(nil, concat))
}

// bodyHash computes the body hash of a JSON body of this synapse type. Without hash
// fields it is the constant EmptyBodyHash and the body is not looked at.
func (s *schema) bodyHash(body []byte) (string, error) {
	if len(s.hashFields) == 0 {
		return EmptyBodyHash, nil
	}
	spans, err := findMembers(body, s.hashFields)
	if err != nil {
		return "", err
	}
	return s.hashSpans(body, spans)
}

// bodyHashAndWipe is bodyHash for an axon's request body, which it then prepares for
// decoding: the values of "dendrite" and "axon" are replaced in place with null. The
// axon replaces both terminals with what the signed headers say, so decoding the body's
// claims would only allocate a dozen values to throw away; one scan finds the hash
// fields and the terminals together. It returns the shortened body.
func (s *schema) bodyHashAndWipe(body []byte) (string, []byte, error) {
	spans, err := findMembers(body, s.scan)
	if err != nil {
		return "", body, err
	}
	n := len(s.hashFields)
	hash := EmptyBodyHash
	if n > 0 {
		if hash, err = s.hashSpans(body, spans[:n]); err != nil {
			return "", body, err
		}
	}
	return hash, wipe(body, spans[n:]), nil
}

// wipe replaces each span of body with null, moving the rest of the body down (padding
// with spaces instead would leave the JSON decoder hundreds of bytes to scan), and
// returns the shortened body. Spans must not overlap.
func wipe(body []byte, spans [][2]int) []byte {
	// Cut from the last span to the first, so earlier offsets stay valid.
	for {
		last := -1
		for i, sp := range spans {
			if sp[1] > 0 && (last < 0 || sp[0] > spans[last][0]) {
				last = i
			}
		}
		if last < 0 {
			return body
		}
		sp := spans[last]
		spans[last] = [2]int{}
		n := copy(body[sp[0]:], "null")
		m := copy(body[sp[0]+n:], body[sp[1]:])
		body = body[:sp[0]+n+m]
	}
}

// dendriteOnly names the member a dendrite wipes from responses.
var dendriteOnly = []jsonField{{name: "dendrite"}}

// wipeMembers replaces the values of the named top-level members with null and returns
// the shortened body.
func wipeMembers(body []byte, fields []jsonField) ([]byte, error) {
	spans, err := findMembers(body, fields)
	if err != nil {
		return body, err
	}
	return wipe(body, spans), nil
}

func (s *schema) hashSpans(body []byte, spans [][2]int) (string, error) {
	var err error
	concat := make([]byte, 0, 64*len(s.hashFields))
	var str []byte
	for i, f := range s.hashFields {
		str = str[:0]
		if sp := spans[i]; sp[1] > 0 {
			if str, err = AppendPyStr(str, body[sp[0]:sp[1]], f.typ); err != nil {
				return "", fmt.Errorf("hash field %q: %w", f.name, err)
			}
		} else if str, err = AppendPyStr(str, s.hashZero[i], f.typ); err != nil {
			return "", fmt.Errorf("hash field %q: %w", f.name, err)
		}
		concat = hashHex(concat, str)
	}
	return string(hashHex(nil, concat)), nil
}

// findMembers returns, for each field, the span of its value in the top-level JSON
// object body ({0,0} when absent; the last one when repeated, as Python's json.loads
// keeps). It is on every request's path, so it compares key bytes in place and skips
// the other values without rendering them.
func findMembers(body []byte, fields []jsonField) ([][2]int, error) {
	spans := make([][2]int, len(fields))
	p := pyParser{src: body}
	p.skipSpace()
	if p.pos >= len(body) || body[p.pos] != '{' {
		return nil, fmt.Errorf("body is not a JSON object")
	}
	p.pos++
	p.skipSpace()
	if p.pos < len(body) && body[p.pos] == '}' {
		p.pos++
		return spans, p.end()
	}
	for {
		p.skipSpace()
		if p.pos >= len(body) || body[p.pos] != '"' {
			return nil, p.errorf("want a string key in object")
		}
		ks := p.pos
		if err := p.skip(1); err != nil {
			return nil, err
		}
		raw := body[ks+1 : p.pos-1]
		var key string
		if bytes.IndexByte(raw, '\\') >= 0 {
			p2 := pyParser{src: body, pos: ks}
			k, err := p2.keyString()
			if err != nil {
				return nil, err
			}
			key = k
		}
		p.skipSpace()
		if p.pos >= len(body) || body[p.pos] != ':' {
			return nil, p.errorf("want : after object key")
		}
		p.pos++
		p.skipSpace()
		vs := p.pos
		if err := p.skip(1); err != nil {
			return nil, err
		}
		for i, f := range fields {
			if (key == "" && string(raw) == f.name) || (key != "" && key == f.name) {
				spans[i] = [2]int{vs, p.pos}
			}
		}
		p.skipSpace()
		if p.pos >= len(body) {
			return nil, p.errorf("unterminated object")
		}
		switch body[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return spans, p.end()
		default:
			return nil, p.errorf("want , or } in object, got %q", body[p.pos])
		}
	}
}

// BodyHash computes the body hash Bittensor computes for syn (Synapse.body_hash): over
// the Python str() of each required hash field of its JSON form.
func BodyHash(syn Synapse) (string, error) {
	s, err := schemaOf(syn)
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(syn)
	if err != nil {
		return "", fmt.Errorf("encode synapse %s: %w", s.name, err)
	}
	return s.bodyHash(body)
}

// SynapseName returns the wire name of syn's type: its Go type name, or what its
// SynapseName method says.
func SynapseName(syn Synapse) (string, error) {
	s, err := schemaOf(syn)
	if err != nil {
		return "", err
	}
	return s.name, nil
}
