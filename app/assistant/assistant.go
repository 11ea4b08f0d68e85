// Package assistant is the app's AI panel: the model card and loading,
// report generation and questions streamed token by token, the teaching
// view of the TGH-MoE routing, and the report's export (text, DICOM SR).
//
// The model runs in a dedicated Web Worker (app/worker, its own wasm),
// through ctlens/model/engine, the same code the command line runs, so a
// report here equals `ctlens report` for the same model, series and seed,
// and the page stays responsive while it runs. The panel is the worker's
// client: it sends app/worker/protocol requests (open the model's card,
// load, generate, cancel) and renders the replies. Weights come from the
// server's /weights/ (or a folder the user picks) and the worker keeps
// them in IndexedDB by sha256 (weights.Cache), so the second load and
// offline visits need no network. This page's wasm holds none of the
// model's code.
package assistant

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"ctlens/app/internal/taskyield"
	"ctlens/app/state"
	"ctlens/app/worker/protocol"
	"ctlens/model"
	"ctlens/model/engine"
	"ctlens/volume/sr"
)

// Backends the user may pick.
const (
	BackendGPU = protocol.BackendGPU
	BackendCPU = protocol.BackendCPU
)

// Messages the user reads, as UI.md words them.
const (
	msgNoWebGPU   = "This browser has no WebGPU. Try Chrome or Edge, or run on the CPU (slower)."
	msgDeviceLost = "The GPU was reset; the model is reloading."
	msgCPUSlow    = "The CPU backend is slow: a report takes a while."
	// msgRestarting stands while a new model worker opens the model and
	// loads it again (from the cache), msgRestarted once it has.
	msgRestarting = "The model worker is restarting; the model reloads from this device's cache."
	msgRestarted  = "The model worker was restarted and the model reloaded. Nothing was lost."
	// msgRestartOffer follows why the worker stopped.
	msgRestartOffer = "Restart it to go on: the model reloads from this device's cache, and the report and answers here stay."
)

// maxLostRetries bounds reloads after device losses in a row: a GPU that
// keeps resetting gets the plain message, not a loop.
const maxLostRetries = 3

// qa is one question and its answer in the session's history.
type qa struct {
	Question string
	Answer   string
	Task     string
	Timings  string
	// Choices are a closed question's offered answers with the model's
	// probability of each, when it was answered by ranking them.
	Choices []protocol.Choice
}

// Panel is the assistant panel.
type Panel struct {
	app.Compo

	// The model: what the card shows, and whether the worker has it
	// loaded.
	eng       engineConn
	card      *protocol.Card
	cfg       model.Config // the card's config
	source    string       // what the card says about where the weights come from
	loaded    bool
	backend   string
	cached    bool // every file of the model is in the cache, verified
	infoErr   string
	loading   bool
	loadDone  int64
	loadTotal int64
	loadMS    float64
	loadPhase string // what the load is doing now, for the progress line
	loadNet   int64  // network bytes of the last load
	lostCount int    // device losses recovered from
	// lostRetries counts reloads in a row that lost the device again.
	lostRetries int
	// workerDead says why the model worker stopped (its Go program ended,
	// or it could not start): "" while it runs. The panel then offers a
	// restart: a new worker, and the model loaded again when
	// reloadOnRestart (it was loaded or loading when the worker stopped).
	workerDead      string
	reloadOnRestart bool
	restarts        int // workers restarted

	// The series and the last generation.
	series     string // the series on screen ("" none)
	seriesName string
	grey       []float32 // the model input for greyFor
	greyFor    string    // series ID + model name
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
	// decoding is the Decoding section as typed (until the first edit,
	// DefaultDecoding: see form); it stays across generations.
	// decodingErr says what is wrong with it ("" nothing).
	decoding       DecodingForm
	decodingEdited bool
	decodingErr    string
	decodingOpen   bool // the section is open: a render must not close it
	// reportSampling is how the report on screen was decoded (nil: not
	// generated here).
	reportSampling *protocol.Sampling

	message string // the plain-words problem or notice, "" none
	notice  string // a transient confirmation ("Copied.")

	// mctx is the context OnMount received. Work started from an event
	// handler runs and dispatches on it: an event's context belongs to
	// the element that fired it, and go-app drops dispatches for an
	// element that a render has replaced.
	mctx app.Context
}

