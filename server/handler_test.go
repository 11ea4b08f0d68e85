package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	h := Handler(DefaultConfig())
	for _, path := range []string{"/", "/missing"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		for _, kv := range securityHeaders {
			if got := rec.Header().Get(kv[0]); got != kv[1] {
				t.Errorf("%s: %s = %q, want %q", path, kv[0], got, kv[1])
			}
		}
	}
}

func TestCSPKeepsEverythingOnThisOrigin(t *testing.T) {
	var csp string
	for _, kv := range securityHeaders {
		if kv[0] == "Content-Security-Policy" {
			csp = kv[1]
		}
	}
	for _, directive := range strings.Split(csp, ";") {
		f := strings.Fields(directive)
		if len(f) == 0 {
			continue
		}
		for _, src := range f[1:] {
			if strings.Contains(src, "://") || src == "*" || strings.HasPrefix(src, "http") {
				t.Errorf("CSP %s allows a foreign source %q", f[0], src)
			}
		}
	}
	if !strings.Contains(csp, "connect-src 'self'") || !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("CSP does not restrict fetches to this origin: %q", csp)
	}
}

func TestPlaceholderServed(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler(DefaultConfig()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "ctlens") {
		t.Fatalf("GET / = %d %q", rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q", ct)
	}
}
