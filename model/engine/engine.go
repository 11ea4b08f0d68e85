// Package engine runs a ctlens model directory for one user: it reads
// the manifest, config and tokenizer through a weights.Opener (a folder
// natively, HTTP plus the offline cache in the browser), loads and warms
// the model on a backend, and answers report and question requests with
// the request sizing, prompt and sampling that the command line and the
// app share — so that both give the same text for the same model, input
// and seed. It reads no files itself: it is handed an Opener.
package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"ctlens/model"
	"ctlens/model/tokenizer"
	"ctlens/weights"
)

// Info is what a model directory says about itself, cheap to read
// before the weights: enough for a model card.
type Info struct {
	Manifest  *weights.Manifest
	Config    model.Config
	Tokenizer *tokenizer.Tokenizer // nil when the directory has none
}

// ReadInfo parses manifest.json's bytes and loads the tokenizer it
// names through open. where names the directory in errors.
func ReadInfo(ctx context.Context, manifest []byte, open weights.Opener, where string) (*Info, error) {
	m, err := weights.ParseManifest(manifest)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	cfg, err := model.ParseConfig(m.Config)
	if err != nil {
		return nil, fmt.Errorf("%s: manifest config: %w", where, err)
	}
	in := &Info{Manifest: m, Config: cfg}
	if m.Tokenizer != (weights.FileRef{}) {
		data, err := weights.LoadTokenizer(ctx, m, open)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if in.Tokenizer, err = tokenizer.Load(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("%s: tokenizer: %w", where, err)
		}
	}
	return in, nil
}

// CanGenerate says why the model cannot write reports or answer
// questions (nil when it can): it needs a vision tower, a decoder and a
// tokenizer.
func (in *Info) CanGenerate() error {
	c := in.Config
	switch {
	case !c.HasVision() || !c.HasLLM():
		return fmt.Errorf("model %s is not a vision-language model (vision tower: %v, decoder: %v)", in.Manifest.Model, c.HasVision(), c.HasLLM())
	case in.Tokenizer == nil:
		return fmt.Errorf("model %s has no tokenizer.json", in.Manifest.Model)
	}
	return nil
}

// Params is the model's parameter count, from the manifest's tensor
// shapes.
func (in *Info) Params() int64 {
	var n int64
	for _, t := range in.Manifest.Tensors {
		p := int64(1)
		for _, s := range t.Shape {
			p *= int64(s)
		}
		n += p
	}
	return n
}

// Dims are the sizes the VRAM estimate needs beyond the tensors.
func (in *Info) Dims() weights.Dims {
	c := in.Config
	d := weights.Dims{}
	if c.HasLLM() {
		l := c.LLM
		d.Layers, d.Heads, d.KVHeads, d.HeadDim = l.NumLayers, l.NumHeads, l.NumKVHeads, l.Dh()
		d.Hidden, d.Intermediate, d.Vocab = l.HiddenSize, l.Intermediate, l.VocabSize
		d.MaxTokens = min(l.MaxPositions, 4096)
	}
	if c.HasVision() {
		d.VisionTokens = c.Slices() * c.Vision.Tokens()
		d.VisionHidden, d.VisionIntermediate = c.Vision.HiddenSize, c.Vision.Intermediate
	}
	return d
}

// VRAM estimates the GPU memory the model takes when loaded.
func (in *Info) VRAM() weights.VRAM {
	return weights.EstimateVRAM(in.Manifest.Layouts(), in.Dims())
}

// Engine is a loaded model on one backend.
type Engine struct {
	*Info
	Model *model.Model
}

// Load reads and verifies every tensor through open (sha256 and sizes:
// weights.LoadAll; progress gets the bytes read so far and the total),
// builds the model on ops and warms it (the GPU backend compiles its
// pipelines now, not on the first request).
func (in *Info) Load(ctx context.Context, ops model.Ops, open weights.Opener, progress func(done, total int64)) (*Engine, error) {
	ts, err := weights.LoadAll(ctx, in.Manifest, open, weights.LoadOptions{Progress: progress})
	if err != nil {
		return nil, err
	}
	src := TensorSource{}
	for _, t := range ts {
		src[t.Name] = t
	}
	m, err := model.New(ops, in.Config, src)
	if err != nil {
		return nil, err
	}
	if w, ok := ops.(interface {
		Warm(context.Context, *model.Model) error
	}); ok {
		if err := w.Warm(ctx, m); err != nil {
			return nil, err
		}
	}
	return &Engine{Info: in, Model: m}, nil
}

