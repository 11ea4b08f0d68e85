// Package assistant is the app's AI panel: the model card and loading,
// report generation and questions streamed token by token, the teaching
// view of the TGH-MoE routing, and the report's export (text, DICOM SR).
//
// The model runs in the page through ctlens/model/engine, the same code
// the command line runs, so a report here equals `ctlens report` for the
// same model, series and seed. Weights come from the server's /weights/
// (or a folder the user picks) and are kept in IndexedDB by sha256
// (weights.Cache), so the second load and offline visits need no network.
// Everything that awaits the browser (fetch, IndexedDB, WebGPU) runs in
// ctx.Async goroutines; the UI goroutine only renders.
package assistant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"ctlens/app/state"
	"ctlens/model"
	"ctlens/model/cpu"
	"ctlens/model/engine"
	"ctlens/volume/sr"
	"ctlens/weights"
)

// Backends the user may pick.
const (
	BackendGPU = "gpu"
	BackendCPU = "cpu"
)

// Messages the user reads, as UI.md words them.
const (
	msgNoWebGPU    = "This browser has no WebGPU. Try Chrome or Edge, or run on the CPU (slower)."
	msgDeviceLost  = "The GPU was reset; the model is reloading."
	msgOfflineNone = "You are offline and this model is not cached on this device yet. Connect once and load it; later visits work offline."
	msgCPUSlow     = "The CPU backend is slow: the page may pause for a few seconds while the model reads the scan."
)

// maxLostRetries bounds reloads after device losses in a row: a GPU that
// keeps resetting gets the plain message, not a loop.
const maxLostRetries = 3

// weightsBase is where the server serves the built-in model directory.
const weightsBase = "/weights/"

// qa is one question and its answer in the session's history.
type qa struct {
	Question string
	Answer   string
	Task     string
	Timings  string
}

// Panel is the assistant panel.
type Panel struct {
	app.Compo

	// The model: what the card shows, and the loaded engine.
	info      *engine.Info
	source    string         // SourceBuiltIn, SourceFile, SourceCache
	opener    weights.Opener // reads the weights: the cache in front of HTTP, or picked files
	cache     *weights.Cache // nil when IndexedDB is unavailable
	netBytes  *int64         // bytes the HTTP opener fetched (the cache serves the rest)
	eng       *engine.Engine
	release   func()
	backend   string
	cached    bool // every file of the model is in the cache, verified
	infoErr   string
	loading   bool
	loadDone  int64
	loadTotal int64
	loadMS    float64
	loadPhase string // what the load is doing now, for the progress line
	loadNet   int64  // network bytes of the last load
	cancel    context.CancelFunc
	lostCount int // device losses recovered from
	// lostRetries counts reloads in a row that lost the device again.
	lostRetries int

	// The series and the last generation.
	series     string // the series on screen ("" none)
	seriesName string
	pixels     []float32 // the model input for pixelsFor
	pixelsFor  string    // series ID + model name
	busy       bool      // a generation runs
	report     string
	streaming  bool
	timing     *Timings
	reports    int // reports finished, for tests that wait for the next
	stopReason string
	tokens     int
	routing    *engine.RoutingSummary
	heatmap    bool
	history    []qa
	asking     *qa // the question being answered
	question   string
	choices    [4]string
	maxTokens  int

	message string // the plain-words problem or notice, "" none
	notice  string // a transient confirmation ("Copied.")

	// mctx is the context OnMount received. Work started from an event
	// handler runs and dispatches on it: an event's context belongs to
	// the element that fired it, and go-app drops dispatches for an
	// element that a render has replaced.
	mctx app.Context
}

