package model

import (
	"context"
	"fmt"
	"math"

	"ctlens/shaders"
)

// Prefill runs the decoder over tokens at positions s.Pos onwards and
// leaves the logits of the last one in s (Logits, SampleNext). tokens are
// ids; ImageSlot entries (one, or a run of Tv) take the visual tokens of the
// last EncodeVision.
func (m *Model) Prefill(ctx context.Context, s *State, tokens []int) error {
	if !m.Cfg.HasLLM() {
		return fmt.Errorf("model: the model has no decoder")
	}
	ids, img, err := m.expandPrompt(tokens)
	if err != nil {
		return err
	}
	t := len(ids)
	switch {
	case t == 0:
		return fmt.Errorf("model: prefill of no tokens")
	case t > s.MaxPrefill:
		return fmt.Errorf("model: prefill of %d rows exceeds the state's %d (StateOptions.MaxPrefill)", t, s.MaxPrefill)
	case s.Pos+t > s.MaxSeq:
		return fmt.Errorf("model: %d cached + %d new positions exceed the KV cache's %d", s.Pos, t, s.MaxSeq)
	case img >= 0 && !s.hasVisual:
		return fmt.Errorf("model: the prompt has image slots but no volume was encoded")
	}
	c := m.Cfg.LLM.HiddenSize
	m.ops.WriteU32(s.ids, 0, ids)
	m.ops.Gather(s.x, s.ids, m.W.LLM.Embed, gatherParams(t, c, m.Cfg.LLM.VocabSize)) // (T, C), zero rows at image slots
	if img >= 0 {
		m.ops.Copy(s.x, img*c, s.visual, 0, m.Cfg.VisualTokens()*c) // visual tokens at the placeholder
	}
	return m.forward(ctx, s, t)
}

// Decode runs one decoder step on the token in s's sampled-id tensor (put
// there by SampleNext, or by DecodeToken): the input never leaves the
// device between steps.
func (m *Model) Decode(ctx context.Context, s *State) error {
	if !m.Cfg.HasLLM() {
		return fmt.Errorf("model: the model has no decoder")
	}
	if s.Pos+1 > s.MaxSeq {
		return fmt.Errorf("model: the KV cache is full (%d positions)", s.MaxSeq)
	}
	m.ops.Gather(s.x, s.next, m.W.LLM.Embed, gatherParams(1, m.Cfg.LLM.HiddenSize, m.Cfg.LLM.VocabSize)) // (1, C)
	return m.forward(ctx, s, 1)
}

// DecodeToken runs one decoder step on token id.
func (m *Model) DecodeToken(ctx context.Context, s *State, id int) error {
	if !m.Cfg.HasLLM() {
		return fmt.Errorf("model: the model has no decoder")
	}
	if id < 0 || id >= m.Cfg.LLM.VocabSize {
		return fmt.Errorf("model: token %d outside the vocabulary (%d)", id, m.Cfg.LLM.VocabSize)
	}
	m.ops.WriteU32(s.next, 0, []uint32{uint32(id)})
	return m.Decode(ctx, s)
}

// forward runs the decoder layers over rows 0..t−1 of s.x at positions
// s.Pos.., appends their keys and values to the cache, and computes the
// logits of row t−1. It reads like llama2.c's forward().
func (m *Model) forward(ctx context.Context, s *State, t int) error {
	ops, lc, w := m.ops, m.Cfg.LLM, m.W.LLM
	c, h, hkv, dh, f := lc.HiddenSize, lc.NumHeads, lc.NumKVHeads, lc.Dh(), lc.Intermediate
	qkvW, kvW := lc.QKVWidth(), lc.KVWidth()
	pos := s.Pos
	invFreq, mscale := m.ropeFor(s, pos+t-1)
	scale := float32(1 / math.Sqrt(float64(dh)))
	norm := func(y, x, g Tensor, rows int) {
		ops.RMSNorm(y, x, nil, g, shaders.RMSNormParams{Rows: uint32(rows), Cols: uint32(c), Eps: lc.RMSNormEps})
	}
	for l := range w.Layers {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("model: decoder layer %d: %w", l, err)
		}
		lw := &w.Layers[l]
		cache := uint32(l * s.MaxSeq * kvW) // this layer's rows of the caches
		// attention rmsnorm, fused q, k, v, rotate q and k
		norm(s.xn, s.x, lw.AttnNorm, t)
		ops.MatMul(s.qkv, s.xn, lw.QKV, MatMulOpts{Bias: lw.QKVB}, dims(t, qkvW, c)) // (T, (H+2Hkv)·Dh)
		ops.RoPE(s.qkv, invFreq, shaders.RoPEParams{
			Rows: uint32(t), RowStride: uint32(qkvW), NHeads: uint32(h + hkv), HeadDim: uint32(dh),
			RotDim: uint32(lc.RotDim()), PosOffset: uint32(pos), PosDiv: 1, MScale: mscale,
		})
		// keys and values into the cache, then attend over positions 0..pos+t−1
		kv := shaders.FusedKVAppend(t, h, hkv, dh, pos)
		kv.KDstOff, kv.VDstOff = cache, cache
		ops.KVAppend(s.kc, s.vc, s.qkv, kv)
		if t == 1 {
			ops.DecodeAttention(s.att, s.qkv, s.kc, s.vc, dh, shaders.AttnDecodeParams{
				NPast: uint32(pos), H: uint32(h), Hkv: uint32(hkv),
				KStride: uint32(kvW), KOff: cache, VStride: uint32(kvW), VOff: cache, Scale: scale,
			})
		} else {
			ops.Attention(s.att, s.qkv, s.kc, s.vc, shaders.AttentionVariant{Dh: dh, Causal: true}, shaders.AttentionParams{
				T: uint32(t), Tk: uint32(pos + t), H: uint32(h), Hkv: uint32(hkv),
				QStride: uint32(qkvW), KStride: uint32(kvW), KOff: cache, VStride: uint32(kvW), VOff: cache,
				OStride: uint32(h * dh), QPos: uint32(pos), Scale: scale,
			}, 1)
		}
		ops.MatMul(s.x, s.att, lw.O, MatMulOpts{Accumulate: true}, dims(t, c, h*dh)) // o_proj + residual
		// ffn rmsnorm, fused gate|up, SwiGLU, down + residual
		norm(s.xn, s.x, lw.FFNNorm, t)
		ops.MatMul(s.gu, s.xn, lw.GateUp, MatMulOpts{}, dims(t, 2*f, c)) // (T, 2F)
		ops.SwiGLU(s.hf, s.gu, shaders.SwiGLUParams{Rows: uint32(t), F: uint32(f)})
		ops.MatMul(s.x, s.hf, lw.Down, MatMulOpts{Accumulate: true}, dims(t, c, f))
	}
	s.Pos += t
	s.rows = t
	m.logitsAt(s, t-1)
	return nil
}

