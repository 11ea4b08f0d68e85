package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"ctlens/model"
	mengine "ctlens/model/engine"
	"ctlens/tools/internal/backend"
	"ctlens/tools/internal/engine"
	"ctlens/volume"
	"ctlens/volume/dicomread"
)

func init() {
	commands["report"] = command{"stream a radiology report for the CT series at PATH (--weights DIR, --json)", runReport}
}

// runReport is `ctlens report DICOM_PATH [flags]`.
func runReport(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return report(ctx, args, os.Stdout, os.Stderr)
}

const reportUsage = "usage: ctlens report DICOM_PATH [--weights DIR] [--backend cpu|gpu] [--json] [--series UID]\n" +
	"                     [--seed S --temperature T --top-k K --top-p P --max-tokens N] [--task auto|report|closed_vqa|open_vqa]"

func report(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	g := addGenerateFlags(fs)
	fs.Usage = func() { fmt.Fprintln(stderr, reportUsage); fs.PrintDefaults() }
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("want one DICOM_PATH, have %d argument(s)\n%s", len(pos), reportUsage)
	}
	return generate(ctx, request{kind: "report", path: pos[0]}, g, stdout, stderr)
}

// ---- shared by report and ask ------------------------------------------------

// generateFlags are the flags of report and ask.
type generateFlags struct {
	weights, backend, series, task string
	asJSON                         bool
	seed                           uint
	temperature, topP              float64
	topK, maxTokens                int
}

func addGenerateFlags(fs *flag.FlagSet) *generateFlags {
	g := &generateFlags{}
	fs.StringVar(&g.weights, "weights", "", "ctlens model directory (default: "+engine.DefaultWeights+" when it exists)")
	fs.StringVar(&g.backend, "backend", "cpu", "cpu or gpu")
	fs.StringVar(&g.series, "series", "", "SeriesInstanceUID of the series to read (default: the largest)")
	fs.StringVar(&g.task, "task", "auto", "TGH-MoE task group: auto (the prompt's task router decides), report, closed_vqa or open_vqa")
	fs.BoolVar(&g.asJSON, "json", false, "print one JSON object (task, routing, timings, text) instead of streaming the text")
	fs.UintVar(&g.seed, "seed", 0, "sampler seed: equal seeds give equal text")
	fs.Float64Var(&g.temperature, "temperature", 0, "sampling temperature; 0: greedy")
	fs.IntVar(&g.topK, "top-k", 0, "keep the K most likely tokens when sampling; 0: all")
	fs.Float64Var(&g.topP, "top-p", 0, "nucleus mass in (0, 1) when sampling; 0: off")
	fs.IntVar(&g.maxTokens, "max-tokens", 256, "generated tokens at most")
	return g
}

// parseInterleaved parses flags that may come before, between or after
// the positional arguments (`ctlens report PATH --weights W`), which the
// flag package alone stops at.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// request is what to generate: a report, or an answer to question.
type request struct {
	kind     string // "report" or "ask"
	path     string // DICOM folder, zip or file
	question string
	// choices: rank them by likelihood (ask's closed questions) instead
	// of generating; see ask.go.
	choices []string
}

// output is what --json prints.
type output struct {
	Command    string                  `json:"command"`
	Model      string                  `json:"model"`
	Backend    string                  `json:"backend"`
	Series     seriesRef               `json:"series"`
	Question   string                  `json:"question,omitempty"`
	Task       string                  `json:"task"` // the task group that ran ("" for a dense model)
	Routing    *mengine.RoutingSummary `json:"routing"`
	Timings    timingsJSON             `json:"timings"`
	Text       string                  `json:"text"`
	Tokens     int                     `json:"tokens"`
	StopReason string                  `json:"stop_reason"`
}

type seriesRef struct {
	UID    string `json:"seriesInstanceUID"`
	Name   string `json:"name"`
	Dims   [3]int `json:"dims"`
	Input  [4]int `json:"input"` // (D, Cin, H, W) given to the model
	Norm   string `json:"norm"`
	Series int    `json:"seriesFound"`
}

type timingsJSON struct {
	LoadMS         float64 `json:"load_ms"`   // model directory read, verified, uploaded, warmed
	ImportMS       float64 `json:"import_ms"` // DICOM import and resampling to the model's grid
	VisionMS       float64 `json:"vision_ms"`
	PrefillMS      float64 `json:"prefill_ms"`
	PrefillTokens  int     `json:"prefill_tokens"`
	PrefillTokPerS float64 `json:"prefill_tok_per_s"`
	DecodeMS       float64 `json:"decode_ms"`
	DecodeTokens   int     `json:"decode_tokens"`
	DecodeTokPerS  float64 `json:"decode_tok_per_s"`
}

