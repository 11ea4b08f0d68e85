package serve

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"

	"ctlens/weights"
)

// fixture is a site over a fake wasm, a model directory with a manifest
// and a sample study with a subfolder and a hidden file.
type fixture struct {
	site     *Site
	wasm     []byte
	engine   []byte // the engine worker's wasm
	importer []byte // the import worker's wasm
	shard    []byte
	weights  string
	sample   string
	outside  string // a file beside the served folders, never to be served
}

// sharedCache keeps the fixture wasm's compressed forms across tests
// (every fixture's wasm is the same bytes), so only the first compresses.
var sharedCache string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "serve-test-")
	if err != nil {
		panic(err)
	}
	sharedCache = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// newFixture builds the fixture site; cacheDir "" shares sharedCache.
func newFixture(t *testing.T, cacheDir string) *fixture {
	t.Helper()
	if cacheDir == "" {
		cacheDir = sharedCache
	}
	dir := t.TempDir()
	f := &fixture{}
	// A wasm-looking module: the header, then compressible but not
	// trivial bytes.
	rng := rand.New(rand.NewPCG(1, 2))
	f.wasm = []byte("\x00asm\x01\x00\x00\x00")
	for i := 0; i < 100_000; i++ {
		f.wasm = append(f.wasm, byte(rng.IntN(16)), byte(i))
	}
	wasmPath := filepath.Join(dir, "app.wasm")
	must(t, os.WriteFile(wasmPath, f.wasm, 0o644))
	f.engine = []byte("\x00asm\x01\x00\x00\x00")
	for i := 0; i < 50_000; i++ {
		f.engine = append(f.engine, byte(rng.IntN(8)), byte(i), 'e')
	}
	enginePath := filepath.Join(dir, "engine.wasm")
	must(t, os.WriteFile(enginePath, f.engine, 0o644))
	f.importer = []byte("\x00asm\x01\x00\x00\x00")
	for i := 0; i < 30_000; i++ {
		f.importer = append(f.importer, byte(rng.IntN(8)), byte(i), 'i')
	}
	importPath := filepath.Join(dir, "import.wasm")
	must(t, os.WriteFile(importPath, f.importer, 0o644))

	f.weights = filepath.Join(dir, "model")
	must(t, os.MkdirAll(f.weights, 0o755))
	f.shard = make([]byte, 4096)
	for i := range f.shard {
		f.shard[i] = byte(i * 7)
	}
	sum := sha256.Sum256(f.shard)
	must(t, os.WriteFile(filepath.Join(f.weights, "model-00001-of-00001.safetensors"), f.shard, 0o644))
	man, err := json.Marshal(weights.Manifest{Format: weights.FormatName, Version: weights.FormatVersion, Model: "fixture",
		Shards: []weights.FileRef{{File: "model-00001-of-00001.safetensors", Bytes: int64(len(f.shard)), SHA256: hex.EncodeToString(sum[:])}}})
	must(t, err)
	must(t, os.WriteFile(filepath.Join(f.weights, weights.ManifestFile), man, 0o644))

	f.sample = filepath.Join(dir, "study")
	must(t, os.MkdirAll(filepath.Join(f.sample, "series 2"), 0o755))
	must(t, os.WriteFile(filepath.Join(f.sample, "IM0001.dcm"), []byte("dicom one"), 0o644))
	must(t, os.WriteFile(filepath.Join(f.sample, "series 2", "IM0002.dcm"), []byte("dicom two!"), 0o644))
	must(t, os.WriteFile(filepath.Join(f.sample, ".DS_Store"), []byte("junk"), 0o644))
	f.outside = filepath.Join(dir, "secret.txt")
	must(t, os.WriteFile(f.outside, []byte("SECRET"), 0o644))
	must(t, os.Symlink(f.outside, filepath.Join(f.sample, "link.dcm")))
	must(t, os.Symlink(f.outside, filepath.Join(f.weights, "link.bin")))

	f.site, err = New(Config{WasmPath: wasmPath, EngineWasmPath: enginePath, ImportWasmPath: importPath, CacheDir: cacheDir, WeightsDir: f.weights, SampleDir: f.sample, SampleName: "Fixture study"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func get(h http.Handler, path string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func TestWasmPrecompressed(t *testing.T) {
	f := newFixture(t, "")
	decode := map[string]func([]byte) ([]byte, error){
		"br": func(b []byte) ([]byte, error) { return io.ReadAll(brotli.NewReader(bytes.NewReader(b))) },
		"gzip": func(b []byte) ([]byte, error) {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			return io.ReadAll(zr)
		},
		"": func(b []byte) ([]byte, error) { return b, nil },
	}
	for _, w := range []struct {
		path string
		raw  []byte
	}{{"/web/app.wasm", f.wasm}, {"/web/engine.wasm", f.engine}, {"/web/import.wasm", f.importer}} {
		checkPrecompressed(t, f.site, w.path, w.raw, decode)
	}
	// app.js is told the decoded size: the compressed Content-Length
	// would make go-app's progress pass 100%.
	js := get(f.site, "/app.js").Body.String()
	if want := fmt.Sprintf(`goappWasmContentLength = "%d"`, len(f.wasm)); !strings.Contains(js, want) {
		t.Errorf("app.js lacks %s", want)
	}
	// The Go program starts in a browser task of its own, after the one
	// that instantiated the wasm.
	for _, p := range []string{"/app.js", "/goapp.js"} {
		rec := get(f.site, p)
		if body := rec.Body.String(); rec.Code != 200 || !strings.Contains(body, startApart+goRun) || strings.Count(body, goRun) != 1 {
			t.Errorf("%s (%d) does not start the wasm in a task of its own", p, rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.Contains(ct, "javascript") {
			t.Errorf("%s: Content-Type %q", p, ct)
		}
	}
	st := f.site.Stats()
	if st.WasmBytes != len(f.wasm) || st.BrotliBytes == 0 || st.GzipBytes == 0 || len(st.Version) != 20 ||
		st.EngineBytes != len(f.engine) || st.EngineBrotliBytes == 0 || st.EngineGzipBytes == 0 {
		t.Errorf("Stats %+v", st)
	}
}

// checkPrecompressed fetches the wasm at path with each Accept-Encoding
// and checks the encoding chosen, that the body decodes to raw, and the
// caching headers.
func checkPrecompressed(t *testing.T, site http.Handler, path string, raw []byte, decode map[string]func([]byte) ([]byte, error)) {
	t.Helper()
	etags := map[string]string{}
	for _, c := range []struct{ accept, want string }{
		{"gzip, deflate, br, zstd", "br"},
		{"gzip, deflate", "gzip"},
		{"br;q=0, gzip", "gzip"},
		{"br;q=0.5", "br"},
		{"", ""},
		{"identity", ""},
	} {
		rec := get(site, path, "Accept-Encoding", c.accept)
		if rec.Code != 200 {
			t.Fatalf("%s, Accept-Encoding %q: status %d", path, c.accept, rec.Code)
		}
		if got := rec.Header().Get("Content-Encoding"); got != c.want {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", c.accept, got, c.want)
		}
		body := rec.Body.Bytes()
		if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(len(body)) {
			t.Errorf("Accept-Encoding %q: Content-Length %s, body %d bytes", c.accept, cl, len(body))
		}
		if c.want != "" && len(body) >= len(raw) {
			t.Errorf("%s body %d bytes is not smaller than the wasm's %d", c.want, len(body), len(raw))
		}
		raw, err := decode[c.want](body)
		if err != nil || !bytes.Equal(raw, raw) {
			t.Errorf("Accept-Encoding %q: the body does not decode to the wasm (err %v)", c.accept, err)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/wasm" {
			t.Errorf("Content-Type %q", ct)
		}
		if ar := rec.Header().Get("Accept-Ranges"); c.want != "" && ar != "" {
			t.Errorf("%s: Accept-Ranges %q offered on compressed bytes", c.want, ar)
		}
		if v := rec.Header().Get("Vary"); !strings.Contains(v, "Accept-Encoding") {
			t.Errorf("Vary %q lacks Accept-Encoding", v)
		}
		etag := rec.Header().Get("ETag")
		if prev, ok := etags[c.want]; ok && prev != etag {
			t.Errorf("ETag for %q changed between requests: %s, %s", c.want, prev, etag)
		}
		etags[c.want] = etag
		if rec := get(site, path, "Accept-Encoding", c.accept, "If-None-Match", etag); rec.Code != http.StatusNotModified {
			t.Errorf("If-None-Match %s: status %d, want 304", etag, rec.Code)
		}
	}
	if etags["br"] == etags["gzip"] || etags["br"] == etags[""] {
		t.Errorf("%s: encodings share an ETag: %v", path, etags)
	}
}

func TestWasmCompressedOnceAndCached(t *testing.T) {
	cache := t.TempDir()
	a := newFixture(t, cache)
	if a.site.Stats().CompressTime == 0 {
		t.Errorf("first New reports no compression time")
	}
	ents, _ := os.ReadDir(cache)
	if len(ents) != 6 {
		t.Errorf("cache holds %d files, want the .gz and the .br of the three wasm", len(ents))
	}
	b := newFixture(t, cache)
	if b.site.Stats().CompressTime != 0 {
		t.Errorf("second New compressed again (%s) despite the cache", b.site.Stats().CompressTime)
	}
	if rec := get(b.site, "/web/app.wasm", "Accept-Encoding", "br"); rec.Code != 200 {
		t.Errorf("wasm from the cache: status %d", rec.Code)
	} else if raw, err := io.ReadAll(brotli.NewReader(rec.Body)); err != nil || !bytes.Equal(raw, b.wasm) {
		t.Errorf("the cached brotli does not decode to the wasm (err %v)", err)
	}
}

func TestNotAWasm(t *testing.T) {
	p := filepath.Join(t.TempDir(), "app.wasm")
	must(t, os.WriteFile(p, []byte("<html>not wasm</html>"), 0o644))
	_, err := New(Config{WasmPath: p})
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("New over a non-wasm file: err %v, want one naming %s", err, p)
	}
	if _, err := New(Config{}); err == nil {
		t.Errorf("New without a wasm path: no error")
	}
	if _, err := New(Config{WasmPath: writeWasm(t)}); err == nil || !strings.Contains(err.Error(), "EngineWasmPath") {
		t.Errorf("New without the engine worker's wasm: err %v", err)
	}
	_, err = New(Config{WasmPath: writeWasm(t), EngineWasmPath: p, ImportWasmPath: writeWasm(t)})
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "model worker") {
		t.Errorf("New over a non-wasm engine: err %v, want one naming the model worker and %s", err, p)
	}
	if _, err := New(Config{WasmPath: writeWasm(t), EngineWasmPath: writeWasm(t)}); err == nil || !strings.Contains(err.Error(), "ImportWasmPath") {
		t.Errorf("New without the import worker's wasm: err %v", err)
	}
	_, err = New(Config{WasmPath: writeWasm(t), EngineWasmPath: writeWasm(t), ImportWasmPath: p})
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "import worker") {
		t.Errorf("New over a non-wasm importer: err %v, want one naming the import worker and %s", err, p)
	}
}

func TestWeightsRangeAndETag(t *testing.T) {
	f := newFixture(t, "")
	const path = "/weights/model-00001-of-00001.safetensors"
	full := get(f.site, path)
	if full.Code != 200 || !bytes.Equal(full.Body.Bytes(), f.shard) {
		t.Fatalf("GET %s: %d, %d bytes", path, full.Code, full.Body.Len())
	}
	sum := sha256.Sum256(f.shard)
	etag := full.Header().Get("ETag")
	if etag != `"sha256-`+hex.EncodeToString(sum[:])+`"` {
		t.Errorf("ETag %s is not the manifest's sha256", etag)
	}
	if ar := full.Header().Get("Accept-Ranges"); ar != "bytes" {
		t.Errorf("Accept-Ranges %q", ar)
	}
	part := get(f.site, path, "Range", "bytes=1000-1999")
	if part.Code != http.StatusPartialContent {
		t.Fatalf("Range: status %d, want 206", part.Code)
	}
	if !bytes.Equal(part.Body.Bytes(), f.shard[1000:2000]) {
		t.Errorf("Range 1000-1999: wrong bytes")
	}
	if cr := part.Header().Get("Content-Range"); cr != fmt.Sprintf("bytes 1000-1999/%d", len(f.shard)) {
		t.Errorf("Content-Range %q", cr)
	}
	if rec := get(f.site, path, "If-None-Match", etag); rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", rec.Code)
	}
	// The manifest has no sha256 of its own: size+mtime, still revalidated.
	man := get(f.site, "/weights/manifest.json")
	if man.Code != 200 || man.Header().Get("ETag") == "" {
		t.Errorf("manifest.json: %d, ETag %q", man.Code, man.Header().Get("ETag"))
	}
	if rec := get(f.site, "/weights/manifest.json", "If-None-Match", man.Header().Get("ETag")); rec.Code != http.StatusNotModified {
		t.Errorf("manifest.json If-None-Match: %d, want 304", rec.Code)
	}
}

func TestNothingOutsideTheFolders(t *testing.T) {
	f := newFixture(t, "")
	for _, p := range []string{
		"/weights/../secret.txt",
		"/weights/%2e%2e/secret.txt",
		"/weights/..%2fsecret.txt",
		"/weights/link.bin", // a symlink out of the folder
		"/weights/",         // no listing
		"/sample/",
		"/sample/../secret.txt",
		"/sample/series%202/..%2f..%2fsecret.txt",
		"/sample/link.dcm",
		"/sample/.DS_Store", // hidden files are not part of the study
		"/web/../secret.txt",
		"/web/app.wasm/x",
	} {
		rec := get(f.site, p)
		if rec.Code == 200 || strings.Contains(rec.Body.String(), "SECRET") {
			t.Errorf("GET %s: status %d, body %.40q", p, rec.Code, rec.Body.String())
		}
	}
}

func TestSampleIndexListsTheStudy(t *testing.T) {
	f := newFixture(t, "")
	rec := get(f.site, "/sample/index.json")
	if rec.Code != 200 {
		t.Fatalf("index.json: %d", rec.Code)
	}
	var idx SampleIndex
	if err := json.Unmarshal(rec.Body.Bytes(), &idx); err != nil {
		t.Fatal(err)
	}
	want := []string{"IM0001.dcm", "series 2/IM0002.dcm"}
	if idx.Name != "Fixture study" || strings.Join(idx.Files, "|") != strings.Join(want, "|") || idx.Bytes != int64(len("dicom one")+len("dicom two!")) {
		t.Errorf("index %+v, want files %v", idx, want)
	}
	for _, file := range idx.Files {
		u := "/sample/" + strings.ReplaceAll(file, " ", "%20")
		rec := get(f.site, u)
		b, _ := os.ReadFile(filepath.Join(f.sample, filepath.FromSlash(file)))
		if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), b) {
			t.Errorf("GET %s: %d", u, rec.Code)
		}
	}
	part := get(f.site, "/sample/IM0001.dcm", "Range", "bytes=6-")
	if part.Code != http.StatusPartialContent || part.Body.String() != "one" {
		t.Errorf("Range on the sample: %d %q", part.Code, part.Body.String())
	}
	if rec := get(f.site, "/sample/index.json", "If-None-Match", rec.Header().Get("ETag")); rec.Code != http.StatusNotModified {
		t.Errorf("index.json If-None-Match: %d", rec.Code)
	}
	// An empty study folder is an error that names it.
	empty := t.TempDir()
	_, err := New(Config{WasmPath: writeWasm(t), EngineWasmPath: writeWasm(t), ImportWasmPath: writeWasm(t), SampleDir: empty})
	if err == nil || !strings.Contains(err.Error(), empty) {
		t.Errorf("empty sample folder: err %v", err)
	}
}

