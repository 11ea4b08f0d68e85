// Package weights owns ctlens' weight files: the safetensors container
// (read and write, Hugging Face compatible), our quantized matrices stored
// as ordinary safetensors tensors, the model directory with its manifest of
// sha256-checked shards, streaming load with byte progress, a cache of
// shards over hackpadfs (IndexedDB in the browser), and reading HF
// checkpoints for tools/convert. It never runs a model: it hands bytes to
// whoever uploads them.
//
// # Units and shapes
//
// Sizes are bytes. A matrix is N rows of K (N outputs, K the reduction
// length, row-major), packed exactly as shaders.Weights; rows always run
// along dimension 0, which is the dimension tensors are split along.
//
// # Quantized matrices in safetensors
//
// The GPU layouts (bits per element, the group of 32 sharing an f16 scale,
// the range of q) are shaders' table in shaders/quant.go. Here each type
// only gets a container, so that a shard's bytes are uploaded as they are:
//
//	type   tensors                       safetensors dtype and shape          metadata "ctlens.quant.W"
//	f32    W                             F32 [N, K]                           "f32:N,K"
//	f16    W                             F16 [N, K] (= shaders' packed words) "f16:N,K"
//	int8   W.q, W.scale                  U32 [N, K/4], U32 [⌈N·K/64⌉]         "int8:g32:N,K"
//	int4   W.q, W.scale                  U32 [N, K/8], U32 [⌈N·K/64⌉]         "int4:g32:N,K"
//
// f16 is stored as an F16 tensor rather than U32 words because the two are
// byte-identical (element k in the low half of a word when k is even) and
// F16 keeps the matrix readable by any safetensors tool. Scales are U32
// words of two f16 (group g in half g%2 of word g/2). A tensor without a
// "ctlens.quant." key is a plain tensor (norms, biases, position
// embeddings), stored F32 and handed out as float32 values.
//
// # Split tensors
//
// A tensor whose stored size exceeds the shard limit (64 MiB) or the
// binding limit is cut along rows into parts stored as W.part0, W.part1, …
// (each a matrix or plain tensor of its own, so W.part1.q, W.part1.scale
// for int4), with metadata "ctlens.rows.W.part1" = "r0:r1/N". Part
// boundaries are multiples of Layout.RowAlign, so every part's scales start
// on a word: parts concatenate into the whole tensor's buffers exactly, at
// Layout.Offsets. Loading can cut pieces further for a device's
// maxStorageBufferBindingSize (LoadOptions.MaxBindingBytes, SplitRows).
//
// # Model directory
//
//	manifest.json                          Manifest: format, version, model, parameters, vram, config, tokenizer, shards, tensors
//	model-00001-of-0000N.safetensors       shards, each ≤ MaxShardBytes, with "ctlens.format" metadata
//	tokenizer.json                         the HF tokenizer, sha256 in the manifest
//
// The manifest lists every tensor with its layout and parts, so sizes,
// VRAM and binding splits are known before any shard is fetched, and the
// loader checks each shard's contents against it.
package weights
