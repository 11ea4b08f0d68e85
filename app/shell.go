package app

import (
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"ctlens/app/assistant"
	"ctlens/app/internal/taskyield"
	"ctlens/app/library"
	"ctlens/app/viewer"
	"ctlens/app/web/boot"
)

// Routes registers the app's pages with go-app. The wasm entry point and
// the server both call it: the server renders only the paths registered
// here, and the client routes by the same table, so a deep link such as
// /study/<id> opens the workstation in both.
func Routes() {
	app.Route("/", newWorkstation)
	app.RouteWithRegexp("^/study/.*", newWorkstation)
}

func newWorkstation() app.Composer { return &Workstation{} }

// Drawer names the side panels that become drawers on narrow screens.
type Drawer string

// The drawers; "" is none.
const (
	DrawerLibrary   Drawer = "library"
	DrawerAssistant Drawer = "assistant"
)

// GPUStatus is what the status line knows of WebGPU.
type GPUStatus int

// GPU states, in the order the probe moves through them.
const (
	GPUChecking GPUStatus = iota // the adapter request has not answered yet
	GPUReady                     // navigator.gpu gave an adapter
	GPUMissing                   // no navigator.gpu, or no adapter
)

// Workstation is the app's one page: the library on the left, the viewer
// in the centre, the assistant on the right and a status line at the
// bottom. Below ~800 px the side panels become drawers opened by buttons
// in the top bar (CSS does the layout; the component only tracks which
// drawer is open).
type Workstation struct {
	app.Compo

	open Drawer // the drawer shown on a narrow screen, "" for none

	gpu     GPUStatus
	adapter string // the adapter's description, "" when unknown
	f16     bool   // the adapter offers shader-f16

	online       bool // navigator.onLine
	offlineReady bool // a service worker controls the page: a reload works offline

	// shown is how many of the panels (viewer, assistant, library, in
	// that order) are mounted in the browser. Mounting all three with
	// the page made one main-thread task of up to a few hundred ms, so
	// OnMount adds one a task (mountNext) and removes the loading
	// overlay after the last. The library comes last: its mount starts
	// the import of the sample study, which should not share the page
	// with the other panels' first renders. The server renders all three.
	shown int
}

// panels is the number of panels mountNext mounts one by one.
const panels = 3

// Toggle opens drawer d, or closes it when it is already open; opening
// one drawer closes the other, since on a narrow screen both would cover
// the viewer.
func (w *Workstation) Toggle(d Drawer) {
	if w.open == d {
		w.open = ""
		return
	}
	w.open = d
}

// Open is the drawer open on a narrow screen, "" when none.
func (w *Workstation) Open() Drawer { return w.open }

// OnMount starts the probes behind the status line (browser only).
func (w *Workstation) OnMount(ctx app.Context) {
	w.online = true
	if app.IsServer {
		return
	}
	w.mountNext(ctx)
	watchConnectivity(ctx, w)
	ctx.Async(func() {
		// requestAdapter awaits a promise: never on the UI goroutine.
		st, name, f16 := probeGPU()
		ctx.Dispatch(func(ctx app.Context) {
			w.gpu, w.adapter, w.f16 = st, name, f16
		})
	})
}

// mountNext mounts the next panel in a browser task of its own: the
// goroutine waits for a browser callback (taskyield.Yield), so the wasm
// returns to the browser before the dispatch, and go-app renders the
// panel in a later task than the last one. After the last panel it
// removes go-app's loading overlay, which boot kept up.
func (w *Workstation) mountNext(ctx app.Context) {
	if w.shown >= panels {
		boot.Release()
		return
	}
	ctx.Async(func() {
		taskyield.Yield()
		ctx.Dispatch(func(ctx app.Context) {
			w.shown++
			ctx.Defer(w.mountNext)
		})
	})
}

// showing reports whether panel n (1-based, see shown) is mounted.
func (w *Workstation) showing(n int) bool { return app.IsServer || w.shown >= n }

func (w *Workstation) onToggle(d Drawer) app.EventHandler {
	return func(ctx app.Context, e app.Event) { w.Toggle(d) }
}

func (w *Workstation) onKey(ctx app.Context, e app.Event) {
	// Escape closes a drawer, as it closes any overlay.
	if w.open != "" && e.Get("key").String() == "Escape" {
		w.open = ""
	}
}

// Render lays out the workstation.
func (w *Workstation) Render() app.UI {
	classes := []string{"workstation"}
	if w.open != "" {
		classes = append(classes, "drawer-"+string(w.open))
	}
	return app.Div().ID("workstation").Class(strings.Join(classes, " ")).OnKeyDown(w.onKey).Body(
		app.Header().Class("topbar").Body(
			app.Button().ID("toggle-library").Class("drawer-toggle").
				Aria("label", "Library").Aria("expanded", w.open == DrawerLibrary).
				Title("Library").Text("☰ Library").OnClick(w.onToggle(DrawerLibrary)),
			app.Span().Class("brand").Text("ctlens"),
			app.Button().ID("toggle-assistant").Class("drawer-toggle").
				Aria("label", "Assistant").Aria("expanded", w.open == DrawerAssistant).
				Title("Assistant").Text("Assistant ☰").OnClick(w.onToggle(DrawerAssistant)),
		),
		app.Aside().ID("pane-library").Class("pane", "pane-library").Aria("label", "Study library").Body(
			w.closeButton("Close the library"),
			app.If(w.showing(3), func() app.UI { return &library.Panel{} }),
		),
		app.Main().ID("pane-viewer").Class("pane", "pane-viewer").Body(
			app.If(w.showing(1), func() app.UI { return &viewer.Viewer{} }),
		),
		app.Aside().ID("pane-assistant").Class("pane", "pane-assistant").Aria("label", "Assistant").Body(
			w.closeButton("Close the assistant"),
			app.If(w.showing(2), func() app.UI { return &assistant.Panel{} }),
		),
		app.Div().Class("scrim").OnClick(func(ctx app.Context, e app.Event) { w.open = "" }),
		w.renderStatus(),
	)
}

// closeButton closes the open drawer; CSS shows it only when the panels
// are drawers.
func (w *Workstation) closeButton(label string) app.UI {
	return app.Button().Class("drawer-close").Aria("label", label).Title(label).Text("✕").
		OnClick(func(ctx app.Context, e app.Event) { w.open = "" })
}

func (w *Workstation) renderStatus() app.UI {
	gpuText, gpuState := "checking GPU…", "checking"
	switch w.gpu {
	case GPUReady:
		gpuText, gpuState = "WebGPU", "yes"
		if w.f16 {
			gpuText = "WebGPU · f16"
		}
	case GPUMissing:
		gpuText, gpuState = "no WebGPU", "no"
	}
	adapter := w.adapter
	if adapter == "" && w.gpu == GPUReady {
		adapter = "GPU"
	}
	offText, offState := "offline ✗", "no"
	if w.offlineReady {
		offText, offState = "offline ✓", "yes"
	}
	net := ""
	if !w.online {
		net = " (no network)"
	}
	return app.Footer().ID("status").Class("status").Aria("live", "polite").Body(
		app.If(adapter != "", func() app.UI {
			return app.Span().ID("status-adapter").Text(adapter)
		}),
		app.Span().ID("status-webgpu").DataSet("webgpu", gpuState).Text(gpuText),
		app.Span().ID("status-offline").DataSet("offline", offState).
			Title("works offline once a service worker has cached the app").Text(offText+net),
		app.Span().ID("status-privacy").Text("nothing leaves this device"),
	)
}
