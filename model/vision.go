package model

import (
	"context"
	"fmt"
	"math"

	"ctlens/shaders"
)

// ImageSlot marks, in a prompt's token ids, the place of the visual tokens
// (HF Phi-3-V marks them with negative ids too). A prompt holds either one
// ImageSlot, which expands to all Tv visual tokens, or a run of exactly Tv.
const ImageSlot = -1

// noToken is the id written for an image slot: past the embedding table,
// so Gather yields a zero row that the visual tokens then replace.
const noToken = math.MaxUint32

// RouteText runs level 1 of the TGH-MoE on the prompt: the mean of the
// text tokens' input embeddings goes through the linear task router, which
// picks one task group (force ≥ 0 overrides the choice, as the app's
// manual task does), and through the text projection, whose output, per
// MoE layer, becomes the text half of the token router (a per-request
// bias).
// Image slots are skipped. A dense model has nothing to do.
func (m *Model) RouteText(s *State, prompt []int, force int) error {
	if !m.Cfg.HasMoE() {
		return nil
	}
	ops, cfg, w := m.ops, m.Cfg, m.W
	var text []uint32
	for _, id := range prompt {
		if id == ImageSlot {
			continue
		}
		if id < 0 || id >= cfg.LLM.VocabSize {
			return fmt.Errorf("model: prompt token %d outside the vocabulary (%d)", id, cfg.LLM.VocabSize)
		}
		text = append(text, uint32(id))
	}
	if len(text) == 0 {
		return fmt.Errorf("model: the TGH-MoE needs prompt text to route on; the prompt has none")
	}
	if len(text) > s.MaxPrefill {
		return fmt.Errorf("model: prompt of %d text tokens exceeds the state's %d", len(text), s.MaxPrefill)
	}
	c, g, eg, dt := cfg.LLM.HiddenSize, cfg.MoE.Tasks, cfg.MoE.ExpertsPerTask, cfg.MoE.RouterTextDim
	if force >= g {
		return fmt.Errorf("model: forced task %d, the model has %d task groups", force, g)
	}
	force = max(force, -1)
	tp := len(text)
	ops.WriteU32(s.textIDs, 0, text)
	ops.Gather(s.textEmb, s.textIDs, w.LLM.Embed, gatherParams(tp, c, cfg.LLM.VocabSize)) // (Tp, C)
	m.meanRows(s.textPool, s.textEmb, s.zeroQ, 1, tp, c)                                  // (1, C) text pool
	ops.MatMul(s.taskLogits, s.textPool, w.Router.Task, MatMulOpts{Bias: w.Router.TaskB}, dims(1, g, c))
	ops.TaskRoute(s.task, s.taskProbs, s.taskLogits, shaders.TaskRouteParams{Groups: uint32(g), Force: int32(force)})
	if dt > 0 {
		ops.MatMul(s.textProj, s.textPool, w.Router.TextProj, MatMulOpts{Bias: w.Router.TextProjB}, dims(1, dt, c)) // (1, Dt)
	}
	for _, l := range cfg.MoE.Layers {
		mw := w.Vision.Layers[l].MoE
		if dt > 0 {
			// W·[x ; P·pool] + b = W_x·x + (W_t·P·pool + b): the text half
			// is one row per request.
			ops.MatMul(s.textBias[l], s.textProj, mw.RouterT, MatMulOpts{Bias: mw.RouterB}, dims(1, g*eg, dt))
		} else {
			ops.Copy(s.textBias[l], 0, mw.RouterB, 0, g*eg)
		}
	}
	s.routed = true
	return nil
}

// EncodeVision runs the vision tower on a volume and leaves the visual
// tokens (Tv, C) in s. pixels is (D, Cin, H, W), normalised as the tower
// expects (volume/ prepares it). For an MoE model RouteText must have run
// on the same request's prompt: the token routers read its task and text.
func (m *Model) EncodeVision(ctx context.Context, s *State, pixels []float32) error {
	return m.EncodeVisionHidden(ctx, s, pixels, nil)
}

// VisionHook receives hidden_states[i] of the vision tower (HF numbering:
// 0 after pre_layrnorm, i after layer i−1), (D·S, Cv) read back from the
// device. It is for inspection and parity dumps (hf-dump), not for
// generation: each call is a readback.
type VisionHook func(i int, hidden []float32) error

