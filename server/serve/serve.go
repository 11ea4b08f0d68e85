// Package serve is ctlens' HTTP handler: the go-app PWA (page, app.js,
// service worker, manifest, local icons and CSS), the app's wasm and the
// model engine worker's (app/worker, with its script
// /web/engine-worker.js) and the DICOM import worker's (app/importer,
// /web/import-worker.js) precompressed with brotli and gzip, the model directory under
// /weights/ and the sample study under /sample/ (with Range and ETag),
// and the security headers that keep everything on this origin. The
// command server/ and the browser tests (app/internal/browsertest) both
// serve through it.
package serve

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	ctlens "ctlens/app"
)

//go:embed web
var webFS embed.FS

// Config is what New serves.
type Config struct {
	// WasmPath is the app's wasm (GOOS=js GOARCH=wasm go build ./app/web).
	// Required.
	WasmPath string
	// EngineWasmPath is the model engine worker's wasm (GOOS=js
	// GOARCH=wasm go build ./app/worker), served as /web/engine.wasm.
	// Required: the assistant runs the model in that worker.
	EngineWasmPath string
	// ImportWasmPath is the DICOM import worker's wasm (GOOS=js
	// GOARCH=wasm go build ./app/importer), served as /web/import.wasm.
	// Required: the library decodes DICOM in that worker.
	ImportWasmPath string
	// CacheDir keeps the wasm's compressed forms, named by its hash, so a
	// restart with the same wasm does not compress again. "" compresses
	// in memory at each New.
	CacheDir string
	// WeightsDir is the model directory served under /weights/; "" serves
	// none (404).
	WeightsDir string
	// SampleDir is the sample study served under /sample/, with
	// /sample/index.json listing its files; "" serves none.
	SampleDir string
	// SampleName is the sample's name in index.json; "" uses the folder's
	// name.
	SampleName string
}

// Stats is what New measured, for the log and the notes.
type Stats struct {
	WasmBytes, GzipBytes, BrotliBytes int
	// EngineBytes, EngineGzipBytes, EngineBrotliBytes are the engine
	// worker's wasm.
	EngineBytes, EngineGzipBytes, EngineBrotliBytes int
	// ImportBytes, ImportGzipBytes, ImportBrotliBytes are the import
	// worker's wasm.
	ImportBytes, ImportGzipBytes, ImportBrotliBytes int
	// CompressTime is the time spent compressing; 0 when the compressed
	// forms came from CacheDir.
	CompressTime time.Duration
	// Version is the app version: the first 20 hex digits of the sha256
	// of the three wasm's hashes, fixed per build, so a change to either makes
	// a new service worker.
	Version string
}

// Site is the handler New returns.
type Site struct {
	handler http.Handler
	stats   Stats
}

// ServeHTTP implements http.Handler.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Stats reports the wasm's sizes, the compression time and the version.
func (s *Site) Stats() Stats { return s.stats }

// routesOnce registers the app's routes with go-app once per process:
// go-app's route table is global, and the handler renders only routed
// paths.
var routesOnce sync.Once

// The PNG icons are drawn once per process (a few hundred ms).
var (
	iconsOnce        sync.Once
	icon192, icon512 []byte
)

// staticFiles are the files under /web/ besides the wasm, with their types.
var staticFiles = map[string]string{
	"ctlens.css":   "text/css; charset=utf-8",
	"icon.svg":     "image/svg+xml",
	"icon-192.png": "image/png",
	"icon-512.png": "image/png",
	// The model engine's Web Worker (it loads /wasm_exec.js and
	// /web/engine.wasm).
	"engine-worker.js": "text/javascript; charset=utf-8",
	// The DICOM import Web Worker (it loads /wasm_exec.js and
	// /web/import.wasm).
	"import-worker.js": "text/javascript; charset=utf-8",
	// Both workers' shared start.
	"worker-boot.js": "text/javascript; charset=utf-8",
}

// Paths of the workers, precached by the service worker like the app's
// own files.
const (
	EngineWorkerURL = "/web/engine-worker.js"
	EngineWasmURL   = "/web/engine.wasm"
	ImportWorkerURL = "/web/import-worker.js"
	ImportWasmURL   = "/web/import.wasm"
	WorkerBootURL   = "/web/worker-boot.js"
)

