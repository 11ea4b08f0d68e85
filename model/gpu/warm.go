package gpu

import (
	"context"
	"fmt"

	"ctlens/model"
	"ctlens/shaders"
)

// Warm compiles, at load, every pipeline m's forward pass dispatches
// (ARCHITECTURE: "pipelines are compiled and warmed at load time, not on
// the first request"), and allocates the backend's fixed scratch (the
// split-K decode partials and the write staging arena), so that the first
// request neither compiles nor allocates beyond its State.
//
// It runs the model's own forward — prompt routing, the vision tower, a
// prefill, a decode step and sampling — on a State of virtual tensors, in
// a dry mode where a kernel call only picks its variant and compiles it.
// The set compiled is thus exactly the set the forward picks, with no
// list to keep in step with model/*.go; where the pick depends on the
// request, the dry call compiles every branch (both samplers, decode
// attention with and without split-K). Not covered: prefills of 2 to 4
// rows (a text-only prompt that short), whose GEMV variants compile on
// first use.
func (b *Backend) Warm(ctx context.Context, m *model.Model) error {
	if m.Ops() != model.Ops(b) {
		return fmt.Errorf("gpu: Warm: the model runs on %s, not on this backend", m.Ops().Backend())
	}
	if err := b.Sync(); err != nil {
		return err
	}
	cfg := m.Cfg
	b.dry = true
	err := func() error {
		s, err := m.NewState(model.StateOptions{})
		if err != nil {
			return err
		}
		defer s.Free()
		if cfg.HasVision() {
			if err := m.RouteText(s, []int{0, model.ImageSlot, 0}, -1); err != nil {
				return err
			}
			v := cfg.Vision
			px := make([]float32, cfg.Slices()*v.NumChannels*v.ImageSize*v.ImageSize)
			if err := m.EncodeVision(ctx, s, px); err != nil {
				return err
			}
		}
		if !cfg.HasLLM() {
			return nil
		}
		// A prompt longer than gemvMaxRows, so that prefill picks GEMM as
		// real prompts do.
		prompt := make([]int, gemvMaxRows+1)
		if cfg.HasVision() {
			prompt[1] = model.ImageSlot
		}
		if err := m.Prefill(ctx, s, prompt); err != nil {
			return err
		}
		if _, err := m.SampleNext(s, shaders.SampleParams{}); err != nil {
			return err
		}
		return m.Decode(ctx, s)
	}()
	b.dry = false
	if err == nil {
		err = b.report()
	}
	if err == nil && b.arena == nil {
		b.arena, err = b.newBuffer("gpu.write_arena", arenaBytes)
	}
	if err != nil {
		return fmt.Errorf("gpu: Warm: %w", err)
	}
	return nil
}
