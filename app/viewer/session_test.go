package viewer

import (
	"math"
	"testing"

	"ctlens/shaders"
	"ctlens/volume"
)

func TestSessionKeys(t *testing.T) {
	v := testVolume(nil)
	s := NewSession(v)
	if s.Cross != [3]float64{20, 15, 10} {
		t.Errorf("crosshair opens at %v, want the centre voxel (20,15,10)", s.Cross)
	}
	if s.Window.Source != volume.SourceStats {
		t.Errorf("a file without windows opens with %v, want statistics", s.Window)
	}
	s.Key("3")
	if s.Window.Width != 1500 || s.Window.Center != -600 {
		t.Errorf("key 3: %v, want lung W1500/L-600", s.Window)
	}
	s.Key("ArrowUp")
	s.Key("PageUp")
	if s.SliceIndex("axial") != 19 {
		t.Errorf("↑ then PgUp from slice 10 of 20: slice %d, want 19 (clamped)", s.SliceIndex("axial"))
	}
	s.Key("PageDown")
	if s.SliceIndex("axial") != 9 {
		t.Errorf("PgDn: slice %d, want 9", s.SliceIndex("axial"))
	}
	s.Active = "coronal"
	s.Key("ArrowDown")
	if s.Cross[1] != 14 || s.SliceIndex("axial") != 9 {
		t.Errorf("↓ on coronal moved %v, want y 15→14 only", s.Cross)
	}
	s.Key("i")
	s.Key("m")
	if !s.Invert || s.Slab.Thickness != mipSlabMM || s.Slab.Mode != shaders.SlabMax {
		t.Errorf("I, M: invert %v slab %+v", s.Invert, s.Slab)
	}
	s.Key("l")
	if s.Tool != "length" {
		t.Errorf("L: tool %q", s.Tool)
	}
	s.Key("?")
	s.Key("Escape")
	if s.Help || s.Tool != "length" {
		t.Errorf("Esc with help open closes the help first: help %v tool %q", s.Help, s.Tool)
	}
	s.Key("Escape")
	if s.Tool != "" {
		t.Errorf("second Esc leaves tool %q", s.Tool)
	}
	s.Key("f")
	if s.Maximised != "coronal" {
		t.Errorf("F maximised %q, want the active view", s.Maximised)
	}
	s.Zoom("axial", 3)
	s.Pan("axial", 10, 0)
	s.Key("r")
	if s.MPR["axial"].Zoom != 1 || s.MPR["axial"].PanX != 0 || s.Cross != [3]float64{20, 15, 10} {
		t.Errorf("R left zoom %v pan %v cross %v", s.MPR["axial"].Zoom, s.MPR["axial"].PanX, s.Cross)
	}
	if s.Key("x") {
		t.Error("x was taken as a shortcut")
	}
	for _, k := range []string{"1", "0", "R", "?", "Escape", "PageDown"} {
		if !IsShortcut(k) {
			t.Errorf("IsShortcut(%q) = false", k)
		}
	}
}

func TestSessionHUIsExact(t *testing.T) {
	v := testVolume(nil)
	s := NewSession(v)
	hu, idx, ok := s.HU([3]float64{10.4, 7.6, 5.2})
	if !ok || idx != [3]int{10, 8, 5} || hu != v.At(10, 8, 5) {
		t.Errorf("HU near (10,8,5): %d at %v ok=%v, want %d", hu, idx, ok, v.At(10, 8, 5))
	}
	if _, _, ok := s.HU([3]float64{-0.6, 0, 0}); ok {
		t.Error("a point outside the volume gave a value")
	}
}

func TestSessionWindowDragAndMeasure(t *testing.T) {
	v := testVolume(nil)
	s := NewSession(v)
	s.Window = volume.Window{Center: 40, Width: 400}
	s.DragWindow(100, -50)
	if !(s.Window.Width > 400) || !(s.Window.Center < 40) || s.Window.Source != volume.SourceUser {
		t.Errorf("drag right/up: %v, want wider and lower", s.Window)
	}
	m := s.AddMeasurement("length", "axial", [3]float64{1, 2, 10}, [3]float64{4, 6, 10})
	if want := math.Hypot(3*0.8, 4*0.9); math.Abs(m.Length-want) > 1e-9 {
		t.Errorf("length %v, want %v", m.Length, want)
	}
	e := s.AddMeasurement("ellipse", "axial", [3]float64{27, 22, 10}, [3]float64{31, 25, 10})
	if e.ROI.Count == 0 || e.ROI.Min < -100 || e.ROI.Max >= 300 {
		t.Errorf("ellipse in the random region: %+v", e.ROI)
	}
	s.DeleteMeasurement(m.ID)
	if len(s.Measures) != 1 || s.Measures[0].ID != e.ID {
		t.Errorf("after delete: %+v", s.Measures)
	}
}

func TestRotateClampsElevation(t *testing.T) {
	s := NewSession(testVolume(nil))
	s.Rotate(0, 1e6, 100)
	if s.Cam.El >= math.Pi/2 {
		t.Errorf("elevation %v past the pole", s.Cam.El)
	}
}