// OnMount reads the built-in model's card (network, else the cache) and
// follows the series on screen.
func (p *Panel) OnMount(ctx app.Context) {
	if app.IsServer {
		return
	}
	p.mctx = ctx
	p.maxTokens = engine.DefaultMaxTokens
	p.backend = BackendGPU
	if !hasWebGPU() {
		p.backend = BackendCPU
		p.message = msgNoWebGPU
	}
	p.followSeries()
	ctx.Handle(state.ActionSeriesOpened, func(ctx app.Context, a app.Action) { p.followSeries() })
	ctx.Async(func() { p.readBuiltIn(ctx) })
}

// followSeries reads the series on screen from app/state.
func (p *Panel) followSeries() {
	s := state.Current()
	id, name := "", ""
	if s != nil {
		id, name = s.ID, s.Name
	}
	if id != p.series {
		p.routing = nil
	}
	p.series, p.seriesName = id, name
}

// readBuiltIn fetches /weights/manifest.json and reads the card; offline,
// it falls back to the manifest kept in the cache by the last load.
func (p *Panel) readBuiltIn(ctx app.Context) {
	bg := context.Background()
	cache, cerr := openCache(bg)
	var net int64
	var opener weights.Opener
	fallback := countingOpener(httpOpener(weightsBase), &net)
	if cache != nil {
		opener = cache.Opener(fallback, nil)
	} else {
		opener = fallback
	}
	source := SourceBuiltIn
	var data []byte
	var err error = &NetworkError{URL: weightsBase + weights.ManifestFile, Err: errors.New("offline")}
	if online() || cache == nil {
		// Offline, a fetch would only fail (and log an error): the cache
		// answers first.
		data, err = fetchBytes(bg, weightsBase+weights.ManifestFile)
	}
	var nerr *NetworkError
	if errors.As(err, &nerr) && cache != nil {
		// Offline (or the server is gone): the manifest the last load kept.
		if name, nerr2 := builtInName(); nerr2 == nil {
			if m, merr := cache.Manifest(name); merr == nil {
				data, _ = json.Marshal(m)
				err, source = nil, SourceCache
			}
		}
		if err != nil {
			err = errors.New(msgOfflineNone)
		}
	}
	var info *engine.Info
	if err == nil {
		info, err = engine.ReadInfo(bg, data, opener, weightsBase)
	}
	if err == nil {
		err = info.CanGenerate()
	}
	cached := err == nil && cache != nil && len(cache.Missing(info.Manifest)) == 0
	ctx.Dispatch(func(app.Context) {
		if err != nil {
			p.infoErr = err.Error()
			if cerr != nil {
				p.infoErr += " (" + cerr.Error() + ")"
			}
			return
		}
		p.info, p.source, p.opener, p.cache, p.netBytes, p.cached = info, source, opener, cache, &net, cached
	})
}

// ---- loading ---------------------------------------------------------------

func (p *Panel) onLoad(ctx app.Context, e app.Event) {
	if p.info == nil || p.loading || p.busy {
		return
	}
	p.load(p.mctx)
}