func writeWasm(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "app.wasm")
	must(t, os.WriteFile(p, []byte("\x00asm\x01\x00\x00\x00"), 0o644))
	return p
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	f := newFixture(t, "")
	for _, p := range []string{"/", "/study/abc", "/web/app.wasm", "/web/engine.wasm", "/web/engine-worker.js", "/web/import.wasm", "/web/import-worker.js", "/app-worker.js", "/app.js", "/wasm_exec.js",
		"/manifest.webmanifest", "/web/ctlens.css", "/web/icon-192.png", "/weights/manifest.json",
		"/sample/index.json", "/sample/IM0001.dcm", "/missing/page", "/weights/nope"} {
		rec := get(f.site, p, "Accept-Encoding", "br")
		for _, kv := range SecurityHeaders {
			if got := rec.Header().Get(kv[0]); got != kv[1] {
				t.Errorf("%s (%d): %s = %q, want %q", p, rec.Code, kv[0], got, kv[1])
			}
		}
	}
}

func TestCSPKeepsEverythingOnThisOrigin(t *testing.T) {
	var csp string
	for _, kv := range SecurityHeaders {
		if kv[0] == "Content-Security-Policy" {
			csp = kv[1]
		}
	}
	for _, directive := range strings.Split(csp, ";") {
		f := strings.Fields(directive)
		if len(f) == 0 {
			continue
		}
		for _, src := range f[1:] {
			if strings.Contains(src, "://") || src == "*" || strings.HasPrefix(src, "http") {
				t.Errorf("CSP %s allows a foreign source %q", f[0], src)
			}
			if f[0] == "script-src" && (src == "'unsafe-inline'" || src == "'unsafe-eval'") {
				t.Errorf("CSP script-src allows %s", src)
			}
		}
	}
	if !strings.Contains(csp, "connect-src 'self'") || !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("CSP does not restrict fetches to this origin: %q", csp)
	}
}

