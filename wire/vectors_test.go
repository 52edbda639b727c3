package wire

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha3"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/internal/testutil/vectorfile"
	"github.com/tessera-net/tessera/keys"
)

// The golden file is the "wire" section of shared/research/bittensor-wire-vectors.json,
// copied so that tests do not depend on anything outside the package;
// TestVectorsMatchShared checks the copy against the original when shared/ is present.
const vectorsFile = "testdata/bittensor-wire-vectors.json"

type wireVectors struct {
	Wire struct {
		Endpoint struct {
			ExampleURL string `json:"example_url"`
		} `json:"endpoint"`
		BodyHash struct {
			Empty struct {
				BodyHash string `json:"body_hash"`
			} `json:"empty_required_hash_fields"`
			Hashed struct {
				Values          map[string]json.RawMessage `json:"values"`
				PerFieldStr     map[string]string          `json:"per_field_python_str"`
				PerFieldSHA3    map[string]string          `json:"per_field_sha3"`
				Concatenated    string                     `json:"concatenated"`
				BodyHash        string                     `json:"body_hash"`
				InvariantsCount []string                   `json:"invariants"`
			} `json:"hashed_synapse"`
			PythonStr struct {
				Cases []struct {
					ValueJSON  json.RawMessage `json:"value_json"`
					PythonType string          `json:"python_type"`
					PythonStr  string          `json:"python_str"`
					SHA3       string          `json:"sha3_256_of_python_str"`
				} `json:"cases"`
			} `json:"python_str_of_values"`
		} `json:"body_hash"`
		Signing         vectorfile.Signing         `json:"signing"`
		RequestExamples map[string]json.RawMessage `json:"request_examples"`
		InputObj        struct {
			Examples  map[string]string `json:"examples"`
			ParseTest struct {
				Headers  map[string]string `json:"headers"`
				Expected map[string]any    `json:"expected_inputs"`
			} `json:"parse_headers_test"`
		} `json:"input_obj_header_values"`
		DefaultDump struct {
			Value          json.RawMessage   `json:"value"`
			DefaultHeaders map[string]string `json:"default_headers_expect"`
		} `json:"default_synapse_model_dump"`
		TerminalInfoExample struct {
			Value json.RawMessage `json:"value"`
		} `json:"terminal_info_example"`
		VersionAsInt struct {
			Examples  map[string]int64 `json:"examples"`
			Threshold int64            `json:"nonce_window_threshold_V_7_2_0"`
		} `json:"version_as_int"`
		NonceWindow struct {
			AllowedDeltaNS int64 `json:"ALLOWED_DELTA_ns"`
			Cases          []struct {
				Age      float64 `json:"nonce_age_s"`
				Accepted bool    `json:"accepted"`
			} `json:"cases_timeout_12s"`
		} `json:"nonce_window"`
		ErrorResponses struct {
			UnknownRoute struct {
				Status int `json:"status"`
				Body   struct {
					Message string `json:"message"`
				} `json:"body"`
			} `json:"unknown_route"`
			NoDendriteHotkey struct {
				Status int `json:"status"`
				Body   struct {
					Message string `json:"message"`
				} `json:"body"`
			} `json:"no_dendrite_hotkey"`
			CreateErrorBody string `json:"create_error_response_body_bytes"`
			ForwardRaises   struct {
				Status int    `json:"status"`
				Regex  string `json:"body_message_regex"`
			} `json:"forward_raises"`
			ForwardSetsStatus struct {
				Status int `json:"status"`
			} `json:"forward_sets_status"`
			SuccessHeaders map[string]any `json:"success_response_headers_minimum"`
			Streaming      struct {
				Status      int    `json:"status"`
				ContentType string `json:"content-type"`
			} `json:"streaming_response"`
		} `json:"error_responses"`
		ClientErrors map[string]any `json:"dendrite_client_error_mapping"`
	} `json:"wire"`
}

