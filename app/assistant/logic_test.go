package assistant_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctlens/app/assistant"
	"ctlens/app/worker/host"
	"ctlens/app/worker/protocol"
	"ctlens/model"
	"ctlens/model/engine"
	"ctlens/server/serve"
	"ctlens/volume"
	"ctlens/volume/dicomread"
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
// time, both throughputs and the decoding settings, and says it is not a
// diagnosis.
func TestTimingsLine(t *testing.T) {
	tm := assistant.Timings{Wall: 4200 * time.Millisecond, Model: model.Timings{VisionMS: 900, PrefillMS: 500, PrefillTokens: 60, DecodeMS: 1000, DecodeTokens: 38}}
	want := "Generated on this device in 4.2 s (vision 0.90 s, prefill 120 tok/s, 38.0 tok/s; greedy). Not a diagnosis."
	if have := tm.Line(); have != want {
		t.Errorf("Line() = %q, want %q", have, want)
	}
	tm.Sampling = protocol.Sampling{Temperature: 0.8, TopP: 0.95, Seed: 7}
	want = "Generated on this device in 4.2 s (vision 0.90 s, prefill 120 tok/s, 38.0 tok/s; T 0.8 · top-p 0.95 · seed 7). Not a diagnosis."
	if have := tm.Line(); have != want {
		t.Errorf("Line() = %q, want %q", have, want)
	}
	// A ranked closed answer generates nothing: no decode rate, no
	// sampling, but how many answers it was picked among.
	tm.Ranked = 3
	want = "Answered on this device in 4.2 s (vision 0.90 s, prefill 120 tok/s; ranked among 3 offered answers). Not a diagnosis."
	if have := tm.Line(); have != want {
		t.Errorf("Line() = %q, want %q", have, want)
	}
}

// TestDecodingForm: the Decoding section's fields parse to the settings
// the command line's flags give; a value out of bounds or not a number
// is refused with a sentence that names the field and what it takes.
func TestDecodingForm(t *testing.T) {
	def, err := assistant.DefaultDecoding().Parse()
	if err != nil || def != (protocol.Sampling{}) || !def.Greedy() {
		t.Errorf("the default form: %+v, %v; want greedy (the zero settings)", def, err)
	}
	for _, c := range []struct {
		f    assistant.DecodingForm
		want protocol.Sampling
	}{
		// The flags' parse: float64 digits, then float32, as the CLI does.
		{assistant.DecodingForm{" 0.8 ", "20", "1", "7"}, protocol.Sampling{Temperature: float32(0.8), TopK: 20, Seed: 7}},
		{assistant.DecodingForm{"2", "0", "0.95", "4294967295"}, protocol.Sampling{Temperature: 2, TopP: float32(0.95), Seed: 1<<32 - 1}},
		{assistant.DecodingForm{"0", "5", "0.5", "3"}, protocol.Sampling{TopK: 5, TopP: 0.5, Seed: 3}},
	} {
		have, err := c.f.Parse()
		if err != nil || have != c.want {
			t.Errorf("%+v.Parse() = %+v, %v; want %+v", c.f, have, err, c.want)
		}
	}
	ok := assistant.DecodingForm{Temperature: "0.8", TopK: "20", TopP: "1", Seed: "7"}
	for _, c := range []struct {
		field, value, want string
	}{
		{"Temperature", "2.5", "Temperature must be a number from 0 to 2"},
		{"Temperature", "-0.1", "Temperature must be"},
		{"Temperature", "", "Temperature must be"},
		{"Temperature", "NaN", "Temperature must be"},
		{"Temperature", "hot", "Temperature must be"},
		{"TopK", "-1", "Top-k must be a whole number, 0 or more"},
		{"TopK", "2.5", "Top-k must be"},
		{"TopP", "0", "Top-p must be a number more than 0 and at most 1"},
		{"TopP", "1.01", "Top-p must be"},
		{"Seed", "-1", "Seed must be a whole number from 0 to 4294967295"},
		{"Seed", "4294967296", "Seed must be"},
		{"Seed", "1e3", "Seed must be"},
	} {
		f := ok
		switch c.field {
		case "Temperature":
			f.Temperature = c.value
		case "TopK":
			f.TopK = c.value
		case "TopP":
			f.TopP = c.value
		case "Seed":
			f.Seed = c.value
		}
		if _, err := f.Parse(); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s %q: %v, want an error starting %q", c.field, c.value, err, c.want)
		}
	}
}

