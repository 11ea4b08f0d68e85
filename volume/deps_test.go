package volume

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestNoDICOMParser: the browser page links volume, and must not link the
// DICOM parser (suyashkumar/dicom's tag dictionary is one 2.65 MB init
// function, 100-200 ms of main-thread compile at page start); reading DICOM
// lives in volume/dicomread, which runs in a worker. Checked natively and for
// js/wasm, since build tags could differ.
func TestNoDICOMParser(t *testing.T) {
	gotool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gotool); err != nil {
		t.Fatalf("go tool not found at %s (runtime.GOROOT()): %v", gotool, err)
	}
	for _, env := range [][]string{nil, {"GOOS=js", "GOARCH=wasm"}} {
		cmd := exec.Command(gotool, "list", "-deps", ".")
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v go list -deps: %v\n%s", env, err, out)
		}
		deps := strings.Fields(string(out))
		if !strings.Contains("\n"+string(out), "\nctlens/volume\n") {
			t.Fatalf("%v go list -deps . does not list ctlens/volume itself:\n%s", env, out)
		}
		for _, d := range deps {
			if strings.HasPrefix(d, "github.com/suyashkumar/") {
				t.Errorf("%v ctlens/volume depends on %s: DICOM reading belongs in ctlens/volume/dicomread", env, d)
			}
		}
	}
}
