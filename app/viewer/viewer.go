// Package viewer is the app's image viewer: axial, coronal and sagittal
// MPR with linked crosshairs and a ray-marched 3D view of the series on
// screen (app/state), drawn with WebGPU compute kernels (shaders.MPR,
// shaders.Raymarch), with overlays, measurements and the assistant's
// expert heat map.
//
// The pieces: Session (plain interaction state, tested natively), the
// MPRView and Camera3D mappings (screen ↔ voxel, kernel uniforms),
// Renderer (the volume on the GPU once, one dispatch per view), and
// Viewer, the go-app component that wires DOM events to the Session and
// frames to a render goroutine. All GPU calls run on that goroutine, never
// on the UI one; frames are coalesced (the latest request per view wins).
package viewer

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"ctlens/app/state"
	"ctlens/shaders"
	"ctlens/volume"
	"ctlens/wgpu"
)

// Viewer is the viewport grid: three MPR views and the 3D view.
type Viewer struct {
	app.Compo

	s        *Session
	seriesID string
	name     string
	status   string // "" or what the viewer is waiting for / what failed
	gpuErr   string

	hover hover // what is under the cursor

	heatOn  bool
	heatErr string
	experts int // legend entries

	drag    *drag
	draft   *Measurement // a measurement being drawn
	pointer map[int][2]float64
	pinch   float64 // distance between two touch pointers

	loop      *renderLoop
	cancel    context.CancelFunc
	unlisten  []func()
	refine3D  *time.Timer
	longPress *time.Timer
}

// hover is the readout under the cursor.
type hover struct {
	view string
	ok   bool
	hu   int16
	idx  [3]int
	lps  [3]float64
}

// drag is a pointer drag in progress.
type drag struct {
	view       string
	button     int // 0 left, 1 middle, 2 right; touch is 0
	touch      bool
	x0, y0     float64 // canvas pixels at the start
	x, y       float64 // last position
	moved      bool
	start      [3]float64 // voxel point at the start (tools)
	longPressd bool
}

// OnMount starts the render goroutine and listens for the series, the
// heat map, keys and resizes.
func (v *Viewer) OnMount(ctx app.Context) {
	if app.IsServer {
		return
	}
	v.pointer = map[int][2]float64{}
	rctx, cancel := context.WithCancel(context.Background())
	v.cancel = cancel
	v.loop = newRenderLoop()
	ctx.Async(func() {
		err := v.loop.run(rctx, func(status string) {
			ctx.Dispatch(func(ctx app.Context) { v.status = status })
		})
		if err != nil {
			ctx.Dispatch(func(ctx app.Context) { v.gpuErr = err.Error() })
		}
	})
	ctx.Handle(state.ActionSeriesOpened, func(ctx app.Context, a app.Action) { v.openCurrent(ctx) })
	ctx.Handle(state.ActionRoutingChanged, func(ctx app.Context, a app.Action) { v.updateHeat(ctx) })
	ctx.Handle(state.ActionHeatmap, func(ctx app.Context, a app.Action) { v.updateHeat(ctx) })
	v.unlisten = append(v.unlisten, listen(app.Window(), "keydown", func(e app.Value) {
		key := v.shortcutKey(e)
		if key == "" {
			return
		}
		e.Call("preventDefault")
		ctx.Dispatch(func(ctx app.Context) {
			if v.s == nil {
				return
			}
			if key == "Escape" {
				v.draft = nil
			}
			v.s.Key(key)
			ctx.Defer(func(ctx app.Context) { v.schedule(ctx, Views...) })
		})
	}))
	v.unlisten = append(v.unlisten, observeResize(ctx, "viewer", func() {
		ctx.Dispatch(func(ctx app.Context) { v.schedule(ctx, Views...) })
	}))
	v.openCurrent(ctx)
}

// OnDismount stops the render goroutine and the listeners.
func (v *Viewer) OnDismount() {
	for _, f := range v.unlisten {
		f()
	}
	v.unlisten = nil
	if v.cancel != nil {
		v.cancel()
	}
}

// openCurrent shows state.Current() (or nothing).
func (v *Viewer) openCurrent(ctx app.Context) {
	cur := state.Current()
	if cur == nil || cur.Volume == nil {
		v.s, v.seriesID, v.name = nil, "", ""
		v.loop.setVolume(nil)
		return
	}
	if cur.ID == v.seriesID && v.s != nil && v.s.Vol == cur.Volume {
		return
	}
	v.seriesID, v.name = cur.ID, cur.Name
	v.s = NewSession(cur.Volume)
	v.draft, v.drag = nil, nil
	v.status = "Loading the series onto the GPU…"
	v.loop.setVolume(cur.Volume)
	v.loop.setLUT(Presets3D[v.s.Preset3D].LUT())
	v.updateHeat(ctx)
	ctx.Defer(func(ctx app.Context) { v.schedule(ctx, Views...) })
}