// load opens the backend and loads the model's weights onto it, reporting
// bytes as they arrive. The cache stores what came from the network.
func (p *Panel) load(ctx app.Context) {
	p.unload()
	lctx, cancel := context.WithCancel(context.Background())
	p.loading, p.cancel, p.loadDone, p.loadTotal = true, cancel, 0, p.info.Manifest.Bytes()
	if p.message != msgDeviceLost {
		p.message = ""
	}
	info, open, backend, cache, source, net := p.info, p.opener, p.backend, p.cache, p.source, p.netBytes
	ctx.Async(func() {
		t0 := time.Now()
		net0 := atomic.LoadInt64(net)
		phase := func(s string) {
			ctx.Dispatch(func(app.Context) { p.loadPhase = s })
		}
		phase("opening the " + map[string]string{BackendGPU: "GPU", BackendCPU: "CPU backend"}[backend])
		ops, release, err := p.openBackend(ctx, lctx, backend)
		if err != nil {
			ctx.Dispatch(func(app.Context) {
				p.loading, p.cancel = false, nil
				if backend == BackendGPU {
					p.message = msgNoWebGPU + " (" + err.Error() + ")"
				} else {
					p.message = err.Error()
				}
			})
			cancel()
			return
		}
		var last time.Time
		phase("reading the weights")
		eng, err := info.Load(lctx, ops, open, func(done, total int64) {
			if now := time.Now(); now.Sub(last) > 100*time.Millisecond || done == total {
				last = now
				ctx.Dispatch(func(app.Context) { p.loadDone, p.loadTotal = done, total })
			}
			if done == total {
				// Load builds the model and warms it next: on the GPU that
				// compiles every pipeline, the longest part on a slow GPU.
				if backend == BackendGPU {
					phase("preparing the model (compiling GPU programs)")
				} else {
					phase("preparing the model")
				}
			}
		})
		phase("")
		cached := false
		if err == nil && cache != nil {
			if cerr := cache.SaveManifest(info.Manifest); cerr == nil && source == SourceBuiltIn {
				rememberBuiltIn(info.Manifest.Model)
			}
			cached = len(cache.Missing(info.Manifest)) == 0
		}
		ms := float64(time.Since(t0).Microseconds()) / 1000
		cancel()
		ctx.Dispatch(func(app.Context) {
			p.loading, p.cancel = false, nil
			if err != nil {
				release()
				switch {
				case isDeviceLost(err) && p.lostRetries < maxLostRetries:
					// Lost again while loading: try once more on a new device.
					p.lostRetries++
					p.message = msgDeviceLost
					p.load(ctx)
				case engine.IsCanceled(err):
					p.message = "Loading was cancelled."
				default:
					p.message = "The model could not be loaded: " + err.Error()
				}
				return
			}
			p.eng, p.release, p.loadMS, p.loadNet = eng, release, ms, atomic.LoadInt64(net)-net0
			p.lostRetries = 0
			p.cached = p.cached || cached
			if p.message == msgDeviceLost {
				p.lostCount++
				p.message = "The GPU was reset; the model was reloaded. Nothing was lost."
			}
			if backend == BackendCPU && p.message == "" {
				p.message = msgCPUSlow
			}
		})
	})
}

// openBackend opens the GPU (with a device-lost handler that reloads the
// model on a new device) or the CPU backend.
func (p *Panel) openBackend(ctx app.Context, lctx context.Context, backend string) (model.Ops, func(), error) {
	if backend == BackendCPU {
		return cpu.New(), func() {}, nil
	}
	return openGPU(lctx, func(reason string) {
		ctx.Dispatch(func(ctx app.Context) {
			p.onDeviceLost(ctx, reason)
		})
	})
}

// onDeviceLost drops the engine of the lost device and loads the model
// again on a new one: the weights come from the cache, the report and
// history stay.
func (p *Panel) onDeviceLost(ctx app.Context, reason string) {
	p.message = msgDeviceLost
	if p.busy || p.loading {
		// The running call fails with the loss; its handler reloads.
		return
	}
	p.load(ctx)
}

// unload releases the loaded model.
func (p *Panel) unload() {
	if p.release != nil {
		p.release()
	}
	p.eng, p.release = nil, nil
}

func (p *Panel) onCancelLoad(ctx app.Context, e app.Event) {
	if p.cancel != nil {
		p.cancel()
	}
}

func (p *Panel) onBackend(ctx app.Context, e app.Event) {
	b := ctx.JSSrc().Get("value").String()
	if b == p.backend || p.busy || p.loading {
		return
	}
	p.backend = b
	p.unload()
	p.message = ""
	if b == BackendCPU {
		p.message = msgCPUSlow
	} else if !hasWebGPU() {
		p.message = msgNoWebGPU
	}
}

