//go:build !js

package library_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ctlens/app/internal/browsertest"
	"ctlens/app/library"
	"ctlens/tools/phantom/synth"
)

// seriesIDs lists the ids in #series-list, in order.
func seriesIDs(t *testing.T, s *browsertest.Session) []string {
	t.Helper()
	return browsertest.Eval[[]string](s, `[...document.querySelectorAll("#series-list .series-item")].map(e => e.dataset.id)`)
}

// waitFor polls a JavaScript condition.
func waitFor(t *testing.T, s *browsertest.Session, what, expr string, timeout time.Duration) {
	t.Helper()
	if _, err := chromedp.Run(s.Ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(timeout))); err != nil {
		text := browsertest.Eval[string](s, `(document.getElementById("library")||{}).innerText || "(no #library)"`)
		t.Fatalf("waiting for %s: %v\nlibrary panel:\n%s\nconsole errors: %q", what, err, text, s.ConsoleErrors())
	}
}

// TestBrowserLibrary is issue #6's library path in headless Chromium:
// the sample study on first open (and the longtask budget while it is
// imported), a zip of a phantom variant through the file input, bad
// inputs with their messages, and the list surviving reloads.
func TestBrowserLibrary(t *testing.T) {
	s := browsertest.Start(t, browsertest.Options{})

	// 1. First open: the sample study is imported and opened.
	waitFor(t, s, "the sample study", `!!document.querySelector('#series-list .series-item[data-sample="yes"]') && document.querySelector("#library").dataset.importing === "no"`, 3*time.Minute)
	ids := seriesIDs(t, s)
	if len(ids) != 1 {
		t.Fatalf("first open lists %v, want the sample only", ids)
	}
	sample := ids[0]
	waitFor(t, s, "the sample opened", fmt.Sprintf(`document.querySelector("#library").dataset.selected === %q`, sample), time.Minute)
	lib := browsertest.Eval[map[string]float64](s, `window.__ctlensLibrary || {}`)
	var maxAll time.Duration
	for _, d := range s.LongTasks() {
		maxAll = max(maxAll, d)
	}
	maxImport := checkLongTasks(t, s, "the sample import", [2]float64{lib["sample-start"], lib["sample-end"]})
	t.Logf("sample import (fetch → stored): %.0f ms, %.0f bytes stored; longest task during it %s; longest since the page opened: %s",
		lib["sample-ms"], lib["sample-bytes"], maxImport, maxAll)
	if lib["sample-end"] == 0 {
		t.Errorf("the app did not publish the sample import's timing: %v", lib)
	}

	// 2. A zip of a phantom variant (uneven slices) through the file input.
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "uneven.zip")
	if err := os.WriteFile(zipPath, library.PhantomZip(t, 11, synth.Size{Cols: 64, Rows: 64, Slices: 24}, "uneven"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The viewer and the assistant are still busy with the sample; the
	// zip's long tasks are measured once the page is quiet.
	settle(t, s)
	upload(t, s, zipPath)
	waitFor(t, s, "the uploaded zip listed", `document.querySelectorAll("#series-list .series-item").length === 2 && document.querySelector("#library").dataset.importing === "no"`, 2*time.Minute)
	ids = seriesIDs(t, s)
	var added string
	for _, id := range ids {
		if id != sample {
			added = id
		}
	}
	checkLongTasks(t, s, "the zip import", lib2(t, s))
	warnings := browsertest.Eval[[]string](s, fmt.Sprintf(`[...document.querySelectorAll('.series-item[data-id=%q] .series-warning')].map(e => e.textContent)`, added))
	if len(warnings) == 0 || !strings.Contains(strings.Join(warnings, " "), "⚠") {
		t.Errorf("the uneven phantom shows no warnings: %q", warnings)
	}
	t.Logf("uneven variant warnings: %q", warnings)

	// 3. Reload: both are still there.
	s.Reload()
	waitFor(t, s, "the list after a reload", `document.querySelectorAll("#series-list .series-item").length === 2`, time.Minute)
	if have := seriesIDs(t, s); !sameSet(have, []string{sample, added}) {
		t.Fatalf("after reload: %v, want %v", have, []string{sample, added})
	}

	// 4. Bad inputs: each gets a message naming it, nothing stored is lost.
	good := library.PhantomZip(t, 12, library.Small, "")
	zr, _ := zip.NewReader(bytes.NewReader(good), int64(len(good)))
	first, err := fs.ReadFile(zr, zr.File[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string][]byte{
		"x.dcm":         []byte("this is a text file, not DICOM\n"),
		"truncated.dcm": first[:len(first)/2],
		"bomb.zip":      library.ZipBombBytes(t),
	}
	var paths []string
	for name, data := range bad {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	slices.Sort(paths)
	upload(t, s, paths...)
	waitFor(t, s, "the error list", `document.querySelectorAll("#import-errors .import-error").length >= 3 && document.querySelector("#library").dataset.importing === "no"`, time.Minute)
	errs := browsertest.Eval[map[string]string](s, `Object.fromEntries([...document.querySelectorAll("#import-errors .import-error")].map(e => [e.dataset.path, e.textContent]))`)
	for name := range bad {
		if msg, ok := errs[name]; !ok || len(msg) < len(name)+10 {
			t.Errorf("no message for %s: %q", name, errs)
		}
	}
	if !strings.Contains(errs["bomb.zip"], "limit") {
		t.Errorf("bomb.zip: %q does not say it is over the limit", errs["bomb.zip"])
	}
	t.Logf("messages: %q", errs)
	s.Screenshot("errors")
	s.Reload()
	waitFor(t, s, "the list after the bad inputs", `document.querySelectorAll("#series-list .series-item").length === 2`, time.Minute)
	if have := seriesIDs(t, s); !sameSet(have, []string{sample, added}) {
		t.Fatalf("after the bad inputs: %v, want %v", have, []string{sample, added})
	}
	// The series opened last (the zip) is reopened on start.
	waitFor(t, s, "the last series reopened", fmt.Sprintf(`document.querySelector("#library").dataset.selected === %q`, added), time.Minute)

	// 5. Drag and drop: the overlay while dragging, then the dropped file
	// is imported (a synthetic DataTransfer has no FileSystemEntry, so
	// this takes the getAsFile path).
	browsertest.Eval[bool](s, `(() => {
		const dt = new DataTransfer();
		dt.items.add(new File(["not a DICOM file"], "dropped.dcm"));
		document.body.dispatchEvent(new DragEvent("dragenter", {bubbles: true, cancelable: true, dataTransfer: dt}));
		window.__dropTest = dt;
		return true;
	})()`)
	waitFor(t, s, "the drop overlay", `!!document.getElementById("drop-overlay")`, 30*time.Second)
	browsertest.Eval[bool](s, `document.body.dispatchEvent(new DragEvent("drop", {bubbles: true, cancelable: true, dataTransfer: window.__dropTest})) || true`)
	waitFor(t, s, "the dropped file's message", `!document.getElementById("drop-overlay") && !!document.querySelector('#import-errors .import-error[data-path="dropped.dcm"]')`, time.Minute)

	// 6. Delete the sample, with confirmation; it does not come back.
	if err := chromedp.Do(s.Ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`.series-item[data-id=%q] .series-delete`, sample)))); err != nil {
		t.Fatal(err)
	}
	if have := seriesIDs(t, s); len(have) != 2 {
		t.Fatalf("deleted before the confirmation: %v", have)
	}
	if err := chromedp.Do(s.Ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`.series-item[data-id=%q] .series-delete-yes`, sample)))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, s, "the sample deleted", `document.querySelectorAll("#series-list .series-item").length === 1`, time.Minute)
	s.Reload()
	waitFor(t, s, "the library after deleting the sample", `document.querySelector("#library").dataset.ready === "yes" && document.querySelector("#library").dataset.selected !== ""`, time.Minute)
	time.Sleep(2 * time.Second) // a sample import, if wrongly offered again, starts after idle
	if have := seriesIDs(t, s); len(have) != 1 || have[0] != added {
		t.Errorf("after deleting the sample and reloading: %v, want only %s", have, added)
	}
	storage := browsertest.Eval[string](s, `document.getElementById("storage").textContent`)
	if !strings.Contains(storage, "library") || !strings.Contains(storage, "KiB") {
		t.Errorf("storage line %q", storage)
	}
	t.Logf("storage line: %s", storage)

	// 7. Offline: after a reload with the server gone, an import still
	// works — the import worker's script and wasm come from the service
	// worker's cache, and the series is stored and listed.
	s.Offline(true)
	s.Reload()
	waitFor(t, s, "the list offline", `document.querySelector("#library").dataset.ready === "yes" && document.querySelectorAll("#series-list .series-item").length === 1`, time.Minute)
	offlineZip := filepath.Join(dir, "offline.zip")
	if err := os.WriteFile(offlineZip, good, 0o644); err != nil {
		t.Fatal(err)
	}
	upload(t, s, offlineZip)
	waitFor(t, s, "the zip imported offline", `document.querySelectorAll("#series-list .series-item").length === 2 && document.querySelector("#library").dataset.importing === "no"`, 2*time.Minute)
	if msgs := browsertest.Eval[string](s, `(document.getElementById("import-errors") || {}).innerText || ""`); msgs != "" {
		t.Errorf("the offline import reported problems: %s", msgs)
	}
	s.Offline(false)

	for _, e := range s.ConsoleErrors() {
		if strings.Contains(e, "library") || strings.Contains(e, "import worker") {
			t.Errorf("console: %s", e)
		}
	}
}

