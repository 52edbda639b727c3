package openai

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// APIError is an error in OpenAI's shape, with the HTTP status it is sent with:
//
//	{"error": {"message": …, "type": …, "param": …, "code": …}}
type APIError struct {
	Status  int     `json:"-"`       // the HTTP status it is sent with
	Message string  `json:"message"` // what went wrong, for people
	Type    string  `json:"type"`    // invalid_request_error, requests, server_error
	Param   *string `json:"param"`   // the request field at fault, or null
	Code    *string `json:"code"`    // a machine-readable code, or null
}

// Error returns the status, type and message.
func (e *APIError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Type, e.Message) }

// The error types OpenAI's API uses.
const (
	TypeInvalidRequest = "invalid_request_error"
	TypeRequests       = "requests"
	TypeServer         = "server_error"
)

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Errorf builds an APIError; an empty param or code is sent as null.
func Errorf(status int, typ, code, param, format string, args ...any) *APIError {
	return &APIError{Status: status, Message: fmt.Sprintf(format, args...), Type: typ, Param: strp(param), Code: strp(code)}
}

// Invalid builds a 400 invalid_request_error about param ("" for the whole request).
func Invalid(param, code, format string, args ...any) *APIError {
	return Errorf(http.StatusBadRequest, TypeInvalidRequest, code, param, format, args...)
}

// InvalidValue is Invalid with the code invalid_value and OpenAI's wording:
// "Invalid 'param': msg".
func InvalidValue(param, format string, args ...any) *APIError {
	return Invalid(param, "invalid_value", "Invalid '%s': %s", param, fmt.Sprintf(format, args...))
}

// Missing is the 400 of a missing required parameter.
func Missing(param string) *APIError {
	return Invalid(param, "missing_required_parameter", "Missing required parameter: '%s'.", param)
}

// ModelNotFound is the 404 of a model the server does not serve.
func ModelNotFound(model string) *APIError {
	return Errorf(http.StatusNotFound, TypeInvalidRequest, "model_not_found", "model",
		"The model '%s' does not exist or you do not have access to it.", model)
}

// UnknownURL is the 404 of a path the server does not serve.
func UnknownURL(r *http.Request) *APIError {
	return Errorf(http.StatusNotFound, TypeInvalidRequest, "unknown_url", "", "Unknown request URL: %s %s.", r.Method, r.URL.Path)
}

// MethodNotAllowed answers 405 for r, naming the allowed methods in the message and
// in the Allow header.
func MethodNotAllowed(w http.ResponseWriter, r *http.Request, allow ...string) *APIError {
	w.Header().Set("Allow", strings.Join(allow, ", "))
	return Errorf(http.StatusMethodNotAllowed, TypeInvalidRequest, "method_not_allowed", "",
		"Use %s for %s.", strings.Join(allow, " or "), r.URL.Path)
}

// ErrorBody is e as OpenAI sends it: {"error": e}.
func ErrorBody(e *APIError) []byte {
	body, _ := json.Marshal(struct {
		Error *APIError `json:"error"`
	}{e})
	return body
}

// WriteJSON answers status with the JSON body.
func WriteJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body)
}

// WriteError answers e as OpenAI does: {"error": e} with e's status.
func WriteError(w http.ResponseWriter, e *APIError) { WriteJSON(w, e.Status, ErrorBody(e)) }
