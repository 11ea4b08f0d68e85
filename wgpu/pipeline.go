package wgpu

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	webgpu "github.com/cogentcore/webgpu/wgpu"
)

// BindingKind is how a kernel binds one buffer; binding i of group 0 is the
// i-th entry of PipelineSpec.Bindings.
type BindingKind uint8

const (
	// UniformBinding is a uniform buffer (the kernel's Params).
	UniformBinding BindingKind = iota
	// ReadOnly is a read-only storage buffer.
	ReadOnly
	// ReadWrite is a read-write storage buffer.
	ReadWrite
)

// PipelineSpec is everything needed to build a compute pipeline: the WGSL
// source with its constants already injected, its entry point and the kind
// of each binding. The browser build lacks GetBindGroupLayout, so layouts are
// always explicit.
type PipelineSpec struct {
	Name     string // variant name used in errors and profiles, e.g. "rmsnorm/f32/wg256"
	Source   string
	Entry    string
	Bindings []BindingKind
	// NeedsSubgroups marks browser-only variants that use WGSL subgroup
	// built-ins; they are refused on devices without usable subgroups.
	NeedsSubgroups bool
	// NeedsPackedDot4 marks variants that use dot4I8Packed / pack4xI8;
	// they are refused where Features.PackedDot4Usable is false.
	NeedsPackedDot4 bool
}

// Key identifies a spec in the pipeline cache: two specs with the same
// source, entry and bindings share one pipeline.
func (s PipelineSpec) Key() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%v", s.Source, s.Entry, s.Bindings)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Pipeline is a compiled compute pipeline with its bind-group layout.
type Pipeline struct {
	spec   PipelineSpec
	raw    *webgpu.ComputePipeline
	layout *webgpu.BindGroupLayout
}

// Name is the spec's variant name.
func (p *Pipeline) Name() string { return p.spec.Name }

// Pipeline compiles spec, or returns the cached pipeline for an identical
// spec. Compilation errors carry the variant name and the driver's message.
func (d *Device) Pipeline(spec PipelineSpec) (*Pipeline, error) {
	if spec.NeedsSubgroups && !d.info.Features.SubgroupsUsable {
		return nil, fmt.Errorf("wgpu: pipeline %q needs WGSL subgroups, which %s does not offer", spec.Name, d.info.Adapter.Name)
	}
	if spec.NeedsPackedDot4 && !d.info.Features.PackedDot4Usable {
		return nil, fmt.Errorf("wgpu: pipeline %q needs WGSL packed_4x8_integer_dot_product, which the shader compiler for %s lacks", spec.Name, d.info.Adapter.Name)
	}
	if n := storageCount(spec.Bindings); n > d.info.Limits.MaxStorageBuffersPerShaderStage {
		return nil, fmt.Errorf("wgpu: pipeline %q binds %d storage buffers; the device allows %d", spec.Name, n, d.info.Limits.MaxStorageBuffersPerShaderStage)
	}
	key := spec.Key()
	d.mu.Lock()
	p, ok := d.pipelines[key]
	d.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := d.buildPipeline(spec)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.pipelines[key] = p
	d.mu.Unlock()
	return p, nil
}

func storageCount(b []BindingKind) uint32 {
	n := uint32(0)
	for _, k := range b {
		if k != UniformBinding {
			n++
		}
	}
	return n
}