// OnMount starts the model worker, asks it for the built-in model's card
// (network, else the cache) and follows the series on screen.
func (p *Panel) OnMount(ctx app.Context) {
	if app.IsServer {
		return
	}
	p.mctx = ctx
	p.maxTokens = engine.DefaultMaxTokens
	var saved DecodingForm
	if err := ctx.LocalStorage().Get(decodingKey, &saved); err == nil && saved != (DecodingForm{}) {
		p.setDecoding(saved)
	}
	p.backend = BackendGPU
	if !hasWebGPU() {
		p.backend = BackendCPU
		p.message = msgNoWebGPU
	}
	p.followSeries()
	ctx.Handle(state.ActionSeriesOpened, func(ctx app.Context, a app.Action) { p.followSeries() })
	p.connect(ctx)
	// The card request (the page's first JSON encoding) goes in a
	// browser task after the panel's first render: together they made
	// one long task of the page's start. The card is missing until the
	// worker answers anyway; the shell's loading overlay is still up
	// (it leaves after the library's mount, a task of its own).
	ctx.Async(func() {
		taskyield.Yield()
		ctx.Dispatch(func(ctx app.Context) { p.openBuiltIn(ctx) })
	})
}

// openBuiltIn asks the model worker for the built-in model's card.
func (p *Panel) openBuiltIn(ctx app.Context) {
	p.eng.call(&protocol.Open{Source: protocol.SourceBuiltIn}, nil, func(m protocol.Message) {
		ctx.Dispatch(func(app.Context) {
			switch m := m.(type) {
			case *protocol.Card:
				if err := p.setCard(m); err != nil {
					p.infoErr = err.Error()
				}
			case *protocol.Error:
				p.infoErr = m.Message
			}
		})
	})
}

// connect takes the page's model worker (a new one when the last one
// stopped) and follows its device losses and its death.
func (p *Panel) connect(ctx app.Context) {
	p.eng = startEngine(func(reason string) {
		ctx.Dispatch(func(ctx app.Context) { p.onDeviceLost(ctx, reason) })
	}, func(reason string) {
		ctx.Dispatch(func(ctx app.Context) { p.onWorkerDead(reason) })
	})
}

// onWorkerDead takes the news that the model worker stopped: every
// request it had fails next (their handlers leave this message standing),
// and the panel offers a restart instead of staying dead.
func (p *Panel) onWorkerDead(reason string) {
	p.workerDead = reason
	p.reloadOnRestart = p.card != nil && (p.loaded || p.loading || p.reloadOnRestart)
	p.loaded = false
	p.message = ""
}

// onRestart starts a new model worker, has it open the model the card
// showed (the built-in one, or the folder still picked) and, when one was
// loaded, load it again: the weights come from the cache. The report and
// the answers on screen stay.
func (p *Panel) onRestart(ctx app.Context, e app.Event) {
	if p.workerDead == "" {
		return
	}
	ctx = p.mctx
	p.workerDead, p.restarts = "", p.restarts+1
	p.loaded, p.loading, p.busy, p.streaming = false, false, false, false
	p.message = msgRestarting
	p.connect(ctx)
	reload := p.reloadOnRestart
	open, files := &protocol.Open{Source: protocol.SourceBuiltIn}, any(nil)
	if p.card != nil && p.card.Source == protocol.SourceFile {
		if f, err := pickedFiles("weights-folder"); err == nil {
			open.Source, files = protocol.SourceFile, f
		}
	}
	p.eng.call(open, files, func(m protocol.Message) {
		ctx.Dispatch(func(ctx app.Context) {
			switch m := m.(type) {
			case *protocol.Card:
				if err := p.setCard(m); err != nil {
					p.infoErr = err.Error()
					return
				}
				if reload {
					p.reloadOnRestart = false
					p.load(ctx)
					return
				}
				if p.message == msgRestarting {
					p.message = "The model worker was restarted."
				}
			case *protocol.Error:
				if p.workerDead == "" {
					p.infoErr, p.message = m.Message, ""
				}
			}
		})
	})
}