// onPickFolder loads the model folder the user picked.
func (p *Panel) onPickFolder(ctx app.Context, e app.Event) {
	if p.loading || p.busy {
		return
	}
	ctx = p.mctx
	ctx.Async(func() {
		bg := context.Background()
		data, open, folder, err := pickedFolder(bg, "weights-folder")
		var info *engine.Info
		if err == nil {
			info, err = engine.ReadInfo(bg, data, open, folder)
		}
		if err == nil {
			err = info.CanGenerate()
		}
		ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				p.message = "That folder cannot be used: " + err.Error()
				return
			}
			var net int64
			p.unload()
			p.info, p.source, p.opener, p.netBytes, p.cached, p.infoErr = info, SourceFile+" ("+folder+")", open, &net, false, ""
			p.load(ctx)
		})
	})
}

// ---- generation --------------------------------------------------------------

func (p *Panel) onGenerate(ctx app.Context, e app.Event) {
	p.generate(p.mctx, "")
}

func (p *Panel) onAsk(ctx app.Context, e app.Event) {
	q := Question(p.question, p.choices[:])
	if q == "" {
		p.notice = "Type a question first."
		return
	}
	p.generate(p.mctx, q)
}

// generate streams a report (question "") or an answer. Text arrives per
// token; the panel updates at most every 50 ms so that rendering does not
// take the time the model needs.
func (p *Panel) generate(ctx app.Context, question string) {
	if p.eng == nil || p.busy || p.loading {
		return
	}
	s := state.Current()
	if s == nil || s.Volume == nil {
		p.message = "Open a series in the library first."
		return
	}
	gctx, cancel := context.WithCancel(context.Background())
	p.busy, p.cancel, p.streaming, p.notice = true, cancel, true, ""
	if p.message != msgNoWebGPU && p.message != msgCPUSlow {
		p.message = ""
	}
	if question == "" {
		p.report = ""
	} else {
		p.asking = &qa{Question: question}
	}
	eng, backend, maxTokens := p.eng, p.backend, p.maxTokens
	pixels := p.pixels
	key := s.ID + "\x00" + eng.Manifest.Model
	if p.pixelsFor != key {
		pixels = nil
	}
	ctx.Async(func() {
		t0 := time.Now()
		var err error
		if pixels == nil {
			if pixels, err = Pixels(eng.Info, s.Volume); err != nil {
				p.finish(ctx, question, nil, Timings{}, err)
				return
			}
			ctx.Dispatch(func(app.Context) { p.pixels, p.pixelsFor = pixels, key })
		}
		var (
			mu      sync.Mutex
			text    strings.Builder
			first   time.Duration
			lastPut time.Time
		)
		put := func() {
			mu.Lock()
			t := text.String()
			mu.Unlock()
			ctx.Dispatch(func(app.Context) {
				if question == "" {
					p.report = t
				} else if p.asking != nil {
					p.asking.Answer = t
				}
			})
		}
		opts := model.TextOptions{
			GenerateOptions: model.GenerateOptions{MaxTokens: maxTokens},
			OnText: func(delta string) {
				mu.Lock()
				if first == 0 {
					first = time.Since(t0)
				}
				text.WriteString(delta)
				mu.Unlock()
				if now := time.Now(); now.Sub(lastPut) >= 50*time.Millisecond {
					lastPut = now
					put()
				}
			},
		}
		if backend == BackendCPU {
			// The CPU backend never blocks on the browser: give the event
			// loop a turn between tokens so the page keeps painting.
			opts.OnToken = func(int) { time.Sleep(time.Millisecond) }
		}
		res, err := eng.Generate(gctx, engine.Request{Pixels: pixels, Question: question, Options: opts})
		tm := Timings{Wall: time.Since(t0), FirstToken: first}
		if res != nil {
			tm.Model = res.Timings
		}
		p.finish(ctx, question, res, tm, err)
	})
}

