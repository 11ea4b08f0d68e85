package gpu

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"ctlens/model"
	"ctlens/shaders"
	"ctlens/wgpu"
)

// Backend is the GPU implementation of model.Ops on one wgpu.Device.
type Backend struct {
	d     *wgpu.Device
	feats shaders.DeviceFeatures // what the device's compiler takes, for variant picks
	err   error                  // the sticky error

	// Recording. epoch numbers the open batch: a buffer whose epoch equals
	// it is referenced by recorded, unsubmitted work.
	batch    *wgpu.Batch
	timed    bool // the open batch records timestamps
	epoch    uint64
	unwaited bool      // a batch was submitted without waiting for it
	doomed   []*buffer // freed while the open batch used them: destroyed after its submit

	nextID    uint64
	kernels   map[any]*kernel
	slots     map[bindKey]*slotSet
	fence     *buffer            // 4 bytes Sync reads to wait for the queue
	arena     *buffer            // staging for host writes ordered behind recorded work
	arenaUsed uint64             // bytes of the arena the open batch uses
	parts     map[[2]int]*buffer // split-K decode partials per (H, Dh)

	// dry is Warm's mode: tensors are virtual, kernel calls only pick and
	// compile their variants.
	dry bool

	// splitMin is the context length (keys) from which decode attention
	// splits each head's keys over several workgroups of about splitKeys
	// keys (decodeSplitMin and decodeSplitKeys; tests lower them to drive
	// split-K through tiny models).
	splitMin, splitKeys int

	// limit, when nonzero, replaces the device's storage binding limit for
	// splitting uploaded weights into pieces (tests lower it to split tiny
	// tensors; see pieces.go).
	limit uint64
	// largestAlloc is the largest activation allocated, in bytes (tests
	// check it against a lowered limit).
	largestAlloc uint64
	// Bias sub-ranges per (bias buffer, piece) of pieced matmuls (pieces.go).
	biasParts map[biasKey]*buffer

	timing  bool
	stats   Stats
	profile Profile
}

var _ model.Ops = (*Backend)(nil)

// Decode attention runs one workgroup per head. With long contexts H
// workgroups leave most of a GPU idle while each walks thousands of keys,
// so from decodeSplitMin keys on each head's keys are spread over up to
// decodeMaxSplits workgroups of about decodeSplitKeys keys (split-K) and a
// second kernel merges their partial softmaxes. The partials buffer is
// sized for decodeMaxSplits once per (H, Dh), so a growing context never
// reallocates it.
const (
	decodeSplitKeys = 256
	decodeSplitMin  = 2 * decodeSplitKeys
	decodeMaxSplits = 32
)

// arenaBytes is the staging arena for ordered host writes (a Write after
// recorded work that uses the same tensor). The forward pass writes only
// token ids and pixels, normally into tensors the open batch does not use
// (a readback or Sync comes between requests), so staged writes are rare
// and small; a larger one submits the open batch first.
const arenaBytes = 1 << 20

// New returns a backend on d. It allocates only a 4-byte fence buffer;
// tensors come with Alloc and Upload.
func New(d *wgpu.Device) *Backend {
	f := d.Info().Features
	b := &Backend{
		d:         d,
		feats:     shaders.DeviceFeatures{Subgroups: f.SubgroupsUsable, PackedDot4: f.PackedDot4Usable, ShaderF16: f.ShaderF16Usable},
		epoch:     1,
		kernels:   map[any]*kernel{},
		slots:     map[bindKey]*slotSet{},
		parts:     map[[2]int]*buffer{},
		biasParts: map[biasKey]*buffer{},
		splitMin:  decodeSplitMin,
		splitKeys: decodeSplitKeys,
	}
	b.fence, b.err = b.newBuffer("gpu.fence", 4)
	return b
}

// Device is the device the backend runs on.
func (b *Backend) Device() *wgpu.Device { return b.d }

// Backend implements model.Ops: "gpu/" and the adapter's name.
func (b *Backend) Backend() string { return "gpu/" + b.d.Info().Adapter.Name }

// ---- tensors and buffers -----------------------------------------------------

// buffer is a device buffer with an identity for the bind-group cache.
type buffer struct {
	raw   *wgpu.Buffer
	id    uint64
	epoch uint64 // the batch that last bound or copied it
}

