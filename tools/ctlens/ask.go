package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"ctlens/model"
	mengine "ctlens/model/engine"
)

func init() {
	commands["ask"] = command{`answer a question about the CT series at PATH: ask PATH "question" (--weights DIR, --json); closed questions rank their choices`, runAsk}
}

const askUsage = `usage: ctlens ask DICOM_PATH "question" [--choices "A|B|C" | --choice A --choice B …] [--generate] [--weights DIR]` + "\n" +
	"                  [--backend cpu|gpu] [--json] [--series UID] [--seed S --temperature T --top-k K --top-p P --max-tokens N] [--task auto|…]\n" +
	`a closed question carries its options in the text ("… Choices: A. yes B. no"), in --choices or in --choice flags;` + "\n" +
	`it is answered by ranking the choices by the model's likelihood of each answer "X. text" (the sampling flags do not apply),` + "\n" +
	`or with --generate by free generation as an open question is`

// choiceFlags collects repeated --choice flags.
type choiceFlags []string

func (c *choiceFlags) String() string     { return strings.Join(*c, "|") }
func (c *choiceFlags) Set(v string) error { *c = append(*c, v); return nil }

// runAsk is `ctlens ask DICOM_PATH "question" [flags]`.
func runAsk(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return ask(ctx, args, os.Stdout, os.Stderr)
}

func ask(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ask", flag.ContinueOnError)
	fs.SetOutput(stderr)
	g := addGenerateFlags(fs)
	choices := fs.String("choices", "", `options of a closed question, separated by '|': appended as " Choices: A. … B. …"`)
	var each choiceFlags
	fs.Var(&each, "choice", "one option of a closed question (repeat the flag for each, in order)")
	gen := fs.Bool("generate", false, "answer a closed question by free generation instead of ranking its choices")
	fs.Usage = func() { fmt.Fprintln(stderr, askUsage); fs.PrintDefaults() }
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || strings.TrimSpace(pos[1]) == "" {
		return fmt.Errorf("want DICOM_PATH and a question, have %d argument(s)\n%s", len(pos), askUsage)
	}
	q := pos[1]
	var given []string
	switch {
	case *choices != "" && len(each) > 0:
		return fmt.Errorf("--choices and --choice both given\nhint: one of them: --choices \"yes|no\" or --choice yes --choice no")
	case *choices != "":
		given = strings.Split(*choices, "|")
	default:
		given = each
	}
	req := request{kind: "ask", path: pos[0], question: q}
	_, _, written := model.ParseClosedQuestion(q)
	if len(given) > 0 || written {
		text, cs, err := mengine.ClosedPrompt(q, given)
		if err != nil {
			return fmt.Errorf("%w\nhint: give the choices once, in the question (\"… Choices: A. x B. y\") or as flags", err)
		}
		req.question = text
		if !*gen {
			req.choices = cs
		}
	}
	return generate(ctx, req, g, stdout, stderr)
}

// ranked is what generate hands choose beside the engine: the series
// read, the phases' times so far, the --task choice (−1: the router).
type ranked struct {
	ref              seriesRef
	loadMS, importMS float64
	task             int
}

// choiceJSON is one choice in ask's --json output.
type choiceJSON struct {
	Letter  string  `json:"letter"`
	Text    string  `json:"text"`
	Prob    float64 `json:"prob"`     // softmax over the choices' log-likelihoods
	LogProb float64 `json:"log_prob"` // Σ log p of "X. text<|end|>" after the question
}

// askOutput is output plus the ranking of a closed question.
type askOutput struct {
	output
	// Mode is "rank": Text is the most likely choice's "X. text", not
	// generated.
	Mode    string       `json:"mode"`
	Choices []choiceJSON `json:"choices"`
}

// choose answers req's closed question by ranking its choices
// (engine.Choose) and prints the answer and every choice's probability
// (or one JSON object with --json).
func choose(ctx context.Context, e *mengine.Engine, req request, px []float32, r ranked, g *generateFlags, stdout, stderr io.Writer) error {
	opts := model.TextOptions{GenerateOptions: model.GenerateOptions{ForceTask: r.task >= 0, Task: r.task}}
	res, err := e.Choose(ctx, mengine.Request{Pixels: px, Question: req.question, Options: opts}, req.choices)
	if err != nil {
		return err
	}
	out := askOutput{
		output: output{
			Command: req.kind, Model: e.Manifest.Model, Backend: e.Model.Ops().Backend(), Series: r.ref, Question: req.question,
			Routing: mengine.Summarize(res.Routing, e.Config.MoE.ExpertsPerTask), Text: res.Text, StopReason: "ranked",
			Timings: timingsJSON{
				LoadMS: r.loadMS, ImportMS: r.importMS, VisionMS: res.Timings.VisionMS,
				PrefillMS: res.Timings.PrefillMS, PrefillTokens: res.Timings.PrefillTokens, PrefillTokPerS: res.Timings.PrefillTokPerS(),
				DecodeMS: res.Timings.DecodeMS, DecodeTokens: res.Timings.DecodeTokens, DecodeTokPerS: res.Timings.DecodeTokPerS(),
			},
		},
		Mode: "rank",
	}
	if out.Routing != nil {
		out.Task = out.Routing.Task
	}
	for i, c := range req.choices {
		out.Choices = append(out.Choices, choiceJSON{Letter: string(rune('A' + i)), Text: c, Prob: res.Probs[i], LogProb: res.LogProbs[i]})
	}
	if g.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintln(stdout, res.Text)
	for i, c := range out.Choices {
		mark := " "
		if i == res.Index {
			mark = "▸"
		}
		fmt.Fprintf(stdout, "%s %s. %-24s p %.3f\n", mark, c.Letter, c.Text, c.Prob)
	}
	var b strings.Builder
	b.WriteString(taskText(out.Routing))
	t := out.Timings
	fmt.Fprintf(&b, "%d choices ranked by likelihood (--generate: the model's own answer) · load %.0f ms · import %.0f ms · vision %.0f ms · prefill %.0f ms · scoring %.0f ms · %s",
		len(out.Choices), t.LoadMS, t.ImportMS, t.VisionMS, t.PrefillMS, t.DecodeMS, out.Backend)
	fmt.Fprintln(stderr, "—", b.String())
	return nil
}
