package viewer

import (
	"context"
	"fmt"
	"time"
	"unsafe"

	"ctlens/app/internal/taskyield"
	"ctlens/shaders"
	"ctlens/shaders/parity"
	"ctlens/volume"
	"ctlens/wgpu"
)

// Renderer draws views of one volume on a GPU device: the volume sits on
// the GPU once, as int16 HU in up to four slabs of whole slices (2 bytes
// per voxel), and each view is a compute dispatch into its own RGBA8
// buffer, read back for the canvas. It is used by one goroutine at a time.
type Renderer struct {
	d      *wgpu.Device
	mpr    *wgpu.Pipeline
	ray    *wgpu.Pipeline
	layout shaders.VolumeLayout
	slabs  [shaders.MaxVolumeSlabs]*wgpu.Buffer
	dummy  *wgpu.Buffer
	heat   *wgpu.Buffer
	lut    *wgpu.Buffer
	views  map[string]*target
}

// target is one view's output buffer, uniform and bind group.
type target struct {
	w, h   int
	kind   string // "mpr" or "ray"
	params *wgpu.Buffer
	out    *wgpu.Buffer
	group  *wgpu.BindGroup
}

// NewRenderer prepares drawing on d. Pipelines are compiled when a volume
// arrives (MPR) or at the first 3D frame (raymarch), for the volume's slab
// count, so the slices appear while the larger 3D kernel still compiles.
func NewRenderer(d *wgpu.Device) (*Renderer, error) {
	var err error
	r := &Renderer{d: d, views: map[string]*target{}}
	if r.dummy, err = d.NewBuffer("viewer dummy", 4, wgpu.Storage); err != nil {
		return nil, err
	}
	r.heat = r.dummy
	if r.lut, err = d.NewBuffer("viewer lut", 16*shaders.LUTSize, wgpu.Storage); err != nil {
		return nil, err
	}
	for i := range r.slabs {
		r.slabs[i] = r.dummy
	}
	return r, nil
}

// Layout is the slab layout of the volume on the GPU.
func (r *Renderer) Layout() shaders.VolumeLayout { return r.layout }

// uploadChunk bounds one write so the browser can breathe between them.
const uploadChunk = 16 << 20

// SetVolume puts phase 0 of v on the GPU, replacing the previous volume.
// The int16 voxels are written as they lie in memory (little-endian, two
// per word: the kernels' layout), in chunks, yielding between them.
func (r *Renderer) SetVolume(ctx context.Context, v *volume.Volume) error {
	l, err := shaders.PlanVolume(v.Dims[0], v.Dims[1], v.Dims[2], r.d.Info().Limits.MaxStorageBufferBindingSize)
	if err != nil {
		return fmt.Errorf("viewer: %w", err)
	}
	r.dropVolume()
	vox := v.Phase(0)
	n := int(l.NX) * int(l.NY)
	for s := range l.Slabs {
		z0 := s * int(l.SlabSlices)
		part := vox[z0*n : min(z0+int(l.SlabSlices), int(l.NZ))*n]
		raw := unsafe.Slice((*byte)(unsafe.Pointer(&part[0])), 2*len(part))
		buf, err := r.d.NewBuffer(fmt.Sprintf("volume slab %d", s), uint64(len(raw)), wgpu.Storage)
		if err != nil {
			r.dropVolume()
			return fmt.Errorf("viewer: volume %s: %w", v, err)
		}
		r.slabs[s] = buf
		for off := 0; off < len(raw); off += uploadChunk {
			if err := ctx.Err(); err != nil {
				r.dropVolume()
				return err
			}
			if err := buf.Write(uint64(off), raw[off:min(off+uploadChunk, len(raw))]); err != nil {
				r.dropVolume()
				return err
			}
			taskyield.Yield() // let the page run (wasm)
		}
	}
	r.layout = l
	r.dropViews() // their bind groups named the old slabs
	multi := l.Slabs > 1
	if r.mpr, err = d2p(r.d, shaders.MPR(shaders.MPRVariant{MultiSlab: multi})); err != nil {
		return err
	}
	r.ray = nil
	return nil
}

func d2p(d *wgpu.Device, k shaders.Kernel) (*wgpu.Pipeline, error) {
	p, err := d.Pipeline(parity.Spec(k))
	if err != nil {
		return nil, fmt.Errorf("viewer: %w", err)
	}
	return p, nil
}

