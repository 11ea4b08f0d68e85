package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// goTool is the go command of the toolchain running the tests.
func goTool() string { return filepath.Join(runtime.GOROOT(), "bin", "go") }

// jsDeps lists the packages a js/wasm build of pkg links.
func jsDeps(t *testing.T, pkg string) map[string]bool {
	t.Helper()
	cmd := exec.Command(goTool(), "list", "-deps", pkg)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	m := map[string]bool{}
	for _, l := range strings.Fields(string(out)) {
		m[l] = true
	}
	return m
}

// TestWhatEachWasmLinks: the page's wasm (this command) links neither
// the model's backends (the model runs in the engine worker, app/worker)
// nor the DICOM parser (whose tag dictionary's init is one 2.65 MB
// function that V8 compiled on the page's thread at every start; DICOM
// is read in the import worker, app/importer); each worker links what it
// runs, and neither links go-app.
func TestWhatEachWasmLinks(t *testing.T) {
	page := jsDeps(t, "ctlens/app/web")
	engine := jsDeps(t, "ctlens/app/worker")
	importer := jsDeps(t, "ctlens/app/importer")
	for _, p := range []string{"ctlens/model/cpu", "ctlens/model/gpu"} {
		if page[p] {
			t.Errorf("the page's wasm links %s", p)
		}
		if !engine[p] {
			t.Errorf("the engine worker's wasm lacks %s", p)
		}
	}
	for _, p := range []string{"github.com/suyashkumar/dicom", "github.com/suyashkumar/dicom/pkg/tag", "ctlens/volume/dicomread"} {
		if page[p] {
			t.Errorf("the page's wasm links %s", p)
		}
		if !importer[p] {
			t.Errorf("the import worker's wasm lacks %s", p)
		}
	}
	const goapp = "github.com/maxence-charriere/go-app/v10/pkg/app"
	if !page[goapp] || engine[goapp] || importer[goapp] {
		t.Errorf("go-app linked by the page %v, the engine worker %v, the import worker %v; want the page only", page[goapp], engine[goapp], importer[goapp])
	}
	if importer["ctlens/model/engine"] {
		t.Errorf("the import worker's wasm links the model engine")
	}
}

// TestJSPackagesUnderNode runs the tests of the app's js-only packages
// (Blobs as a file system, the import protocol on wasm, the task yield)
// under Node, as Go's js/wasm port runs tests.
func TestJSPackagesUnderNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node not found: %v\nhint: `apt-get install nodejs`; Go's js/wasm tests run under it", err)
	}
	pkgs := []string{"ctlens/app/importer/blobfs", "ctlens/app/importer/protocol", "ctlens/app/internal/taskyield"}
	wasmDir := filepath.Join(runtime.GOROOT(), "lib", "wasm")
	cmd := exec.Command(goTool(), append([]string{"test", "-count=1"}, pkgs...)...)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm",
		"PATH="+wasmDir+string(os.PathListSeparator)+filepath.Dir(node)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("GOOS=js GOARCH=wasm go test (under node): %v\n%s", err, out)
	}
	for _, pkg := range pkgs {
		if !strings.Contains(string(out), "ok  \t"+pkg) {
			t.Errorf("%s did not pass under node:\n%s", pkg, out)
		}
	}
}
