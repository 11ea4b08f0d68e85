//go:build !js

package gpu

import (
	"context"
	"strings"
	"testing"

	"ctlens/model"
	"ctlens/model/cpu"
	"ctlens/shaders"
)

// TestRefusalsMatchCPU: what the CPU backend refuses, the GPU backend
// refuses with the same words (so a forward pass that runs on one is not
// refused by the other), the error is sticky until reported, and nothing
// runs in between.
func TestRefusalsMatchCPU(t *testing.T) {
	cases := []struct {
		name string
		run  func(o model.Ops)
		want string
	}{
		{"layernorm in place", func(o model.Ops) {
			x, w := o.Alloc("x", model.F32, 2, 4), o.Alloc("w", model.F32, 4)
			o.LayerNorm(x, x, w, w, shaders.LayerNormParams{Rows: 2, Cols: 4, Eps: 1e-5})
		}, `output "x" is also an input`},
		{"matmul into its input", func(o model.Ops) {
			w, _ := shaders.Pack(shaders.F32, make([]float32, 16), 4, 4)
			x := o.Alloc("x", model.F32, 1, 4)
			o.MatMul(x, x, o.Upload("w", w), model.MatMulOpts{}, shaders.MatMulDims(1, 4, 4))
		}, "also an input"},
		{"copy onto itself", func(o model.Ops) {
			x := o.Alloc("x", model.F32, 8)
			o.Copy(x, 0, x, 4, 4)
		}, "also an input"},
		{"attention stride", func(o model.Ops) {
			q, out := o.Alloc("q", model.F32, 2, 6), o.Alloc("o", model.F32, 2, 6)
			p := shaders.AttentionParams{T: 2, Tk: 2, H: 1, Hkv: 1, QStride: 6, KStride: 6, VStride: 6, OStride: 6, Scale: 1}
			o.Attention(out, q, q, q, shaders.AttentionVariant{Dh: 6}, p, 1)
		}, "multiples of 4"},
		{"matmul shape", func(o model.Ops) {
			w, _ := shaders.Pack(shaders.F32, make([]float32, 12), 3, 4)
			y, x := o.Alloc("y", model.F32, 1, 3), o.Alloc("x", model.F32, 1, 4)
			o.MatMul(y, x, o.Upload("w", w), model.MatMulOpts{}, shaders.MatMulDims(1, 4, 3))
		}, "params say N=4 K=3"},
		{"int4 K", func(o model.Ops) {
			w, _ := shaders.Pack(shaders.Int4, make([]float32, 64), 2, 32)
			y, x := o.Alloc("y", model.F32, 1, 2), o.Alloc("x", model.F32, 1, 32)
			p := shaders.MatMulDims(1, 2, 32)
			p.K = 16
			o.MatMul(y, x, o.Upload("w", w), model.MatMulOpts{}, p)
		}, "params say"},
		{"rope rot dim", func(o model.Ops) {
			x, f := o.Alloc("x", model.F32, 2, 8), o.Alloc("f", model.F32, 4)
			o.RoPE(x, f, shaders.RoPEParams{Rows: 2, RowStride: 8, NHeads: 1, HeadDim: 8, RotDim: 7, PosDiv: 1, MScale: 1})
		}, "even rot_dim"},
		{"moe k", func(o model.Ops) {
			ids, g, p, l, task := o.Alloc("ids", model.U32, 2, 3), o.Alloc("g", model.F32, 2, 3), o.Alloc("p", model.F32, 2, 2), o.Alloc("l", model.F32, 2, 6), o.Alloc("t", model.U32, 1)
			o.MoERoute(ids, g, p, l, task, shaders.MoERouteParams{Tokens: 2, Groups: 3, Experts: 2, K: 3})
		}, "moe_route: k"},
		{"u32 as f32", func(o model.Ops) {
			ids := o.Alloc("ids", model.U32, 4)
			o.Write(ids, 0, []float32{1})
		}, "not an f32 activation"},
		{"use after free", func(o model.Ops) {
			x := o.Alloc("x", model.F32, 4)
			o.Free(x)
			o.Write(x, 0, []float32{1})
		}, `"x" used after Free`},
		{"out of range", func(o model.Ops) {
			x := o.Alloc("x", model.F32, 4)
			o.Write(x, 2, []float32{1, 2, 3})
		}, "out of range"},
		{"tensor of another backend", func(o model.Ops) {
			other := model.Ops(cpu.New())
			if _, ok := o.(*cpu.Backend); ok {
				other = New(device(t))
			}
			o.Write(other.Alloc("x", model.F32, 4), 0, []float32{1})
		}, "tensor of another backend"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, o := range []model.Ops{cpu.New(), New(device(t))} {
				tc.run(o)
				y := o.Alloc("y", model.F32, 4)
				o.Write(y, 0, []float32{1, 2, 3, 4}) // skipped: an error is pending
				err := o.Sync()
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("%s: have %v, want an error with %q", o.Backend(), err, tc.want)
				}
				if err := o.Sync(); err != nil {
					t.Errorf("%s: error not cleared by Sync: %v", o.Backend(), err)
				}
				if v, err := o.Read(y, 0, 4); err != nil || v[0] != 0 {
					t.Errorf("%s: an op ran after the error: %v %v", o.Backend(), v, err)
				}
			}
		})
	}
}

