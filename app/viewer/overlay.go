package viewer

import (
	"fmt"
	"math"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"ctlens/shaders"
	"ctlens/volume"
)

// viewColour is each plane's colour: its crosshair line in the other
// views and its label (OHIF's: axial red, coronal green, sagittal yellow).
var viewColour = map[string]string{"axial": "#e5484d", "coronal": "#46a758", "sagittal": "#f5d90a", "3d": "#8ab4f8"}

var viewTitle = map[string]string{"axial": "Axial", "coronal": "Coronal", "sagittal": "Sagittal", "3d": "3D"}

// Shortcuts is the help overlay's list, in UI.md's order.
var Shortcuts = [][2]string{
	{"1 – 6", "W/L presets: brain 80/40, soft tissue 400/40, lung 1500/−600, bone 2000/500, liver 150/90, mediastinum 400/40"},
	{"0", "the file's own window"},
	{"R", "reset the views"},
	{"I", "invert"},
	{"↑ ↓ / PgUp PgDn", "previous / next slice (PgUp/PgDn: 10)"},
	{"M", "MIP slab (10 mm) on/off"},
	{"L", "length tool"},
	{"E", "ellipse ROI tool"},
	{"Esc", "cancel the tool, close this help"},
	{"F / double-click", "maximise the view under the cursor"},
	{"?", "this help"},
	{"Mouse", "left drag W/L · right drag zoom · middle drag pan · wheel slices (shift: ×10) · click crosshair"},
	{"Touch", "one finger scrolls · two fingers pinch-zoom and pan · long press moves the crosshair"},
	{"3D", "drag rotates · wheel zooms"},
}

const svgNS = "http://www.w3.org/2000/svg"

func svg(tag string) app.HTMLElem { return app.Elem(tag).XMLNS(svgNS) }

func f2(x float64) string { return fmt.Sprintf("%.1f", x) }

// Render implements app.Composer.
func (v *Viewer) Render() app.UI {
	s := v.s
	maxd := ""
	if s != nil {
		maxd = s.Maximised
	}
	return app.Div().ID("viewer").Class("viewer").DataSet("maximised", maxd).Body(
		app.Style().Text(viewerCSS),
		v.renderToolbar(),
		app.If(s == nil, func() app.UI {
			msg := "Open a series from the library to see it here."
			if v.gpuErr != "" {
				msg = v.gpuErr
			}
			return app.Div().ID("viewer-empty").Class("viewer-empty").Text(msg)
		}),
		app.Div().Class("vp-tabs").Role("tablist").Aria("label", "Views").Body(
			app.Range(Views).Slice(func(i int) app.UI {
				name := Views[i]
				sel := maxd == name || maxd == "" && name == "axial"
				return app.Button().Class("vbtn vp-tab").Role("tab").Aria("selected", sel).Disabled(s == nil).Text(viewTitle[name]).
					OnClick(func(ctx app.Context, e app.Event) {
						if v.s == nil {
							return
						}
						v.s.Maximised, v.s.Active = name, name
						ctx.Defer(func(ctx app.Context) { v.schedule(ctx, name) })
					})
			}),
		),
		app.Div().Class("vp-grid").Class(map[bool]string{true: "maxed", false: ""}[maxd != ""]).DataSet("maximised", maxd).Body(
			app.Range(Views).Slice(func(i int) app.UI { return v.renderViewport(Views[i]) }),
		),
		app.If(s != nil && len(s.Measures) > 0, func() app.UI { return v.renderMeasurements() }),
		app.If(v.heatOn, func() app.UI { return v.renderLegend() }),
		app.If(v.status != "" || v.gpuErr != "" || v.heatErr != "", func() app.UI {
			return app.Div().ID("viewer-status").Class("viewer-status").Aria("live", "polite").
				Text(strings.TrimSpace(v.status + " " + v.gpuErr + " " + v.heatErr))
		}),
		app.If(s != nil && s.Help, func() app.UI { return v.renderHelp() }),
	)
}

