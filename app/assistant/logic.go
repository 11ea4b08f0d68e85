package assistant

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"ctlens/app/worker/protocol"
	"ctlens/model"
	"ctlens/volume"
)

// The panel's pure logic: what the model card says, how a closed question
// is written, how timings read. It holds no UI and no browser calls, so it
// is tested natively.

// CardLine is one line of the model card: a label and its value.
type CardLine struct{ Label, Value string }

// Where the weights come from, as the card says it.
const (
	SourceBuiltIn = "built-in (this server)"
	SourceFile    = "file on this device"
	SourceCache   = "this device's cache (offline)"
)

// Card is the model card: name, parameters, quantization, GPU memory,
// where the weights come from, and for a placeholder model a warning
// that its text is noise.
func Card(c *protocol.Card) []CardLine {
	lines := []CardLine{
		{"Model", c.Model},
		{"Size", fmt.Sprintf("%s parameters, %s", count(c.Params), Bytes(c.Bytes))},
		{"Quantization", c.Quantization},
		{"GPU memory", "about " + Bytes(c.VRAM)},
		{"Weights from", SourceText(c)},
	}
	if IsPlaceholder(c.Model) {
		lines = append(lines, CardLine{"Note", "Untrained placeholder model: its text is random."})
	}
	return lines
}

// SourceText says where the card's weights come from.
func SourceText(c *protocol.Card) string {
	switch c.Source {
	case protocol.SourceCache:
		return SourceCache
	case protocol.SourceFile:
		return SourceFile + " (" + c.Folder + ")"
	}
	return SourceBuiltIn
}

// IsPlaceholder reports whether the model is the server's tiny random one
// (until trained weights ship).
func IsPlaceholder(name string) bool { return strings.HasPrefix(name, "tiny-") }

