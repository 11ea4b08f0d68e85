package model

import (
	"fmt"
)

// StateOptions size a State.
type StateOptions struct {
	// MaxSeq is the KV cache length: prompt, visual tokens and generated
	// tokens together. 0: min(max_position_embeddings, 4096).
	MaxSeq int
	// MaxPrefill is the most rows one Prefill takes (the prompt with its
	// visual tokens). 0: MaxSeq.
	MaxPrefill int
}

// State is the wave of activations of one request and its KV cache (like
// llama2.c's RunState): NewState allocates every buffer the forward pass
// touches, so no forward call allocates. Shapes use doc.go's letters.
type State struct {
	m          *Model
	MaxSeq     int // KV cache rows
	MaxPrefill int // rows one Prefill takes
	// Pos is the number of positions in the KV cache (the next token's
	// position).
	Pos int

	// The prompt side of the TGH-MoE (nil for a dense model).
	textIDs    Tensor   // (MaxPrefill) u32 the prompt's text token ids
	textEmb    Tensor   // (MaxPrefill, C) their embeddings
	textPool   Tensor   // (1, C) their mean
	zeroQ      Tensor   // (max(C, Tm·4Cv)) zeros: meanRows' query
	taskLogits Tensor   // (1, G)
	task       Tensor   // (1) u32 the chosen task group
	taskProbs  Tensor   // (G)
	textProj   Tensor   // (1, Dt) P·pool
	textBias   []Tensor // per vision layer: (1, G·Eg) the text half of the token router plus its bias; nil if dense
	route      []routeState

	// The vision tower, all D slices at once.
	pix     Tensor // (D, Cin, H, W) normalised pixels
	patches Tensor // (D, S, Cin·p·p) patch rows, the class row zero
	vemb    Tensor // (D·S, Cv) embeddings, then every LayerNorm output
	vx      Tensor // (D·S, Cv) the residual stream
	vqkv    Tensor // (D·S, 3Cv) fused q, k, v (nil when split)
	vq      Tensor // (D·S, Cv) q, k, v apart when the fused buffer would exceed the binding limit
	vk      Tensor
	vv      Tensor
	vatt    Tensor // (D·S, Cv) attention output
	vh      Tensor // (R, Fv) MLP hidden, R = mlpRows (D·S unless chunked)
	cx      Tensor // (R, Cv) chunked: the layer-normed rows of the chunk
	cy      Tensor // (R, Cv) chunked: the residual rows of the chunk
	cids    Tensor // (R, K) u32 chunked: the chunk's expert ids
	cgates  Tensor // (R, K) chunked: their gates
	rlogits Tensor // (D·S, G·Eg) token router logits
	seg     Tensor // (G·Eg, 2) u32 expert segments
	perm    Tensor // (R·K) u32 token of each gathered row
	slot    Tensor // (R·K) u32 gathered row of each (token, rank)
	xg      Tensor // (R·K, Cv) gathered expert inputs
	hg      Tensor // (R·K, Fv) expert hidden
	yg      Tensor // (R·K, Cv) expert outputs

	// Merge, depth pooling, layout and projector.
	merged    Tensor // (D·Tm [+2], 4Cv) merged tokens [+ sub_GN, glb_GN rows when pooling is off]
	pooled    Tensor // (D'·Tm [+2], 4Cv) when depth_pool > 1, else == merged
	layoutIDs Tensor // (Tv) u32 rows of pooled in prompt order (with separators); nil if none
	arranged  Tensor // (Tv, 4Cv) projector input; == pooled without separators
	ph        Tensor // (Tv, C) projector hidden
	visual    Tensor // (Tv, C) the visual tokens
	hasVisual bool   // visual holds the last EncodeVision's tokens
	routed    bool   // RouteText ran for this request

	// The decoder.
	ids    Tensor // (MaxPrefill) u32 token ids (0xFFFFFFFF at image slots)
	x      Tensor // (MaxPrefill, C) residual stream
	xn     Tensor // (MaxPrefill, C) RMSNorm output
	qkv    Tensor // (MaxPrefill, (H+2Hkv)·Dh)
	att    Tensor // (MaxPrefill, H·Dh)
	gu     Tensor // (MaxPrefill, 2F) gate | up
	hf     Tensor // (MaxPrefill, F) SwiGLU output
	last   Tensor // (1, C) the last row of x
	lastN  Tensor // (1, C) its final norm
	logits Tensor // (1, V) logits of the last position
	next   Tensor // (1) u32 the sampled id, also the next decode step's input
	kc, vc Tensor // (L·MaxSeq, Hkv·Dh) KV cache, layer l at rows l·MaxSeq
	rows   int    // rows of the last Prefill (1 after Decode)
	// longRoPE: the cache was recomputed with LongRoPE's long factors when
	// the sequence outgrew original_max_position_embeddings (Generate), so
	// every later call uses them too.
	longRoPE bool
}