// tensor is a backend tensor: one buffer (f32, u32, or a weight's packed
// words) and, for int8/int4 weights, the scales.
type tensor struct {
	owner  *Backend
	name   string
	shape  []int
	dt     model.DType
	n      int // logical elements
	weight bool
	wdt    shaders.DType // the packing of an uploaded weight
	buf    *buffer       // nil while virtual (Warm) or after a refused allocation
	scale  *buffer
	freed  bool

	// pieces, for a weight matrix larger than the binding limit, are its
	// row pieces (buf and scale are then nil); see pieces.go.
	pieces []*piece
}

// Shape implements model.Tensor.
func (t *tensor) Shape() []int { return t.shape }

// DType implements model.Tensor.
func (t *tensor) DType() model.DType { return t.dt }

// newBuffer allocates a zeroed storage buffer of at least size bytes,
// rounded up to 16 so that kernels reading it as vec4 see every element.
func (b *Backend) newBuffer(label string, size uint64) (*buffer, error) {
	size = (max(size, 4) + 15) &^ 15
	raw, err := b.d.NewBuffer(label, size, wgpu.Storage)
	if err != nil {
		return nil, err
	}
	b.stats.Buffers++
	b.nextID++
	return &buffer{raw: raw, id: b.nextID}, nil
}

// fail records the first error; the open batch's work so far is submitted
// (it happened before the failing call, as on the CPU) and nothing runs
// until the error is reported.
func (b *Backend) fail(err error) {
	if b.err != nil {
		return
	}
	b.err = err
	if b.batch != nil {
		if _, serr := b.submit(nil, 0, 0); serr != nil {
			b.err = errors.Join(err, serr)
		}
	}
}

// failf records an error of op.
func (b *Backend) failf(op, format string, a ...any) {
	b.fail(fmt.Errorf("gpu: %s: %s", op, fmt.Sprintf(format, a...)))
}

// refusal is a panic value of the backend's own checks, turned into the
// sticky error by run.
type refusal string

// refuse aborts the current call with a message (recovered by run).
func refuse(format string, a ...any) { panic(refusal(fmt.Sprintf(format, a...))) }

// run executes one call; a refusal or any other panic inside it becomes
// the sticky error. After an error nothing runs until it is reported.
func (b *Backend) run(op string, f func()) {
	if b.err != nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				b.fail(fmt.Errorf("gpu: %s: %w", op, e))
				return
			}
			b.failf(op, "%v", r)
		}
	}()
	f()
}

// check turns a device error into a panic for run, keeping it wrapped.
func check(err error) {
	if err != nil {
		panic(err)
	}
}

// get unwraps a tensor of this backend; nil stays nil.
func (b *Backend) get(t model.Tensor) *tensor {
	if t == nil {
		return nil
	}
	gt, ok := t.(*tensor)
	if !ok || gt.owner != b {
		refuse("tensor of another backend (%T)", t)
	}
	if gt.freed {
		refuse("tensor %q used after Free", gt.name)
	}
	if gt.buf == nil && gt.pieces == nil && !b.dry {
		refuse("tensor %q has no device buffer (its allocation failed, or it was made by Warm)", gt.name)
	}
	return gt
}

// f32 unwraps an F32 tensor (an activation or an f32 weight, which biases
// and tables may be); nil stays nil.
func (b *Backend) f32(t model.Tensor) *tensor {
	gt := b.get(t)
	if gt != nil && gt.dt != model.F32 {
		refuse("tensor %q is %s, want f32", gt.name, gt.dt)
	}
	if gt != nil && gt.pieces != nil {
		refuse("weights %q are stored as %d row pieces (larger than the binding limit): only MatMul and Gather read them", gt.name, len(gt.pieces))
	}
	return gt
}

// u32 unwraps a U32 tensor; nil stays nil.
func (b *Backend) u32(t model.Tensor) *tensor {
	gt := b.get(t)
	if gt != nil && gt.dt != model.U32 {
		refuse("tensor %q is %s, want u32", gt.name, gt.dt)
	}
	return gt
}

// distinct refuses an output that is also an input: WebGPU cannot bind one
// buffer as read-only and writable storage in one dispatch.
func distinct(out *tensor, ins ...*tensor) {
	for _, in := range ins {
		if in != nil && in == out {
			refuse("output %q is also an input (not allowed for this op on the GPU)", out.name)
		}
	}
}