// TestDeviceErrorFromGenerate: an error the device reports in the middle
// of a generation comes back from Generate as an error, not a panic, and
// names the kernel. The device's compiler
// rejecting a kernel is the error injected: it is a real validation error
// of wgpu-native, reported through the same path as any other (bind
// groups, submits, a lost device: every wgpu call returns its error, and
// the backend keeps it until the next Read or Sync).
func TestDeviceErrorFromGenerate(t *testing.T) {
	cfg := tinyConfig(t, "gqa-tied-rope-moe-2d")
	src, err := model.RandomWeights(cfg, 5, shaders.F16)
	if err != nil {
		t.Fatal(err)
	}
	b := New(device(t))
	m, err := model.New(b, cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	// A SwiGLU kernel whose WGSL does not compile, in place of the real one
	// (not yet compiled: no Warm).
	broken := shaders.SwiGLU()
	broken.Name = "swiglu/broken"
	broken.Source = strings.Replace(broken.Source, "fn main", "fn main(", 1)
	b.kernels[keySwiGLU] = &kernel{k: broken, class: "swiglu"}

	ids := chatPrompt(t, cfg, "Is there a lesion?")
	s := newState(t, m, 96)
	var res *model.Result
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("Generate panicked: %v", r)
			}
		}()
		res, err = m.Generate(context.Background(), s, model.Request{Prompt: ids, Pixels: volume(cfg, 1)}, model.GenerateOptions{MaxTokens: 4})
	}()
	// wgpu-native reports shader errors from CreateShaderModule itself
	// (cogentcore's error, wrapped by ctlens/wgpu) rather than through an
	// error scope, hence the words rather than a *wgpu.Error.
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "validation") || !strings.Contains(err.Error(), "swiglu/broken") {
		t.Fatalf("Generate: %v, want a wgpu validation error naming the kernel", err)
	}
	if res == nil || len(res.Tokens) != 0 {
		t.Errorf("result %+v, want the routing but no tokens", res)
	}
	t.Logf("Generate: %v", err)

	// Repaired, the same backend and state generate again.
	delete(b.kernels, keySwiGLU)
	if _, err := m.Generate(context.Background(), s, model.Request{Prompt: ids, Pixels: volume(cfg, 1)}, model.GenerateOptions{MaxTokens: 4}); err != nil {
		t.Fatalf("after the error: %v", err)
	}
}

// TestFreedWeightFromGenerate: a tensor freed under the model makes
// Generate return the backend's refusal naming it.
func TestFreedWeightFromGenerate(t *testing.T) {
	cfg := tinyConfig(t, "mha-tied-rope-dense-2d")
	tw := loadTwins(t, cfg, 6, shaders.Int4)
	tw.gb.Free(tw.gpu.W.LLM.Layers[1].Down)
	_, err := tw.gpu.Generate(context.Background(), newState(t, tw.gpu, 96),
		model.Request{Prompt: chatPrompt(t, cfg, "Hi"), Pixels: volume(cfg, 2)}, model.GenerateOptions{MaxTokens: 2})
	if err == nil || !strings.Contains(err.Error(), "used after Free") || !strings.Contains(err.Error(), "down_proj") {
		t.Fatalf("Generate with a freed weight: %v", err)
	}
}
