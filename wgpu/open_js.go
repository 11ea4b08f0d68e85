//go:build js && wasm

package wgpu

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall/js"
	"unsafe"

	webgpu "github.com/cogentcore/webgpu/wgpu"
)

// platform holds what the browser build keeps beside the device: the
// GPUDevice itself (cogentcore's js side swallows errors and lacks error
// scopes, so ctlens calls the WebGPU JS API directly where it must), the
// adapter, and the callbacks registered on the device.
type platform struct {
	adapter js.Value
	device  js.Value

	onLost    js.Func // device.lost.then(onLost)
	onErr     js.Func // 'uncapturederror' listener
	closed    atomic.Bool
	lostSeen  atomic.Pointer[string] // set synchronously by onLost
	mu        sync.Mutex
	uncaught  []string // uncaptured WebGPU errors, oldest first, at most maxUncaught
	uncaughtN int

	stage js.Value // writeBuffer's reused Uint8Array, up to writeChunk bytes
}

// maxUncaught bounds the uncaptured errors kept for diagnosis.
const maxUncaught = 32

// limitNames are the GPUSupportedLimits members that Limits reports; Open
// requests each at the adapter's value so the device gets the real limits
// (a device requested without requiredLimits gets the spec's defaults).
var limitNames = []string{
	"maxBufferSize",
	"maxStorageBufferBindingSize",
	"maxUniformBufferBindingSize",
	"maxStorageBuffersPerShaderStage",
	"maxBindGroups",
	"minUniformBufferOffsetAlignment",
	"minStorageBufferOffsetAlignment",
	"maxComputeWorkgroupStorageSize",
	"maxComputeInvocationsPerWorkgroup",
	"maxComputeWorkgroupSizeX",
	"maxComputeWorkgroupSizeY",
	"maxComputeWorkgroupSizeZ",
	"maxComputeWorkgroupsPerDimension",
}

// wantFeatures are the optional features ctlens uses, by their WebGPU names.
var wantFeatures = []string{"shader-f16", "subgroups", "timestamp-query"}

