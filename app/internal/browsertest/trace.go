//go:build !js

package browsertest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/tracing"
	"github.com/chromedp/chromedp"
)

// TraceCategories are what StartTrace records: the renderer's tasks,
// style/layout/paint, V8's execution, its (lazy) wasm compiles and its
// sampling profiler, whose stacks name the Go functions (Go's wasm
// carries a name section).
var TraceCategories = []string{
	"devtools.timeline", "disabled-by-default-devtools.timeline",
	"v8", "v8.execute", "v8.wasm", "disabled-by-default-v8.compile", "disabled-by-default-v8.wasm.detailed",
	"disabled-by-default-v8.cpu_profiler", "blink.user_timing", "blink", "loading",
}

// Tracer is a Chromium trace in progress (StartTrace).
type Tracer struct {
	s    *Session
	mu   sync.Mutex
	evs  []traceEvent
	done chan struct{}
}

// StartTrace starts a CDP trace of the browser (every process) with
// TraceCategories. It is a diagnostic, not a test: the trace costs the
// page time, so no budget should be asserted while one runs.
//
//	tr := s.StartTrace()
//	s.Reload()
//	trace := tr.Stop()
//	for _, task := range trace.LongTasks(40, trace.Origin()) {
//		t.Log(task) // wall and CPU time, self time by event, lazy wasm compiles, Go stacks
//	}
//
// V8's sampling profiler only samples the renderers that exist when the
// trace starts: start it on a page of the app's site (same process) to
// get Go stacks for the next navigation. TestShellStartTrace in app/ is
// the worked example.
func (s *Session) StartTrace() *Tracer {
	s.t.Helper()
	tr := &Tracer{s: s, done: make(chan struct{})}
	data := chromedp.Events(s.Ctx, tracing.DataCollected)
	go func() {
		for ev, err := range data {
			if err != nil {
				return
			}
			var batch []traceEvent
			for _, raw := range ev.Value {
				var e traceEvent
				if json.Unmarshal(raw, &e) == nil {
					batch = append(batch, e)
				}
			}
			tr.mu.Lock()
			tr.evs = append(tr.evs, batch...)
			tr.mu.Unlock()
		}
	}()
	complete := chromedp.Events(s.Ctx, tracing.TracingComplete)
	go func() {
		for range complete {
			close(tr.done)
			return
		}
	}()
	if _, err := chromedp.Call(s.Ctx, tracing.Start, tracing.StartParams{
		TransferMode: tracing.StartTransferModeReportEvents,
		TraceConfig: &tracing.TraceConfig{
			RecordMode:         tracing.TraceConfigRecordModeRecordAsMuchAsPossible,
			IncludedCategories: TraceCategories,
			EnableSampling:     true,
		},
	}); err != nil {
		s.t.Fatalf("starting the trace: %v", err)
	}
	return tr
}

// Stop ends the trace and returns its events.
func (tr *Tracer) Stop() *Trace {
	tr.s.t.Helper()
	if _, err := chromedp.Call(tr.s.Ctx, tracing.End, struct{}{}); err != nil {
		tr.s.t.Fatalf("ending the trace: %v", err)
	}
	select {
	case <-tr.done:
	case <-time.After(time.Minute):
		tr.s.t.Fatalf("the trace did not complete within a minute")
	}
	// The last dataCollected batches are read by another goroutine.
	time.Sleep(500 * time.Millisecond)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	t := &Trace{Events: tr.evs}
	if site.wasm != "" {
		t.WasmNames, _ = WasmFuncNames(site.wasm)
	}
	return t
}

type traceEvent struct {
	Name string          `json:"name"`
	Cat  string          `json:"cat"`
	Ph   string          `json:"ph"`
	Pid  int             `json:"pid"`
	Tid  int             `json:"tid"`
	Ts   float64         `json:"ts"`             // µs
	Dur  float64         `json:"dur,omitempty"`  // µs
	TDur float64         `json:"tdur,omitempty"` // µs of the thread's CPU time
	ID   json.RawMessage `json:"id,omitempty"`
	Args json.RawMessage `json:"args,omitempty"`
}

// Trace is a finished trace.
type Trace struct {
	Events []traceEvent
	// WasmNames names the app's wasm functions by index (its name
	// section), for the lazy-compile events.
	WasmNames map[int]string
}

