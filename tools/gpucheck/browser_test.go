//go:build !js

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ctlens/shaders"
)

// chromiumPath is Debian's chromium; CTLENS_CHROMIUM overrides it.
const chromiumPath = "/usr/bin/chromium"

// suiteBudget bounds the wait for the browser's report. SwiftShader runs
// WebGPU on the CPU, so the suite is slow (321 cases took 3.5 min on two
// busy cores); the wait is cut short to fit the test's own -timeout, leaving
// time to report which case was running.
const suiteBudget = 12 * time.Minute

// TestBrowserKernelSuite runs every non-heavy kernel parity case, and the
// runtime self-checks, in headless Chromium through navigator.gpu: the
// js/wasm build of ctlens/wgpu against Chrome's tint and Dawn (SwiftShader).
func TestBrowserKernelSuite(t *testing.T) {
	chrome := chromiumPath
	if p := os.Getenv("CTLENS_CHROMIUM"); p != "" {
		chrome = p
	}
	if _, err := os.Stat(chrome); err != nil {
		t.Fatalf("headless Chromium not found at %s: %v\nhint: `apt-get install chromium` (scripts/test.sh installs it); the browser kernel suite needs it", chrome, err)
	}
	start := time.Now()
	site := buildSite(t)
	var reqMu sync.Mutex
	var missing []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Everything the page loads comes from this server; a 404 is
		// reported, since the page would then be testing less than it says.
		if _, err := os.Stat(filepath.Join(site, filepath.Clean("/"+r.URL.Path))); err != nil && r.URL.Path != "/" {
			reqMu.Lock()
			missing = append(missing, r.URL.Path)
			reqMu.Unlock()
		}
		http.FileServer(http.Dir(site)).ServeHTTP(w, r)
	}))
	defer srv.Close()

	// What the browser must report: the same case list, built natively.
	// CTLENS_GPUCHECK_CASE narrows both to a regexp, to iterate on a kernel.
	pattern := os.Getenv("CTLENS_GPUCHECK_CASE")
	sel, err := parseOptions(pattern, false)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	byName := map[string]shaders.Case{}
	for _, c := range shaders.Cases() {
		if sel.selected(c) {
			want = append(want, c.FullName())
			byName[c.FullName()] = c
		}
	}
	if pattern != "" {
		t.Logf("CTLENS_GPUCHECK_CASE=%q: %d cases", pattern, len(want))
	}

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
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()

	// Collect the console from the start: errors are reported, and the Go
	// program's own output (println goes to console.log) helps a failure.
	var conMu sync.Mutex
	var console []chromedp.ConsoleMessage
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			conMu.Lock()
			console = append(console, m)
			conMu.Unlock()
		}
	}()
	consoleDump := func(filter func(chromedp.ConsoleMessage) bool) []string {
		conMu.Lock()
		defer conMu.Unlock()
		var out []string
		for _, m := range console {
			if filter(m) {
				out = append(out, m.String())
			}
		}
		return out
	}
	isError := func(m chromedp.ConsoleMessage) bool {
		return m.Type == chromedp.ConsoleError || m.IsException()
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/index.html?case="+url.QueryEscape(pattern))); err != nil {
		t.Fatalf("navigate: %v", err)
	}

	budget := suiteBudget
	if dl, ok := t.Deadline(); ok {
		budget = min(budget, time.Until(dl)-45*time.Second)
	}
	suiteStart := time.Now()
	const finished = `(() => { const r = globalThis.ctlensGPUCheck; return !!(r && r.done) || globalThis.ctlensGPUCheckExit !== undefined; })()`
	lastLog := time.Now()
	for {
		left := budget - time.Since(suiteStart)
		if left <= 0 {
			break
		}
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](finished,
			chromedp.WithPollingInterval(250*time.Millisecond),
			chromedp.WithPollingTimeout(min(left, 20*time.Second))))
		if err == nil {
			break
		}
		if !errors.Is(err, chromedp.ErrPollingTimeout) {
			t.Fatalf("waiting for the report: %v\nconsole:\n%s", err, strings.Join(consoleDump(func(chromedp.ConsoleMessage) bool { return true }), "\n"))
		}
		if time.Since(lastLog) > time.Minute {
			p := progress(ctx)
			t.Logf("%s: %s", time.Since(suiteStart).Round(time.Second), p)
			lastLog = time.Now()
		}
	}
	suiteWall := time.Since(suiteStart)

	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(globalThis.ctlensGPUCheck ?? null)`))
	if err != nil {
		t.Fatalf("reading the report: %v", err)
	}
	exit, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`String(globalThis.ctlensGPUCheckExit ?? "")`))
	var rep Report
	if raw != "null" {
		if err := json.Unmarshal([]byte(raw), &rep); err != nil {
			t.Fatalf("decoding the report: %v\n%s", err, raw)
		}
	}
	errs := consoleDump(isError)
	if !rep.Done {
		t.Fatalf("no final report after %s (program exit: %q); progress: %d/%d cases, running %q\nconsole errors:\n%s\nconsole (last 40):\n%s",
			suiteWall.Round(time.Second), exit, len(rep.Results), rep.Total, rep.Current,
			strings.Join(errs, "\n"), strings.Join(lastN(consoleDump(func(chromedp.ConsoleMessage) bool { return true }), 40), "\n"))
	}
	// The page shows the same report as text.
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("report")))
	if err != nil {
		t.Errorf("reading the page's report text: %v", err)
	} else {
		var fromPage Report
		if err := json.Unmarshal([]byte(text), &fromPage); err != nil || fromPage.Passed != rep.Passed || fromPage.Failed != rep.Failed || len(fromPage.Results) != len(rep.Results) {
			t.Errorf("the page text does not hold the report (err %v)", err)
		}
	}
	if rep.Error != "" {
		t.Errorf("the suite reported an error: %s", rep.Error)
	}
	if rep.Info == nil {
		t.Fatalf("no device info in the report (error %q); console errors:\n%s", rep.Error, strings.Join(errs, "\n"))
	}

	// Loud summary first, so it shows whatever fails below.
	f := rep.Info.Features
	var feats []string
	for _, x := range []struct {
		on   bool
		name string
	}{{f.ShaderF16, "shader-f16"}, {f.Subgroups, "subgroups"}, {f.TimestampQuery, "timestamp-query"},
		{f.PackedDot4Usable, "wgsl:packed_4x8_integer_dot_product"}} {
		if x.on {
			feats = append(feats, x.name)
		}
	}
	summary := fmt.Sprintf("BROWSER KERNEL SUITE: adapter %q (%s, %s), features [%s]: %d passed, %d failed, %d skipped of %d cases; runtime checks %d/%d; suite %s (building cases %.1fs), test wall %s",
		rep.Info.Adapter.Name, rep.Info.Adapter.Type, rep.Info.Adapter.Backend, strings.Join(feats, " "),
		rep.Passed, rep.Failed, rep.Skipped, rep.Total, len(rep.Runtime)-rep.RuntimeFailed, len(rep.Runtime),
		time.Duration(rep.WallMS*float64(time.Millisecond)).Round(100*time.Millisecond), rep.CasesMS/1000, time.Since(start).Round(time.Second))
	fmt.Println("=== " + summary)
	t.Log(summary)
	t.Logf("slowest cases: %s", slowest(rep.CaseMS, 8))
	for _, c := range rep.Runtime {
		if c.Err == "" {
			t.Logf("runtime %s: ok %s", c.Name, c.Note)
		}
	}

	for _, c := range rep.Runtime {
		if c.Err != "" {
			t.Errorf("runtime self-check %s failed in the browser: %s", c.Name, c.Err)
		}
	}
	for _, r := range rep.Results {
		if r.Skipped == "" && !r.OK() {
			t.Errorf("FAIL %s:\n%s", r.Case, firstLines(r.Err, 12))
		}
	}
	if len(rep.DeviceLost) > 0 {
		t.Errorf("device lost %d times (reopened each time):\n%s", len(rep.DeviceLost), strings.Join(rep.DeviceLost, "\n"))
	}
	if rep.Failed != 0 {
		t.Errorf("%d of %d cases failed in the browser", rep.Failed, rep.Total)
	}
	if rep.Passed <= 0 {
		t.Errorf("no case passed")
	}
	if rep.Passed != len(want)-rep.Skipped {
		t.Errorf("passed %d, want %d (the %d selected non-heavy cases minus %d skipped)", rep.Passed, len(want)-rep.Skipped, len(want), rep.Skipped)
	}
	// Every case ran, none twice and none unknown: nothing dropped silently.
	var got []string
	for _, r := range rep.Results {
		got = append(got, r.Case)
	}
	if diff := listDiff(want, got); diff != "" {
		t.Errorf("the browser's case list differs from shaders.Cases():\n%s", diff)
	}
	// A case may be skipped only for a feature the browser lacks: none
	// where it has everything the case's kernels need. Which features a
	// kernel needs comes from its flags here, not from the page's reason.
	for _, r := range rep.Results {
		if r.Skipped == "" {
			continue
		}
		var lacks []string
		for _, s := range byName[r.Case].Steps {
			if s.Kernel.NeedsSubgroups && !f.SubgroupsUsable {
				lacks = append(lacks, "subgroups")
			}
			if s.Kernel.NeedsPackedDot4 && !f.PackedDot4Usable {
				lacks = append(lacks, "packed_4x8_integer_dot_product")
			}
		}
		if len(lacks) == 0 {
			t.Errorf("skipped %s although the browser has every feature it needs (subgroups %v, packed dot4 %v): %s",
				r.Case, f.SubgroupsUsable, f.PackedDot4Usable, r.Skipped)
		}
	}
	// The flag that gates the packed-dot4 kernels must be what the browser
	// says, asked here without ctlens's code: a detection that always said
	// no would otherwise pass as "skipped, feature missing".
	jsDP4, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(navigator.gpu && navigator.gpu.wgslLanguageFeatures && navigator.gpu.wgslLanguageFeatures.has('packed_4x8_integer_dot_product'))`))
	if err != nil {
		t.Errorf("asking the page for wgslLanguageFeatures: %v", err)
	} else if jsDP4 != f.PackedDot4Usable {
		t.Errorf("the browser's wgslLanguageFeatures has packed_4x8_integer_dot_product = %v, the device reports PackedDot4Usable = %v", jsDP4, f.PackedDot4Usable)
	}
	if len(errs) > 0 {
		// Uncaught exceptions and uncaptured WebGPU errors are bugs of the
		// page or of the runtime (every ctlens GPU call is error-scoped).
		bad := false
		for _, e := range errs {
			if strings.HasPrefix(e, "exception") || strings.Contains(e, "ctlens wgpu:") {
				bad = true
			}
		}
		if bad {
			t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
		} else {
			t.Logf("console errors (not failing the test):\n%s", strings.Join(errs, "\n"))
		}
	}
	reqMu.Lock()
	if len(missing) > 0 {
		t.Errorf("the page requested files the test does not serve: %v", missing)
	}
	reqMu.Unlock()
}

