package wgpu

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	webgpu "github.com/cogentcore/webgpu/wgpu"
)

// Options tune how Open picks and configures a device.
type Options struct {
	// HighPerformance asks for the discrete adapter where there are several.
	HighPerformance bool
	// OnLost is called once, from any goroutine, when the device is lost.
	OnLost func(reason string)
}

// Device is an open WebGPU device with ctlens' helpers. It is safe for use
// by one goroutine at a time; the pipeline cache alone is locked.
type Device struct {
	raw   *webgpu.Device
	queue *webgpu.Queue
	info  Info
	plat  platform

	lost     atomic.Pointer[string]
	onLost   func(string)
	lostOnce sync.Once

	mu        sync.Mutex
	pipelines map[string]*Pipeline

	// staging is the kept readback buffer (see Device.stagingFor).
	staging     *webgpu.Buffer
	stagingSize uint64

	// live counts the bytes of the Buffers made and not yet destroyed.
	live atomic.Int64
}

// LiveBytes is the size of every Buffer made on d and not yet destroyed
// (the readback staging buffer aside): what callers hold on the GPU, so
// that a test can see a buffer that is dropped without Destroy.
func (d *Device) LiveBytes() int64 { return d.live.Load() }

// Info reports the adapter, granted features and limits.
func (d *Device) Info() Info { return d.info }

// Raw exposes the underlying cogentcore/webgpu device for render code that
// needs more than compute (the viewer). Compute code should not need it.
func (d *Device) Raw() *webgpu.Device { return d.raw }

// Lost reports the loss reason, or nil while the device is usable.
func (d *Device) Lost() error {
	if r := d.lost.Load(); r != nil {
		return fmt.Errorf("%w: %s", ErrDeviceLost, *r)
	}
	return nil
}

func (d *Device) markLost(reason string) {
	d.lostOnce.Do(func() {
		d.lost.Store(&reason)
		if d.onLost != nil {
			d.onLost(reason)
		}
	})
}

// Close releases the device. Buffers and pipelines made from it become invalid.
func (d *Device) Close() {
	d.mu.Lock()
	d.pipelines = nil
	d.mu.Unlock()
	if d.staging != nil {
		d.staging.Destroy()
		d.staging = nil
	}
	d.closePlatform()
}

// Open requests an adapter and a device with the adapter's real limits and
// every useful optional feature it offers (shader-f16, subgroups,
// timestamp-query). In the browser it must not run on the UI goroutine: it
// waits on promises.
func Open(ctx context.Context, opt Options) (*Device, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d, err := openPlatform(opt)
	if err != nil {
		return nil, err
	}
	d.onLost = opt.OnLost
	d.pipelines = map[string]*Pipeline{}
	d.queue = d.raw.GetQueue()
	return d, nil
}