func (r *Renderer) dropVolume() {
	for i, b := range r.slabs {
		if b != r.dummy {
			b.Destroy()
		}
		r.slabs[i] = r.dummy
	}
	r.layout = shaders.VolumeLayout{}
	r.dropViews()
}

// dropViews destroys every view's buffers: their bind groups name the
// volume's slabs and the heat map, so a new volume or heat map needs new
// ones (a reset of the map alone left the old buffers allocated).
func (r *Renderer) dropViews() {
	for _, t := range r.views {
		t.out.Destroy()
		t.params.Destroy()
	}
	r.views = map[string]*target{}
}

// GPUUse is what a Renderer holds on the GPU, in bytes.
type GPUUse struct {
	// Volume is the volume's slab buffers: 2 bytes a voxel (int16), each
	// slab rounded up to 4 bytes.
	Volume uint64
	// Slabs is how many buffers the volume is split into, set by the
	// device's storage binding limit, BindingLimit.
	Slabs        int
	BindingLimit uint64
	// Total adds the transfer function, the heat map and each view's
	// uniform and pixels to Volume (the device's own staging buffers for
	// readback are not counted).
	Total uint64
}

// GPUUse reports what r holds on the GPU now.
func (r *Renderer) GPUUse() GPUUse {
	u := GPUUse{Slabs: r.layout.Slabs, BindingLimit: r.d.Info().Limits.MaxStorageBufferBindingSize}
	for _, b := range r.slabs {
		if b != r.dummy {
			u.Volume += b.Size()
		}
	}
	u.Total = u.Volume + r.dummy.Size() + r.lut.Size()
	if r.heat != r.dummy {
		u.Total += r.heat.Size()
	}
	for _, t := range r.views {
		u.Total += t.out.Size() + t.params.Size()
	}
	return u
}

// SetHeat sets the heat map's token colours (RGBA8, see mpr.wgsl); nil
// removes it.
func (r *Renderer) SetHeat(colours []uint32) error {
	if r.heat != r.dummy {
		r.heat.Destroy()
	}
	r.heat = r.dummy
	r.dropViews()
	if len(colours) == 0 {
		return nil
	}
	b, err := r.d.Upload("viewer heat map", wgpu.Bytes(colours), wgpu.Storage)
	if err != nil {
		return err
	}
	r.heat = b
	return nil
}

// SetLUT sets the 3D transfer function (shaders.LUTSize RGBA entries).
func (r *Renderer) SetLUT(lut [][4]float32) error {
	if len(lut) != shaders.LUTSize {
		return fmt.Errorf("viewer: transfer function of %d entries, want %d", len(lut), shaders.LUTSize)
	}
	flat := make([]float32, 0, 4*len(lut))
	for _, c := range lut {
		flat = append(flat, c[:]...)
	}
	return r.lut.Write(0, wgpu.Bytes(flat))
}

// Close frees the GPU buffers (not the device).
func (r *Renderer) Close() {
	r.dropVolume()
	if r.heat != r.dummy {
		r.heat.Destroy()
	}
	r.lut.Destroy()
	r.dummy.Destroy()
}

func (r *Renderer) target(view, kind string, w, h int) (*target, error) {
	if t, ok := r.views[view]; ok && t.w == w && t.h == h && t.kind == kind {
		return t, nil
	}
	if t, ok := r.views[view]; ok {
		t.out.Destroy()
		t.params.Destroy()
		delete(r.views, view)
	}
	t := &target{w: w, h: h, kind: kind}
	var err error
	size := uint64(4 * w * h)
	if t.out, err = r.d.NewBuffer(view+" pixels", size, wgpu.Storage); err != nil {
		return nil, err
	}
	p, third := r.mpr, r.heat
	var params any = shaders.MPRParams{}
	if kind == "ray" {
		if r.ray == nil {
			if r.ray, err = d2p(r.d, shaders.Raymarch(shaders.RaymarchVariant{MultiSlab: r.layout.Slabs > 1})); err != nil {
				t.out.Destroy()
				return nil, err
			}
		}
		p, third, params = r.ray, r.lut, shaders.RaymarchParams{}
	}
	if t.params, err = r.d.NewBuffer(view+" params", uint64(len(shaders.ParamsBytes(params))), wgpu.Uniform); err != nil {
		t.out.Destroy()
		return nil, err
	}
	t.group, err = r.d.Bind(p, wgpu.Whole(t.params), wgpu.Whole(r.slabs[0]), wgpu.Whole(r.slabs[1]),
		wgpu.Whole(r.slabs[2]), wgpu.Whole(r.slabs[3]), wgpu.Whole(third), wgpu.Whole(t.out))
	if err != nil {
		t.out.Destroy()
		t.params.Destroy()
		return nil, err
	}
	r.views[view] = t
	return t, nil
}

