package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"ctlens/model"
	"ctlens/model/cpu"
	"ctlens/tools/internal/engine"
	"ctlens/tools/internal/tinymodel"
	"ctlens/tools/phantom/synth"
)

// fixture is a phantom CT series and a tiny model directory, made once
// per test binary (the phantom renders in a fraction of a second at this
// size, but every test needs both).
var fixture struct {
	once        sync.Once
	dicom, tiny string
	tinyStdout  string // what `ctlens model tiny` printed
	err         error
}

func setup(t *testing.T) (dicom, tiny string) {
	t.Helper()
	fixture.once.Do(func() {
		root, err := os.MkdirTemp("", "ctlens-report-test")
		if err != nil {
			fixture.err = err
			return
		}
		ph := filepath.Join(root, "phantom")
		fixture.err = synth.Generate(context.Background(), ph, 1, 1, synth.Options{Seed: 5, Size: synth.Size{Cols: 48, Rows: 48, Slices: 12}}, nil)
		if fixture.err != nil {
			return
		}
		fixture.dicom = filepath.Join(ph, "case0001")
		fixture.tiny = filepath.Join(root, "tiny")
		var out bytes.Buffer
		// Through the command: `ctlens model tiny --out DIR`.
		fixture.err = modelCmd([]string{"tiny", "--out", fixture.tiny}, &out, &bytes.Buffer{})
		fixture.tinyStdout = out.String()
	})
	if fixture.err != nil {
		t.Fatal(fixture.err)
	}
	return fixture.dicom, fixture.tiny
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture.tiny != "" {
		os.RemoveAll(filepath.Dir(fixture.tiny))
	}
	os.Exit(code)
}

// writes records every Write call, to see text arrive in pieces.
type writes struct {
	mu     sync.Mutex
	pieces []string
}

func (w *writes) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pieces = append(w.pieces, string(p))
	return len(p), nil
}

func (w *writes) String() string { return strings.Join(w.pieces, "") }

// runJSON runs report or ask with --json and decodes the output.
func runJSON(t *testing.T, cmd func(context.Context, []string, io.Writer, io.Writer) error, args ...string) output {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := cmd(context.Background(), append(args, "--json"), &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var o output
	if err := json.Unmarshal(stdout.Bytes(), &o); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, stdout.String())
	}
	return o
}