// routeState is one MoE layer's routing outputs, kept per layer so that
// all of them can be read once the vision pass is done.
type routeState struct {
	ids   Tensor // (D·S, K) u32 global expert ids g·Eg + e
	gates Tensor // (D·S, K)
	probs Tensor // (D·S, Eg) the chosen group's softmax
}

// NewState allocates every buffer of a request, the KV cache included.
func (m *Model) NewState(o StateOptions) (*State, error) {
	cfg, ops, lc := m.Cfg, m.ops, m.Cfg.LLM
	if cfg.HasLLM() {
		if o.MaxSeq <= 0 {
			o.MaxSeq = min(lc.MaxPositions, 4096)
		}
		if o.MaxSeq > lc.MaxPositions {
			return nil, fmt.Errorf("model: state: max_seq %d > max_position_embeddings %d", o.MaxSeq, lc.MaxPositions)
		}
		if o.MaxPrefill <= 0 || o.MaxPrefill > o.MaxSeq {
			o.MaxPrefill = o.MaxSeq
		}
	} else {
		o = StateOptions{}
	}
	s := &State{m: m, MaxSeq: o.MaxSeq, MaxPrefill: o.MaxPrefill}
	if cfg.HasMoE() {
		s.allocRouting(o.MaxPrefill)
	}
	if cfg.HasVision() {
		s.allocVision()
	}
	if cfg.HasVision() && cfg.HasLLM() {
		s.allocProjector()
	}
	if cfg.HasLLM() {
		s.allocLLM()
	}
	if err := ops.Sync(); err != nil {
		return nil, fmt.Errorf("model: allocating state on %s: %w", ops.Backend(), err)
	}
	return s, nil
}

func (s *State) f32(name string, shape ...int) Tensor { return s.m.ops.Alloc(name, F32, shape...) }
func (s *State) u32(name string, shape ...int) Tensor { return s.m.ops.Alloc(name, U32, shape...) }

// allocRouting allocates the TGH-MoE's buffers: the text pool and task
// routing for prompts of up to rows tokens, and per MoE layer the routing
// outputs and the expert scratch.
func (s *State) allocRouting(rows int) {
	cfg := s.m.Cfg
	v, c := cfg.Vision, cfg.LLM.HiddenSize
	g, eg, k, dt := cfg.MoE.Tasks, cfg.MoE.ExpertsPerTask, cfg.MoE.TopK, cfg.MoE.RouterTextDim
	vt, cv, fv := cfg.Slices()*v.Tokens(), v.HiddenSize, v.Intermediate
	s.textIDs = s.u32("text.ids", rows)
	s.textEmb = s.f32("text.emb", rows, c)
	s.textPool = s.f32("text.pool", 1, c)
	s.taskLogits = s.f32("text.task_logits", 1, g)
	s.task = s.u32("text.task", 1)
	s.taskProbs = s.f32("text.task_probs", g)
	if dt > 0 {
		s.textProj = s.f32("text.proj", 1, dt)
	}
	s.textBias = make([]Tensor, v.RunLayers())
	s.route = make([]routeState, v.RunLayers())
	for _, l := range cfg.MoE.Layers {
		s.textBias[l] = s.f32(fmt.Sprintf("vision.%d.router_bias", l), 1, g*eg)
		s.route[l] = routeState{
			ids:   s.u32(fmt.Sprintf("vision.%d.expert_ids", l), vt, k),
			gates: s.f32(fmt.Sprintf("vision.%d.gates", l), vt, k),
			probs: s.f32(fmt.Sprintf("vision.%d.probs", l), vt, eg),
		}
	}
	s.rlogits = s.f32("vision.router_logits", vt, g*eg)
	s.seg = s.u32("vision.moe_seg", g*eg, 2)
	// The experts' scratch holds the assignments of one chunk of tokens.
	mr := s.m.mlpRows()
	s.perm = s.u32("vision.moe_perm", mr*k)
	s.slot = s.u32("vision.moe_slot", mr*k)
	s.xg = s.f32("vision.moe_x", mr*k, cv)
	s.hg = s.f32("vision.moe_h", mr*k, fv)
	s.yg = s.f32("vision.moe_y", mr*k, cv)
	if s.m.vplan.chunk > 0 {
		s.cids = s.u32("vision.moe_chunk_ids", mr, k)
		s.cgates = s.f32("vision.moe_chunk_gates", mr, k)
	}
}

