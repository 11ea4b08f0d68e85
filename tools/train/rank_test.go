package main

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	mengine "ctlens/model/engine"
	"ctlens/tools/internal/backend"
	"ctlens/tools/internal/engine"
)

// TestDemoRankParity ranks closed questions' choices with the shipped
// demo model (engine.Choose, what eval --closed rank and `ctlens ask`
// run) on the parity volume on both backends: the same choice, and each
// choice's summed log-likelihood within 1e-3 (the backends' logits agree
// to ~1.5e-5 absolute, TestDemoParity; an answer is ≤ 10 tokens).
func TestDemoRankParity(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(repoRoot(t), "weights", "demo")
	pixels, _, err := readF32(filepath.Join(dir, ParityPixels))
	if err != nil {
		t.Fatal(err)
	}
	d, err := engine.Open(ctx, dir)
	if err != nil {
		t.Fatalf("%v\nhint: train and export the demo model as docs/TRAINING.md says", err)
	}
	questions := []mengine.Request{
		{Question: "Is there a pleural effusion in this CT scan? Choices: A. yes B. no"},
		{Question: "Which abnormality is the most urgent in this CT scan? Choices: A. consolidation B. kidney stone C. no abnormality D. pleural effusion"},
		{Question: "On which side is the pleural effusion? Choices: A. midline B. both sides C. right D. left"},
	}
	results := map[string][]float64{}
	chosen := map[string][]int{}
	for _, be := range []string{"cpu", "gpu"} {
		ops, release, err := backend.Open(ctx, be)
		if err != nil {
			t.Fatal(err)
		}
		e, err := d.Info.Load(ctx, ops, d.Opener(), nil)
		if err != nil {
			release()
			t.Fatal(err)
		}
		for _, q := range questions {
			q.Pixels = pixels
			r, err := e.Choose(ctx, q, nil)
			if err != nil {
				release()
				t.Fatalf("%s: %q: %v", be, q.Question, err)
			}
			sum := 0.0
			for _, p := range r.Probs {
				sum += p
			}
			if math.Abs(sum-1) > 1e-9 || len(r.Probs) != len(r.LogProbs) {
				t.Errorf("%s: probabilities %v", be, r.Probs)
			}
			t.Logf("%s: %q → %s, p %.4f", be, q.Question, r.Text, r.Probs)
			results[be] = append(results[be], r.LogProbs...)
			chosen[be] = append(chosen[be], r.Index)
		}
		release()
	}
	for i := range chosen["cpu"] {
		if chosen["cpu"][i] != chosen["gpu"][i] {
			t.Errorf("question %d: CPU chose %d, GPU %d", i, chosen["cpu"][i], chosen["gpu"][i])
		}
	}
	worst := 0.0
	for i := range results["cpu"] {
		worst = math.Max(worst, math.Abs(results["cpu"][i]-results["gpu"][i]))
	}
	if !(worst <= 1e-3) || len(results["cpu"]) != len(results["gpu"]) {
		t.Errorf("log-likelihoods differ by up to %.3g between the backends:\n cpu %v\n gpu %v", worst, results["cpu"], results["gpu"])
	}
	t.Logf("max |Δ log-likelihood| cpu vs gpu %.2g over %d choices", worst, len(results["cpu"]))
}
