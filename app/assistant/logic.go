package assistant

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"ctlens/model"
	"ctlens/model/engine"
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

// Card is the model card for in: name, parameters, quantization, GPU
// memory, where the weights come from, and for a placeholder model a
// warning that its text is noise.
func Card(in *engine.Info, source string) []CardLine {
	m := in.Manifest
	lines := []CardLine{
		{"Model", m.Model},
		{"Size", fmt.Sprintf("%s parameters, %s", count(in.Params()), Bytes(m.Bytes()))},
		{"Quantization", Quantization(in)},
		{"GPU memory", "about " + Bytes(in.VRAM().Total)},
		{"Weights from", source},
	}
	if IsPlaceholder(m.Model) {
		lines = append(lines, CardLine{"Note", "Untrained placeholder model: its text is random."})
	}
	return lines
}

// IsPlaceholder reports whether the model is the server's tiny random one
// (until trained weights ship).
func IsPlaceholder(name string) bool { return strings.HasPrefix(name, "tiny-") }

// Quantization lists the matrices' storage types, most used first ("int4",
// "int8 + f32").
func Quantization(in *engine.Info) string {
	n := map[string]int64{}
	for _, t := range in.Manifest.Tensors {
		if !t.Matrix {
			continue
		}
		e := int64(1)
		for _, s := range t.Shape {
			e *= int64(s)
		}
		n[t.DType] += e
	}
	if len(n) == 0 {
		return "f32"
	}
	types := make([]string, 0, len(n))
	for k := range n {
		types = append(types, k)
	}
	slices.SortFunc(types, func(a, b string) int {
		if n[a] != n[b] {
			return int(max(-1, min(1, n[b]-n[a])))
		}
		return strings.Compare(a, b)
	})
	return strings.Join(types, " + ")
}

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
// model.
type Timings struct {
	Wall       time.Duration // click to the last token
	FirstToken time.Duration // click to the first streamed text
	Model      model.Timings
}

// Line is the sentence under an answer: "Generated on this device in
// 4.2 s (vision 0.9 s, prefill 120 tok/s, 38 tok/s). Not a diagnosis."
func (t Timings) Line() string {
	return fmt.Sprintf("Generated on this device in %s (vision %s, prefill %.0f tok/s, %.1f tok/s). Not a diagnosis.",
		seconds(t.Wall), seconds(time.Duration(t.Model.VisionMS*float64(time.Millisecond))), t.Model.PrefillTokPerS(), t.Model.DecodeTokPerS())
}

func seconds(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// Pixels is the model's input for v: what the command line's report
// computes (volume.ModelInput onto the model's grid with its input
// normalisation, phase 0, then the grey channel repeated over the tower's
// inputs), so the browser's text equals the CLI's for the same series.
func Pixels(in *engine.Info, v *volume.Volume) ([]float32, error) {
	cfg := in.Config
	norm, err := volume.ParseNorm(cfg.Norm())
	if err != nil {
		return nil, fmt.Errorf("model %s: input_norm: %w", in.Manifest.Model, err)
	}
	grey, err := volume.ModelInput(v, 0, cfg.Slices(), cfg.Vision.ImageSize, cfg.Vision.ImageSize, norm)
	if err != nil {
		return nil, err
	}
	return in.Pixels(grey)
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
