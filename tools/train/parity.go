package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"ctlens/model"
	"ctlens/tools/internal/backend"
	"ctlens/tools/internal/engine"
	"ctlens/tools/internal/npy"
)

// Parity files, written by export.py into the model directory.
const (
	ParityFile         = "parity.json"
	ParityPixels       = "parity_pixels.npy"        // (D, Cin, H, W) f32, the volume
	ParityPromptLogits = "parity_prompt_logits.npy" // (Tp, V) f32, every row of the expanded prompt
	ParityStepLogits   = "parity_step_logits.npy"   // (steps, V) f32, the logits each greedy token was picked from
)

// Tolerances of the check. Both sides compute in f32 with different
// summation orders (PyTorch's BLAS, the Go reference, WGSL on lavapipe),
// so logits agree to a few ulp of their magnitude, not bit for bit; NMSE
// (ggml's test-backend-ops measure) bounds the whole vector.
const (
	MaxNMSE         = 1e-6
	MaxTaskProbDiff = 1e-4
)

// ParityInput is parity.json.
type ParityInput struct {
	Prompt    []int     `json:"prompt"`     // ids with one model.ImageSlot (−1)
	Tokens    []int     `json:"tokens"`     // PyTorch's greedy tokens
	Task      int       `json:"task"`       // the task group PyTorch's router chose; −1 for a dense model
	TaskProbs []float32 `json:"task_probs"` // its softmax
	Dtype     string    `json:"dtype"`      // the storage the logits were computed with ("f32", …)
}

// ParityResult is one backend's comparison with PyTorch.
type ParityResult struct {
	Backend                  string
	Rows                     int     // prompt rows compared (visual tokens included)
	PromptMaxAbs, PromptNMSE float64 // over all prompt rows
	StepMaxAbs, StepNMSE     float64 // over the decode steps (teacher-forced with PyTorch's tokens)
	LogitScale               float64 // max |logit| of PyTorch's, for reading the max-abs numbers
	Task, WantTask           int
	TaskProbDiff             float64
	Tokens, WantTokens       []int // the engine's greedy generation, PyTorch's
}

func (r ParityResult) String() string {
	return fmt.Sprintf("%s: %d prompt rows: max|Δ| %.3g NMSE %.3g; %d steps: max|Δ| %.3g NMSE %.3g (max |logit| %.3g); task %d (want %d, probs max|Δ| %.2g); greedy %v (want %v)",
		r.Backend, r.Rows, r.PromptMaxAbs, r.PromptNMSE, len(r.WantTokens), r.StepMaxAbs, r.StepNMSE, r.LogitScale,
		r.Task, r.WantTask, r.TaskProbDiff, r.Tokens, r.WantTokens)
}

// Err says what is outside the tolerances, nil when nothing is.
func (r ParityResult) Err() error {
	var bad []string
	if !(r.PromptNMSE <= MaxNMSE) {
		bad = append(bad, fmt.Sprintf("prompt logits NMSE %.3g > %g", r.PromptNMSE, MaxNMSE))
	}
	if !(r.StepNMSE <= MaxNMSE) {
		bad = append(bad, fmt.Sprintf("step logits NMSE %.3g > %g", r.StepNMSE, MaxNMSE))
	}
	if r.Task != r.WantTask {
		bad = append(bad, fmt.Sprintf("task %d, PyTorch chose %d", r.Task, r.WantTask))
	}
	if !(r.TaskProbDiff <= MaxTaskProbDiff) {
		bad = append(bad, fmt.Sprintf("task probabilities differ by %.3g", r.TaskProbDiff))
	}
	if !slices.Equal(r.Tokens, r.WantTokens) {
		bad = append(bad, fmt.Sprintf("greedy tokens %v, PyTorch's %v", r.Tokens, r.WantTokens))
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s backend differs from PyTorch: %s", r.Backend, strings.Join(bad, "; "))
	}
	return nil
}