// EncodeVisionHidden is EncodeVision calling hook (when non-nil) with
// every hidden state up to the feature layer. For a model without a
// decoder (a bare CLIP tower) it stops there: the features stay in s and
// VisionFeatures reads them.
func (m *Model) EncodeVisionHidden(ctx context.Context, s *State, pixels []float32, hook VisionHook) error {
	ops, cfg, w := m.ops, m.Cfg, m.W
	if !cfg.HasVision() {
		return fmt.Errorf("model: the model has no vision tower")
	}
	if cfg.HasMoE() && !s.routed {
		return fmt.Errorf("model: the TGH-MoE routes on the prompt: call RouteText before EncodeVision")
	}
	v := cfg.Vision
	d, st, cv, fv := cfg.Slices(), v.Tokens(), v.HiddenSize, v.Intermediate
	if want := d * v.NumChannels * v.ImageSize * v.ImageSize; len(pixels) != want {
		return fmt.Errorf("model: volume of %d values, want (D %d, Cin %d, %d, %d) = %d", len(pixels), d, v.NumChannels, v.ImageSize, v.ImageSize, want)
	}
	vt := d * st
	dh := v.HeadDim()
	act, _ := shaders.ParseAct(v.HiddenAct)
	prefix := 0
	if v.ClassToken {
		prefix = 1
	}
	ops.Write(s.pix, 0, pixels)

	// Embeddings: patches of every slice through the 2D patch conv (a
	// GEMM over patch rows), then class token and positions per slice.
	pp, err := shaders.NewPatchifyParams(d, v.NumChannels, v.ImageSize, v.ImageSize, v.PatchSize, prefix)
	if err != nil {
		return fmt.Errorf("model: vision: %w", err)
	}
	ops.Patchify(s.patches, s.pix, pp)                                                    // (D, S, Cin·p·p)
	ops.MatMul(s.vemb, s.patches, w.Vision.Patch, MatMulOpts{}, dims(vt, cv, v.PatchK())) // (D·S, Cv)
	ops.Add(s.vemb, s.vemb, w.Vision.PosCls, shaders.AddParams{N: uint32(vt * cv), NB: uint32(st * cv)})
	ops.LayerNorm(s.vx, s.vemb, w.Vision.PreLNW, w.Vision.PreLNB, lnParams(vt, cv, v.LayerNormEps)) // pre_layrnorm
	hidden := func(i int) error {
		if hook == nil {
			return nil
		}
		h, err := ops.Read(s.vx, 0, vt*cv)
		if err != nil {
			return err
		}
		return hook(i, h)
	}
	if err := hidden(0); err != nil {
		return err
	}

	for l := 0; l < w.Vision.RunsLayers; l++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("model: vision layer %d: %w", l, err)
		}
		lw := &w.Vision.Layers[l]
		// attention layernorm and q, k, v
		ops.LayerNorm(s.vemb, s.vx, lw.LN1W, lw.LN1B, lnParams(vt, cv, v.LayerNormEps))
		q, k, vv := s.vqkv, s.vqkv, s.vqkv
		if lw.QKV != nil {
			ops.MatMul(s.vqkv, s.vemb, lw.QKV, MatMulOpts{Bias: lw.QKVB}, dims(vt, 3*cv, cv)) // (D·S, 3Cv)
		} else {
			q, k, vv = s.vq, s.vk, s.vv
			ops.MatMul(q, s.vemb, lw.Q, MatMulOpts{Bias: lw.QB}, dims(vt, cv, cv))
			ops.MatMul(k, s.vemb, lw.K, MatMulOpts{Bias: lw.KB}, dims(vt, cv, cv))
			ops.MatMul(vv, s.vemb, lw.V, MatMulOpts{Bias: lw.VB}, dims(vt, cv, cv))
		}
		// within a slice (batch = D), or across all slices as one sequence
		// with the slice index rotating q and k
		t, batches := st, d
		if cfg.Is3D(l) {
			t, batches = vt, 1
			if m.ropeSlice != nil {
				rp := shaders.RoPEParams{
					Rows: uint32(vt), RowStride: uint32(3 * cv), NHeads: uint32(2 * v.NumHeads),
					HeadDim: uint32(dh), RotDim: uint32(m.sliceRotDim()), PosDiv: uint32(st), MScale: 1,
				}
				if lw.QKV != nil {
					ops.RoPE(s.vqkv, m.ropeSlice, rp) // q and k heads are adjacent in a fused row
				} else {
					rp.RowStride, rp.NHeads = uint32(cv), uint32(v.NumHeads)
					ops.RoPE(q, m.ropeSlice, rp)
					ops.RoPE(k, m.ropeSlice, rp)
				}
			}
		}
		ap := shaders.AttentionParams{T: uint32(t), Tk: uint32(t), H: uint32(v.NumHeads), Hkv: uint32(v.NumHeads),
			Scale: float32(1 / math.Sqrt(float64(dh)))}
		if lw.QKV != nil {
			ap = ap.Fused(dh)
		} else {
			ap.QStride, ap.KStride, ap.VStride, ap.OStride = uint32(cv), uint32(cv), uint32(cv), uint32(cv)
		}
		ops.Attention(s.vatt, q, k, vv, shaders.AttentionVariant{Dh: dh}, ap, batches)
		ops.MatMul(s.vx, s.vatt, lw.Out, MatMulOpts{Bias: lw.OutB, Accumulate: true}, dims(vt, cv, cv)) // out_proj + residual

		// ffn layernorm, then the MLP (dense, or shared expert + routed experts)
		ops.LayerNorm(s.vemb, s.vx, lw.LN2W, lw.LN2B, lnParams(vt, cv, v.LayerNormEps))
		if m.vplan.chunk > 0 {
			m.chunkedMLP(s, l, lw, act, vt, cv, fv)
		} else {
			if lw.FFN.FC1 != nil {
				m.ffn(s.vx, s.vemb, s.vh, lw.FFN, act, vt, cv, fv, nil, 0)
			}
			if lw.MoE != nil {
				m.moe(s, l, lw.MoE, act, vt, cv, fv)
			}
		}
		if err := hidden(l + 1); err != nil {
			return err
		}
	}
	if !cfg.HasLLM() {
		return nil
	}

	// Features: per slice, 2×2 merge (class token dropped), optional depth
	// pooling, separators, then the projector into the decoder's width.
	g := cfg.MergedGrid()
	tm := g * g
	mp, err := shaders.NewMergeParams(d, prefix, v.Grid(), v.Grid(), cv)
	if err != nil {
		return fmt.Errorf("model: merge: %w", err)
	}
	ops.Merge2x2(s.merged, s.vx, mp) // (D, Tm, 4Cv)
	pr := cfg.Projector
	dp := cfg.PooledSlices()
	if pr.DepthPool > 1 {
		m.meanRows(s.pooled, s.merged, s.zeroQ, dp, pr.DepthPool, tm*4*cv) // (D', Tm·4Cv)
	}
	tv := cfg.VisualTokens()
	if s.layoutIDs != nil {
		ops.Gather(s.arranged, s.layoutIDs, s.pooled, gatherParams(tv, 4*cv, dp*tm+2)) // (Tv, 4Cv)
	}
	pact, _ := shaders.ParseAct(pr.HiddenAct)
	c := cfg.LLM.HiddenSize
	ops.MatMul(s.ph, s.arranged, w.Projector.FC1, MatMulOpts{Bias: w.Projector.FC1B, Act: pact}, dims(tv, c, 4*cv))
	ops.MatMul(s.visual, s.ph, w.Projector.FC2, MatMulOpts{Bias: w.Projector.FC2B}, dims(tv, c, c)) // (Tv, C)
	s.hasVisual = true
	return nil
}