func (v *Viewer) renderToolbar() app.UI {
	s := v.s
	wl, huText := "", ""
	var wlW, wlC string
	hoverHU, hoverVox := "", ""
	if s != nil {
		wl = fmt.Sprintf("W %g L %g", math.Round(s.Window.Width), math.Round(s.Window.Center))
		wlW, wlC = fmt.Sprint(math.Round(s.Window.Width)), fmt.Sprint(math.Round(s.Window.Center))
		if h := v.hover; h.ok {
			huText = fmt.Sprintf("HU %d · voxel (%d, %d, %d) · LPS (%s, %s, %s) mm", h.hu, h.idx[0], h.idx[1], h.idx[2], f2(h.lps[0]), f2(h.lps[1]), f2(h.lps[2]))
			hoverHU, hoverVox = fmt.Sprint(h.hu), fmt.Sprintf("%d,%d,%d", h.idx[0], h.idx[1], h.idx[2])
		} else if h.view != "" {
			huText = "outside the volume"
		}
	}
	btn := func(id, label, title string, on bool, f func()) app.UI {
		return app.Button().ID(id).Class("vbtn").Title(title).Aria("pressed", on).Disabled(s == nil).Text(label).
			OnClick(func(ctx app.Context, e app.Event) {
				if v.s == nil {
					return
				}
				f()
				v.schedule(ctx, Views...)
			})
	}
	preset := func(key string) app.UI {
		name := "file"
		if key != "0" {
			name = volume.Presets[key[0]-'1'].Name
		}
		return btn("wl-"+key, key, fmt.Sprintf("%s window (key %s)", name, key), false, func() { v.s.Key(key) })
	}
	return app.Div().Class("viewer-toolbar").Role("toolbar").Aria("label", "Viewer tools").Body(
		app.Span().Class("tb-group").Body(
			app.Span().Class("tb-label").Text("W/L"),
			preset("1"), preset("2"), preset("3"), preset("4"), preset("5"), preset("6"), preset("0"),
		),
		app.Span().Class("tb-group").Body(
			btn("btn-invert", "Invert", "invert (I)", s != nil && s.Invert, func() { v.s.Key("i") }),
			btn("btn-mip", "MIP slab", "10 mm MIP slab (M)", s != nil && s.Slab.Thickness > 0 && s.Slab.Mode == shaders.SlabMax, func() { v.s.Key("m") }),
			app.Select().ID("slab-mode").Title("thick slab").Aria("label", "Thick slab").Disabled(s == nil).OnChange(v.onSlab).Body(
				app.Range(slabChoices).Slice(func(i int) app.UI {
					c := slabChoices[i]
					return app.Option().Value(fmt.Sprint(i)).Selected(s != nil && s.Slab == c.slab).Text(c.label)
				}),
			),
			btn("btn-length", "Length", "length tool (L)", s != nil && s.Tool == "length", func() { v.toggleTool("length") }),
			btn("btn-ellipse", "Ellipse", "ellipse ROI (E)", s != nil && s.Tool == "ellipse", func() { v.toggleTool("ellipse") }),
			btn("btn-reset", "Reset", "reset the views (R)", false, func() { v.s.Key("r") }),
		),
		app.Span().Class("tb-group").Body(
			app.Label().For("preset-3d").Class("tb-label").Text("3D"),
			app.Select().ID("preset-3d").Disabled(s == nil).OnChange(v.onPreset3D).Body(
				app.Range(Presets3D).Slice(func(i int) app.UI {
					return app.Option().Value(fmt.Sprint(i)).Selected(s != nil && s.Preset3D == i).Text(Presets3D[i].Name)
				}),
			),
		),
		app.Button().ID("btn-help").Class("vbtn").Title("keyboard shortcuts (?)").Aria("label", "Keyboard shortcuts").Text("?").
			OnClick(func(ctx app.Context, e app.Event) {
				if v.s != nil {
					v.s.Help = !v.s.Help
				}
			}),
		app.Span().ID("wl-readout").Class("readout").DataSet("width", wlW).DataSet("center", wlC).Text(wl),
		app.Span().ID("hu-readout").Class("readout").DataSet("hu", hoverHU).DataSet("voxel", hoverVox).Text(huText),
	)
}

