//go:build !js

package library_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ctlens/app/internal/browsertest"
	"ctlens/tools/phantom/synth"
)

// phantomFolder writes a phantom series as a user's folder would hold it:
// root/name/ with half the slices at the top, the rest in a subfolder
// name/more/, and a README in name/docs/ that is not DICOM. It returns
// the folder, the number of slices and the README's path relative to
// root (what the browser calls webkitRelativePath).
func phantomFolder(t *testing.T, root, name string, seed uint64, size synth.Size) (dir string, count int, readme string) {
	t.Helper()
	c, err := synth.NewCase(synth.Options{Seed: seed, Size: size, Findings: []synth.FindingSpec{}, Workers: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(root, "phantom")
	if err := c.Write(context.Background(), tmp, nil); err != nil {
		t.Fatal(err)
	}
	// The case's files, wherever under tmp the generator put them.
	var files []string
	if err := filepath.WalkDir(tmp, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(files) != size.Slices {
		t.Fatalf("the phantom wrote %d files, want one per slice (%d): %v", len(files), size.Slices, files)
	}
	slices.Sort(files)
	dir = filepath.Join(root, name)
	for i, f := range files {
		to := filepath.Join(dir, filepath.Base(f))
		if i%2 == 1 {
			to = filepath.Join(dir, "more", filepath.Base(f))
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(f, to); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "docs", "README.txt"), []byte("Exported by the scanner's CD writer.\nOpen with any DICOM viewer.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(tmp); err != nil {
		t.Fatal(err)
	}
	return dir, size.Slices, name + "/docs/README.txt"
}

// folderFiles lists the regular files under dir, as a folder picker hands
// them to the page.
func folderFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	if err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBrowserLibraryFolder imports a nested folder through the folder
// picker (<input type=file webkitdirectory>, given the folder by CDP's
// DOM.setFileInputFiles as a user's choice of that folder would), then
// another by a real drop of the folder (CDP drag events carrying its
// path): each time the series from both levels is one series with every
// slice, the README is listed as skipped under its path inside the
// folder, and both survive a reload.
func TestBrowserLibraryFolder(t *testing.T) {
	s := browsertest.Start(t, browsertest.Options{})
	waitFor(t, s, "the sample study", `!!document.querySelector('#series-list .series-item[data-sample="yes"]') && document.querySelector("#library").dataset.importing === "no"`, 3*time.Minute)
	sample := seriesIDs(t, s)
	if len(sample) != 1 {
		t.Fatalf("first open lists %v, want the sample only", sample)
	}

	dir, n, readme := phantomFolder(t, t.TempDir(), "study", 21, synth.Size{Cols: 48, Rows: 40, Slices: 12})
	t.Logf("folder %s: %d files", dir, len(folderFiles(t, dir)))
	if err := chromedp.Do(s.Ctx, chromedp.SetUploadFiles(chromedp.ID("import-folder"), []string{dir}, chromedp.NodeReady)); err != nil {
		t.Fatalf("choosing the folder in the folder picker: %v", err)
	}
	waitFor(t, s, "the folder's series listed", `document.querySelectorAll("#series-list .series-item").length === 2 && document.querySelector("#library").dataset.importing === "no"`, 2*time.Minute)
	got := folderSeries(t, s, sample[0])
	checkFolderSeries(t, "after the import", got, n, readme)
	// The import's own problem list names the README by its path too.
	errs := browsertest.Eval[map[string]string](s, `Object.fromEntries([...document.querySelectorAll("#import-errors .import-error")].map(e => [e.dataset.path, e.textContent]))`)
	if len(errs) != 1 || errs[readme] == "" {
		t.Errorf("the import's problems are %q, want only %s", errs, readme)
	}
	summary := browsertest.Eval[string](s, `(document.getElementById("import-summary") || {}).textContent || ""`)
	if want := fmt.Sprintf("%d file(s) read: 1 series stored, 1 problem(s)", n+1); summary != want {
		t.Errorf("import summary %q, want %q", summary, want)
	}
	waitFor(t, s, "the folder's series opened", fmt.Sprintf(`document.querySelector("#library").dataset.selected === %q`, got.ID), time.Minute)
	s.Screenshot("folder")

	s.Reload()
	waitFor(t, s, "the list after a reload", `document.querySelectorAll("#series-list .series-item").length === 2 && document.querySelector("#library").dataset.ready === "yes"`, time.Minute)
	again := folderSeries(t, s, sample[0])
	if again.ID != got.ID {
		t.Errorf("after a reload the folder's series is %q, before %q", again.ID, got.ID)
	}
	checkFolderSeries(t, "after a reload", again, n, readme)

	// Another folder, dragged from the disk and dropped on the page: the
	// drop path walks the browser's directory entries.
	dir2, n2, readme2 := phantomFolder(t, t.TempDir(), "scan 2", 22, synth.Size{Cols: 40, Rows: 40, Slices: 10})
	s.DropFiles(browsertest.Point{X: 600, Y: 400}, dir2)
	waitFor(t, s, "the dropped folder's series listed", `document.querySelectorAll("#series-list .series-item").length === 3 && document.querySelector("#library").dataset.importing === "no"`, 2*time.Minute)
	dropped := folderSeries(t, s, sample[0], got.ID)
	checkFolderSeries(t, "after the drop", dropped, n2, readme2)
	s.Reload()
	waitFor(t, s, "the list after a reload", `document.querySelectorAll("#series-list .series-item").length === 3 && document.querySelector("#library").dataset.ready === "yes"`, time.Minute)
	checkFolderSeries(t, "the dropped folder after a reload", folderSeries(t, s, sample[0], got.ID), n2, readme2)

	// An empty folder dropped: the page says so and stores nothing.
	empty := filepath.Join(t.TempDir(), "empty scan")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	s.DropFiles(browsertest.Point{X: 600, Y: 400}, empty)
	waitFor(t, s, "the empty folder named", `[...document.querySelectorAll("#import-errors .import-error")].some(e => e.dataset.path === "empty scan" && e.textContent.includes("no files"))`, time.Minute)
	if n := browsertest.Eval[int](s, `document.querySelectorAll("#series-list .series-item").length`); n != 3 {
		t.Errorf("after dropping an empty folder the list holds %d series, want 3", n)
	}
	for _, e := range s.ConsoleErrors() {
		if strings.Contains(e, "library") {
			t.Errorf("console: %s", e)
		}
	}
}

// listed is one series of the list as the page shows it.
type listed struct {
	ID, Info string
	Slices   int
	Skipped  []string // the skipped files' lines
}

// folderSeries returns the one listed series that is none of known.
func folderSeries(t *testing.T, s *browsertest.Session, known ...string) listed {
	t.Helper()
	all := browsertest.Eval[[]listed](s, `[...document.querySelectorAll("#series-list .series-item")].map(e => ({
		ID: e.dataset.id, Slices: +e.dataset.slices,
		Info: (e.querySelector(".series-info") || {}).textContent || "",
		Skipped: [...e.querySelectorAll(".skipped-file")].map(f => f.textContent)}))`)
	var out []listed
	for _, l := range all {
		if !slices.Contains(known, l.ID) {
			out = append(out, l)
		}
	}
	if len(out) != 1 {
		t.Fatalf("want one series besides %v, the list holds %+v", known, all)
	}
	return out[0]
}

func checkFolderSeries(t *testing.T, when string, l listed, n int, readme string) {
	t.Helper()
	if l.Slices != n || !strings.HasPrefix(l.Info, fmt.Sprintf("%d slices", n)) {
		t.Errorf("%s: the folder's series shows %d slices (%q), want %d: the subfolder's slices belong to it too", when, l.Slices, l.Info, n)
	}
	if len(l.Skipped) != 1 || !strings.HasPrefix(l.Skipped[0], readme+": ") || !strings.Contains(l.Skipped[0], "DICOM") {
		t.Errorf("%s: skipped files %q, want %s with the reason it is not DICOM", when, l.Skipped, readme)
	}
	t.Logf("%s: %s · %d slices · skipped %q", when, l.ID, l.Slices, l.Skipped)
}