// need refuses a tensor with fewer than n elements: a kernel would read or
// write past it, which the GPU clamps silently where the CPU reference
// fails.
func need(t *tensor, n uint64, what string) {
	if t != nil && uint64(t.n) < n {
		refuse("%s %q has %d elements, the call needs %d", what, t.name, t.n, n)
	}
}

// span is the elements rows rows of width cols at a stride need.
func span(rows, stride, cols uint32) uint64 {
	if rows == 0 {
		return 0
	}
	return uint64(rows-1)*uint64(stride) + uint64(cols)
}

// ---- memory ------------------------------------------------------------------

// Alloc implements model.Ops. A tensor larger than the device's storage
// binding limit is refused with an error naming it (wrapping
// wgpu.ErrTooLarge): activations are not split (weights are; see Upload).
func (b *Backend) Alloc(name string, dt model.DType, shape ...int) model.Tensor {
	t := &tensor{owner: b, name: name, shape: slices.Clone(shape), dt: dt}
	// huge bounds the element count so that an absurd shape cannot
	// overflow: the binding limit refuses it below anyway.
	const huge = 1 << 40
	n := uint64(1)
	for _, s := range shape {
		if s < 0 {
			b.failf("Alloc", "tensor %q: negative dimension in %v", name, shape)
			return t
		}
		if s > 0 && n > huge/uint64(s) {
			n = huge
		} else {
			n *= uint64(s)
		}
	}
	if dt != model.F32 && dt != model.U32 {
		b.failf("Alloc", "tensor %q: %s is a weight type (use Upload)", name, dt)
		return t
	}
	t.n = int(n)
	if b.dry {
		return t
	}
	buf, err := b.newBuffer(name, 4*n)
	if err != nil {
		b.fail(fmt.Errorf("gpu: Alloc: tensor %q %s%v: %w (activations are not split into pieces)", name, dt, shape, err))
		return t
	}
	t.buf = buf
	b.largestAlloc = max(b.largestAlloc, 4*n)
	return t
}

// Upload implements model.Ops: the packed words in one buffer and, for
// int8/int4, the f16 scales in another. A matrix whose words exceed the
// binding limit is stored as row pieces, each within it (splitUpload); one
// whose single row (or aligned pair of rows) exceeds it is refused by name.
func (b *Backend) Upload(name string, w shaders.Weights) model.Tensor {
	t := &tensor{owner: b, name: name, shape: []int{w.N, w.K}, dt: model.DType(w.DType), n: w.N * w.K, weight: true, wdt: w.DType}
	if w.N < 0 || w.K < 0 || w.DType > shaders.Int4 || w.K%w.DType.KMultiple() != 0 {
		b.failf("Upload", "weights %q: %s %d×%d is not a valid packing", name, w.DType, w.N, w.K)
		return t
	}
	scaleWords := scaleWordsOf(w.DType, w.N, w.K)
	wordBytes := dataBytes(w.DType, w.N, w.K)
	if uint64(4*len(w.Words)) != wordBytes || len(w.Scales) != scaleWords {
		b.failf("Upload", "weights %q: %d words and %d scale words for %s %d×%d (want %d and %d)",
			name, len(w.Words), len(w.Scales), w.DType, w.N, w.K, wordBytes/4, scaleWords)
		return t
	}
	lim := b.bindLimit()
	if wordBytes > lim || uint64(4*scaleWords) > lim {
		b.splitUpload(t, w, lim)
		return t
	}
	if b.dry {
		return t
	}
	t.buf, t.scale = b.upWeights(name, w.DType, w.Words, w.Scales)
	return t
}

// upWeights uploads words and (scaled types) scales into new buffers; on
// failure it records the error and returns nils.
func (b *Backend) upWeights(name string, dt shaders.DType, words, scales []uint32) (*buffer, *buffer) {
	up := func(label string, words []uint32) *buffer {
		buf, err := b.newBuffer(label, uint64(4*len(words)))
		if err == nil {
			err = buf.raw.Write(0, wgpu.Bytes(words))
		}
		if err != nil {
			b.fail(fmt.Errorf("gpu: Upload: weights %q: %w", name, err))
			return nil
		}
		return buf
	}
	buf := up(name, words)
	if !dt.Scaled() || buf == nil {
		return buf, nil
	}
	scale := up(name+".scales", scales)
	if scale == nil {
		buf.raw.Destroy()
		return nil, nil
	}
	return buf, scale
}