type requestExample struct {
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

func loadVectors(t testing.TB) *wireVectors {
	return readVectors(t, vectorsFile)
}

func readVectors(t testing.TB, path string) *wireVectors {
	t.Helper()
	var v wireVectors
	vectorfile.Read(t, path, &v)
	return &v
}

func TestVectorsMatchShared(t *testing.T) {
	vectorfile.MatchShared(t, vectorsFile, "its wire section", readVectors)
}

func (v *wireVectors) request(t testing.TB, name string) requestExample {
	t.Helper()
	var r requestExample
	if err := json.Unmarshal(v.Wire.RequestExamples[name], &r); err != nil {
		t.Fatalf("request example %s: %v", name, err)
	}
	return r
}

// HashedSynapse is the synapse of Bittensor's test_synapse_body_hash.
type HashedSynapse struct {
	Base
	A int      `json:"a" wire:"required"`
	B int      `json:"b" wire:"required"`
	C *int     `json:"c"`
	D []string `json:"d"`
}

func (HashedSynapse) RequiredHashFields() []string { return []string{"a", "b", "d"} }

func sha3Hex(s string) string {
	sum := sha3.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestVectorPythonStr(t *testing.T) {
	v := loadVectors(t)
	if len(v.Wire.BodyHash.PythonStr.Cases) == 0 {
		t.Fatal("no python_str cases in the vectors")
	}
	for _, c := range v.Wire.BodyHash.PythonStr.Cases {
		t.Run(c.PythonType+"/"+string(c.ValueJSON), func(t *testing.T) {
			// The vector's JSON was written by Python's json.dumps, so floats carry
			// their decimal point; with no Go type the renderer follows the JSON.
			got, err := PyStr(c.ValueJSON, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.PythonStr {
				t.Fatalf("PyStr(%s) = %q, want %q", c.ValueJSON, got, c.PythonStr)
			}
			if h := sha3Hex(got); h != c.SHA3 {
				t.Fatalf("sha3(%q) = %s, want %s", got, h, c.SHA3)
			}
		})
	}
}

func TestVectorBodyHash(t *testing.T) {
	v := loadVectors(t)
	hv := v.Wire.BodyHash.Hashed
	syn := &HashedSynapse{A: 1, B: 2, D: []string{"foobar"}}
	typ := reflect.TypeFor[HashedSynapse]()
	var strs []string
	concat := ""
	for _, f := range []string{"a", "b", "d"} {
		sf, _ := typ.FieldByName(strings.ToUpper(f))
		got, err := PyStr(hv.Values[f], sf.Type)
		if err != nil {
			t.Fatal(err)
		}
		if got != hv.PerFieldStr[f] {
			t.Errorf("str(%s) = %q, want %q", f, got, hv.PerFieldStr[f])
		}
		if h := sha3Hex(got); h != hv.PerFieldSHA3[f] {
			t.Errorf("sha3(str(%s)) = %s, want %s", f, h, hv.PerFieldSHA3[f])
		}
		strs = append(strs, got)
		concat += sha3Hex(got)
	}
	if concat != hv.Concatenated {
		t.Errorf("concatenation = %s, want %s", concat, hv.Concatenated)
	}
	if got := BodyHashOfStrings(strs...); got != hv.BodyHash {
		t.Errorf("BodyHashOfStrings = %s, want %s", got, hv.BodyHash)
	}
	got, err := BodyHash(syn)
	if err != nil {
		t.Fatal(err)
	}
	if got != hv.BodyHash {
		t.Fatalf("BodyHash(HashedSynapse) = %s, want %s", got, hv.BodyHash)
	}
	// Invariants from the upstream test.
	c := 7
	if h, _ := BodyHash(&HashedSynapse{A: 1, B: 2, C: &c, D: []string{"foobar"}}); h != hv.BodyHash {
		t.Error("changing c (not a hash field) changed the hash")
	}
	if h, _ := BodyHash(&HashedSynapse{A: 1, B: 2}); h == hv.BodyHash {
		t.Error("d=None gives the same hash as d=['foobar']")
	}
	if h, _ := BodyHash(&Base{Name: "Synapse", Timeout: 12}); h != v.Wire.BodyHash.Empty.BodyHash || h != EmptyBodyHash {
		t.Errorf("empty hash = %s, want %s", h, v.Wire.BodyHash.Empty.BodyHash)
	}
	if BodyHashOfStrings() != EmptyBodyHash {
		t.Error("BodyHashOfStrings() is not the hash of nothing")
	}
}

// TestBodyHashCoercion: the axon hashes what pydantic makes of the body, so an int sent
// to a float field hashes as "1.0", and dict order is the body's.
func TestBodyHashCoercion(t *testing.T) {
	type floaty struct {
		Base
		X float64            `json:"x"`
		M map[string]float64 `json:"m"`
		L []float32          `json:"l"`
	}
	typ := reflect.TypeFor[floaty]()
	tests := []struct {
		field, raw, want string
	}{
		{"X", `1`, "1.0"},
		{"X", `1e16`, "1e+16"},
		{"X", `0.0001`, "0.0001"},
		{"X", `-0.0`, "-0.0"},
		{"X", `123456789012345678`, "1.2345678901234568e+17"},
		{"M", `{"z": 1, "a": 2.5}`, "{'z': 1.0, 'a': 2.5}"},
		{"L", `[1, 2]`, "[1.0, 2.0]"},
	}
	for _, tc := range tests {
		sf, _ := typ.FieldByName(tc.field)
		got, err := PyStr([]byte(tc.raw), sf.Type)
		if err != nil {
			t.Fatalf("%s: %v", tc.raw, err)
		}
		if got != tc.want {
			t.Errorf("PyStr(%s as %s) = %q, want %q", tc.raw, sf.Type, got, tc.want)
		}
	}
}

func TestVectorKeypairs(t *testing.T) {
	v := loadVectors(t)
	s := v.Wire.Signing
	d, err := keys.FromMnemonic(s.DendriteKeypair.Mnemonic, "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Public().Hex() != s.DendriteKeypair.PublicKey || d.Public().String() != s.DendriteKeypair.SS58 {
		t.Fatalf("dendrite key = %s %s", d.Public().Hex(), d.Public())
	}
	a, err := keys.FromURI(s.AxonKeypair.URI)
	if err != nil {
		t.Fatal(err)
	}
	if a.Public().Hex() != s.AxonKeypair.PublicKey || a.Public().String() != s.AxonKeypair.SS58 {
		t.Fatalf("axon key = %s %s", a.Public().Hex(), a.Public())
	}
}

func TestVectorSignatures(t *testing.T) {
	v := loadVectors(t)
	s := v.Wire.Signing
	dpub, _ := keys.ParsePublicKey(s.DendriteKeypair.PublicKey)
	apub, _ := keys.ParsePublicKey(s.AxonKeypair.PublicKey)
	dv, _ := keys.NewVerifier(dpub)
	av, _ := keys.NewVerifier(apub)
	for _, ex := range s.Examples {
		t.Run(ex.Name, func(t *testing.T) {
			ver := dv
			if ex.SignerPublicKey != "" {
				if ex.SignerPublicKey != s.AxonKeypair.PublicKey {
					t.Fatalf("unexpected signer %s", ex.SignerPublicKey)
				}
				ver = av
				// The axon-side message: {axon_nonce}.{dendrite}.{axon}.{axon_uuid}.
				parts := strings.Split(ex.Message, ".")
				n, _ := strconv.ParseInt(parts[0], 10, 64)
				if got := string(appendAxonMessage(nil, n, parts[1], parts[2], parts[3])); got != ex.Message {
					t.Fatalf("axon message = %q, want %q", got, ex.Message)
				}
			} else {
				got := string(appendSignedMessage(nil, ex.Nonce, s.DendriteKeypair.SS58, s.AxonKeypair.SS58, ex.UUID, ex.BodyHash))
				if got != ex.Message {
					t.Fatalf("signed message = %q, want %q", got, ex.Message)
				}
			}
			for _, sig := range ex.ValidSignatures {
				b, _ := hex.DecodeString(strings.TrimPrefix(sig, "0x"))
				if !ver.VerifyAllowWrapped([]byte(ex.Message), b) {
					t.Errorf("valid signature %s… rejected", sig[:18])
				}
			}
			if ex.WrappedSig != "" {
				b, _ := hex.DecodeString(strings.TrimPrefix(ex.WrappedSig, "0x"))
				if ver.Verify([]byte(ex.Message), b) {
					t.Error("the <Bytes> signature verifies over the bare message (vector is wrong?)")
				}
				if !ver.VerifyAllowWrapped([]byte(ex.Message), b) {
					t.Error("signature of the <Bytes>-wrapped message rejected")
				}
			}
			if ex.Invalid != nil {
				b, _ := hex.DecodeString(strings.TrimPrefix(ex.Invalid.Signature, "0x"))
				if got := ver.VerifyAllowWrapped([]byte(ex.Invalid.Message), b); got != ex.Invalid.Expected {
					t.Errorf("invalid signature: verify = %v, want %v", got, ex.Invalid.Expected)
				}
			}
		})
	}
}

func TestVectorInputObjAndVersion(t *testing.T) {
	v := loadVectors(t)
	kinds := map[string]reflect.Type{
		"int": reflect.TypeFor[int](), "float": reflect.TypeFor[float64](), "str": reflect.TypeFor[string](),
		"list": reflect.TypeFor[[]string](), "dict": reflect.TypeFor[map[string]int](), "bool": reflect.TypeFor[bool](),
	}
	for k, want := range v.Wire.InputObj.Examples {
		typ, ok := kinds[k]
		if !ok {
			t.Fatalf("no Go type for input_obj example %q", k)
		}
		if got := emptyValueB64(typ); got != want {
			t.Errorf("input_obj for %s = %s, want %s", k, got, want)
		}
	}
	for ver, want := range v.Wire.VersionAsInt.Examples {
		var maj, min, pat int64
		fmt.Sscanf(ver, "%d.%d.%d", &maj, &min, &pat)
		if got := maj*1_000_000 + min*1_000 + pat; got != want {
			t.Errorf("version_as_int(%s) = %d, want %d", ver, got, want)
		}
	}
	if BittensorVersion != v.Wire.VersionAsInt.Examples["10.2.0"] || BittensorVersion < v.Wire.VersionAsInt.Threshold {
		t.Errorf("BittensorVersion = %d", BittensorVersion)
	}
}

func TestVectorParseHeadersToInputs(t *testing.T) {
	v := loadVectors(t)
	pt := v.Wire.InputObj.ParseTest
	h := http.Header{}
	for k, val := range pt.Headers {
		h[k] = []string{val}
	}
	got, err := HeaderInputs(h)
	if err != nil {
		t.Fatal(err)
	}
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(pt.Expected)
	if !bytes.Equal(gj, wj) {
		t.Fatalf("HeaderInputs = %s\nwant %s", gj, wj)
	}
}

func TestVectorDefaultSynapse(t *testing.T) {
	v := loadVectors(t)
	got, err := json.Marshal(&Base{Name: "Synapse", Timeout: DefaultTimeout})
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := json.Compact(&want, v.Wire.DefaultDump.Value); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("default synapse JSON =\n%s\nwant (same bytes, same order)\n%s", got, want.Bytes())
	}
	name, _ := SynapseName(&Base{})
	if name != v.Wire.DefaultDump.DefaultHeaders["name"] || pyFloatString(DefaultTimeout) != v.Wire.DefaultDump.DefaultHeaders["timeout"] {
		t.Fatalf("default headers: name %q timeout %q", name, pyFloatString(DefaultTimeout))
	}

	var ti TerminalInfo
	if err := json.Unmarshal(v.Wire.TerminalInfoExample.Value, &ti); err != nil {
		t.Fatal(err)
	}
	back, _ := json.Marshal(ti)
	want.Reset()
	json.Compact(&want, v.Wire.TerminalInfoExample.Value)
	if !bytes.Equal(back, want.Bytes()) {
		t.Fatalf("TerminalInfo round trip =\n%s\nwant\n%s", back, want.Bytes())
	}
}

func TestVectorNonceWindow(t *testing.T) {
	v := loadVectors(t)
	if time.Duration(v.Wire.NonceWindow.AllowedDeltaNS) != AllowedDelta {
		t.Fatalf("AllowedDelta = %v, want %dns", AllowedDelta, v.Wire.NonceWindow.AllowedDeltaNS)
	}
	now := time.Unix(1_718_000_000, 0).UnixNano()
	for _, c := range v.Wire.NonceWindow.Cases {
		tr := newNonceTracker(1000, 256, 16, AllowedDelta, 60*time.Second)
		nonce := now - int64(c.Age*1e9)
		err := tr.record(now, "hk", "uuid", nonce, 12*time.Second, nil)
		if (err == nil) != c.Accepted {
			t.Errorf("nonce %gs old: err = %v, want accepted=%v", c.Age, err, c.Accepted)
		}
	}
}

// testAxon starts an axon on 127.0.0.1 and returns its address and a stop function.
func testAxon(t testing.TB, pair *keys.Pair, cfg AxonConfig, attach func(a *Axon)) (*Axon, AxonInfo) {
	t.Helper()
	a, err := NewAxon(pair, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if attach != nil {
		attach(a)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("axon: %v", err)
		}
	})
	addr := l.Addr().(*net.TCPAddr)
	return a, AxonInfo{IP: "127.0.0.1", Port: addr.Port, Hotkey: a.Hotkey()}
}

func alice(t testing.TB) *keys.Pair {
	p, err := keys.FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func vectorDendriteKey(t testing.TB) *keys.Pair {
	p, err := keys.FromMnemonic("old leopard transfer rib spatial phone calm indicate online fire caution review", "")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// fixedClock returns a clock stopped at the vectors' nonce plus one second.
func fixedClock() func() time.Time {
	return func() time.Time { return time.Unix(0, 1718000000000000000+int64(time.Second)) }
}

// TestVectorPythonRequestsAccepted replays the exact requests a Python dendrite sends
// (headers and body bytes from the unmodified synapse.py) to a Tessera axon.
func TestVectorPythonRequestsAccepted(t *testing.T) {
	v := loadVectors(t)
	for _, name := range []string{"plain_Synapse", "HashedSynapse"} {
		t.Run(name, func(t *testing.T) {
			// One axon per example: both examples use the same nonce and session, so
			// the second would be a replay of the first.
			var seen HashedSynapse
			_, info := testAxon(t, alice(t), AxonConfig{Now: fixedClock()}, func(a *Axon) {
				err := a.Attach("", Handle(func(ctx context.Context, c *Call, s *HashedSynapse) error {
					seen = *s
					if c.Hotkey != v.Wire.Signing.DendriteKeypair.SS58 {
						return fmt.Errorf("call hotkey %s", c.Hotkey)
					}
					sum := s.A + s.B
					s.C = &sum
					return nil
				}), AttachOptions{})
				if err != nil {
					t.Fatal(err)
				}
			})
			ex := v.request(t, name)
			path := ex.URL[strings.LastIndex(ex.URL, "/"):]
			send := func() (*http.Response, []byte) {
				req, _ := http.NewRequest(http.MethodPost, "http://"+info.Addr()+path, strings.NewReader(ex.Body))
				for k, val := range ex.Headers {
					req.Header[k] = []string{val}
				}
				req.Header["Content-Type"] = []string{"application/json"}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp, b
			}
			resp, body := send()
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if got := resp.Header.Get(hdrBodyHash); name == "plain_Synapse" && got != EmptyBodyHash {
				t.Errorf("response computed_body_hash = %s", got)
			}
			if name == "HashedSynapse" {
				if seen.A != 1 || seen.B != 2 || len(seen.D) != 1 || seen.D[0] != "foobar" {
					t.Fatalf("handler saw %+v", seen)
				}
				var out HashedSynapse
				if err := json.Unmarshal(body, &out); err != nil || out.C == nil || *out.C != 3 {
					t.Fatalf("response %s (%v)", body, err)
				}
			}
			// The same bytes again are a replay.
			resp, body = send()
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "Nonce") {
				t.Fatalf("replay: status %d %s", resp.StatusCode, body)
			}
		})
	}
}

// rawRequest is an HTTP request as it crossed the wire.
type rawRequest struct {
	requestLine string
	headers     [][2]string // names exactly as sent
	body        []byte
}

// captureServer accepts one connection on 127.0.0.1, records the raw request and
// answers with resp (a full HTTP response).
func captureServer(t *testing.T, resp string) (string, <-chan rawRequest) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ch := make(chan rawRequest, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		var rr rawRequest
		rr.requestLine, _ = br.ReadString('\n')
		n := 0
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				break
			}
			k, val, _ := strings.Cut(line, ": ")
			rr.headers = append(rr.headers, [2]string{k, val})
			if strings.EqualFold(k, "Content-Length") {
				n, _ = strconv.Atoi(val)
			}
		}
		rr.body = make([]byte, n)
		io.ReadFull(br, rr.body)
		ch <- rr
		io.WriteString(c, resp)
	}()
	return l.Addr().String(), ch
}

