package wgpu

import (
	"context"
	"fmt"
	"time"

	webgpu "github.com/cogentcore/webgpu/wgpu"
)

// maxTimedDispatches bounds the timestamp query set of one batch.
const maxTimedDispatches = 2048

// Batch records dispatches and copies into one command encoder that is
// submitted once. A model's decode step is one Batch ending in SubmitRead of
// the sampled token id.
type Batch struct {
	d     *Device
	label string
	enc   *webgpu.CommandEncoder
	err   error
	n     int

	timer  *timer // nil unless EnableTiming succeeded
	labels []string
}

// DispatchTime is the GPU time one dispatch took, from timestamp queries.
type DispatchTime struct {
	Name string
	Dur  time.Duration
}

// NewBatch starts recording. Errors while recording are kept and returned by
// the submit call, so callers check once.
func (d *Device) NewBatch(label string) *Batch {
	b := &Batch{d: d, label: label}
	if err := d.Lost(); err != nil {
		b.err = err
		return b
	}
	var cerr error
	b.err = d.scope(fmt.Sprintf("batch %q: encoder", label), func() {
		b.enc, cerr = d.raw.CreateCommandEncoder(&webgpu.CommandEncoderDescriptor{Label: label})
	})
	if b.err == nil {
		b.err = cerr
	}
	return b
}

// EnableTiming makes the batch record a GPU timestamp pair around every
// dispatch. It reports false (and records nothing) on devices without
// timestamp queries.
func (b *Batch) EnableTiming() bool {
	if b.err != nil || !b.d.info.Features.TimestampQuery || b.n > 0 {
		return false
	}
	t, err := b.d.newTimer(maxTimedDispatches * 2)
	if err != nil {
		return false
	}
	b.timer = t
	return true
}

// Len is the number of dispatches recorded.
func (b *Batch) Len() int { return b.n }

// Dispatch records one compute dispatch of p with bind group g over
// x·y·z workgroups.
func (b *Batch) Dispatch(p *Pipeline, g *BindGroup, x, y, z uint32) {
	if b.err != nil {
		return
	}
	if g.p != p {
		b.err = fmt.Errorf("wgpu: batch %q: bind group made for %q used with %q", b.label, g.p.spec.Name, p.spec.Name)
		return
	}
	lim := b.d.info.Limits.MaxComputeWorkgroupsPerDimension
	if x == 0 || y == 0 || z == 0 {
		return // nothing to do; WebGPU accepts it but profiles stay cleaner
	}
	if x > lim || y > lim || z > lim {
		b.err = fmt.Errorf("wgpu: batch %q: %q dispatch %d×%d×%d exceeds %d workgroups per dimension", b.label, p.spec.Name, x, y, z, lim)
		return
	}
	timed := b.timer != nil && b.n < maxTimedDispatches
	var pass *webgpu.ComputePassEncoder
	if timed {
		// The timer opens the pass: in the browser the timestamps are the
		// pass's own timestampWrites.
		pass = b.timer.begin(b.enc, 2*b.n)
	} else {
		pass = b.enc.BeginComputePass(nil)
	}
	pass.SetPipeline(p.raw)
	pass.SetBindGroup(0, g.raw, nil)
	pass.DispatchWorkgroups(x, y, z)
	pass.End()
	pass.Release()
	if timed {
		b.timer.end(b.enc, 2*b.n+1)
		b.labels = append(b.labels, p.spec.Name)
	}
	b.n++
}

// Copy records a buffer-to-buffer copy (sizes and offsets multiples of 4).
func (b *Batch) Copy(src *Buffer, srcOff uint64, dst *Buffer, dstOff, size uint64) {
	if b.err != nil {
		return
	}
	if srcOff+size > src.size || dstOff+size > dst.size || size%4 != 0 {
		b.err = fmt.Errorf("wgpu: batch %q: copy %d bytes %q@%d → %q@%d out of range", b.label, size, src.label, srcOff, dst.label, dstOff)
		return
	}
	b.enc.CopyBufferToBuffer(src.raw, srcOff, dst.raw, dstOff, size)
}

