package main

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"ctlens/tools/internal/npy"
	"ctlens/tools/internal/tinymodel"
	"ctlens/weights"
)

// python is the interpreter with Debian's torch; a venv's python3 on PATH
// usually has neither torch nor numpy.
const python = "/usr/bin/python3"

// refNMSE is the most a dump may differ from the reference: both run in
// float32, so what separates them is summation order (~1e-13 measured).
const refNMSE = 1e-9

// refJob is one run of testdata/hfref.py (its --jobs entries).
type refJob struct {
	Checkpoint string `json:"checkpoint"`
	Out        string `json:"out"`
	Tokens     string `json:"tokens,omitempty"`
	TokensNPY  string `json:"tokens_npy,omitempty"`
	Pixels     string `json:"pixels,omitempty"`
	ImageSizes string `json:"image_sizes,omitempty"`
	Perturb    string `json:"perturb,omitempty"`
}

// refCase is a checkpoint with its inputs, dumped by hf-dump on backend
// and computed by hfref.py.
type refCase struct {
	name    string
	backend string
	args    []string // hf-dump's input flags
	job     refJob
	files   []string // every file both must write
	dump    string   // hf-dump's output directory
}

var (
	clipFiles   = []string{"hidden_states.npy", "last_hidden_state.npy", "pooler_output.npy"}
	causalFiles = []string{"logits.npy", "greedy_tokens.npy", "greedy_step_logits.npy"}
	phi3vFiles  = append([]string{"image_embeds.npy", "inputs_embeds.npy"}, causalFiles...)
)

// needTorch fails the test with the install hint when the reference's
// interpreter cannot import torch and numpy.
func needTorch(t *testing.T) {
	t.Helper()
	out, err := exec.Command(python, "-c", "import numpy, torch").CombinedOutput()
	if err != nil {
		t.Fatalf("%s cannot import torch and numpy: %v\n%s\nhint: apt-get install python3-torch python3-numpy", python, err, out)
	}
}

// runRef runs hfref.py once over jobs and returns its stderr, where each
// failed job has a line of its own.
func runRef(t *testing.T, jobs []refJob) (string, error) {
	t.Helper()
	data, err := json.Marshal(jobs)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jobs.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, filepath.Join("testdata", "hfref.py"), "--jobs", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	return stderr.String(), err
}

// tokenIDs is a deterministic prompt of n ids below vocab.
func tokenIDs(n, vocab int, seed int64) []int {
	rng := rand.New(rand.NewSource(seed))
	ids := make([]int, n)
	for i := range ids {
		ids[i] = rng.Intn(vocab)
	}
	return ids
}