// ffn adds fc2(act(fc1 x)) into y: x (rows, Cv) → h (rows, Fv) → y. With
// seg non-nil it runs on segment e of the gathered expert rows only and
// writes (not adds) y.
func (m *Model) ffn(y, x, h Tensor, f FFN, act shaders.Act, rows, cv, fv int, seg Tensor, e int) {
	p1, p2 := dims(rows, fv, cv), dims(rows, cv, fv)
	p1.Segment, p2.Segment = uint32(e), uint32(e)
	m.ops.MatMul(h, x, f.FC1, MatMulOpts{Bias: f.FC1B, Act: act, Seg: seg}, p1)
	m.ops.MatMul(y, h, f.FC2, MatMulOpts{Bias: f.FC2B, Accumulate: seg == nil, Seg: seg}, p2)
}

// moe is level 2 of the TGH-MoE on the layer-normed tokens s.vemb: each
// token's router logits W_x·x + text bias, top-k within the chosen task
// group, a plan grouping the assignments by expert, one segmented GEMM
// pair per expert over the gathered rows (experts of other groups get no
// rows), and the gated sum added to the residual stream.
func (m *Model) moe(s *State, l int, mw *MoEWeights, act shaders.Act, vt, cv, fv int) {
	ops, mc := m.ops, m.Cfg.MoE
	g, eg, k := mc.Tasks, mc.ExpertsPerTask, mc.TopK
	r := s.route[l]
	m.route(s, l, mw, vt, cv)
	ops.MoEPlan(s.seg, s.perm, s.slot, r.ids, shaders.MoEPlanParams{Tokens: uint32(vt), K: uint32(k), Experts: uint32(g * eg)})
	ops.Gather(s.xg, s.perm, s.vemb, gatherParams(vt*k, cv, vt)) // (D·S·K, Cv) rows grouped by expert
	for e, ex := range mw.Experts {
		m.ffn(s.yg, s.xg, s.hg, ex, act, vt*k, cv, fv, s.seg, e)
	}
	ops.MoECombine(s.vx, r.gates, s.slot, s.yg, shaders.MoECombineParams{Tokens: uint32(vt), Cols: uint32(cv), K: uint32(k)})
}

