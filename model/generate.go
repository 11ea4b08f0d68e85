package model

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"ctlens/shaders"
)

// GenerateOptions steer one generation.
type GenerateOptions struct {
	MaxTokens   int     // generated tokens at most; 0: until stop or the KV cache is full
	Temperature float32 // ≤ 0: greedy (argmax)
	TopK        int     // keep the TopK most likely tokens; 0: off
	TopP        float32 // nucleus mass in (0, 1); otherwise off
	Seed        uint32  // the sampler's seed: equal seeds give equal draws
	Stop        []int   // token ids that end the generation (not included in the output)
	// ForceTask makes Task (TaskReport, …) the TGH-MoE task group instead
	// of the task router's choice; the zero value lets the router choose.
	// Both are ignored by dense models.
	ForceTask bool
	Task      int
	// OnToken is called with every generated token as soon as it is read
	// back (streaming); it runs on the generating goroutine.
	OnToken func(id int)
}

// Timings are the wall-clock times of one generation's phases.
type Timings struct {
	VisionMS      float64 // prompt routing, vision tower and projector
	PrefillMS     float64 // the prompt (with its visual tokens) through the decoder, first token sampled
	PrefillTokens int
	DecodeMS      float64 // every later step
	DecodeTokens  int
}

// PrefillTokPerS is the prefill throughput.
func (t Timings) PrefillTokPerS() float64 { return perSecond(t.PrefillTokens, t.PrefillMS) }

// DecodeTokPerS is the decode throughput.
func (t Timings) DecodeTokPerS() float64 { return perSecond(t.DecodeTokens, t.DecodeMS) }

func perSecond(n int, ms float64) float64 {
	if ms <= 0 {
		return 0
	}
	return float64(n) / (ms / 1000)
}

// Routing is what the TGH-MoE decided for one request; the app shows it.
type Routing struct {
	Task      int       // the task group (index into TaskNames)
	TaskName  string    // TaskNames[Task]
	TaskProbs []float32 // (G) the task router's softmax
	Forced    bool      // the task was set by GenerateOptions.Task, not by the router
	Layers    []LayerRouting
}

// LayerRouting is one MoE layer's token routing.
type LayerRouting struct {
	Layer   int       // vision layer
	Tokens  int       // D·S tokens routed
	K       int       // experts per token
	Experts []int     // (Tokens, K) expert within the task group, by rank
	Gates   []float32 // (Tokens, K) their gates
	Probs   []float32 // (Tokens, Eg) the group's router softmax
}

// Result is one generation's output.
type Result struct {
	Tokens     []int  // generated ids, stop token excluded
	StopReason string // "stop", "length" (MaxTokens) or "cache" (the KV cache is full)
	Routing    *Routing
	Timings    Timings
}

// Request is one generation's input.
type Request struct {
	// Prompt is the token ids with ImageSlot where the visual tokens go
	// (one ImageSlot, or a run of Tv).
	Prompt []int
	// Pixels is the volume (D, Cin, H, W), normalised; nil for a text-only
	// prompt (which must then have no ImageSlot).
	Pixels []float32
}

// Generate runs one request on s from an empty cache: prompt routing,
// vision tower, prefill, then decode steps until a stop token, MaxTokens
// or a full cache. A cancelled ctx ends it between steps (and between
// layers) with the tokens so far and ctx's error.
func (m *Model) Generate(ctx context.Context, s *State, req Request, o GenerateOptions) (*Result, error) {
	if !m.Cfg.HasLLM() {
		return nil, fmt.Errorf("model: the model has no decoder to generate with")
	}
	if req.Pixels != nil && !m.Cfg.HasVision() {
		return nil, fmt.Errorf("model: a volume was given to a text-only model")
	}
	s.Reset()
	res := &Result{}
	hasImage := slices.Contains(req.Prompt, ImageSlot)
	if hasImage != (req.Pixels != nil) {
		return nil, fmt.Errorf("model: the prompt %s an image slot but the request %s pixels",
			map[bool]string{true: "has", false: "has no"}[hasImage], map[bool]string{true: "has", false: "has no"}[req.Pixels != nil])
	}
	r, visionMS, err := m.see(ctx, s, req, o.ForceTask, o.Task)
	if err != nil {
		return nil, err
	}
	res.Routing, res.Timings.VisionMS = r, visionMS

	sp := shaders.NewSampleParams(uint32(m.Cfg.LLM.VocabSize), o.Temperature, uint32(max(o.TopK, 0)), o.TopP, o.Seed, 0)
	start := time.Now()
	if err := m.Prefill(ctx, s, req.Prompt); err != nil {
		return res, err
	}
	res.Timings.PrefillTokens = s.Pos
	id, err := m.SampleNext(s, sp)
	if err != nil {
		return res, err
	}
	res.Timings.PrefillMS = msSince(start)

	start = time.Now()
	defer func() { res.Timings.DecodeMS = msSince(start) }()
	for step := 0; ; step++ {
		if slices.Contains(o.Stop, id) {
			res.StopReason = "stop"
			return res, nil
		}
		res.Tokens = append(res.Tokens, id)
		if o.OnToken != nil {
			o.OnToken(id)
		}
		if o.MaxTokens > 0 && len(res.Tokens) >= o.MaxTokens {
			res.StopReason = "length"
			return res, nil
		}
		if s.Pos >= s.MaxSeq {
			res.StopReason = "cache"
			return res, nil
		}
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("model: generate: %w", err)
		}
		if m.CrossesLongRoPE(s) {
			err = m.RecomputeLongRoPE(ctx, s, req.Prompt, res.Tokens)
		} else {
			err = m.Decode(ctx, s)
		}
		if err != nil {
			return res, err
		}
		sp.Step = uint32(step + 1)
		if id, err = m.SampleNext(s, sp); err != nil {
			return res, err
		}
		res.Timings.DecodeTokens++
	}
}