// slabChoices are the thick-slab settings offered beside the M key's MIP.
var slabChoices = []struct {
	label string
	slab  Slab
}{
	{"slab off", Slab{}},
	{"MIP 5 mm", Slab{5, shaders.SlabMax}}, {"MIP 10 mm", Slab{10, shaders.SlabMax}}, {"MIP 20 mm", Slab{20, shaders.SlabMax}},
	{"MinIP 10 mm", Slab{10, shaders.SlabMin}}, {"Mean 5 mm", Slab{5, shaders.SlabMean}}, {"Mean 10 mm", Slab{10, shaders.SlabMean}},
}

func (v *Viewer) onSlab(ctx app.Context, e app.Event) {
	var i int
	fmt.Sscan(ctx.JSSrc().Get("value").String(), &i)
	if v.s == nil || i < 0 || i >= len(slabChoices) {
		return
	}
	v.s.Slab = slabChoices[i].slab
	v.schedule(ctx, "axial", "coronal", "sagittal")
}

func (v *Viewer) toggleTool(t string) {
	if v.s.Tool == t {
		v.s.Tool = ""
	} else {
		v.s.Tool = t
	}
}

func (v *Viewer) onPreset3D(ctx app.Context, e app.Event) {
	if v.s == nil {
		return
	}
	var i int
	fmt.Sscan(ctx.JSSrc().Get("value").String(), &i)
	if i < 0 || i >= len(Presets3D) {
		return
	}
	v.s.Preset3D = i
	v.loop.setLUT(Presets3D[i].LUT())
	v.schedule(ctx, "3d")
}

func (v *Viewer) renderViewport(name string) app.UI {
	s := v.s
	hidden := s != nil && s.Maximised != "" && s.Maximised != name
	return app.Div().ID("vp-"+name).Class("viewport").DataSet("view", name).Hidden(hidden).
		Aria("label", viewTitle[name]+" view").
		On("pointerdown", v.onPointerDown(name)).
		On("pointermove", v.onPointerMove(name)).
		On("pointerup", v.onPointerUp(name)).
		On("pointercancel", v.onPointerUp(name)).
		On("pointerleave", v.onLeave(name)).
		On("wheel", v.onWheel(name)).
		On("dblclick", v.onDblClick(name)).
		On("contextmenu", func(ctx app.Context, e app.Event) { e.PreventDefault() }).
		Body(
			app.Canvas().ID("canvas-"+name).DataSet("view", name).Class("vp-canvas"),
			app.If(s != nil && name != "3d", func() app.UI { return v.renderMPROverlay(name) }),
			app.If(s != nil && name == "3d", func() app.UI { return v.render3DOverlay() }),
		)
}

func (v *Viewer) render3DOverlay() app.UI {
	p := Presets3D[v.s.Preset3D]
	return app.Div().Class("vp-overlay").Body(
		app.Div().Class("ov-tl").Body(
			app.Span().Class("ov-title").Style("color", viewColour["3d"]).Text("3D"),
			app.Span().Text(" · "+p.Name),
		),
		app.Div().Class("ov-bl").Text(fmt.Sprintf("zoom %.2f×", v.s.Cam.Zoom)),
	)
}

