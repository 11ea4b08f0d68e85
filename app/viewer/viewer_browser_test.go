//go:build !js

package viewer_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"ctlens/app/internal/browsertest"
	"ctlens/app/viewer"
	"ctlens/volume/dicomread"
)

// waitJS polls a JavaScript boolean expression in the page for up to
// 120 s (the wasm, the import of the sample and SwiftShader are slow on a
// busy machine) and reports whether it came true.
func waitJS(s *browsertest.Session, expr string) bool {
	return browsertest.Eval[bool](s, `new Promise((ok) => { const t0 = Date.now(); const f = () => {
		let v = false; try { v = !!(`+expr+`); } catch (e) {}
		if (v) ok(true); else if (Date.now() - t0 > 120000) ok(false); else setTimeout(f, 100); }; f(); })`)
}

func frames(s *browsertest.Session, view string) int {
	return browsertest.Eval[int](s, `+(document.querySelector("canvas[data-view=\"`+view+`\"]").dataset.frames || 0)`)
}

// litPixels counts the pixels of a view's canvas that are not black.
func litPixels(s *browsertest.Session, view string) int {
	return browsertest.Eval[int](s, `(() => { const c = document.querySelector("canvas[data-view=\"`+view+`\"]");
		const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data; let n = 0;
		for (let i = 0; i < d.length; i += 4) if (d[i] | d[i+1] | d[i+2]) n++; return n; })()`)
}

type rect struct {
	Left, Top, W, H, DPR float64
}

func viewportRect(s *browsertest.Session, view string) rect {
	return browsertest.Eval[rect](s, `(() => { const e = document.getElementById("vp-`+view+`"); const r = e.getBoundingClientRect();
		return {Left: r.left, Top: r.top, W: e.clientWidth, H: e.clientHeight, DPR: Math.min(Math.max(devicePixelRatio, 1), 2)}; })()`)
}

