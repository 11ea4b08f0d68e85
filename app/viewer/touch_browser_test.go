//go:build !js

package viewer_test

import (
	"context"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"ctlens/app/internal/browsertest"
	"ctlens/app/viewer"
	"ctlens/volume/dicomread"
)

// touchState is what the overlay of one view shows: its slice (1-based,
// as printed), its zoom, and where its crosshair lines cross (canvas
// pixels), which moves when the view is panned.
type touchState struct {
	Slice  int
	Zoom   float64
	CX, CY float64
	WL     string
}

func readTouchState(s *browsertest.Session, view string) touchState {
	return browsertest.Eval[touchState](s, `(() => {
		const vp = document.getElementById("vp-`+view+`");
		const st = {Slice: 0, Zoom: 0, CX: NaN, CY: NaN, WL: document.getElementById("wl-readout").innerText};
		const si = vp.querySelector(".slice-info");
		if (si) { const m = / (\d+)\/\d+ /.exec(si.innerText); if (m) st.Slice = +m[1]; }
		const z = /zoom ([\d.]+)×/.exec(vp.querySelector(".ov-bl").innerText);
		if (z) st.Zoom = +z[1];
		for (const l of vp.querySelectorAll("line.crosshair")) {
			if (l.getAttribute("x1") === l.getAttribute("x2")) st.CX = +l.getAttribute("x1");
			else st.CY = +l.getAttribute("y1");
		}
		return st; })()`)
}

// centre is the middle of view's viewport, in CSS pixels.
func centre(r rect) browsertest.Point { return browsertest.Point{X: r.Left + r.W/2, Y: r.Top + r.H/2} }

