package shaders

import (
	"fmt"
	"math/rand"
)

// MPRVariant selects an mpr kernel.
type MPRVariant struct {
	// F32 writes four unrounded floats per pixel (parity tests) instead of
	// RGBA8 words (the viewer).
	F32 bool
	// MultiSlab reads a volume split over vol0..vol3; without it only
	// vol0 is read (a volume under the binding limit), which compiles to
	// less code.
	MultiSlab bool
}

func (v MPRVariant) String() string {
	return "mpr/" + outName(v.F32) + "/" + slabName(v.MultiSlab) + "/wg8x8"
}

func outName(f32 bool) string {
	if f32 {
		return "f32"
	}
	return "rgba8"
}

func slabName(multi bool) string {
	if multi {
		return "slabs4"
	}
	return "slab1"
}

func slabsConst(multi bool) Const {
	if multi {
		return Const{"SLABS", MaxVolumeSlabs}
	}
	return Const{"SLABS", 1}
}

// Slab reductions of MPRParams.Mode.
const (
	SlabMean uint32 = 0 // one sample: the plain slice
	SlabMax  uint32 = 1 // MIP
	SlabMin  uint32 = 2 // MinIP
)

// MPRParams is the uniform of the mpr kernel (see mpr.wgsl). Points and
// steps are voxel coordinates (voxel centres at integers).
type MPRParams struct {
	Width      uint32
	Height     uint32
	NX         uint32  `wgsl:"nx"`
	NY         uint32  `wgsl:"ny"`
	NZ         uint32  `wgsl:"nz"`
	SlabSlices uint32  // whole z-slices per volume slab (VolumeLayout)
	OX         float32 `wgsl:"ox"` // pixel (0,0)
	OY         float32 `wgsl:"oy"`
	OZ         float32 `wgsl:"oz"`
	UX         float32 `wgsl:"ux"` // one pixel right
	UY         float32 `wgsl:"uy"`
	UZ         float32 `wgsl:"uz"`
	VX         float32 `wgsl:"vx"` // one pixel down
	VY         float32 `wgsl:"vy"`
	VZ         float32 `wgsl:"vz"`
	DnX        float32 `wgsl:"dnx"` // one slab sample along the normal
	DnY        float32 `wgsl:"dny"`
	DnZ        float32 `wgsl:"dnz"`
	SlabN      uint32  // samples in the slab, ≥ 1
	Mode       uint32  // SlabMean, SlabMax, SlabMin
	WinLo      float32 // HU at grey 0
	WinScale   float32 // grey per HU (1/width)
	Invert     uint32
	HeatOn     uint32
	HeatD      uint32 `wgsl:"heat_d"`
	HeatH      uint32 `wgsl:"heat_h"`
	HeatW      uint32 `wgsl:"heat_w"`
}

// MPR returns the kernel for v. Bindings: params, vol0..vol3, heat, out.
func MPR(v MPRVariant) Kernel {
	return Kernel{
		Name:   v.String(),
		File:   "mpr.wgsl",
		Source: render(MPRParams{}, []Const{slabsConst(v.MultiSlab)}, "", "volsample.wgsl", "mpr.wgsl", pixelOut(6, v.F32)),
		Entry:  "main",
		Bindings: []Binding{{"params", Uniform}, {"vol0", Read}, {"vol1", Read}, {"vol2", Read}, {"vol3", Read},
			{"heat", Read}, {"out", ReadWrite}},
	}
}

// ImageGrid is one 8×8 workgroup per 8×8 block of pixels.
func ImageGrid(width, height uint32) [3]uint32 {
	return [3]uint32{ceilDiv(width, 8), ceilDiv(height, 8), 1}
}

func init() {
	register(family{Name: "mpr", Files: []string{"mpr.wgsl", "volsample.wgsl"}, Cases: mprCases})
}

// testVolume is a smooth phantom with sharp edges and the full int16
// range in places: a sphere of +1000 HU in −1000 air with a ramp, and the
// corner voxels at ±32767 so sign extension is exercised.
func testVolume(nx, ny, nz int, seed int64) []int16 {
	rng := rand.New(rand.NewSource(seed))
	vox := make([]int16, nx*ny*nz)
	cx, cy, cz := float64(nx)/2, float64(ny)/2, float64(nz)/2
	r2 := 0.3 * float64(min(nx, ny, nz)*min(nx, ny, nz))
	for z := range nz {
		for y := range ny {
			for x := range nx {
				dx, dy, dz := float64(x)-cx, float64(y)-cy, float64(z)-cz
				v := -1000 + 7*x - 3*y + 11*z + rng.Intn(20)
				if dx*dx+dy*dy+dz*dz < r2 {
					v += 2000
				}
				vox[x+nx*(y+ny*z)] = int16(v)
			}
		}
	}
	vox[0] = -32768
	vox[len(vox)-1] = 32767
	return vox
}

// heatColours is a random RGBA8 token grid.
func heatColours(n int, seed int64) []uint32 {
	rng := rand.New(rand.NewSource(seed))
	out := make([]uint32, n)
	for i := range out {
		out[i] = rng.Uint32()
	}
	return out
}