// finish shows a generation's result (or why it stopped) and publishes
// its routing for the viewer's heat map.
func (p *Panel) finish(ctx app.Context, question string, res *model.TextResult, tm Timings, err error) {
	ctx.Dispatch(func(ctx app.Context) {
		p.busy, p.streaming = false, false
		if p.cancel != nil {
			p.cancel()
			p.cancel = nil
		}
		var text string
		if res != nil {
			text = res.Text
		}
		switch {
		case err == nil:
		case engine.IsCanceled(err):
			p.notice = "Stopped."
		case isDeviceLost(err):
			p.message = msgDeviceLost
			p.load(ctx)
		default:
			p.message = "The model stopped with an error: " + err.Error()
		}
		if res == nil {
			if p.asking != nil {
				text = p.asking.Answer
			} else {
				text = p.report
			}
		}
		if question == "" {
			p.report = text
		} else if p.asking != nil {
			p.asking.Answer = text
		}
		if res != nil {
			if question == "" { // an answer's timings go with it in the history
				p.timing, p.stopReason, p.tokens = &tm, res.StopReason, len(res.Tokens)
				p.reports++
			}
			p.routing = engine.Summarize(res.Routing, p.info.Config.MoE.ExpertsPerTask)
			if res.Routing != nil && p.series != "" {
				g := p.info.Config.Vision.Grid()
				state.SetRouting(&state.Routing{SeriesID: p.series, Routing: res.Routing, Slices: p.info.Config.Slices(),
					GridH: g, GridW: g, ExpertsPerTask: p.info.Config.MoE.ExpertsPerTask})
				ctx.NewActionWithValue(state.ActionRoutingChanged, p.series)
			}
		}
		if p.asking != nil {
			a := *p.asking
			if res != nil {
				a.Timings = tm.Line()
				if p.routing != nil {
					a.Task = p.routing.Task
				}
			}
			p.history = append(p.history, a)
			p.asking = nil
		}
	})
}

func (p *Panel) onStop(ctx app.Context, e app.Event) {
	if p.cancel != nil {
		p.cancel()
	}
}

// ---- teaching, export ------------------------------------------------------

func (p *Panel) onHeatmap(ctx app.Context, e app.Event) {
	p.heatmap = ctx.JSSrc().Get("checked").Bool()
	state.SetHeatmap(p.heatmap)
	ctx.NewActionWithValue(state.ActionHeatmap, p.heatmap)
}

func (p *Panel) onCopy(ctx app.Context, e app.Event) {
	text := p.report
	ctx = p.mctx
	ctx.Async(func() {
		err := copyText(context.Background(), text)
		ctx.Dispatch(func(app.Context) {
			if err != nil {
				p.notice = "Copying failed: " + err.Error()
				return
			}
			p.notice = "Copied."
		})
	})
}

func (p *Panel) onExportTxt(ctx app.Context, e app.Event) {
	download(exportName("txt"), "text/plain;charset=utf-8", []byte(p.exportText()))
	p.notice = "Saved as text."
}

// exportText is the report with the line that says where it came from.
func (p *Panel) exportText() string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(p.report))
	b.WriteString("\n\n")
	if p.info != nil {
		fmt.Fprintf(&b, "Drafted by ctlens with %s on this device. Not a diagnosis.\n", p.info.Manifest.Model)
	}
	return b.String()
}

func (p *Panel) onExportSR(ctx app.Context, e app.Event) {
	s := state.Current()
	if s == nil || s.Volume == nil {
		p.message = "The DICOM SR needs the series the report is about: open it in the library."
		return
	}
	f, im := sr.SplitSections(p.report)
	r := sr.Report{Source: s.Volume.Meta, Findings: f, Impression: im}
	if p.info != nil {
		r.Model = p.info.Manifest.Model
	}
	b, err := sr.Encode(&r)
	if err != nil {
		p.message = "The DICOM SR cannot be written: " + err.Error()
		return
	}
	download(exportName("dcm"), "application/dicom", b)
	p.notice = "Saved as DICOM SR."
}

func exportName(ext string) string {
	return "ctlens-report-" + time.Now().Format("20060102-150405") + "." + ext
}

// ---- rendering ---------------------------------------------------------------

