package viewer

import (
	"math"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Input follows /work/shared/UI.md "Viewports" (OHIF's defaults): left
// drag window/level, right drag zoom, middle drag pan, wheel scroll
// (shift: ×10), click moves the crosshair; with a tool (L, E) a left drag
// draws the measurement. Touch: one finger scrolls, two pinch-zoom and
// pan, a long press moves the crosshair. In 3D a drag rotates and the
// wheel zooms. Pointer events cover mouse, pen and touch alike.

// longPressDelay is how long a still finger waits before it moves the
// crosshair.
const longPressDelay = 500 * time.Millisecond

// local returns the event position in view's canvas pixels.
func local(ctx app.Context, e app.Event, name string) (x, y float64) {
	r := ctx.JSSrc().Call("getBoundingClientRect")
	_, _, dpr := canvasSize(name)
	return (e.Get("clientX").Float() - r.Get("left").Float()) * dpr, (e.Get("clientY").Float() - r.Get("top").Float()) * dpr
}

func (v *Viewer) onPointerDown(name string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		if v.s == nil {
			return
		}
		e.PreventDefault()
		capturePointer(ctx.JSSrc(), e.Get("pointerId"))
		x, y := local(ctx, e, name)
		v.s.Active = name
		id := e.Get("pointerId").Int()
		v.pointer[id] = [2]float64{x, y}
		touch := e.Get("pointerType").String() == "touch"
		if len(v.pointer) == 2 {
			// Second finger: pinch and pan replace the one-finger scroll.
			v.stopLongPress()
			v.pinch = pinchDistance(v.pointer)
			if v.drag != nil {
				v.drag.moved = true
			}
			return
		}
		v.drag = &drag{view: name, button: e.Get("button").Int(), touch: touch, x0: x, y0: y, x: x, y: y}
		if m := v.s.MPR[name]; m != nil {
			w, h, _ := canvasSize(name)
			v.drag.start = m.ScreenToVoxel(v.s.Vol, w, h, v.s.Cross, x, y)
		}
		if touch && name != "3d" && v.s.Tool == "" {
			d := v.drag
			v.longPress = time.AfterFunc(longPressDelay, func() {
				ctx.Dispatch(func(ctx app.Context) {
					if v.drag == d && !d.moved {
						d.longPressd = true
						v.s.SetCross(d.start)
						v.schedule(ctx, Views...)
					}
				})
			})
		}
	}
}

func (v *Viewer) stopLongPress() {
	if v.longPress != nil {
		v.longPress.Stop()
		v.longPress = nil
	}
}

func pinchDistance(p map[int][2]float64) float64 {
	var pts [][2]float64
	for _, q := range p {
		pts = append(pts, q)
	}
	if len(pts) < 2 {
		return 0
	}
	return math.Hypot(pts[0][0]-pts[1][0], pts[0][1]-pts[1][1])
}

func pinchCentre(p map[int][2]float64) (x, y float64) {
	for _, q := range p {
		x += q[0] / float64(len(p))
		y += q[1] / float64(len(p))
	}
	return x, y
}

func (v *Viewer) onPointerMove(name string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		if v.s == nil {
			ctx.PreventUpdate()
			return
		}
		x, y := local(ctx, e, name)
		id := e.Get("pointerId").Int()
		if _, ok := v.pointer[id]; ok && len(v.pointer) == 2 {
			cx0, cy0 := pinchCentre(v.pointer)
			v.pointer[id] = [2]float64{x, y}
			cx1, cy1 := pinchCentre(v.pointer)
			if d := pinchDistance(v.pointer); v.pinch > 0 && d > 0 {
				v.s.Zoom(name, d/v.pinch)
				v.pinch = d
			}
			v.s.Pan(name, cx1-cx0, cy1-cy0)
			v.schedule(ctx, name)
			return
		}
		v.updateHover(name, x, y)
		d := v.drag
		if d == nil || d.view != name {
			return
		}
		dx, dy := x-d.x, y-d.y
		d.x, d.y = x, y
		if math.Hypot(x-d.x0, y-d.y0) > 3 {
			d.moved = true
			v.stopLongPress()
		}
		if !d.moved {
			return
		}
		switch {
		case name == "3d":
			if d.button == 2 {
				v.s.Zoom(name, math.Exp(-dy/200))
			} else {
				_, h, _ := canvasSize(name)
				v.s.Rotate(dx, dy, float64(h))
			}
			v.schedule(ctx, "3d")
		case v.s.Tool != "" && d.button == 0 && !d.touch || v.s.Tool != "" && d.touch:
			m := v.s.MPR[name]
			w, h, _ := canvasSize(name)
			end := m.ScreenToVoxel(v.s.Vol, w, h, v.s.Cross, x, y)
			v.draft = &Measurement{Kind: v.s.Tool, View: m.Plane.Kind, A: d.start, B: end}
		case d.touch:
			// One finger scrolls: a slice per 8 px.
			if n := int((y - d.y0) / 8); n != 0 {
				v.s.Scroll(name, -n)
				d.y0 += float64(n) * 8
				v.schedule(ctx, "axial", "coronal", "sagittal")
			}
		case d.button == 0:
			v.s.DragWindow(dx, dy)
			v.schedule(ctx, "axial", "coronal", "sagittal")
			if Presets3D[v.s.Preset3D].Window.Width == 0 {
				v.schedule(ctx, "3d")
			}
		case d.button == 2:
			v.s.Zoom(name, math.Exp(-dy/200))
			v.schedule(ctx, name)
		case d.button == 1:
			v.s.Pan(name, dx, dy)
			v.schedule(ctx, name)
		}
	}
}

