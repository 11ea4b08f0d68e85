package model_test

import (
	"context"
	"ctlens/model/modeltest"
	"math"
	"testing"

	"ctlens/model"
	"ctlens/model/cpu"
	"ctlens/shaders"
)

// byteTokenizer is the shared stand-in for model/tokenizer.
type byteTokenizer = modeltest.ByteTokenizer

// tiny returns the named tiny config.
func tiny(t testing.TB, name string) model.Config {
	t.Helper()
	for _, tc := range model.TinyConfigs() {
		if tc.Name == name {
			return tc.Config
		}
	}
	t.Fatalf("no tiny config %q", name)
	return model.Config{}
}

// load builds a CPU model of cfg from src.
func load(t testing.TB, cfg model.Config, src model.Source) *model.Model {
	t.Helper()
	m, err := model.New(cpu.New(), cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// random is load with RandomWeights(cfg, seed, dt).
func random(t testing.TB, cfg model.Config, seed int64, dt shaders.DType) (*model.Model, model.MapSource) {
	t.Helper()
	src, err := model.RandomWeights(cfg, seed, dt)
	if err != nil {
		t.Fatal(err)
	}
	return load(t, cfg, src), src
}

func newState(t testing.TB, m *model.Model) *model.State {
	t.Helper()
	s, err := m.NewState(model.StateOptions{MaxSeq: 96})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// volume is the shared deterministic random model input.
func volume(cfg model.Config, seed int64) []float32 { return modeltest.Volume(cfg, seed) }

// prompt is the shared chat prompt around text with one image slot.
func prompt(t testing.TB, cfg model.Config, text string) []int {
	t.Helper()
	return modeltest.Prompt(t, cfg, text)
}

// encode runs routing, vision and prefill of prompt on a fresh state and
// returns the state.
func encode(t testing.TB, m *model.Model, ids []int, px []float32, task int) *model.State {
	t.Helper()
	return encodeRouted(t, m, ids, ids, px, task)
}

// encodeRouted is encode with the TGH-MoE routed on route rather than on
// the prefilled ids (a continuation keeps its request's routing).
func encodeRouted(t testing.TB, m *model.Model, route, ids []int, px []float32, task int) *model.State {
	t.Helper()
	s := newState(t, m)
	ctx := context.Background()
	if err := m.RouteText(s, route, task); err != nil {
		t.Fatal(err)
	}
	if err := m.EncodeVision(ctx, s, px); err != nil {
		t.Fatal(err)
	}
	if err := m.Prefill(ctx, s, ids); err != nil {
		t.Fatal(err)
	}
	return s
}

func logits(t testing.TB, m *model.Model, s *model.State) []float32 {
	t.Helper()
	l, err := m.Logits(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func visual(t testing.TB, m *model.Model, s *model.State) []float32 {
	t.Helper()
	v, err := m.VisualTokens(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// nmse is Σ(have−want)²/Σwant².
func nmse(have, want []float32) float64 {
	var num, den float64
	for i := range want {
		d := float64(have[i]) - float64(want[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
	}
	return num / den
}

// assertEqual requires bit-identical values, reporting the first few
// differences.
func assertEqual(t testing.TB, what string, have, want []float32) {
	t.Helper()
	if len(have) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(have), len(want))
	}
	bad := 0
	for i := range want {
		if math.Float32bits(have[i]) != math.Float32bits(want[i]) {
			if bad < 5 {
				t.Errorf("%s[%d]: have %v, want %v", what, i, have[i], want[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values differ", what, bad, len(want))
	}
}

func allFinite(v []float32) bool {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
