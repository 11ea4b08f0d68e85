package serve

import "net/http"

// SecurityHeaders are set on every response. The CSP states the privacy
// promise: nothing is fetched from, or sent to, any origin but this one.
// go-app's page has no inline script (wasm_exec.js and app.js are files),
// so script-src needs no 'unsafe-inline'; 'wasm-unsafe-eval' lets the
// browser compile the app's own wasm. go-app sets style attributes from
// Go, hence 'unsafe-inline' for styles only. COOP/COEP make the page
// cross-origin isolated (SharedArrayBuffer, precise timers).
var SecurityHeaders = [][2]string{
	{"Content-Security-Policy", "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"},
	{"Cross-Origin-Opener-Policy", "same-origin"},
	{"Cross-Origin-Embedder-Policy", "require-corp"},
	{"Cross-Origin-Resource-Policy", "same-origin"},
	{"X-Content-Type-Options", "nosniff"},
	{"Referrer-Policy", "no-referrer"},
	{"Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"},
}

func withHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, kv := range SecurityHeaders {
			w.Header().Set(kv[0], kv[1])
		}
		h.ServeHTTP(w, r)
	})
}