// updateHeat follows the assistant's heat-map toggle and routing.
func (v *Viewer) updateHeat(ctx app.Context) {
	v.heatOn, v.heatErr, v.experts = false, "", 0
	r := state.CurrentRouting()
	if state.Heatmap() && r != nil {
		cols, err := HeatColours(r)
		if err != nil {
			v.heatErr = err.Error()
		} else {
			v.heatOn, v.experts = true, max(r.ExpertsPerTask, 1)
			v.loop.setHeat(cols, [3]uint32{uint32(r.Slices), uint32(r.GridH), uint32(r.GridW)})
		}
	}
	if !v.heatOn {
		v.loop.setHeat(nil, [3]uint32{})
	}
	v.schedule(ctx, "axial", "coronal", "sagittal")
}

// canvasSize is the pixel size to render view name at: its box in CSS
// pixels times the device pixel ratio (at most 2, and at most 4 Mpixels).
func canvasSize(name string) (w, h int, dpr float64) {
	el := app.Window().GetElementByID("vp-" + name)
	if !el.Truthy() {
		return 0, 0, 1
	}
	dpr = 1.0
	if r := app.Window().Get("devicePixelRatio"); r.Truthy() {
		dpr = min(max(r.Float(), 1), 2)
	}
	cw, ch := el.Get("clientWidth").Float(), el.Get("clientHeight").Float()
	if cw*ch*dpr*dpr > 4e6 {
		dpr = math.Max(1, math.Sqrt(4e6/(cw*ch)))
	}
	return int(cw * dpr), int(ch * dpr), dpr
}

// schedule computes the named views' kernel uniforms from the session and
// hands them to the render goroutine, replacing any frame not yet drawn.
func (v *Viewer) schedule(ctx app.Context, names ...string) {
	if v.s == nil || v.loop == nil {
		return
	}
	s := v.s
	for _, name := range names {
		if s.Maximised != "" && name != s.Maximised {
			continue
		}
		w, h, _ := canvasSize(name)
		if w < 8 || h < 8 {
			continue
		}
		if name == "3d" {
			p := Presets3D[s.Preset3D]
			lo, hi := p.Range()
			win := p.Window
			if win.Width == 0 {
				win = s.Window
			}
			vol, cam, sp := s.Vol, s.Cam, minSpacing(s.Vol)
			top := len(rayLevels) - 1
			if v.drag != nil && v.drag.view == "3d" {
				top = 1 // dragging: no full-quality pass until the pointer rests
			}
			v.loop.request(frame{view: name, top: top, ray: func(level int) shaders.RaymarchParams {
				l := rayLevels[level]
				return cam.Params(vol, max(w/l.div, 8), max(h/l.div, 8), RayQuality{StepMM: l.step * sp, Steps: l.steps}, p.Mode, lo, hi, win, p.Shade)
			}})
			continue
		}
		m := s.MPR[name]
		p := m.Params(s.Vol, w, h, s.Cross, s.Window, s.Invert, s.Slab)
		if !v.heatOn {
			p.HeatOn = 0
		}
		v.loop.request(frame{view: name, mpr: &p})
	}
}

func minSpacing(v *volume.Volume) float64 {
	return math.Max(0.1, math.Min(v.Spacing[0], math.Min(v.Spacing[1], v.Spacing[2])))
}

func ptr[T any](x T) *T { return &x }

// rayLevels are the 3D view's progressive passes: a quarter-resolution,
// coarse-step frame first (it keeps dragging fluid even on a software
// GPU), then finer ones while the frames stay quick.
var rayLevels = []struct {
	div   int     // resolution divisor
	step  float64 // step in units of the smallest voxel spacing
	steps uint32  // cap per ray
}{{4, 2, 400}, {2, 1, 1000}, {1, 0.75, 1500}}

// refineBudget is how long a 3D pass may take for the next, finer one to
// follow: on a slow (software) GPU the view stays at the level it can
// redraw quickly.
const refineBudget = 400 * time.Millisecond

// frame is one view to draw: an MPR uniform, or a 3D uniform per level.
type frame struct {
	view  string
	mpr   *shaders.MPRParams
	ray   func(level int) shaders.RaymarchParams
	level int // the 3D pass to draw
	top   int // the last 3D pass to refine to
}

