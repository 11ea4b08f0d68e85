package viewer

import (
	"math"

	"ctlens/shaders"
	"ctlens/volume"
)

// Screen geometry of the views, as pure functions of the view state: a
// renderer, an overlay and a mouse handler all ask the same mapping.
//
// An MPR view of w×h canvas pixels shows the plane through the crosshair
// perpendicular to the plane's Normal voxel axis. At zoom 1 the whole
// in-plane extent fits with a small margin; (sx, sy) are canvas pixel
// coordinates with pixel centres at +½.

// fitMargin leaves room for the overlay text at zoom 1.
const fitMargin = 1.08

// MPRView is one MPR viewport's camera.
type MPRView struct {
	Plane volume.SlicePlane
	Zoom  float64 // 1: the slice fits the viewport
	PanX  float64 // canvas pixels
	PanY  float64
}

// MMPerPixel is the viewport's scale for a w×h canvas.
func (m MPRView) MMPerPixel(v *volume.Volume, w, h int) float64 {
	eu := float64(v.Dims[m.Plane.U]) * v.Spacing[m.Plane.U]
	ev := float64(v.Dims[m.Plane.V]) * v.Spacing[m.Plane.V]
	fit := math.Max(eu/float64(max(w, 1)), ev/float64(max(h, 1))) * fitMargin
	return fit / math.Max(m.Zoom, 1e-3)
}

// ScreenToVoxel maps canvas point (sx, sy) to voxel coordinates on the
// slice through cross.
func (m MPRView) ScreenToVoxel(v *volume.Volume, w, h int, cross [3]float64, sx, sy float64) [3]float64 {
	s := m.MMPerPixel(v, w, h)
	p := cross
	cu := float64(v.Dims[m.Plane.U]-1) / 2
	cv := float64(v.Dims[m.Plane.V]-1) / 2
	p[m.Plane.U] = cu + m.Plane.USign*(sx-float64(w)/2-m.PanX)*s/v.Spacing[m.Plane.U]
	p[m.Plane.V] = cv + m.Plane.VSign*(sy-float64(h)/2-m.PanY)*s/v.Spacing[m.Plane.V]
	return p
}

// VoxelToScreen is the inverse of ScreenToVoxel for the in-plane axes.
func (m MPRView) VoxelToScreen(v *volume.Volume, w, h int, p [3]float64) (sx, sy float64) {
	s := m.MMPerPixel(v, w, h)
	cu := float64(v.Dims[m.Plane.U]-1) / 2
	cv := float64(v.Dims[m.Plane.V]-1) / 2
	sx = (p[m.Plane.U]-cu)*v.Spacing[m.Plane.U]/(s*m.Plane.USign) + float64(w)/2 + m.PanX
	sy = (p[m.Plane.V]-cv)*v.Spacing[m.Plane.V]/(s*m.Plane.VSign) + float64(h)/2 + m.PanY
	return sx, sy
}

// Slab is a thick-slab setting: Thickness mm along the normal, reduced by
// Mode (shaders.SlabMean, SlabMax, SlabMin). Thickness 0 is the plain slice.
type Slab struct {
	Thickness float64
	Mode      uint32
}

// Params builds the mpr kernel's uniform for a w×h canvas. The volume
// fields are left to the Renderer.
func (m MPRView) Params(v *volume.Volume, w, h int, cross [3]float64, win volume.Window, invert bool, slab Slab) shaders.MPRParams {
	o := m.ScreenToVoxel(v, w, h, cross, 0.5, 0.5)
	ox := m.ScreenToVoxel(v, w, h, cross, 1.5, 0.5)
	oy := m.ScreenToVoxel(v, w, h, cross, 0.5, 1.5)
	p := shaders.MPRParams{
		Width: uint32(w), Height: uint32(h),
		OX: float32(o[0]), OY: float32(o[1]), OZ: float32(o[2]),
		UX: float32(ox[0] - o[0]), UY: float32(ox[1] - o[1]), UZ: float32(ox[2] - o[2]),
		VX: float32(oy[0] - o[0]), VY: float32(oy[1] - o[1]), VZ: float32(oy[2] - o[2]),
		SlabN: 1, Mode: shaders.SlabMean,
		WinLo: float32(win.Center - win.Width/2), WinScale: float32(1 / math.Max(win.Width, 1)),
		Invert: b2u(invert), HeatOn: 1,
	}
	n := m.Plane.Normal
	if sp := v.Spacing[n]; slab.Thickness > sp {
		// Samples one voxel apart along the normal (half a voxel for MIP
		// of thin structures would double the cost for little gain).
		// An odd count keeps a sample on the crosshair's slice and the
		// rest on voxel centres.
		k := int(math.Round(slab.Thickness / sp))
		k |= 1
		p.SlabN = uint32(k)
		p.Mode = slab.Mode
		var dn [3]float32
		dn[n] = 1
		p.DnX, p.DnY, p.DnZ = dn[0], dn[1], dn[2]
	}
	return p
}

