//go:build !js

package wgpu_test

import (
	"context"
	"fmt"

	"ctlens/wgpu"
)

// A kernel is WGSL plus the kind of each binding; a batch records its
// dispatches and reads the result back once.
func Example() {
	ctx := context.Background()
	d, err := wgpu.Open(ctx, wgpu.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	p, err := d.Pipeline(wgpu.PipelineSpec{
		Name: "example/square",
		Source: `@group(0) @binding(0) var<storage, read_write> v: array<f32>;
@compute @workgroup_size(4)
fn main(@builtin(global_invocation_id) g: vec3<u32>) { v[g.x] = v[g.x] * v[g.x]; }`,
		Entry:    "main",
		Bindings: []wgpu.BindingKind{wgpu.ReadWrite},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	v, _ := d.Upload("v", wgpu.Bytes([]float32{1, 2, 3, 4}), wgpu.Storage)
	g, _ := d.Bind(p, wgpu.Whole(v))
	b := d.NewBatch("example")
	b.Dispatch(p, g, 1, 1, 1)
	b.Dispatch(p, g, 1, 1, 1) // one encoder, one submit, two dispatches
	out, err := b.SubmitRead(ctx, v, 0, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(wgpu.FromBytes[float32](out))
	// Output: [1 16 81 256]
}