// upload sets the files of #import-input, which fires its change event.
func upload(t *testing.T, s *browsertest.Session, paths ...string) {
	t.Helper()
	if err := chromedp.Do(s.Ctx, chromedp.SetUploadFiles(chromedp.ID("import-input"), paths, chromedp.NodeReady)); err != nil {
		t.Fatalf("setting the input's files: %v", err)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// lib2 is the last import's window (performance.now() ms).
func lib2(t *testing.T, s *browsertest.Session) [2]float64 {
	lib := browsertest.Eval[map[string]float64](s, `window.__ctlensLibrary || {}`)
	return [2]float64{lib["last-start"], lib["last-end"]}
}

// checkLongTasks fails the test if a main-thread task over 200 ms
// overlapped the window (performance.now() ms), and returns the longest.
func checkLongTasks(t *testing.T, s *browsertest.Session, what string, window [2]float64) time.Duration {
	t.Helper()
	tasks := browsertest.Eval[[][2]float64](s, `new Promise(resolve => {
		const all = [];
		const o = new PerformanceObserver(l => { for (const e of l.getEntries()) all.push([e.startTime, e.duration]); });
		o.observe({type: "longtask", buffered: true});
		setTimeout(() => { o.disconnect(); resolve(all); }, 300);
	})`)
	var longest time.Duration
	var in [][2]float64
	for _, tk := range tasks {
		if tk[0]+tk[1] >= window[0] && tk[0] <= window[1] {
			longest = max(longest, time.Duration(tk[1]*float64(time.Millisecond)))
			in = append(in, tk)
		}
	}
	t.Logf("%s: %.0f ms; %d long task(s) during it, longest %s: %v", what, window[1]-window[0], len(in), longest, in)
	if window[1] == 0 {
		t.Errorf("%s: the app published no import window", what)
	}
	if longest > 200*time.Millisecond {
		t.Errorf("%s: a main-thread task took %s; the budget is 200 ms", what, longest)
	}
	return longest
}

// settle waits (up to a minute) until the page has gone 1.5 s without a
// long task, so that a measurement that follows sees only its own.
func settle(t *testing.T, s *browsertest.Session) {
	t.Helper()
	quiet := browsertest.Eval[bool](s, `new Promise(resolve => {
		let timer = setTimeout(() => done(true), 1500);
		const giveUp = setTimeout(() => done(false), 60000);
		const o = new PerformanceObserver(() => { clearTimeout(timer); timer = setTimeout(() => done(true), 1500); });
		o.observe({type: "longtask"});
		function done(ok) { o.disconnect(); clearTimeout(timer); clearTimeout(giveUp); resolve(ok); }
	})`)
	if !quiet {
		t.Logf("the page did not go quiet within a minute; measuring anyway")
	}
}
