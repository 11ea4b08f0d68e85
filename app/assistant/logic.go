package assistant

import (
	"fmt"
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