// CheckParity loads the model directory dir on backend be and runs
// export.py's fixed inputs through it.
func CheckParity(ctx context.Context, dir, be string) (ParityResult, error) {
	res := ParityResult{Backend: be}
	raw, err := os.ReadFile(filepath.Join(dir, ParityFile))
	if err != nil {
		return res, fmt.Errorf("%w\nhint: export.py writes %s into the model directory it exports", err, ParityFile)
	}
	var in ParityInput
	if err := json.Unmarshal(raw, &in); err != nil {
		return res, fmt.Errorf("%s: %w", filepath.Join(dir, ParityFile), err)
	}
	pixels, _, err := readF32(filepath.Join(dir, ParityPixels))
	if err != nil {
		return res, err
	}
	wantPrompt, pshape, err := readF32(filepath.Join(dir, ParityPromptLogits))
	if err != nil {
		return res, err
	}
	wantSteps, _, err := readF32(filepath.Join(dir, ParityStepLogits))
	if err != nil {
		return res, err
	}

	d, err := engine.OpenDir(ctx, dir, nil)
	if err != nil {
		return res, err
	}
	ops, release, err := backend.Open(ctx, be)
	if err != nil {
		return res, err
	}
	defer release()
	m, err := model.New(ops, d.Config, d.Source)
	if err != nil {
		return res, err
	}
	if err := backend.Warm(ctx, ops, m); err != nil {
		return res, err
	}
	v := d.Config.LLM.VocabSize
	rows := len(in.Prompt) - 1 + d.Config.VisualTokens()
	if len(pshape) != 2 || pshape[0] != rows || pshape[1] != v {
		return res, fmt.Errorf("%s: shape %v, want (%d prompt rows, %d)", ParityPromptLogits, pshape, rows, v)
	}
	if len(wantSteps) != len(in.Tokens)*v {
		return res, fmt.Errorf("%s: %d values, want %d steps × %d", ParityStepLogits, len(wantSteps), len(in.Tokens), v)
	}
	s, err := m.NewState(model.StateOptions{MaxSeq: rows + len(in.Tokens) + 1})
	if err != nil {
		return res, err
	}
	defer s.Free()

	// Prefill, every prompt row's logits, then teacher-forced steps.
	res.WantTask, res.WantTokens, res.Rows = in.Task, in.Tokens, rows
	res.Task = -1
	if d.Config.HasMoE() {
		if err := m.RouteText(s, in.Prompt, -1); err != nil {
			return res, err
		}
	}
	if err := m.EncodeVision(ctx, s, pixels); err != nil {
		return res, err
	}
	if err := m.Prefill(ctx, s, in.Prompt); err != nil {
		return res, err
	}
	if r, err := m.ReadRouting(s, false); err != nil {
		return res, err
	} else if r != nil {
		res.Task = r.Task
		for i, p := range r.TaskProbs {
			if i < len(in.TaskProbs) {
				res.TaskProbDiff = max(res.TaskProbDiff, math.Abs(float64(p-in.TaskProbs[i])))
			}
		}
	}
	var have []float32
	for r := 0; r < rows; r++ {
		l, err := m.LogitsAt(s, r)
		if err != nil {
			return res, err
		}
		have = append(have, l...)
	}
	res.PromptMaxAbs, res.PromptNMSE = compare(have, wantPrompt)
	have = have[:0]
	for i, id := range in.Tokens {
		l, err := m.Logits(s)
		if i == 0 {
			l, err = m.LogitsAt(s, rows-1) // LogitsAt above moved the logits off the last row
		}
		if err != nil {
			return res, err
		}
		have = append(have, l...)
		if i+1 < len(in.Tokens) {
			if err := m.DecodeToken(ctx, s, id); err != nil {
				return res, err
			}
		}
	}
	res.StepMaxAbs, res.StepNMSE = compare(have, wantSteps)
	for _, w := range append(slices.Clone(wantPrompt), wantSteps...) {
		res.LogitScale = max(res.LogitScale, math.Abs(float64(w)))
	}

	// The engine's own greedy generation (sampler included).
	gen, err := m.Generate(ctx, s, model.Request{Prompt: in.Prompt, Pixels: pixels}, model.GenerateOptions{MaxTokens: len(in.Tokens)})
	if err != nil {
		return res, err
	}
	res.Tokens = gen.Tokens
	return res, nil
}

// compare returns max |a−b| and Σ(a−b)²/Σb².
func compare(a, b []float32) (maxAbs, nmse float64) {
	if len(a) != len(b) {
		return math.Inf(1), math.Inf(1)
	}
	var num, den float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		maxAbs = max(maxAbs, math.Abs(d))
		num += d * d
		den += float64(b[i]) * float64(b[i])
	}
	if den == 0 {
		return maxAbs, num
	}
	return maxAbs, num / den
}

func readF32(path string) ([]float32, []int, error) {
	a, err := npy.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%w\nhint: export.py writes the parity files; export the checkpoint again", err)
	}
	v, err := a.Float32s()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, a.Shape, nil
}
