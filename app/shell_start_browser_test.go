//go:build !js

package app_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"

	"ctlens/app/internal/browsertest"
)

// startScript records the page start in every document: the long tasks
// (start, duration in ms) and, when go-app's loading overlay leaves the
// page, whether the workstation go-app mounted (not the server's
// prerendered copy) was there with its three panels.
const startScript = `(() => {
  const st = window.__ctlensStart = {long: [], gone: -1, mounted: false, panels: []};
  try {
    new PerformanceObserver((l) => { for (const e of l.getEntries()) st.long.push([e.startTime, e.duration]); })
      .observe({type: "longtask", buffered: true});
  } catch (e) {}
  let pre = null, seen = false;
  const obs = new MutationObserver(() => {
    const ws = document.getElementById("workstation");
    if (!pre && ws) pre = ws;
    if (document.getElementById("app-wasm-loader")) { seen = true; return; }
    if (!seen) return;
    obs.disconnect();
    st.gone = performance.now();
    st.mounted = !!ws && ws !== pre;
    st.panels = ["library", "viewer", "assistant"].filter((id) => ws && ws.querySelector("#" + id));
  });
  obs.observe(document, {childList: true, subtree: true});
})();`

// forgetSite leaves the app for about:blank (a new renderer process, in
// which V8 has compiled none of the wasm) and clears everything the
// browser keeps for the site — storage, service worker, HTTP cache — so
// that the next visit is a first one.
func forgetSite(t *testing.T, s *browsertest.Session) {
	t.Helper()
	if err := chromedp.Do(s.Ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("about:blank: %v", err)
	}
	if _, err := chromedp.Call(s.Ctx, storage.ClearDataForOrigin, storage.ClearDataForOriginParams{Origin: s.URL, StorageTypes: "all"}); err != nil {
		t.Fatalf("clearing the origin's storage: %v", err)
	}
	if _, err := chromedp.Call(s.Ctx, network.ClearBrowserCache, cdp.Empty{}); err != nil {
		t.Fatalf("clearing the cache: %v", err)
	}
}

// startRecorded starts a browser with startScript in every document, and
// waits for the first load's sample import and the offline cache, so a
// reload is the start with the library holding the sample.
func startRecorded(t *testing.T) *browsertest.Session {
	t.Helper()
	s := browsertest.Start(t, browsertest.Options{})
	if _, err := chromedp.Call(s.Ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: startScript}); err != nil {
		t.Fatalf("installing the start recorder: %v", err)
	}
	s.WaitFor("the sample import", `(() => { const l = document.getElementById("library");
		return !l || !("importing" in l.dataset) || (l.dataset.importing === "no" && !!l.querySelector('[data-sample="yes"]')); })()`, 3*time.Minute)
	s.WaitOfflineReady()
	return s
}

// startRecord is what startScript saw.
type startRecord struct {
	Long    [][2]float64 `json:"long"`
	Gone    float64      `json:"gone"`
	Mounted bool         `json:"mounted"`
	Panels  []string     `json:"panels"`
}

// TestShellStart loads the app the way a user does, fresh (no cache, no
// service worker, no library) and as a reload with the library holding
// the sample, and checks how it starts: the wasm's start runs in several
// short browser tasks (app/web/boot), so go-app's loading overlay must
// stay until the workstation has mounted all three panels, not leave
// when the wasm first returns. No main-thread task may pass the issue's
// 200 ms budget from navigation until the app has mounted — nor, on the
// fresh load, until the sample study is imported and on screen.
func TestShellStart(t *testing.T) {
	s := startRecorded(t)

	check := func(what string) startRecord {
		t.Helper()
		var rec startRecord
		s.WaitFor("the start record", `window.__ctlensStart && window.__ctlensStart.gone >= 0`, time.Minute)
		rec = browsertest.Eval[startRecord](s, `window.__ctlensStart`)
		if !rec.Mounted || len(rec.Panels) != 3 {
			t.Errorf("%s: the loading overlay left before the app mounted (go-app's workstation mounted %v, panels %v; want all of library, viewer, assistant)",
				what, rec.Mounted, rec.Panels)
		}
		var longest float64
		var tasks []string
		for _, l := range rec.Long {
			if l[0] > rec.Gone {
				continue
			}
			longest = max(longest, l[1])
			tasks = append(tasks, fmt.Sprintf("%.0f@%.0f", l[1], l[0]))
		}
		t.Logf("%s: the overlay left (app mounted) at %.0f ms; long tasks before it (ms@start) %s; longest %.0f ms", what, rec.Gone, strings.Join(tasks, " "), longest)
		if longest > 200 {
			t.Errorf("%s: a %.0f ms main-thread task before the app mounted; the budget is 200 ms", what, longest)
		}
		return rec
	}

	s.Reload()
	check("reload with the library populated")

	// A first visit again: nothing cached, no service worker, no library.
	forgetSite(t, s)
	s.Navigate("/")
	check("fresh load")
	// The fresh load imports the sample (in the import worker) and shows
	// it: the whole start, to the series on screen, keeps the budget.
	s.WaitFor("the sample imported and opened", `(() => { const l = document.getElementById("library");
		return !!l && l.dataset.importing === "no" && !!l.querySelector('[data-sample="yes"]') && !!l.dataset.selected; })()`, 3*time.Minute)
	s.WaitFor("every view drawn", `["axial", "coronal", "sagittal", "3d"].every((v) => {
		const c = document.querySelector('canvas[data-view="' + v + '"]'); return !!c && +(c.dataset.frames || 0) > 0; })`, 2*time.Minute)
	rec := browsertest.Eval[startRecord](s, `window.__ctlensStart`)
	var longest [2]float64
	for _, l := range rec.Long {
		if l[1] > longest[1] {
			longest = l
		}
	}
	t.Logf("fresh load to the sample on screen: %d long task(s), longest %.0f ms at %.0f ms", len(rec.Long), longest[1], longest[0])
	if longest[1] > 200 {
		t.Errorf("fresh load: a %.0f ms main-thread task at %.0f ms before the sample was on screen; the budget is 200 ms", longest[1], longest[0])
	}

	if errs := s.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