// Camera3D is the 3D view's orbit camera, in patient space: the view
// looks at the volume's centre from azimuth Az (about the S axis, 0 looks
// from anterior, i.e. at the patient's face) and elevation El (radians),
// orthographic, Zoom 1 fitting the volume's diagonal.
type Camera3D struct {
	Az, El float64
	Zoom   float64
}

// basis returns the camera's right, down and forward (into the screen)
// unit vectors in LPS.
func (c Camera3D) basis() (right, down, fwd [3]float64) {
	// Looking from anterior (−P side) towards +P: forward = +P, right on
	// screen = patient left (+L) as in a coronal view, down = −S.
	ca, sa := math.Cos(c.Az), math.Sin(c.Az)
	ce, se := math.Cos(c.El), math.Sin(c.El)
	fwd = [3]float64{sa * ce, ca * ce, -se}
	right = [3]float64{ca, -sa, 0}
	// down = fwd × right gives −S at El = 0.
	down = [3]float64{
		fwd[1]*right[2] - fwd[2]*right[1],
		fwd[2]*right[0] - fwd[0]*right[2],
		fwd[0]*right[1] - fwd[1]*right[0],
	}
	return right, down, fwd
}

// RayQuality sets the 3D step and resolution: drag frames use Coarse.
type RayQuality struct {
	StepMM float64 // sample spacing along the ray
	Steps  uint32  // cap per ray
}

// Params builds the raymarch kernel's uniform for a w×h canvas; the
// transfer function's range (lutLo, lutHi HU) and mode come from the preset.
func (c Camera3D) Params(v *volume.Volume, w, h int, q RayQuality, mode uint32, lutLo, lutHi float64, win volume.Window, shade bool) shaders.RaymarchParams {
	right, down, fwd := c.basis()
	var ext [3]float64
	for a := range 3 {
		ext[a] = float64(v.Dims[a]) * v.Spacing[a]
	}
	diag := math.Sqrt(ext[0]*ext[0] + ext[1]*ext[1] + ext[2]*ext[2])
	mmpp := diag * 1.02 / float64(min(w, h)) / math.Max(c.Zoom, 1e-3)
	centre := v.VoxelToLPS([3]float64{float64(v.Dims[0]-1) / 2, float64(v.Dims[1]-1) / 2, float64(v.Dims[2]-1) / 2})
	// Pixel (0,0)'s ray starts one diagonal in front of the centre.
	start := centre
	for a := range 3 {
		start[a] += -fwd[a]*diag - right[a]*(float64(w)/2-0.5)*mmpp - down[a]*(float64(h)/2-0.5)*mmpp
	}
	o := v.LPSToVoxel(start)
	toVox := func(d [3]float64) [3]float64 { // a direction in LPS mm → voxel steps
		var out [3]float64
		for a := range 3 {
			out[a] = (v.Direction[a][0]*d[0] + v.Direction[a][1]*d[1] + v.Direction[a][2]*d[2]) / v.Spacing[a]
		}
		return out
	}
	u := toVox(scale3(right, mmpp))
	dv := toVox(scale3(down, mmpp))
	st := toVox(scale3(fwd, q.StepMM))
	for a := range 3 { // the kernel divides by each component
		if math.Abs(st[a]) < 1e-6 {
			st[a] = 1e-6
		}
	}
	// Light from the viewer, in the gradient's frame (voxel axes, per mm).
	lf := [3]float64{}
	for a := range 3 {
		lf[a] = -(v.Direction[a][0]*fwd[0] + v.Direction[a][1]*fwd[1] + v.Direction[a][2]*fwd[2])
	}
	p := shaders.RaymarchParams{
		Width: uint32(w), Height: uint32(h),
		OX: float32(o[0]), OY: float32(o[1]), OZ: float32(o[2]),
		UX: float32(u[0]), UY: float32(u[1]), UZ: float32(u[2]),
		VX: float32(dv[0]), VY: float32(dv[1]), VZ: float32(dv[2]),
		DX: float32(st[0]), DY: float32(st[1]), DZ: float32(st[2]),
		Steps: q.Steps, Mode: mode,
		LutLo: float32(lutLo), LutScale: float32(float64(shaders.LUTSize-1) / math.Max(lutHi-lutLo, 1)),
		// Opacities are defined per millimetre of ray.
		OpacityExp: float32(q.StepMM),
		Shade:      b2u(shade),
		GX:         float32(1 / (2 * v.Spacing[0])), GY: float32(1 / (2 * v.Spacing[1])), GZ: float32(1 / (2 * v.Spacing[2])),
		LX: float32(lf[0]), LY: float32(lf[1]), LZ: float32(lf[2]),
		Ambient: 0.35,
		WinLo:   float32(win.Center - win.Width/2), WinScale: float32(1 / math.Max(win.Width, 1)),
	}
	return p
}

func scale3(a [3]float64, s float64) [3]float64 { return [3]float64{a[0] * s, a[1] * s, a[2] * s} }