// TestSamplingText: greedy says so; sampling names the temperature, the
// cuts that apply and the seed.
func TestSamplingText(t *testing.T) {
	for s, want := range map[protocol.Sampling]string{
		{}:                                       "greedy",
		{TopK: 20, TopP: 0.5, Seed: 9}:           "greedy",
		{Temperature: 0.8, TopK: 20, Seed: 7}:    "T 0.8 · top-k 20 · seed 7",
		{Temperature: 1, TopP: 0.95}:             "T 1 · top-p 0.95 · seed 0",
		{Temperature: 0.7, TopP: 1, Seed: 12345}: "T 0.7 · seed 12345",
	} {
		if have := assistant.SamplingText(s); have != want {
			t.Errorf("SamplingText(%+v) = %q, want %q", s, have, want)
		}
	}
}

// TestExportText: the .txt export is the report, then the model, the
// decoding settings and the disclaimer.
func TestExportText(t *testing.T) {
	s := protocol.Sampling{Temperature: 0.8, TopK: 20, Seed: 7}
	have := assistant.ExportText("  FINDINGS: none.\n", "tiny-x", &s)
	want := "FINDINGS: none.\n\nDrafted by ctlens with tiny-x on this device (decoding: T 0.8 · top-k 20 · seed 7). Not a diagnosis.\n"
	if have != want {
		t.Errorf("ExportText = %q, want %q", have, want)
	}
	if have := assistant.ExportText("x", "tiny-x", nil); have != "x\n\nDrafted by ctlens with tiny-x on this device. Not a diagnosis.\n" {
		t.Errorf("ExportText without settings = %q", have)
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
// parameters, gives its quantization and memory, says where the weights
// come from, and warns that its text is random.
func TestCard(t *testing.T) {
	in := readInfo(t, tinyModel(t))
	c := host.CardOf(in)
	c.Source, c.Folder = protocol.SourceFile, "tiny"
	lines := map[string]string{}
	for _, l := range assistant.Card(c) {
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
	if lines["Weights from"] != assistant.SourceFile+" (tiny)" {
		t.Errorf("source %q", lines["Weights from"])
	}
	for src, want := range map[string]string{protocol.SourceBuiltIn: assistant.SourceBuiltIn, protocol.SourceCache: assistant.SourceCache} {
		if have := assistant.SourceText(&protocol.Card{Source: src}); have != want {
			t.Errorf("SourceText(%s) = %q, want %q", src, have, want)
		}
	}
}

// TestSameTextAsCLI: the panel's path — the worker's host opens the
// model, loads it on the CPU backend and generates from the Grey input the
// page computes for the opened series, every request and reply through
// the protocol's encoding — writes the same report as `ctlens report
// --json` on the same model, study and seed (the browser test checks the
// GPU backend), streams its prefix first, and its routing names the CLI's
// task. Sampled (temperature 0.8, top-k 20, seed 7) it writes the CLI's
// text for the same flags, and another seed writes another text.
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
	// Built once, run twice.
	bin := filepath.Join(t.TempDir(), "ctlens")
	build := exec.Command("go", "build", "-o", bin, "./tools/ctlens")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./tools/ctlens: %v\n%s", err, out)
	}
	type cliOut struct {
		Text   string `json:"text"`
		Tokens int    `json:"tokens"`
		Task   string `json:"task"`
	}
	cliReport := func(flags ...string) cliOut {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"report", study, "--weights", dir, "--backend", "cpu", "--json", "--max-tokens", "12"}, flags...)...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("ctlens report %q: %v\n%s", flags, err, out)
		}
		var cli cliOut
		if err := json.Unmarshal(out, &cli); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return cli
	}
	cli := cliReport()
	cliSampled := cliReport("--temperature", "0.8", "--top-k", "20", "--seed", "7")

	replies := make(chan protocol.Message, 1024)
	h := host.New(host.Dir{Path: dir}, func(id int, m protocol.Message) {
		// Through the wire format, as in the browser.
		head, blob, err := protocol.Encode(id, m)
		if err != nil {
			t.Errorf("encode %s: %v", m.Kind(), err)
			return
		}
		_, back, err := protocol.Decode(head, blob)
		if err != nil {
			t.Errorf("decode %s: %v", m.Kind(), err)
			return
		}
		replies <- back
	})
	send := func(id int, m protocol.Message) {
		head, blob, err := protocol.Encode(id, m)
		if err != nil {
			t.Fatal(err)
		}
		_, back, err := protocol.Decode(head, blob)
		if err != nil {
			t.Fatal(err)
		}
		h.Handle(id, back, nil)
	}
	final := func(what string) (streamed []protocol.Message, last protocol.Message) {
		t.Helper()
		for {
			select {
			case m := <-replies:
				if protocol.Final(m) {
					if e, ok := m.(*protocol.Error); ok {
						t.Fatalf("%s: %v", what, e)
					}
					return streamed, m
				}
				streamed = append(streamed, m)
			case <-time.After(5 * time.Minute):
				t.Fatalf("%s: no final reply", what)
			}
		}
	}
	send(1, &protocol.Open{Source: protocol.SourceBuiltIn})
	_, m := final("open")
	card := m.(*protocol.Card)
	cfg, err := model.ParseConfig(card.Config)
	if err != nil {
		t.Fatal(err)
	}
	send(2, &protocol.Load{Backend: protocol.BackendCPU})
	final("load")

	v := largestSeries(t, study)
	grey, err := assistant.Grey(cfg, card.Model, v)
	if err != nil {
		t.Fatal(err)
	}
	id := 2
	generate := func(form assistant.DecodingForm) (*protocol.Done, string) {
		t.Helper()
		// The settings as the panel reads them from its Decoding section.
		sampling, err := form.Parse()
		if err != nil {
			t.Fatal(err)
		}
		id++
		send(id, &protocol.Generate{MaxTokens: maxTokens, Grey: grey, Sampling: sampling})
		texts, m := final("generate")
		var streamed strings.Builder
		for _, r := range texts {
			streamed.WriteString(r.(*protocol.Text).Delta)
		}
		return m.(*protocol.Done), streamed.String()
	}
	done, streamed := generate(assistant.DefaultDecoding())
	if done.Text != cli.Text || done.Tokens != cli.Tokens {
		t.Errorf("panel: %q (%d tokens), CLI: %q (%d tokens)", done.Text, done.Tokens, cli.Text, cli.Tokens)
	}
	if !strings.HasPrefix(done.Text, streamed) || streamed == "" {
		t.Errorf("streamed %q is not a prefix of %q", streamed, done.Text)
	}
	if s := engine.Summarize(done.Routing, cfg.MoE.ExpertsPerTask); s != nil && s.Task != cli.Task {
		t.Errorf("task %q, CLI %q", s.Task, cli.Task)
	}

	form := assistant.DecodingForm{Temperature: "0.8", TopK: "20", TopP: "1", Seed: "7"}
	sampled, streamed := generate(form)
	if sampled.Text != cliSampled.Text || sampled.Tokens != cliSampled.Tokens {
		t.Errorf("sampled, seed 7: panel %q (%d tokens), CLI %q (%d tokens)", sampled.Text, sampled.Tokens, cliSampled.Text, cliSampled.Tokens)
	}
	if !strings.HasPrefix(sampled.Text, streamed) || streamed == "" {
		t.Errorf("sampled: streamed %q is not a prefix of %q", streamed, sampled.Text)
	}
	// The seed is used: another seed draws other tokens (12 draws from
	// up to 20 candidates each; all equal only by a small chance).
	form.Seed = "8"
	other, _ := generate(form)
	if other.Text == sampled.Text {
		t.Errorf("seeds 7 and 8 wrote the same text %q", other.Text)
	}
	t.Logf("greedy %q\nseed 7  %q\nseed 8  %q", done.Text, sampled.Text, other.Text)
}

// largestSeries loads the study's largest series, as the CLI picks it.
func largestSeries(t *testing.T, path string) *volume.Volume {
	t.Helper()
	fsys, closer, err := dicomread.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	res, err := dicomread.Import(context.Background(), fsys, &dicomread.Options{HeadersOnly: true})
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
