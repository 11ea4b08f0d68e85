//go:build js && wasm

package app

import (
	"strings"
	"syscall/js"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// probeGPU asks navigator.gpu for an adapter and describes it: its name
// and whether it offers shader-f16 (the model's fast path). It blocks on
// promises, so it must run off the UI goroutine (ctx.Async).
func probeGPU() (st GPUStatus, name string, f16 bool) {
	gpu := js.Global().Get("navigator").Get("gpu")
	if !gpu.Truthy() {
		return GPUMissing, "", false
	}
	ad, ok := await(gpu.Call("requestAdapter"))
	if !ok || !ad.Truthy() {
		return GPUMissing, "", false
	}
	if feats := ad.Get("features"); feats.Truthy() {
		f16 = feats.Call("has", "shader-f16").Truthy()
	}
	info := ad.Get("info")
	if !info.Truthy() {
		return GPUReady, "", f16
	}
	// description is the most specific name ("SwiftShader Device
	// (Subzero)"); browsers may blank it for privacy, so fall back to
	// vendor and architecture.
	if d := jsString(info.Get("description")); d != "" {
		return GPUReady, d, f16
	}
	var parts []string
	for _, k := range []string{"vendor", "architecture", "device"} {
		if s := jsString(info.Get(k)); s != "" {
			parts = append(parts, s)
		}
	}
	return GPUReady, strings.Join(parts, " "), f16
}

func jsString(v js.Value) string {
	if v.Type() != js.TypeString {
		return ""
	}
	return strings.TrimSpace(v.String())
}

// await blocks until p settles; ok is false when it rejected.
func await(p js.Value) (v js.Value, ok bool) {
	done := make(chan struct{})
	var then, catch js.Func
	then = js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) > 0 {
			v = args[0]
		}
		ok = true
		close(done)
		return nil
	})
	catch = js.FuncOf(func(_ js.Value, args []js.Value) any {
		close(done)
		return nil
	})
	p.Call("then", then, catch)
	<-done
	then.Release()
	catch.Release()
	return v, ok
}

// watchConnectivity keeps w.online and w.offlineReady current:
// navigator.onLine with its online/offline events, and whether this
// origin has an activated service worker (it has precached the app, so a
// reload works without the network; the first visit itself stays
// uncontrolled, as the worker does not claim it).
func watchConnectivity(ctx app.Context, w *Workstation) {
	nav := js.Global().Get("navigator")
	w.online = nav.Get("onLine").Bool()
	onLine := js.FuncOf(func(js.Value, []js.Value) any {
		online := nav.Get("onLine").Bool()
		ctx.Dispatch(func(app.Context) { w.online = online })
		return nil
	})
	js.Global().Call("addEventListener", "online", onLine)
	js.Global().Call("addEventListener", "offline", onLine)

	sw := nav.Get("serviceWorker")
	if !sw.Truthy() {
		return
	}
	var ready, stateChange js.Func
	check := func(active js.Value) {
		if active.Truthy() && active.Get("state").String() == "activated" {
			ctx.Dispatch(func(app.Context) { w.offlineReady = true })
			return
		}
		if active.Truthy() {
			active.Call("addEventListener", "statechange", stateChange)
		}
	}
	stateChange = js.FuncOf(func(this js.Value, _ []js.Value) any {
		check(this)
		return nil
	})
	// ready resolves once the registration has an active worker, which
	// may still be activating.
	ready = js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) > 0 {
			check(args[0].Get("active"))
		}
		return nil
	})
	sw.Get("ready").Call("then", ready)
	// The page lives as long as the app: the listeners are never removed
	// and the funcs never released.
}
