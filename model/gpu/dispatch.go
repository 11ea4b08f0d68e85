package gpu

import (
	"bytes"
	"fmt"
	"strings"

	"ctlens/shaders"
	"ctlens/shaders/parity"
	"ctlens/wgpu"
)

// kernel is one compiled variant: the shaders descriptor (for its binding
// names) and its pipeline.
type kernel struct {
	k     shaders.Kernel
	p     *wgpu.Pipeline // nil until compiled
	class string         // the family, the part of the name before '/': the profile's row
}

// kernel returns the kernel under key (a comparable variant value),
// rendering it with build on first use and compiling its pipeline when it
// has none yet. A pipeline that fails to compile (a variant the device's
// compiler rejects) is a sticky error of the call, and the next call
// tries again.
func (b *Backend) kernel(key any, build func() shaders.Kernel) *kernel {
	k, ok := b.kernels[key]
	if !ok {
		sk := build()
		class, _, _ := strings.Cut(sk.Name, "/")
		k = &kernel{k: sk, class: class}
		b.kernels[key] = k
	}
	if k.p != nil {
		return k
	}
	if why := k.k.Unsupported(b.feats); why != "" {
		refuse("kernel %s %s", k.k.Name, why)
	}
	p, err := b.d.Pipeline(parity.Spec(k.k))
	check(err)
	b.stats.Pipelines++
	k.p = p
	return k
}

// Keys of the kernels that have no variant struct.
type nameKey string

const (
	keyLayerNorm nameKey = "layernorm"
	keySwiGLU    nameKey = "swiglu"
	keyPatchify  nameKey = "patchify"
	keyMerge     nameKey = "merge"
	keyKVAppend  nameKey = "kvappend"
	keyRoPE      nameKey = "rope"
	keyTaskRoute nameKey = "task_route"
	keyMoERoute  nameKey = "moe_route"
	keyMoEPlan   nameKey = "moe_plan"
)

// gatherKey and combineKey tell apart kernels keyed by a bare number or
// dtype.
type (
	gatherKey  shaders.DType
	combineKey int // attn_decode_combine's head dim
)

// bind names the buffer for one storage binding of a kernel; t, when set,
// is the tensor it belongs to (for messages).
type bind struct {
	name string
	buf  *buffer
	t    *tensor
}

// bt binds tensor t to the binding name; a nil tensor binds nothing.
func bt(name string, t *tensor) bind {
	if t == nil {
		return bind{name: name}
	}
	return bind{name: name, buf: t.buf, t: t}
}

// maxBindings bounds a kernel's storage bindings (gemv with scales, bias
// and segments has six).
const maxBindings = 8

// bindKey identifies a bind group: the kernel and the buffers in binding
// order. It is comparable and built without allocating.
type bindKey struct {
	k    *kernel
	bufs [maxBindings]uint64
}

func (k bindKey) binds(id uint64) bool {
	for _, b := range k.bufs {
		if b == id {
			return true
		}
	}
	return false
}

// slot is a uniform buffer holding one Params value and the bind group of
// a bindKey with it. A slot serves any number of dispatches of one batch
// that share its Params; between batches it is rewritten in place when
// its key comes back with other Params.
type slot struct {
	ubuf   *buffer
	group  *wgpu.BindGroup
	params []byte
	epoch  uint64 // the last batch that used it
}

// slotSet is the slots of one bindKey: as many as the most distinct Params
// one batch has used with it (a decode step: one per layer for KV append
// and attention, whose cache offsets differ; one for the rest).
type slotSet struct{ slots []*slot }

// acquire returns a slot of key holding params for the open batch,
// preferring, in order: one this batch already uses with the same Params;
// an idle one that already holds them (no write); an idle one, rewritten;
// a new one.
func (b *Backend) acquire(key bindKey, k *kernel, params []byte, binds []bind) *slot {
	set := b.slots[key]
	if set == nil {
		set = &slotSet{}
		b.slots[key] = set
	}
	var idle *slot
	for _, s := range set.slots {
		if s.epoch == b.epoch {
			if bytes.Equal(s.params, params) {
				return s
			}
			continue
		}
		if bytes.Equal(s.params, params) {
			s.epoch = b.epoch
			return s
		}
		if idle == nil {
			idle = s
		}
	}
	if idle != nil {
		// The slot is not used by the open batch, so a queue write now is
		// ordered after every batch that used it and before this one.
		check(idle.ubuf.raw.Write(0, params))
		b.stats.ParamWrites++
		idle.params = append(idle.params[:0], params...)
		idle.epoch = b.epoch
		return idle
	}
	s := b.newSlot(k, params, binds)
	set.slots = append(set.slots, s)
	return s
}

// newSlot makes a uniform buffer holding params and the bind group of k
// with it and the buffers of binds.
func (b *Backend) newSlot(k *kernel, params []byte, binds []bind) *slot {
	raw, err := b.d.Upload(k.k.Name+" params", params, wgpu.Uniform)
	check(err)
	b.stats.Buffers++
	b.nextID++
	u := &buffer{raw: raw, id: b.nextID}
	ranges := make([]wgpu.Range, 0, len(binds)+1)
	ranges = append(ranges, wgpu.Whole(raw))
	for _, bd := range binds {
		ranges = append(ranges, wgpu.Whole(bd.buf.raw))
	}
	g, err := b.d.Bind(k.p, ranges...)
	if err != nil {
		raw.Destroy()
		names := make([]string, len(binds))
		for i, bd := range binds {
			names[i] = bd.name
			if bd.t != nil {
				names[i] += "=" + bd.t.name
			}
		}
		panic(fmt.Errorf("binding %s: %w", strings.Join(names, ", "), err))
	}
	b.stats.BindGroups++
	return &slot{ubuf: u, group: g, params: append([]byte(nil), params...), epoch: b.epoch}
}

// dispatch records k over grid with params, its storage bindings resolved
// by name from binds (in the kernel's binding order, so that every variant
// of a family is called the same way). In Warm's dry mode it only makes
// sure k is compiled.
func (b *Backend) dispatch(k *kernel, params any, grid [3]uint32, binds ...bind) {
	if b.dry {
		return
	}
	kb := k.k.Bindings[1:]
	if len(kb) > maxBindings {
		refuse("kernel %s has %d storage bindings (the backend handles %d)", k.k.Name, len(kb), maxBindings)
	}
	var ordered [maxBindings]bind
	key := bindKey{k: k}
	for i, want := range kb {
		found := false
		for _, bd := range binds {
			if bd.name == want.Name && bd.buf != nil {
				ordered[i], found = bd, true
				break
			}
		}
		if !found {
			refuse("kernel %s: no tensor for binding %q", k.k.Name, want.Name)
		}
		key.bufs[i] = ordered[i].buf.id
	}
	s := b.acquire(key, k, shaders.ParamsBytes(params), ordered[:len(kb)])
	batch := b.open()
	batch.Dispatch(k.p, s.group, grid[0], grid[1], grid[2])
	for _, bd := range ordered[:len(kb)] {
		bd.buf.epoch = b.epoch
	}
	b.stats.Dispatches++
}