// TestVectorDendriteRequestMatchesPython checks that a Tessera dendrite sends what the
// Python dendrite sends: the same header names, in lower case, the same deterministic
// values, a valid signature, and a body that decodes to the same synapse.
func TestVectorDendriteRequestMatchesPython(t *testing.T) {
	v := loadVectors(t)
	for _, tc := range []struct {
		name string
		syn  Synapse
	}{
		{"plain_Synapse", &Base{Timeout: 12}},
		{"HashedSynapse", &HashedSynapse{Base: Base{Timeout: 12}, A: 1, B: 2, D: []string{"foobar"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex := v.request(t, tc.name)
			addr, got := captureServer(t, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
			d, err := NewDendrite(vectorDendriteKey(t), DendriteConfig{ExternalIP: "203.0.113.5"})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			host, port, _ := net.SplitHostPort(addr)
			p, _ := strconv.Atoi(port)
			target := AxonInfo{IP: host, Port: p, Hotkey: v.Wire.Signing.AxonKeypair.SS58}
			res := d.Call(context.Background(), target, tc.syn)
			if res.Err != nil {
				t.Fatalf("call: %v", res.Err)
			}
			rr := <-got
			wantLine := "POST " + ex.URL[strings.LastIndex(ex.URL, "/"):] + " HTTP/1.1\r\n"
			if rr.requestLine != wantLine {
				t.Errorf("request line %q, want %q", rr.requestLine, wantLine)
			}
			sent := map[string]string{}
			for _, kv := range rr.headers {
				sent[kv[0]] = kv[1]
			}
			var missing []string
			for k, want := range ex.Headers {
				val, ok := sent[k] // exact, lower-case name
				if !ok {
					missing = append(missing, k)
					continue
				}
				switch k {
				case "bt_header_axon_ip", "bt_header_axon_port":
					// ours points at the capture server
				case "bt_header_dendrite_nonce", "bt_header_dendrite_uuid", "bt_header_dendrite_signature", "header_size", "total_size":
					// per call or CPython-specific; checked below
				default:
					if val != want {
						t.Errorf("header %s = %q, want %q", k, val, want)
					}
				}
			}
			sort.Strings(missing)
			if len(missing) > 0 {
				t.Fatalf("headers not sent under their exact (lower-case) names: %v", missing)
			}
			nonce, err := strconv.ParseInt(sent["bt_header_dendrite_nonce"], 10, 64)
			if err != nil || nonce < time.Now().Add(-time.Minute).UnixNano() {
				t.Errorf("nonce %q is not a recent time_ns", sent["bt_header_dendrite_nonce"])
			}
			if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(sent["bt_header_dendrite_uuid"]) {
				t.Errorf("uuid %q", sent["bt_header_dendrite_uuid"])
			}
			msg := appendSignedMessage(nil, nonce, sent["bt_header_dendrite_hotkey"], target.Hotkey, sent["bt_header_dendrite_uuid"], sent["computed_body_hash"])
			sig, _ := hex.DecodeString(strings.TrimPrefix(sent["bt_header_dendrite_signature"], "0x"))
			if !strings.HasPrefix(sent["bt_header_dendrite_signature"], "0x") || !vectorDendriteKey(t).Public().Verify(msg, sig) {
				t.Errorf("signature %q does not verify over %q", sent["bt_header_dendrite_signature"], msg)
			}

			// The body: the same JSON as Python's once the per-call values are aligned.
			var gotBody, wantBody map[string]any
			if err := json.Unmarshal(rr.body, &gotBody); err != nil {
				t.Fatalf("body %s: %v", rr.body, err)
			}
			json.Unmarshal([]byte(ex.Body), &wantBody)
			for _, m := range []map[string]any{gotBody, wantBody} {
				dd := m["dendrite"].(map[string]any)
				dd["nonce"], dd["uuid"], dd["signature"] = nil, nil, nil
				aa := m["axon"].(map[string]any)
				aa["ip"], aa["port"] = nil, nil
				m["total_size"] = nil
			}
			gj, _ := json.Marshal(gotBody)
			wj, _ := json.Marshal(wantBody)
			if !bytes.Equal(gj, wj) {
				t.Errorf("body differs from Python's:\n got %s\nwant %s", gj, wj)
			}
			// Key order too: Python's model_dump order.
			if keyOrder(t, rr.body) != keyOrder(t, []byte(ex.Body)) {
				t.Errorf("body key order %s, want %s", keyOrder(t, rr.body), keyOrder(t, []byte(ex.Body)))
			}
		})
	}
}

func keyOrder(t *testing.T, body []byte) string {
	p := pyParser{src: body}
	ms, err := p.members(0)
	if err != nil {
		t.Fatal(err)
	}
	var ks []string
	for _, m := range ms {
		ks = append(ks, m.key)
	}
	return strings.Join(ks, ",")
}

func TestVectorEndpoint(t *testing.T) {
	v := loadVectors(t)
	d, err := NewDendrite(alice(t), DendriteConfig{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := d.prepare(context.Background(), &Base{})
	if err != nil {
		t.Fatal(err)
	}
	target := func(ip string) string {
		raw, _, err := d.buildRequest(p, AxonInfo{IP: ip, Port: 8091, Hotkey: alice(t).Public().String()})
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			t.Fatalf("the dendrite's request does not parse: %v", err)
		}
		if req.Method != http.MethodPost {
			t.Fatalf("method %s", req.Method)
		}
		return "http://" + req.Host + req.URL.Path
	}
	if got := target("198.51.100.7"); got != v.Wire.Endpoint.ExampleURL {
		t.Fatalf("URL %s, want %s", got, v.Wire.Endpoint.ExampleURL)
	}
	// IPv6 gets brackets (Bittensor's dendrite leaves them out and cannot connect).
	if got := target("::1"); got != "http://[::1]:8091/Synapse" {
		t.Fatalf("IPv6 URL %s", got)
	}
	// Chain data cannot inject headers.
	for _, bad := range []AxonInfo{
		{IP: "1.2.3.4\r\nX-Evil: 1", Port: 1, Hotkey: "h"},
		{IP: "1.2.3.4", Port: 1, Hotkey: "h\r\nX-Evil: 1"},
		{IP: "1.2.3.4", Port: 0, Hotkey: "h"},
	} {
		if _, _, err := d.buildRequest(p, bad); err == nil {
			t.Errorf("axon %+v accepted", bad)
		}
	}
}

// rawExchange sends a raw HTTP request to addr and returns the raw response head
// (header names as sent) and body.
func rawExchange(t *testing.T, addr, req string) (status int, headers [][2]string, body []byte) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, req)
	return readRawResponse(t, bufio.NewReader(c))
}

// readRawResponse reads one raw HTTP response from br: its status, its head (header
// names as sent) and its body.
func readRawResponse(t *testing.T, br *bufio.Reader) (status int, headers [][2]string, body []byte) {
	line, _ := br.ReadString('\n')
	fmt.Sscanf(line, "HTTP/1.1 %d", &status)
	n := -1
	chunked := false
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		l = strings.TrimRight(l, "\r\n")
		if l == "" {
			break
		}
		k, v, _ := strings.Cut(l, ": ")
		headers = append(headers, [2]string{k, v})
		if strings.EqualFold(k, "Content-Length") {
			n, _ = strconv.Atoi(v)
		}
		if strings.EqualFold(k, "Transfer-Encoding") && v == "chunked" {
			chunked = true
		}
	}
	switch {
	case n >= 0:
		body = make([]byte, n)
		io.ReadFull(br, body)
	case chunked:
		r := newChunkedReader(br)
		body, _ = io.ReadAll(r)
	}
	return status, headers, body
}

