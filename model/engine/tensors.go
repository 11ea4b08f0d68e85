package engine

import (
	"sort"
	"strings"

	"ctlens/model"
	"ctlens/shaders"
	"ctlens/weights"
)

// IsMatrix reports whether the tensor called name (as model.LoadWeights
// names it) with shape is a weight matrix the model multiplies by, so a
// converter may quantize it: a ".weight" of two or more dimensions (a
// conv kernel counts, as (N, K…)), except
//   - the position embeddings, which are added, not multiplied, and which
//     the loader reads as plain values;
//   - the TGH-MoE routers (token routers, task router, text projection),
//     kept f32: their outputs feed argmax/top-k decisions, which
//     quantization noise would flip, and they are tiny.
func IsMatrix(name string, shape []int) bool {
	if len(shape) < 2 || !strings.HasSuffix(name, ".weight") {
		return false
	}
	for _, s := range []string{"position_embedding.weight", "mlp.router.weight", "task_router.weight", "text_proj.weight"} {
		if strings.HasSuffix(name, s) {
			return false
		}
	}
	return true
}

// Tensors turns a MapSource into weights.Tensors in name order: packed
// matrices (IsMatrix, or any quantized tensor) and plain f32 values.
func Tensors(src model.MapSource) []weights.Tensor {
	names := make([]string, 0, len(src))
	for n := range src {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []weights.Tensor
	for _, n := range names {
		t := src[n]
		if t.DType != shaders.F32 || IsMatrix(n, t.Shape) {
			rows := t.Shape[0]
			k := numel(t.Shape) / max(rows, 1)
			w := shaders.Weights{DType: t.DType, N: rows, K: k, Words: shaders.BytesU32(pad4(t.Data))}
			if t.DType.Scaled() {
				w.Scales = shaders.BytesU32(t.Scales)
			}
			out = append(out, weights.Matrix(n, w))
			continue
		}
		out = append(out, weights.Plain(n, t.Shape, shaders.BytesF32(t.Data)))
	}
	return out
}

// pad4 pads f16 data of an odd element count to whole u32 words.
func pad4(b []byte) []byte {
	if len(b)%4 == 0 {
		return b
	}
	return append(append([]byte(nil), b...), make([]byte, 4-len(b)%4)...)
}

func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}
