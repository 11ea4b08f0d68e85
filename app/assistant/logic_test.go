package assistant_test

import (
	"context"
	"ctlens/app/assistant"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctlens/model"
	"ctlens/model/cpu"
	"ctlens/model/engine"
	"ctlens/server/serve"
	"ctlens/volume"
	"ctlens/weights"
)

// TestQuestion: choices are lettered consecutively after the question,
// blanks dropped; without choices the question stands alone.
func TestQuestion(t *testing.T) {
	for _, c := range []struct {
		q       string
		choices []string
		want    string
	}{
		{" Is there an effusion? ", nil, "Is there an effusion?"},
		{"Which organ?", []string{"liver", "", " lung ", ""}, "Which organ? Choices: A. liver B. lung"},
		{"Which organ?", []string{"", " ", "", ""}, "Which organ?"},
		{"Side?", []string{"left", "right", "both", "neither"}, "Side? Choices: A. left B. right C. both D. neither"},
	} {
		if have := assistant.Question(c.q, c.choices); have != c.want {
			t.Errorf("Question(%q, %q) = %q, want %q", c.q, c.choices, have, c.want)
		}
	}
}

// TestTimingsLine: the line under an answer carries wall time, vision
// time and both throughputs, and says it is not a diagnosis.
func TestTimingsLine(t *testing.T) {
	tm := assistant.Timings{Wall: 4200 * time.Millisecond, Model: model.Timings{VisionMS: 900, PrefillMS: 500, PrefillTokens: 60, DecodeMS: 1000, DecodeTokens: 38}}
	want := "Generated on this device in 4.2 s (vision 0.90 s, prefill 120 tok/s, 38.0 tok/s). Not a diagnosis."
	if have := tm.Line(); have != want {
		t.Errorf("Line() = %q, want %q", have, want)
	}
}

// TestBytesAndProgress: binary units and the percentage of a known total.
func TestBytesAndProgress(t *testing.T) {
	for n, want := range map[int64]string{12: "12 B", 1536: "1.5 KiB", 48 << 20: "48.0 MiB", 3 << 30: "3.0 GiB"} {
		if have := assistant.Bytes(n); have != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, have, want)
		}
	}
	if have := assistant.Progress(12<<20, 48<<20); have != "12.0 MiB of 48.0 MiB (25%)" {
		t.Errorf("Progress = %q", have)
	}
}

// tinyModel writes the server's placeholder model once per test binary.
func tinyModel(t *testing.T) string {
	t.Helper()
	root, err := serve.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(os.TempDir(), "ctlens-assistant-test", "model")
	if err := serve.EnsureTinyModel(context.Background(), root, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func readInfo(t *testing.T, dir string) *engine.Info {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, weights.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	in, err := engine.ReadInfo(context.Background(), data, weights.FSOpener(os.DirFS(dir)), dir)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestCard: the card of the placeholder model names it, counts its
// parameters, gives its quantization and memory, and warns that its text
// is random.
func TestCard(t *testing.T) {
	in := readInfo(t, tinyModel(t))
	lines := map[string]string{}
	for _, l := range assistant.Card(in, assistant.SourceBuiltIn) {
		lines[l.Label] = l.Value
	}
	if lines["Model"] != in.Manifest.Model || !assistant.IsPlaceholder(in.Manifest.Model) {
		t.Errorf("model line %q for %q", lines["Model"], in.Manifest.Model)
	}
	if !strings.Contains(lines["Note"], "Untrained placeholder") {
		t.Errorf("no placeholder warning: %q", lines)
	}
	if !strings.Contains(lines["Size"], "parameters") || !strings.Contains(lines["GPU memory"], "iB") || lines["Quantization"] == "" {
		t.Errorf("card lines %q", lines)
	}
	if lines["Weights from"] != assistant.SourceBuiltIn {
		t.Errorf("source %q", lines["Weights from"])
	}
}

// TestSameTextAsCLI: the panel's path — model info read through an
// Opener, Pixels from the opened series, engine.Generate — writes the same
// report as `ctlens report --json` on the same model, study and seed (CPU
// backend; the browser test checks the GPU one).
func TestSameTextAsCLI(t *testing.T) {
	root, _ := serve.ModuleRoot()
	dir := tinyModel(t)
	opts, err := serve.SampleOptions("64x64x24")
	if err != nil {
		t.Fatal(err)
	}
	study, err := serve.EnsureSample(context.Background(), filepath.Join(os.TempDir(), "ctlens-assistant-test", "sample"), opts)
	if err != nil {
		t.Fatal(err)
	}
	const maxTokens = 12
	cmd := exec.Command("go", "run", "./tools/ctlens", "report", study, "--weights", dir, "--backend", "cpu", "--json", "--max-tokens", "12")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ctlens report: %v\n%s", err, out)
	}
	var cli struct {
		Text   string `json:"text"`
		Tokens int    `json:"tokens"`
		Task   string `json:"task"`
	}
	if err := json.Unmarshal(out, &cli); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}

	ctx := context.Background()
	in := readInfo(t, dir)
	eng, err := in.Load(ctx, cpu.New(), weights.FSOpener(os.DirFS(dir)), nil)
	if err != nil {
		t.Fatal(err)
	}
	v := largestSeries(t, study)
	px, err := assistant.Pixels(in, v)
	if err != nil {
		t.Fatal(err)
	}
	var streamed strings.Builder
	res, err := eng.Generate(ctx, engine.Request{Pixels: px, Options: model.TextOptions{
		GenerateOptions: model.GenerateOptions{MaxTokens: maxTokens},
		OnText:          func(d string) { streamed.WriteString(d) },
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != cli.Text || len(res.Tokens) != cli.Tokens {
		t.Errorf("panel: %q (%d tokens), CLI: %q (%d tokens)", res.Text, len(res.Tokens), cli.Text, cli.Tokens)
	}
	if !strings.HasPrefix(res.Text, streamed.String()) || streamed.Len() == 0 {
		t.Errorf("streamed %q is not a prefix of %q", streamed.String(), res.Text)
	}
	if s := engine.Summarize(res.Routing, in.Config.MoE.ExpertsPerTask); s != nil && s.Task != cli.Task {
		t.Errorf("task %q, CLI %q", s.Task, cli.Task)
	}
}

// largestSeries loads the study's largest series, as the CLI picks it.
func largestSeries(t *testing.T, path string) *volume.Volume {
	t.Helper()
	fsys, closer, err := volume.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	res, err := volume.Import(context.Background(), fsys, &volume.Options{HeadersOnly: true})
	if err != nil || len(res.Series) == 0 {
		t.Fatalf("import %s: %v (%d series)", path, err, len(res.Series))
	}
	s := res.Series[0]
	for _, c := range res.Series[1:] {
		if c.Rows*c.Columns*len(c.Slices[0]) > s.Rows*s.Columns*len(s.Slices[0]) {
			s = c
		}
	}
	v, _, err := s.Load(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
