// Package model is the 3D medical vision-language model of ctlens (arXiv
// 2604.10233): a Phi-3-Vision-style 2D MLLM — CLIP ViT, 2×2 merge, GELU
// projector, Phi-3/Llama decoder — transferred to CT volumes (D slices,
// 3D attention with a slice rotary in the upper vision layers) with a
// text-guided hierarchical mixture of experts (TGH-MoE) in the vision FFNs.
//
// The forward pass is written once, against the Ops interface (ops.go),
// like llama2.c's forward(): model/cpu implements Ops with the Go
// references of the shaders kernels (the reference backend), and the GPU
// backend dispatches the kernels themselves. Three things are kept apart:
//
//	Config   the blueprint, plain JSON-serialisable data (config.go)
//	Weights  the parameters as backend tensors, one field per HF tensor (weights.go)
//	State    every activation buffer and the KV cache of a request, allocated
//	         once by NewState (state.go); no forward call allocates
//
// Order of work for one request (generate.go): tokenize the prompt → text
// pool → task router (RouteText) → vision tower with token routers, merge,
// projector (EncodeVision) → decoder prefill (Prefill) → decode steps
// (Decode + SampleNext, one readback each) → detokenize. Routing decisions
// come back as values (Routing).
//
// The package never reads files or the network: it is handed weights
// (a Source) and token ids (a Tokenizer).
//
// Shape letters used in comments:
//
//	D   slices of the volume (1 for a 2D image); D' = D / depth_pool
//	S   tokens per slice in the vision tower (class token + patches)
//	Cin input channels; p the patch size; H, W the slice's pixels
//	Cv  vision width; Fv vision MLP width; Hv vision heads, Dv = Cv/Hv
//	Tm  merged tokens per slice ((grid/2)²); Tv visual tokens in the prompt
//	T   rows of one forward call (prompt tokens, or 1 when decoding)
//	C   decoder width; F its MLP width; H heads, Hkv key/value heads, Dh head dim
//	L   decoder layers; V vocabulary
//	G   task groups (3); Eg experts per group; E = G·Eg; K experts per token
//	Dt  width of the projected text pool the token routers see
package model