// TensorSource serves whole weights.Tensors (weights.LoadAll's) as a
// model.Source, converting each only when the loader asks for it.
type TensorSource map[string]weights.Tensor

// Tensor implements model.Source.
func (s TensorSource) Tensor(name string) (model.SourceTensor, error) {
	t, ok := s[name]
	if !ok {
		return model.SourceTensor{}, fmt.Errorf("tensor %q: %w", name, model.ErrNoTensor)
	}
	m := model.MapSource{}
	if t.Weights != nil {
		m.PutWeights(name, *t.Weights)
	} else {
		m.PutF32(name, t.Values, t.Shape...)
	}
	return m[name], nil
}

// Request is one generation: a report (Question empty) or an answer.
type Request struct {
	// Pixels is the vision input, (D, Cin, H, W) on the model's grid
	// (Pixels builds it from a normalised grey volume).
	Pixels   []float32
	Question string // empty: write a report
	// Options: MaxTokens (0: 256), sampling, task forcing, OnText.
	Options model.TextOptions
}

// DefaultMaxTokens bounds a generation when the request says nothing.
const DefaultMaxTokens = 256

// Generate runs req on a State sized for it: the prompt with its visual
// tokens plus the tokens to generate (not max_position_embeddings, whose
// KV cache would be gigabytes for a real model).
func (e *Engine) Generate(ctx context.Context, req Request) (*model.TextResult, error) {
	if err := e.CanGenerate(); err != nil {
		return nil, err
	}
	cfg := e.Config
	if want := e.PixelCount(); len(req.Pixels) != want {
		return nil, fmt.Errorf("engine: %d pixel values, the model takes %d (D %d × Cin %d × %d²)", len(req.Pixels), want, cfg.Slices(), cfg.Vision.NumChannels, cfg.Vision.ImageSize)
	}
	o := req.Options
	if o.MaxTokens <= 0 {
		o.MaxTokens = DefaultMaxTokens
	}
	text := req.Question
	if strings.TrimSpace(text) == "" {
		text = cfg.Prompt.ReportPrompt
	}
	ids, err := model.BuildPrompt(e.Tokenizer, cfg.Prompt, text)
	if err != nil {
		return nil, err
	}
	rows := len(ids) - 1 + cfg.VisualTokens()
	maxSeq := min(cfg.LLM.MaxPositions, rows+o.MaxTokens)
	if rows >= maxSeq {
		return nil, &TooLongError{Positions: rows, Max: cfg.LLM.MaxPositions}
	}
	s, err := e.Model.NewState(model.StateOptions{MaxSeq: maxSeq, MaxPrefill: rows})
	if err != nil {
		return nil, err
	}
	defer s.Free()
	if req.Question == "" {
		return e.Model.Report(ctx, s, e.Tokenizer, req.Pixels, o)
	}
	return e.Model.Ask(ctx, s, e.Tokenizer, req.Pixels, req.Question, o)
}