func hdrMap(hs [][2]string) map[string]string {
	m := map[string]string{}
	for _, kv := range hs {
		m[kv[0]] = kv[1]
	}
	return m
}

// newChunkedReader decodes HTTP/1.1 chunked transfer coding (enough for tests).
func newChunkedReader(br *bufio.Reader) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			n, err := strconv.ParseInt(strings.TrimSpace(line), 16, 64)
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			if n == 0 {
				pw.Close()
				return
			}
			if _, err := io.CopyN(pw, br, n); err != nil {
				pw.CloseWithError(err)
				return
			}
			br.ReadString('\n')
		}
	}()
	return pr
}

// signedHeaders returns the raw request text for a signed call, built by hand the way a
// Python dendrite would.
func signedRequest(t *testing.T, signer *keys.Pair, axonHotkey, path string, nonce int64, uuid, bodyHash, body string, extra ...string) string {
	t.Helper()
	msg := appendSignedMessage(nil, nonce, signer.Public().String(), axonHotkey, uuid, bodyHash)
	sig := "0x" + hex.EncodeToString(signer.Sign(msg))
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", path, len(body))
	fmt.Fprintf(&b, "name: %s\r\ntimeout: 12.0\r\nbt_header_axon_hotkey: %s\r\nbt_header_dendrite_version: 10002000\r\n", strings.TrimPrefix(path, "/"), axonHotkey)
	fmt.Fprintf(&b, "bt_header_dendrite_nonce: %d\r\nbt_header_dendrite_uuid: %s\r\nbt_header_dendrite_hotkey: %s\r\n", nonce, uuid, signer.Public())
	fmt.Fprintf(&b, "bt_header_dendrite_signature: %s\r\ncomputed_body_hash: %s\r\n", sig, bodyHash)
	for _, e := range extra {
		b.WriteString(e + "\r\n")
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return b.String()
}

type echoStream struct {
	Base
	N int `json:"n"`
}

func TestVectorErrorResponses(t *testing.T) {
	v := loadVectors(t)
	er := v.Wire.ErrorResponses
	dk := vectorDendriteKey(t)
	a, info := testAxon(t, alice(t), AxonConfig{}, func(a *Axon) {
		a.Attach("Raises", Handle(func(ctx context.Context, c *Call, s *Base) error { return fmt.Errorf("boom") }), AttachOptions{})
		a.Attach("SetsStatus", Handle(func(ctx context.Context, c *Call, s *Base) error {
			code, msg := er.ForwardSetsStatus.Status, "nothing here"
			s.Axon.StatusCode, s.Axon.StatusMessage = &code, &msg
			return nil
		}), AttachOptions{})
		a.Attach("RunException", Handle(func(ctx context.Context, c *Call, s *Base) error { return Errorf(409, "conflict") }), AttachOptions{})
		a.Attach("Stream", HandleStream(func(ctx context.Context, c *Call, s *echoStream, w *StreamWriter) error {
			for i := range 10 {
				fmt.Fprintf(w, "data%d\n", i)
			}
			return nil
		}), AttachOptions{})
	})
	addr := info.Addr()
	body := `{"name":"Synapse","timeout":12.0}`

	t.Run("unknown route", func(t *testing.T) {
		a2, info2 := testAxon(t, alice(t), AxonConfig{}, nil)
		_ = a2
		st, _, b := rawExchange(t, info2.Addr(), "GET /no_such_path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		var m struct{ Message string }
		json.Unmarshal(b, &m)
		if st != er.UnknownRoute.Status || m.Message != er.UnknownRoute.Body.Message {
			t.Fatalf("%d %q, want %d %q", st, m.Message, er.UnknownRoute.Status, er.UnknownRoute.Body.Message)
		}
	})
	t.Run("no dendrite hotkey", func(t *testing.T) {
		st, _, b := rawExchange(t, addr, "POST /Synapse HTTP/1.1\r\nHost: x\r\nConnection: close\r\ncomputed_body_hash: "+EmptyBodyHash+"\r\nContent-Length: 0\r\n\r\n")
		var m struct{ Message string }
		json.Unmarshal(b, &m)
		if st != er.NoDendriteHotkey.Status || m.Message != er.NoDendriteHotkey.Body.Message {
			t.Fatalf("%d %q, want %d %q", st, m.Message, er.NoDendriteHotkey.Status, er.NoDendriteHotkey.Body.Message)
		}
	})
	t.Run("error body bytes", func(t *testing.T) {
		st, _, b := rawExchange(t, addr, signedRequest(t, dk, a.Hotkey(), "/RunException", time.Now().UnixNano(), newUUID4(), EmptyBodyHash, body, "Connection: close"))
		if st != 409 || string(b) != `{"message":"conflict"}` {
			t.Fatalf("%d %s", st, b)
		}
		// create_error_response's exact bytes for message "Error".
		rec := &recorder{h: http.Header{}}
		a.writeError(rec, nil, "Synapse", 400, "Error", time.Now())
		if rec.body.String() != er.CreateErrorBody {
			t.Fatalf("error body %q, want %q", rec.body.String(), er.CreateErrorBody)
		}
	})
	t.Run("forward raises", func(t *testing.T) {
		st, _, b := rawExchange(t, addr, signedRequest(t, dk, a.Hotkey(), "/Raises", time.Now().UnixNano(), newUUID4(), EmptyBodyHash, body, "Connection: close"))
		var m struct{ Message string }
		json.Unmarshal(b, &m)
		if st != er.ForwardRaises.Status || !regexp.MustCompile("^"+er.ForwardRaises.Regex+"$").MatchString(m.Message) {
			t.Fatalf("%d %q", st, m.Message)
		}
	})
	t.Run("forward sets status", func(t *testing.T) {
		st, hs, _ := rawExchange(t, addr, signedRequest(t, dk, a.Hotkey(), "/SetsStatus", time.Now().UnixNano(), newUUID4(), EmptyBodyHash, body, "Connection: close"))
		if st != er.ForwardSetsStatus.Status || hdrMap(hs)["bt_header_axon_status_code"] != strconv.Itoa(st) {
			t.Fatalf("%d %v", st, hs)
		}
	})
	t.Run("success headers", func(t *testing.T) {
		st, hs, _ := rawExchange(t, addr, signedRequest(t, dk, a.Hotkey(), "/Synapse", time.Now().UnixNano(), newUUID4(), EmptyBodyHash, body, "Connection: close"))
		if st != 200 {
			t.Fatalf("status %d", st)
		}
		got := hdrMap(hs)
		for k, want := range er.SuccessHeaders {
			if k == "plus" {
				for _, name := range want.([]any) {
					if _, ok := got[name.(string)]; !ok && !strings.EqualFold(name.(string), "content-length") {
						t.Errorf("response lacks header %s (lower case) in %v", name, got)
					}
				}
				continue
			}
			if k == "content-type" {
				k = "Content-Type" // net/http's spelling; Python reads it case-insensitively
			}
			if got[k] != want.(string) {
				t.Errorf("response header %s = %q, want %q", k, got[k], want)
			}
		}
		if _, ok := got["Content-Length"]; !ok {
			t.Error("no Content-Length")
		}
	})
	t.Run("streaming", func(t *testing.T) {
		st, hs, b := rawExchange(t, addr, signedRequest(t, dk, a.Hotkey(), "/Stream", time.Now().UnixNano(), newUUID4(), EmptyBodyHash, `{"n":10}`, "Connection: close"))
		want := ""
		for i := range 10 {
			want += fmt.Sprintf("data%d\n", i)
		}
		if st != er.Streaming.Status || hdrMap(hs)["Content-Type"] != er.Streaming.ContentType || string(b) != want {
			t.Fatalf("%d %v %q", st, hs, b)
		}
	})
}

// recorder is a minimal http.ResponseWriter.
type recorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) WriteHeader(s int)           { r.status = s }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }

