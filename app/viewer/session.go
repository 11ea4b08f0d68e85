package viewer

import (
	"math"

	"ctlens/shaders"
	"ctlens/volume"
)

// Views are the viewport names, also each canvas's data-view.
var Views = []string{"axial", "coronal", "sagittal", "3d"}

// mprKinds maps the MPR view names to their planes.
var mprKinds = map[string]volume.PlaneKind{"axial": volume.Axial, "coronal": volume.Coronal, "sagittal": volume.Sagittal}

// mipSlabMM is the slab thickness the M key toggles.
const mipSlabMM = 10

// Session is the viewer's state for one series, plain data: the shared
// crosshair, each view's camera, the window, the tools and measurements.
// Interaction methods change it; the component renders it. Nothing here
// touches the DOM or the GPU, so it is tested natively.
type Session struct {
	Vol   *volume.Volume
	Stats volume.Stats // of a sample of the voxels: for the default window

	Cross  [3]float64 // voxel coordinates, shared by the three planes
	MPR    map[string]*MPRView
	Window volume.Window
	Invert bool
	Slab   Slab

	Cam      Camera3D
	Preset3D int // index into Presets3D

	Active    string // the view keys and the readout refer to
	Maximised string // "" or a view name
	Tool      string // "", "length" or "ellipse"
	Help      bool

	Measures []Measurement
	nextID   int
}

// NewSession opens v: crosshair at the centre, every view fitted, the
// window from the file (else its statistics).
func NewSession(v *volume.Volume) *Session {
	s := &Session{Vol: v, Stats: sampledStats(v), Active: "axial"}
	s.Reset()
	s.Window = volume.DefaultWindow(nil, v.Windows, s.Stats)
	return s
}

// sampledStats computes the statistics over at most ~2M evenly spread
// voxels: a full pass over a 512×512×500 series would hold the page for
// most of a second, and the percentiles barely move.
func sampledStats(v *volume.Volume) volume.Stats {
	vox := v.Phase(0)
	stride := max(1, len(vox)/(2<<20))
	if stride == 1 {
		return (&volume.Volume{Voxels: vox}).Stats()
	}
	sample := make([]int16, 0, len(vox)/stride+1)
	for i := 0; i < len(vox); i += stride {
		sample = append(sample, vox[i])
	}
	return (&volume.Volume{Voxels: sample}).Stats()
}

// Reset fits every view, centres the crosshair and the 3D camera (R).
func (s *Session) Reset() {
	d := s.Vol.Dims
	s.Cross = [3]float64{math.Round(float64(d[0]-1) / 2), math.Round(float64(d[1]-1) / 2), math.Round(float64(d[2]-1) / 2)}
	s.MPR = map[string]*MPRView{}
	for name, k := range mprKinds {
		s.MPR[name] = &MPRView{Plane: s.Vol.PlaneFor(k), Zoom: 1}
	}
	s.Cam = Camera3D{Zoom: 1, El: 0.15}
}

// SliceCount is the number of slices view name scrolls through.
func (s *Session) SliceCount(name string) int {
	m := s.MPR[name]
	if m == nil {
		return 0
	}
	return s.Vol.Dims[m.Plane.Normal]
}

// SliceIndex is the slice view name shows (0-based).
func (s *Session) SliceIndex(name string) int {
	m := s.MPR[name]
	if m == nil {
		return 0
	}
	return int(math.Round(s.Cross[m.Plane.Normal]))
}

// Scroll moves view name's slice by n (clamped), keeping it on a voxel.
func (s *Session) Scroll(name string, n int) {
	m := s.MPR[name]
	if m == nil {
		return
	}
	a := m.Plane.Normal
	s.Cross[a] = float64(min(max(int(math.Round(s.Cross[a]))+n, 0), s.Vol.Dims[a]-1))
}

// SetCross moves the crosshair to voxel point p (clamped into the volume);
// the clicked view's own slice stays.
func (s *Session) SetCross(p [3]float64) {
	for a := range 3 {
		s.Cross[a] = min(max(p[a], 0), float64(s.Vol.Dims[a]-1))
	}
}

