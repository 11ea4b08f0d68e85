package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServesWhatTheFlagsName starts the command on a free port with a
// prebuilt wasm, a model folder and a study folder, and fetches the page,
// the sample index and the manifest through it.
func TestServesWhatTheFlagsName(t *testing.T) {
	dir := t.TempDir()
	wasm := filepath.Join(dir, "app.wasm")
	write(t, wasm, "\x00asm\x01\x00\x00\x00")
	engine := filepath.Join(dir, "engine.wasm")
	write(t, engine, "\x00asm\x01\x00\x00\x00engine")
	importer := filepath.Join(dir, "import.wasm")
	write(t, importer, "\x00asm\x01\x00\x00\x00importer")
	model := filepath.Join(dir, "model")
	write(t, filepath.Join(model, "manifest.json"), `{"format":"ctlens-weights","version":1,"model":"flag-test"}`)
	study := filepath.Join(dir, "study")
	write(t, filepath.Join(study, "IM1.dcm"), "not really dicom")

	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-wasm", wasm, "-engine-wasm", engine, "-import-wasm", importer, "-weights", model, "-sample", study,
			"-cache", filepath.Join(dir, "cache")}, func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("run returned before serving: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("not serving after 2 minutes")
	}
	for path, want := range map[string]string{
		"/":                      `id="workstation"`,
		"/study/abc":             `id="workstation"`,
		"/sample/index.json":     `"IM1.dcm"`,
		"/weights/manifest.json": `"flag-test"`,
		"/web/engine-worker.js":  `/web/engine.wasm`,
		"/web/engine.wasm":       "\x00asm\x01\x00\x00\x00engine",
		"/web/import-worker.js":  `/web/import.wasm`,
		"/web/import.wasm":       "\x00asm\x01\x00\x00\x00importer",
	} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		_, err = io.Copy(&b, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || !strings.Contains(b.String(), want) {
			t.Errorf("GET %s: %d, body lacks %s", path, resp.StatusCode, want)
		}
		if path == "/sample/index.json" {
			var idx struct{ Files []string }
			if json.Unmarshal([]byte(b.String()), &idx) != nil || len(idx.Files) != 1 {
				t.Errorf("index.json: %s", b.String())
			}
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("run did not stop after its context ended")
	}
}

func TestFlagErrorsAreClear(t *testing.T) {
	appWasm := filepath.Join(t.TempDir(), "app.wasm")
	write(t, appWasm, "\x00asm\x01\x00\x00\x00")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"stray"}, `unexpected argument "stray"`},
		{[]string{"-addr", "256.0.0.1:1", "-wasm", "x"}, "-addr 256.0.0.1:1"},
		{[]string{"-addr", "127.0.0.1:0", "-wasm", "/nonexistent/app.wasm", "-engine-wasm", "/nonexistent/engine.wasm", "-import-wasm", "/nonexistent/import.wasm", "-weights", t.TempDir(), "-sample", t.TempDir()}, "/nonexistent/app.wasm"},
		{[]string{"-addr", "127.0.0.1:0", "-wasm", appWasm, "-engine-wasm", "/nonexistent/engine.wasm", "-import-wasm", "/nonexistent/import.wasm", "-weights", t.TempDir(), "-sample", t.TempDir()}, "/nonexistent/engine.wasm"},
		{[]string{"-addr", "127.0.0.1:0", "-wasm", appWasm, "-engine-wasm", appWasm, "-import-wasm", "/nonexistent/import.wasm", "-weights", t.TempDir(), "-sample", t.TempDir()}, "/nonexistent/import.wasm"},
	} {
		err := run(context.Background(), c.args, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run %v: err %v, want one containing %q", c.args, err, c.want)
		}
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
