//go:build !js

package viewer

import (
	"context"
	"math"
	"testing"

	"ctlens/shaders"
	"ctlens/volume"
	"ctlens/wgpu"
)

func openRenderer(t testing.TB) *Renderer {
	t.Helper()
	d, err := wgpu.Open(context.Background(), wgpu.Options{})
	if err != nil {
		t.Fatalf("no GPU device (the test command installs mesa-vulkan-drivers): %v", err)
	}
	t.Cleanup(d.Close)
	r, err := NewRenderer(d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

func pixel(img []byte, w, x, y int) [4]byte {
	i := 4 * (y*w + x)
	return [4]byte{img[i], img[i+1], img[i+2], img[i+3]}
}

// The whole path the app takes, on the native GPU: camera → params →
// kernel → RGBA. The block of +1000 HU shows white where the camera says
// its voxels are, air shows black, in every plane and storage order.
func TestRenderMPRShowsTheBlockWhereTheCameraSaysItIs(t *testing.T) {
	r := openRenderer(t)
	flip := [3][3]float64{{-1, 0, 0}, {0, 0, -1}, {0, 1, 0}}
	for _, dir := range []*[3][3]float64{nil, &flip} {
		v := testVolume(dir)
		if err := r.SetVolume(context.Background(), v); err != nil {
			t.Fatal(err)
		}
		cross := [3]float64{10, 8, 6} // inside the block
		win := volume.Window{Center: 0, Width: 2000}
		for _, k := range []volume.PlaneKind{volume.Axial, volume.Coronal, volume.Sagittal} {
			m := MPRView{Plane: v.PlaneFor(k), Zoom: 1.3, PanX: 5}
			const w, h = 96, 80
			img, err := r.MPR(context.Background(), k.String(), m.Params(v, w, h, cross, win, false, Slab{}))
			if err != nil {
				t.Fatal(err)
			}
			sx, sy := m.VoxelToScreen(v, w, h, cross)
			if p := pixel(img, w, int(sx), int(sy)); p[0] != 255 || p[3] != 255 {
				t.Errorf("dir %v %s: pixel at the crosshair (%v,%v) = %v, want white", dir, k, sx, sy, p)
			}
			air := cross
			air[m.Plane.U] += 8 // past the block, short of the random region
			ax, ay := m.VoxelToScreen(v, w, h, air)
			if p := pixel(img, w, int(ax), int(ay)); p[0] != 0 {
				t.Errorf("dir %v %s: air pixel (%v,%v) = %v, want black", dir, k, ax, ay, p)
			}
			// Inverted, the block turns black.
			img, _ = r.MPR(context.Background(), k.String(), m.Params(v, w, h, cross, win, true, Slab{}))
			if p := pixel(img, w, int(sx), int(sy)); p[0] != 0 {
				t.Errorf("dir %v %s: inverted block pixel = %v, want black", dir, k, p)
			}
		}
	}
}

func TestRenderSlabMIPSeesPastTheSlice(t *testing.T) {
	r := openRenderer(t)
	v := testVolume(nil)
	if err := r.SetVolume(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	m := MPRView{Plane: v.PlaneFor(volume.Axial), Zoom: 1}
	cross := [3]float64{10, 8, 12} // two slices (4 mm) above the block
	win := volume.Window{Center: 0, Width: 2000}
	const w, h = 64, 64
	sx, sy := m.VoxelToScreen(v, w, h, cross)
	thin, _ := r.MPR(context.Background(), "axial", m.Params(v, w, h, cross, win, false, Slab{}))
	thick, err := r.MPR(context.Background(), "axial", m.Params(v, w, h, cross, win, false, Slab{Thickness: 12, Mode: shaders.SlabMax}))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := pixel(thin, w, int(sx), int(sy)), pixel(thick, w, int(sx), int(sy)); a[0] != 0 || b[0] != 255 {
		t.Errorf("thin slice %v (want black), 12 mm MIP slab %v (want white)", a, b)
	}
}

func TestRender3DSeesTheBlock(t *testing.T) {
	r := openRenderer(t)
	v := testVolume(nil)
	if err := r.SetVolume(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	const w, h = 64, 64
	for _, p := range Presets3D {
		if err := r.SetLUT(p.LUT()); err != nil {
			t.Fatal(err)
		}
		lo, hi := p.Range()
		cam := Camera3D{Az: 0.3, El: 0.2, Zoom: 1}
		img, err := r.Raymarch(context.Background(), "3d", cam.Params(v, w, h, RayQuality{StepMM: 1, Steps: 512}, p.Mode, lo, hi, p.Window, p.Shade))
		if err != nil {
			t.Fatal(err)
		}
		lit := 0
		for i := 0; i < len(img); i += 4 {
			if img[i]|img[i+1]|img[i+2] != 0 {
				lit++
			}
		}
		if p.Name == "CT-Bone" || p.Name == "CT-MIP" {
			if lit == 0 {
				t.Errorf("%s: nothing drawn", p.Name)
			}
			if c := pixel(img, w, 0, 0); c[0]|c[1]|c[2] != 0 {
				t.Errorf("%s: corner ray misses the volume but drew %v", p.Name, c)
			}
		}
	}
}

// A 512×512×500 series must fit: it is split into slabs under the
// device's binding limit, 2 bytes per voxel.
func TestLargeSeriesLayoutFits(t *testing.T) {
	r := openRenderer(t)
	lim := r.d.Info().Limits.MaxStorageBufferBindingSize
	l, err := shaders.PlanVolume(512, 512, 500, lim)
	if err != nil {
		t.Fatalf("512×512×500 does not fit under %d-byte bindings: %v", lim, err)
	}
	t.Logf("512×512×500 on %s: %d slab(s) of %d slices", r.d.Info().Adapter.Name, l.Slabs, l.SlabSlices)
}

// The heat map blends the token's colour over the slice where the token
// lies: a 1×1×2 grid splits the volume along x into a red and a blue half.
func TestRenderHeatMap(t *testing.T) {
	r := openRenderer(t)
	v := testVolume(nil)
	if err := r.SetVolume(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	red, blue := shaders.Pack4x8([4]float32{1, 0, 0, 1}), shaders.Pack4x8([4]float32{0, 0, 1, 1})
	if err := r.SetHeat([]uint32{red, blue}); err != nil {
		t.Fatal(err)
	}
	m := MPRView{Plane: v.PlaneFor(volume.Axial), Zoom: 1}
	const w, h = 64, 48
	p := m.Params(v, w, h, [3]float64{20, 15, 10}, volume.Window{Center: 0, Width: 2000}, false, Slab{})
	p.HeatD, p.HeatH, p.HeatW = 1, 1, 2
	img, err := r.MPR(context.Background(), "axial", p)
	if err != nil {
		t.Fatal(err)
	}
	lx, ly := m.VoxelToScreen(v, w, h, [3]float64{5, 15, 10})
	rx, ry := m.VoxelToScreen(v, w, h, [3]float64{35, 15, 10})
	if a, b := pixel(img, w, int(lx), int(ly)), pixel(img, w, int(rx), int(ry)); a != [4]byte{255, 0, 0, 255} || b != [4]byte{0, 0, 255, 255} {
		t.Errorf("heat map: x=5 %v (want red), x=35 %v (want blue)", a, b)
	}
	if err := r.SetHeat(nil); err != nil {
		t.Fatal(err)
	}
	img, _ = r.MPR(context.Background(), "axial", p)
	if a := pixel(img, w, int(lx), int(ly)); a[0] != a[2] {
		t.Errorf("heat map removed, pixel still coloured: %v", a)
	}
}

// The 3D camera at azimuth 0 looks from anterior with the patient's left
// on screen right and superior up: an anterior block hides a posterior
// one behind it, and a block on the patient's left is drawn on the right.
func TestRender3DOrientation(t *testing.T) {
	r := openRenderer(t)
	n := 32
	v := &volume.Volume{Dims: [3]int{n, n, n}, Phases: 1, Spacing: [3]float64{1, 1, 1},
		Direction: [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}
	v.Voxels = make([]int16, n*n*n)
	for i := range v.Voxels {
		v.Voxels[i] = -1000
	}
	fill := func(x0, x1, y0, y1, z0, z1 int, hu int16) {
		for z := z0; z < z1; z++ {
			for y := y0; y < y1; y++ {
				for x := x0; x < x1; x++ {
					v.Voxels[x+n*(y+n*z)] = hu
				}
			}
		}
	}
	fill(12, 20, 4, 8, 12, 20, 3000)   // anterior (small y), centre
	fill(12, 20, 24, 28, 12, 20, 700)  // posterior, behind it
	fill(26, 30, 14, 18, 26, 30, 3000) // patient left (large x), superior (large z)
	if err := r.SetVolume(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	p := Presets3D[0]
	p.Shade = false
	if err := r.SetLUT(p.LUT()); err != nil {
		t.Fatal(err)
	}
	lo, hi := p.Range()
	const w, h = 64, 64
	img, err := r.Raymarch(context.Background(), "3d", Camera3D{Zoom: 1}.Params(v, w, h, RayQuality{StepMM: 0.5, Steps: 1000}, p.Mode, lo, hi, p.Window, false))
	if err != nil {
		t.Fatal(err)
	}
	lut := p.LUT()
	front := lut[len(lut)-1] // 3000 HU is near the top of the range
	c := pixel(img, w, w/2, h/2)
	if c[2] < 200 || math.Abs(float64(c[0])/255-float64(front[0])) > 0.1 {
		t.Errorf("centre pixel %v: want the anterior 3000 HU block's near-white, not the posterior one behind it", c)
	}
	lit := func(x0, x1, y0, y1 int) bool {
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				if q := pixel(img, w, x, y); q[0]|q[1]|q[2] != 0 {
					return true
				}
			}
		}
		return false
	}
	if !lit(w/2+8, w, 0, h/2-8) || lit(0, w/2-8, 0, h/2-8) {
		t.Errorf("the left-superior block is not in the top right of the view")
	}
}

// A new volume or heat map replaces the views' buffers (their bind groups
// name the old ones): the GPU holds the same bytes after each round of
// SetVolume, SetHeat and drawing every view, and nothing after Close.
func TestRendererFreesWhatItReplaces(t *testing.T) {
	d, err := wgpu.Open(context.Background(), wgpu.Options{})
	if err != nil {
		t.Fatalf("no GPU device (the test command installs mesa-vulkan-drivers): %v", err)
	}
	defer d.Close()
	before := d.LiveBytes()
	r, err := NewRenderer(d)
	if err != nil {
		t.Fatal(err)
	}
	v := testVolume(nil)
	const w, h = 64, 48
	win := volume.Window{Center: 0, Width: 2000}
	round := func() int64 {
		t.Helper()
		if err := r.SetVolume(context.Background(), v); err != nil {
			t.Fatal(err)
		}
		if err := r.SetHeat([]uint32{shaders.Pack4x8([4]float32{1, 0, 0, 1})}); err != nil {
			t.Fatal(err)
		}
		for _, k := range []volume.PlaneKind{volume.Axial, volume.Coronal, volume.Sagittal} {
			m := MPRView{Plane: v.PlaneFor(k), Zoom: 1}
			if _, err := r.MPR(context.Background(), k.String(), m.Params(v, w, h, [3]float64{10, 8, 6}, win, false, Slab{})); err != nil {
				t.Fatal(err)
			}
		}
		p := Presets3D[0]
		lo, hi := p.Range()
		cam := Camera3D{Zoom: 1}
		if _, err := r.Raymarch(context.Background(), "3d", cam.Params(v, w, h, RayQuality{StepMM: 1, Steps: 64}, p.Mode, lo, hi, p.Window, p.Shade)); err != nil {
			t.Fatal(err)
		}
		return d.LiveBytes() - before
	}
	first := round()
	for i := range 3 {
		if again := round(); again != first {
			t.Errorf("round %d: the renderer holds %d bytes on the GPU, %d after the first round", i+2, again, first)
		}
	}
	if use := r.GPUUse(); int64(use.Total) != first {
		t.Errorf("GPUUse says %d bytes, the device counts %d", use.Total, first)
	}
	r.Close()
	if left := d.LiveBytes() - before; left != 0 {
		t.Errorf("%d bytes still on the GPU after Close", left)
	}
}