// renderLoop owns the GPU device and the Renderer; the UI goroutine posts
// work, the loop's goroutine does it.
type renderLoop struct {
	mu      sync.Mutex
	vol     *volume.Volume
	volSet  bool
	lut     [][4]float32
	heat    []uint32
	heatSet bool
	heatDim [3]uint32
	frames  map[string]frame
	kick    chan struct{}
	// show puts a drawn frame on screen (blit; tests record instead).
	show func(view string, img []byte, w, h int)
	// gpu is told what the Renderer holds on the GPU when that changes
	// (publishGPU).
	gpu     func(GPUUse)
	lastUse GPUUse

	// What the loop last applied, to redo on a new device after a loss
	// (touched by the loop's goroutine only).
	lastVol    *volume.Volume
	lastLUT    [][4]float32
	lastHeat   []uint32
	lastDim    [3]uint32
	lastFrames map[string]frame
}

func newRenderLoop() *renderLoop {
	return &renderLoop{frames: map[string]frame{}, lastFrames: map[string]frame{}, kick: make(chan struct{}, 1), show: blit, gpu: publishGPU}
}

func (l *renderLoop) wake() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

func (l *renderLoop) setVolume(v *volume.Volume) {
	l.mu.Lock()
	l.vol, l.volSet, l.frames = v, true, map[string]frame{}
	l.mu.Unlock()
	l.wake()
}

func (l *renderLoop) setLUT(lut [][4]float32) {
	l.mu.Lock()
	l.lut = lut
	l.mu.Unlock()
	l.wake()
}

func (l *renderLoop) setHeat(cols []uint32, dim [3]uint32) {
	l.mu.Lock()
	l.heat, l.heatSet, l.heatDim = cols, true, dim
	l.mu.Unlock()
	l.wake()
}

func (l *renderLoop) request(f frame) {
	l.mu.Lock()
	l.frames[f.view] = f
	l.mu.Unlock()
	l.wake()
}

// errLost ends a device session: the GPU was reset.
var errLost = fmt.Errorf("viewer: the GPU device was lost")

// run draws until ctx ends; status reports progress and per-frame errors
// to the UI. When the GPU is reset it opens a new device and puts the
// volume, transfer function, heat map and last frames back.
func (l *renderLoop) run(ctx context.Context, status func(string)) error {
	for {
		err := l.session(ctx, status)
		if err != errLost || ctx.Err() != nil {
			return err
		}
		status("The GPU was reset; the views are being redrawn.")
		l.mu.Lock()
		if !l.volSet {
			l.vol, l.volSet = l.lastVol, true
		}
		if l.lut == nil {
			l.lut = l.lastLUT
		}
		if !l.heatSet {
			l.heat, l.heatSet, l.heatDim = l.lastHeat, true, l.lastDim
		}
		for k, f := range l.lastFrames {
			if _, ok := l.frames[k]; !ok {
				l.frames[k] = f
			}
		}
		l.mu.Unlock()
		l.wake()
	}
}