// Write implements model.Ops. A write must land after the recorded work
// that precedes it in call order. WebGPU's queue writes run before the
// batch they precede is submitted, so when the open batch does not touch
// t, a direct queue write is indistinguishable from an ordered one and is
// used; when it does, the data goes through a staging arena and a copy
// recorded in the batch (ordered like a dispatch, and no extra submit). A
// write too large for the arena submits the open batch first.
func (b *Backend) Write(t model.Tensor, off int, v []float32) {
	b.run("Write", func() {
		gt := b.get(t)
		if gt.weight || gt.dt != model.F32 {
			refuse("tensor %q is not an f32 activation", gt.name)
		}
		b.write(gt, off, len(v), wgpu.Bytes(v))
	})
}

// WriteU32 implements model.Ops, ordered like Write.
func (b *Backend) WriteU32(t model.Tensor, off int, v []uint32) {
	b.run("WriteU32", func() {
		b.write(b.u32(t), off, len(v), wgpu.Bytes(v))
	})
}

func (b *Backend) write(t *tensor, off, n int, data []byte) {
	if off < 0 || off+n > t.n {
		refuse("write of %d values at %d into %q of %d: out of range", n, off, t.name, t.n)
	}
	if n == 0 || b.dry {
		return
	}
	b.stats.Writes++
	dst := uint64(4 * off)
	if t.buf.epoch != b.epoch || b.batch == nil {
		check(t.buf.raw.Write(dst, data))
		return
	}
	size := uint64(len(data))
	if size > arenaBytes-b.arenaUsed {
		// No room to stage it: submit what is recorded, then write.
		_, err := b.submit(nil, 0, 0)
		check(err)
		check(t.buf.raw.Write(dst, data))
		return
	}
	if b.arena == nil {
		var err error
		b.arena, err = b.newBuffer("gpu.write_arena", arenaBytes)
		check(err)
	}
	at := b.arenaUsed
	check(b.arena.raw.Write(at, data))
	b.arenaUsed += (size + 3) &^ 3
	b.stats.StagedWrites++
	b.copyBuf(b.arena, at, t.buf, dst, size)
}

// Read implements model.Ops: it submits the open batch with a copy of the
// range into a staging buffer and waits: one submit, one readback (two
// submits when the batch holds long work; see submit).
func (b *Backend) Read(t model.Tensor, off, n int) ([]float32, error) {
	var out []float32
	b.run("Read", func() {
		gt := b.f32(t)
		out = wgpu.FromBytes[float32](b.read(gt, off, n))
	})
	return out, b.report()
}

// ReadU32 implements model.Ops.
func (b *Backend) ReadU32(t model.Tensor, off, n int) ([]uint32, error) {
	var out []uint32
	b.run("ReadU32", func() {
		out = wgpu.FromBytes[uint32](b.read(b.u32(t), off, n))
	})
	return out, b.report()
}

func (b *Backend) read(t *tensor, off, n int) []byte {
	if off < 0 || n < 0 || off+n > t.n {
		refuse("read of %d values at %d from %q of %d: out of range", n, off, t.name, t.n)
	}
	if b.dry {
		return make([]byte, 4*n)
	}
	if n == 0 {
		return nil
	}
	raw, err := b.submit(t.buf, uint64(4*off), uint64(4*n))
	check(err)
	return raw
}

// Sync implements model.Ops: it submits the open batch and waits for all
// submitted work (a 4-byte fence readback, the only way WebGPU offers to
// wait), then reports and clears the sticky error. With nothing pending it
// costs nothing.
func (b *Backend) Sync() error {
	if b.err == nil && !b.dry && (b.batch != nil || b.unwaited) {
		if _, err := b.submit(b.fence, 0, 4); err != nil {
			b.fail(err)
		}
	}
	return b.report()
}

// report returns and clears the sticky error.
func (b *Backend) report() error {
	err := b.err
	b.err = nil
	return err
}