// waitState polls view's overlay until ok holds (up to a minute) and
// returns the last state read.
func waitState(s *browsertest.Session, view string, ok func(touchState) bool) (touchState, bool) {
	deadline := time.Now().Add(time.Minute)
	for {
		st := readTouchState(s, view)
		if ok(st) {
			return st, true
		}
		if time.Now().After(deadline) {
			return st, false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sampleSession is a native session on the served sample study, to say
// what the page should show after each gesture.
func sampleSession(t *testing.T) *viewer.Session {
	t.Helper()
	res, err := dicomread.Import(context.Background(), os.DirFS(browsertest.SampleDir()), nil)
	if err != nil || len(res.Volumes) == 0 || res.Volumes[0] == nil {
		t.Fatalf("importing the sample natively: %v", err)
	}
	return viewer.NewSession(res.Volumes[0])
}

// startTouch opens the app at w×h with touch emulation on and waits until
// the views shown have drawn.
func startTouch(t *testing.T, w, h int, shown ...string) *browsertest.Session {
	t.Helper()
	s := browsertest.Start(t, browsertest.Options{Width: w, Height: h})
	s.EnableTouch(5)
	for _, view := range shown {
		if !waitJS(s, `+document.querySelector("canvas[data-view=\"`+view+`\"]").dataset.frames > 0`) {
			t.Fatalf("the %s view drew no frame; viewer status: %q; console:\n%s", view,
				browsertest.Eval[string](s, `(document.getElementById("viewer-status") || {}).innerText || ""`),
				strings.Join(s.Console(), "\n"))
		}
	}
	if !browsertest.Eval[bool](s, `navigator.maxTouchPoints >= 2 && matchMedia("(any-pointer: coarse)").matches`) {
		t.Fatalf("touch emulation is not on: maxTouchPoints %d", browsertest.Eval[int](s, `navigator.maxTouchPoints`))
	}
	return s
}

// TestViewerTouch drives the touch conventions of UI.md through
// Chromium's own touch input (CDP touch events, touch emulation on) in a
// 1024×768 window (a landscape tablet's), and checks each against a
// native Session given the same gesture: one finger scrolls slices (and leaves W/L alone, unlike
// a mouse drag), a long press moves the crosshair, two fingers
// pinch-zoom (the 3D view too) and pan.
func TestViewerTouch(t *testing.T) {
	s := startTouch(t, 1024, 768, viewer.Views...)
	ses := sampleSession(t)
	for _, view := range viewer.Views {
		if r := viewportRect(s, view); r.W < 200 || r.H < 150 {
			t.Errorf("at 1024×768 the %s view is %.0f×%.0f px", view, r.W, r.H)
		}
	}
	s.Screenshot("tablet-touch")

	// One finger, 80 px down the axial view: a slice per 8 canvas px.
	r := viewportRect(s, "axial")
	c := centre(r)
	before := readTouchState(s, "axial")
	if want := ses.SliceIndex("axial") + 1; before.Slice != want {
		t.Fatalf("axial shows slice %d before any gesture, the native session %d", before.Slice, want)
	}
	const drag = 80.0
	ses.Scroll("axial", -int(drag*r.DPR/8))
	want := ses.SliceIndex("axial") + 1
	if want == before.Slice {
		t.Fatalf("the native session did not scroll: slice %d", want)
	}
	// The view must stay put under the finger: the HU readout that a
	// touch brings up once moved every view down by a toolbar line while
	// the finger was down, and the gesture with them.
	browsertest.Eval[bool](s, `(() => { const vp = document.getElementById("vp-axial"); const top0 = vp.getBoundingClientRect().top;
		window.__ctlensShift = 0;
		vp.addEventListener("pointermove", () => { window.__ctlensShift = Math.max(window.__ctlensShift, Math.abs(vp.getBoundingClientRect().top - top0)); }, true);
		return true; })()`)
	s.Drag(browsertest.Point{X: c.X, Y: c.Y - drag/2}, browsertest.Point{X: c.X, Y: c.Y + drag/2}, 8)
	if shift := browsertest.Eval[float64](s, `window.__ctlensShift`); shift != 0 {
		t.Errorf("the axial view moved %.1f px under the finger during the drag", shift)
	}
	after, ok := waitState(s, "axial", func(st touchState) bool { return st.Slice == want })
	if !ok {
		t.Errorf("a one-finger drag of %.0f px: axial slice %d → %d, want %d", drag, before.Slice, after.Slice, want)
	}
	if after.WL != before.WL || after.Zoom != before.Zoom {
		t.Errorf("a one-finger drag changed W/L %q → %q or zoom %v → %v; it should only scroll", before.WL, after.WL, before.Zoom, after.Zoom)
	}
	t.Logf("one-finger drag: axial slice %d → %d", before.Slice, after.Slice)

	// A long press on the axial view, off the crosshair: the crosshair
	// moves there, so the coronal and sagittal views change slice.
	w, h := int(r.W*r.DPR), int(r.H*r.DPR)
	m := ses.MPR["axial"]
	p := ses.Cross
	p[m.Plane.U] += 15
	p[m.Plane.V] -= 10
	sx, sy := m.VoxelToScreen(ses.Vol, w, h, p)
	press := browsertest.Point{X: r.Left + sx/r.DPR, Y: r.Top + sy/r.DPR}
	ses.SetCross(m.ScreenToVoxel(ses.Vol, w, h, ses.Cross, sx, sy))
	wantCor, wantSag := ses.SliceIndex("coronal")+1, ses.SliceIndex("sagittal")+1
	cor0, sag0 := readTouchState(s, "coronal").Slice, readTouchState(s, "sagittal").Slice
	if wantCor == cor0 || wantSag == sag0 {
		t.Fatalf("the press point does not move the crosshair off coronal %d / sagittal %d", cor0, sag0)
	}
	s.LongPress(press, 900*time.Millisecond)
	corSt, ok1 := waitState(s, "coronal", func(st touchState) bool { return st.Slice == wantCor })
	sagSt, ok2 := waitState(s, "sagittal", func(st touchState) bool { return st.Slice == wantSag })
	if !ok1 || !ok2 {
		t.Errorf("a long press at voxel %v: coronal %d → %d (want %d), sagittal %d → %d (want %d)",
			p, cor0, corSt.Slice, wantCor, sag0, sagSt.Slice, wantSag)
	}
	if ax := readTouchState(s, "axial").Slice; ax != want {
		t.Errorf("a long press on the axial view changed its own slice %d → %d", want, ax)
	}
	t.Logf("long press: coronal %d → %d, sagittal %d → %d", cor0, corSt.Slice, sag0, sagSt.Slice)

	// A short tap is neither: nothing moves.
	s.LongPress(centre(viewportRect(s, "coronal")), 50*time.Millisecond)
	time.Sleep(time.Second) // past the long-press delay
	if st := readTouchState(s, "sagittal"); st.Slice != wantSag {
		t.Errorf("a tap on the coronal view moved the crosshair: sagittal %d → %d", wantSag, st.Slice)
	}

	// Two fingers spreading from 100 to 200 px apart about the coronal
	// view's centre: zoom ×2, the crosshair where the native session
	// puts it (zoom is about the view's centre, no pan).
	r = viewportRect(s, "coronal")
	c = centre(r)
	cor := readTouchState(s, "coronal")
	if cor.Zoom != 1 {
		t.Fatalf("coronal zoom %v before the pinch, want 1", cor.Zoom)
	}
	s.Pinch(c, 100, c, 200, 10)
	ses.Zoom("coronal", 2)
	w, h = int(r.W*r.DPR), int(r.H*r.DPR)
	wx, wy := ses.MPR["coronal"].VoxelToScreen(ses.Vol, w, h, ses.Cross)
	pinched, ok := waitState(s, "coronal", func(st touchState) bool {
		return math.Abs(st.Zoom-2) < 0.015 && math.Abs(st.CX-wx) < 2 && math.Abs(st.CY-wy) < 2
	})
	if !ok {
		t.Errorf("a pinch from 100 to 200 px: coronal zoom %v → %v (want 2), crosshair at (%.1f, %.1f) (want (%.1f, %.1f))",
			cor.Zoom, pinched.Zoom, pinched.CX, pinched.CY, wx, wy)
	}
	if pinched.Slice != cor.Slice {
		t.Errorf("a pinch scrolled the coronal view: slice %d → %d", cor.Slice, pinched.Slice)
	}
	t.Logf("pinch: coronal zoom %v → %v, crosshair (%.1f, %.1f) → (%.1f, %.1f)", cor.Zoom, pinched.Zoom, cor.CX, cor.CY, pinched.CX, pinched.CY)

	// Two fingers moving together 60 px right and 40 px up on the
	// sagittal view: a pan by as much, zoom unchanged.
	r = viewportRect(s, "sagittal")
	c = centre(r)
	sag := readTouchState(s, "sagittal")
	const panX, panY = 60.0, -40.0
	s.Pinch(c, 120, browsertest.Point{X: c.X + panX, Y: c.Y + panY}, 120, 10)
	panned, ok := waitState(s, "sagittal", func(st touchState) bool {
		return math.Abs(st.CX-(sag.CX+panX*r.DPR)) < 2 && math.Abs(st.CY-(sag.CY+panY*r.DPR)) < 2
	})
	if !ok {
		t.Errorf("a two-finger pan by (%v, %v) px: sagittal crosshair (%.1f, %.1f) → (%.1f, %.1f), want (%.1f, %.1f)",
			panX, panY, sag.CX, sag.CY, panned.CX, panned.CY, sag.CX+panX*r.DPR, sag.CY+panY*r.DPR)
	}
	if panned.Zoom != sag.Zoom || panned.Slice != sag.Slice {
		t.Errorf("a two-finger pan changed zoom %v → %v or slice %d → %d", sag.Zoom, panned.Zoom, sag.Slice, panned.Slice)
	}
	t.Logf("two-finger pan: sagittal crosshair (%.1f, %.1f) → (%.1f, %.1f)", sag.CX, sag.CY, panned.CX, panned.CY)

	// A pinch in the 3D view zooms its camera.
	r = viewportRect(s, "3d")
	c = centre(r)
	d3 := readTouchState(s, "3d")
	s.Pinch(c, 150, c, 100, 10)
	z3, ok := waitState(s, "3d", func(st touchState) bool { return math.Abs(st.Zoom-d3.Zoom*100/150) < 0.015 })
	if !ok {
		t.Errorf("a pinch from 150 to 100 px on the 3D view: zoom %v → %v, want %.2f", d3.Zoom, z3.Zoom, d3.Zoom*100/150)
	}
	t.Logf("3D pinch: zoom %v → %v", d3.Zoom, z3.Zoom)
	s.Screenshot("after-gestures")

	if errs := s.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

// centreOf is the middle of the element with id, in CSS pixels.
func centreOf(s *browsertest.Session, id string) browsertest.Point {
	return browsertest.Eval[browsertest.Point](s, `(() => { const r = document.getElementById("`+id+`").getBoundingClientRect();
		return {X: r.left + r.width / 2, Y: r.top + r.height / 2}; })()`)
}

// TestViewerTabletTouch: a portrait tablet (768 px wide, touch only).
// Taps work the tablet layout's controls (the view tabs, the library
// drawer), and the gestures work in the view a tab brings up.
func TestViewerTabletTouch(t *testing.T) {
	s := startTouch(t, 768, 1024, "axial")
	tab := browsertest.Eval[string](s, `(() => { for (const b of document.querySelectorAll(".vp-tab")) if (b.innerText === "Coronal") { b.id = b.id || "test-tab-coronal"; return b.id; } return ""; })()`)
	if tab == "" {
		t.Fatalf("no Coronal tab at 768 px")
	}
	// A tap: finger down and up at once, no movement.
	s.LongPress(centreOf(s, tab), 30*time.Millisecond)
	if !waitJS(s, `document.getElementById("vp-coronal").getBoundingClientRect().width > 0 && document.getElementById("vp-axial").getBoundingClientRect().width === 0`) {
		t.Fatalf("a tap on the Coronal tab did not bring up the coronal view in place of the axial")
	}
	r := viewportRect(s, "coronal")
	if r.W < 600 {
		t.Errorf("the coronal view is %.0f px wide at 768 px, want most of the width", r.W)
	}
	c := centre(r)
	before := readTouchState(s, "coronal")
	s.Drag(browsertest.Point{X: c.X, Y: c.Y + 40}, browsertest.Point{X: c.X, Y: c.Y - 40}, 8)
	want := before.Slice + int(80*r.DPR/8) // finger up: the other way
	if st, ok := waitState(s, "coronal", func(st touchState) bool { return st.Slice == want }); !ok {
		t.Errorf("a one-finger drag up the coronal view: slice %d → %d, want %d", before.Slice, st.Slice, want)
	}
	s.Pinch(c, 200, c, 100, 10)
	if st, ok := waitState(s, "coronal", func(st touchState) bool { return math.Abs(st.Zoom-0.5) < 0.015 }); !ok {
		t.Errorf("a pinch from 200 to 100 px on the coronal view: zoom %v → %v, want 0.5", before.Zoom, st.Zoom)
	}
	s.Screenshot("tablet-coronal")

	// The library drawer opens on a tap of its button.
	s.LongPress(centreOf(s, "toggle-library"), 30*time.Millisecond)
	if !waitJS(s, `(() => { const r = document.getElementById("pane-library").getBoundingClientRect(); return r.left >= 0 && r.right > 100 && r.left < innerWidth - 1; })()`) {
		t.Errorf("a tap on the library button did not open the library drawer")
	}
	s.Screenshot("tablet-library")
	if errs := s.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