// buildSite builds gpucheck for js/wasm into a temporary directory with
// index.html and the Go distribution's wasm_exec.js.
func buildSite(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "gpucheck.wasm"), ".")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=js GOARCH=wasm go build ./tools/gpucheck: %v\n%s", err, out)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	copyFile(t, filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"), filepath.Join(dir, "wasm_exec.js"))
	copyFile(t, "index.html", filepath.Join(dir, "index.html"))
	return dir
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// progress describes a running suite from its partial report.
func progress(ctx context.Context) string {
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(globalThis.ctlensGPUCheck ?? null)`))
	if err != nil {
		return "progress unavailable: " + err.Error()
	}
	var r Report
	if json.Unmarshal([]byte(raw), &r) != nil || raw == "null" {
		return "starting (no report yet)"
	}
	return fmt.Sprintf("%d/%d cases (%d failed), running %s", len(r.Results), r.Total, r.Failed, r.Current)
}

// slowest lists the n slowest cases with their times.
func slowest(caseMS map[string]float64, n int) string {
	type kv struct {
		k string
		v float64
	}
	var all []kv
	for k, v := range caseMS {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v })
	var parts []string
	for i := 0; i < len(all) && i < n; i++ {
		parts = append(parts, fmt.Sprintf("%s %.0fms", all[i].k, all[i].v))
	}
	return strings.Join(parts, ", ")
}

// listDiff describes how got differs from want as multisets.
func listDiff(want, got []string) string {
	count := map[string]int{}
	for _, w := range want {
		count[w]++
	}
	for _, g := range got {
		count[g]--
	}
	var lines []string
	for k, c := range count {
		switch {
		case c > 0:
			lines = append(lines, fmt.Sprintf("  missing in the browser: %s", k))
		case c < 0:
			lines = append(lines, fmt.Sprintf("  extra in the browser: %s (×%d)", k, -c))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func lastN(s []string, n int) []string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestWasmRuntimeUnderNode runs ctlens/wgpu's js/wasm unit tests (the
// wrapper-layout guard behind jsValueOf, await, runCatching) under node,
// which needs no GPU.
func TestWasmRuntimeUnderNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node not found: %v\nhint: `apt-get install nodejs`; Go's js/wasm tests run under it", err)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	wasmDir := filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm")
	cmd := exec.Command("go", "test", "-count=1", "ctlens/wgpu")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm",
		"PATH="+wasmDir+string(os.PathListSeparator)+filepath.Dir(node)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("GOOS=js GOARCH=wasm go test ctlens/wgpu (under node): %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "ok") {
		t.Fatalf("unexpected output:\n%s", out)
	}
}