func (d *Device) buildPipeline(spec PipelineSpec) (*Pipeline, error) {
	entries := make([]webgpu.BindGroupLayoutEntry, len(spec.Bindings))
	for i, k := range spec.Bindings {
		t := webgpu.BufferBindingTypeUniform
		switch k {
		case ReadOnly:
			t = webgpu.BufferBindingTypeReadOnlyStorage
		case ReadWrite:
			t = webgpu.BufferBindingTypeStorage
		}
		entries[i] = webgpu.BindGroupLayoutEntry{
			Binding:    uint32(i),
			Visibility: webgpu.ShaderStageCompute,
			Buffer:     webgpu.BufferBindingLayout{Type: t},
		}
	}
	p := &Pipeline{spec: spec}
	var cerr error
	op := fmt.Sprintf("pipeline %q", spec.Name)
	err := d.scope(op, func() {
		var mod *webgpu.ShaderModule
		mod, cerr = d.raw.CreateShaderModule(&webgpu.ShaderModuleDescriptor{
			Label:          spec.Name,
			WGSLDescriptor: &webgpu.ShaderModuleWGSLDescriptor{Code: spec.Source},
		})
		if cerr != nil {
			return
		}
		defer mod.Release()
		p.layout, cerr = d.raw.CreateBindGroupLayout(&webgpu.BindGroupLayoutDescriptor{Label: spec.Name, Entries: entries})
		if cerr != nil {
			return
		}
		var pl *webgpu.PipelineLayout
		pl, cerr = d.raw.CreatePipelineLayout(&webgpu.PipelineLayoutDescriptor{Label: spec.Name, BindGroupLayouts: []*webgpu.BindGroupLayout{p.layout}})
		if cerr != nil {
			return
		}
		defer pl.Release()
		p.raw, cerr = d.createComputePipeline(spec.Name, pl, webgpu.ProgrammableStageDescriptor{Module: mod, EntryPoint: spec.Entry})
	})
	if err == nil && cerr != nil {
		err = fmt.Errorf("wgpu: %s: %w", op, cerr)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Range binds part of a buffer; a zero Size means "to the end".
type Range struct {
	Buf    *Buffer
	Offset uint64
	Size   uint64
}

// Whole binds all of b.
func Whole(b *Buffer) Range { return Range{Buf: b} }

// BindGroup binds buffers to p's bindings in order. Build bind groups once
// (at load) and reuse them: buffers are never reallocated per step.
type BindGroup struct {
	raw *webgpu.BindGroup
	p   *Pipeline
}

// Bind creates a bind group for p. Every range is checked against the
// binding limits and the kind p expects.
func (d *Device) Bind(p *Pipeline, ranges ...Range) (*BindGroup, error) {
	if len(ranges) != len(p.spec.Bindings) {
		return nil, fmt.Errorf("wgpu: bind %q: %d buffers for %d bindings", p.spec.Name, len(ranges), len(p.spec.Bindings))
	}
	entries := make([]webgpu.BindGroupEntry, len(ranges))
	for i, r := range ranges {
		if r.Buf == nil || r.Buf.raw == nil {
			return nil, fmt.Errorf("wgpu: bind %q: binding %d: nil or destroyed buffer", p.spec.Name, i)
		}
		if (p.spec.Bindings[i] == UniformBinding) != (r.Buf.usage == Uniform) {
			return nil, fmt.Errorf("wgpu: bind %q: binding %d: buffer %q has the wrong usage", p.spec.Name, i, r.Buf.label)
		}
		size := r.Size
		if size == 0 {
			size = r.Buf.size - r.Offset
		}
		if r.Offset+size > r.Buf.size {
			return nil, fmt.Errorf("wgpu: bind %q: binding %d: range %d+%d exceeds buffer %q (%d bytes)", p.spec.Name, i, r.Offset, size, r.Buf.label, r.Buf.size)
		}
		entries[i] = webgpu.BindGroupEntry{Binding: uint32(i), Buffer: r.Buf.raw, Offset: r.Offset, Size: size}
	}
	var bg *webgpu.BindGroup
	var cerr error
	op := fmt.Sprintf("bind group for %q", p.spec.Name)
	err := d.scope(op, func() {
		bg, cerr = d.raw.CreateBindGroup(&webgpu.BindGroupDescriptor{Label: p.spec.Name, Layout: p.layout, Entries: entries})
	})
	if err == nil && cerr != nil {
		err = fmt.Errorf("wgpu: %s: %w", op, cerr)
	}
	if err != nil {
		return nil, err
	}
	return &BindGroup{raw: bg, p: p}, nil
}