// TestReportStreams: `ctlens report` on a phantom series with the tiny
// model writes the text to stdout in pieces as tokens arrive (not once at
// the end), the pieces make the same text as --json reports for the same
// settings, and the summary goes to stderr.
func TestReportStreams(t *testing.T) {
	dicom, tiny := setup(t)
	args := []string{dicom, "--weights", tiny, "--max-tokens", "24", "--temperature", "0.9", "--seed", "7"}
	var stdout writes
	var stderr bytes.Buffer
	if err := report(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	text, ok := strings.CutSuffix(stdout.String(), "\n")
	if !ok {
		t.Errorf("stdout does not end in a newline: %q", stdout.String())
	}
	j := runJSON(t, report, args...)
	if text != j.Text {
		t.Errorf("streamed text %q, --json text %q", text, j.Text)
	}
	if j.Tokens < 2 {
		t.Fatalf("%d tokens generated (stop %s): too few to see streaming; pick another --seed", j.Tokens, j.StopReason)
	}
	if len(stdout.pieces) < 3 { // ≥ 2 pieces of text, then the newline
		t.Errorf("the text came in %d write(s) for %d tokens: not streamed", len(stdout.pieces), j.Tokens)
	}
	if !strings.Contains(stderr.String(), "tokens") || !strings.Contains(stderr.String(), "task") {
		t.Errorf("stderr summary: %q", stderr.String())
	}
}

// TestReportJSON: --json carries the series, the task with its router
// probabilities, per-layer expert usage that adds up, and timings that
// agree with the token counts.
func TestReportJSON(t *testing.T) {
	dicom, tiny := setup(t)
	d, err := engine.OpenDir(context.Background(), tiny, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := d.Config
	o := runJSON(t, report, dicom, "--weights", tiny, "--max-tokens", "12")
	if o.Command != "report" || o.Backend != "cpu" || o.Model != d.Manifest.Model {
		t.Errorf("header: %+v", o)
	}
	want := [4]int{cfg.Slices(), cfg.Vision.NumChannels, cfg.Vision.ImageSize, cfg.Vision.ImageSize}
	if o.Series.Input != want || o.Series.Dims != [3]int{48, 48, 12} || o.Series.UID == "" || o.Series.Norm != engine.DefaultInputNorm {
		t.Errorf("series: %+v, want input %v from a 48×48×12 phantom", o.Series, want)
	}
	r := o.Routing
	if r == nil || !slices.Contains(model.TaskNames, o.Task) || r.Task != o.Task || r.Forced {
		t.Fatalf("task %q, routing %+v", o.Task, r)
	}
	var sum float64
	best := ""
	for name, p := range r.TaskProbs {
		sum += float64(p)
		if best == "" || p > r.TaskProbs[best] {
			best = name
		}
	}
	if math.Abs(sum-1) > 1e-5 || len(r.TaskProbs) != 3 || best != o.Task {
		t.Errorf("task probabilities %v (sum %v): the chosen task %q should be the most likely", r.TaskProbs, sum, o.Task)
	}
	if len(r.Layers) != len(cfg.MoE.Layers) {
		t.Fatalf("%d routing layers, want %d", len(r.Layers), len(cfg.MoE.Layers))
	}
	for i, l := range r.Layers {
		var share, mass float64
		for e := range l.ExpertShare {
			share += l.ExpertShare[e]
			mass += l.GateMass[e]
		}
		if l.Layer != cfg.MoE.Layers[i] || l.K != cfg.MoE.TopK || l.Tokens != cfg.Slices()*cfg.Vision.Tokens() ||
			len(l.ExpertShare) != cfg.MoE.ExpertsPerTask || math.Abs(share-1) > 1e-9 || math.Abs(mass-1) > 1e-4 ||
			l.MeanTopGate < 1/float64(l.K)-1e-6 {
			t.Errorf("layer summary %+v (share Σ %v, gate mass Σ %v)", l, share, mass)
		}
	}
	tm := o.Timings
	if o.Tokens < 1 || tm.DecodeTokens != o.Tokens-1 && o.StopReason == "length" || tm.PrefillTokens <= cfg.VisualTokens() ||
		tm.VisionMS <= 0 || tm.PrefillMS <= 0 || tm.LoadMS <= 0 || tm.ImportMS <= 0 {
		t.Errorf("timings %+v for %d tokens (%s)", tm, o.Tokens, o.StopReason)
	}
}

// TestAsk: a closed question with --choices gets them in the M3D form,
// --task forces the group, and the answer comes back as text.
func TestAsk(t *testing.T) {
	dicom, tiny := setup(t)
	o := runJSON(t, ask, dicom, "Is there a lung nodule?", "--choices", "yes|no", "--weights", tiny, "--max-tokens", "6", "--task", "closed_vqa")
	if o.Command != "ask" || o.Question != "Is there a lung nodule? Choices: A. yes B. no" {
		t.Errorf("question %q", o.Question)
	}
	if o.Routing == nil || !o.Routing.Forced || o.Task != "closed_vqa" {
		t.Errorf("--task closed_vqa: task %q, routing %+v", o.Task, o.Routing)
	}
	var stdout, stderr bytes.Buffer
	if err := ask(context.Background(), []string{"--weights", tiny, dicom, "Where is the lesion?", "--max-tokens", "4"}, &stdout, &stderr); err != nil {
		t.Fatalf("flags before the arguments: %v\n%s", err, stderr.String())
	}
}

// TestGenerateErrors: each misuse ends with a hint naming the fix.
func TestGenerateErrors(t *testing.T) {
	dicom, tiny := setup(t)
	empty := t.TempDir()
	cases := []struct {
		name string
		cmd  func(context.Context, []string, io.Writer, io.Writer) error
		args []string
		want string
	}{
		{"no-default-model", report, []string{dicom}, "tools/ctlens model tiny"},
		{"backend", report, []string{dicom, "--weights", tiny, "--backend", "tpu"}, "--backend cpu|gpu"},
		{"not-a-model", report, []string{dicom, "--weights", empty}, "not a ctlens model directory"},
		{"no-dicom", report, []string{empty, "--weights", tiny}, "ctlens info"},
		{"series", report, []string{dicom, "--weights", tiny, "--series", "1.2.3"}, "--series one of"},
		{"task", report, []string{dicom, "--weights", tiny, "--task", "triage"}, "auto, report"},
		{"no-path", report, []string{"--weights", tiny}, "want one DICOM_PATH"},
		{"no-question", ask, []string{dicom, "--weights", tiny}, "a question"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cmd(context.Background(), c.args, &bytes.Buffer{}, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("have %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// TestModelTiny: every family and storage type makes a directory that
// loads, and --hf makes a checkpoint that hf-dump and the converter read.
func TestModelTiny(t *testing.T) {
	_, tiny := setup(t)
	if !strings.Contains(fixture.tinyStdout, "--weights "+tiny) {
		t.Errorf("model tiny did not say how to use it: %q", fixture.tinyStdout)
	}
	for i, fam := range tinymodel.Families() {
		dt := []string{"f32", "f16", "int8", "int4"}[i%4]
		dir := filepath.Join(t.TempDir(), fam)
		if err := modelCmd([]string{"tiny", "--out", dir, "--family", fam, "--dtype", dt}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
			t.Fatalf("%s %s: %v", fam, dt, err)
		}
		d, err := engine.OpenDir(context.Background(), dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d.Tokenizer == nil || d.Config.LLM.VocabSize != d.Tokenizer.VocabSize() {
			t.Errorf("%s: tokenizer %v, vocab %d", fam, d.Tokenizer != nil, d.Config.LLM.VocabSize)
		}
		if _, err := model.New(cpu.New(), d.Config, d.Source); err != nil {
			t.Errorf("%s %s: %v", fam, dt, err)
		}
	}
	hf := filepath.Join(t.TempDir(), "hf")
	if err := modelCmd([]string{"tiny", "--hf", tinymodel.Phi3, "--out", hf}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if _, err := engine.OpenHF(hf); err != nil {
		t.Error(err)
	}
	for _, args := range [][]string{{"tiny", "--out", tiny}, {"tiny", "--out", t.TempDir(), "--family", "huge"}, {"big"}} {
		if err := modelCmd(args, &bytes.Buffer{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "hint") && !strings.Contains(err.Error(), "usage") {
			t.Errorf("%v: %v", args, err)
		}
	}
}

// TestCommandsRegistered: the new subcommands are reachable from main.
func TestCommandsRegistered(t *testing.T) {
	for _, name := range []string{"report", "ask", "hf-dump", "model"} {
		if c, ok := commands[name]; !ok || c.run == nil || c.summary == "" {
			t.Errorf("command %q is not registered", name)
		}
	}
}

// TestReportGPU: `ctlens report --backend gpu` (lavapipe where the test
// script installs it) warms the pipelines at load and writes, greedily,
// the same report with the same routing as the CPU reference.
func TestReportGPU(t *testing.T) {
	dicom, tiny := setup(t)
	args := []string{dicom, "--weights", tiny, "--max-tokens", "12"}
	c := runJSON(t, report, append(args, "--backend", "cpu")...)
	g := runJSON(t, report, append(args, "--backend", "gpu")...)
	if !strings.HasPrefix(g.Backend, "gpu/") {
		t.Errorf("backend %q", g.Backend)
	}
	if g.Text != c.Text || g.Task != c.Task || g.Tokens != c.Tokens {
		t.Errorf("GPU: %q (task %s, %d tokens); CPU: %q (task %s, %d tokens)", g.Text, g.Task, g.Tokens, c.Text, c.Task, c.Tokens)
	}
	for name, p := range c.Routing.TaskProbs {
		if math.Abs(float64(g.Routing.TaskProbs[name]-p)) > 1e-5 {
			t.Errorf("task %s: GPU probability %v, CPU %v", name, g.Routing.TaskProbs[name], p)
		}
	}
}