func TestVectorDendriteClientErrors(t *testing.T) {
	v := loadVectors(t)
	ce := v.Wire.ClientErrors
	d, err := NewDendrite(vectorDendriteKey(t), DendriteConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// A port nobody listens on.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	res := d.Call(context.Background(), AxonInfo{IP: "127.0.0.1", Port: port, Hotkey: alice(t).Public().String()}, &Base{})
	want := ce["aiohttp.ClientConnectorError"].([]any)
	wantMsg := strings.NewReplacer("{ip}", "127.0.0.1", "{port}", strconv.Itoa(port), "{name}", "Synapse").Replace(want[1].(string))
	if strconv.Itoa(res.StatusCode) != want[0] || res.StatusMessage != wantMsg {
		t.Errorf("unreachable: %d %q, want %s %q", res.StatusCode, res.StatusMessage, want[0], wantMsg)
	}

	// A server that accepts and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	info := AxonInfo{IP: "127.0.0.1", Port: silent.Addr().(*net.TCPAddr).Port, Hotkey: alice(t).Public().String()}
	res = d.Call(context.Background(), info, &Base{Timeout: 0.2})
	want = ce["asyncio.TimeoutError"].([]any)
	wantMsg = strings.ReplaceAll(want[1].(string), "{timeout}", "0.2")
	if strconv.Itoa(res.StatusCode) != want[0] || res.StatusMessage != wantMsg {
		t.Errorf("timeout: %d %q, want %s %q", res.StatusCode, res.StatusMessage, want[0], wantMsg)
	}
}