func (v *Viewer) renderMPROverlay(name string) app.UI {
	s := v.s
	m := s.MPR[name]
	w, h, dpr := canvasSize(name)
	if w == 0 {
		w, h, dpr = 512, 512, 1
	}
	let := m.Plane.Letters(s.Vol)
	_, _, nrm := m.Plane.Basis(s.Vol)
	lps := s.Vol.VoxelToLPS(s.Cross)
	pos := lps[0]*nrm[0] + lps[1]*nrm[1] + lps[2]*nrm[2]
	mmpp := m.MMPerPixel(s.Vol, w, h)
	cx, cy := m.VoxelToScreen(s.Vol, w, h, s.Cross)
	colourOf := func(axis int) string {
		for n, o := range s.MPR {
			if o.Plane.Normal == axis {
				return viewColour[n]
			}
		}
		return "#fff"
	}
	var items []app.UI
	items = append(items,
		svg("line").Attr("x1", 0).Attr("x2", w).Attr("y1", cy).Attr("y2", cy).Attr("stroke", colourOf(m.Plane.V)).
			Attr("stroke-width", dpr).Attr("stroke-opacity", 0.7).Class("crosshair"),
		svg("line").Attr("y1", 0).Attr("y2", h).Attr("x1", cx).Attr("x2", cx).Attr("stroke", colourOf(m.Plane.U)).
			Attr("stroke-width", dpr).Attr("stroke-opacity", 0.7).Class("crosshair"),
	)
	// Scale bar: the longest round length under a quarter of the width.
	bar := 1.0
	for _, l := range []float64{1, 2, 5, 10, 20, 50, 100, 200, 500} {
		if l/mmpp <= float64(w)/4 {
			bar = l
		}
	}
	bx1 := float64(w) - 16*dpr
	bx0 := bx1 - bar/mmpp
	by := float64(h) - 16*dpr
	items = append(items,
		svg("path").Class("scale-bar").Attr("d", fmt.Sprintf("M%g %g V%g H%g V%g", bx0, by-6*dpr, by, bx1, by-6*dpr)).
			Attr("stroke", "#ddd").Attr("fill", "none").Attr("stroke-width", 1.5*dpr),
		svg("text").Class("scale-label").Attr("x", (bx0+bx1)/2).Attr("y", by-9*dpr).Attr("text-anchor", "middle").
			Attr("font-size", 12*dpr).Attr("fill", "#ddd").Text(fmt.Sprintf("%g mm", bar)),
	)
	drawn := append([]Measurement(nil), s.Measures...)
	if v.draft != nil && v.drag != nil && v.drag.view == name {
		drawn = append(drawn, *v.draft)
	}
	for _, ms := range drawn {
		if ms.View != m.Plane.Kind || math.Abs(ms.A[m.Plane.Normal]-s.Cross[m.Plane.Normal]) > 0.5 {
			continue
		}
		ax, ay := m.VoxelToScreen(s.Vol, w, h, ms.A)
		bx, by := m.VoxelToScreen(s.Vol, w, h, ms.B)
		label := ms.Label()
		if ms.ID == 0 { // the draft: its value so far
			if ms.Kind == "length" {
				label = fmt.Sprintf("%.1f mm", LengthMM(s.Vol, ms.A, ms.B))
			} else {
				label = ellipseFrom(s.Vol, m.Plane, ms.A, ms.B).Stats(s.Vol).String()
			}
		}
		if ms.Kind == "length" {
			items = append(items, svg("line").Class("measure-shape").Attr("x1", ax).Attr("y1", ay).Attr("x2", bx).Attr("y2", by).
				Attr("stroke", "#4fd1c5").Attr("stroke-width", 2*dpr))
		} else {
			items = append(items, svg("ellipse").Class("measure-shape").Attr("cx", ax).Attr("cy", ay).
				Attr("rx", math.Abs(bx-ax)).Attr("ry", math.Abs(by-ay)).
				Attr("stroke", "#4fd1c5").Attr("fill", "none").Attr("stroke-width", 2*dpr))
		}
		items = append(items, svg("text").Class("measure-label").Attr("x", bx+6*dpr).Attr("y", by).
			Attr("font-size", 12*dpr).Attr("fill", "#4fd1c5").Attr("paint-order", "stroke").Attr("stroke", "#000").
			Attr("stroke-width", 3*dpr).Text(label))
	}
	slab := ""
	if s.Slab.Thickness > 0 {
		slab = fmt.Sprintf(" · %s %g mm", map[uint32]string{shaders.SlabMax: "MIP", shaders.SlabMin: "MinIP", shaders.SlabMean: "mean"}[s.Slab.Mode], s.Slab.Thickness)
	}
	return app.Div().Class("vp-overlay").Body(
		svg("svg").Class("vp-svg").Attr("viewBox", fmt.Sprintf("0 0 %d %d", w, h)).Attr("preserveAspectRatio", "none").Body(items...),
		app.Div().Class("ov-tl").Body(
			app.Span().Class("ov-title").Style("color", viewColour[name]).Text(viewTitle[name]),
			app.Span().Class("slice-info").Text(fmt.Sprintf(" · %d/%d · %s %s mm", s.SliceIndex(name)+1, s.SliceCount(name),
				volume.OrientationLetters(nrm), f2(pos))),
		),
		app.Div().Class("ov-bl").Text(fmt.Sprintf("W %g L %g · zoom %.2f×%s", math.Round(s.Window.Width), math.Round(s.Window.Center), m.Zoom, slab)),
		app.Span().Class("orient orient-left").Text(let.Left),
		app.Span().Class("orient orient-right").Text(let.Right),
		app.Span().Class("orient orient-top").Text(let.Top),
		app.Span().Class("orient orient-bottom").Text(let.Bottom),
		app.If(s.Tool != "", func() app.UI {
			return app.Span().Class("ov-tool").Text(map[string]string{"length": "Length: drag to measure · Esc", "ellipse": "Ellipse: drag from the centre · Esc"}[s.Tool])
		}),
	)
}

