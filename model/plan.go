package model

import "fmt"

// BindingLimiter is a backend whose kernels bind a buffer only up to a
// size (the GPU's maxStorageBufferBindingSize: 128 MiB by default, 2–4 GiB
// on large adapters). The vision pass is then laid out to fit it; a
// backend without a limit (the CPU) runs every row at once.
type BindingLimiter interface {
	BindingLimit() uint64
}

// visionPlan is how the vision pass fits the backend's binding limit.
// A full-size 3D pass is large: Phi-3-V's tower at D = 32 slices has
// 18,464 tokens, so the fused q, k, v (tokens, 3Cv) take 227 MB and the
// MLP hidden (tokens, Fv) 302 MB (with top-2 experts, 605 MB).
type visionPlan struct {
	// splitQKV keeps q, k and v in three (tokens, Cv) buffers, filled by
	// three matrices, instead of one fused (tokens, 3Cv) buffer.
	splitQKV bool
	// chunk is the rows one MLP/MoE pass takes (0: all of them): the MLP
	// hidden and the experts' scratch hold only chunk rows, the rows
	// copied in and out of the residual stream around them.
	chunk int
}

// planVision lays the vision pass out for ops. It refuses a tower whose
// (tokens, Cv) residual stream alone exceeds the limit: attention needs
// every token's q, k and v bound at once.
func planVision(cfg Config, ops Ops) (visionPlan, error) {
	lim, ok := ops.(BindingLimiter)
	if !ok || !cfg.HasVision() {
		return visionPlan{}, nil
	}
	limit := lim.BindingLimit()
	v := cfg.Vision
	vt, cv, fv := uint64(cfg.Slices()*v.Tokens()), uint64(v.HiddenSize), uint64(v.Intermediate)
	k := uint64(1)
	if cfg.HasMoE() {
		k = uint64(max(cfg.MoE.TopK, 1))
	}
	if vt*cv*4 > limit {
		return visionPlan{}, fmt.Errorf("model: the vision pass of %d tokens × %d (%d MB per activation) exceeds the backend's binding limit of %d MB; use fewer slices (transfer_3d.slices) or an adapter with a larger limit",
			vt, cv, vt*cv*4>>20, limit>>20)
	}
	var p visionPlan
	p.splitQKV = vt*3*cv*4 > limit
	// The widest row-scaled buffer: the MLP hidden, or the experts' hidden
	// and outputs for K rows per token.
	widest := max(fv, k*fv, k*cv)
	if vt*widest*4 > limit {
		p.chunk = int(limit / (4 * widest))
		if p.chunk < 1 {
			return visionPlan{}, fmt.Errorf("model: one vision token's MLP row (%d values) exceeds the backend's binding limit of %d bytes", widest, limit)
		}
	}
	return p, nil
}