func (v *Viewer) onPointerUp(name string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		delete(v.pointer, e.Get("pointerId").Int())
		v.stopLongPress()
		if len(v.pointer) > 0 {
			return
		}
		v.pinch = 0
		d := v.drag
		v.drag = nil
		if d == nil || v.s == nil {
			return
		}
		if name == "3d" {
			v.schedule(ctx, "3d") // full quality
			return
		}
		m := v.s.MPR[name]
		if m == nil {
			return
		}
		w, h, _ := canvasSize(name)
		switch {
		case v.draft != nil && d.moved:
			v.s.AddMeasurement(v.draft.Kind, name, v.draft.A, v.draft.B)
			v.draft = nil
		case !d.moved && !d.longPressd && d.button == 0 && !d.touch:
			// A click moves the crosshair; the other views follow.
			v.s.SetCross(m.ScreenToVoxel(v.s.Vol, w, h, v.s.Cross, d.x0, d.y0))
			v.schedule(ctx, Views...)
		}
		v.draft = nil
	}
}

func (v *Viewer) onWheel(name string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		if v.s == nil {
			return
		}
		e.PreventDefault()
		v.s.Active = name
		dy := e.Get("deltaY").Float()
		if dy == 0 {
			return
		}
		if name == "3d" {
			v.s.Zoom(name, math.Exp(-dy/500))
			v.schedule(ctx, "3d")
			return
		}
		n := 1
		if e.Get("shiftKey").Bool() {
			n = 10
		}
		if dy > 0 {
			n = -n
		}
		v.s.Scroll(name, n)
		x, y := local(ctx, e, name)
		v.updateHover(name, x, y)
		v.schedule(ctx, "axial", "coronal", "sagittal")
	}
}

func (v *Viewer) onLeave(name string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		if v.hover.view == name && v.drag == nil {
			v.hover = hover{}
		}
	}
}

func (v *Viewer) onDblClick(name string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		if v.s == nil {
			return
		}
		if v.s.Maximised == name {
			v.s.Maximised = ""
		} else {
			v.s.Maximised = name
		}
		ctx.Defer(func(ctx app.Context) { v.schedule(ctx, Views...) })
	}
}

// updateHover reads HU and LPS under canvas point (x, y) of an MPR view.
func (v *Viewer) updateHover(name string, x, y float64) {
	m := v.s.MPR[name]
	if m == nil {
		return
	}
	v.s.Active = name // keys (F, ↑/↓) act on the view under the cursor
	w, h, _ := canvasSize(name)
	p := m.ScreenToVoxel(v.s.Vol, w, h, v.s.Cross, x, y)
	hu, idx, ok := v.s.HU(p)
	v.hover = hover{view: name, ok: ok, hu: hu, idx: idx, lps: v.s.Vol.VoxelToLPS(p)}
}

// shortcutKey returns the key of a keydown from anywhere on the page
// except text fields when it is a viewer shortcut, else "". It only reads
// the session: the JS callback must decide preventDefault at once, and the
// change itself runs on the UI goroutine.
func (v *Viewer) shortcutKey(e app.Value) string {
	if v.s == nil || e.Get("ctrlKey").Bool() || e.Get("metaKey").Bool() || e.Get("altKey").Bool() {
		return ""
	}
	if t := e.Get("target"); t.Truthy() {
		switch t.Get("tagName").String() {
		case "INPUT", "TEXTAREA", "SELECT":
			return ""
		}
		if t.Get("isContentEditable").Truthy() {
			return ""
		}
	}
	key := e.Get("key").String()
	if key == "Escape" && !v.s.Help && v.s.Tool == "" && v.s.Maximised == "" {
		return "" // leave Escape to the shell (drawers)
	}
	if !IsShortcut(key) {
		return ""
	}
	return key
}

// IsShortcut reports whether key (a KeyboardEvent.key) is a viewer
// shortcut; Session.Key applies it.
func IsShortcut(key string) bool {
	switch key {
	case "0", "1", "2", "3", "4", "5", "6", "r", "R", "i", "I", "ArrowUp", "ArrowDown", "PageUp", "PageDown",
		"m", "M", "l", "L", "e", "E", "Escape", "?", "f", "F":
		return true
	}
	return false
}

// capturePointer keeps a drag's events on el when the pointer leaves it.
// setPointerCapture throws for a pointer that is no longer active (a
// finger lifted before the handler ran, a synthetic event), and a JS
// exception is a Go panic here, which would take the whole app down: the
// drag then simply goes uncaptured.
func capturePointer(el app.Value, id app.Value) {
	defer func() { _ = recover() }()
	el.Call("setPointerCapture", id)
}