func (v *Viewer) renderMeasurements() app.UI {
	return app.Div().ID("measurements").Class("measurements").Aria("label", "Measurements").Body(
		app.Range(v.s.Measures).Slice(func(i int) app.UI {
			m := v.s.Measures[i]
			kind := "Length"
			if m.Kind == "ellipse" {
				kind = "Ellipse"
			}
			id := m.ID
			return app.Div().Class("measurement").DataSet("id", id).DataSet("kind", m.Kind).Body(
				app.Span().Text(fmt.Sprintf("%s (%s): %s", kind, m.View, m.Label())),
				app.Button().Class("vbtn measurement-delete").Aria("label", "Delete measurement").Title("Delete").Text("✕").
					OnClick(func(ctx app.Context, e app.Event) { v.s.DeleteMeasurement(id) }),
			)
		}),
	)
}

func (v *Viewer) renderLegend() app.UI {
	n := max(v.experts, 1)
	return app.Div().ID("heat-legend").Class("heat-legend").Aria("label", "Expert heat map legend").Body(
		app.Span().Text("Experts (opacity = gate): "),
		app.Range(make([]int, n)).Slice(func(i int) app.UI {
			return app.Span().Class("legend-item").Body(
				app.Span().Class("legend-swatch").Style("background", ExpertColour(i)),
				app.Span().Text(fmt.Sprintf("E%d", i)),
			)
		}),
	)
}

func (v *Viewer) renderHelp() app.UI {
	return app.Div().ID("help-overlay").Class("help-overlay").Role("dialog").Aria("label", "Keyboard shortcuts").
		OnClick(func(ctx app.Context, e app.Event) { v.s.Help = false }).Body(
		app.Div().Class("help-box").Body(
			app.H2().Text("Keyboard and mouse"),
			app.Table().Body(
				app.Range(Shortcuts).Slice(func(i int) app.UI {
					return app.Tr().Body(app.Th().Text(Shortcuts[i][0]), app.Td().Text(Shortcuts[i][1]))
				}),
			),
			app.P().Text("Esc or a click closes this."),
		),
	)
}

