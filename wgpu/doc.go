// Package wgpu is ctlens' GPU runtime: it opens a WebGPU device (natively
// through wgpu-native, in the browser through navigator.gpu), reports the
// adapter's features and limits, and offers the few things compute code
// needs: buffers, cached compute pipelines with explicit bind-group layouts,
// a batch that records many dispatches into one command encoder and one
// submit, one readback per batch, per-dispatch GPU timing, and Go errors for
// validation, out-of-memory and device loss.
//
// It never knows what a model or a volume is: kernels arrive as WGSL source
// plus a list of binding kinds, buffers as bytes.
//
// The native and browser builds are file pairs (open_native.go / open_js.go,
// scope_native.go / scope_js.go, timing_native.go / timing_js.go) with the
// same names; everything else is shared and written against
// cogentcore/webgpu's common API. In the browser, Open, error scopes and
// readbacks await JS promises, blocking the calling goroutine: call them
// from a goroutine of your own, never from a js.FuncOf callback (the UI
// goroutine), whose promise reactions could then never run.
package wgpu
