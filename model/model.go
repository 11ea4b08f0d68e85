package model

import (
	"fmt"

	"ctlens/shaders"
)

// Model is a loaded model: its config, its weights resident on a backend,
// and the constant tables the forward pass binds (rotary frequencies).
// It holds no per-request state (that is State), so one Model serves
// several States.
type Model struct {
	Cfg Config
	W   *Weights
	ops Ops

	ropeShort Tensor // (RotDim/2) decoder inverse frequencies (LongRoPE's short factors, or plain)
	ropeLong  Tensor // (RotDim/2) LongRoPE's long factors; nil without LongRoPE
	ropeSlice Tensor // (slice rot dim/2) the vision slice rotary; nil when off
	vplan     visionPlan
}

// New loads the weights from src onto ops and prepares the tables.
func New(ops Ops, cfg Config, src Source) (*Model, error) {
	w, err := LoadWeights(ops, cfg, src)
	if err != nil {
		return nil, err
	}
	m := &Model{Cfg: cfg, W: w, ops: ops}
	m.vplan, _ = planVision(cfg, ops) // LoadWeights refused what cannot be planned
	lc := cfg.LLM
	var short, long []float32
	if s := lc.RoPEScaling; s != nil {
		short, long = s.ShortFactor, s.LongFactor
	}
	if cfg.HasLLM() {
		m.ropeShort = m.table("llm.rope.short", shaders.RoPEInvFreq(lc.RoPETheta, lc.RotDim(), short))
	}
	if cfg.HasLLM() && lc.LongRoPE() {
		m.ropeLong = m.table("llm.rope.long", shaders.RoPEInvFreq(lc.RoPETheta, lc.RotDim(), long))
	}
	if t := cfg.Transfer3D; t.Enabled && t.SliceRoPE {
		m.ropeSlice = m.table("vision.rope.slice", shaders.RoPEInvFreq(t.RoPETheta, m.sliceRotDim(), nil))
	}
	if err := ops.Sync(); err != nil {
		return nil, fmt.Errorf("model: uploading weights to %s: %w", ops.Backend(), err)
	}
	return m, nil
}

// Ops is the backend the model runs on.
func (m *Model) Ops() Ops { return m.ops }

func (m *Model) table(name string, v []float32) Tensor {
	t := m.ops.Alloc(name, F32, len(v))
	m.ops.Write(t, 0, v)
	return t
}

// sliceRotDim is the rotated dims per head of the vision slice rotary.
func (m *Model) sliceRotDim() int {
	if d := m.Cfg.Transfer3D.RoPEDim; d > 0 {
		return d
	}
	return m.Cfg.Vision.HeadDim()
}

// ropeFor returns the decoder's inverse frequencies and mscale for a call
// whose last position is last: HF Phi-3 picks the long factors when the
// sequence so far (last + 1) exceeds original_max_position_embeddings,
// per forward call, so prefill and every decode step choose for
// themselves (keys already cached keep the rotation they got) — until
// generation recomputes the cache at the crossing (State.longRoPE), after
// which every call uses the long factors.
func (m *Model) ropeFor(s *State, last int) (Tensor, float32) {
	lc := m.Cfg.LLM
	if lc.LongRoPE() && (s.longRoPE || last+1 > lc.OriginalMaxPos) {
		return m.ropeLong, lc.RoPEMScale(true)
	}
	return m.ropeShort, lc.RoPEMScale(false)
}

// meanHeadDim is the head dim meanRows splits a row of width into: the
// largest multiple of 4 up to 256 dividing width (the attention kernel's
// limits), 0 if none.
func meanHeadDim(width int) int {
	for dh := min(256, width) &^ 3; dh >= 4; dh -= 4 {
		if width%dh == 0 {
			return dh
		}
	}
	return 0
}

// meanRows writes dst[g, :width] = the mean of rows g·n .. g·n+n−1 of src
// (width wide) for g < groups. There is no mean kernel: attention with an
// all-zero query scores every key 0, so its softmax weights are exactly 1/n
// and its output is the mean of the values — the flash-attention kernel
// computes it (the reference in float64). The row is split into heads of
// meanHeadDim(width). zeroQ holds at least width zeros.
func (m *Model) meanRows(dst, src, zeroQ Tensor, groups, n, width int) {
	dh := meanHeadDim(width)
	h := width / dh
	p := shaders.AttentionParams{
		T: 1, Tk: uint32(n), H: uint32(h), Hkv: uint32(h),
		KStride: uint32(width), VStride: uint32(width), OStride: uint32(width), Scale: 1,
	}
	m.ops.Attention(dst, zeroQ, src, src, shaders.AttentionVariant{Dh: dh}, p, groups)
}

// dims is a dense MatMul of m rows, n outputs, k inputs.
func dims(m, n, k int) shaders.MatMulParams { return shaders.MatMulDims(m, n, k) }
