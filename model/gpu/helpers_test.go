//go:build !js

package gpu

import (
	"context"
	"ctlens/model/modeltest"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"testing"

	"ctlens/model"
	"ctlens/model/cpu"
	"ctlens/shaders"
	"ctlens/wgpu"
)

// One device for the whole test binary: opening lavapipe and compiling a
// variant are what take time, and the device's pipeline cache is shared by
// every Backend made on it.
var testDev struct {
	once sync.Once
	d    *wgpu.Device
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if testDev.d != nil {
		testDev.d.Close()
	}
	os.Exit(code)
}

// device fails (never skips) when no adapter exists: the test command
// installs Mesa's lavapipe, so a missing adapter is a broken setup.
func device(t testing.TB) *wgpu.Device {
	t.Helper()
	testDev.once.Do(func() {
		testDev.d, testDev.err = wgpu.Open(context.Background(), wgpu.Options{})
	})
	if testDev.err != nil {
		t.Fatalf("open GPU device (on Debian, install mesa-vulkan-drivers for lavapipe): %v", testDev.err)
	}
	return testDev.d
}

// ---- a tokenizer for prompts -------------------------------------------------

// byteTokenizer is the shared stand-in for model/tokenizer.
type byteTokenizer = modeltest.ByteTokenizer

// ---- models on both backends ---------------------------------------------------

// twinModels is one random model loaded on the CPU backend and on a fresh
// GPU backend (warmed), from the same weights.
type twinModels struct {
	cfg      model.Config
	cpu, gpu *model.Model
	gb       *Backend
}

func loadTwins(t testing.TB, cfg model.Config, seed int64, dt shaders.DType) twinModels {
	t.Helper()
	src, err := model.RandomWeights(cfg, seed, dt)
	if err != nil {
		t.Fatal(err)
	}
	cm, err := model.New(cpu.New(), cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	gb := New(device(t))
	gm, err := model.New(gb, cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	if err := gb.Warm(context.Background(), gm); err != nil {
		t.Fatal(err)
	}
	return twinModels{cfg: cfg, cpu: cm, gpu: gm, gb: gb}
}

func newState(t testing.TB, m *model.Model, maxSeq int) *model.State {
	t.Helper()
	s, err := m.NewState(model.StateOptions{MaxSeq: maxSeq})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Free)
	return s
}

func tinyConfig(t testing.TB, name string) model.Config {
	t.Helper()
	for _, tc := range model.TinyConfigs() {
		if tc.Name == name {
			return tc.Config
		}
	}
	t.Fatalf("no tiny config %q", name)
	return model.Config{}
}

// volume is the shared deterministic random model input.
func volume(cfg model.Config, seed int64) []float32 { return modeltest.Volume(cfg, seed) }

// chatPrompt is the shared chat prompt around text with one image slot.
func chatPrompt(t testing.TB, cfg model.Config, text string) []int {
	t.Helper()
	return modeltest.Prompt(t, cfg, text)
}

// ---- comparisons ---------------------------------------------------------------

// nmse is Σ(have−want)²/Σwant² (ggml's test-backend-ops metric); +Inf when
// a value is not finite where the reference is, or the lengths differ.
func nmse(have, want []float32) float64 {
	if len(have) != len(want) {
		return math.Inf(1)
	}
	var num, den float64
	for i := range want {
		h, w := float64(have[i]), float64(want[i])
		if math.IsNaN(h) != math.IsNaN(w) || math.IsInf(h, 0) != math.IsInf(w, 0) {
			return math.Inf(1)
		}
		if math.IsNaN(w) || math.IsInf(w, 0) {
			continue
		}
		num += (h - w) * (h - w)
		den += w * w
	}
	if den == 0 {
		if num == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return num / den
}

// firstDiffs describes the first few values that differ by more than
// rel·max(1, |want|).
func firstDiffs(have, want []float32, rel float64) string {
	var b strings.Builder
	n := 0
	for i := range min(len(have), len(want)) {
		if d := math.Abs(float64(have[i]) - float64(want[i])); d > rel*math.Max(1, math.Abs(float64(want[i]))) || math.IsNaN(d) {
			fmt.Fprintf(&b, " [%d] have %v want %v;", i, have[i], want[i])
			if n++; n == 5 {
				break
			}
		}
	}
	return b.String()
}

func maxAbsDiff(have, want []float32) float64 {
	if len(have) != len(want) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range want {
		m = math.Max(m, math.Abs(float64(have[i])-float64(want[i])))
	}
	return m
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

// margin is the gap between the largest and second-largest value.
func margin(v []float32) float64 {
	a := argmax(v)
	second := math.Inf(-1)
	for i, x := range v {
		if i != a {
			second = math.Max(second, float64(x))
		}
	}
	return float64(v[a]) - second
}