// The page must work under that CSP: no inline script, and nothing it
// loads from elsewhere (go-app's defaults point at GitHub).
func TestPageIsSelfContained(t *testing.T) {
	f := newFixture(t, "")
	for _, p := range []string{"/", "/study/abc"} {
		rec := get(f.site, p)
		if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			t.Fatalf("GET %s: %d %s", p, rec.Code, rec.Header().Get("Content-Type"))
		}
		page := rec.Body.String()
		for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1) {
			if !strings.Contains(tag, "src=") {
				t.Errorf("%s has an inline script %s, which the CSP blocks", p, tag)
			}
		}
		for _, m := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(page, -1) {
			if !strings.HasPrefix(m[1], "/") {
				t.Errorf("%s references %q, not a path on this origin", p, m[1])
			}
		}
		for _, want := range []string{`id="workstation"`, "/app.js", "/web/ctlens.css", "/web/icon.svg"} {
			if !strings.Contains(page, want) {
				t.Errorf("%s lacks %s", p, want)
			}
		}
	}
	if rec := get(f.site, "/not/a/route"); rec.Code != http.StatusNotFound {
		t.Errorf("an unrouted path: %d, want 404", rec.Code)
	}
	man := get(f.site, "/manifest.webmanifest").Body.String()
	if strings.Contains(man, "://") || !strings.Contains(man, "/web/icon-512.png") {
		t.Errorf("manifest has remote or missing icons: %s", man)
	}
	for _, p := range []string{"/web/icon-192.png", "/web/icon-512.png", "/web/icon.svg", "/web/ctlens.css"} {
		if rec := get(f.site, p); rec.Code != 200 || rec.Body.Len() < 100 {
			t.Errorf("GET %s: %d, %d bytes", p, rec.Code, rec.Body.Len())
		}
	}
}

