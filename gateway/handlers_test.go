package gateway

import (
	"net/http"
	"testing"
)

// TestModelsEndpoints checks the /v1/models endpoints' answers: GET by an
// authenticated caller only, and 404 for a model not configured.
func TestModelsEndpoints(t *testing.T) {
	gw := startGateway(t, nil, nil)
	tests := []struct {
		method, path string
		auth         bool
		want         int
	}{
		{http.MethodGet, "/v1/models", true, http.StatusOK},
		{http.MethodGet, "/v1/models/tessera-textgen", true, http.StatusOK},
		{http.MethodGet, "/v1/models/nope", true, http.StatusNotFound},
		{http.MethodPost, "/v1/models", true, http.StatusMethodNotAllowed},
		{http.MethodPost, "/v1/models/tessera-textgen", true, http.StatusMethodNotAllowed},
		{http.MethodGet, "/v1/models", false, http.StatusUnauthorized},
		{http.MethodGet, "/v1/models/tessera-textgen", false, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		req, err := http.NewRequest(tc.method, gw.URL+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tc.auth {
			req.Header.Set("Authorization", "Bearer "+gw.Secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s (auth %v): status %d, want %d", tc.method, tc.path, tc.auth, resp.StatusCode, tc.want)
		}
	}
}
