// Package gpu is the GPU backend of model.Ops: every kernel method
// dispatches the WGSL kernel of its shaders family through ctlens/wgpu, so
// the forward pass written once in package model runs on the user's GPU
// (natively through wgpu-native, in the browser through navigator.gpu).
// model/cpu is its reference: the parity tests run both on the same tiny
// models and compare logits, greedy tokens and routing.
//
// How it follows ARCHITECTURE's GPU execution rules:
//
//   - Tensors are device buffers, allocated at load (weights, by Upload)
//     and by model.NewState (activations and the KV cache). A weight
//     matrix larger than the device's storage binding limit is stored as
//     row pieces within it, which MatMul and Gather run per piece
//     (pieces.go). The backend reports the limit (BindingLimit), and the
//     model lays its vision pass out to fit it: q, k, v in three buffers
//     and the MLP and experts in chunks of tokens when the fused buffers
//     would not fit (model/plan.go). A tower whose (tokens, Cv) stream
//     alone exceeds the limit, or a matrix whose single row does, is
//     refused by name.
//   - Every call is recorded into one open wgpu.Batch; the batch is
//     submitted by Read, ReadU32 or Sync. A decode step (Decode, then
//     SampleNext) is therefore one submit ending in one 4-byte readback.
//     A batch holding GEMM or flash attention (prefill, vision), whose
//     time grows with the input, is submitted and waited for first, and
//     its readback follows in a second submit: natively, wgpu-native's
//     blocking wait gives up after 5 s and then frees work still running
//     (wait_native.go).
//   - Pipelines are compiled on first use and cached per variant; Warm runs
//     the model's forward once in a dry mode that compiles exactly the
//     variants it picks, at load.
//   - A dispatch binds its buffers through a bind group and its Params
//     through a uniform buffer, both cached per (kernel variant, buffers).
//     When the same variant and buffers come back with other Params (the
//     positions of a decode step), the cached uniform buffer is rewritten
//     in place: a steady decode step allocates no GPU object.
//   - Host writes keep call order with recorded work (see Backend.Write).
//
// Errors are sticky, as in model/cpu: the first failure (a refusal, a
// wgpu validation error, a lost device, or a recovered panic) is kept, later
// calls do nothing, and the next Read, ReadU32 or Sync returns it.
//
// The backend refuses what the CPU backend refuses where the GPU would fail
// or silently compute something else: an output bound as an input, the
// kernels' Validate errors, dtype mismatches, out-of-range reads, writes
// and copies, and the extents of the matmul and elementwise operands.
//
// A Backend is used by one goroutine at a time, like the wgpu.Device it
// wraps.
package gpu
