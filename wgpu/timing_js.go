//go:build js && wasm

package wgpu

import (
	"context"
	"encoding/binary"
	"fmt"
	"syscall/js"

	webgpu "github.com/cogentcore/webgpu/wgpu"
)

// timer holds one batch's timestamp queries. WebGPU in the browser has no
// encoder.writeTimestamp; timestamps are written by a compute pass's
// timestampWrites, which cogentcore's js ComputePassDescriptor cannot
// carry. So the timer opens each timed pass itself on the encoder's JS
// object (jsValueOf) and hands back a cogentcore wrapper around it.
//
// Chromium quantizes timestamps (to 100 µs unless its WebGPU developer
// features are on), so short dispatches may time as 0.
type timer struct {
	qs       js.Value
	resolve_ *webgpu.Buffer
	staging  *webgpu.Buffer
	count    int
}

func (d *Device) newTimer(n int) (*timer, error) {
	t := &timer{count: n}
	var e2, e3 error
	err := d.scope("timestamp queries", func() {
		t.qs = d.plat.device.Call("createQuerySet", map[string]any{"label": "timing", "type": "timestamp", "count": n})
		t.resolve_, e2 = d.raw.CreateBuffer(&webgpu.BufferDescriptor{Label: "timing resolve", Size: uint64(n * 8), Usage: webgpu.BufferUsageQueryResolve | webgpu.BufferUsageCopySrc})
		t.staging, e3 = d.raw.CreateBuffer(&webgpu.BufferDescriptor{Label: "timing staging", Size: uint64(n * 8), Usage: webgpu.BufferUsageMapRead | webgpu.BufferUsageCopyDst})
	})
	for _, e := range []error{e2, e3} {
		if err == nil {
			err = e
		}
	}
	if err == nil && !t.qs.Truthy() {
		err = fmt.Errorf("wgpu: createQuerySet returned nothing")
	}
	return t, err
}

// begin opens a compute pass that writes timestamps i (start) and i+1
// (end) of the query set.
func (t *timer) begin(enc *webgpu.CommandEncoder, i int) *webgpu.ComputePassEncoder {
	pass := jsValueOf(enc).Call("beginComputePass", map[string]any{
		"timestampWrites": map[string]any{
			"querySet":                  t.qs,
			"beginningOfPassWriteIndex": i,
			"endOfPassWriteIndex":       i + 1,
		},
	})
	return wrapJS[webgpu.ComputePassEncoder](pass)
}

// end does nothing: the pass wrote its own end timestamp (index i).
func (t *timer) end(enc *webgpu.CommandEncoder, i int) {}

func (t *timer) resolve(enc *webgpu.CommandEncoder, n int) {
	if n == 0 {
		return
	}
	jsValueOf(enc).Call("resolveQuerySet", t.qs, 0, n, jsValueOf(t.resolve_), 0)
	enc.CopyBufferToBuffer(t.resolve_, 0, t.staging, 0, uint64(n*8))
}

func (t *timer) read(ctx context.Context, d *Device, n int) ([]uint64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	raw, err := d.mapRead(t.staging, uint64(n*8), "timestamps")
	if err != nil {
		return nil, fmt.Errorf("wgpu: timings: %w", err)
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint64(raw[8*i:])
	}
	t.qs.Call("destroy")
	t.resolve_.Destroy()
	t.staging.Destroy()
	return out, nil
}