// Save writes the trace as a JSON array of trace events, which
// chrome://tracing, Perfetto and DevTools' Performance panel open.
func (t *Trace) Save(path string) error {
	b, err := json.Marshal(t.Events)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// Task is one main-thread task of a renderer and what it spent its time on.
type Task struct {
	Pid      int
	Start    float64 // ms since the first event of the Navigate/Reload, see Since
	Dur      float64 // ms, wall time
	CPU      float64 // ms of the thread's CPU time (less than Dur when the renderer waited for a core)
	Self     []Share // self time by trace event name, largest first
	Compiles []Share // wasm lazy compiles by function, largest first
	Leaf     []Share // profiler samples by leaf function (ms at the sampling interval)
	Incl     []Share // profiler samples by function anywhere on the stack
	Samples  int
}

// Share is a name and its time, ms.
type Share struct {
	Name string
	Ms   float64
}

func (t Task) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "task %.0f ms (CPU %.0f ms) at %.0f ms (pid %d, %d samples)\n", t.Dur, t.CPU, t.Start, t.Pid, t.Samples)
	list := func(what string, s []Share, n int) {
		if len(s) == 0 {
			return
		}
		fmt.Fprintf(&b, "  %s:", what)
		for i, x := range s {
			if i == n {
				break
			}
			fmt.Fprintf(&b, " %s %.1f;", x.Name, x.Ms)
		}
		b.WriteString("\n")
	}
	list("self by event", t.Self, 12)
	list("lazy compiles", t.Compiles, 12)
	list("leaf functions", t.Leaf, 15)
	list("on the stack", t.Incl, 40)
	return b.String()
}