// count writes a parameter count in thousands, millions or billions.
func count(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f B", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f M", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f k", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// Bytes writes a byte count in binary units.
func Bytes(n int64) string {
	const k = 1024
	switch {
	case n >= k*k*k:
		return fmt.Sprintf("%.1f GiB", float64(n)/(k*k*k))
	case n >= k*k:
		return fmt.Sprintf("%.1f MiB", float64(n)/(k*k))
	case n >= k:
		return fmt.Sprintf("%.1f KiB", float64(n)/k)
	}
	return fmt.Sprintf("%d B", n)
}

// Progress is the load progress line: "12.0 MiB of 48.0 MiB (25%)".
func Progress(done, total int64) string {
	if total <= 0 {
		return Bytes(done)
	}
	return fmt.Sprintf("%s of %s (%d%%)", Bytes(done), Bytes(total), done*100/total)
}

// Question is the text given to the model: the question alone, or, when
// any choice is filled in, the question with its choices lettered A, B, …
// as the closed-question task was trained (model.ClosedQuestion). Blank
// choices are dropped so the letters stay consecutive.
func Question(q string, choices []string) string {
	q = strings.TrimSpace(q)
	var cs []string
	for _, c := range choices {
		if c = strings.TrimSpace(c); c != "" {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return q
	}
	return model.ClosedQuestion(q, cs)
}

// Timings is what a generation took, as measured in the panel and by the
// model, and how it was decoded.
type Timings struct {
	Wall       time.Duration // click to the last token
	FirstToken time.Duration // click to the first streamed text
	Model      model.Timings
	Sampling   protocol.Sampling
	// Ranked is the number of offered answers a closed question's answer
	// was ranked among (0: generated, as Sampling says).
	Ranked int
}

// Line is the sentence under an answer: "Generated on this device in
// 4.2 s (vision 0.9 s, prefill 120 tok/s, 38 tok/s; greedy). Not a
// diagnosis."
func (t Timings) Line() string {
	if t.Ranked > 0 {
		return fmt.Sprintf("Answered on this device in %s (vision %s, prefill %.0f tok/s; ranked among %d offered answers). Not a diagnosis.",
			seconds(t.Wall), seconds(time.Duration(t.Model.VisionMS*float64(time.Millisecond))), t.Model.PrefillTokPerS(), t.Ranked)
	}
	return fmt.Sprintf("Generated on this device in %s (vision %s, prefill %.0f tok/s, %.1f tok/s; %s). Not a diagnosis.",
		seconds(t.Wall), seconds(time.Duration(t.Model.VisionMS*float64(time.Millisecond))), t.Model.PrefillTokPerS(), t.Model.DecodeTokPerS(),
		SamplingText(t.Sampling))
}

// DecodingForm is the Decoding section's fields as the user typed them.
// The settings mean what the command line's flags mean (--temperature,
// --top-k, --top-p, --seed), so equal settings give the CLI's text.
type DecodingForm struct {
	Temperature string // 0 to 2; 0: greedy
	TopK        string // a whole number ≥ 0; 0: all tokens
	TopP        string // more than 0, at most 1; 1: off
	Seed        string // a whole number from 0 to 4294967295
}

// DefaultDecoding is the form's start: greedy, with the command line's
// default seed (0), so that switching the temperature on alone gives
// `ctlens report --temperature T`'s text.
func DefaultDecoding() DecodingForm {
	return DecodingForm{Temperature: "0", TopK: "0", TopP: "1", Seed: "0"}
}

// Parse reads the form; an error says in plain words which field is
// wrong and what it takes.
func (f DecodingForm) Parse() (protocol.Sampling, error) {
	var s protocol.Sampling
	// Parsed as the command line's flags are (float64, then float32), so
	// that the same digits give the same bits.
	t, err := strconv.ParseFloat(strings.TrimSpace(f.Temperature), 64)
	if err != nil || !(t >= 0 && t <= protocol.MaxTemperature) {
		return s, fmt.Errorf("Temperature must be a number from 0 to %d (0 means greedy).", protocol.MaxTemperature)
	}
	k, err := strconv.ParseInt(strings.TrimSpace(f.TopK), 10, 32)
	if err != nil || k < 0 {
		return s, errors.New("Top-k must be a whole number, 0 or more (0 keeps every token).")
	}
	p, err := strconv.ParseFloat(strings.TrimSpace(f.TopP), 64)
	if err != nil || !(p > 0 && p <= 1) {
		return s, errors.New("Top-p must be a number more than 0 and at most 1 (1 keeps every token).")
	}
	seed, err := strconv.ParseUint(strings.TrimSpace(f.Seed), 10, 32)
	if err != nil {
		return s, errors.New("Seed must be a whole number from 0 to 4294967295.")
	}
	s = protocol.Sampling{Temperature: float32(t), TopK: int(k), TopP: float32(p), Seed: uint32(seed)}
	if p == 1 {
		s.TopP = 0 // off, as the command line's default
	}
	return s, s.Check()
}

// SamplingText names the decoding settings for people: "greedy", or the
// settings that shaped the draw ("T 0.8 · top-k 20 · top-p 0.95 · seed
// 7"; top-k and top-p only when they cut).
func SamplingText(s protocol.Sampling) string {
	if s.Greedy() {
		return "greedy"
	}
	parts := []string{"T " + strconv.FormatFloat(float64(s.Temperature), 'g', -1, 32)}
	if s.TopK > 0 {
		parts = append(parts, fmt.Sprintf("top-k %d", s.TopK))
	}
	if s.TopP > 0 && s.TopP < 1 {
		parts = append(parts, "top-p "+strconv.FormatFloat(float64(s.TopP), 'g', -1, 32))
	}
	parts = append(parts, fmt.Sprintf("seed %d", s.Seed))
	return strings.Join(parts, " · ")
}

// ExportText is the report as the .txt export writes it: the text, then
// the line that says where it came from and how it was decoded (s nil:
// not known, e.g. a report typed by hand).
func ExportText(report, modelName string, s *protocol.Sampling) string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(report))
	b.WriteString("\n\n")
	if modelName != "" {
		fmt.Fprintf(&b, "Drafted by ctlens with %s on this device", modelName)
		if s != nil {
			fmt.Fprintf(&b, " (decoding: %s)", SamplingText(*s))
		}
		b.WriteString(". Not a diagnosis.\n")
	}
	return b.String()
}

func seconds(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// Grey is the model's input for v as the page sends it to the worker:
// what the command line's report computes (volume.ModelInput onto the
// model's grid with its input normalisation, phase 0), so the browser's
// text equals the CLI's for the same series. The worker repeats it over
// the tower's input channels (engine.Info.Pixels).
func Grey(cfg model.Config, modelName string, v *volume.Volume) ([]float32, error) {
	norm, err := volume.ParseNorm(cfg.Norm())
	if err != nil {
		return nil, fmt.Errorf("model %s: input_norm: %w", modelName, err)
	}
	return volume.ModelInput(v, 0, cfg.Slices(), cfg.Vision.ImageSize, cfg.Vision.ImageSize, norm)
}

// ExpertColors are the heat map's colours, one per expert of a task group
// (the legend and the viewer's overlay use the same list); expert e takes
// ExpertColors[e % len].
var ExpertColors = []string{"#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45"}

// TaskLabel names a task group for people.
func TaskLabel(name string) string {
	switch name {
	case "report":
		return "report writing"
	case "closed_vqa":
		return "closed question (choices)"
	case "open_vqa":
		return "open question"
	}
	return name
}