// parseTask maps --task to a task group index (−1: the router decides,
// i.e. GenerateOptions.ForceTask false).
func parseTask(s string) (int, error) {
	if s == "" || s == "auto" {
		return -1, nil
	}
	if i := slices.Index(model.TaskNames, s); i >= 0 {
		return i, nil
	}
	return 0, fmt.Errorf("--task %q\nhint: auto, %s", s, strings.Join(model.TaskNames, ", "))
}

// generate runs the pipeline: model directory → DICOM import → the
// series → the model's input grid and normalisation → Report or Ask,
// streaming the text to stdout (or one JSON object with --json).
func generate(ctx context.Context, req request, g *generateFlags, stdout, stderr io.Writer) error {
	task, err := parseTask(g.task)
	if err != nil {
		return err
	}
	if g.maxTokens < 1 {
		return fmt.Errorf("--max-tokens %d must be ≥ 1", g.maxTokens)
	}
	dir, err := engine.ResolveWeights(g.weights)
	if err != nil {
		return err
	}
	// The backend first: a missing GPU adapter should not cost a model load.
	ops, release, err := backend.Open(ctx, g.backend)
	if err != nil {
		return err
	}
	defer release()
	// The manifest, config and tokenizer first, then the DICOM: a bad
	// path or series should not cost a model load.
	d, err := engine.Open(ctx, dir)
	if err != nil {
		return err
	}
	cfg := d.Config
	if err := d.CanGenerate(); err != nil {
		return fmt.Errorf("%s: %w\nhint: convert a Phi-3-Vision checkpoint (with its tokenizer.json) with `go run ./tools/convert`", dir, err)
	}
	norm, err := volume.ParseNorm(d.InputNorm)
	if err != nil {
		return fmt.Errorf("%s: config input_norm: %w", dir, err)
	}
	t0 := time.Now()
	grey, ref, err := modelInput(ctx, req.path, g.series, cfg, norm)
	if err != nil {
		return err
	}
	px, err := d.Pixels(grey)
	if err != nil {
		return err
	}
	ref.Norm = d.InputNorm
	importMS := msSince(t0)

	t0 = time.Now()
	if !g.asJSON {
		fmt.Fprintf(stderr, "loading %s (%.1f MiB) on %s…\n", d.Manifest.Model, float64(d.Manifest.Bytes())/(1<<20), ops.Backend())
	}
	e, err := d.Info.Load(ctx, ops, d.Opener(), nil)
	if err != nil {
		return engine.LoadError(dir, err)
	}
	loadMS := msSince(t0) // read, verified, uploaded and (GPU) pipelines compiled
	if len(req.choices) > 0 {
		return choose(ctx, e, req, px, ranked{ref: ref, loadMS: loadMS, importMS: importMS, task: task}, g, stdout, stderr)
	}

	opts := model.TextOptions{GenerateOptions: model.GenerateOptions{
		MaxTokens: g.maxTokens, Temperature: float32(g.temperature), TopK: g.topK, TopP: float32(g.topP),
		Seed: uint32(g.seed), ForceTask: task >= 0, Task: task,
	}}
	var streamed strings.Builder
	if !g.asJSON {
		opts.OnText = func(delta string) {
			io.WriteString(stdout, delta)
			streamed.WriteString(delta)
		}
	}
	question := ""
	if req.kind != "report" {
		question = req.question
	}
	res, err := e.Generate(ctx, mengine.Request{Pixels: px, Question: question, Options: opts})
	if err != nil {
		return err
	}
	out := output{
		Command: req.kind, Model: d.Manifest.Model, Backend: ops.Backend(), Series: ref, Question: req.question,
		Routing: mengine.Summarize(res.Routing, cfg.MoE.ExpertsPerTask), Text: res.Text, Tokens: len(res.Tokens), StopReason: res.StopReason,
		Timings: timingsJSON{
			LoadMS: loadMS, ImportMS: importMS, VisionMS: res.Timings.VisionMS,
			PrefillMS: res.Timings.PrefillMS, PrefillTokens: res.Timings.PrefillTokens, PrefillTokPerS: res.Timings.PrefillTokPerS(),
			DecodeMS: res.Timings.DecodeMS, DecodeTokens: res.Timings.DecodeTokens, DecodeTokPerS: res.Timings.DecodeTokPerS(),
		},
	}
	if out.Routing != nil {
		out.Task = out.Routing.Task
	}
	if g.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	// The stream holds back what may still change (an incomplete UTF-8
	// tail); the final decode settles it.
	if rest, ok := strings.CutPrefix(res.Text, streamed.String()); ok {
		io.WriteString(stdout, rest)
	}
	fmt.Fprintln(stdout)
	printSummary(stderr, out)
	return nil
}