func openPlatform(opt Options) (d *Device, err error) {
	// A JS exception thrown by a WebGPU call would otherwise panic the
	// goroutine; Open reports it as an error instead.
	defer func() {
		if r := recover(); r != nil {
			d, err = nil, fmt.Errorf("wgpu: open: %v", recoveredError(r))
		}
	}()
	gpu := js.Global().Get("navigator").Get("gpu")
	if !gpu.Truthy() {
		return nil, errors.New("wgpu: this browser has no WebGPU (navigator.gpu is missing: it needs a secure context — https or localhost — and a browser with WebGPU enabled)")
	}
	pref := "low-power"
	if opt.HighPerformance {
		pref = "high-performance"
	}
	ad, err := await(gpu.Call("requestAdapter", map[string]any{"powerPreference": pref}))
	if err != nil {
		return nil, fmt.Errorf("wgpu: requestAdapter: %v", err)
	}
	if !ad.Truthy() {
		return nil, errors.New("wgpu: the browser offers no WebGPU adapter (blocklisted GPU, or WebGPU disabled; headless Chromium needs --enable-unsafe-webgpu)")
	}
	ai := adapterInfoJS(ad)

	adLim := ad.Get("limits")
	reqLim := map[string]any{}
	for _, n := range limitNames {
		if v := adLim.Get(n); v.Type() == js.TypeNumber {
			reqLim[n] = v.Float()
		}
	}
	var reqFeat []any
	adFeat := ad.Get("features")
	for _, f := range wantFeatures {
		if adFeat.Call("has", f).Bool() {
			reqFeat = append(reqFeat, f)
		}
	}
	jsDev, err := await(ad.Call("requestDevice", map[string]any{
		"label":            "ctlens",
		"requiredFeatures": reqFeat,
		"requiredLimits":   reqLim,
	}))
	if err != nil {
		return nil, fmt.Errorf("wgpu: adapter %q refused a device: %v", ai.Name, err)
	}
	if !jsDev.Truthy() {
		return nil, fmt.Errorf("wgpu: adapter %q returned no device", ai.Name)
	}

	raw := webgpu.NewDevice(jsDev)
	d = &Device{raw: &raw, plat: platform{adapter: ad, device: jsDev}}
	if err := checkLayout(d); err != nil {
		jsDev.Call("destroy")
		return nil, err
	}
	d.plat.onLost = js.FuncOf(func(_ js.Value, args []js.Value) any {
		// This runs on the JS event loop: it must not block, so it only
		// records the loss; markLost (which calls Options.OnLost, user
		// code that may block) runs in its own goroutine, and scope and
		// mapRead pick the record up synchronously through syncLost.
		if d.plat.closed.Load() {
			return nil // our own Close destroyed the device
		}
		msg := "device lost"
		if len(args) > 0 && args[0].Truthy() {
			info := args[0]
			msg = strings.TrimSpace(info.Get("message").String())
			if r := info.Get("reason"); r.Type() == js.TypeString && r.String() != "" {
				msg = fmt.Sprintf("%s (reason: %s)", msg, r.String())
			}
		}
		d.plat.lostSeen.Store(&msg)
		go d.markLost(msg)
		return nil
	})
	jsDev.Get("lost").Call("then", d.plat.onLost)
	d.plat.onErr = js.FuncOf(func(_ js.Value, args []js.Value) any {
		// Every ctlens call that can fail runs inside an error scope, so an
		// uncaptured error is a ctlens bug; keep it and say so on the
		// console, where the browser test collects console errors.
		msg := "uncaptured WebGPU error"
		if len(args) > 0 {
			if e := args[0].Get("error"); e.Truthy() {
				msg = fmt.Sprintf("uncaptured WebGPU %s: %s", errorKind(e, "error"), e.Get("message").String())
			}
		}
		d.plat.mu.Lock()
		d.plat.uncaughtN++
		if len(d.plat.uncaught) < maxUncaught {
			d.plat.uncaught = append(d.plat.uncaught, msg)
		}
		d.plat.mu.Unlock()
		js.Global().Get("console").Call("error", "ctlens wgpu: "+msg)
		return nil
	})
	jsDev.Call("addEventListener", "uncapturederror", d.plat.onErr)

	feat := jsDev.Get("features")
	has := func(f string) bool { return feat.Call("has", f).Bool() }
	d.info = Info{
		Adapter: ai,
		Features: Features{
			ShaderF16:      has("shader-f16"),
			Subgroups:      has("subgroups"),
			TimestampQuery: has("timestamp-query"),
			// Tint, the browser's compiler, takes `enable f16;` and
			// `enable subgroups;` whenever the device has the feature.
			ShaderF16Usable:  has("shader-f16"),
			SubgroupsUsable:  has("subgroups"),
			PackedDot4Usable: hasWGSLLanguageFeature(gpu, "packed_4x8_integer_dot_product"),
		},
		Limits: limitsFromJS(jsDev.Get("limits")),
	}
	return d, nil
}

// hasWGSLLanguageFeature reports whether the browser's WGSL compiler has a
// language extension, from navigator.gpu.wgslLanguageFeatures (a set-like
// object; browsers from before it existed have none of the extensions).
func hasWGSLLanguageFeature(gpu js.Value, name string) bool {
	lf := gpu.Get("wgslLanguageFeatures")
	return lf.Truthy() && lf.Get("has").Type() == js.TypeFunction && lf.Call("has", name).Bool()
}

