//go:build !js

package browsertest

import (
	"strings"
	"testing"
)

func TestForeignRequests(t *testing.T) {
	s := &Session{URL: "http://127.0.0.1:4000", requests: []string{
		"http://127.0.0.1:4000/",
		"http://127.0.0.1:4000/web/app.wasm",
		"data:image/png;base64,AAAA",
		"blob:http://127.0.0.1:4000/1234",
		"http://127.0.0.1:40001/x",    // another port is another origin
		"https://fonts.example.com/f", // a CDN
		"http://localhost:4000/",      // another host name is another origin
	}}
	got := strings.Join(s.ForeignRequests(), " ")
	want := "http://127.0.0.1:40001/x https://fonts.example.com/f http://localhost:4000/"
	if got != want {
		t.Errorf("ForeignRequests = %q, want %q", got, want)
	}
}

func TestSafeName(t *testing.T) {
	if got := safeName("TestX/sub case-1.png"); got != "TestX_sub_case-1.png" {
		t.Errorf("safeName = %q", got)
	}
}