// see runs the vision side of a request on s: the task router over the
// prompt (or the forced task) and the vision encoder with its token
// routers, and reads the routing back (nil without pixels). It returns
// the wall time in ms, the Timings' VisionMS.
func (m *Model) see(ctx context.Context, s *State, req Request, forceTask bool, task int) (*Routing, float64, error) {
	start := time.Now()
	if req.Pixels == nil {
		return nil, msSince(start), nil
	}
	force := -1
	if forceTask && task >= 0 && m.Cfg.HasMoE() {
		force = task
	}
	if err := m.RouteText(s, req.Prompt, force); err != nil {
		return nil, 0, err
	}
	if err := m.EncodeVision(ctx, s, req.Pixels); err != nil {
		return nil, 0, err
	}
	if err := m.ops.Sync(); err != nil {
		return nil, 0, fmt.Errorf("model: vision: %w", err)
	}
	r, err := m.ReadRouting(s, force >= 0)
	if err != nil {
		return nil, 0, err
	}
	return r, msSince(start), nil
}

// ReadRouting reads back what the TGH-MoE decided in the last RouteText
// and EncodeVision (nil for a dense model).
func (m *Model) ReadRouting(s *State, forced bool) (*Routing, error) {
	cfg := m.Cfg
	if !cfg.HasMoE() {
		return nil, nil
	}
	ops := m.ops
	g, eg, k := cfg.MoE.Tasks, cfg.MoE.ExpertsPerTask, cfg.MoE.TopK
	task, err := ops.ReadU32(s.task, 0, 1)
	if err != nil {
		return nil, fmt.Errorf("model: reading the task: %w", err)
	}
	probs, err := ops.Read(s.taskProbs, 0, g)
	if err != nil {
		return nil, err
	}
	r := &Routing{Task: int(task[0]), TaskProbs: probs, Forced: forced}
	if r.Task < len(TaskNames) {
		r.TaskName = TaskNames[r.Task]
	}
	vt := cfg.Slices() * cfg.Vision.Tokens()
	for _, l := range cfg.MoE.Layers {
		rs := s.route[l]
		ids, err := ops.ReadU32(rs.ids, 0, vt*k)
		if err != nil {
			return nil, err
		}
		gates, err := ops.Read(rs.gates, 0, vt*k)
		if err != nil {
			return nil, err
		}
		p, err := ops.Read(rs.probs, 0, vt*eg)
		if err != nil {
			return nil, err
		}
		lr := LayerRouting{Layer: l, Tokens: vt, K: k, Gates: gates, Probs: p, Experts: make([]int, len(ids))}
		for i, id := range ids {
			lr.Experts[i] = int(id) - r.Task*eg // global ids → within the group
		}
		r.Layers = append(r.Layers, lr)
	}
	return r, nil
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// ---- tasks with a tokenizer --------------------------------------------------

// Tokenizer is what the model needs from a tokenizer; model/tokenizer's
// *Tokenizer (HF tokenizer.json) has exactly these methods. Encode parses
// special tokens that appear in text (<|user|>); addSpecial lets the
// tokenizer's post-processor add its own (the BOS of Phi-3 and Llama).
type Tokenizer interface {
	Encode(text string, addSpecial bool) []int
	Decode(ids []int, skipSpecial bool) string
	// TokenID is the id of a token (special ones included), ok false if unknown.
	TokenID(token string) (id int, ok bool)
}

// BuildPrompt fills the chat template with text and tokenizes it with one
// ImageSlot at the image token, as HF's Phi-3-V processor does: the text
// around the image token is tokenized in chunks, each with the
// post-processor's special tokens, which are then kept only at the start.
// (The prompt is tokenized before anything else because it steers the
// vision tower.)
func BuildPrompt(tok Tokenizer, pc PromptConfig, text string) ([]int, error) {
	full := strings.Replace(pc.Template, "{prompt}", text, 1)
	before, after, ok := strings.Cut(full, pc.ImageToken)
	if !ok {
		return nil, fmt.Errorf("model: template %q has no image token %q", pc.Template, pc.ImageToken)
	}
	pre := tok.Encode("", true) // what the post-processor adds (e.g. [BOS])
	a, b := tok.Encode(before, true), tok.Encode(after, true)
	if len(pre) > 0 && slices.Equal(b[:min(len(pre), len(b))], pre) {
		b = b[len(pre):]
	}
	ids := append(slices.Clip(a), ImageSlot)
	return append(ids, b...), nil
}

// ClosedQuestion formats a multiple-choice question as M3D-VQA does:
// "question Choices: A. x B. y C. z D. w".
func ClosedQuestion(question string, choices []string) string {
	var b strings.Builder
	b.WriteString(question)
	b.WriteString(" Choices:")
	for i, c := range choices {
		fmt.Fprintf(&b, " %c. %s", 'A'+i, c)
	}
	return b.String()
}

// TextResult is a generation with its text.
type TextResult struct {
	Result
	Text string
}

// TextOptions are GenerateOptions plus text streaming.
type TextOptions struct {
	GenerateOptions
	// OnText receives the text as it grows, in pieces that are whole
	// UTF-8 (a byte-level token may end inside a character).
	OnText func(delta string)
}

// Report writes a report on the volume (the report prompt of the config).
func (m *Model) Report(ctx context.Context, s *State, tok Tokenizer, pixels []float32, o TextOptions) (*TextResult, error) {
	return m.generateText(ctx, s, tok, pixels, m.Cfg.Prompt.ReportPrompt, o)
}

// Ask answers a question about the volume; closed questions carry their
// choices in the text (ClosedQuestion).
func (m *Model) Ask(ctx context.Context, s *State, tok Tokenizer, pixels []float32, question string, o TextOptions) (*TextResult, error) {
	return m.generateText(ctx, s, tok, pixels, question, o)
}

func (m *Model) generateText(ctx context.Context, s *State, tok Tokenizer, pixels []float32, text string, o TextOptions) (*TextResult, error) {
	pc := m.Cfg.Prompt
	prompt, err := BuildPrompt(tok, pc, text)
	if err != nil {
		return nil, err
	}
	if o.Stop == nil {
		for _, st := range pc.StopTokens {
			if id, ok := tok.TokenID(st); ok {
				o.Stop = append(o.Stop, id)
			}
		}
	}
	var ids []int
	emitted := ""
	user := o.OnToken
	o.OnToken = func(id int) {
		if user != nil {
			user(id)
		}
		if o.OnText == nil {
			return
		}
		ids = append(ids, id)
		txt := stableText(tok.Decode(ids, true))
		if strings.HasPrefix(txt, emitted) && len(txt) > len(emitted) {
			o.OnText(txt[len(emitted):])
			emitted = txt
		}
	}
	res, err := m.Generate(ctx, s, Request{Prompt: prompt, Pixels: pixels}, o.GenerateOptions)
	if res == nil {
		return nil, err
	}
	return &TextResult{Result: *res, Text: tok.Decode(res.Tokens, true)}, err
}

// stableText drops what may still change when more tokens arrive: a
// trailing incomplete UTF-8 sequence, or the U+FFFD a byte-fallback
// tokenizer decodes it to (at most the 3 bytes a character can lack).
func stableText(txt string) string {
	for range 3 {
		r, size := utf8.DecodeLastRuneInString(txt)
		if r != utf8.RuneError || size == 0 {
			break
		}
		txt = txt[:len(txt)-size]
	}
	return txt
}

// CrossesLongRoPE reports whether the next decode step makes s's sequence
// longer than LongRoPE's original_max_position_embeddings while its cache
// holds keys rotated by the short factors. HF's generate then drops the
// cache and recomputes every position with the long factors
// (Phi3ForCausalLM.prepare_inputs_for_generation), where a plain decode
// step would leave the cached keys as they are: generation calls
// RecomputeLongRoPE instead of Decode at that step.
func (m *Model) CrossesLongRoPE(s *State) bool {
	lc := m.Cfg.LLM
	return lc.LongRoPE() && !s.longRoPE && s.Pos == lc.OriginalMaxPos
}

// RecomputeLongRoPE is the decode step at the crossing: it refills s's KV
// cache from position 0 with LongRoPE's long factors — the prompt (its
// visual tokens kept from EncodeVision), then the generated tokens, the
// one being decoded last, in pieces of at most MaxPrefill rows — leaving
// the logits of the last one, as Decode would.
func (m *Model) RecomputeLongRoPE(ctx context.Context, s *State, prompt, tokens []int) error {
	s.Pos, s.rows, s.longRoPE = 0, 0, true
	if err := m.Prefill(ctx, s, prompt); err != nil {
		return fmt.Errorf("model: recomputing the cache with the long RoPE factors: %w", err)
	}
	for i := 0; i < len(tokens); i += s.MaxPrefill {
		if err := m.Prefill(ctx, s, tokens[i:min(i+s.MaxPrefill, len(tokens))]); err != nil {
			return fmt.Errorf("model: recomputing the cache with the long RoPE factors: %w", err)
		}
	}
	return nil
}
