package weights_test

import (
	"context"
	"fmt"
	"os"

	"ctlens/shaders"
	"ctlens/weights"
)

// A model directory is written from packed matrices and plain tensors,
// then streamed back piece by piece, with the binding limit of a device
// cutting the larger matrix in two.
func Example() {
	dir, _ := os.MkdirTemp("", "ctlens-example")
	defer os.RemoveAll(dir)

	values := make([]float32, 64*256)
	for i := range values {
		values[i] = float32(i%17) / 17
	}
	w, _ := shaders.Pack(shaders.Int4, values, 64, 256)
	tensors := []weights.Tensor{
		weights.Matrix("mlp.down_proj.weight", w),
		weights.Plain("norm.weight", []int{256}, values[:256]),
	}
	m, err := weights.WriteModel(dir, tensors, []byte(`{"hidden_size":256}`), nil, weights.WriteOptions{Model: "tiny"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %d parameters in %d shard(s)\n", m.Model, m.Parameters, len(m.Shards))

	opts := weights.LoadOptions{MaxBindingBytes: 4096}
	err = weights.Load(context.Background(), m, weights.FSOpener(os.DirFS(dir)), opts, func(p weights.Piece) error {
		fmt.Printf("%s %s rows [%d, %d): %d + %d bytes\n", p.Name, p.Layout, p.Row0, p.Row1, len(p.Data), len(p.Scales))
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// tiny: 16640 parameters in 1 shard(s)
	// mlp.down_proj.weight int4[64 256] rows [0, 32): 4096 + 512 bytes
	// mlp.down_proj.weight int4[64 256] rows [32, 64): 4096 + 512 bytes
	// norm.weight f32[256] rows [0, 256): 1024 + 0 bytes
}
