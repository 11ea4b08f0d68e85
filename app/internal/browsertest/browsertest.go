//go:build !js

// Package browsertest runs the real app in headless Chromium from go test:
// it builds the wasm (the app's and its two workers') once per test
// process, serves them with the server's own handler (server/serve) on a
// loopback port, and drives a fresh
// Chromium (WebGPU on SwiftShader) through chromedp.
//
//	func TestSomething(t *testing.T) {
//		s := browsertest.Start(t, browsertest.Options{})
//		got, err := chromedp.Run(s.Ctx, chromedp.Text(chromedp.ID("status")))
//		...
//		if errs := s.ConsoleErrors(); len(errs) > 0 { t.Errorf(...) }
//	}
//
// Everything is cleaned up by t.Cleanup. Screenshots go to
// $CTLENS_ARTIFACTS (default: a folder under the temp dir, logged).
// Chromium is /usr/bin/chromium, or $CTLENS_CHROMIUM.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"ctlens/server/serve"
)

// DefaultChromium is Debian's chromium; $CTLENS_CHROMIUM overrides it.
const DefaultChromium = "/usr/bin/chromium"

// Options say what to serve and where to open the page. The zero value
// serves the tiny random model and a small phantom study, both made once
// per process, and opens "/".
type Options struct {
	// Path is opened first (default "/"). It may carry a query.
	Path string
	// Ready is the CSS selector that means "the app rendered" (default
	// "#workstation"). Start also waits for go-app's loader to go, since
	// the server's prerendered page already holds the markup.
	Ready string
	// WeightsDir and SampleDir override the served model and study.
	WeightsDir, SampleDir string
	// NoWeights and NoSample serve neither (404 under /weights/, /sample/;
	// the page's fetches of them then log console errors).
	NoWeights, NoSample bool
	// Width and Height are the window size (default 1280×800).
	Width, Height int
	// Timeout bounds each wait for the page (default 2 minutes: the wasm
	// compiles slowly on a busy machine).
	Timeout time.Duration
}

// Session is one Chromium with one tab on the app, and its server.
type Session struct {
	// Ctx is the tab's chromedp context: chromedp.Run(s.Ctx, ...).
	Ctx context.Context
	// URL is the server's origin, e.g. "http://127.0.0.1:39123".
	URL string
	// FirstRender is the time from navigation start to the app rendered
	// (performance.now() when Ready matched and the loader was gone), for
	// the last Start, Navigate or Reload.
	FirstRender time.Duration

	t       testing.TB
	opt     Options
	handler http.Handler
	addr    string

	mu          sync.Mutex
	srv         *http.Server
	requests    []string // what the page asked for (CDP)
	served      []string // what the server answered (incl. the service worker's fetches)
	console     []chromedp.ConsoleMessage
	longTasks   []time.Duration
	artifactDir string
}

// site is built once per process: building and compressing the wasm takes
// the better part of a minute on a busy machine.
var site struct {
	once sync.Once
	err  error
	root string
	dir  string // per-process temp folder: wasm, model, sample
	// handlers by (weights, sample) folder
	mu       sync.Mutex
	handlers map[[2]string]*serve.Site
	wasm     string
	engine   string // the model engine worker's wasm
	importer string // the DICOM import worker's wasm
	model    string
	sample   string
	stats    serve.Stats
}

func setup() {
	site.root, site.err = serve.ModuleRoot()
	if site.err != nil {
		return
	}
	removeStale(os.TempDir(), "ctlens-browsertest-", 6*time.Hour)
	site.dir, site.err = os.MkdirTemp("", "ctlens-browsertest-")
	if site.err != nil {
		return
	}
	ctx := context.Background()
	site.wasm = filepath.Join(site.dir, "app.wasm")
	site.engine = filepath.Join(site.dir, "engine.wasm")
	site.importer = filepath.Join(site.dir, "import.wasm")
	if site.err = serve.BuildPrograms(ctx, site.root, serve.Program{Pkg: serve.AppPkg, Out: site.wasm},
		serve.Program{Pkg: serve.EnginePkg, Out: site.engine}, serve.Program{Pkg: serve.ImportPkg, Out: site.importer}); site.err != nil {
		return
	}
	site.model = filepath.Join(site.dir, "model")
	if site.err = serve.EnsureTinyModel(ctx, site.root, site.model); site.err != nil {
		return
	}
	opts, err := serve.SampleOptions("128x128x48")
	if err != nil {
		site.err = err
		return
	}
	site.sample, site.err = serve.EnsureSample(ctx, filepath.Join(site.dir, "sample"), opts)
	site.handlers = map[[2]string]*serve.Site{}
}

