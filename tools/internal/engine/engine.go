// Package engine is what the command-line tools share to run the model:
// opening a ctlens model directory (manifest, shards, tokenizer) or a
// Hugging Face checkpoint directory as a model.Source, the tensors a
// config reads, and the few config keys the tools read beside
// model.Config. It holds no model code (that is ctlens/model) and no
// backend (tools/internal/backend).
package engine

import "strings"

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
