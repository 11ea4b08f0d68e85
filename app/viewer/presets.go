package viewer

import (
	"ctlens/shaders"
	"ctlens/volume"
)

// WindowForKey returns the W/L preset of key "1"–"6" (volume.Presets in
// order: brain, soft tissue, lung, bone, liver, mediastinum) or, for "0",
// the file's own window (else one from the statistics). ok is false for
// other keys.
func WindowForKey(key string, v *volume.Volume, stats volume.Stats) (volume.Window, bool) {
	if len(key) != 1 || key[0] < '0' || key[0] > '6' {
		return volume.Window{}, false
	}
	if key == "0" {
		return volume.DefaultWindow(nil, v.Windows, stats), true
	}
	return volume.Presets[key[0]-'1'], true
}

// TFPoint is one control point of a transfer function: at HU, colour
// R, G, B and opacity A per millimetre of ray.
type TFPoint struct {
	HU         float64
	R, G, B, A float64
}

// Preset3D is a 3D rendering preset.
type Preset3D struct {
	Name   string
	Mode   uint32    // shaders.RayDVR, RayMIP, RayMinIP
	Points []TFPoint // DVR: the transfer function, by increasing HU
	Window volume.Window
	Shade  bool
}

// Presets3D are the 3D presets, in the style of 3D Slicer's CT presets
// (the control points follow the shape of Slicer's CT-Bone, CT-Lung and
// CT-Soft-Tissue; the opacities are per mm of ray here, so CT-Bone starts
// its ramp above soft tissue, which would otherwise fog the view over a
// 300 mm path).
var Presets3D = []Preset3D{
	{Name: "CT-Bone", Mode: shaders.RayDVR, Shade: true, Points: []TFPoint{
		{-1000, 0, 0, 0, 0}, {140, 0.73, 0.25, 0.30, 0}, {300, 0.85, 0.62, 0.45, 0.25}, {641, 0.91, 0.82, 0.55, 0.7},
		{3071, 1, 1, 1, 0.9},
	}},
	{Name: "CT-Soft-Tissue", Mode: shaders.RayDVR, Shade: true, Points: []TFPoint{
		{-1000, 0, 0, 0, 0}, {-167, 0, 0, 0, 0}, {-160, 0.55, 0.25, 0.15, 0.05}, {56, 0.88, 0.60, 0.29, 0.2},
		{240, 1, 0.94, 0.95, 0.6}, {3071, 0.83, 0.66, 1, 0.6},
	}},
	{Name: "CT-Lung", Mode: shaders.RayDVR, Shade: true, Points: []TFPoint{
		{-1000, 0.30, 0.30, 1, 0}, {-900, 0.30, 0.30, 1, 0}, {-850, 0.76, 0.52, 0.46, 0.02}, {-500, 0.9, 0.6, 0.5, 0.08},
		{-400, 0.9, 0.6, 0.5, 0}, {3071, 0.9, 0.6, 0.5, 0},
	}},
	{Name: "CT-MIP", Mode: shaders.RayMIP, Window: volume.Window{Name: "MIP", Center: 500, Width: 2000}},
	{Name: "MinIP", Mode: shaders.RayMinIP, Window: volume.Window{Name: "MinIP", Center: -600, Width: 1000}},
}

// Range is the HU span of the preset's control points.
func (p Preset3D) Range() (lo, hi float64) {
	if len(p.Points) == 0 {
		return -1000, 3071
	}
	return p.Points[0].HU, p.Points[len(p.Points)-1].HU
}

// LUT samples the transfer function at shaders.LUTSize evenly spaced HU
// over Range, linearly between control points.
func (p Preset3D) LUT() [][4]float32 {
	lut := make([][4]float32, shaders.LUTSize)
	lo, hi := p.Range()
	if len(p.Points) == 0 {
		return lut
	}
	j := 0
	for i := range lut {
		hu := lo + (hi-lo)*float64(i)/float64(shaders.LUTSize-1)
		for j+1 < len(p.Points)-1 && p.Points[j+1].HU < hu {
			j++
		}
		a, b := p.Points[j], p.Points[min(j+1, len(p.Points)-1)]
		t := 0.0
		if b.HU > a.HU {
			t = min(max((hu-a.HU)/(b.HU-a.HU), 0), 1)
		}
		mix := func(x, y float64) float32 { return float32(x + (y-x)*t) }
		lut[i] = [4]float32{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), mix(a.A, b.A)}
	}
	return lut
}
