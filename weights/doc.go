// Package weights will own the weight file format: safetensors plus
// ctlens' quantized types (the in-kernel layouts are shaders.Pack's), the
// manifest of shards with sha256, streaming load with byte progress, and
// the HF checkpoint reading used by tools/convert (issue #4). It runs
// nothing.
package weights
