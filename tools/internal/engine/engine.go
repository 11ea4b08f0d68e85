// Package engine is what the command-line tools share to run the model:
// opening a ctlens model directory (manifest, shards, tokenizer) or a
// Hugging Face checkpoint directory as a model.Source, the tensors a
// config reads, and the few config keys the tools read beside
// model.Config. It holds no model code (that is ctlens/model) and no
// backend (tools/internal/backend).
package engine

import mengine "ctlens/model/engine"

// IsMatrix is model/engine's: whether a converter may quantize the
// tensor.
func IsMatrix(name string, shape []int) bool { return mengine.IsMatrix(name, shape) }