// Render implements app.Composer.
func (p *Panel) Render() app.UI {
	return app.Div().ID("assistant").Class("assistant").Body(
		app.Elem("style").Text(panelCSS),
		app.H2().Class("assistant-title").Text("Assistant"),
		app.If(p.message != "", func() app.UI {
			return app.P().ID("assistant-message").Class("assistant-message").Aria("live", "assertive").Text(p.message)
		}),
		p.renderCard(),
		p.renderReport(),
		p.renderQuestions(),
		p.renderTeaching(),
		app.If(p.notice != "", func() app.UI {
			return app.P().ID("assistant-notice").Class("assistant-notice").Aria("live", "polite").Text(p.notice)
		}),
	)
}

func (p *Panel) renderCard() app.UI {
	var rows []app.UI
	if p.info != nil {
		for _, l := range Card(p.info, p.source) {
			rows = append(rows, app.Dt().Text(l.Label), app.Dd().Text(l.Value))
		}
	}
	loaded := p.eng != nil
	status := "not loaded"
	switch {
	case p.loading:
		status = "loading"
	case loaded:
		status = "loaded"
	}
	return app.Section().ID("model-card").Class("model-card").
		DataSet("status", status).DataSet("load-ms", strconv.FormatFloat(p.loadMS, 'f', 1, 64)).
		DataSet("network-bytes", p.loadNet).DataSet("cached", p.cached).DataSet("source", p.source).
		DataSet("device-losses", p.lostCount).Body(
		app.If(p.infoErr != "", func() app.UI {
			return app.P().ID("model-error").Class("assistant-message").Text("No model: " + p.infoErr)
		}),
		app.Dl().Class("card-lines").Body(rows...),
		app.If(p.cached, func() app.UI {
			return app.P().ID("model-cached").Class("model-cached").Text("✓ cached for offline use")
		}),
		app.Div().Class("model-actions").Body(
			app.Label().For("backend-select").Text("Run on "),
			app.Select().ID("backend-select").Disabled(p.loading || p.busy).OnChange(p.onBackend).Body(
				app.Option().Value(BackendGPU).Selected(p.backend == BackendGPU).Text("GPU (WebGPU)"),
				app.Option().Value(BackendCPU).Selected(p.backend == BackendCPU).Text("CPU (slow)"),
			),
			app.Button().ID("model-load").Disabled(p.info == nil || p.loading || p.busy).OnClick(p.onLoad).
				Text(map[bool]string{false: "Load model", true: "Reload model"}[loaded]),
			app.If(p.loading, func() app.UI {
				return app.Button().ID("load-cancel").OnClick(p.onCancelLoad).Text("Cancel")
			}),
		),
		app.If(p.loading || (p.loadTotal > 0 && p.loadDone > 0), func() app.UI {
			return app.Div().Class("load-progress").Body(
				app.Progress().ID("load-progress").Max(max(p.loadTotal, 1)).Value(p.loadDone).Aria("label", "model load"),
				app.Span().ID("load-progress-text").Text(Progress(p.loadDone, p.loadTotal)),
				app.If(p.loadPhase != "", func() app.UI {
					return app.Span().ID("load-phase").Class("load-phase").Text(" · " + p.loadPhase + "…")
				}),
			)
		}),
		app.Details().Class("model-file").Body(
			app.Summary().Text("Open weights from disk…"),
			app.Label().For("weights-folder").Text("A ctlens model folder (manifest.json, shards, tokenizer.json): "),
			app.Input().ID("weights-folder").Type("file").Attr("webkitdirectory", "").Attr("directory", "").Multiple(true).OnChange(p.onPickFolder),
		),
	)
}

func (p *Panel) canGenerate() bool {
	return p.eng != nil && !p.busy && !p.loading && p.series != ""
}

