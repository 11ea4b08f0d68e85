//go:build js && wasm

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"syscall/js"
	"time"

	"ctlens/wgpu"
)

// checkDeviceLost opens a second device, destroys its GPUDevice behind the
// runtime's back (as a driver reset would lose it) and checks that
// Options.OnLost fires, Lost reports ErrDeviceLost and later calls fail
// with it; and that a plain Close is not reported as a loss. The GPUDevice
// is caught by wrapping GPUAdapter.prototype.requestDevice for the one
// Open; ctlens/wgpu exposes no JS handle.
func checkDeviceLost(ctx context.Context, _ *wgpu.Device) (string, error) {
	restore := js.Global().Get("Function").New(`
		const proto = GPUAdapter.prototype, orig = proto.requestDevice;
		proto.requestDevice = async function (...args) {
			const dev = await orig.apply(this, args);
			globalThis.ctlensLastDevice = dev;
			return dev;
		};
		return () => { proto.requestDevice = orig; delete globalThis.ctlensLastDevice; };
	`).Invoke()
	lost := make(chan string, 1)
	d2, err := wgpu.Open(ctx, wgpu.Options{OnLost: func(r string) { lost <- r }})
	jsDev := js.Global().Get("ctlensLastDevice")
	restore.Invoke()
	if err != nil {
		return "", err
	}
	defer d2.Close()
	if !jsDev.Truthy() {
		return "", errors.New("could not catch the GPUDevice that Open requested")
	}
	jsDev.Call("destroy")
	var reason string
	select {
	case reason = <-lost:
	case <-time.After(10 * time.Second):
		return "", errors.New("OnLost was not called within 10 s of GPUDevice.destroy()")
	}
	if err := d2.Lost(); !errors.Is(err, wgpu.ErrDeviceLost) {
		return "", fmt.Errorf("after the loss Lost() = %v, want ErrDeviceLost", err)
	}
	if _, err := d2.NewBuffer("after loss", 16, wgpu.Storage); !errors.Is(err, wgpu.ErrDeviceLost) {
		return "", fmt.Errorf("NewBuffer after the loss: err = %v, want ErrDeviceLost", err)
	}

	// Close destroys the device too; that is not a loss.
	closedLost := make(chan string, 1)
	d3, err := wgpu.Open(ctx, wgpu.Options{OnLost: func(r string) { closedLost <- r }})
	if err != nil {
		return "", err
	}
	d3.Close()
	select {
	case r := <-closedLost:
		return "", fmt.Errorf("Close reported a device loss: %s", r)
	case <-time.After(500 * time.Millisecond):
	}
	return "OnLost: " + reason, nil
}

// checkRealLimits compares every limit the device reports with the
// adapter's: Open must have requested the adapter's real limits, not the
// WebGPU defaults a plain requestDevice gets.
func checkRealLimits(_ context.Context, d *wgpu.Device) (string, error) {
	ad, err := awaitJS(js.Global().Get("navigator").Get("gpu").Call("requestAdapter", map[string]any{"powerPreference": "high-performance"}))
	if err != nil || !ad.Truthy() {
		return "", fmt.Errorf("requestAdapter: %v", err)
	}
	b, err := json.Marshal(d.Info().Limits)
	if err != nil {
		return "", err
	}
	var have map[string]float64
	if err := json.Unmarshal(b, &have); err != nil {
		return "", err
	}
	adLim := ad.Get("limits")
	if len(have) < 10 {
		return "", fmt.Errorf("only %d limits reported", len(have))
	}
	var diffs []string
	for k, v := range have {
		name := camel(k)
		a := adLim.Get(name)
		if a.Type() != js.TypeNumber {
			diffs = append(diffs, name+": the adapter does not report it")
			continue
		}
		if a.Float() != v {
			diffs = append(diffs, fmt.Sprintf("%s: device %v, adapter %v", name, v, a.Float()))
		}
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		return "", fmt.Errorf("device limits are not the adapter's:\n%s", strings.Join(diffs, "\n"))
	}
	return fmt.Sprintf("%d limits equal the adapter's (maxStorageBufferBindingSize %.0f, maxBufferSize %.0f)", len(have), have["max_storage_buffer_binding_size"], have["max_buffer_size"]), nil
}

// camel turns a snake_case JSON name into the WebGPU limit's name.
func camel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// awaitJS waits for a promise (off the UI goroutine, as ctlens/wgpu does).
func awaitJS(p js.Value) (js.Value, error) {
	type settled struct {
		v   js.Value
		err error
	}
	ch := make(chan settled, 1)
	ok := js.FuncOf(func(_ js.Value, a []js.Value) any { ch <- settled{v: a[0]}; return nil })
	fail := js.FuncOf(func(_ js.Value, a []js.Value) any {
		ch <- settled{err: errors.New(a[0].Call("toString").String())}
		return nil
	})
	defer ok.Release()
	defer fail.Release()
	p.Call("then", ok, fail)
	s := <-ch
	return s.v, s.err
}