func mprCases() []Case {
	type shape struct {
		nx, ny, nz int
		slabBytes  uint64 // forces several slabs
	}
	type view struct {
		name  string
		p     MPRParams
		slabs shape
	}
	vs := []view{
		{"axial/identity", MPRParams{Width: 13, Height: 9, OZ: 3, UX: 1, VY: 1, SlabN: 1, WinLo: -1200, WinScale: 1.0 / 2500},
			shape{13, 9, 7, 1 << 20}},
		{"axial/zoomed-oblique", MPRParams{Width: 37, Height: 29, OX: -2, OY: -1.5, OZ: 2.3, UX: 0.43, UY: 0.05, VX: -0.04, VY: 0.41, VZ: 0.02,
			SlabN: 1, WinLo: -500, WinScale: 1.0 / 1500, Invert: 1}, shape{21, 17, 11, 21 * 17 * 2 * 3}},
		{"coronal/slab-mip", MPRParams{Width: 24, Height: 16, OY: 8, UX: 1, VZ: 1, DnY: 1, SlabN: 5, Mode: SlabMax,
			WinLo: -1000, WinScale: 1.0 / 3000}, shape{24, 19, 16, 24 * 19 * 2 * 5}},
		{"sagittal/slab-minip", MPRParams{Width: 19, Height: 16, OX: 11.5, UY: 1, VZ: 1, DnX: 0.5, SlabN: 7, Mode: SlabMin,
			WinLo: -1000, WinScale: 1.0 / 3000}, shape{24, 19, 16, 1 << 20}},
		{"axial/slab-mean-4slabs", MPRParams{Width: 20, Height: 20, OX: 0, OY: 0, OZ: 5, UX: 1, VY: 1, DnZ: 1, SlabN: 9, Mode: SlabMean,
			WinLo: -1000, WinScale: 1.0 / 3000}, shape{20, 20, 10, 20 * 20 * 2 * 3}},
		{"axial/heat", MPRParams{Width: 32, Height: 32, OX: -3, OY: -3, OZ: 6, UX: 0.9, VY: 0.9, SlabN: 1, WinLo: -1000, WinScale: 1.0 / 3000,
			HeatOn: 1, HeatD: 3, HeatH: 4, HeatW: 5}, shape{25, 23, 13, 1 << 20}},
		{"size1", MPRParams{Width: 1, Height: 1, UX: 1, VY: 1, SlabN: 1, WinLo: -1000, WinScale: 1.0 / 3000}, shape{1, 1, 1, 1 << 20}},
		{"extreme-hu", MPRParams{Width: 8, Height: 8, OZ: 0, UX: 1, VY: 1, SlabN: 1, WinLo: -40000, WinScale: 1.0 / 80000},
			shape{8, 8, 2, 1 << 20}},
	}
	var out []Case
	for i, c := range vs {
		s := c.slabs
		l, err := PlanVolume(s.nx, s.ny, s.nz, s.slabBytes)
		if err != nil {
			panic(err)
		}
		vox := testVolume(s.nx, s.ny, s.nz, int64(i))
		p := c.p
		p.NX, p.NY, p.NZ, p.SlabSlices = l.NX, l.NY, l.NZ, l.SlabSlices
		heat := []uint32{0}
		if p.HeatOn != 0 {
			heat = heatColours(int(p.HeatD*p.HeatH*p.HeatW), int64(i))
		}
		ref := VolumeRef{NX: s.nx, NY: s.ny, NZ: s.nz, Vox: vox}
		want := make([][4]float32, p.Width*p.Height)
		MPRRef(want, ref, heat, p)
		bufs := append(volumeBuffers(l, vox), Buffer{Name: "heat", Init: U32Bytes(heat)})
		name := fmt.Sprintf("%s/%dx%dx%d,%dslabs", c.name, s.nx, s.ny, s.nz, l.Slabs)
		f := append(bufs, Buffer{Name: "out", Size: 16 * len(want)})
		out = append(out, Case{
			Family: "mpr", Name: fmt.Sprintf("f32/%s/wg8x8/%s", slabName(l.Slabs > 1), name), Buffers: f,
			Steps:  []Step{{Kernel: MPR(MPRVariant{F32: true, MultiSlab: l.Slabs > 1}), Params: p, Grid: ImageGrid(p.Width, p.Height)}},
			Checks: []Check{{Buffer: "out", Want: flatten4(want), Tol: Tol{NMSE: 1e-10, MaxAbs: 1e-4}}},
		})
	}
	// RGBA8 at voxel centres with a 255 HU window: every grey is k/255 up
	// to rounding noise far from a .5 boundary, so the bytes must match.
	s := [3]int{16, 12, 5}
	l, _ := PlanVolume(s[0], s[1], s[2], 16*12*2*2)
	vox := testVolume(s[0], s[1], s[2], 99)
	p := MPRParams{Width: 16, Height: 12, NX: l.NX, NY: l.NY, NZ: l.NZ, SlabSlices: l.SlabSlices, OZ: 2, UX: 1, VY: 1, SlabN: 1,
		WinLo: 900, WinScale: 1.0 / 255}
	ref := VolumeRef{NX: s[0], NY: s[1], NZ: s[2], Vox: vox}
	want := make([][4]float32, p.Width*p.Height)
	MPRRef(want, ref, []uint32{0}, p)
	packed := make([]uint32, len(want))
	for i, c := range want {
		packed[i] = Pack4x8(c)
	}
	out = append(out, Case{
		Family: "mpr", Name: "rgba8/slabs4/wg8x8/axial/voxel-centres/16x12x5,3slabs",
		Buffers: append(volumeBuffers(l, vox), Buffer{Name: "heat", Size: 4}, Buffer{Name: "out", Size: 4 * len(want)}),
		Steps:   []Step{{Kernel: MPR(MPRVariant{MultiSlab: true}), Params: p, Grid: ImageGrid(p.Width, p.Height)}},
		Checks:  []Check{{Buffer: "out", WantU32: packed, Tol: Tol{Exact: true}}},
	})
	return out
}

func flatten4(c [][4]float32) []float32 {
	out := make([]float32, 0, 4*len(c))
	for _, v := range c {
		out = append(out, v[:]...)
	}
	return out
}