// allocVision allocates the vision tower's buffers for D slices.
func (s *State) allocVision() {
	cfg := s.m.Cfg
	v := cfg.Vision
	d, st, cv := cfg.Slices(), v.Tokens(), v.HiddenSize
	vt := d * st
	s.pix = s.f32("vision.pixels", d, v.NumChannels, v.ImageSize, v.ImageSize)
	s.patches = s.f32("vision.patches", d, st, v.PatchK())
	s.vemb = s.f32("vision.ln", vt, cv)
	s.vx = s.f32("vision.x", vt, cv)
	if s.m.vplan.splitQKV {
		s.vq, s.vk, s.vv = s.f32("vision.q", vt, cv), s.f32("vision.k", vt, cv), s.f32("vision.v", vt, cv)
	} else {
		s.vqkv = s.f32("vision.qkv", vt, 3*cv)
	}
	s.vatt = s.f32("vision.att", vt, cv)
	rows := s.m.mlpRows()
	s.vh = s.f32("vision.mlp", rows, v.Intermediate)
	if s.m.vplan.chunk > 0 {
		s.cx = s.f32("vision.chunk_in", rows, cv)
		s.cy = s.f32("vision.chunk_out", rows, cv)
	}
}

// mlpRows is the rows one MLP/MoE pass of the vision tower takes: a chunk
// when the plan cuts the pass to fit the binding limit, else every token.
func (m *Model) mlpRows() int {
	if m.vplan.chunk > 0 {
		return min(m.vplan.chunk, m.Cfg.Slices()*m.Cfg.Vision.Tokens())
	}
	return m.Cfg.Slices() * m.Cfg.Vision.Tokens()
}

// allocProjector allocates the merge, pooling, layout and projector
// buffers and writes what stays constant: the separator rows, which sit
// after the merged (or pooled) tokens so that one Gather lays out tokens
// and separators in prompt order, and that Gather's row list.
func (s *State) allocProjector() {
	cfg, ops, w := s.m.Cfg, s.m.ops, s.m.W
	cv, c := cfg.Vision.HiddenSize, cfg.LLM.HiddenSize
	d, dp, tm := cfg.Slices(), cfg.PooledSlices(), cfg.MergedGrid()*cfg.MergedGrid()
	pr := cfg.Projector
	if cfg.HasMoE() || pr.DepthPool > 1 {
		s.zeroQ = s.f32("zero_query", max(c, tm*4*cv))
	}
	seps := pr.SubSeparator || pr.GlbSeparator
	extra := 0
	if seps {
		extra = 2
	}
	if pr.DepthPool > 1 {
		s.merged = s.f32("vision.merged", d*tm, 4*cv)
		s.pooled = s.f32("vision.pooled", dp*tm+extra, 4*cv)
	} else {
		s.merged = s.f32("vision.merged", d*tm+extra, 4*cv)
		s.pooled = s.merged
	}
	tv := cfg.VisualTokens()
	s.arranged = s.pooled
	if seps {
		sepRow := dp * tm
		if pr.SubSeparator {
			ops.Copy(s.pooled, sepRow*4*cv, w.Projector.SubGN, 0, 4*cv)
		}
		if pr.GlbSeparator {
			ops.Copy(s.pooled, (sepRow+1)*4*cv, w.Projector.GlbGN, 0, 4*cv)
		}
		ids := visualLayout(dp, cfg.MergedGrid(), pr.SubSeparator, pr.GlbSeparator)
		if hd := pr.HDCrops; hd != nil {
			ids = hdLayout(hd[0], hd[1], cfg.MergedGrid())
		}
		s.layoutIDs = s.u32("vision.layout", tv)
		ops.WriteU32(s.layoutIDs, 0, ids)
		s.arranged = s.f32("vision.arranged", tv, 4*cv)
	}
	s.ph = s.f32("projector.hidden", tv, c)
	s.visual = s.f32("visual_tokens", tv, c)
}