func (p *Panel) renderReport() app.UI {
	hint := ""
	switch {
	case p.eng == nil:
		hint = "Load the model to write a report."
	case p.series == "":
		hint = "Open a series in the library."
	}
	var timings app.UI = app.P().ID("timings").Class("timings").DataSet("state", "none")
	if t := p.timing; t != nil {
		timings = app.P().ID("timings").Class("timings").DataSet("state", "done").
			DataSet("ttft-ms", ms(t.FirstToken)).DataSet("wall-ms", ms(t.Wall)).
			DataSet("vision-ms", fmt.Sprintf("%.1f", t.Model.VisionMS)).DataSet("prefill-ms", fmt.Sprintf("%.1f", t.Model.PrefillMS)).
			DataSet("prefill-tps", fmt.Sprintf("%.2f", t.Model.PrefillTokPerS())).DataSet("decode-tps", fmt.Sprintf("%.2f", t.Model.DecodeTokPerS())).
			DataSet("tokens", p.tokens).DataSet("stop", p.stopReason).DataSet("reports", p.reports).Text(t.Line())
	}
	if p.busy {
		timings = app.P().ID("timings").Class("timings").DataSet("state", "running").Text("Generating on this device…")
	}
	return app.Section().ID("report").Class("report").Body(
		app.Div().Class("report-actions").Body(
			app.Button().ID("generate-report").Disabled(!p.canGenerate()).OnClick(p.onGenerate).
				Text(map[bool]string{false: "Generate report", true: "Regenerate"}[p.report != ""]),
			app.Button().ID("stop").Disabled(!p.busy).OnClick(p.onStop).Text("Stop"),
			app.Label().For("max-tokens").Text("max tokens"),
			app.Input().ID("max-tokens").Type("number").Min(1).Max(4096).Value(p.maxTokens).OnChange(func(ctx app.Context, e app.Event) {
				if n, err := strconv.Atoi(ctx.JSSrc().Get("value").String()); err == nil && n > 0 {
					p.maxTokens = n
				}
			}),
		),
		app.If(hint != "", func() app.UI { return app.P().Class("hint").Text(hint) }),
		app.Label().For("report-text").Class("visually-hidden").Text("Report"),
		app.Textarea().ID("report-text").Class("report-text").Rows(10).ReadOnly(p.streaming).
			DataSet("streaming", p.streaming).Attr("placeholder", "FINDINGS:\n\nIMPRESSION:").
			Attr("value", p.report).OnInput(func(ctx app.Context, e app.Event) {
			p.report = ctx.JSSrc().Get("value").String()
		}),
		timings,
		app.Div().Class("export-actions").Body(
			app.Button().ID("copy-report").Disabled(p.report == "").OnClick(p.onCopy).Text("Copy"),
			app.Button().ID("export-txt").Disabled(p.report == "").OnClick(p.onExportTxt).Text("Save .txt"),
			app.Button().ID("export-sr").Disabled(p.report == "" || p.series == "").OnClick(p.onExportSR).Text("Save DICOM SR"),
		),
	)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

func (p *Panel) renderQuestions() app.UI {
	var hist []app.UI
	items := p.history
	if p.asking != nil {
		items = append(items[:len(items):len(items)], *p.asking)
	}
	for i, h := range items {
		hist = append(hist, app.Li().Class("qa").DataSet("index", i).Body(
			app.P().Class("qa-q").Text("Q: "+h.Question),
			app.P().Class("qa-a").Text("A: "+h.Answer),
			app.If(h.Timings != "", func() app.UI { return app.P().Class("qa-t").Text(h.Timings) }),
		))
	}
	var choices []app.UI
	for i := range p.choices {
		letter := string(rune('A' + i))
		choices = append(choices, app.Label().Class("choice").Body(
			app.Span().Text(letter+". "),
			app.Input().Class("choice-input").Type("text").DataSet("choice", letter).Value(p.choices[i]).
				Aria("label", "choice "+letter).OnInput(func(ctx app.Context, e app.Event) {
				p.choices[i] = ctx.JSSrc().Get("value").String()
			}),
		))
	}
	return app.Section().ID("questions").Class("questions").Body(
		// No <form>: the page's CSP has form-action 'none'. Enter asks.
		app.Div().Class("ask").Body(
			app.Label().For("ask-input").Text("Ask: "),
			app.Input().ID("ask-input").Type("text").Value(p.question).Placeholder("Is there a pleural effusion?").
				OnInput(func(ctx app.Context, e app.Event) { p.question = ctx.JSSrc().Get("value").String() }).
				OnKeyDown(func(ctx app.Context, e app.Event) {
					if e.Get("key").String() == "Enter" {
						p.onAsk(ctx, e)
					}
				}),
			app.Details().Class("choices").Body(
				app.Summary().Text("Choices (optional, for a closed question)"),
				app.Div().Body(choices...),
			),
			app.Button().ID("ask-submit").Type("button").Disabled(!p.canGenerate()).OnClick(p.onAsk).Text("Ask"),
		),
		app.Ol().ID("qa-history").Class("qa-history").Body(hist...),
	)
}

func (p *Panel) renderTeaching() app.UI {
	r := p.routing
	if r == nil {
		return app.Section().ID("teaching").Class("teaching").Body(
			app.P().ID("task-group").DataSet("task", "").Text("Teaching: the routing shows here after a generation."),
		)
	}
	var probs []app.UI
	for _, name := range model.TaskNames {
		pr := r.TaskProbs[name]
		probs = append(probs, app.Li().Class("bar-row").DataSet("task", name).Body(
			app.Span().Class("bar-label").Text(TaskLabel(name)),
			app.Span().Class("bar").Style("display", "inline-block").Style("height", "0.6em").
				Style("background", "var(--accent, #4aa3ff)").Style("width", fmt.Sprintf("%.0f%%", pr*60)),
			app.Span().Class("bar-value").Text(fmt.Sprintf(" %.2f", pr)),
		))
	}
	var layers []app.UI
	for _, l := range r.Layers {
		var segs []app.UI
		for e, s := range l.ExpertShare {
			segs = append(segs, app.Span().Class("share").Title(fmt.Sprintf("expert %d: %.0f%% of slots", e, s*100)).
				Style("display", "inline-block").Style("height", "0.8em").
				Style("width", fmt.Sprintf("%.1f%%", s*100)).Style("background", ExpertColors[e%len(ExpertColors)]))
		}
		layers = append(layers, app.Li().Class("layer-share").Body(
			app.Span().Class("bar-label").Text(fmt.Sprintf("layer %d ", l.Layer)),
			app.Span().Class("shares").Style("display", "inline-block").Style("width", "60%").Body(segs...),
		))
	}
	var legend []app.UI
	if len(r.Layers) > 0 {
		for e := range r.Layers[0].ExpertShare {
			legend = append(legend, app.Li().Class("legend-item").Body(
				app.Span().Style("display", "inline-block").Style("width", "0.8em").Style("height", "0.8em").
					Style("background", ExpertColors[e%len(ExpertColors)]),
				app.Text(fmt.Sprintf(" expert %d", e)),
			))
		}
	}
	how := "chosen by the task router"
	if r.Forced {
		how = "forced"
	}
	return app.Section().ID("teaching").Class("teaching").Body(
		app.P().ID("task-group").DataSet("task", r.Task).Text(fmt.Sprintf("Task group: %s (%s)", TaskLabel(r.Task), how)),
		app.Ul().Class("task-probs").Body(probs...),
		app.If(len(layers) > 0, func() app.UI {
			return app.Div().Body(
				app.P().Text("Experts used by the visual tokens, per MoE layer:"),
				app.Ul().Class("layer-shares").Body(layers...),
				app.Label().Body(
					app.Input().ID("heatmap-toggle").Type("checkbox").Checked(p.heatmap).OnChange(p.onHeatmap),
					app.Text(" Show the expert heat map on the slices"),
				),
				app.Ul().ID("heatmap-legend").Class("legend").Body(legend...),
			)
		}),
	)
}