func TestWorkerPrecachesTheShell(t *testing.T) {
	f := newFixture(t, "")
	rec := get(f.site, "/app-worker.js")
	if rec.Code != 200 {
		t.Fatalf("app-worker.js: %d", rec.Code)
	}
	js := rec.Body.String()
	if !strings.Contains(js, `"ctlens-`+f.site.Stats().Version+`"`) {
		t.Errorf("the worker's cache is not named by the version")
	}
	m := regexp.MustCompile(`resourcesToCache = (\[.*\]);`).FindStringSubmatch(js)
	if m == nil {
		t.Fatalf("no resource list in the worker:\n%s", js)
	}
	var res []string
	if err := json.Unmarshal([]byte(m[1]), &res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/", "/app.js", "/wasm_exec.js", "/web/app.wasm", "/app.css", "/manifest.webmanifest",
		"/web/ctlens.css", "/web/icon-192.png", "/web/icon-512.png", "/web/icon.svg", EngineWorkerURL, EngineWasmURL} {
		found := false
		for _, r := range res {
			found = found || r == want
		}
		if !found {
			t.Errorf("the worker does not precache %s (it has %v)", want, res)
		}
		if rec := get(f.site, want); rec.Code != 200 {
			t.Errorf("precached %s is not served: %d", want, rec.Code)
		}
	}
	if !strings.Contains(js, `req.mode === "navigate"`) {
		t.Errorf("the worker does not answer navigations (deep routes offline)")
	}
}

