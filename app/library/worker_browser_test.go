//go:build !js

package library_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctlens/app/internal/browsertest"
	"ctlens/app/library"
	"ctlens/tools/phantom/synth"
)

// TestBrowserImportWorkerStops: when the import worker goes away in the
// middle of an import (its script posts an id-0 error when its Go
// program ends; the test posts the same from inside the worker), the
// import ends with that reason in the problem list, nothing stored is
// lost, and the next import starts a new worker and succeeds.
func TestBrowserImportWorkerStops(t *testing.T) {
	s := browsertest.Start(t, browsertest.Options{})
	waitFor(t, s, "the sample study", `!!document.querySelector('#series-list .series-item[data-sample="yes"]') && document.querySelector("#library").dataset.importing === "no"`, 3*time.Minute)
	w := s.WaitWorker("/web/import-worker.js", time.Minute)

	dir := t.TempDir()
	big := filepath.Join(dir, "big.zip")
	if err := os.WriteFile(big, library.PhantomZip(t, 21, synth.Size{Cols: 128, Rows: 128, Slices: 160}, ""), 0o644); err != nil {
		t.Fatal(err)
	}
	upload(t, s, big)
	waitFor(t, s, "the import running", `document.querySelector("#library").dataset.importing === "yes"`, time.Minute)
	const why = "test: the import worker stopped"
	browsertest.WorkerEval[bool](s, w, `(self.postMessage({head: JSON.stringify({id: 0, event: {error: "`+why+`"}})}), true)`)
	waitFor(t, s, "the import ended", `document.querySelector("#library").dataset.importing === "no"`, time.Minute)
	problems := browsertest.Eval[string](s, `(document.getElementById("import-errors") || {}).innerText || ""`)
	if !strings.Contains(problems, why) {
		t.Errorf("the stopped import's problems %q do not give the worker's reason %q", problems, why)
	}
	if have := seriesIDs(t, s); len(have) != 1 {
		t.Errorf("after the stopped import the list holds %v, want the sample only", have)
	}

	// The next import gets a new worker.
	small := filepath.Join(dir, "small.zip")
	if err := os.WriteFile(small, library.PhantomZip(t, 22, library.Small, ""), 0o644); err != nil {
		t.Fatal(err)
	}
	upload(t, s, small)
	s.WaitWorker("/web/import-worker.js", time.Minute, w)
	waitFor(t, s, "the next import stored", `document.querySelectorAll("#series-list .series-item").length === 2 && document.querySelector("#library").dataset.importing === "no"`, 2*time.Minute)
	if problems := browsertest.Eval[string](s, `(document.getElementById("import-errors") || {}).innerText || ""`); problems != "" {
		t.Errorf("the import after the restart reported problems: %s", problems)
	}
}