func (l *renderLoop) session(ctx context.Context, status func(string)) error {
	d, err := wgpu.Open(ctx, wgpu.Options{HighPerformance: true})
	if err != nil {
		return fmt.Errorf("This browser gave no WebGPU device, so the images cannot be drawn: %v", err)
	}
	defer d.Close()
	r, err := NewRenderer(d)
	if err != nil {
		return err
	}
	defer r.Close()
	var heatDim [3]uint32
	haveVol := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-l.kick:
		}
		l.mu.Lock()
		vol, volSet, lut, heat, heatSet, frames := l.vol, l.volSet, l.lut, l.heat, l.heatSet, l.frames
		if heatSet {
			heatDim = l.heatDim
		}
		l.volSet, l.lut, l.heat, l.heatSet, l.frames = false, nil, nil, false, map[string]frame{}
		l.mu.Unlock()
		if volSet {
			l.lastVol, l.lastFrames = vol, map[string]frame{}
		}
		if lut != nil {
			l.lastLUT = lut
		}
		if heatSet {
			l.lastHeat, l.lastDim = heat, heatDim
		}
		for k, f := range frames {
			l.lastFrames[k] = f
		}
		if volSet {
			haveVol = false
			if vol != nil {
				if err := r.SetVolume(ctx, vol); err != nil {
					if d.Lost() != nil {
						return errLost
					}
					status("The series does not fit on this GPU: " + err.Error())
					continue
				}
				haveVol = true
				status("")
			}
		}
		if lut != nil {
			if err := r.SetLUT(lut); err != nil {
				status(err.Error())
			}
		}
		if heatSet {
			if err := r.SetHeat(heat); err != nil {
				status(err.Error())
			}
		}
		l.publish(r)
		if !haveVol {
			continue
		}
		for _, name := range Views {
			f, ok := frames[name]
			if !ok {
				continue
			}
			var img []byte
			var w, h int
			if f.mpr != nil {
				p := *f.mpr
				p.HeatD, p.HeatH, p.HeatW = heatDim[0], heatDim[1], heatDim[2]
				if heatDim[0] == 0 {
					p.HeatOn = 0
				}
				w, h = int(p.Width), int(p.Height)
				img, err = r.MPR(ctx, name, p)
			} else {
				p := f.ray(f.level)
				w, h = int(p.Width), int(p.Height)
				compiled := r.ray != nil // the first frame also compiles the kernel
				t0 := time.Now()
				img, err = r.Raymarch(ctx, name, p)
				if err == nil && f.level < f.top && (time.Since(t0) < refineBudget || !compiled) {
					next := f
					next.level++
					l.mu.Lock()
					if _, newer := l.frames[name]; !newer {
						l.frames[name] = next
					}
					l.mu.Unlock()
					l.wake()
				}
			}
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				if d.Lost() != nil {
					return errLost
				}
				status(fmt.Sprintf("The %s view could not be drawn: %v", name, err))
				continue
			}
			l.show(name, img, w, h)
		}
		l.publish(r)
	}
}

// publish hands r's GPU use to l.gpu when it changed.
func (l *renderLoop) publish(r *Renderer) {
	if u := r.GPUUse(); u != l.lastUse && l.gpu != nil {
		l.lastUse = u
		l.gpu(u)
	}
}

// publishGPU shows what the viewer holds on the GPU in #viewer's
// data-gpu-* attributes, for tests and the curious (the volume must sit
// there once, at 2 bytes a voxel).
func publishGPU(u GPUUse) {
	el := app.Window().GetElementByID("viewer")
	if !el.Truthy() {
		return
	}
	ds := el.Get("dataset")
	ds.Set("gpuVolumeBytes", fmt.Sprint(u.Volume))
	ds.Set("gpuSlabs", fmt.Sprint(u.Slabs))
	ds.Set("gpuBindingLimit", fmt.Sprint(u.BindingLimit))
	ds.Set("gpuBytes", fmt.Sprint(u.Total))
}

// blit puts RGBA pixels into view name's canvas, sizing the canvas to the
// image (CSS stretches it to the viewport), and counts frames in the
// canvas's data-frames for tests.
func blit(name string, img []byte, w, h int) {
	c := app.Window().GetElementByID("canvas-" + name)
	if !c.Truthy() {
		return
	}
	if c.Get("width").Int() != w || c.Get("height").Int() != h {
		c.Set("width", w)
		c.Set("height", h)
	}
	arr := app.Window().Get("Uint8ClampedArray").New(len(img))
	app.CopyBytesToJS(arr, img)
	data := app.Window().Get("ImageData").New(arr, w, h)
	c.Call("getContext", "2d").Call("putImageData", data, 0, 0)
	ds := c.Get("dataset")
	n := 0
	if f := ds.Get("frames"); f.Truthy() {
		fmt.Sscan(f.String(), &n)
	}
	ds.Set("frames", fmt.Sprint(n+1))
}

// listen adds a JS event listener and returns its removal.
func listen(target app.Value, event string, h func(e app.Value)) func() {
	fn := app.FuncOf(func(this app.Value, args []app.Value) any {
		if len(args) > 0 {
			h(args[0])
		}
		return nil
	})
	target.Call("addEventListener", event, fn)
	return func() {
		target.Call("removeEventListener", event, fn)
		fn.Release()
	}
}

// observeResize calls f when element id changes size.
func observeResize(ctx app.Context, id string, f func()) func() {
	ro := app.Window().Get("ResizeObserver")
	if !ro.Truthy() {
		return listen(app.Window(), "resize", func(app.Value) { f() })
	}
	fn := app.FuncOf(func(this app.Value, args []app.Value) any { f(); return nil })
	obs := ro.New(fn)
	ctx.Defer(func(ctx app.Context) {
		if el := app.Window().GetElementByID(id); el.Truthy() {
			obs.Call("observe", el)
		}
	})
	return func() {
		obs.Call("disconnect")
		fn.Release()
	}
}