// TestViewerInBrowser opens the sample study in headless Chromium and
// checks the viewer against the same DICOM imported natively: the HU
// under the cursor at a known voxel, the W/L presets on keys 1–6, the
// help overlay, a length measurement, and a non-black image in every
// view; a screenshot of the grid and of each view, maximised, is saved.
func TestViewerInBrowser(t *testing.T) {
	s := browsertest.Start(t, browsertest.Options{})
	for _, view := range viewer.Views {
		if !waitJS(s, `+document.querySelector("canvas[data-view=\"`+view+`\"]").dataset.frames > 0`) {
			t.Fatalf("the %s view drew no frame; viewer status: %q; console:\n%s", view,
				browsertest.Eval[string](s, `(document.getElementById("viewer-status") || {}).innerText || ""`),
				strings.Join(s.Console(), "\n"))
		}
	}
	res, err := dicomread.Import(context.Background(), os.DirFS(browsertest.SampleDir()), nil)
	if err != nil || len(res.Volumes) == 0 || res.Volumes[0] == nil {
		t.Fatalf("importing the sample natively: %v", err)
	}
	v := res.Volumes[0]
	t.Logf("sample: %s", v)

	// HU under the cursor at a known voxel of the axial view: off the
	// crosshair, so the test does not pass by reading the centre.
	ses := viewer.NewSession(v)
	r := viewportRect(s, "axial")
	w, h := int(r.W*r.DPR), int(r.H*r.DPR)
	m := ses.MPR["axial"]
	p := ses.Cross
	p[m.Plane.U] += 9
	p[m.Plane.V] -= 6
	sx, sy := m.VoxelToScreen(v, w, h, p)
	x, y := r.Left+sx/r.DPR, r.Top+sy/r.DPR
	if err := chromedp.Do(s.Ctx, chromedp.MouseEvent(chromedp.MouseMoved, x, y)); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%d,%d,%d", int(p[0]), int(p[1]), int(p[2]))
	if !waitJS(s, `document.getElementById("hu-readout").dataset.voxel === "`+want+`"`) {
		t.Fatalf("the readout at voxel %s shows %q", want, browsertest.Eval[string](s, `document.getElementById("hu-readout").innerText`))
	}
	hu := browsertest.Eval[string](s, `document.getElementById("hu-readout").dataset.hu`)
	if wantHU := fmt.Sprint(v.At(int(p[0]), int(p[1]), int(p[2]))); hu != wantHU {
		t.Errorf("HU under the cursor at voxel %s: page %s, native import %s", want, hu, wantHU)
	}
	t.Logf("readout: %s", browsertest.Eval[string](s, `document.getElementById("hu-readout").innerText`))

	for _, view := range viewer.Views {
		if n := litPixels(s, view); n == 0 {
			t.Errorf("the %s view is all black", view)
		}
	}
	s.Screenshot("grid")

	// W/L presets on keys 1–6.
	presets := map[string][2]string{"1": {"80", "40"}, "2": {"400", "40"}, "3": {"1500", "-600"}, "4": {"2000", "500"}, "5": {"150", "90"}, "6": {"400", "40"}}
	for _, k := range []string{"1", "2", "3", "4", "5", "6"} {
		if err := chromedp.Do(s.Ctx, chromedp.KeyEvent(k)); err != nil {
			t.Fatal(err)
		}
		wl := presets[k]
		if !waitJS(s, `(() => { const e = document.getElementById("wl-readout"); return e.dataset.width === "`+wl[0]+`" && e.dataset.center === "`+wl[1]+`"; })()`) {
			t.Errorf("key %s: W/L readout %q, want W %s L %s", k, browsertest.Eval[string](s, `document.getElementById("wl-readout").innerText`), wl[0], wl[1])
		}
	}

	// ? shows the help overlay, Esc closes it.
	if err := chromedp.Do(s.Ctx, chromedp.KeyEvent("?")); err != nil {
		t.Fatal(err)
	}
	if !waitJS(s, `document.getElementById("help-overlay") && document.getElementById("help-overlay").innerText.includes("mediastinum")`) {
		t.Error("? did not show the help overlay with the presets")
	}
	s.Screenshot("help")
	if err := chromedp.Do(s.Ctx, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	if !waitJS(s, `!document.getElementById("help-overlay")`) {
		t.Error("Esc did not close the help overlay")
	}

	// L, then a drag on the axial view: a length in mm in the list.
	if err := chromedp.Do(s.Ctx, chromedp.KeyEvent("l"),
		chromedp.MouseEvent(chromedp.MousePressed, x, y, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseMoved, x+40, y+30, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseMoved, x+80, y+60, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseReleased, x+80, y+60, chromedp.ButtonLeft)); err != nil {
		t.Fatal(err)
	}
	if !waitJS(s, `document.querySelector(".measurement") && / mm/.test(document.querySelector(".measurement").innerText)`) {
		t.Error("a length drag left no measurement in the list")
	} else {
		t.Logf("measurement: %s", browsertest.Eval[string](s, `document.querySelector(".measurement").innerText`))
	}
	s.Screenshot("length")

	// E, then a drag: an ellipse ROI with its HU statistics and area; the
	// ✕ of a measurement removes it from the list.
	if err := chromedp.Do(s.Ctx, chromedp.KeyEvent("e"),
		chromedp.MouseEvent(chromedp.MousePressed, x-20, y-20, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseMoved, x, y, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseMoved, x+20, y+15, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseReleased, x+20, y+15, chromedp.ButtonLeft)); err != nil {
		t.Fatal(err)
	}
	ellipse := `document.querySelector(".measurement[data-kind=\"ellipse\"]")`
	if !waitJS(s, ellipse+` && /HU/.test(`+ellipse+`.innerText) && /mm²/.test(`+ellipse+`.innerText)`) {
		t.Error("an ellipse drag left no ROI with HU statistics and area in the list")
	} else {
		t.Logf("ROI: %s", browsertest.Eval[string](s, ellipse+`.innerText`))
	}
	s.Screenshot("ellipse")
	n := browsertest.Eval[int](s, `document.querySelectorAll(".measurement").length`)
	browsertest.Eval[bool](s, ellipse+`.querySelector(".measurement-delete").click() || true`)
	if !waitJS(s, `document.querySelectorAll(".measurement").length === `+fmt.Sprint(n-1)+` && !`+ellipse) {
		t.Errorf("deleting the ellipse left %d measurements, want %d", browsertest.Eval[int](s, `document.querySelectorAll(".measurement").length`), n-1)
	}

	// Each view maximised (double-click), as an artifact.
	for _, view := range viewer.Views {
		n := frames(s, view)
		browsertest.Eval[bool](s, `document.getElementById("vp-`+view+`").dispatchEvent(new MouseEvent("dblclick", {bubbles: true}))`)
		if !waitJS(s, `+document.querySelector("canvas[data-view=\"`+view+`\"]").dataset.frames > `+fmt.Sprint(n)+
			` && document.querySelector(".vp-grid").classList.contains("maxed") && !document.getElementById("vp-`+view+`").hidden`) {
			t.Errorf("double-click did not maximise and redraw the %s view", view)
		}
		s.Screenshot(view)
		browsertest.Eval[bool](s, `document.getElementById("vp-`+view+`").dispatchEvent(new MouseEvent("dblclick", {bubbles: true}))`)
		waitJS(s, `!document.querySelector(".vp-grid").classList.contains("maxed")`)
	}
	if errs := s.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

// TestViewerTabletLayout: at tablet width one view is large and the
// others sit behind tabs; a tab shows and draws its view.
func TestViewerTabletLayout(t *testing.T) {
	s := browsertest.Start(t, browsertest.Options{Width: 800, Height: 1000})
	if !waitJS(s, `+document.querySelector("canvas[data-view=\"axial\"]").dataset.frames > 0`) {
		t.Fatalf("the axial view drew no frame at 800 px")
	}
	visible := func(view string) bool {
		return browsertest.Eval[bool](s, `document.getElementById("vp-`+view+`").getBoundingClientRect().width > 0`)
	}
	if !visible("axial") || visible("coronal") || visible("3d") {
		t.Errorf("at 800 px: axial %v coronal %v 3d %v, want only axial shown", visible("axial"), visible("coronal"), visible("3d"))
	}
	if w := browsertest.Eval[float64](s, `document.getElementById("vp-axial").getBoundingClientRect().width`); w < 600 {
		t.Errorf("the one view is %v px wide at 800 px, want most of the width", w)
	}
	browsertest.Eval[bool](s, `(() => { for (const b of document.querySelectorAll(".vp-tab")) if (b.innerText === "Coronal") { b.click(); return true; } return false; })()`)
	if !waitJS(s, `+document.querySelector("canvas[data-view=\"coronal\"]").dataset.frames > 0 && document.getElementById("vp-coronal").getBoundingClientRect().width > 0`) {
		t.Errorf("the Coronal tab did not show and draw the coronal view")
	}
	if visible("axial") {
		t.Errorf("the axial view is still shown after choosing Coronal")
	}
	s.Screenshot("tablet-coronal")
	if errs := s.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