// removeStale deletes the folders earlier test processes left (a library
// has no hook at process exit): those named prefix* and older than age,
// which no running test still uses.
func removeStale(dir, prefix string, age time.Duration) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > age {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// handlerFor returns the site serving weights and sample, built once.
func handlerFor(weights, sample string) (*serve.Site, error) {
	site.mu.Lock()
	defer site.mu.Unlock()
	key := [2]string{weights, sample}
	if h, ok := site.handlers[key]; ok {
		return h, nil
	}
	cache, _ := os.UserCacheDir()
	if cache != "" {
		cache = filepath.Join(cache, "ctlens", "wasm")
	}
	h, err := serve.New(serve.Config{WasmPath: site.wasm, EngineWasmPath: site.engine, ImportWasmPath: site.importer, CacheDir: cache, WeightsDir: weights, SampleDir: sample,
		SampleName: "Sample: synthetic chest CT (phantom)"})
	if err != nil {
		return nil, err
	}
	site.handlers[key] = h
	site.stats = h.Stats()
	return h, nil
}

// Stats is the served wasm's sizes and version (after a Start).
func Stats() serve.Stats {
	site.mu.Lock()
	defer site.mu.Unlock()
	return site.stats
}

// ModelDir and SampleDir are the default model and study folders (after
// a Start), for tests that compare what the page shows with the files.
func ModelDir() string  { return site.model }
func SampleDir() string { return site.sample }

// initScript runs in every document before the page's scripts: it records
// long tasks (main-thread work over 50 ms) and reports CSP violations as
// console errors.
const initScript = `(() => {
  window.__ctlensLongTasks = [];
  try {
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__ctlensLongTasks.push(e.duration); })
      .observe({type: "longtask", buffered: true});
  } catch (e) {}
  document.addEventListener("securitypolicyviolation", (e) =>
    console.error("CSP violation: " + e.violatedDirective + " blocked " + e.blockedURI));
})();`

// Start serves the app, launches Chromium, opens opt.Path and waits for
// the app to render. Failures are t.Fatal, with the page's console.
func Start(t testing.TB, opt Options) *Session {
	t.Helper()
	chrome := DefaultChromium
	if p := os.Getenv("CTLENS_CHROMIUM"); p != "" {
		chrome = p
	}
	if _, err := os.Stat(chrome); err != nil {
		t.Fatalf("headless Chromium not found at %s: %v\nhint: `apt-get install chromium` (scripts/test.sh installs it)", chrome, err)
	}
	if opt.Path == "" {
		opt.Path = "/"
	}
	if opt.Ready == "" {
		opt.Ready = "#workstation"
	}
	if opt.Width == 0 || opt.Height == 0 {
		opt.Width, opt.Height = 1280, 800
	}
	if opt.Timeout == 0 {
		opt.Timeout = 2 * time.Minute
	}
	logVersion(t, chrome)

	start := time.Now()
	site.once.Do(setup)
	if site.err != nil {
		t.Fatalf("browsertest setup: %v", site.err)
	}
	weights, sample := site.model, site.sample
	if opt.WeightsDir != "" {
		weights = opt.WeightsDir
	}
	if opt.SampleDir != "" {
		sample = opt.SampleDir
	}
	if opt.NoWeights {
		weights = ""
	}
	if opt.NoSample {
		sample = ""
	}
	h, err := handlerFor(weights, sample)
	if err != nil {
		t.Fatalf("serving the app: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Logf("browsertest: app built and served in %s (wasm %d bytes, brotli %d)", d.Round(100*time.Millisecond), h.Stats().WasmBytes, h.Stats().BrotliBytes)
	}

	s := &Session{t: t, opt: opt, handler: h}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s.addr = ln.Addr().String()
	s.URL = "http://" + s.addr
	s.serveOn(ln)
	t.Cleanup(func() { s.stopServer() })

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.Flag("enable-unsafe-webgpu", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(opt.Width, opt.Height),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	s.Ctx = ctx

	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting Chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: initScript}); err != nil {
		t.Fatalf("installing the init script: %v", err)
	}
	s.collect()
	s.Navigate(opt.Path)
	return s
}

// collect records console messages and requests from now on.
func (s *Session) collect() {
	msgs := chromedp.Console(s.Ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			s.mu.Lock()
			s.console = append(s.console, m)
			s.mu.Unlock()
		}
	}()
	reqs := chromedp.Events(s.Ctx, network.RequestWillBeSent)
	go func() {
		for ev, err := range reqs {
			if err != nil {
				return
			}
			if ev.Request == nil {
				continue
			}
			s.mu.Lock()
			s.requests = append(s.requests, ev.Request.URL)
			s.mu.Unlock()
		}
	}()
}