// Free implements model.Ops. The buffers are destroyed at once, or after
// the open batch's submit when it uses them; bind groups holding them are
// dropped from the cache.
func (b *Backend) Free(t model.Tensor) {
	b.run("Free", func() {
		gt := b.get(t)
		gt.freed = true
		b.release(gt.buf)
		b.release(gt.scale)
		for _, pc := range gt.pieces {
			b.release(pc.buf)
			b.release(pc.scale)
		}
		gt.buf, gt.scale, gt.pieces = nil, nil, nil
	})
}

// Copy implements model.Ops with a buffer-to-buffer copy in the open batch.
func (b *Backend) Copy(dst model.Tensor, dstOff int, src model.Tensor, srcOff, n int) {
	b.run("Copy", func() {
		d, s := b.get(dst), b.get(src)
		distinct(d, s)
		if d.weight {
			refuse("copy into weights %q", d.name)
		}
		if d.dt == model.U32 {
			b.u32(src)
		} else {
			b.f32(dst)
			b.f32(src)
		}
		if n < 0 || dstOff < 0 || srcOff < 0 || dstOff+n > d.n || srcOff+n > s.n {
			refuse("copy of %d values from %q[%d:] (%d) to %q[%d:] (%d): out of range", n, s.name, srcOff, s.n, d.name, dstOff, d.n)
		}
		if n == 0 || b.dry {
			return
		}
		b.copyBuf(s.buf, uint64(4*srcOff), d.buf, uint64(4*dstOff), uint64(4*n))
	})
}

// copyBuf records a copy in the open batch.
func (b *Backend) copyBuf(src *buffer, srcOff uint64, dst *buffer, dstOff, size uint64) {
	batch := b.open()
	batch.Copy(src.raw, srcOff, dst.raw, dstOff, size)
	src.epoch, dst.epoch = b.epoch, b.epoch
	b.stats.Copies++
}

// ---- batches -------------------------------------------------------------------

// open returns the open batch, starting one (timed when timing is on).
func (b *Backend) open() *wgpu.Batch {
	if b.batch == nil {
		b.batch = b.d.NewBatch(fmt.Sprintf("ctlens step %d", b.epoch))
		b.timed = b.timing && b.batch.EnableTiming()
	}
	return b.batch
}

// submit submits the open batch (starting an empty one if none is open);
// with read non-nil it also reads size bytes of it at off back and waits.
// A decode step is one SubmitRead: one submit, one readback, however long
// the batch runs (wgpu waits without wgpu-native's 5 s blocking-poll
// timeout). Afterwards nothing recorded is pending: the epoch
// advances, the arena is free again and buffers freed meanwhile are
// destroyed.
func (b *Backend) submit(read *buffer, off, size uint64) ([]byte, error) {
	bt := b.open()
	var raw []byte
	var err error
	ctx := context.Background()
	if read == nil {
		err = bt.Submit()
	} else {
		raw, err = bt.SubmitRead(ctx, read.raw, off, size)
	}
	if read != nil {
		b.stats.Readbacks++
		b.stats.ReadBytes += int64(size)
	}
	b.stats.Submits++
	b.profile.Batches++
	b.profile.Dispatches += bt.Len()
	b.batch = nil
	b.epoch++
	b.arenaUsed = 0
	for _, d := range b.doomed {
		d.raw.Destroy()
	}
	b.doomed = b.doomed[:0]
	if err != nil {
		return nil, err
	}
	b.unwaited = read == nil
	if b.timed {
		// Timings waits for this batch's timestamps, so a timed batch is
		// waited for even without a readback.
		ts, terr := bt.Timings(ctx)
		if terr != nil {
			return raw, terr
		}
		b.profile.add(ts)
		b.unwaited = false
	}
	return raw, nil
}

// release destroys buf (after the open batch when that uses it) and drops
// every cached bind group that binds it.
func (b *Backend) release(buf *buffer) {
	if buf == nil {
		return
	}
	for key, part := range b.biasParts {
		if key.bias == buf.id {
			delete(b.biasParts, key)
			b.release(part)
		}
	}
	for key, set := range b.slots {
		if !key.binds(buf.id) {
			continue
		}
		for _, s := range set.slots {
			if s.epoch == b.epoch && b.batch != nil {
				b.doomed = append(b.doomed, s.ubuf)
			} else {
				s.ubuf.raw.Destroy()
			}
		}
		delete(b.slots, key)
	}
	if buf.epoch == b.epoch && b.batch != nil {
		b.doomed = append(b.doomed, buf)
		return
	}
	buf.raw.Destroy()
}
