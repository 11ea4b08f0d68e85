package shaders

import "fmt"

// RaymarchVariant selects a raymarch kernel.
type RaymarchVariant struct {
	// F32 writes four unrounded floats per pixel (parity tests) instead of
	// RGBA8 words (the viewer).
	F32 bool
	// MultiSlab reads a volume split over vol0..vol3 (see MPRVariant).
	MultiSlab bool
}

func (v RaymarchVariant) String() string {
	return "raymarch/" + outName(v.F32) + "/" + slabName(v.MultiSlab) + "/wg8x8"
}

// Render modes of RaymarchParams.Mode.
const (
	RayDVR   uint32 = 0 // transfer function, front-to-back compositing
	RayMIP   uint32 = 1 // maximum intensity projection
	RayMinIP uint32 = 2 // minimum intensity projection
)

// LUTSize is the number of RGBA entries of a raymarch transfer function.
const LUTSize = 256

// RaymarchParams is the uniform of the raymarch kernel (see
// raymarch.wgsl). Points and steps are voxel coordinates.
type RaymarchParams struct {
	Width      uint32
	Height     uint32
	NX         uint32  `wgsl:"nx"`
	NY         uint32  `wgsl:"ny"`
	NZ         uint32  `wgsl:"nz"`
	SlabSlices uint32  // whole z-slices per volume slab (VolumeLayout)
	OX         float32 `wgsl:"ox"` // ray origin of pixel (0,0)
	OY         float32 `wgsl:"oy"`
	OZ         float32 `wgsl:"oz"`
	UX         float32 `wgsl:"ux"` // one pixel right
	UY         float32 `wgsl:"uy"`
	UZ         float32 `wgsl:"uz"`
	VX         float32 `wgsl:"vx"` // one pixel down
	VY         float32 `wgsl:"vy"`
	VZ         float32 `wgsl:"vz"`
	DX         float32 `wgsl:"dx"` // one step along the ray; no component exactly 0
	DY         float32 `wgsl:"dy"`
	DZ         float32 `wgsl:"dz"`
	Steps      uint32  // at most this many samples per ray
	Mode       uint32  // RayDVR, RayMIP, RayMinIP
	LutLo      float32 // HU of lut[0]
	LutScale   float32 // lut entries per HU
	OpacityExp float32 // step length / the length the lut's opacities are for
	Shade      uint32
	GX         float32 `wgsl:"gx"` // 1/(2·spacing) per voxel axis: gradient per mm
	GY         float32 `wgsl:"gy"`
	GZ         float32 `wgsl:"gz"`
	LX         float32 `wgsl:"lx"` // unit light direction in the gradient's frame
	LY         float32 `wgsl:"ly"`
	LZ         float32 `wgsl:"lz"`
	Ambient    float32
	WinLo      float32 // MIP/MinIP: HU at grey 0
	WinScale   float32 // grey per HU
}

// Raymarch returns the kernel for v. Bindings: params, vol0..vol3, lut, out.
func Raymarch(v RaymarchVariant) Kernel {
	return Kernel{
		Name:   v.String(),
		File:   "raymarch.wgsl",
		Source: render(RaymarchParams{}, []Const{{"LUT_N", LUTSize}, slabsConst(v.MultiSlab)}, "", "volsample.wgsl", "raymarch.wgsl", pixelOut(6, v.F32)),
		Entry:  "main",
		Bindings: []Binding{{"params", Uniform}, {"vol0", Read}, {"vol1", Read}, {"vol2", Read}, {"vol3", Read},
			{"lut", Read}, {"out", ReadWrite}},
	}
}

func init() {
	register(family{Name: "raymarch", Files: []string{"raymarch.wgsl", "volsample.wgsl"}, Cases: raymarchCases})
}

// testLUT is a bone-like ramp: transparent below 0 HU, opaque white at
// the top, with a tinted middle, so compositing, early termination and
// the lut interpolation all matter.
func testLUT() [][4]float32 {
	lut := make([][4]float32, LUTSize)
	for i := range lut {
		t := float32(i) / float32(LUTSize-1)
		a := max(0, t-0.45) * 0.6
		lut[i] = [4]float32{min(1, 0.3+t), 0.8 * t, 0.5 * t * t, a}
	}
	return lut
}

