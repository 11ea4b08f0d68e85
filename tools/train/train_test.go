package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"ctlens/tools/dataset/dataset"
)

// python is Debian's interpreter, the one python3-torch installs into.
const python = "/usr/bin/python3"

// requireTorch fails (never skips) without PyTorch: scripts/test.sh
// installs it, so its absence is a broken setup.
func requireTorch(t *testing.T) {
	t.Helper()
	out, err := exec.Command(python, "-c", "import torch, numpy; print(torch.__version__)").CombinedOutput()
	if err != nil {
		t.Fatalf("%s cannot import torch: %v\n%s\nhint: apt-get install -y python3-torch python3-numpy", python, err, out)
	}
}

// repoRoot is the module root (tools/train's tests run in tools/train).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// tinyDataset builds a dataset of a few tiny cases with tools/dataset
// (the real builder: synth phantoms through the import and ModelInput).
func tinyDataset(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	_, err := dataset.Build(context.Background(), dataset.Options{Out: dir, N: 12, Seed: 3, D: 4, H: 32, W: 32,
		Norm: dataset.DefaultNorm, Vocab: 300, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// script runs one of tools/train's Python programs from the repository
// root and returns its output.
func script(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command("nice", append([]string{"-n", "10", python, filepath.Join("tools/train", name)}, args...)...)
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// logRecords reads a run's log.jsonl.
func logRecords(t *testing.T, run string) []map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join(run, "log.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("log.jsonl: %v", err)
		}
		recs = append(recs, r)
	}
	return recs
}

// TestTrainExportParity is the third rung of the testing ladder: the
// smoke recipe (stage 0 2D, stage 1 3D transfer, stage 2 TGH-MoE) trained
// data-parallel on 2 CPU ranks, exported, and the engine's CPU and GPU
// backends reproducing PyTorch's logits, task routing and greedy tokens.
func TestTrainExportParity(t *testing.T) {
	requireTorch(t)
	data := tinyDataset(t)
	run := filepath.Join(t.TempDir(), "run")
	out := script(t, "train.py", "--data", data, "--out", run, "--smoke", "--ranks", "2", "--finding-aux", "1")
	t.Logf("train:\n%s", out)

	// Every stage logged finite losses for each of its steps, once (rank 0).
	steps := map[string]int{}
	for _, r := range logRecords(t, run) {
		if r["event"] != nil {
			continue
		}
		st := r["stage"].(string)
		steps[st]++
		if l := r["loss"].(float64); math.IsNaN(l) || math.IsInf(l, 0) || l <= 0 {
			t.Errorf("stage %s step %v: loss %v", st, r["step"], l)
		}
		if st == "s2" && r["task_ce"].(float64) <= 0 {
			t.Errorf("stage s2 step %v: no task-router loss", r["step"])
		}
		if f := r["finding"].(float64); !(f > 0) {
			t.Errorf("stage %s step %v: finding-probe loss %v (--finding-aux 1)", st, r["step"], f)
		}
	}
	for _, st := range []string{"s0", "s1", "s2"} {
		if steps[st] != 3 {
			t.Errorf("stage %s logged %d steps, want 3 (--smoke)", st, steps[st])
		}
	}

	checkProbeCounts(t, data, filepath.Join(run, "s0", "eval.json"), true)
	checkProbeCounts(t, data, filepath.Join(run, "s2", "eval.json"), false)

	model := filepath.Join(t.TempDir(), "model")
	t.Logf("export:\n%s", script(t, "export.py", filepath.Join(run, "s2", "final.pt"), "--out", model))
	for _, be := range []string{"cpu", "gpu"} {
		r, err := CheckParity(context.Background(), model, be)
		if err != nil {
			t.Fatalf("%s: %v", be, err)
		}
		t.Log(r)
		if err := r.Err(); err != nil {
			t.Error(err)
		}
		if r.WantTask < 0 || len(r.WantTokens) != 8 {
			t.Errorf("%s: parity file without task routing or 8 greedy tokens: %v", be, r)
		}
	}
}

// checkProbeCounts compares the finding probe's validation counts in a
// stage's eval.json with the validation cases (or, in stage 0, slices:
// the tiny dataset has fewer than the 2,000 it samples) that have each
// kind, counted here from samples.jsonl or captions.jsonl: the probe's
// labels are the dataset's findings.
func checkProbeCounts(t *testing.T, data, evalJSON string, slices bool) {
	t.Helper()
	b, err := os.ReadFile(evalJSON)
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		FindingProbe map[string]struct {
			Recall, Specificity float64
			N                   int
		} `json:"finding_probe"`
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("%s: %v", evalJSON, err)
	}
	meta, err := dataset.ReadMeta(data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[[2]int]bool{} // kind -> the (case, slice) that show it
	add := func(fs []dataset.Finding, key [2]int) {
		for _, f := range fs {
			if want[f.Kind] == nil {
				want[f.Kind] = map[[2]int]bool{}
			}
			want[f.Kind][key] = true
		}
	}
	if slices {
		caps, err := dataset.ReadCaptions(data, "val")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range caps {
			add(c.Findings, [2]int{c.Case, c.Slice})
		}
	} else {
		samples, err := dataset.ReadSamples(data, "val")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range samples {
			add(s.Findings, [2]int{s.Case, 0})
		}
	}
	if len(ev.FindingProbe) != len(meta.Findings) {
		t.Errorf("%s: the probe scored %d kinds, the dataset draws %d", evalJSON, len(ev.FindingProbe), len(meta.Findings))
	}
	for _, f := range meta.Findings {
		got, ok := ev.FindingProbe[f.Kind]
		if !ok || got.N != len(want[f.Kind]) {
			t.Errorf("%s: probe counts %d validation cases with %s, samples.jsonl %d", evalJSON, got.N, f.Kind, len(want[f.Kind]))
		}
	}
}

// TestResumeIsExact interrupts a run after a checkpoint and resumes it:
// the result must be bit-identical to the uninterrupted run (determinism
// by seed, and resumption restoring model, optimizer and data order).
func TestResumeIsExact(t *testing.T) {
	requireTorch(t)
	data := tinyDataset(t)
	base := []string{"--data", data, "--smoke", "--steps", "0:2,1:5,2:2", "--eval-n", "1", "--threads", "1", "--finding-aux", "1"}
	whole := filepath.Join(t.TempDir(), "whole")
	script(t, "train.py", append([]string{"--out", whole}, base...)...)

	cut := filepath.Join(t.TempDir(), "cut")
	script(t, "train.py", append([]string{"--out", cut, "--stop-after", "5"}, base...)...) // s0: 2, s1: 3 of 5 (checkpoint at 2)
	if _, err := os.Stat(filepath.Join(cut, "s1", "latest.pt")); err != nil {
		t.Fatalf("no checkpoint to resume from: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cut, "s1", "final.pt")); err == nil {
		t.Fatal("the interrupted run finished stage s1 anyway")
	}
	out := script(t, "train.py", append([]string{"--out", cut, "--resume"}, base...)...)
	if !strings.Contains(out, "resuming at step 2") {
		t.Errorf("the resumed run did not say it resumed at step 2:\n%s", out)
	}
	cmp := script(t, "ckpt_diff.py", filepath.Join(whole, "s2", "final.pt"), filepath.Join(cut, "s2", "final.pt"))
	if strings.TrimSpace(cmp) != "max_abs_diff 0" {
		t.Errorf("resumed run differs from the uninterrupted one: %s", cmp)
	}
}

// TestModelSelfCheck runs selfcheck.py: the transfer and the MoE
// initialisation preserve the function they start from, and the routing
// follows the engine's rules.
func TestModelSelfCheck(t *testing.T) {
	requireTorch(t)
	out := script(t, "selfcheck.py")
	if !bytes.Contains([]byte(out), []byte("selfcheck ok")) {
		t.Errorf("selfcheck.py:\n%s", out)
	}
	t.Log(out)
}

// TestDemoParity checks the shipped demo model (weights/demo, the app's
// default) against the parity file PyTorch wrote when it was exported, on
// both backends, and that it stays small enough for git and a fast load.
func TestDemoParity(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "weights", "demo")
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err != nil {
		t.Fatalf("no demo model: %v\nhint: train and export it as docs/TRAINING.md says", err)
	}
	var total int64
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		total += info.Size()
	}
	if total > 40<<20 {
		t.Errorf("weights/demo holds %.1f MiB, more than the 40 MiB budget", float64(total)/(1<<20))
	}
	for _, be := range []string{"cpu", "gpu"} {
		r, err := CheckParity(context.Background(), dir, be)
		if err != nil {
			t.Fatalf("%s: %v", be, err)
		}
		t.Log(r)
		if err := r.Err(); err != nil {
			t.Error(err)
		}
	}
}