// adapterInfoJS reads GPUAdapter.info (or the older requestAdapterInfo()).
// WebGPU does not expose the adapter type; Chromium's non-standard "type"
// (with developer features) and the standard isFallbackAdapter are used
// when present.
func adapterInfoJS(ad js.Value) AdapterInfo {
	info := ad.Get("info")
	if !info.Truthy() && ad.Get("requestAdapterInfo").Type() == js.TypeFunction {
		if v, err := await(ad.Call("requestAdapterInfo")); err == nil {
			info = v
		}
	}
	str := func(k string) string {
		if !info.Truthy() {
			return ""
		}
		if v := info.Get(k); v.Type() == js.TypeString {
			return v.String()
		}
		return ""
	}
	name := str("description")
	if name == "" {
		// Chromium leaves description empty for SwiftShader: "google
		// swiftshader" from the vendor and architecture.
		name = strings.Join(strings.Fields(str("vendor")+" "+str("device")+" "+str("architecture")), " ")
	}
	if name == "" {
		name = "WebGPU adapter" // browsers may hide everything (privacy)
	}
	typ := "unknown"
	switch t := strings.ToLower(str("type")); {
	case strings.Contains(t, "discrete"):
		typ = "discrete"
	case strings.Contains(t, "integrated"):
		typ = "integrated"
	case strings.Contains(t, "cpu"):
		typ = "cpu"
	default:
		fb := ad.Get("isFallbackAdapter")
		if info.Truthy() && info.Get("isFallbackAdapter").Type() == js.TypeBoolean {
			fb = info.Get("isFallbackAdapter")
		}
		if fb.Type() == js.TypeBoolean && fb.Bool() {
			typ = "cpu" // a fallback adapter is a software one (SwiftShader)
		}
	}
	return AdapterInfo{
		Name:         name,
		Vendor:       str("vendor"),
		Architecture: str("architecture"),
		Driver:       str("driver"),
		Type:         typ,
		Backend:      "webgpu",
	}
}

func limitsFromJS(l js.Value) Limits {
	u64 := func(k string) uint64 { return uint64(l.Get(k).Float()) }
	u32 := func(k string) uint32 { return uint32(l.Get(k).Float()) }
	return Limits{
		MaxBufferSize:                     u64("maxBufferSize"),
		MaxStorageBufferBindingSize:       u64("maxStorageBufferBindingSize"),
		MaxUniformBufferBindingSize:       u64("maxUniformBufferBindingSize"),
		MaxStorageBuffersPerShaderStage:   u32("maxStorageBuffersPerShaderStage"),
		MaxBindGroups:                     u32("maxBindGroups"),
		MinUniformBufferOffsetAlignment:   u32("minUniformBufferOffsetAlignment"),
		MinStorageBufferOffsetAlignment:   u32("minStorageBufferOffsetAlignment"),
		MaxComputeWorkgroupStorageSize:    u32("maxComputeWorkgroupStorageSize"),
		MaxComputeInvocationsPerWorkgroup: u32("maxComputeInvocationsPerWorkgroup"),
		MaxComputeWorkgroupSizeX:          u32("maxComputeWorkgroupSizeX"),
		MaxComputeWorkgroupSizeY:          u32("maxComputeWorkgroupSizeY"),
		MaxComputeWorkgroupSizeZ:          u32("maxComputeWorkgroupSizeZ"),
		MaxComputeWorkgroupsPerDimension:  u32("maxComputeWorkgroupsPerDimension"),
	}
}

func (d *Device) closePlatform() {
	if d.plat.closed.Swap(true) {
		return
	}
	if d.plat.device.Truthy() {
		d.plat.device.Call("removeEventListener", "uncapturederror", d.plat.onErr)
		d.plat.device.Call("destroy")
	}
	// onLost stays registered: destroy() resolves device.lost later, and
	// a released js.Func would throw when called. It returns at once
	// because closed is set.
	d.plat.onErr.Release()
	d.raw = nil
}

// syncLost moves a loss that the JS callback recorded into the Device's
// state now, so the error scope that notices it returns ErrDeviceLost
// rather than racing the goroutine started by the callback.
func (d *Device) syncLost() {
	if m := d.plat.lostSeen.Load(); m != nil {
		d.markLost(*m)
	}
}

// mapRead maps a staging buffer and copies its contents out. In the browser
// this awaits mapAsync's promise, so a failed map (device lost, destroyed
// buffer) is an error; cogentcore's MapAsync would report success and the
// getMappedRange that follows would throw.
func (d *Device) mapRead(staging *webgpu.Buffer, size uint64, what string) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("wgpu: read %q: %v", what, recoveredError(r))
		}
	}()
	b := jsValueOf(staging)
	if _, err := await(b.Call("mapAsync", uint32(webgpu.MapModeRead), 0, size)); err != nil {
		d.syncLost()
		if lerr := d.Lost(); lerr != nil {
			return nil, lerr
		}
		return nil, fmt.Errorf("wgpu: read %q: map failed: %v", what, err)
	}
	view := js.Global().Get("Uint8Array").New(b.Call("getMappedRange", 0, size))
	out = make([]byte, size)
	js.CopyBytesToGo(out, view)
	b.Call("unmap")
	return out, nil
}

