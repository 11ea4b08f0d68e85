//go:build !js

package app_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"ctlens/app/internal/browsertest"
)

// TestShellInBrowser opens the app in headless Chromium: the workstation
// renders with its three panels, the status line finds SwiftShader's
// WebGPU adapter, every request stays on the app's origin and nothing
// logs an error. Then, with the network cut and the server stopped, a
// reload of / and a deep link /study/x still open the app from the
// service worker.
func TestShellInBrowser(t *testing.T) {
	start := time.Now()
	s := browsertest.Start(t, browsertest.Options{})
	t.Logf("%s: rendered", time.Since(start).Round(time.Millisecond))
	t.Logf("first render %s (navigation start → #workstation, wasm %d bytes, brotli %d)",
		s.FirstRender.Round(1e6), browsertest.Stats().WasmBytes, browsertest.Stats().BrotliBytes)
	for _, id := range []string{"library", "viewer", "assistant", "status"} {
		if !browsertest.Eval[bool](s, `!!document.getElementById("`+id+`")`) {
			t.Errorf("#%s is missing from the page", id)
		}
	}
	// The adapter probe is asynchronous: wait for its answer.
	s.WaitFor("the GPU probe", `document.getElementById("status-webgpu").dataset.webgpu !== "checking"`, time.Minute)
	if state := browsertest.Eval[string](s, `document.getElementById("status-webgpu").dataset.webgpu`); state != "yes" {
		t.Errorf("status line: WebGPU state %q, want \"yes\" (SwiftShader)", state)
	}
	status := browsertest.Eval[string](s, `document.getElementById("status").innerText`)
	t.Logf("status line: %q", status)
	if !strings.Contains(status, "nothing leaves this device") {
		t.Errorf("status line %q lacks the privacy promise", status)
	}
	if !browsertest.Eval[bool](s, `crossOriginIsolated`) {
		t.Errorf("the page is not cross-origin isolated (COOP/COEP)")
	}
	// The model and the sample study are there for the app to fetch.
	idx := browsertest.Eval[map[string]any](s, `fetch("/sample/index.json").then((r) => r.json())`)
	files, _ := idx["files"].([]any)
	if len(files) == 0 {
		t.Errorf("/sample/index.json from the page: %v", idx)
	} else if n := browsertest.Eval[int](s, `fetch("/sample/" + encodeURI(`+strconv.Quote(fmt.Sprint(files[0]))+`)).then((r) => r.ok ? r.arrayBuffer() : null).then((b) => b ? b.byteLength : -1)`); n <= 0 {
		t.Errorf("the first sample file from the page: %d bytes", n)
	}
	if model := browsertest.Eval[string](s, `fetch("/weights/manifest.json").then((r) => r.json()).then((m) => m.model)`); model == "" {
		t.Errorf("/weights/manifest.json from the page names no model")
	}
	s.Screenshot("online")

	// The first visit is over when the library has imported the sample
	// (its data-importing flag and sample item; a library without the flag
	// has nothing to wait for): the page errors logged up to here all count.
	browsertest.Eval[bool](s, `new Promise((ok) => { const t0 = Date.now(); const f = () => {
		const l = document.getElementById("library");
		const done = !l || !("importing" in l.dataset) || (l.dataset.importing === "no" && !!l.querySelector('[data-sample="yes"]'));
		if (done || Date.now() - t0 > 180000) ok(true); else setTimeout(f, 100); }; f(); })`)
	t.Logf("%s: first visit settled", time.Since(start).Round(time.Millisecond))
	online := s.ConsoleErrors()
	if len(online) > 0 {
		t.Errorf("console errors on the first visit:\n%s", strings.Join(online, "\n"))
	}

	nOnline := len(s.Console())
	// go-app logs "… has been updated" when it takes a worker for a new
	// version; on a first visit that is a false alarm.
	for _, m := range s.Console() {
		if strings.Contains(m, "has been updated") {
			t.Errorf("the first visit reports an app update: %s", m)
		}
	}
	s.Offline(true)
	t.Logf("%s: offline", time.Since(start).Round(time.Millisecond))
	// The page itself now says it works offline.
	if got := browsertest.Eval[string](s, `document.getElementById("status-offline").dataset.offline`); got != "yes" {
		t.Errorf("status line offline state %q with an activated service worker, want yes", got)
	}
	if txt := browsertest.Eval[string](s, `new Promise((ok) => setTimeout(() => ok(document.getElementById("status-offline").innerText), 200))`); !strings.Contains(txt, "no network") {
		t.Errorf("status line %q does not say the network is gone", txt)
	}
	s.Reload()
	if !browsertest.Eval[bool](s, `!!navigator.serviceWorker.controller`) {
		t.Errorf("the offline reload is not controlled by the service worker")
	}
	t.Logf("%s: reloaded offline in %s", time.Since(start).Round(time.Millisecond), s.FirstRender.Round(time.Millisecond))
	s.Navigate("/study/x")
	t.Logf("%s: /study/x offline in %s", time.Since(start).Round(time.Millisecond), s.FirstRender.Round(time.Millisecond))
	if !browsertest.Eval[bool](s, `!!document.getElementById("viewer") && location.pathname === "/study/x"`) {
		t.Errorf("the deep link /study/x did not open the workstation offline")
	}
	s.Screenshot("offline-deep-link")

	// Back online, on the same address: the page reaches the server again.
	s.Offline(false)
	if n := browsertest.Eval[int](s, `fetch("/sample/index.json").then((r) => r.status)`); n != 200 {
		t.Errorf("back online, /sample/index.json: status %d", n)
	}

	if f := s.ForeignRequests(); len(f) > 0 {
		t.Errorf("the page requested other origins: %v", f)
	}
	if len(s.Requests()) == 0 {
		t.Errorf("no requests recorded: the request log is broken")
	}
	// Offline, a fetch the service worker does not answer fails, and
	// Chromium logs it (the library may still be fetching): those are
	// expected; any other error is not.
	for _, e := range s.ConsoleErrors()[len(online):] {
		if strings.Contains(e, "net::ERR_INTERNET_DISCONNECTED") {
			t.Logf("offline, as expected: %s", e)
			continue
		}
		t.Errorf("console error offline: %s", e)
	}
	t.Logf("long tasks: %v", s.LongTasks())
	c := s.Console()
	t.Logf("console since going offline:\n%s", strings.Join(c[min(len(c), nOnline):], "\n"))
	t.Logf("server saw: %v", s.ServerRequests())
}