func TestIconsAreSquarePNGs(t *testing.T) {
	f := newFixture(t, "")
	for _, c := range []struct {
		path string
		size int
	}{{"/web/icon-192.png", 192}, {"/web/icon-512.png", 512}} {
		rec := get(f.site, c.path)
		img, err := png.Decode(rec.Body)
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		if b := img.Bounds(); b.Dx() != c.size || b.Dy() != c.size {
			t.Errorf("%s is %v, want %d×%d", c.path, b, c.size, c.size)
		}
		// Corners transparent (rounded square), centre opaque.
		if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
			t.Errorf("%s: corner alpha %d, want 0", c.path, a)
		}
		if _, _, _, a := img.At(c.size/2, c.size/2).RGBA(); a != 0xffff {
			t.Errorf("%s: centre alpha %d, want opaque", c.path, a)
		}
	}
}

func TestCachePrunedToRecentBuilds(t *testing.T) {
	dir := t.TempDir()
	// Twelve older wasm files' compressed forms, oldest first.
	var old []string
	for i := 0; i < 12; i++ {
		h := fmt.Sprintf("%064d", i)
		old = append(old, h)
		for _, ext := range []string{".gz6", ".br7"} {
			p := filepath.Join(dir, h+ext)
			must(t, os.WriteFile(p, []byte("x"), 0o644))
			tm := time.Now().Add(time.Duration(i-10) * time.Hour)
			must(t, os.Chtimes(p, tm, tm))
		}
	}
	newFixture(t, dir) // compresses the fixture's three wasm: a new build
	ents, _ := os.ReadDir(dir)
	kept := map[string]bool{}
	for _, e := range ents {
		kept[e.Name()[:64]] = true
	}
	// A build is three wasm (the app's and its two workers').
	if len(kept) != 3*keepBuilds {
		t.Errorf("%d wasm kept, want %d: %v", len(kept), 3*keepBuilds, kept)
	}
	for i, h := range old {
		if want := i >= len(old)-3*(keepBuilds-1); kept[h] != want {
			t.Errorf("build %d (age rank %d): kept %v, want %v", i, len(old)-i, kept[h], want)
		}
	}
}