// tieCheckpoint turns a Phi3 checkpoint into one with tied embeddings: the
// config says so and lm_head.weight is absent, so both readers must fall
// back to embed_tokens.
func tieCheckpoint(t *testing.T, dir string) {
	t.Helper()
	p := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(data, &obj); err != nil {
		t.Fatal(err)
	}
	obj["tie_word_embeddings"] = true
	if data, err = json.Marshal(obj); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// refCases builds the checkpoints and inputs: every architecture WriteHF
// writes, sharded and not, F32, F16 and BF16, tied and untied heads,
// GQA, and LongRoPE with prompts below, above and crossing
// original_max_position_embeddings (128) during the greedy steps.
func refCases(t *testing.T) []*refCase {
	t.Helper()
	var cases []*refCase
	add := func(name, ck string, files []string, args []string, job refJob) *refCase {
		job.Checkpoint = ck
		job.Out = filepath.Join(t.TempDir(), "ref")
		c := &refCase{name: name, backend: "cpu", args: append([]string{"--checkpoint", ck}, args...), job: job, files: files}
		cases = append(cases, c)
		return c
	}

	clip, cfg, _ := checkpoint(t, tinymodel.CLIP, tinymodel.HFOptions{Seed: 31, Shards: 2})
	v := cfg.Vision
	px := writeNPY(t, []int{2, v.NumChannels, v.ImageSize, v.ImageSize}, randn(2*v.NumChannels*v.ImageSize*v.ImageSize, 32))
	add("clip", clip, clipFiles, []string{"--pixels", px}, refJob{Pixels: px})

	phi3, cfg, _ := checkpoint(t, tinymodel.Phi3, tinymodel.HFOptions{Seed: 33})
	lc := cfg.LLM
	if !lc.LongRoPE() || lc.OriginalMaxPos != 128 || lc.NumKVHeads == lc.NumHeads || lc.TieEmbeddings {
		t.Fatalf("the tiny Phi3 checkpoint is no longer untied GQA LongRoPE with original max 128: %+v", lc)
	}
	ids := tokenIDs(6, lc.VocabSize, 34)
	ids64 := make([]int64, len(ids))
	for i, id := range ids {
		ids64[i] = int64(id)
	}
	idsNPY := writeNPY(t, []int{1, len(ids)}, ids64)
	add("phi3-short-gqa-untied", phi3, causalFiles, []string{"--tokens-npy", idsNPY}, refJob{TokensNPY: idsNPY})
	for _, n := range []int{130, 124} { // long factors from the prompt on; long from greedy step 5
		s := csv(tokenIDs(n, lc.VocabSize, int64(n)))
		add("phi3-longrope-"+strconv.Itoa(n), phi3, causalFiles, []string{"--tokens", s}, refJob{Tokens: s})
	}

	tied, _, _ := checkpoint(t, tinymodel.Phi3, tinymodel.HFOptions{Seed: 35, DType: weights.BF16, Drop: []string{"lm_head.weight"}})
	tieCheckpoint(t, tied)
	s := csv(tokenIDs(7, lc.VocabSize, 36))
	add("phi3-tied-bf16", tied, causalFiles, []string{"--tokens", s}, refJob{Tokens: s})

	phi3v, cfg, _ := checkpoint(t, tinymodel.Phi3V, tinymodel.HFOptions{Seed: 37, DType: weights.F16, Shards: 2})
	vc := cfg.Vision
	cfg.Projector.HDCrops, cfg.Transfer3D.Slices = []int{1, 2}, 3
	vids := []int{6, 40, 41}
	for range cfg.VisualTokens() {
		vids = append(vids, -1)
	}
	vids = append(vids, 42, 43, 44)
	crop := vc.NumChannels * vc.ImageSize * vc.ImageSize
	vpx := writeNPY(t, []int{1, 5, vc.NumChannels, vc.ImageSize, vc.ImageSize}, randn(5*crop, 38)) // padded to 5 crops, as the processor pads
	size := csv([]int{vc.ImageSize, 2 * vc.ImageSize})
	vargs := []string{"--tokens", csv(vids), "--pixels", vpx, "--image-sizes", size}
	c := add("phi3v-hd-1x2-f16", phi3v, phi3vFiles, vargs, refJob{Tokens: csv(vids), Pixels: vpx, ImageSizes: size})
	// An image prompt that the greedy steps carry past original_max_position_embeddings:
	// the recomputed cache holds the image again.
	long := slices.Clone(vids)
	long = append(long, tokenIDs(124-len(long), cfg.LLM.VocabSize, 40)...)
	largs := []string{"--tokens", csv(long), "--pixels", vpx, "--image-sizes", size}
	add("phi3v-longrope-124", phi3v, phi3vFiles, largs, refJob{Tokens: csv(long), Pixels: vpx, ImageSizes: size})
	// The GPU backend once, against the same reference files.
	gpu := *c
	gpu.name, gpu.backend = "phi3v-hd-1x2-f16-gpu", "gpu"
	cases = append(cases, &gpu)
	return cases
}

// dumpAll runs hf-dump for every case.
func dumpAll(t *testing.T, cases []*refCase) {
	t.Helper()
	for _, c := range cases {
		c.dump = dump(t, append(slices.Clone(c.args), "--backend", c.backend)...)
	}
}

// compareRef checks every file of c: same shape, float NMSE within
// refNMSE, int64 files equal. It returns the worst float NMSE and whether
// all matched; report logs each difference as a test error.
func compareRef(t *testing.T, c *refCase, report bool) (float64, bool) {
	t.Helper()
	var worst float64
	ok := true
	fail := func(format string, args ...any) {
		ok = false
		if report {
			t.Errorf("%s: "+format, append([]any{c.name}, args...)...)
		}
	}
	for _, name := range c.files {
		want, err := npy.ReadFile(filepath.Join(c.job.Out, name))
		if err != nil {
			t.Fatalf("%s: reference: %v", c.name, err)
		}
		have, err := npy.ReadFile(filepath.Join(c.dump, name))
		if err != nil {
			t.Fatalf("%s: hf-dump: %v", c.name, err)
		}
		if !slices.Equal(have.Shape, want.Shape) {
			fail("%s: hf-dump shape %v, reference %v", name, have.Shape, want.Shape)
			continue
		}
		if want.Descr == "<i8" {
			a, _ := have.Int64s()
			b, _ := want.Int64s()
			if !slices.Equal(a, b) {
				fail("%s: hf-dump %v, reference %v", name, a, b)
			} else if report {
				t.Logf("%-24s %-24s %v equal", c.name, name, b)
			}
			continue
		}
		a, err := have.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		b, err := want.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		e := nmse(a, b)
		worst = max(worst, e)
		if !(e <= refNMSE) { // NaN fails too
			fail("%s: NMSE %.3g against the reference (want ≤ %g)", name, e, refNMSE)
		} else if report {
			t.Logf("%-24s %-24s NMSE %.2g", c.name, name, e)
		}
	}
	return worst, ok
}

// TestHFRef: hf-dump against testdata/hfref.py, an independent PyTorch
// transcription of transformers' CLIPVisionModel, Phi3ForCausalLM and
// Phi-3-V's remote code that shares nothing with our engine but the
// checkpoint files and the inputs. Every file both write must agree
// within float32 rounding, greedy tokens exactly. Two perturbed
// references (rotate_half's sign flipped; LongRoPE's short factors where
// the long ones apply) must not agree, so the comparison can fail; and
// the reference must refuse a checkpoint that lacks a tensor, naming it,
// rather than compute something else. Python starts once (importing
// torch is most of the test's time).
func TestHFRef(t *testing.T) {
	needTorch(t)
	cases := refCases(t)
	dumpAll(t, cases)

	byName := map[string]*refCase{}
	var jobs []refJob
	for _, c := range cases {
		byName[c.name] = c
		if c.backend == "cpu" {
			jobs = append(jobs, c.job)
		}
	}
	// The perturbed runs share the clean cases' checkpoints and dumps.
	perturbed := map[string]*refCase{}
	for _, p := range []struct{ of, how string }{
		{"phi3-short-gqa-untied", "rope-sign"},
		{"phi3-longrope-124", "short-factor"},
	} {
		c := *byName[p.of]
		c.name = p.of + "+" + p.how
		c.job.Perturb = p.how
		c.job.Out = filepath.Join(t.TempDir(), "perturbed")
		perturbed[c.name] = &c
		jobs = append(jobs, c.job)
	}
	broken, _, _ := checkpoint(t, tinymodel.Phi3, tinymodel.HFOptions{Seed: 39, Drop: []string{"model.norm.weight"}})
	jobs = append(jobs, refJob{Checkpoint: broken, Tokens: "1,2", Out: filepath.Join(t.TempDir(), "broken")})

	stderr, err := runRef(t, jobs)
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if strings.HasPrefix(l, "hfref: ") {
			lines = append(lines, l)
		}
	}
	if err == nil || len(lines) != 1 || !strings.Contains(lines[0], broken) || !strings.Contains(lines[0], "model.norm.weight") {
		t.Fatalf("hfref.py: %v; want exactly one failed job, the checkpoint without model.norm.weight, named with it\n%s", err, stderr)
	}

	for _, c := range cases {
		compareRef(t, c, true)
	}
	for name, c := range perturbed {
		if worst, ok := compareRef(t, c, false); ok {
			t.Errorf("%s: hf-dump matches a deliberately broken reference (worst NMSE %.3g): the comparison cannot fail", name, worst)
		} else {
			t.Logf("%s: caught, worst NMSE %.3g", name, worst)
		}
	}
}