// TestShellDrawersOnNarrowScreen: at tablet width the library and the
// assistant are drawers, off screen until their button opens them.
func TestShellDrawersOnNarrowScreen(t *testing.T) {
	s := browsertest.Start(t, browsertest.Options{Width: 800, Height: 900})
	onScreen := func(id string) bool {
		return browsertest.Eval[bool](s, `(() => { const r = document.getElementById("`+id+`").getBoundingClientRect();
			return r.right > 1 && r.left < window.innerWidth - 1; })()`)
	}
	// Wait for the re-render and the slide transition to end before
	// measuring: no pane moving for 300 ms (or 20 s passed).
	settle := func() {
		browsertest.Eval[bool](s, `new Promise((ok) => { const t0 = Date.now(); let last = "", since = Date.now();
			const f = () => { const k = ["pane-library", "pane-assistant"].map((id) => document.getElementById(id).getBoundingClientRect().left).join();
				if (k !== last) { last = k; since = Date.now(); }
				if (Date.now() - since > 300 || Date.now() - t0 > 20000) ok(true); else setTimeout(f, 50); }; f(); })`)
	}
	if onScreen("pane-library") || onScreen("pane-assistant") {
		t.Errorf("at 800 px a side panel is on screen before its drawer is opened")
	}
	if !browsertest.Eval[bool](s, `getComputedStyle(document.getElementById("toggle-library")).display !== "none"`) {
		t.Fatalf("the library drawer button is hidden at 800 px")
	}
	browsertest.Eval[bool](s, `(document.getElementById("toggle-library").click(), true)`)
	settle()
	if !onScreen("pane-library") || onScreen("pane-assistant") {
		t.Errorf("after the library button: library on screen %v, assistant %v; want true, false", onScreen("pane-library"), onScreen("pane-assistant"))
	}
	s.Screenshot("library-drawer")
	browsertest.Eval[bool](s, `(document.getElementById("toggle-assistant").click(), true)`)
	settle()
	if onScreen("pane-library") || !onScreen("pane-assistant") {
		t.Errorf("after the assistant button: library on screen %v, assistant %v; want false, true", onScreen("pane-library"), onScreen("pane-assistant"))
	}
	browsertest.Eval[bool](s, `(document.querySelector("#pane-assistant .drawer-close").click(), true)`)
	settle()
	if onScreen("pane-library") || onScreen("pane-assistant") {
		t.Errorf("the drawer's close button left a panel on screen")
	}
	// Escape, pressed anywhere in the workstation, closes a drawer.
	browsertest.Eval[bool](s, `(document.getElementById("toggle-library").click(), true)`)
	settle()
	browsertest.Eval[bool](s, `(document.querySelector("#pane-library .drawer-close").dispatchEvent(
		new KeyboardEvent("keydown", {key: "Escape", bubbles: true})), true)`)
	settle()
	if onScreen("pane-library") {
		t.Errorf("Escape left the library drawer open")
	}
	if errs := s.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
