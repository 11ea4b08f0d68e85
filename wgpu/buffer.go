package wgpu

import (
	"context"
	"fmt"
	"unsafe"

	webgpu "github.com/cogentcore/webgpu/wgpu"
)

// Usage says how a buffer will be bound.
type Usage uint8

const (
	// Storage buffers are bound read-only or read-write by kernels, and can be
	// written from the CPU and copied out for readback.
	Storage Usage = iota
	// Uniform buffers hold a kernel's small Params struct.
	Uniform
)

// Buffer is a GPU buffer of a fixed size.
type Buffer struct {
	d     *Device
	raw   *webgpu.Buffer
	size  uint64
	label string
	usage Usage
}

// Size is the buffer's size in bytes (padded to a multiple of 4).
func (b *Buffer) Size() uint64 { return b.size }

// Label is the name given at creation; errors use it.
func (b *Buffer) Label() string { return b.label }

// Destroy frees the GPU memory now instead of waiting for the collector.
func (b *Buffer) Destroy() {
	if b.raw != nil {
		b.raw.Destroy()
		b.raw = nil
		b.d.live.Add(-int64(b.size))
	}
}

// NewBuffer allocates a zeroed buffer. Storage buffers larger than the
// device's binding limit are refused up front with ErrTooLarge, so no kernel
// can meet one it could not bind; callers split big tensors instead.
func (d *Device) NewBuffer(label string, size uint64, u Usage) (*Buffer, error) {
	if size == 0 {
		size = 4
	}
	size = (size + 3) &^ 3
	lim := d.info.Limits
	bindMax := lim.MaxStorageBufferBindingSize
	usage := webgpu.BufferUsageStorage | webgpu.BufferUsageCopyDst | webgpu.BufferUsageCopySrc
	if u == Uniform {
		bindMax = lim.MaxUniformBufferBindingSize
		usage = webgpu.BufferUsageUniform | webgpu.BufferUsageCopyDst
		size = (size + 15) &^ 15
	}
	if size > bindMax || size > lim.MaxBufferSize {
		return nil, fmt.Errorf("%w: buffer %q: %d bytes > binding limit %d", ErrTooLarge, label, size, min(bindMax, lim.MaxBufferSize))
	}
	var raw *webgpu.Buffer
	var cerr error
	err := d.scope(fmt.Sprintf("buffer %q (%d bytes)", label, size), func() {
		raw, cerr = d.raw.CreateBuffer(&webgpu.BufferDescriptor{Label: label, Size: size, Usage: usage})
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	d.live.Add(int64(size))
	return &Buffer{d: d, raw: raw, size: size, label: label, usage: u}, nil
}

// Upload allocates a buffer holding data.
func (d *Device) Upload(label string, data []byte, u Usage) (*Buffer, error) {
	b, err := d.NewBuffer(label, uint64(len(data)), u)
	if err != nil {
		return nil, err
	}
	if err := b.Write(0, data); err != nil {
		b.Destroy()
		return nil, err
	}
	return b, nil
}

// Write copies data into the buffer at byte offset off through the queue;
// it is ordered before any batch submitted afterwards. Lengths that are not a
// multiple of 4 are zero-padded, as WebGPU requires.
func (b *Buffer) Write(off uint64, data []byte) error {
	if len(data)%4 != 0 {
		p := make([]byte, (len(data)+3)&^3)
		copy(p, data)
		data = p
	}
	if off%4 != 0 || off+uint64(len(data)) > b.size {
		return fmt.Errorf("wgpu: write %d bytes at %d into buffer %q of %d bytes: out of range or unaligned", len(data), off, b.label, b.size)
	}
	if len(data) == 0 {
		return nil
	}
	var werr error
	err := b.d.scope(fmt.Sprintf("write buffer %q", b.label), func() {
		werr = b.d.writeBuffer(b.raw, off, data)
	})
	if err == nil {
		err = werr
	}
	return err
}

// Read copies size bytes at off back to the CPU. It submits its own small
// batch; to read the result of a batch use Batch.SubmitRead, which needs only
// one submit.
func (b *Buffer) Read(ctx context.Context, off, size uint64) ([]byte, error) {
	bt := b.d.NewBatch("read " + b.label)
	return bt.SubmitRead(ctx, b, off, size)
}

// Bytes views a slice of 4-byte numbers as bytes without copying.
func Bytes[T ~float32 | ~uint32 | ~int32](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*4)
}

// FromBytes copies bytes into a new slice of 4-byte numbers.
func FromBytes[T ~float32 | ~uint32 | ~int32](b []byte) []T {
	out := make([]T, len(b)/4)
	copy(Bytes(out), b)
	return out
}