// Choose answers a closed question by likelihood ranking
// (model.Choose): one vision pass and one prompt prefill, then each
// choice's answer "X. text" scored after it; the most likely wins. The
// question and choices are ClosedPrompt's (choices nil: those written
// in the question). Of req.Options only ForceTask and Task apply. The
// result's Text is a well-formed "X. text" answer, Probs the softmax
// over the choices' summed log-likelihoods, Timings the phases.
func (e *Engine) Choose(ctx context.Context, req Request, choices []string) (*model.ChoiceResult, error) {
	if err := e.CanGenerate(); err != nil {
		return nil, err
	}
	cfg := e.Config
	if want := e.PixelCount(); len(req.Pixels) != want {
		return nil, fmt.Errorf("engine: %d pixel values, the model takes %d (D %d × Cin %d × %d²)", len(req.Pixels), want, cfg.Slices(), cfg.Vision.NumChannels, cfg.Vision.ImageSize)
	}
	text, choices, err := ClosedPrompt(req.Question, choices)
	if err != nil {
		return nil, err
	}
	ids, err := model.BuildPrompt(e.Tokenizer, cfg.Prompt, text)
	if err != nil {
		return nil, err
	}
	longest := 0
	for i, c := range choices {
		a, err := model.AnswerIDs(e.Tokenizer, cfg.Prompt, model.ChoiceAnswer(i, c))
		if err != nil {
			return nil, err
		}
		longest = max(longest, len(a))
	}
	rows := len(ids) - 1 + cfg.VisualTokens()
	if rows+longest-1 > cfg.LLM.MaxPositions {
		return nil, &TooLongError{Positions: rows + longest - 1, Max: cfg.LLM.MaxPositions}
	}
	s, err := e.Model.NewState(model.StateOptions{MaxSeq: rows + longest - 1, MaxPrefill: max(rows, longest-1)})
	if err != nil {
		return nil, err
	}
	defer s.Free()
	o := req.Options
	return e.Model.Choose(ctx, s, e.Tokenizer, req.Pixels, text, choices, model.ScoreOptions{ForceTask: o.ForceTask, Task: o.Task})
}

// ClosedPrompt is the text of a closed question and its choices: with
// choices nil, those the question carries in model.ClosedQuestion's form
// ("… Choices: A. x B. y"), the text unchanged; otherwise the question
// with the choices appended in that form (or unchanged when it already
// ends with exactly these). Fewer than two choices is an error.
func ClosedPrompt(question string, choices []string) (string, []string, error) {
	stem, written, ok := model.ParseClosedQuestion(question)
	switch {
	case len(choices) == 0 && !ok:
		return "", nil, fmt.Errorf("engine: the question has no choices (\"… Choices: A. x B. y\") and none were given")
	case len(choices) == 0:
		choices = written
	case ok && !slices.Equal(written, choices):
		return "", nil, fmt.Errorf("engine: the question offers choices %q and the request %q", written, choices)
	case !ok:
		stem = question
	}
	choices = slices.Clone(choices)
	if len(choices) < 2 || len(choices) > 26 {
		return "", nil, fmt.Errorf("engine: %d choices; a closed question has 2 to 26", len(choices))
	}
	for i, c := range choices {
		if strings.TrimSpace(c) == "" {
			return "", nil, fmt.Errorf("engine: choice %c is empty", 'A'+i)
		}
		choices[i] = strings.TrimSpace(c)
	}
	if ok {
		return question, choices, nil
	}
	return model.ClosedQuestion(strings.TrimSpace(stem), choices), choices, nil
}

// TooLongError is a prompt that does not fit the model's positions.
type TooLongError struct{ Positions, Max int }

func (e *TooLongError) Error() string {
	return fmt.Sprintf("the prompt takes %d positions, the model has %d; shorten the question", e.Positions, e.Max)
}

// PixelCount is the length of Request.Pixels: D × Cin × H × W.
func (in *Info) PixelCount() int {
	v := in.Config.Vision
	return in.Config.Slices() * v.NumChannels * v.ImageSize * v.ImageSize
}

// Pixels is the vision input for a grey volume already resampled onto
// the model's grid and normalised (volume.ModelInput's (D, H, W)): the
// grey channel repeated over the tower's Cin inputs (CLIP takes RGB).
func (in *Info) Pixels(grey []float32) ([]float32, error) {
	c := in.Config
	d, hw, cin := c.Slices(), c.Vision.ImageSize*c.Vision.ImageSize, c.Vision.NumChannels
	if len(grey) != d*hw {
		return nil, fmt.Errorf("engine: grey volume of %d values, the model takes %d slices of %d²", len(grey), d, c.Vision.ImageSize)
	}
	px := make([]float32, d*cin*hw)
	for z := range d {
		for ch := range cin {
			copy(px[(z*cin+ch)*hw:], grey[z*hw:(z+1)*hw])
		}
	}
	return px, nil
}

// IsCanceled reports whether err is a cancelled or timed-out generation.
func IsCanceled(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
