package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// jsDeps lists the packages a js/wasm build of pkg links.
func jsDeps(t *testing.T, pkg string) map[string]bool {
	t.Helper()
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "list", "-deps", pkg)
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

// TestPageLinksNoDICOMParser: the page's wasm must not link the DICOM
// parser (its tag dictionary's init is a 2.65 MB function that V8
// compiles on the main thread at every start); the import worker's does.
func TestPageLinksNoDICOMParser(t *testing.T) {
	page, worker := jsDeps(t, "ctlens/app/web"), jsDeps(t, "ctlens/app/importer")
	for _, p := range []string{"github.com/suyashkumar/dicom", "github.com/suyashkumar/dicom/pkg/tag", "ctlens/volume/dicomread"} {
		if page[p] {
			t.Errorf("the page's wasm links %s", p)
		}
		if !worker[p] {
			t.Errorf("the import worker's wasm lacks %s", p)
		}
	}
	for _, p := range []string{"github.com/maxence-charriere/go-app/v10/pkg/app", "ctlens/model/engine"} {
		if worker[p] {
			t.Errorf("the import worker's wasm links %s", p)
		}
	}
}

// TestJSPackagesUnderNode runs the worker's js-only tests (blobfs over
// real Blobs, the protocol on wasm) under Node, as Go's js/wasm port
// runs tests.
func TestJSPackagesUnderNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node not found: %v\nhint: `apt-get install nodejs`; Go's js/wasm tests run under it", err)
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	wasmDir := filepath.Join(runtime.GOROOT(), "lib", "wasm")
	cmd := exec.Command(goBin, "test", "-count=1", "ctlens/app/importer/blobfs", "ctlens/app/importer/protocol")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm",
		"PATH="+wasmDir+string(os.PathListSeparator)+filepath.Dir(node)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("GOOS=js GOARCH=wasm go test (under node): %v\n%s", err, out)
	}
	for _, pkg := range []string{"ctlens/app/importer/blobfs", "ctlens/app/importer/protocol"} {
		if !strings.Contains(string(out), "ok  \t"+pkg) {
			t.Errorf("%s did not pass under node:\n%s", pkg, out)
		}
	}
}