// taskText starts a summary line with the task group the router chose
// ("task report (p 0.97) · "), or is empty for a dense model.
func taskText(r *mengine.RoutingSummary) string {
	if r == nil {
		return ""
	}
	if r.Forced {
		return fmt.Sprintf("task %s (forced) · ", r.Task)
	}
	return fmt.Sprintf("task %s (p %.2f) · ", r.Task, r.TaskProbs[r.Task])
}

// printSummary is the one line after a streamed text, on stderr so that
// stdout holds the text alone.
func printSummary(w io.Writer, o output) {
	var b strings.Builder
	b.WriteString(taskText(o.Routing))
	t := o.Timings
	fmt.Fprintf(&b, "%d tokens (%s) · load %.0f ms · import %.0f ms · vision %.0f ms · prefill %.1f tok/s · decode %.1f tok/s · %s",
		o.Tokens, o.StopReason, t.LoadMS, t.ImportMS, t.VisionMS, t.PrefillTokPerS, t.DecodeTokPerS, o.Backend)
	fmt.Fprintln(w, "—", b.String())
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// modelInput imports the DICOM at path, picks the series (uid, or the
// largest), loads it and resamples it onto the model's grid: D slices of
// H×W, normalised. It returns (D, H, W); engine.Info.Pixels repeats it
// over the tower's input channels.
func modelInput(ctx context.Context, path, uid string, cfg model.Config, norm volume.Norm) ([]float32, seriesRef, error) {
	var ref seriesRef
	fsys, closer, err := dicomread.Open(path)
	if err != nil {
		return nil, ref, fmt.Errorf("%w\nhint: DICOM_PATH is a folder, a zip archive or one DICOM file", err)
	}
	defer closer.Close()
	res, err := dicomread.Import(ctx, fsys, &dicomread.Options{HeadersOnly: true})
	if err != nil {
		return nil, ref, err
	}
	if len(res.Series) == 0 {
		msg := fmt.Sprintf("no image series found under %s (%d file(s) looked at", path, res.Files)
		if len(res.Errors) > 0 {
			msg += fmt.Sprintf(", %d unusable, first: %v", len(res.Errors), res.Errors[0])
		}
		return nil, ref, fmt.Errorf("%s)\nhint: `ctlens info %s` shows what the import found", msg, path)
	}
	var s *dicomread.Series
	if uid != "" {
		var uids []string
		for _, c := range res.Series {
			uids = append(uids, c.SeriesInstanceUID)
			if c.SeriesInstanceUID == uid && s == nil {
				s = c
			}
		}
		if s == nil {
			return nil, ref, fmt.Errorf("no series %s under %s\nhint: --series one of %s", uid, path, strings.Join(uids, ", "))
		}
	} else {
		// The largest: a study's main acquisition, not a scout or a
		// reformatted thumbnail series.
		voxels := func(c *dicomread.Series) int { return c.Rows * c.Columns * len(c.Slices[0]) }
		for _, c := range res.Series {
			if len(c.Slices) > 0 && (s == nil || voxels(c) > voxels(s)) {
				s = c
			}
		}
	}
	v, _, err := s.Load(ctx, nil)
	if err != nil {
		return nil, ref, fmt.Errorf("series %s: %w", s.Name(), err)
	}
	vc := cfg.Vision
	d := cfg.Slices()
	grey, err := volume.ModelInput(v, 0, d, vc.ImageSize, vc.ImageSize, norm)
	if err != nil {
		return nil, ref, err
	}
	ref = seriesRef{UID: s.SeriesInstanceUID, Name: s.Name(), Dims: v.Dims, Input: [4]int{d, vc.NumChannels, vc.ImageSize, vc.ImageSize}, Series: len(res.Series)}
	return grey, ref, nil
}