// TestEngineWorkerServed: both workers' scripts are JavaScript that
// loads wasm_exec.js and the worker's wasm from this origin, all are
// precached by the service worker, and the version (the service worker's
// cache name) changes when only one worker's wasm does.
func TestEngineWorkerServed(t *testing.T) {
	f := newFixture(t, "")
	for _, c := range [][2]string{{EngineWorkerURL, EngineWasmURL}, {ImportWorkerURL, ImportWasmURL}} {
		script, wasm := c[0], c[1]
		rec := get(f.site, script)
		if rec.Code != 200 {
			t.Fatalf("GET %s: %d", script, rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", script, ct)
		}
		js := rec.Body.String()
		for _, want := range []string{`importScripts(self.origin + "/wasm_exec.js", self.origin + "` + WorkerBootURL + `")`, `ctlensRunWorker(self.origin + "` + wasm + `"`, "__ctlensPending"} {
			if !strings.Contains(js, want) {
				t.Errorf("%s lacks %s", script, want)
			}
		}
		if etag := rec.Header().Get("ETag"); etag != `"`+f.site.Stats().Version+`"` {
			t.Errorf("%s: ETag %s, want the version", script, etag)
		}
		if rec := get(f.site, script, "If-None-Match", rec.Header().Get("ETag")); rec.Code != http.StatusNotModified {
			t.Errorf("%s If-None-Match: %d, want 304", script, rec.Code)
		}
	}
	boot := get(f.site, WorkerBootURL)
	if b := boot.Body.String(); boot.Code != 200 || !strings.Contains(b, "function ctlensRunWorker(wasmURL") || !strings.Contains(b, "instantiateStreaming(fetch(wasmURL)") {
		t.Errorf("%s (%d) does not start a worker's wasm", WorkerBootURL, boot.Code)
	}
	w := get(f.site, "/app-worker.js").Body.String()
	for _, u := range []string{EngineWorkerURL, EngineWasmURL, ImportWorkerURL, ImportWasmURL, WorkerBootURL} {
		if !strings.Contains(w, `"`+u+`"`) {
			t.Errorf("the service worker does not precache %s", u)
		}
	}

	// The same app wasm with another engine: another version.
	dir := t.TempDir()
	app, eng := filepath.Join(dir, "app.wasm"), filepath.Join(dir, "engine.wasm")
	must(t, os.WriteFile(app, f.wasm, 0o644))
	must(t, os.WriteFile(eng, append(append([]byte(nil), f.engine...), 1), 0o644))
	imp := filepath.Join(dir, "import.wasm")
	must(t, os.WriteFile(imp, f.importer, 0o644))
	other, err := New(Config{WasmPath: app, EngineWasmPath: eng, ImportWasmPath: imp, CacheDir: sharedCache})
	if err != nil {
		t.Fatal(err)
	}
	if other.Stats().Version == f.site.Stats().Version {
		t.Errorf("the version %s did not change with the engine's wasm", other.Stats().Version)
	}
	// And with another importer.
	must(t, os.WriteFile(eng, f.engine, 0o644))
	must(t, os.WriteFile(imp, append(append([]byte(nil), f.importer...), 1), 0o644))
	third, err := New(Config{WasmPath: app, EngineWasmPath: eng, ImportWasmPath: imp, CacheDir: sharedCache})
	if err != nil {
		t.Fatal(err)
	}
	if third.Stats().Version == f.site.Stats().Version {
		t.Errorf("the version %s did not change with the importer's wasm", third.Stats().Version)
	}
}