// logitsAt computes the logits (1, V) of row r of the last forward's
// residual stream: final norm and the head (tied or not).
func (m *Model) logitsAt(s *State, r int) {
	ops, lc := m.ops, m.Cfg.LLM
	c := lc.HiddenSize
	src := s.x
	if r > 0 {
		// No kernel takes a row offset for its input: copy the row out.
		ops.Copy(s.last, 0, s.x, r*c, c)
		src = s.last
	}
	ops.RMSNorm(s.lastN, src, nil, m.W.LLM.Norm, shaders.RMSNormParams{Rows: 1, Cols: uint32(c), Eps: lc.RMSNormEps})
	ops.MatMul(s.logits, s.lastN, m.W.LLM.Head, MatMulOpts{}, dims(1, lc.VocabSize, c)) // (1, V)
}

// Logits returns the logits (V) of the last position of the last Prefill
// or Decode.
func (m *Model) Logits(s *State) ([]float32, error) {
	return m.ops.Read(s.logits, 0, m.Cfg.LLM.VocabSize)
}

// LogitsAt returns the logits (V) of row r of the last Prefill (for
// whole-prompt logits, as hf-dump writes them); the last row's logits stay
// what Logits returns only until the next LogitsAt.
func (m *Model) LogitsAt(s *State, r int) ([]float32, error) {
	if r < 0 || r >= s.rows {
		return nil, fmt.Errorf("model: logits of row %d: the last forward had %d rows", r, s.rows)
	}
	m.logitsAt(s, r)
	return m.Logits(s)
}

// SampleNext draws the next token from the current logits into the
// sampled-id tensor (the next Decode's input) and reads it back: the one
// readback of a decode step.
func (m *Model) SampleNext(s *State, p shaders.SampleParams) (int, error) {
	p.Vocab, p.LogitsOffset, p.OutIndex = uint32(m.Cfg.LLM.VocabSize), 0, 0
	m.ops.Sample(s.next, s.logits, p)
	id, err := m.ops.ReadU32(s.next, 0, 1)
	if err != nil {
		return 0, err
	}
	return int(id[0]), nil
}

// expandPrompt turns prompt ids into the u32 ids the embedding gather
// reads, expanding a single ImageSlot to Tv slots. It returns the first
// image row, or −1 without an image.
func (m *Model) expandPrompt(tokens []int) ([]uint32, int, error) {
	tv := m.Cfg.VisualTokens()
	var ids []uint32
	img, run := -1, 0
	for i, id := range tokens {
		if id == ImageSlot {
			if img < 0 {
				img = len(ids)
			} else if i > 0 && tokens[i-1] != ImageSlot {
				return nil, 0, fmt.Errorf("model: the prompt holds more than one image placeholder run")
			}
			run++
			ids = append(ids, noToken)
			continue
		}
		if id < 0 || id >= m.Cfg.LLM.VocabSize {
			return nil, 0, fmt.Errorf("model: prompt token %d at %d outside the vocabulary (%d)", id, i, m.Cfg.LLM.VocabSize)
		}
		ids = append(ids, uint32(id))
	}
	switch {
	case run == 1 && tv > 1:
		ex := make([]uint32, 0, len(ids)+tv-1)
		ex = append(ex, ids[:img]...)
		for range tv {
			ex = append(ex, noToken)
		}
		ids = append(ex, ids[img+1:]...)
	case run != 0 && run != tv:
		return nil, 0, fmt.Errorf("model: the prompt has %d image slots; want 1 or Tv = %d", run, tv)
	}
	return ids, img, nil
}