// await blocks the calling goroutine until the promise p settles and
// returns its value, or its rejection as an error. The promise's reactions
// run on the JS event loop, which Go's wasm runtime only serves while every
// goroutine is blocked, so await must never run inside a js.FuncOf callback
// (the UI goroutine of an event handler): it would wait forever. Every GPU
// call of this package that awaits therefore belongs off the UI goroutine.
func await(p js.Value) (js.Value, error) {
	if p.Type() != js.TypeObject || p.Get("then").Type() != js.TypeFunction {
		return p, nil
	}
	type settled struct {
		v   js.Value
		err error
	}
	ch := make(chan settled, 1)
	first := func(args []js.Value) js.Value {
		if len(args) == 0 {
			return js.Undefined()
		}
		return args[0]
	}
	ok := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- settled{v: first(args)}
		return nil
	})
	fail := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- settled{err: jsError(first(args))}
		return nil
	})
	p.Call("then", ok, fail)
	s := <-ch
	ok.Release()
	fail.Release()
	return s.v, s.err
}

// jsError turns a rejection reason or thrown value into a Go error that
// keeps the DOMException's name (OperationError, TypeError, …).
func jsError(v js.Value) error {
	if v.Type() == js.TypeObject {
		name, msg := v.Get("name"), v.Get("message")
		if msg.Type() == js.TypeString {
			if name.Type() == js.TypeString && name.String() != "" {
				return fmt.Errorf("%s: %s", name.String(), msg.String())
			}
			return errors.New(msg.String())
		}
	}
	return errors.New(v.String())
}

// recoveredError describes a value recovered from a panic; a js.Error is a
// JS exception thrown through syscall/js.
func recoveredError(r any) error {
	if je, ok := r.(js.Error); ok {
		return jsError(je.Value)
	}
	if e, ok := r.(error); ok {
		return e
	}
	return fmt.Errorf("%v", r)
}

// jsWrapped lists cogentcore's js-side wrappers that ctlens reads or builds
// through unsafe. At v0.23.0 each is a struct whose only field is the
// js.Value of the WebGPU object; the sizes are checked at compile time
// below, and the contents by checkLayout at every Open and by
// TestWrapperLayout (GOOS=js, run under node).
type jsWrapped interface {
	webgpu.Device | webgpu.Buffer | webgpu.CommandEncoder | webgpu.ComputePassEncoder |
		webgpu.ComputePipeline | webgpu.PipelineLayout | webgpu.ShaderModule
}

// Compile-time guard: each subtraction overflows (a build error) unless the
// wrapper is exactly one js.Value in size.
const (
	_ = unsafe.Sizeof(webgpu.Device{}) - unsafe.Sizeof(js.Value{})
	_ = unsafe.Sizeof(js.Value{}) - unsafe.Sizeof(webgpu.Device{})
	_ = unsafe.Sizeof(webgpu.Buffer{}) - unsafe.Sizeof(js.Value{})
	_ = unsafe.Sizeof(js.Value{}) - unsafe.Sizeof(webgpu.Buffer{})
	_ = unsafe.Sizeof(webgpu.CommandEncoder{}) - unsafe.Sizeof(js.Value{})
	_ = unsafe.Sizeof(js.Value{}) - unsafe.Sizeof(webgpu.CommandEncoder{})
	_ = unsafe.Sizeof(webgpu.ComputePassEncoder{}) - unsafe.Sizeof(js.Value{})
	_ = unsafe.Sizeof(js.Value{}) - unsafe.Sizeof(webgpu.ComputePassEncoder{})
	_ = unsafe.Sizeof(webgpu.ComputePipeline{}) - unsafe.Sizeof(js.Value{})
	_ = unsafe.Sizeof(js.Value{}) - unsafe.Sizeof(webgpu.ComputePipeline{})
	_ = unsafe.Sizeof(webgpu.PipelineLayout{}) - unsafe.Sizeof(js.Value{})
	_ = unsafe.Sizeof(js.Value{}) - unsafe.Sizeof(webgpu.PipelineLayout{})
	_ = unsafe.Sizeof(webgpu.ShaderModule{}) - unsafe.Sizeof(js.Value{})
	_ = unsafe.Sizeof(js.Value{}) - unsafe.Sizeof(webgpu.ShaderModule{})
)

