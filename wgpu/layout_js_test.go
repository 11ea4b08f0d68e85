//go:build js && wasm

package wgpu

import (
	"strings"
	"syscall/js"
	"testing"

	webgpu "github.com/cogentcore/webgpu/wgpu"
)

// These tests need no GPU: they run under node with
//
//	PATH=$(go env GOROOT)/lib/wasm:$PATH GOOS=js GOARCH=wasm go test ./wgpu/
//
// (tools/gpucheck's browser test runs them so), and check what the browser
// build assumes about cogentcore's js wrappers and about promises.

// fakeGPU returns JS objects standing in for a GPUDevice and the objects it
// makes; cogentcore's wrappers call their methods by name.
func fakeGPU() js.Value {
	return js.Global().Get("Function").New(`
		const pass = {kind: "pass", ended: false, end() { this.ended = true; }};
		const enc = {kind: "encoder", beginComputePass() { return pass; }};
		const buf = {kind: "buffer", destroy() {}};
		return {kind: "device", buf, enc, pass,
			createBuffer() { return buf; },
			createCommandEncoder() { return enc; }};
	`).Invoke()
}

// TestWrapperLayout guards jsValueOf and wrapJS: each cogentcore wrapper
// must hold exactly the JS object it was made from.
func TestWrapperLayout(t *testing.T) {
	fake := fakeGPU()
	dev := webgpu.NewDevice(fake)
	if !jsValueOf(&dev).Equal(fake) {
		t.Fatalf("Device: jsValueOf does not return the wrapped object")
	}
	b, err := dev.CreateBuffer(&webgpu.BufferDescriptor{Size: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !jsValueOf(b).Equal(fake.Get("buf")) {
		t.Fatalf("Buffer: jsValueOf does not return the wrapped object")
	}
	e, err := dev.CreateCommandEncoder(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !jsValueOf(e).Equal(fake.Get("enc")) {
		t.Fatalf("CommandEncoder: jsValueOf does not return the wrapped object")
	}
	if p := e.BeginComputePass(nil); !jsValueOf(p).Equal(fake.Get("pass")) {
		t.Fatalf("ComputePassEncoder: jsValueOf does not return the wrapped object")
	}
	// A wrapper built by wrapJS must drive the object it wraps.
	w := wrapJS[webgpu.ComputePassEncoder](fake.Get("pass"))
	w.End()
	if !fake.Get("pass").Get("ended").Bool() {
		t.Fatalf("wrapJS: End on the built wrapper did not reach the JS object")
	}
}

func TestAwait(t *testing.T) {
	p := js.Global().Get("Promise")
	v, err := await(p.Call("resolve", 42))
	if err != nil || v.Int() != 42 {
		t.Fatalf("await(resolve 42) = %v, %v", v, err)
	}
	_, err = await(p.Call("reject", js.Global().Get("TypeError").New("bad limit")))
	if err == nil || err.Error() != "TypeError: bad limit" {
		t.Fatalf("await(reject TypeError) err = %v, want \"TypeError: bad limit\"", err)
	}
	// A value that is not a promise comes back as it is.
	if v, err := await(js.ValueOf("x")); err != nil || v.String() != "x" {
		t.Fatalf("await(non-promise) = %v, %v", v, err)
	}
}

func TestRunCatching(t *testing.T) {
	err := runCatching(func() {
		js.Global().Get("Function").New(`throw new RangeError("size too big")`).Invoke()
	})
	if err == nil || !strings.Contains(err.Error(), "RangeError: size too big") {
		t.Fatalf("runCatching of a JS throw = %v", err)
	}
	if err := runCatching(func() {}); err != nil {
		t.Fatalf("runCatching of nothing = %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Fatalf("runCatching swallowed a Go panic")
		}
	}()
	_ = runCatching(func() { panic("go bug") })
}
