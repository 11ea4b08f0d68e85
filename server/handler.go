package main

import (
	"net/http"
)

// securityHeaders are set on every response. The CSP states the privacy
// promise: nothing is fetched from, or sent to, any origin but this one.
// 'wasm-unsafe-eval' lets the browser compile the app's own wasm.
var securityHeaders = [][2]string{
	{"Content-Security-Policy", "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"},
	{"Cross-Origin-Opener-Policy", "same-origin"},
	{"Cross-Origin-Embedder-Policy", "require-corp"},
	{"Cross-Origin-Resource-Policy", "same-origin"},
	{"X-Content-Type-Options", "nosniff"},
	{"Referrer-Policy", "no-referrer"},
	{"Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"},
}

const placeholder = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ctlens</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px system-ui,sans-serif;background:#111;color:#ddd;max-width:40em;margin:4em auto;padding:0 1em}code{color:#9cf}</style>
</head><body>
<h1>ctlens</h1>
<p>A private, on-device CT workstation: DICOM import, MPR and 3D viewing, and a 3D vision-language
model that runs on this computer's GPU. Nothing leaves this device.</p>
<p>The app itself is not built yet. The GPU runtime and kernel library are: run
<code>go run ./tools/ctlens gpu --check</code> to see them on this machine's GPU.</p>
</body></html>
`

// Handler serves the app under cfg with the security headers on every
// response.
func Handler(cfg Config) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(placeholder))
	})
	return withHeaders(mux)
}

func withHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, kv := range securityHeaders {
			w.Header().Set(kv[0], kv[1])
		}
		h.ServeHTTP(w, r)
	})
}