// jsValueOf returns the WebGPU JS object inside a cogentcore wrapper.
func jsValueOf[T jsWrapped](p *T) js.Value {
	return *(*js.Value)(unsafe.Pointer(p))
}

// wrapJS builds a cogentcore wrapper around a WebGPU JS object that ctlens
// created itself (a compute pass with timestampWrites).
func wrapJS[T jsWrapped](v js.Value) *T {
	p := new(T)
	*(*js.Value)(unsafe.Pointer(p)) = v
	return p
}

// checkLayout verifies at run time what jsValueOf assumes, on objects of
// the real device: a wrapper must hand back exactly the object inside it.
func checkLayout(d *Device) error {
	if !jsValueOf(d.raw).Equal(d.plat.device) {
		return errors.New("wgpu: cogentcore's js Device no longer wraps a single js.Value: update wgpu/open_js.go for this webgpu version")
	}
	buf, err := d.raw.CreateBuffer(&webgpu.BufferDescriptor{Label: "layout check", Size: 4, Usage: webgpu.BufferUsageCopyDst})
	if err != nil {
		return err
	}
	defer buf.Destroy()
	enc, err := d.raw.CreateCommandEncoder(&webgpu.CommandEncoderDescriptor{Label: "layout check"})
	if err != nil {
		return err
	}
	bv, ev := jsValueOf(buf), jsValueOf(enc)
	if !bv.InstanceOf(js.Global().Get("GPUBuffer")) || !ev.InstanceOf(js.Global().Get("GPUCommandEncoder")) {
		return errors.New("wgpu: cogentcore's js Buffer/CommandEncoder no longer wrap a single js.Value: update wgpu/open_js.go for this webgpu version")
	}
	return nil
}

// createComputePipeline compiles with createComputePipelineAsync and
// waits for it: the browser compiles off the page's thread, where the
// synchronous createComputePipeline held the main thread for up to 383 ms
// per model load on SwiftShader (the assistant's longtask measurements),
// over the 200 ms budget. A compile error rejects the promise with the
// compiler's message. cogentcore's js descriptor has no label field; the
// op string of the error scope names the pipeline instead.
func (d *Device) createComputePipeline(_ string, layout *webgpu.PipelineLayout, stage webgpu.ProgrammableStageDescriptor) (*webgpu.ComputePipeline, error) {
	compute := js.Global().Get("Object").New()
	compute.Set("module", jsValueOf(stage.Module))
	compute.Set("entryPoint", stage.EntryPoint)
	desc := js.Global().Get("Object").New()
	desc.Set("layout", jsValueOf(layout))
	desc.Set("compute", compute)
	v, err := await(d.plat.device.Call("createComputePipelineAsync", desc))
	if err != nil {
		return nil, err
	}
	return wrapJS[webgpu.ComputePipeline](v), nil
}

// writeChunk bounds the JS copy that writeBuffer makes of the data.
const writeChunk = 16 << 20

// writeBuffer queues a write of data into buf at off. cogentcore's
// Queue.WriteBuffer views the wasm memory through a Uint8ClampedArray built
// on globalThis.wasm's memory buffer, fetched before its arguments are
// converted: when that conversion grows the Go heap, the buffer is detached
// ("Cannot perform Construct on a detached ArrayBuffer", seen in the browser
// suite). So the data is copied into a JS array with js.CopyBytesToJS,
// which reads the memory afresh, in chunks through one reused array;
// writeBuffer copies its data at the call, so the reuse is safe.
func (d *Device) writeBuffer(buf *webgpu.Buffer, off uint64, data []byte) error {
	q := d.plat.device.Get("queue")
	dst := jsValueOf(buf)
	for len(data) > 0 {
		n := min(len(data), writeChunk)
		if !d.plat.stage.Truthy() || d.plat.stage.Length() < n {
			d.plat.stage = js.Global().Get("Uint8Array").New(max(n, 64<<10))
		}
		js.CopyBytesToJS(d.plat.stage, data[:n])
		q.Call("writeBuffer", dst, off, d.plat.stage, 0, n)
		off += uint64(n)
		data = data[n:]
	}
	return nil
}
