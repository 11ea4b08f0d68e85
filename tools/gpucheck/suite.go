// Command gpucheck runs every kernel parity case of ctlens/shaders on a
// WebGPU device and reports the results as JSON.
//
// Built for js/wasm it is the browser half of the kernel suite: index.html
// loads it, it opens navigator.gpu in a goroutine (GPU calls block on
// promises and so must stay off the UI goroutine), runs the runtime
// self-checks and every non-heavy case, and publishes the report on
// globalThis.ctlensGPUCheck and as the page's text. browser_test.go drives
// it in headless Chromium (SwiftShader WebGPU). Built natively it runs the
// same code on wgpu-native and prints the report.
//
// Options (native flags, or the page's query string in the browser):
// case=REGEXP keeps only matching cases, heavy=1 adds the heavy cases.
package main

import (
	"context"
	"fmt"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"ctlens/shaders"
	"ctlens/shaders/parity"
	"ctlens/wgpu"
)

// Report is the JSON that gpucheck publishes, while it runs (Done false,
// Current naming the running case) and at the end (Done true).
type Report struct {
	Info *wgpu.Info `json:"info,omitempty"`
	// Runtime holds the self-checks of the GPU runtime on this device
	// (timing, error scopes, subgroups, …) run before the cases.
	Runtime []SelfCheck     `json:"runtime"`
	Results []parity.Result `json:"results"`
	// CaseMS is each case's wall time in milliseconds, compile included.
	CaseMS map[string]float64 `json:"case_ms"`
	// Total is the number of cases selected; Results grows to it.
	Total         int `json:"total"`
	Passed        int `json:"passed"`
	Failed        int `json:"failed"`
	Skipped       int `json:"skipped"`
	RuntimeFailed int `json:"runtime_failed"`
	// Current is the case running now, so a hung run says where it hung.
	Current string `json:"current,omitempty"`
	// DeviceLost lists the losses met (the case, then the reason); the
	// device is reopened after each so one bad kernel fails alone.
	DeviceLost []string `json:"device_lost,omitempty"`
	// Error is set when the suite could not run (no device).
	Error string `json:"error,omitempty"`
	// CasesMS is the time shaders.Cases() took (it builds every case's
	// inputs and Go reference, heavy ones included).
	CasesMS float64 `json:"cases_ms"`
	WallMS  float64 `json:"wall_ms"`
	Done    bool    `json:"done"`
}

// SelfCheck is the outcome of one runtime self-check.
type SelfCheck struct {
	Name string `json:"name"`
	Err  string `json:"error,omitempty"`
	Note string `json:"note,omitempty"`
}

// Options select the cases to run.
type Options struct {
	Match *regexp.Regexp // nil: every case
	Heavy bool           // include the heavy cases
}

func parseOptions(match string, heavy bool) (Options, error) {
	o := Options{Heavy: heavy}
	if match != "" {
		re, err := regexp.Compile(match)
		if err != nil {
			return o, fmt.Errorf("gpucheck: case pattern: %w", err)
		}
		o.Match = re
	}
	return o, nil
}

func (o Options) selected(c shaders.Case) bool {
	return (o.Heavy || !c.Heavy) && (o.Match == nil || o.Match.MatchString(c.FullName()))
}

// runSuite opens a device and runs the self-checks and the selected cases,
// calling publish after each step with the report so far.
func runSuite(ctx context.Context, opt Options, publish func(*Report)) *Report {
	start := time.Now()
	r := &Report{CaseMS: map[string]float64{}, Results: []parity.Result{}}
	finish := func() *Report {
		r.Current = ""
		r.WallMS = ms(time.Since(start))
		r.Done = true
		publish(r)
		return r
	}
	open := func() (*wgpu.Device, error) {
		return wgpu.Open(ctx, wgpu.Options{HighPerformance: true})
	}
	d, err := open()
	if err != nil {
		r.Error = err.Error()
		return finish()
	}
	defer func() { d.Close() }()
	info := d.Info()
	r.Info = &info
	r.Current = "runtime self-checks"
	publish(r)
	r.Runtime = selfChecks(ctx, d)
	for _, c := range r.Runtime {
		if c.Err != "" {
			r.RuntimeFailed++
		}
	}
	if d.Lost() != nil {
		// A self-check must not lose the device, but if one did the
		// cases still deserve a working one.
		r.DeviceLost = append(r.DeviceLost, "runtime self-checks: "+d.Lost().Error())
		d.Close()
		if d, err = open(); err != nil {
			r.Error = "reopening the device after a loss: " + err.Error()
			return finish()
		}
	}

	t0 := time.Now()
	all := shaders.Cases()
	r.CasesMS = ms(time.Since(t0))
	var cases []shaders.Case
	for _, c := range all {
		if opt.selected(c) {
			cases = append(cases, c)
		}
	}
	r.Total = len(cases)
	for i, c := range cases {
		name := c.FullName()
		r.Current = name
		publish(r)
		t := time.Now()
		res := runCase(ctx, d, c)
		r.CaseMS[name] = ms(time.Since(t))
		r.Results = append(r.Results, res)
		switch {
		case res.Skipped != "":
			r.Skipped++
		case res.OK():
			r.Passed++
		default:
			r.Failed++
		}
		if lerr := d.Lost(); lerr != nil {
			r.DeviceLost = append(r.DeviceLost, name+": "+lerr.Error())
			d.Close()
			if d, err = open(); err != nil {
				// Say so for every case left rather than dropping them.
				for _, rest := range cases[i+1:] {
					r.Results = append(r.Results, parity.Result{Case: rest.FullName(), Err: "not run: the device was lost and could not be reopened: " + err.Error()})
					r.Failed++
				}
				r.Error = "reopening the device after a loss: " + err.Error()
				return finish()
			}
		}
	}
	return finish()
}

// runCase runs one case, turning a panic (a JS exception thrown through a
// WebGPU call, a bug in a reference) into that case's failure so the suite
// goes on.
func runCase(ctx context.Context, d *wgpu.Device, c shaders.Case) (res parity.Result) {
	defer func() {
		if p := recover(); p != nil {
			res = parity.Result{Case: c.FullName(), Err: fmt.Sprintf("panic: %v\n%s", p, firstLines(string(debug.Stack()), 12))}
			for _, s := range c.Steps {
				res.Kernels = append(res.Kernels, s.Kernel.Name)
			}
		}
	}()
	return parity.Run(ctx, d, c)
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