// setCard shows the model the worker opened.
func (p *Panel) setCard(c *protocol.Card) error {
	cfg, err := model.ParseConfig(c.Config)
	if err != nil {
		return fmt.Errorf("model %s: config: %w", c.Model, err)
	}
	p.card, p.cfg, p.source, p.cached, p.infoErr, p.loaded = c, cfg, SourceText(c), c.Cached, "", false
	return nil
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

// ---- loading ---------------------------------------------------------------

func (p *Panel) onLoad(ctx app.Context, e app.Event) {
	if p.card == nil || p.loading || p.busy || p.workerDead != "" {
		return
	}
	p.load(p.mctx)
}

// load has the worker open the backend and load the model's weights onto
// it, showing bytes as they arrive. The worker's cache stores what came
// from the network.
func (p *Panel) load(ctx app.Context) {
	p.loaded = false
	p.loading, p.loadDone, p.loadTotal = true, 0, p.card.Bytes
	if p.message != msgDeviceLost && p.message != msgRestarting {
		p.message = ""
	}
	backend := p.backend
	p.eng.call(&protocol.Load{Backend: backend}, nil, func(m protocol.Message) {
		ctx.Dispatch(func(ctx app.Context) {
			switch m := m.(type) {
			case *protocol.Progress:
				p.loadDone, p.loadTotal, p.loadPhase = m.Done, m.Total, m.Phase
			case *protocol.Loaded:
				p.loading, p.loadPhase = false, ""
				p.loaded, p.loadMS, p.loadNet = true, m.MS, m.NetworkBytes
				p.lostRetries = 0
				p.cached = p.cached || m.Cached
				switch p.message {
				case msgDeviceLost:
					p.lostCount++
					p.message = "The GPU was reset; the model was reloaded. Nothing was lost."
				case msgRestarting:
					p.message = msgRestarted
				}
				if backend == BackendCPU && p.message == "" {
					p.message = msgCPUSlow
				}
			case *protocol.Error:
				p.loading, p.loadPhase = false, ""
				switch {
				case p.workerDead != "":
					// The worker stopped: its message says so, and offers
					// the restart.
				case m.Class == protocol.ClassBackend && backend == BackendGPU:
					p.message = msgNoWebGPU + " (" + m.Message + ")"
				case m.Class == protocol.ClassBackend:
					p.message = m.Message
				case m.Class == protocol.ClassDeviceLost && p.lostRetries < maxLostRetries:
					// Lost again while loading: try once more on a new device.
					p.lostRetries++
					p.message = msgDeviceLost
					p.load(ctx)
				case m.Class == protocol.ClassCanceled:
					p.message = "Loading was cancelled."
				default:
					p.message = "The model could not be loaded: " + m.Message
				}
			}
		})
	})
}

// onDeviceLost loads the model again on a new device after the worker's
// was lost: the weights come from the cache, the report and history stay.
func (p *Panel) onDeviceLost(ctx app.Context, reason string) {
	p.message = msgDeviceLost
	if p.busy || p.loading {
		// The running request fails with the loss; its handler reloads.
		return
	}
	p.load(ctx)
}

// unload has the worker release the loaded model.
func (p *Panel) unload() {
	if p.loaded {
		p.eng.call(&protocol.Unload{}, nil, nil)
	}
	p.loaded = false
}

func (p *Panel) onCancelLoad(ctx app.Context, e app.Event) {
	if p.loading {
		p.eng.cancel()
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

// onPickFolder has the worker open the model folder the user picked, and
// loads it.
func (p *Panel) onPickFolder(ctx app.Context, e app.Event) {
	if p.loading || p.busy || p.workerDead != "" {
		return
	}
	ctx = p.mctx
	files, err := pickedFiles("weights-folder")
	if err != nil {
		p.message = "That folder cannot be used: " + err.Error()
		return
	}
	p.eng.call(&protocol.Open{Source: protocol.SourceFile}, files, func(m protocol.Message) {
		ctx.Dispatch(func(ctx app.Context) {
			switch m := m.(type) {
			case *protocol.Card:
				if err := p.setCard(m); err != nil {
					p.message = "That folder cannot be used: " + err.Error()
					return
				}
				p.load(ctx)
			case *protocol.Error:
				p.message = "That folder cannot be used: " + m.Message
			}
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

// generate streams a report (question "") or an answer from the worker.
// The worker sends text at most every 50 ms, so rendering here stays
// light.
func (p *Panel) generate(ctx app.Context, question string) {
	if !p.loaded || p.busy || p.loading || p.workerDead != "" {
		return
	}
	s := state.Current()
	if s == nil || s.Volume == nil {
		p.message = "Open a series in the library first."
		return
	}
	sampling, err := p.form().Parse()
	if err != nil {
		// Nothing starts: the settings say something the model cannot do.
		p.decodingErr, p.message = err.Error(), err.Error()
		return
	}
	p.busy, p.streaming, p.notice = true, true, ""
	if p.message != msgNoWebGPU && p.message != msgCPUSlow {
		p.message = ""
	}
	if question == "" {
		p.report, p.reportSampling = "", &sampling
		// The last report leaves the screen now, not with the first
		// token (see clearValue).
		clearValue("report-text")
	} else {
		p.asking = &qa{Question: question}
	}
	cfg, name, maxTokens := p.cfg, p.card.Model, p.maxTokens
	grey := p.grey
	key := s.ID + "\x00" + name
	if p.greyFor != key {
		grey = nil
	}
	ctx.Async(func() {
		t0 := time.Now()
		if grey == nil {
			var err error
			if grey, err = Grey(cfg, name, s.Volume); err != nil {
				p.finish(ctx, question, nil, Timings{}, err)
				return
			}
			ctx.Dispatch(func(app.Context) { p.grey, p.greyFor = grey, key })
		}
		// The reply func runs on the connection's goroutine, one reply
		// at a time: text and first need no lock.
		var (
			text  strings.Builder
			first time.Duration
		)
		// A closed question (its choices written in) is answered as the
		// command line answers it: by ranking the offered answers.
		_, _, closed := model.ParseClosedQuestion(question)
		p.eng.call(&protocol.Generate{Question: question, MaxTokens: maxTokens, Grey: grey, Sampling: sampling, Rank: closed}, nil, func(m protocol.Message) {
			switch m := m.(type) {
			case *protocol.Text:
				if first == 0 {
					first = time.Since(t0)
				}
				text.WriteString(m.Delta)
				t := text.String()
				ctx.Dispatch(func(app.Context) {
					if question == "" {
						p.report = t
					} else if p.asking != nil {
						p.asking.Answer = t
					}
				})
			case *protocol.Done:
				p.finish(ctx, question, m, Timings{Wall: time.Since(t0), FirstToken: first, Model: m.Timings, Sampling: sampling, Ranked: len(m.Choices)}, nil)
			case *protocol.Error:
				p.finish(ctx, question, nil, Timings{}, m)
			}
		})
	})
}

// finish shows a generation's result (or why it stopped) and publishes
// its routing for the viewer's heat map.
func (p *Panel) finish(ctx app.Context, question string, res *protocol.Done, tm Timings, err error) {
	ctx.Dispatch(func(ctx app.Context) {
		p.busy, p.streaming = false, false
		var text string
		if res != nil {
			text = res.Text
		}
		perr, _ := err.(*protocol.Error)
		switch {
		case err == nil:
		case p.workerDead != "":
			// The worker stopped: its message says so, and offers the
			// restart.
		case perr != nil && perr.Class == protocol.ClassCanceled:
			p.notice = "Stopped."
		case perr != nil && perr.Class == protocol.ClassInternal:
			// The worker recovered, but dropped the model.
			p.loaded = false
			p.message = "The model stopped with an error: " + err.Error() + ". Load it again to go on."
		case perr != nil && perr.Class == protocol.ClassDeviceLost:
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
				p.timing, p.stopReason, p.tokens = &tm, res.StopReason, res.Tokens
				p.reports++
			}
			p.routing = engine.Summarize(res.Routing, p.cfg.MoE.ExpertsPerTask)
			if res.Routing != nil && p.series != "" {
				g := p.cfg.Vision.Grid()
				state.SetRouting(&state.Routing{SeriesID: p.series, Routing: res.Routing, Slices: p.cfg.Slices(),
					GridH: g, GridW: g, ExpertsPerTask: p.cfg.MoE.ExpertsPerTask})
				ctx.NewActionWithValue(state.ActionRoutingChanged, p.series)
			}
		}
		if p.asking != nil {
			a := *p.asking
			if res != nil {
				a.Choices = res.Choices
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

// decodingKey is the localStorage key of the Decoding section's last
// settings (nothing about a patient), so that a reload keeps them.
const decodingKey = "ctlens.decoding"

// setDecoding takes an edit of the Decoding section: the form keeps what
// was typed (and remembers it for the next visit), and a problem shows at
// once, in words.
func (p *Panel) setDecoding(f DecodingForm) {
	p.decoding, p.decodingEdited = f, true
	if st := p.mctx.LocalStorage(); st != nil { // nil before OnMount
		// Storage that is full or switched off only loses the
		// convenience: the settings still apply to this visit.
		_ = st.Set(decodingKey, f)
	}
	_, err := f.Parse()
	if p.decodingErr != "" && p.message == p.decodingErr {
		p.message = ""
	}
	p.decodingErr = ""
	if err != nil {
		p.decodingErr = err.Error()
	}
}

// form is the Decoding section's fields: the defaults until the user
// edits one (the panel's zero value renders before OnMount).
func (p *Panel) form() DecodingForm {
	if !p.decodingEdited {
		return DefaultDecoding()
	}
	return p.decoding
}

func (p *Panel) onNewSeed(ctx app.Context, e app.Event) {
	f := p.form()
	f.Seed = strconv.FormatUint(uint64(rand.Uint32()), 10)
	p.setDecoding(f)
}

func (p *Panel) onStop(ctx app.Context, e app.Event) {
	if p.busy {
		p.eng.cancel()
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
	name := ""
	if p.card != nil {
		name = p.card.Model
	}
	return ExportText(p.report, name, p.reportSampling)
}

func (p *Panel) onExportSR(ctx app.Context, e app.Event) {
	s := state.Current()
	if s == nil || s.Volume == nil {
		p.message = "The DICOM SR needs the series the report is about: open it in the library."
		return
	}
	f, im := sr.SplitSections(p.report)
	r := sr.Report{Source: s.Volume.Meta, Evidence: s.Volume.Instances, Findings: f, Impression: im}
	if p.card != nil {
		r.Model = p.card.Model
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
		app.If(p.workerDead != "", func() app.UI {
			return app.Div().ID("worker-dead").Class("assistant-message").Aria("live", "assertive").Body(
				app.P().ID("worker-dead-text").Text(p.workerDead+" "+msgRestartOffer),
				app.Button().ID("worker-restart").OnClick(p.onRestart).Text("Restart the model worker"),
			)
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
	if p.card != nil {
		for _, l := range Card(p.card) {
			rows = append(rows, app.Dt().Text(l.Label), app.Dd().Text(l.Value))
		}
	}
	loaded := p.loaded
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
		DataSet("device-losses", p.lostCount).DataSet("worker-restarts", p.restarts).Body(
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
			app.Button().ID("model-load").Disabled(p.card == nil || p.loading || p.busy || p.workerDead != "").OnClick(p.onLoad).
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
	return p.loaded && !p.busy && !p.loading && p.series != "" && p.workerDead == ""
}

func (p *Panel) renderReport() app.UI {
	hint := ""
	switch {
	case !p.loaded:
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
			DataSet("tokens", p.tokens).DataSet("stop", p.stopReason).DataSet("reports", p.reports).
			DataSet("decoding", SamplingText(t.Sampling)).Text(t.Line())
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
		p.renderDecoding(),
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

// renderDecoding is the collapsed Decoding section: the sampling settings
// of the next report or answer, the command line's flags in the same
// words.
func (p *Panel) renderDecoding() app.UI {
	summary := "Decoding: "
	form := p.form()
	if s, err := form.Parse(); err == nil {
		summary += SamplingText(s)
	} else {
		summary += "needs a fix"
	}
	field := func(id, label, value string, set func(*DecodingForm, string), attrs func(app.HTMLInput) app.HTMLInput) app.UI {
		in := app.Input().ID(id).Type("number").Value(value).Disabled(p.busy).
			Aria("invalid", p.decodingErr != "" && strings.HasPrefix(p.decodingErr, label)).
			OnChange(func(ctx app.Context, e app.Event) {
				f := p.form()
				set(&f, ctx.JSSrc().Get("value").String())
				p.setDecoding(f)
			})
		return app.Div().Class("decoding-field").Body(
			app.Label().For(id).Text(label),
			attrs(in),
		)
	}
	return app.Details().ID("decoding").Class("decoding").Open(p.decodingOpen).
		OnToggle(func(ctx app.Context, e app.Event) { p.decodingOpen = ctx.JSSrc().Get("open").Bool() }).Body(
		app.Summary().ID("decoding-summary").Text(summary),
		field("decoding-temperature", "Temperature", form.Temperature,
			func(f *DecodingForm, v string) { f.Temperature = v },
			func(in app.HTMLInput) app.HTMLInput {
				return in.Min(0).Max(protocol.MaxTemperature).Step(0.05).Title("0 is greedy: the most likely token each step")
			}),
		field("decoding-top-k", "Top-k", form.TopK,
			func(f *DecodingForm, v string) { f.TopK = v },
			func(in app.HTMLInput) app.HTMLInput {
				return in.Min(0).Step(1).Title("keep the k most likely tokens; 0 keeps all")
			}),
		field("decoding-top-p", "Top-p", form.TopP,
			func(f *DecodingForm, v string) { f.TopP = v },
			func(in app.HTMLInput) app.HTMLInput {
				return in.Min(0).Max(1).Step(0.01).Title("keep the most likely tokens up to this probability mass; 1 keeps all")
			}),
		app.Div().Class("decoding-field").Body(
			app.Label().For("decoding-seed").Text("Seed"),
			app.Input().ID("decoding-seed").Type("number").Min(0).Max(uint64(1<<32-1)).Step(1).Value(form.Seed).
				Disabled(p.busy).Aria("invalid", strings.HasPrefix(p.decodingErr, "Seed")).
				Title("equal seeds give equal text").
				OnChange(func(ctx app.Context, e app.Event) {
					f := p.form()
					f.Seed = ctx.JSSrc().Get("value").String()
					p.setDecoding(f)
				}),
			app.Button().ID("decoding-new-seed").Type("button").Disabled(p.busy).OnClick(p.onNewSeed).Text("New seed"),
		),
		app.P().Class("hint").Text("The command line's --temperature, --top-k, --top-p and --seed: the same settings give the same text."),
		app.If(p.decodingErr != "", func() app.UI {
			return app.P().ID("decoding-error").Class("assistant-message").Aria("live", "polite").Text(p.decodingErr)
		}),
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
			app.If(len(h.Choices) > 0, func() app.UI { return renderChoices(h.Choices) }),
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

// renderChoices shows a ranked answer's choices with the model's
// probability of each: the answer was picked among them, and how sure
// the model was matters as much as the pick.
func renderChoices(cs []protocol.Choice) app.UI {
	var rows []app.UI
	for _, c := range cs {
		pct := fmt.Sprintf("%.0f%%", 100*c.Prob)
		cls := "qa-choice"
		if c.Chosen {
			cls += " chosen"
		}
		rows = append(rows, app.Li().Class(cls).DataSet("letter", c.Letter).DataSet("prob", fmt.Sprintf("%.4f", c.Prob)).Body(
			app.Span().Class("qa-choice-text").Text(c.Letter+". "+c.Text),
			app.Span().Class("qa-choice-bar").Style("width", fmt.Sprintf("%.1f%%", 100*c.Prob)),
			app.Span().Class("qa-choice-prob").Text(pct),
		))
	}
	return app.Div().Class("qa-choices").Body(
		app.P().Class("qa-choices-note").Text("Ranked: the model's probability of each offered answer"),
		app.Ul().Body(rows...),
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
