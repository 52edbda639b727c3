package api

import (
	"net/http"
	"slices"

	"github.com/tessera-net/tessera/tx"
)

// corsMaxAge is how long a browser may cache a preflight's answer, in seconds.
const corsMaxAge = "600"

// cors wraps next with CORS for the origins listed ("*": any). A request with an
// admitted Origin gets Access-Control-Allow-Origin (that origin) on its answer; a
// preflight (OPTIONS with Access-Control-Request-Method) is answered here: 204 with the
// methods and the asked-for headers for an admitted origin, 403 with the error body and
// no CORS header for another. A request of another origin is served without CORS
// headers, which its browser then refuses to show to the page.
func cors(origins []string, next http.Handler) http.Handler {
	any := slices.Contains(origins, "*")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		admitted := any || slices.Contains(origins, origin)
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if admitted {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", "Retry-After")
		}
		if !preflight {
			next.ServeHTTP(w, r)
			return
		}
		if !admitted {
			writeError(w, http.StatusForbidden, tx.CodeUnauthorized, "the origin "+origin+" may not call this API from a browser (the node's --api.cors-origins)")
			return
		}
		h.Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
			h.Set("Access-Control-Allow-Headers", rh)
		}
		h.Set("Access-Control-Max-Age", corsMaxAge)
		w.WriteHeader(http.StatusNoContent)
	})
}