// Navigate opens path (on this server) and waits for the app to render.
func (s *Session) Navigate(path string) {
	s.t.Helper()
	s.harvestLongTasks()
	ctx, cancel := context.WithTimeout(s.Ctx, s.opt.Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(s.URL+path)); err != nil {
		s.t.Fatalf("navigate %s: %v%s", path, err, s.consoleTail())
	}
	s.waitRendered(path)
}

// Reload reloads the page and waits for the app to render.
func (s *Session) Reload() {
	s.t.Helper()
	s.harvestLongTasks()
	// Reload waits for the load event; a page that never fires it fails
	// here after Timeout rather than hanging the test.
	ctx, cancel := context.WithTimeout(s.Ctx, s.opt.Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		s.t.Fatalf("reload: %v%s", err, s.consoleTail())
	}
	s.waitRendered("reload")
}

// waitRendered waits until the Ready selector matches and go-app's wasm
// loader is gone, and records FirstRender.
func (s *Session) waitRendered(what string) {
	s.t.Helper()
	expr := fmt.Sprintf(`(() => { const l = document.getElementById("app-wasm-loader");
		return (!l && document.querySelector(%q)) ? performance.now() : 0; })()`, s.opt.Ready)
	ms, err := chromedp.Run(s.Ctx, chromedp.Poll[float64](expr,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(s.opt.Timeout)))
	if err != nil {
		label, _ := chromedp.Run(s.Ctx, chromedp.Evaluate[string](`(document.getElementById("app-wasm-loader-label")||{}).innerText || ""`))
		if errors.Is(err, chromedp.ErrPollingTimeout) {
			err = fmt.Errorf("%q did not render within %s (loader says %q)", s.opt.Ready, s.opt.Timeout, label)
		}
		s.t.Fatalf("%s: %v%s", what, err, s.consoleTail())
	}
	s.FirstRender = time.Duration(ms * float64(time.Millisecond))
}

// Eval evaluates a JavaScript expression in the page (awaiting a promise)
// and returns its value; an error is t.Fatal.
func Eval[T any](s *Session, expr string) T {
	s.t.Helper()
	v, err := chromedp.Run(s.Ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		s.t.Fatalf("evaluating %s: %v%s", expr, err, s.consoleTail())
	}
	return v
}

// WaitFor polls the JavaScript expression expr until it is truthy, for at
// most timeout; on timeout it is t.Fatal naming what, with the console.
func (s *Session) WaitFor(what, expr string, timeout time.Duration) {
	s.t.Helper()
	_, err := chromedp.Run(s.Ctx, chromedp.Poll[any](expr,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		s.t.Fatalf("waiting for %s (%s): %v%s", what, expr, err, s.consoleTail())
	}
}

// Requests lists every URL the page requested (CDP Network events of the
// tab, including requests the service worker answered), in order.
func (s *Session) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// ServerRequests lists every path the server answered ("GET /web/app.wasm
// 200"), including the service worker's own fetches, which the tab's
// Network events do not show.
func (s *Session) ServerRequests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.served...)
}

// ForeignRequests lists the requests to any origin but the server's
// (data: and blob: URLs excepted: they are not fetches).
func (s *Session) ForeignRequests() []string {
	var out []string
	for _, u := range s.Requests() {
		if strings.HasPrefix(u, s.URL+"/") || u == s.URL || strings.HasPrefix(u, "data:") || strings.HasPrefix(u, "blob:") {
			continue
		}
		out = append(out, u)
	}
	return out
}

// ConsoleErrors lists console errors and uncaught exceptions so far.
func (s *Session) ConsoleErrors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, m := range s.console {
		if m.Type == chromedp.ConsoleError || m.IsException() {
			out = append(out, m.String())
		}
	}
	return out
}

// Console lists every console message so far.
func (s *Session) Console() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, m := range s.console {
		out = append(out, m.String())
	}
	return out
}

func (s *Session) consoleTail() string {
	c := s.Console()
	if len(c) > 30 {
		c = c[len(c)-30:]
	}
	if len(c) == 0 {
		return ""
	}
	return "\nconsole:\n  " + strings.Join(c, "\n  ")
}

