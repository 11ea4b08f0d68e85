//go:build !js

package wgpu

import (
	"context"
	"encoding/binary"
	"fmt"

	webgpu "github.com/cogentcore/webgpu/wgpu"
)

// timer holds one batch's timestamp queries. Natively wgpu-native accepts
// timestamps written on the encoder between compute passes.
type timer struct {
	qs       *webgpu.QuerySet
	resolve_ *webgpu.Buffer
	staging  *webgpu.Buffer
	count    int
}

func (d *Device) newTimer(n int) (*timer, error) {
	t := &timer{count: n}
	var e1, e2, e3 error
	err := d.scope("timestamp queries", func() {
		t.qs, e1 = d.raw.CreateQuerySet(&webgpu.QuerySetDescriptor{Label: "timing", Type: webgpu.QueryTypeTimestamp, Count: uint32(n)})
		t.resolve_, e2 = d.raw.CreateBuffer(&webgpu.BufferDescriptor{Label: "timing resolve", Size: uint64(n * 8), Usage: webgpu.BufferUsageQueryResolve | webgpu.BufferUsageCopySrc})
		t.staging, e3 = d.raw.CreateBuffer(&webgpu.BufferDescriptor{Label: "timing staging", Size: uint64(n * 8), Usage: webgpu.BufferUsageMapRead | webgpu.BufferUsageCopyDst})
	})
	for _, e := range []error{e1, e2, e3} {
		if err == nil {
			err = e
		}
	}
	return t, err
}

// begin writes timestamp i on the encoder and opens the dispatch's pass.
func (t *timer) begin(enc *webgpu.CommandEncoder, i int) *webgpu.ComputePassEncoder {
	enc.WriteTimestamp(t.qs, uint32(i))
	return enc.BeginComputePass(nil)
}

// end writes timestamp i after the pass has ended.
func (t *timer) end(enc *webgpu.CommandEncoder, i int) { enc.WriteTimestamp(t.qs, uint32(i)) }

func (t *timer) resolve(enc *webgpu.CommandEncoder, n int) {
	if n == 0 {
		return
	}
	enc.ResolveQuerySet(t.qs, 0, uint32(n), t.resolve_, 0)
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
	t.qs.Release()
	t.resolve_.Destroy()
	t.staging.Destroy()
	return out, nil
}