func raymarchCases() []Case {
	type rc struct {
		name   string
		dims   [3]int
		slabB  uint64
		p      RaymarchParams
		tol    Tol
		reason string
	}
	base := func(w, h int, mode uint32) RaymarchParams {
		return RaymarchParams{Width: uint32(w), Height: uint32(h), Mode: mode, Steps: 1000,
			LutLo: -1000, LutScale: 255.0 / 3000, OpacityExp: 0.7, GX: 0.5, GY: 0.5, GZ: 0.25,
			LX: 0.6, LY: 0, LZ: 0.8, Ambient: 0.3, WinLo: -1000, WinScale: 1.0 / 3000}
	}
	front := func(p RaymarchParams, n [3]int) RaymarchParams {
		// Rays along +z through every voxel column, starting outside.
		p.OX, p.OY, p.OZ = 0, 0, -3
		p.UX, p.VY = float32(n[0])/float32(p.Width), float32(n[1])/float32(p.Height)
		p.UY, p.UZ, p.VX, p.VZ = 1e-7, 1e-7, 1e-7, 1e-7
		p.DX, p.DY, p.DZ = 1e-6, 1e-6, 0.5
		return p
	}
	oblique := func(p RaymarchParams, n [3]int) RaymarchParams {
		p.OX, p.OY, p.OZ = -10, float32(n[1])/2-6, -8
		p.UX, p.UY, p.UZ = 0.5, 0.05, -0.3
		p.VX, p.VY, p.VZ = 0.1, 0.55, 0.05
		p.DX, p.DY, p.DZ = 0.3, 0.02, 0.45
		return p
	}
	n1 := [3]int{20, 18, 14}
	loose := Tol{NMSE: 1e-6, MaxAbs: 0.02}
	why := "a ray's sample count and its early stop are float comparisons; a one-ulp difference adds or drops one sample"
	cases := []rc{
		{"dvr/front", n1, 1 << 20, front(base(20, 18, RayDVR), n1), loose, why},
		{"dvr/front-shaded-slabs", n1, 20 * 18 * 2 * 4, func() RaymarchParams { p := front(base(20, 18, RayDVR), n1); p.Shade = 1; return p }(), loose, why},
		{"dvr/oblique-shaded", n1, 20 * 18 * 2 * 6, func() RaymarchParams { p := oblique(base(33, 27, RayDVR), n1); p.Shade = 1; return p }(), loose, why},
		{"dvr/oblique-shaded", n1, 1 << 20, func() RaymarchParams { p := oblique(base(33, 27, RayDVR), n1); p.Shade = 1; return p }(), loose, why},
		{"mip/front", n1, 1 << 20, front(base(20, 18, RayMIP), n1), Tol{NMSE: 1e-10, MaxAbs: 1e-4}, ""},
		{"mip/oblique-slabs", n1, 20 * 18 * 2 * 5, oblique(base(33, 27, RayMIP), n1), loose, why},
		{"minip/oblique", n1, 1 << 20, oblique(base(33, 27, RayMinIP), n1), loose, why},
		{"miss", n1, 1 << 20, func() RaymarchParams { p := front(base(9, 7, RayDVR), n1); p.OX = 100; return p }(), Tol{Exact: true}, ""},
		{"size1", [3]int{1, 1, 1}, 1 << 20, front(base(1, 1, RayMIP), [3]int{1, 1, 1}), Tol{NMSE: 1e-10}, ""},
	}
	lut := testLUT()
	var out []Case
	for i, c := range cases {
		l, err := PlanVolume(c.dims[0], c.dims[1], c.dims[2], c.slabB)
		if err != nil {
			panic(err)
		}
		vox := testVolume(c.dims[0], c.dims[1], c.dims[2], int64(50+i))
		p := c.p
		p.NX, p.NY, p.NZ, p.SlabSlices = l.NX, l.NY, l.NZ, l.SlabSlices
		want := make([][4]float32, p.Width*p.Height)
		RaymarchRef(want, VolumeRef{NX: c.dims[0], NY: c.dims[1], NZ: c.dims[2], Vox: vox}, lut, p)
		out = append(out, Case{
			Family: "raymarch", Name: fmt.Sprintf("f32/%s/wg8x8/%s/%dx%dx%d,%dslabs", slabName(l.Slabs > 1), c.name, c.dims[0], c.dims[1], c.dims[2], l.Slabs),
			Buffers: append(volumeBuffers(l, vox), Buffer{Name: "lut", Init: F32Bytes(flatten4(lut))}, Buffer{Name: "out", Size: 16 * len(want)}),
			Steps:   []Step{{Kernel: Raymarch(RaymarchVariant{F32: true, MultiSlab: l.Slabs > 1}), Params: p, Grid: ImageGrid(p.Width, p.Height)}},
			Checks:  []Check{{Buffer: "out", Want: flatten4(want), Tol: c.tol, Why: c.reason}},
		})
	}
	// RGBA8: a MIP along z, rays through voxel centres, a 255 HU window.
	n := [3]int{12, 10, 6}
	l, _ := PlanVolume(n[0], n[1], n[2], 1<<20)
	vox := testVolume(n[0], n[1], n[2], 77)
	p := base(12, 10, RayMIP)
	p.NX, p.NY, p.NZ, p.SlabSlices = l.NX, l.NY, l.NZ, l.SlabSlices
	p.OZ, p.UX, p.VY, p.DX, p.DY, p.DZ = -2.25, 1, 1, 1e-6, 1e-6, 0.5
	p.WinLo, p.WinScale = 900, 1.0/255
	want := make([][4]float32, p.Width*p.Height)
	RaymarchRef(want, VolumeRef{NX: n[0], NY: n[1], NZ: n[2], Vox: vox}, lut, p)
	packed := make([]uint32, len(want))
	for i, c := range want {
		packed[i] = Pack4x8(c)
	}
	out = append(out, Case{
		Family: "raymarch", Name: "rgba8/slab1/wg8x8/mip/voxel-centres/12x10x6,1slabs",
		Buffers: append(volumeBuffers(l, vox), Buffer{Name: "lut", Init: F32Bytes(flatten4(lut))}, Buffer{Name: "out", Size: 4 * len(want)}),
		Steps:   []Step{{Kernel: Raymarch(RaymarchVariant{}), Params: p, Grid: ImageGrid(p.Width, p.Height)}},
		Checks:  []Check{{Buffer: "out", WantU32: packed, Tol: Tol{Exact: true}}},
	})
	return out
}