// Submit finishes the encoder and submits it without waiting.
func (b *Batch) Submit() error {
	_, err := b.submit(nil, 0, 0)
	return err
}

// SubmitRead copies size bytes of src at off into a staging buffer in the
// same submission, waits, and returns them: the batch's one readback.
func (b *Batch) SubmitRead(ctx context.Context, src *Buffer, off, size uint64) ([]byte, error) {
	if size == 0 {
		size = src.size - off
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return b.submit(src, off, size)
}

// Timings returns the GPU time of each dispatch of a submitted, timed batch.
// It waits for the results.
func (b *Batch) Timings(ctx context.Context) ([]DispatchTime, error) {
	if b.timer == nil {
		return nil, fmt.Errorf("wgpu: batch %q was not timed", b.label)
	}
	ticks, err := b.timer.read(ctx, b.d, 2*len(b.labels))
	if err != nil {
		return nil, err
	}
	out := make([]DispatchTime, len(b.labels))
	for i, name := range b.labels {
		out[i] = DispatchTime{Name: name, Dur: time.Duration(ticks[2*i+1] - ticks[2*i])}
	}
	return out, nil
}

func (b *Batch) submit(src *Buffer, off, size uint64) ([]byte, error) {
	if b.err != nil {
		return nil, b.err
	}
	if b.enc == nil {
		return nil, fmt.Errorf("wgpu: batch %q submitted twice", b.label)
	}
	var staging *webgpu.Buffer
	if src != nil {
		if off%4 != 0 || size%4 != 0 || off+size > src.size {
			return nil, fmt.Errorf("wgpu: batch %q: read %d bytes at %d of %q (%d bytes): out of range or unaligned", b.label, size, off, src.label, src.size)
		}
		var keep bool
		var err error
		staging, keep, err = b.d.stagingFor(size)
		if err != nil {
			return nil, err
		}
		if !keep {
			defer staging.Destroy()
		}
		b.enc.CopyBufferToBuffer(src.raw, off, staging, 0, size)
	}
	if b.timer != nil {
		b.timer.resolve(b.enc, 2*len(b.labels))
	}
	var cmd *webgpu.CommandBuffer
	var ferr error
	err := b.d.scope(fmt.Sprintf("batch %q (%d dispatches)", b.label, b.n), func() {
		cmd, ferr = b.enc.Finish(nil)
		if ferr != nil {
			return
		}
		b.d.queue.Submit(cmd)
	})
	b.enc.Release()
	b.enc = nil
	if err == nil && ferr != nil {
		err = fmt.Errorf("wgpu: batch %q: %w", b.label, ferr)
	}
	if cmd != nil {
		cmd.Release()
	}
	if err != nil {
		return nil, err
	}
	if staging == nil {
		return nil, nil
	}
	return b.d.mapRead(staging, size, src.label)
}

// keptStaging is the largest readback whose staging buffer the device keeps
// for the next one: a decode step's 4-byte token id, logits rows and the
// like then allocate nothing; rare big reads get a buffer of their own.
const keptStaging = 1 << 20

// stagingFor returns a map-readable buffer of at least size bytes, and
// whether it is the device's kept one (not to be destroyed by the caller).
func (d *Device) stagingFor(size uint64) (*webgpu.Buffer, bool, error) {
	keep := size <= keptStaging
	if keep && d.staging != nil && d.stagingSize >= size {
		return d.staging, true, nil
	}
	alloc := size
	if keep {
		alloc = max(size, 4096)
	}
	var buf *webgpu.Buffer
	var cerr error
	err := d.scope("staging buffer", func() {
		buf, cerr = d.raw.CreateBuffer(&webgpu.BufferDescriptor{Label: "staging", Size: alloc, Usage: webgpu.BufferUsageMapRead | webgpu.BufferUsageCopyDst})
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		return nil, false, err
	}
	if keep {
		if d.staging != nil {
			d.staging.Destroy()
		}
		d.staging, d.stagingSize = buf, alloc
	}
	return buf, keep, nil
}