// LongTasks lists the renderer main-thread tasks of at least min ms
// that start after origin (a trace timestamp in µs; 0 for all), with
// their time by trace event (self time), by lazily compiled wasm
// function and by the profiler's stacks.
func (t *Trace) LongTasks(min float64, origin float64) []Task {
	mains := map[[2]int]bool{}
	for _, e := range t.Events {
		if e.Ph == "M" && e.Name == "thread_name" && strings.Contains(string(e.Args), `"CrRendererMain"`) {
			mains[[2]int{e.Pid, e.Tid}] = true
		}
	}
	byThread := map[[2]int][]traceEvent{}
	for _, e := range t.Events {
		k := [2]int{e.Pid, e.Tid}
		if mains[k] && e.Ph == "X" {
			byThread[k] = append(byThread[k], e)
		}
	}
	samples := t.samples()
	var out []Task
	for k, evs := range byThread {
		sort.Slice(evs, func(i, j int) bool {
			if evs[i].Ts != evs[j].Ts {
				return evs[i].Ts < evs[j].Ts
			}
			return evs[i].Dur > evs[j].Dur
		})
		for i := 0; i < len(evs); {
			top := evs[i]
			end := top.Ts + top.Dur
			j := i + 1
			for j < len(evs) && evs[j].Ts < end {
				j++
			}
			if top.Dur/1000 >= min && top.Ts >= origin {
				task := Task{Pid: k[0], Start: (top.Ts - origin) / 1000, Dur: top.Dur / 1000, CPU: top.TDur / 1000}
				task.Self, task.Compiles = t.selfTimes(evs[i:j])
				task.Leaf, task.Incl, task.Samples = profile(samples[k], top.Ts, end)
				out = append(out, task)
			}
			i = j
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}

// Origin is the timestamp (µs) of the last navigation of a main frame
// to a document of the app (its "navigationStart" mark), 0 when none.
func (t *Trace) Origin() float64 {
	var o float64
	for _, e := range t.Events {
		if e.Name == "navigationStart" && strings.Contains(string(e.Args), `"documentLoaderURL":"http`) && e.Ts > o {
			o = e.Ts
		}
	}
	return o
}

// selfTimes attributes a task's time (evs[0] is the task, the rest nest
// in it) to the innermost event.
func (t *Trace) selfTimes(evs []traceEvent) (self, compiles []Share) {
	selfBy := map[string]float64{}
	compBy := map[string]float64{}
	type open struct {
		e     traceEvent
		child float64
	}
	var stack []open
	pop := func() {
		o := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		name := o.e.Name
		selfBy[name] += o.e.Dur - o.child
		if strings.Contains(strings.ToLower(name), "compilelazy") || name == "wasm.CompileLazy" {
			var a struct {
				FuncIndex *int `json:"func_index"`
			}
			json.Unmarshal(o.e.Args, &a)
			fn := "?"
			if a.FuncIndex != nil {
				fn = fmt.Sprint(*a.FuncIndex)
				if n, ok := t.WasmNames[*a.FuncIndex]; ok {
					fn = n
				}
			}
			compBy[fn] += o.e.Dur
		}
		if len(stack) > 0 {
			stack[len(stack)-1].child += o.e.Dur
		}
	}
	for _, e := range evs {
		for len(stack) > 0 && e.Ts >= stack[len(stack)-1].e.Ts+stack[len(stack)-1].e.Dur {
			pop()
		}
		stack = append(stack, open{e: e})
	}
	for len(stack) > 0 {
		pop()
	}
	return shares(selfBy, 1000), shares(compBy, 1000)
}

func shares(m map[string]float64, div float64) []Share {
	var s []Share
	for k, v := range m {
		s = append(s, Share{k, v / div})
	}
	sort.Slice(s, func(i, j int) bool { return s[i].Ms > s[j].Ms })
	return s
}

// sample is one profiler sample: its time (µs) and stack, leaf first.
type sample struct {
	ts    float64
	stack []string
}

// samples decodes the V8 profiler's Profile/ProfileChunk events (the
// main thread's profile of each renderer; the workers' are skipped).
func (t *Trace) samples() map[[2]int][]sample {
	type node struct {
		name   string
		parent int
	}
	type prof struct {
		pid   int
		tid   int
		start float64
		last  float64
		nodes map[int]node
		out   []sample
	}
	profs := map[string]*prof{}
	var order []string
	for _, e := range t.Events {
		switch e.Name {
		case "Profile":
			var a struct {
				Data struct {
					StartTime float64 `json:"startTime"`
				} `json:"data"`
			}
			json.Unmarshal(e.Args, &a)
			key := fmt.Sprint(e.Pid, "/", string(e.ID))
			profs[key] = &prof{pid: e.Pid, tid: e.Tid, start: a.Data.StartTime, last: a.Data.StartTime, nodes: map[int]node{}}
			order = append(order, key)
		case "ProfileChunk":
			p := profs[fmt.Sprint(e.Pid, "/", string(e.ID))]
			if p == nil {
				continue
			}
			var a struct {
				Data struct {
					CPUProfile struct {
						Nodes []struct {
							ID        int `json:"id"`
							Parent    int `json:"parent"`
							CallFrame struct {
								FunctionName string `json:"functionName"`
								URL          string `json:"url"`
							} `json:"callFrame"`
						} `json:"nodes"`
						Samples []int `json:"samples"`
					} `json:"cpuProfile"`
					TimeDeltas []float64 `json:"timeDeltas"`
				} `json:"data"`
			}
			if json.Unmarshal(e.Args, &a) != nil {
				continue
			}
			for _, n := range a.Data.CPUProfile.Nodes {
				name := n.CallFrame.FunctionName
				if name == "" {
					name = "(anonymous " + shortURL(n.CallFrame.URL) + ")"
				}
				p.nodes[n.ID] = node{name: name, parent: n.Parent}
			}
			for i, id := range a.Data.CPUProfile.Samples {
				if i < len(a.Data.TimeDeltas) {
					p.last += a.Data.TimeDeltas[i]
				}
				var stack []string
				for n, ok := p.nodes[id]; ok && len(stack) < 200; n, ok = p.nodes[n.parent] {
					stack = append(stack, n.name)
					if n.parent == 0 {
						break
					}
				}
				p.out = append(p.out, sample{ts: p.last, stack: stack})
			}
		}
	}
	// A Profile event is on the thread it profiles.
	out := map[[2]int][]sample{}
	for _, k := range order {
		p := profs[k]
		out[[2]int{p.pid, p.tid}] = append(out[[2]int{p.pid, p.tid}], p.out...)
	}
	return out
}

func shortURL(u string) string {
	if i := strings.LastIndex(u, "/"); i >= 0 {
		return u[i+1:]
	}
	return u
}

// profile sums the samples in [from, to) µs by leaf function and by
// every function on the stack; the time of a sample is the gap to the
// next one.
func profile(ss []sample, from, to float64) (leaf, incl []Share, n int) {
	i := sort.Search(len(ss), func(i int) bool { return ss[i].ts >= from })
	leafBy, inclBy := map[string]float64{}, map[string]float64{}
	for ; i < len(ss) && ss[i].ts < to; i++ {
		dt := 0.0
		if i+1 < len(ss) {
			dt = min(ss[i+1].ts, to) - ss[i].ts
		}
		n++
		if len(ss[i].stack) == 0 {
			continue
		}
		leafBy[ss[i].stack[0]] += dt
		seen := map[string]bool{}
		for _, f := range ss[i].stack {
			if !seen[f] {
				seen[f] = true
				inclBy[f] += dt
			}
		}
	}
	return shares(leafBy, 1000), shares(inclBy, 1000), n
}

// WasmFuncNames reads the function names of a wasm module's "name"
// custom section (subsection 1), by function index.
func WasmFuncNames(path string) (map[int]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 8 || !bytes.Equal(b[:4], []byte("\x00asm")) {
		return nil, fmt.Errorf("%s: not a wasm module", path)
	}
	r := bytes.NewReader(b[8:])
	for r.Len() > 0 {
		id, _ := r.ReadByte()
		size, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, err
		}
		sec := make([]byte, size)
		if _, err := r.Read(sec); err != nil {
			return nil, err
		}
		if id != 0 {
			continue
		}
		sr := bytes.NewReader(sec)
		nl, _ := binary.ReadUvarint(sr)
		name := make([]byte, nl)
		sr.Read(name)
		if string(name) != "name" {
			continue
		}
		for sr.Len() > 0 {
			sub, _ := sr.ReadByte()
			sl, _ := binary.ReadUvarint(sr)
			data := make([]byte, sl)
			sr.Read(data)
			if sub != 1 {
				continue
			}
			dr := bytes.NewReader(data)
			count, _ := binary.ReadUvarint(dr)
			names := make(map[int]string, count)
			for range count {
				idx, _ := binary.ReadUvarint(dr)
				l, _ := binary.ReadUvarint(dr)
				s := make([]byte, l)
				dr.Read(s)
				names[int(idx)] = string(s)
			}
			return names, nil
		}
	}
	return nil, errors.New(path + ": no name section")
}