// allocLLM allocates the decoder's buffers and the KV cache.
func (s *State) allocLLM() {
	lc := s.m.Cfg.LLM
	rows, c := s.MaxPrefill, lc.HiddenSize
	s.ids = s.u32("llm.ids", rows)
	s.x = s.f32("llm.x", rows, c)
	s.xn = s.f32("llm.xn", rows, c)
	s.qkv = s.f32("llm.qkv", rows, lc.QKVWidth())
	s.att = s.f32("llm.att", rows, lc.NumHeads*lc.Dh())
	s.gu = s.f32("llm.gate_up", rows, 2*lc.Intermediate)
	s.hf = s.f32("llm.swiglu", rows, lc.Intermediate)
	s.last = s.f32("llm.last", 1, c)
	s.lastN = s.f32("llm.last_norm", 1, c)
	s.logits = s.f32("llm.logits", 1, lc.VocabSize)
	s.next = s.u32("llm.next", 1)
	s.kc = s.f32("llm.kcache", lc.NumLayers*s.MaxSeq, lc.KVWidth())
	s.vc = s.f32("llm.vcache", lc.NumLayers*s.MaxSeq, lc.KVWidth())
}

// visualLayout is the row of the pooled-token table behind each visual
// token: per slice, each row of the merged grid followed by sub_GN (row
// dp·g²) when sub, and glb_GN (row dp·g² + 1) between slices when glb. With
// one sub crop followed by the global crop this is Phi-3-V's layout
// (313 tokens for a 336² image).
func visualLayout(dp, g int, sub, glb bool) []uint32 {
	subRow, glbRow := uint32(dp*g*g), uint32(dp*g*g+1)
	var ids []uint32
	for d := 0; d < dp; d++ {
		if d > 0 && glb {
			ids = append(ids, glbRow)
		}
		for i := 0; i < g; i++ {
			for j := 0; j < g; j++ {
				ids = append(ids, uint32((d*g+i)*g+j))
			}
			if sub {
				ids = append(ids, subRow)
			}
		}
	}
	return ids
}

// hdLayout is Phi-3-V's HD transform (hd_transform_order "sub_glb") over
// slices [global crop, h·w sub crops row-major] of g×g merged tokens each:
// the sub crops stitched into one (h·g, w·g) grid with sub_GN after each
// row, glb_GN, then the global crop's grid with sub_GN after each row.
func hdLayout(h, w, g int) []uint32 {
	d := 1 + h*w
	subRow, glbRow := uint32(d*g*g), uint32(d*g*g+1)
	var ids []uint32
	for r := 0; r < h*g; r++ {
		for c := 0; c < w*g; c++ {
			crop := 1 + (r/g)*w + c/g
			ids = append(ids, uint32((crop*g+r%g)*g+c%g))
		}
		ids = append(ids, subRow)
	}
	ids = append(ids, glbRow)
	for i := 0; i < g; i++ {
		for j := 0; j < g; j++ {
			ids = append(ids, uint32(i*g+j))
		}
		ids = append(ids, subRow)
	}
	return ids
}

// Reset empties the KV cache (the buffers stay; positions restart at 0).
func (s *State) Reset() {
	s.Pos, s.rows, s.hasVisual, s.routed, s.longRoPE = 0, 0, false, false, false
}

// Free releases every tensor of the state.
func (s *State) Free() {
	ops := s.m.ops
	if s.arranged != nil && s.arranged != s.pooled {
		ops.Free(s.arranged)
	}
	for _, t := range []Tensor{
		s.textIDs, s.textEmb, s.textPool, s.zeroQ, s.taskLogits, s.task, s.taskProbs, s.textProj,
		s.pix, s.patches, s.vemb, s.vx, s.vqkv, s.vq, s.vk, s.vv, s.vatt, s.vh, s.cx, s.cy, s.cids, s.cgates, s.rlogits, s.seg, s.perm, s.slot,
		s.xg, s.hg, s.yg, s.layoutIDs, s.ph, s.visual, s.ids, s.x, s.xn, s.qkv, s.att,
		s.gu, s.hf, s.last, s.lastN, s.logits, s.next, s.kc, s.vc,
	} {
		if t != nil {
			ops.Free(t)
		}
	}
	if s.pooled != nil && s.pooled != s.merged {
		ops.Free(s.pooled)
	}
	if s.merged != nil {
		ops.Free(s.merged)
	}
	for _, t := range s.textBias {
		if t != nil {
			ops.Free(t)
		}
	}
	for _, r := range s.route {
		for _, t := range []Tensor{r.ids, r.gates, r.probs} {
			if t != nil {
				ops.Free(t)
			}
		}
	}
}
