//go:build !js

package gpu

import (
	"context"
	"testing"

	"ctlens/model"
	"ctlens/shaders"
)

// prefilled returns a GPU state after routing, vision, prefill and the
// first sampled token (greedy).
func prefilled(t *testing.T, tw twinModels, maxSeq int) *model.State {
	t.Helper()
	ctx := context.Background()
	m := tw.gpu
	ids := chatPrompt(t, tw.cfg, "Any lesion?")
	s := newState(t, m, maxSeq)
	if err := m.RouteText(s, ids, -1); err != nil {
		t.Fatal(err)
	}
	if err := m.EncodeVision(ctx, s, volume(tw.cfg, 5)); err != nil {
		t.Fatal(err)
	}
	if err := m.Prefill(ctx, s, ids); err != nil {
		t.Fatal(err)
	}
	if _, err := m.SampleNext(s, shaders.SampleParams{}); err != nil {
		t.Fatal(err)
	}
	return s
}

// step is one decode step as Generate runs it: Decode on the sampled id
// already on the device, then SampleNext (its one readback).
func step(t *testing.T, m *model.Model, s *model.State, n int) {
	t.Helper()
	if err := m.Decode(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	p := shaders.NewSampleParams(0, 0.7, 20, 0.9, 3, uint32(n)) // sampled: the seed's step changes every time
	if _, err := m.SampleNext(s, p); err != nil {
		t.Fatal(err)
	}
}

// TestDecodeStepIsOneSubmit checks ARCHITECTURE's rules for a decode step
// on every tiny family: one submit, one readback of the 4-byte sampled id,
// no host write, and once the first step has made its bind groups and
// uniform buffers, no device buffer, bind group or pipeline created —
// only the changed Params (positions) rewritten in place.
func TestDecodeStepIsOneSubmit(t *testing.T) {
	for _, tc := range model.TinyConfigs() {
		t.Run(tc.Name, func(t *testing.T) {
			tw := loadTwins(t, tc.Config, 3, shaders.Int4)
			s := prefilled(t, tw, 96)
			step(t, tw.gpu, s, 1) // makes the decode step's bind groups
			for n := 2; n < 5; n++ {
				before := tw.gb.Stats()
				step(t, tw.gpu, s, n)
				d := tw.gb.Stats().Sub(before)
				if d.Submits != 1 || d.Readbacks != 1 || d.ReadBytes != 4 {
					t.Errorf("step %d: %d submits, %d readbacks of %d bytes; want 1, 1 of 4", n, d.Submits, d.Readbacks, d.ReadBytes)
				}
				if d.Buffers != 0 || d.BindGroups != 0 || d.Pipelines != 0 || d.Writes != 0 {
					t.Errorf("step %d created %d buffers, %d bind groups, %d pipelines and wrote %d tensors; want none", n, d.Buffers, d.BindGroups, d.Pipelines, d.Writes)
				}
				if d.ParamWrites == 0 || d.ParamWrites >= d.Dispatches {
					t.Errorf("step %d rewrote %d uniform buffers for %d dispatches; want the position-dependent ones only", n, d.ParamWrites, d.Dispatches)
				}
				if n == 4 {
					t.Logf("a decode step: %d dispatches in 1 batch, %d uniform rewrites, %d bytes read back", d.Dispatches, d.ParamWrites, d.ReadBytes)
				}
			}
		})
	}
}

// TestSplitDecodeModelParity drives split-K decode attention through a
// whole model (the tiny contexts stay below the default threshold): split
// from 8 keys in ranges of 4, so a step runs up to a dozen splits whose
// count grows as the context does, against the CPU's greedy tokens and
// logits.
func TestSplitDecodeModelParity(t *testing.T) {
	cfg := tinyConfig(t, "gqa-untied-longrope-dense-3d")
	tw := loadTwins(t, cfg, 4, shaders.F32)
	tw.gb.splitMin, tw.gb.splitKeys = 8, 4
	ctx := context.Background()
	ids := chatPrompt(t, cfg, "Describe the liver.")
	req := model.Request{Prompt: ids, Pixels: volume(cfg, 8)}
	opt := model.GenerateOptions{MaxTokens: 12}
	maxSeq := len(ids) + cfg.VisualTokens() + 16
	want, err := tw.cpu.Generate(ctx, newState(t, tw.cpu, maxSeq), req, opt)
	if err != nil {
		t.Fatal(err)
	}
	gs := newState(t, tw.gpu, maxSeq)
	have, err := tw.gpu.Generate(ctx, gs, req, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(have.Tokens) != len(want.Tokens) {
		t.Fatalf("%d tokens, want %d", len(have.Tokens), len(want.Tokens))
	}
	for i := range want.Tokens {
		if have.Tokens[i] != want.Tokens[i] {
			t.Fatalf("token %d: have %d want %d (tokens %v, want %v)", i, have.Tokens[i], want.Tokens[i], have.Tokens, want.Tokens)
		}
	}
	split := false
	for _, k := range tw.gb.kernels {
		split = split || k.k.Name == "attn_decode/combine/dh16"
	}
	if !split {
		t.Error("the split-K kernels never ran")
	}
	// The last step's logits, against the CPU on the same tokens.
	cs := newState(t, tw.cpu, maxSeq)
	gs2 := newState(t, tw.gpu, maxSeq)
	for _, st := range []struct {
		m *model.Model
		s *model.State
	}{{tw.cpu, cs}, {tw.gpu, gs2}} {
		if err := st.m.RouteText(st.s, ids, -1); err != nil {
			t.Fatal(err)
		}
		if err := st.m.EncodeVision(ctx, st.s, req.Pixels); err != nil {
			t.Fatal(err)
		}
		if err := st.m.Prefill(ctx, st.s, ids); err != nil {
			t.Fatal(err)
		}
		for _, id := range want.Tokens[:len(want.Tokens)-1] {
			if err := st.m.DecodeToken(ctx, st.s, id); err != nil {
				t.Fatal(err)
			}
		}
	}
	lc, err := tw.cpu.Logits(cs)
	if err != nil {
		t.Fatal(err)
	}
	lg, err := tw.gpu.Logits(gs2)
	if err != nil {
		t.Fatal(err)
	}
	if e := nmse(lg, lc); !(e <= logitsNMSE) {
		t.Errorf("logits after %d split-K decode steps: NMSE %.3g > %g", len(want.Tokens)-1, e, logitsNMSE)
	}
}

// TestTiming: with timing on, every dispatch of a decode step carries
// timestamps and lands in its kernel class.
func TestTiming(t *testing.T) {
	tw := loadTwins(t, tinyConfig(t, "mha-tied-rope-dense-2d"), 3, shaders.Int4)
	s := prefilled(t, tw, 96)
	if !tw.gb.EnableTiming(true) {
		if tw.gb.d.Info().Features.TimestampQuery {
			t.Fatal("EnableTiming refused on a device with timestamp-query")
		}
		t.Logf("%s has no timestamp-query: only dispatch counts are profiled", tw.gb.d.Info().Adapter.Name)
	}
	tw.gb.ResetProfile()
	step(t, tw.gpu, s, 1)
	step(t, tw.gpu, s, 2)
	tw.gb.EnableTiming(false)
	p := tw.gb.Profile()
	if p.Batches != 2 || p.Dispatches == 0 {
		t.Fatalf("profile of two decode steps: %+v", p)
	}
	if !tw.gb.d.Info().Features.TimestampQuery {
		return
	}
	if p.Timed != p.Dispatches {
		t.Errorf("%d of %d dispatches timed", p.Timed, p.Dispatches)
	}
	for _, class := range []string{"gemv", "attn_decode", "rmsnorm", "rope", "kvappend", "swiglu", "gather", "sample"} {
		if c := p.Classes[class]; c.Dispatches == 0 {
			t.Errorf("no %s dispatch in the profile: %v", class, p.Classes)
		}
	}
	if p.GPU() <= 0 {
		t.Errorf("no GPU time measured: %v", p)
	}
	t.Logf("two decode steps:\n%s", p)
}