// LongTasks lists the durations of main-thread tasks over 50 ms since
// Start (a PerformanceObserver installed before the page's scripts).
func (s *Session) LongTasks() []time.Duration {
	s.harvestLongTasks()
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.longTasks...)
}

// harvestLongTasks moves the page's long-task list into the session,
// before a navigation discards it.
func (s *Session) harvestLongTasks() {
	ms, err := chromedp.Run(s.Ctx, chromedp.Evaluate[[]float64](`(() => { const l = window.__ctlensLongTasks || []; window.__ctlensLongTasks = []; return l; })()`))
	if err != nil {
		return // no page yet
	}
	s.mu.Lock()
	for _, v := range ms {
		s.longTasks = append(s.longTasks, time.Duration(v*float64(time.Millisecond)))
	}
	s.mu.Unlock()
}

// Screenshot saves the viewport as name.png in the artifacts folder.
func (s *Session) Screenshot(name string) {
	s.t.Helper()
	png, err := chromedp.Run(s.Ctx, chromedp.CaptureScreenshot())
	if err != nil {
		s.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	dir := s.artifacts()
	if dir == "" {
		return
	}
	p := filepath.Join(dir, safeName(s.t.Name()+"-"+name)+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		s.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	s.t.Logf("screenshot: %s", p)
}

func (s *Session) artifacts() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.artifactDir != "" {
		return s.artifactDir
	}
	dir := os.Getenv("CTLENS_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "ctlens-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.t.Errorf("artifacts folder: %v", err)
		return ""
	}
	s.artifactDir = dir
	return dir
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func safeName(s string) string { return unsafeChars.ReplaceAllString(s, "_") }

// Offline(true) cuts the page off: Chromium's network emulation goes
// offline (navigator.onLine false, fetches fail) and the server stops
// listening, so nothing can reach it even past the emulation. Before
// that it waits until the service worker has activated (precached), as a user's
// "first visit" would have left it. Offline(false) brings both back on
// the same address.
func (s *Session) Offline(on bool) {
	s.t.Helper()
	if on {
		s.WaitOfflineReady()
		s.stopServer()
	} else {
		ln, err := net.Listen("tcp", s.addr)
		if err != nil {
			s.t.Fatalf("listening again on %s: %v", s.addr, err)
		}
		s.serveOn(ln)
	}
	if _, err := chromedp.Call(s.Ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		EmulateOfflineServiceWorker: &on,
		MatchedNetworkConditions:    []*network.Conditions{{Offline: on, DownloadThroughput: -1, UploadThroughput: -1}},
	}); err != nil {
		s.t.Fatalf("network emulation offline=%v: %v", on, err)
	}
	if _, err := chromedp.Call(s.Ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{
		Offline: on, DownloadThroughput: -1, UploadThroughput: -1,
	}); err != nil {
		s.t.Fatalf("network state offline=%v: %v", on, err)
	}
}

// WaitOfflineReady waits until this origin's service worker is
// activated, that is, it has precached the app (the worker does not claim
// the first page, so the page that registered it stays uncontrolled; the
// next load goes through it).
func (s *Session) WaitOfflineReady() {
	s.t.Helper()
	_, err := chromedp.Run(s.Ctx, chromedp.Poll[bool](`(() => {
		if (!navigator.serviceWorker) return false;
		navigator.serviceWorker.getRegistration().then((r) => { window.__ctlensSW = !!(r && r.active && r.active.state === "activated"); });
		return window.__ctlensSW === true; })()`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(s.opt.Timeout)))
	if err != nil {
		s.t.Fatalf("no activated service worker: %v%s", err, s.consoleTail())
	}
}

func (s *Session) serveOn(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: 200}
		s.handler.ServeHTTP(rec, r)
		s.mu.Lock()
		s.served = append(s.served, fmt.Sprintf("%s %s %d", r.Method, r.URL.RequestURI(), rec.code))
		s.mu.Unlock()
	})}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go srv.Serve(ln)
}

func (s *Session) stopServer() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Close() // closes the listener and every open connection
	}
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

var versionOnce sync.Once

// logVersion prints Chromium's version once per process.
func logVersion(t testing.TB, chrome string) {
	versionOnce.Do(func() {
		out, err := exec.Command(chrome, "--version").Output()
		if err != nil {
			t.Logf("chromium --version: %v", err)
			return
		}
		t.Logf("browser: %s", strings.TrimSpace(string(out)))
	})
}