// chunkedMLP is the MLP half of a vision layer cut into chunks of
// mlpRows tokens (visionPlan): each chunk's layer-normed rows and
// residual rows are copied out of the full buffers, run through the
// dense MLP (or shared expert) and the routed experts exactly as moe and
// ffn would, and copied back. Routing itself runs once over all tokens.
// route fills s.route[l] for every token: router logits from the
// layer-normed tokens s.vemb plus the prompt's text bias, then top-k
// within the chosen task group.
func (m *Model) route(s *State, l int, mw *MoEWeights, vt, cv int) {
	ops, mc := m.ops, m.Cfg.MoE
	g, eg, k := mc.Tasks, mc.ExpertsPerTask, mc.TopK
	r := s.route[l]
	ops.MatMul(s.rlogits, s.vemb, mw.RouterX, MatMulOpts{Bias: s.textBias[l]}, dims(vt, g*eg, cv)) // (D·S, G·Eg)
	renorm := uint32(0)
	if mc.Renormalize {
		renorm = 1
	}
	ops.MoERoute(r.ids, r.gates, r.probs, s.rlogits, s.task, shaders.MoERouteParams{
		Tokens: uint32(vt), Groups: uint32(g), Experts: uint32(eg), K: uint32(k), Renorm: renorm, GlobalIDs: 1,
	})
}

func (m *Model) chunkedMLP(s *State, l int, lw *VisionLayer, act shaders.Act, vt, cv, fv int) {
	ops, mc := m.ops, m.Cfg.MoE
	g, eg, k := mc.Tasks, mc.ExpertsPerTask, mc.TopK
	var r routeState
	if lw.MoE != nil {
		m.route(s, l, lw.MoE, vt, cv)
		r = s.route[l]
	}
	step := m.mlpRows()
	for r0 := 0; r0 < vt; r0 += step {
		n := min(step, vt-r0)
		ops.Copy(s.cx, 0, s.vemb, r0*cv, n*cv)
		ops.Copy(s.cy, 0, s.vx, r0*cv, n*cv)
		if lw.FFN.FC1 != nil {
			m.ffn(s.cy, s.cx, s.vh, lw.FFN, act, n, cv, fv, nil, 0)
		}
		if lw.MoE != nil {
			ops.Copy(s.cids, 0, r.ids, r0*k, n*k)
			ops.Copy(s.cgates, 0, r.gates, r0*k, n*k)
			ops.MoEPlan(s.seg, s.perm, s.slot, s.cids, shaders.MoEPlanParams{Tokens: uint32(n), K: uint32(k), Experts: uint32(g * eg)})
			ops.Gather(s.xg, s.perm, s.cx, gatherParams(n*k, cv, n))
			for e, ex := range lw.MoE.Experts {
				m.ffn(s.yg, s.xg, s.hg, ex, act, n*k, cv, fv, s.seg, e)
			}
			ops.MoECombine(s.cy, s.cgates, s.slot, s.yg, shaders.MoECombineParams{Tokens: uint32(n), Cols: uint32(cv), K: uint32(k)})
		}
		ops.Copy(s.vx, r0*cv, s.cy, 0, n*cv)
	}
}

func lnParams(rows, cols int, eps float32) shaders.LayerNormParams {
	return shaders.LayerNormParams{Rows: uint32(rows), Cols: uint32(cols), Eps: eps}
}

func gatherParams(t, c, rows int) shaders.GatherParams {
	return shaders.GatherParams{T: uint32(t), C: uint32(c), Rows: uint32(rows)}
}

// VisualTokens reads back the visual tokens (Tv, C) of the last
// EncodeVision (hf-dump's image_embeds; tests).
func (m *Model) VisualTokens(s *State) ([]float32, error) {
	if !s.hasVisual {
		return nil, fmt.Errorf("model: no volume encoded")
	}
	return m.ops.Read(s.visual, 0, m.Cfg.VisualTokens()*m.Cfg.LLM.HiddenSize)
}

// VisionFeatures reads back the vision tower's output (D·S, Cv): the
// feature layer's hidden state, class tokens included.
func (m *Model) VisionFeatures(s *State) ([]float32, error) {
	if s.vx == nil {
		return nil, fmt.Errorf("model: the model has no vision tower")
	}
	return m.ops.Read(s.vx, 0, m.Cfg.Slices()*m.Cfg.Vision.Tokens()*m.Cfg.Vision.HiddenSize)
}
