package model_test

import (
	"slices"
	"strings"
	"testing"

	"ctlens/model"
	"ctlens/model/cpu"
)

// limited is the CPU backend with a GPU's binding limit: the model must
// lay its vision pass out to fit, and every vision buffer it allocates is
// checked against the limit.
type limited struct {
	model.Ops
	limit   uint64
	t       testing.TB
	largest uint64
}

func (l *limited) BindingLimit() uint64 { return l.limit }

func (l *limited) Alloc(name string, dt model.DType, shape ...int) model.Tensor {
	n := uint64(4)
	for _, s := range shape {
		n *= uint64(s)
	}
	if strings.HasPrefix(name, "vision.") {
		l.largest = max(l.largest, n)
		if n > l.limit {
			l.t.Errorf("vision buffer %s%v of %d bytes > the binding limit %d", name, shape, n, l.limit)
		}
	}
	return l.Ops.Alloc(name, dt, shape...)
}

// TestVisionFitsTheBindingLimit: a 3D TGH-MoE tower run under a binding
// limit that its fused q, k, v and its MLP/expert activations exceed
// (q, k, v split; MLP and experts in chunks of tokens) gives the same
// visual tokens, routing and logits as the unlimited pass, bit for bit;
// a limit below one (tokens, Cv) activation is refused by name.
func TestVisionFitsTheBindingLimit(t *testing.T) {
	cfg := tiny(t, "mha-untied-longrope-moe-3d")
	v := cfg.Vision
	vt, cv := uint64(cfg.Slices()*v.Tokens()), uint64(v.HiddenSize)
	ref, src := random(t, cfg, 5, 0)
	ids := prompt(t, cfg, "Is there a nodule in the right lung?")
	px := volume(cfg, 2)
	rs := encode(t, ref, ids, px, -1)
	wantVis, wantLogits := visual(t, ref, rs), logits(t, ref, rs)
	wantRouting, err := ref.ReadRouting(rs, false)
	if err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name  string
		limit uint64
	}{
		{"split q/k/v, MLP in chunks", vt * cv * 4},                                  // exactly one (tokens, Cv) activation
		{"fused q/k/v, MLP in chunks", vt*3*cv*4 + 4*cv},                             // the fused qkv fits, the experts' rows do not
		{"no limit reached", vt * uint64(max(2*v.Intermediate, 3*v.HiddenSize)) * 8}, // everything at once
	} {
		t.Run(c.name, func(t *testing.T) {
			ops := &limited{Ops: cpu.New(), limit: c.limit, t: t}
			m, err := model.New(ops, cfg, src)
			if err != nil {
				t.Fatal(err)
			}
			s := encode(t, m, ids, px, -1)
			assertEqual(t, "visual tokens", visual(t, m, s), wantVis)
			assertEqual(t, "logits", logits(t, m, s), wantLogits)
			r, err := m.ReadRouting(s, false)
			if err != nil {
				t.Fatal(err)
			}
			for i, l := range r.Layers {
				if !slices.Equal(l.Experts, wantRouting.Layers[i].Experts) || !slices.Equal(l.Gates, wantRouting.Layers[i].Gates) {
					t.Errorf("layer %d routing differs", l.Layer)
				}
			}
			if ops.largest > c.limit {
				t.Errorf("largest vision buffer %d > limit %d", ops.largest, c.limit)
			}
		})
	}

	_, err = model.New(&limited{Ops: cpu.New(), limit: vt*cv*4 - 4, t: t}, cfg, src)
	if err == nil || !strings.Contains(err.Error(), "binding limit") || !strings.Contains(err.Error(), "slices") {
		t.Errorf("a limit below one activation: %v", err)
	}
}
