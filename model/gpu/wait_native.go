//go:build !js

package gpu

import (
	"sync/atomic"
	"time"

	webgpu "github.com/cogentcore/webgpu/wgpu"
)

// waitFirst is true natively: a batch that may run long is submitted and
// waited for by waitIdle before its readback is submitted (see
// Backend.submit). The reason is wgpu-native's blocking poll, which
// wgpu.Batch.SubmitRead waits with: it gives up after 5 s and then
// treats the submission as complete — it frees the command buffer and
// staging memory and maps the readback while the device still runs the
// work. On lavapipe a batch past 5 s (a 128-token prefill of a
// Phi-3-mini-sized layer, a vision pass) then corrupts memory and the
// process dies in the driver. The fix belongs in wgpu's mapRead (poll
// without blocking, as waitIdle does); until then the backend never lets
// SubmitRead wait on long work.
const waitFirst = true

// waitIdle blocks until the device has finished every submitted batch,
// polling wgpu-native without blocking (which reads the fence instead of
// waiting on it with a timeout) and sleeping in between, so lavapipe keeps
// the CPU cores it needs.
func (b *Backend) waitIdle() error {
	raw := b.d.Raw()
	if b.queue == nil {
		b.queue = raw.GetQueue()
	}
	var done atomic.Bool
	b.queue.OnSubmittedWorkDone(func(webgpu.QueueWorkDoneStatus) { done.Store(true) })
	nap := 20 * time.Microsecond
	for {
		raw.Poll(false, nil)
		if done.Load() {
			return nil
		}
		if err := b.d.Lost(); err != nil {
			return err
		}
		time.Sleep(nap)
		nap = min(2*nap, 2*time.Millisecond)
	}
}
