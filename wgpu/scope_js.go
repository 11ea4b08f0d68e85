//go:build js && wasm

package wgpu

import (
	"fmt"
	"syscall/js"
)

// scope runs f inside validation, out-of-memory and internal error scopes
// and returns the first error they caught, as the native build does (whose
// wgpu-native knows no internal filter; the browser does, and an internal
// error there — a pipeline the driver cannot build — belongs to the call
// that caused it rather than to the device's uncapturederror event).
//
// The scopes are popped together and their promises awaited as one, so a
// scope costs one round trip to the browser's GPU process. The await blocks
// the calling goroutine: GPU calls must run off the UI goroutine (never in a
// js.FuncOf callback), as Open's documentation says.
//
// cogentcore's js calls do not report errors; a WebGPU call that throws a
// JS exception instead (invalid arguments caught by the bindings, such as
// writeBuffer with a bad size) is caught here too and returned as a
// validation error, after the scopes are popped so that the scope stack
// stays balanced.
func (d *Device) scope(op string, f func()) error {
	if err := d.Lost(); err != nil {
		return err
	}
	dev := d.plat.device
	dev.Call("pushErrorScope", "internal")
	dev.Call("pushErrorScope", "out-of-memory")
	dev.Call("pushErrorScope", "validation")
	thrown := runCatching(f)
	// Popped innermost first: validation, out-of-memory, internal.
	pops := []any{dev.Call("popErrorScope"), dev.Call("popErrorScope"), dev.Call("popErrorScope")}
	all, err := await(js.Global().Get("Promise").Call("all", pops))
	d.syncLost()
	if lerr := d.Lost(); lerr != nil {
		return lerr
	}
	if err != nil {
		return &Error{Kind: "internal", Op: op, Message: fmt.Sprintf("popErrorScope failed: %v", err)}
	}
	for i, filter := range []string{"validation", "out-of-memory", "internal"} {
		if e := all.Index(i); e.Truthy() {
			return &Error{Kind: errorKind(e, filter), Op: op, Message: e.Get("message").String()}
		}
	}
	if thrown != nil {
		return &Error{Kind: "validation", Op: op, Message: thrown.Error()}
	}
	return nil
}

// runCatching runs f and returns the JS exception it threw, if any. Other
// panics are Go bugs and are not swallowed.
func runCatching(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			je, ok := r.(js.Error)
			if !ok {
				panic(r)
			}
			err = jsError(je.Value)
		}
	}()
	f()
	return nil
}

// errorKind names a GPUError by its class, the same kinds the native
// scopeError reports; fallback is the filter of the scope that caught it.
func errorKind(e js.Value, fallback string) string {
	g := js.Global()
	switch {
	case instanceOf(e, g.Get("GPUValidationError")):
		return "validation"
	case instanceOf(e, g.Get("GPUOutOfMemoryError")):
		return "out-of-memory"
	case instanceOf(e, g.Get("GPUInternalError")):
		return "internal"
	}
	return fallback
}

func instanceOf(v, class js.Value) bool {
	return class.Type() == js.TypeFunction && v.Type() == js.TypeObject && v.InstanceOf(class)
}