// goRun is the line of go-app's app.js (v10) that starts the Go
// program, right after the wasm is instantiated.
const goRun = "    go.run(wasm.instance);\n"

// startApart is what startApartAppJS puts before goRun: a task boundary.
const startApart = "    await new Promise((resolve) => setTimeout(resolve, 0));\n"

// startApartAppJS renders go-app's app.js once and returns a handler for
// it with the Go program's start moved to a browser task of its own. As
// go-app writes it, the end of the streaming compile, the instantiation
// and the Go runtime's start up to its first block run as one task
// (75–120 ms on a first load here, a trace showed); split, each part is
// about half. A go-app whose app.js lacks the line is an error here, not
// a silent loss of the split.
func startApartAppJS(goapp http.Handler) (http.Handler, error) {
	rec := httptest.NewRecorder()
	goapp.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/app.js", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusOK || strings.Count(body, goRun) != 1 {
		return nil, fmt.Errorf("serve: go-app's /app.js (status %d) does not start the wasm with %q once; the start split in server/serve needs updating for this go-app", rec.Code, strings.TrimSpace(goRun))
	}
	body = strings.Replace(body, goRun, startApart+goRun, 1)
	header := rec.Header().Clone()
	header.Del("Content-Length")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		http.ServeContent(w, r, "app.js", time.Time{}, strings.NewReader(body))
	}), nil
}