// DragWindow changes the window as a left drag of (dx, dy) canvas pixels
// does in OHIF: right widens, down raises the level; the step scales with
// the width so narrow windows stay controllable.
func (s *Session) DragWindow(dx, dy float64) {
	k := math.Max(s.Window.Width, 10) / 400
	s.Window.Width = math.Max(1, s.Window.Width+dx*k*2)
	s.Window.Center += dy * k
	s.Window.Name, s.Window.Source = "custom", volume.SourceUser
}

// Zoom multiplies view name's zoom by f (0.1–40).
func (s *Session) Zoom(name string, f float64) {
	if name == "3d" {
		s.Cam.Zoom = min(max(s.Cam.Zoom*f, 0.2), 20)
		return
	}
	if m := s.MPR[name]; m != nil {
		m.Zoom = min(max(m.Zoom*f, 0.1), 40)
	}
}

// Pan moves view name by (dx, dy) canvas pixels.
func (s *Session) Pan(name string, dx, dy float64) {
	if m := s.MPR[name]; m != nil {
		m.PanX += dx
		m.PanY += dy
	}
}

// Rotate turns the 3D camera by a drag of (dx, dy) pixels on a view h
// pixels high: a drag across the view is half a turn.
func (s *Session) Rotate(dx, dy, h float64) {
	k := math.Pi / math.Max(h, 1)
	s.Cam.Az -= dx * k
	s.Cam.El = min(max(s.Cam.El+dy*k, -math.Pi/2+0.01), math.Pi/2-0.01)
}

// Key applies a keyboard shortcut and reports whether it was one.
func (s *Session) Key(key string) bool {
	if w, ok := WindowForKey(key, s.Vol, s.Stats); ok {
		s.Window = w
		return true
	}
	switch key {
	case "r", "R":
		s.Reset()
	case "i", "I":
		s.Invert = !s.Invert
	case "ArrowUp", "PageUp":
		s.Scroll(s.activeMPR(), step(key))
	case "ArrowDown", "PageDown":
		s.Scroll(s.activeMPR(), -step(key))
	case "m", "M":
		if s.Slab.Thickness > 0 {
			s.Slab = Slab{}
		} else {
			s.Slab = Slab{Thickness: mipSlabMM, Mode: shaders.SlabMax}
		}
	case "l", "L":
		s.Tool = "length"
	case "e", "E":
		s.Tool = "ellipse"
	case "Escape":
		switch {
		case s.Help:
			s.Help = false
		case s.Tool != "":
			s.Tool = ""
		default:
			s.Maximised = ""
		}
	case "?":
		s.Help = !s.Help
	case "f", "F":
		if s.Maximised != "" {
			s.Maximised = ""
		} else {
			s.Maximised = s.Active
		}
	default:
		return false
	}
	return true
}

func step(key string) int {
	if key == "PageUp" || key == "PageDown" {
		return 10
	}
	return 1
}

func (s *Session) activeMPR() string {
	if s.MPR[s.Active] != nil {
		return s.Active
	}
	return "axial"
}

// HU is the value of the voxel nearest to voxel point p, and whether p is
// inside the volume: read from the CPU copy, exact.
func (s *Session) HU(p [3]float64) (hu int16, idx [3]int, ok bool) {
	for a := range 3 {
		idx[a] = int(math.Round(p[a]))
		if idx[a] < 0 || idx[a] >= s.Vol.Dims[a] {
			return 0, idx, false
		}
	}
	return s.Vol.At(idx[0], idx[1], idx[2]), idx, true
}

// AddMeasurement finishes a length or ellipse drawn on view from voxel
// point a to b, and returns it.
func (s *Session) AddMeasurement(kind, view string, a, b [3]float64) Measurement {
	s.nextID++
	m := Measurement{ID: s.nextID, Kind: kind, View: mprKinds[view], A: a, B: b}
	if kind == "length" {
		m.Length = LengthMM(s.Vol, a, b)
	} else {
		m.ROI = ellipseFrom(s.Vol, s.MPR[view].Plane, a, b).Stats(s.Vol)
	}
	s.Measures = append(s.Measures, m)
	return m
}

// DeleteMeasurement removes measurement id.
func (s *Session) DeleteMeasurement(id int) {
	for i, m := range s.Measures {
		if m.ID == id {
			s.Measures = append(s.Measures[:i], s.Measures[i+1:]...)
			return
		}
	}
}