const viewerCSS = `
.viewer { position: relative; display: flex; flex-direction: column; height: 100%; min-height: 0; background: #000; color: #ddd; font: 13px system-ui, sans-serif; }
.viewer-toolbar { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: center; padding: 4px 6px; background: #161616; border-bottom: 1px solid #333; }
.tb-group { display: inline-flex; gap: 2px; align-items: center; }
.tb-label { color: #999; margin-right: 2px; }
.vbtn { background: #262626; color: #ddd; border: 1px solid #444; border-radius: 4px; padding: 2px 7px; min-width: 28px; min-height: 28px; cursor: pointer; }
.vbtn[aria-pressed="true"] { background: #1d4ed8; border-color: #60a5fa; color: #fff; }
.vbtn:focus-visible, .viewer select:focus-visible { outline: 2px solid #60a5fa; outline-offset: 1px; }
.viewer select { background: #262626; color: #ddd; border: 1px solid #444; border-radius: 4px; min-height: 28px; }
.readout { font-variant-numeric: tabular-nums; color: #cfe3ff; }
/* The HU readout comes and goes with the pointer: a line of its own, always
   reserved, so the views never jump when it appears (under a finger, a jump
   of the view is a jump of the gesture). */
#hu-readout { flex: 1 0 100%; min-height: 1.35em; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.vp-grid { flex: 1; min-height: 0; display: grid; grid-template-columns: 1fr 1fr; grid-template-rows: 1fr 1fr; gap: 2px; background: #222; }
.vp-grid.maxed { grid-template-columns: 1fr; grid-template-rows: 1fr; }
.viewport { position: relative; overflow: hidden; background: #000; touch-action: none; user-select: none; min-height: 120px; }
.viewport[hidden] { display: none; }
.vp-canvas { position: absolute; inset: 0; width: 100%; height: 100%; image-rendering: auto; }
.vp-overlay { position: absolute; inset: 0; pointer-events: none; text-shadow: 0 0 3px #000, 0 0 2px #000; }
.vp-svg { position: absolute; inset: 0; width: 100%; height: 100%; }
.ov-tl { position: absolute; top: 4px; left: 6px; }
.ov-bl { position: absolute; bottom: 4px; left: 6px; }
.ov-title { font-weight: 600; }
.ov-tool { position: absolute; top: 4px; right: 6px; color: #4fd1c5; }
.orient { position: absolute; font-weight: 600; color: #fbbf24; }
.orient-left { left: 6px; top: 50%; transform: translateY(-50%); }
.orient-right { right: 6px; top: 50%; transform: translateY(-50%); }
.orient-top { top: 22px; left: 50%; transform: translateX(-50%); }
.orient-bottom { bottom: 22px; left: 50%; transform: translateX(-50%); }
.measurements { max-height: 7em; overflow: auto; background: #111; border-top: 1px solid #333; padding: 2px 6px; }
.measurement { display: flex; justify-content: space-between; align-items: center; gap: 8px; }
.heat-legend { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; padding: 2px 6px; background: #111; border-top: 1px solid #333; }
.legend-item { display: inline-flex; gap: 3px; align-items: center; }
.legend-swatch { width: 12px; height: 12px; display: inline-block; border-radius: 2px; }
.viewer-status { padding: 2px 6px; background: #2a1e00; color: #fcd34d; }
.viewer-empty { padding: 2em; color: #aaa; text-align: center; }
.help-overlay { position: absolute; inset: 0; background: rgba(0,0,0,.75); display: flex; align-items: center; justify-content: center; z-index: 10; }
.help-box { background: #1b1b1b; border: 1px solid #444; border-radius: 8px; padding: 12px 18px; max-width: min(92%, 720px); max-height: 90%; overflow: auto; }
.help-box h2 { margin: 0 0 8px; font-size: 16px; }
.help-box th { text-align: left; padding-right: 14px; white-space: nowrap; color: #fbbf24; vertical-align: top; }
.vp-tabs { display: none; gap: 2px; padding: 2px 6px; background: #161616; }
.vp-tab[aria-selected="true"] { background: #1d4ed8; border-color: #60a5fa; color: #fff; }
/* Tablet: one view large, the others behind tabs. */
@media (max-width: 900px) {
  .vp-tabs { display: flex; }
  .vp-grid { grid-template-columns: 1fr; grid-template-rows: 1fr; }
  .vp-grid:not(.maxed) .viewport:not([data-view="axial"]) { display: none; }
  .viewer-toolbar { font-size: 12px; }
}
`
