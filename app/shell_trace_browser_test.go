//go:build !js

package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ctlens/app/internal/browsertest"
)

// TestShellStartTrace traces the reload and the fresh load of
// TestShellStart and holds every renderer main-thread task to the 200 ms
// budget in CPU time — the thread's own time, which a busy machine does
// not inflate the way it inflates the longtask entries' wall time that
// TestShellStart checks. It logs each task of at least
// $CTLENS_TRACE_MIN ms (default 40) with what it spent its time on:
// trace events by self time, wasm functions compiled lazily, and the
// profiler's Go functions; $CTLENS_TRACE_OUT names a folder to save the
// traces in (chrome://tracing, Perfetto).
func TestShellStartTrace(t *testing.T) {
	minMs := 40.0
	if v := os.Getenv("CTLENS_TRACE_MIN"); v != "" {
		d, err := time.ParseDuration(v + "ms")
		if err != nil {
			t.Fatalf("CTLENS_TRACE_MIN=%q: %v", v, err)
		}
		minMs = float64(d) / float64(time.Millisecond)
	}
	s := startRecorded(t)

	report := func(what string, tr *browsertest.Trace) {
		t.Helper()
		if all := tr.LongTasks(0, tr.Origin()); len(all) == 0 {
			t.Errorf("%s: the trace holds no main-thread task: did it record the renderer?", what)
		} else {
			longest := all[0]
			for _, task := range all {
				if task.CPU > longest.CPU {
					longest = task
				}
			}
			t.Logf("%s: %d main-thread tasks; the most CPU: %.0f ms (%.0f ms wall) at %.0f ms", what, len(all), longest.CPU, longest.Dur, longest.Start)
			if longest.CPU > 200 {
				t.Errorf("%s: a main-thread task used %.0f ms of CPU; the budget is 200 ms: %s", what, longest.CPU, longest)
			}
		}
		tasks := tr.LongTasks(minMs, tr.Origin())
		if dir := os.Getenv("CTLENS_TRACE_OUT"); dir != "" {
			p := filepath.Join(dir, strings.ReplaceAll(what, " ", "-")+".json")
			if err := tr.Save(p); err != nil {
				t.Errorf("saving the trace: %v", err)
			} else {
				t.Logf("%s: trace saved as %s", what, p)
			}
		}
		rec := browsertest.Eval[startRecord](s, `window.__ctlensStart`)
		t.Logf("%s: overlay left at %.0f ms; longtask entries (ms@start) %v", what, rec.Gone, rec.Long)
		for _, task := range tasks {
			t.Logf("%s: %s", what, task)
		}
	}

	tr := s.StartTrace()
	s.Reload()
	s.WaitFor("the last series reopened", `(() => { const c = document.querySelector('canvas[data-view="axial"]'); return !!c && +(c.dataset.frames || 0) > 0; })()`, 2*time.Minute)
	time.Sleep(time.Second)
	report("reload", tr.Stop())

	// A first visit again, as in TestShellStart; about:blank gives the
	// page a new renderer process, in which V8 has compiled none of the
	// wasm. The trace starts on a page of the same site that is not the
	// app, in that process: the profiler samples only the processes that
	// exist when the trace starts. (Chromium may still move "/" to a new
	// process — its back/forward cache does that — and then the tasks
	// come without Go stacks: "0 samples"; the lazily compiled functions
	// still name the code each task ran first.)
	forgetSite(t, s)
	if err := chromedp.Do(s.Ctx, chromedp.Navigate(s.URL+"/no-such-page")); err != nil {
		t.Fatalf("a page of the site that is not the app: %v", err)
	}
	tr = s.StartTrace()
	s.Navigate("/")
	s.WaitFor("every view drawn", `["axial", "coronal", "sagittal", "3d"].every((v) => {
		const c = document.querySelector('canvas[data-view="' + v + '"]'); return !!c && +(c.dataset.frames || 0) > 0; })`, 3*time.Minute)
	time.Sleep(time.Second)
	report("fresh load", tr.Stop())
}