// MPR renders an MPR view (p's volume fields are filled in here) and
// returns its RGBA bytes, row-major, p.Width·4 bytes a row.
func (r *Renderer) MPR(ctx context.Context, view string, p shaders.MPRParams) ([]byte, error) {
	if r.layout.Slabs == 0 {
		return nil, fmt.Errorf("viewer: no volume on the GPU")
	}
	p.NX, p.NY, p.NZ, p.SlabSlices = r.layout.NX, r.layout.NY, r.layout.NZ, r.layout.SlabSlices
	p.HeatOn = p.HeatOn * b2u(r.heat != r.dummy)
	return r.draw(ctx, view, "mpr", int(p.Width), int(p.Height), p)
}

// Raymarch renders a 3D view (p's volume fields are filled in here).
func (r *Renderer) Raymarch(ctx context.Context, view string, p shaders.RaymarchParams) ([]byte, error) {
	if r.layout.Slabs == 0 {
		return nil, fmt.Errorf("viewer: no volume on the GPU")
	}
	p.NX, p.NY, p.NZ, p.SlabSlices = r.layout.NX, r.layout.NY, r.layout.NZ, r.layout.SlabSlices
	return r.draw(ctx, view, "ray", int(p.Width), int(p.Height), p)
}

func (r *Renderer) draw(ctx context.Context, view, kind string, w, h int, params any) ([]byte, error) {
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("viewer: %s view of %d×%d pixels", view, w, h)
	}
	t, err := r.target(view, kind, w, h)
	if err != nil {
		return nil, err
	}
	if err := t.params.Write(0, shaders.ParamsBytes(params)); err != nil {
		return nil, err
	}
	p := r.mpr
	if kind == "ray" {
		p = r.ray
	}
	b := r.d.NewBatch(view)
	g := shaders.ImageGrid(uint32(w), uint32(h))
	b.Dispatch(p, t.group, g[0], g[1], g[2])
	return b.SubmitRead(ctx, t.out, 0, uint64(4*w*h))
}

// Timed renders like MPR or Raymarch with timestamp queries and returns
// the GPU time of the dispatch (wall time where the device has none).
func (r *Renderer) Timed(ctx context.Context, view string, params any) (time.Duration, error) {
	var kind string
	var w, h int
	switch p := params.(type) {
	case shaders.MPRParams:
		p.NX, p.NY, p.NZ, p.SlabSlices = r.layout.NX, r.layout.NY, r.layout.NZ, r.layout.SlabSlices
		kind, w, h, params = "mpr", int(p.Width), int(p.Height), p
	case shaders.RaymarchParams:
		p.NX, p.NY, p.NZ, p.SlabSlices = r.layout.NX, r.layout.NY, r.layout.NZ, r.layout.SlabSlices
		kind, w, h, params = "ray", int(p.Width), int(p.Height), p
	default:
		return 0, fmt.Errorf("viewer: Timed: params of type %T", params)
	}
	t, err := r.target(view, kind, w, h)
	if err != nil {
		return 0, err
	}
	if err := t.params.Write(0, shaders.ParamsBytes(params)); err != nil {
		return 0, err
	}
	p := r.mpr
	if kind == "ray" {
		p = r.ray
	}
	b := r.d.NewBatch(view)
	timed := b.EnableTiming()
	g := shaders.ImageGrid(uint32(w), uint32(h))
	b.Dispatch(p, t.group, g[0], g[1], g[2])
	start := time.Now()
	if _, err := b.SubmitRead(ctx, t.out, 0, 4); err != nil {
		return 0, err
	}
	if !timed {
		return time.Since(start), nil
	}
	ts, err := b.Timings(ctx)
	if err != nil || len(ts) == 0 {
		return time.Since(start), err
	}
	return ts[0].Dur, nil
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
