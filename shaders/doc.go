// Package shaders holds every WGSL compute kernel of ctlens, one Go
// descriptor per kernel (bindings, workgroup size, Params struct, named
// variants, dispatch grid, test cases) and, beside it, the Go reference of
// what the kernel computes.
//
// Each kernel is four files side by side:
//
//	rmsnorm.wgsl     the kernel; its header gives the maths, bindings and grid
//	rmsnorm.go       descriptor: variant, Params, Grid, Cases
//	rmsnorm_ref.go   the Go reference, f32 accumulation like the kernel
//	rmsnorm_test.go  the reference against a float64 oracle and edge cases
//
// One source of truth for every number: the Go Params struct is rendered
// into the WGSL as `struct Params` and constants (workgroup size, tile sizes,
// head dim) are injected as WGSL `const` declarations, because `override`
// is not available on every compiler we target (naga in wgpu-native).
//
// The package never allocates or dispatches: that is ctlens/wgpu. The parity
// harness that runs each Case on a device lives in shaders/parity.
//
// Shape letters used in comments: T tokens (rows), C channels, K reduction
// length, N output features, H heads, Hkv key/value heads, Dh head dim,
// D slices, E experts, V vocabulary.
//
// Weight dtypes (see quant.go): f32; f16 packed two per u32; int8 and int4
// symmetric with one f16 scale per group of 32 along K, dequantized inside
// the kernels. Activations and accumulation are f32 throughout.
package shaders
