package weights

import "ctlens/shaders"

// Dims are the model sizes the VRAM estimate needs beyond the weights,
// passed as plain numbers (weights/ does not know model/'s config). Zero
// fields contribute nothing.
type Dims struct {
	// LLM decoder.
	Layers       int // decoder layers
	Heads        int // query heads; 0 means Hidden/HeadDim
	KVHeads      int // key/value heads (grouped-query attention)
	HeadDim      int // Dh
	Hidden       int // C
	Intermediate int // the SwiGLU width
	Vocab        int // V
	MaxTokens    int // the KV cache's length, prompt and image tokens included

	// Vision encoder over the whole volume.
	VisionTokens       int // D × tokens per slice: the longest sequence the 3D layers see
	VisionHidden       int // Cv
	VisionIntermediate int // Iv, the MLP width
}

// VRAM is an estimate of GPU memory in bytes.
type VRAM struct {
	Weights     int64 `json:"weights"`     // every tensor's buffers
	KVCache     int64 `json:"kv_cache"`    // K and V, f32
	Activations int64 `json:"activations"` // f32 buffers of the forward pass
	Total       int64 `json:"total"`       // the sum
}

// EstimateVRAM adds up the weight buffers of layouts, the f32 KV cache
// (K and V, every layer, MaxTokens rows of KVHeads·HeadDim) and the f32
// activation buffers a forward pass keeps allocated, assuming, as the GPU
// backend does, that every buffer is allocated once at load and stays:
//
//	LLM:    MaxTokens × (3·C + (H + 2·Hkv)·Dh + 3·I) + V   (residual, norm, attention out, fused qkv, gate/up, SwiGLU, last logits)
//	vision: VisionTokens × (6·Cv + Iv)                     (residual, norm, attention out, fused qkv, MLP hidden)
//
// Attention is tiled (flash style), so no T×T score buffer is counted.
// It is an estimate for a "will it fit" check before loading, not an
// allocator: drivers add alignment and their own overhead.
func EstimateVRAM(layouts []Layout, d Dims) VRAM {
	var v VRAM
	for _, l := range layouts {
		v.Weights += l.Bytes()
	}
	v.KVCache = 2 * int64(d.Layers) * int64(d.MaxTokens) * int64(d.KVHeads) * int64(d.HeadDim) * 4
	heads := d.Heads
	if heads == 0 && d.HeadDim > 0 {
		heads = d.Hidden / d.HeadDim
	}
	llm := int64(d.MaxTokens)*int64(3*d.Hidden+(heads+2*d.KVHeads)*d.HeadDim+3*d.Intermediate) + int64(d.Vocab)
	vision := int64(d.VisionTokens) * int64(6*d.VisionHidden+d.VisionIntermediate)
	v.Activations = (llm + vision) * 4
	v.Total = v.Weights + v.KVCache + v.Activations
	return v
}

// As returns the layout with a matrix retyped to dt, or unchanged for a
// plain tensor or a K that dt cannot hold (such a matrix would stay as it
// is in a real conversion too).
func (l Layout) As(dt shaders.DType) Layout {
	if !l.Matrix || l.k()%dt.KMultiple() != 0 {
		return l
	}
	l.DType = dt
	return l
}

// estimates fills Manifest.VRAM: as stored, and with every matrix retyped
// to each GPU weight type.
func estimates(layouts []Layout, d Dims) map[string]VRAM {
	out := map[string]VRAM{"stored": EstimateVRAM(layouts, d)}
	for _, dt := range shaders.DTypes() {
		as := make([]Layout, len(layouts))
		for i, l := range layouts {
			as[i] = l.As(dt)
		}
		out[dt.String()] = EstimateVRAM(as, d)
	}
	return out
}