// New builds the site for cfg. It reads (and, unless cached, compresses)
// the wasm, so it takes seconds on a fresh build.
func New(cfg Config) (*Site, error) {
	if cfg.WasmPath == "" {
		return nil, errors.New("serve: Config.WasmPath is empty; build the app with GOOS=js GOARCH=wasm go build ./app/web")
	}
	wasm, err := loadWasm(cfg.WasmPath, cfg.CacheDir)
	if err != nil {
		return nil, err
	}
	if cfg.EngineWasmPath == "" {
		return nil, errors.New("serve: Config.EngineWasmPath is empty; build the model worker with GOOS=js GOARCH=wasm go build ./app/worker")
	}
	engine, err := loadWasm(cfg.EngineWasmPath, cfg.CacheDir)
	if err != nil {
		return nil, fmt.Errorf("the model worker: %w", err)
	}
	if cfg.ImportWasmPath == "" {
		return nil, errors.New("serve: Config.ImportWasmPath is empty; build the import worker with GOOS=js GOARCH=wasm go build ./app/importer")
	}
	imp, err := loadWasm(cfg.ImportWasmPath, cfg.CacheDir)
	if err != nil {
		return nil, fmt.Errorf("the import worker: %w", err)
	}
	if wasm.compressTime > 0 || engine.compressTime > 0 || imp.compressTime > 0 {
		pruneCache(cfg.CacheDir, wasm.hash, engine.hash, imp.hash)
	}
	all := sha256.Sum256([]byte(wasm.hash + engine.hash + imp.hash))
	version := hex.EncodeToString(all[:])[:20]

	iconsOnce.Do(func() { icon192, icon512 = iconPNG(192), iconPNG(512) })
	static := map[string][]byte{
		"icon.svg":     []byte(iconSVG),
		"icon-192.png": icon192,
		"icon-512.png": icon512,
	}
	for name := range staticFiles {
		if b, err := webFS.ReadFile("web/" + name); err == nil {
			static[name] = b
		}
	}
	worker, err := webFS.ReadFile("web/app-worker.js")
	if err != nil {
		return nil, err
	}

	routesOnce.Do(ctlens.Routes)
	goapp := &app.Handler{
		Name:        "ctlens",
		ShortName:   "ctlens",
		Title:       "ctlens — private CT workstation",
		Description: "A private, on-device CT workstation: DICOM import, MPR and 3D on WebGPU, and a 3D vision-language model that runs on this computer's GPU. Nothing leaves this device.",
		Icon: app.Icon{
			Default:  "/web/icon-192.png",
			Large:    "/web/icon-512.png",
			Maskable: "/web/icon-512.png",
			SVG:      "/web/icon.svg",
		},
		BackgroundColor: "#0b0f14",
		ThemeColor:      "#0b0f14",
		LoadingLabel:    "Loading ctlens {progress}%",
		Styles:          []string{"/web/ctlens.css"},
		Version:         version,
		// The wasm goes out compressed, so the response's Content-Length
		// is not the byte count app.js reads: give it the decoded size.
		WasmContentLength:     strconv.Itoa(len(wasm.raw)),
		ServiceWorkerTemplate: string(worker),
		CacheableResources:    []string{"/web/icon.svg", EngineWorkerURL, EngineWasmURL, ImportWorkerURL, ImportWasmURL, WorkerBootURL},
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /web/app.wasm", wasm.serve)
	// go-app's aliases for the wasm, which it would otherwise look for in
	// ./web on disk.
	mux.HandleFunc("GET /app.wasm", wasm.serve)
	mux.HandleFunc("GET /goapp.wasm", wasm.serve)
	mux.HandleFunc("GET "+EngineWasmURL, engine.serve)
	mux.HandleFunc("GET "+ImportWasmURL, imp.serve)
	mux.HandleFunc("GET /web/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		b, ok := static[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", staticFiles[name])
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("ETag", `"`+version+`"`)
		http.ServeContent(w, r, name, time.Time{}, strings.NewReader(string(b)))
	})
	mux.Handle("GET /web/", http.NotFoundHandler())

	if cfg.WeightsDir != "" {
		ds, err := newDirServer(cfg.WeightsDir, true)
		if err != nil {
			return nil, fmt.Errorf("weights: %w", err)
		}
		if ds.etags, err = weightsETags(cfg.WeightsDir); err != nil {
			return nil, fmt.Errorf("weights: %w", err)
		}
		mux.HandleFunc("GET /weights/{path...}", func(w http.ResponseWriter, r *http.Request) {
			ds.serve(w, r, r.PathValue("path"))
		})
	} else {
		mux.Handle("GET /weights/", http.NotFoundHandler())
	}

	if cfg.SampleDir != "" {
		ds, err := newDirServer(cfg.SampleDir, false)
		if err != nil {
			return nil, fmt.Errorf("sample study: %w", err)
		}
		name := cfg.SampleName
		if name == "" {
			name = filepath.Base(filepath.Clean(cfg.SampleDir))
		}
		idx, err := sampleIndex(cfg.SampleDir, name)
		if err != nil {
			return nil, err
		}
		index, err := json.Marshal(idx)
		if err != nil {
			return nil, err
		}
		indexTag := fmt.Sprintf(`"index-%x-%d"`, len(index), idx.Bytes)
		mux.HandleFunc("GET /sample/index.json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-cache")
			w.Header().Set("ETag", indexTag)
			http.ServeContent(w, r, "index.json", time.Time{}, strings.NewReader(string(index)))
		})
		mux.HandleFunc("GET /sample/{path...}", func(w http.ResponseWriter, r *http.Request) {
			ds.serve(w, r, r.PathValue("path"))
		})
	} else {
		mux.Handle("GET /sample/", http.NotFoundHandler())
	}

	// go-app's loader, with the wasm's start in a task of its own.
	appJS, err := startApartAppJS(goapp)
	if err != nil {
		return nil, err
	}
	mux.Handle("GET /app.js", appJS)
	mux.Handle("GET /goapp.js", appJS)

	// Everything else is go-app's: pages (any routed path), wasm_exec.js,
	// app-worker.js, manifest.webmanifest, app.css.
	mux.Handle("GET /", goapp)

	return &Site{
		handler: withHeaders(mux),
		stats: Stats{
			WasmBytes: len(wasm.raw), GzipBytes: len(wasm.gz), BrotliBytes: len(wasm.br),
			EngineBytes: len(engine.raw), EngineGzipBytes: len(engine.gz), EngineBrotliBytes: len(engine.br),
			ImportBytes: len(imp.raw), ImportGzipBytes: len(imp.gz), ImportBrotliBytes: len(imp.br),
			CompressTime: wasm.compressTime + engine.compressTime + imp.compressTime, Version: version,
		},
	}, nil
}
