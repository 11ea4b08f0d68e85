package cpu

import (
	"strings"
	"testing"

	"ctlens/model"
	"ctlens/shaders"
)

// TestGPURulesEnforced: the CPU backend refuses what the GPU cannot do, so
// a forward pass that runs here is not refused there for these reasons,
// and the error is sticky until the next sync, as on the GPU.
func TestGPURulesEnforced(t *testing.T) {
	cases := []struct {
		name string
		run  func(b *Backend)
		want string
	}{
		{"layernorm in place", func(b *Backend) {
			x, w := b.Alloc("x", model.F32, 2, 4), b.Alloc("w", model.F32, 4)
			b.LayerNorm(x, x, w, w, shaders.LayerNormParams{Rows: 2, Cols: 4, Eps: 1e-5})
		}, `output "x" is also an input`},
		{"copy onto itself", func(b *Backend) {
			x := b.Alloc("x", model.F32, 8)
			b.Copy(x, 0, x, 4, 4)
		}, "also an input"},
		{"attention stride", func(b *Backend) {
			q, o := b.Alloc("q", model.F32, 2, 6), b.Alloc("o", model.F32, 2, 6)
			p := shaders.AttentionParams{T: 2, Tk: 2, H: 1, Hkv: 1, QStride: 6, KStride: 6, VStride: 6, OStride: 6, Scale: 1}
			b.Attention(o, q, q, q, shaders.AttentionVariant{Dh: 6}, p, 1)
		}, "multiples of 4"},
		{"matmul shape", func(b *Backend) {
			w, _ := shaders.Pack(shaders.F32, make([]float32, 12), 3, 4)
			y, x := b.Alloc("y", model.F32, 1, 3), b.Alloc("x", model.F32, 1, 4)
			b.MatMul(y, x, b.Upload("w", w), model.MatMulOpts{}, shaders.MatMulDims(1, 4, 3))
		}, "params say N=4 K=3"},
		{"use after free", func(b *Backend) {
			x := b.Alloc("x", model.F32, 4)
			b.Free(x)
			b.Write(x, 0, []float32{1})
		}, `"x" used after Free`},
		{"out of range", func(b *Backend) {
			x := b.Alloc("x", model.F32, 4)
			b.Write(x, 2, []float32{1, 2, 3})
		}, "out of range"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := New()
			tc.run(b)
			y := b.Alloc("y", model.F32, 4)
			b.Write(y, 0, []float32{1, 2, 3, 4}) // skipped after the error
			err := b.Sync()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("have %v, want an error with %q", err, tc.want)
			}
			if err := b.Sync(); err != nil {
				t.Errorf("error not cleared by Sync: %v", err)
			}
			if v, _ := b.Read(y, 0, 4); v[0] != 0 {
				t.Errorf("an op ran after the error: %v", v)
			}
		})
	}
}

// TestGatherFromActivation: the MoE row gather reads an f32 activation
// tensor as its table; ids past the table give zero rows.
func TestGatherFromActivation(t *testing.T) {
	b := New()
	x := b.Alloc("x", model.F32, 3, 2)
	b.Write(x, 0, []float32{1, 2, 3, 4, 5, 6})
	ids := b.Alloc("ids", model.U32, 4)
	b.WriteU32(ids, 0, []uint32{2, 0, 7, 1})
	y := b.Alloc("y", model.F32, 4, 2)
	b.Gather(y, ids, x, shaders.GatherParams{T: 4, C: 2, Rows: 3})
	have, err := b.Read(y, 0, 8)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{5, 6, 1, 2, 0, 0, 3, 4}
	for i := range want {
		if have[i] != want[i] {
			t.Fatalf("have %v, want %v", have, want)
		}
	}
}
