// Command eval scores a ctlens model on a data set split the way
// M3D-Bench scores 3D medical MLLMs: it runs the engine on every sample
// (greedy decoding, or for closed questions the ranking of their choices;
// the task router choosing the TGH-MoE group) and prints a table and
// JSON:
//
//   - reports: BLEU-1, ROUGE-1, ROUGE-L, METEOR (mean over reports) and
//     finding-level precision and recall (does the report state each
//     true finding with the right side);
//   - closed VQA: accuracy, a prediction counting when "X." of the right
//     letter appears in the output. With --closed rank (the default) the
//     output is the choice whose answer "X. text<|end|>" the model finds
//     most likely (model.Choose); with --closed generate it is the model's
//     own greedy answer. The table and JSON say which (closed_vqa.mode),
//     beside the text-only answer prior;
//   - open VQA: the same text metrics and exact match of the key word;
//   - the task router: how often it chose the sample's own task.
//
// Usage:
//
//	go run ./tools/eval --weights W --data DIR [--split test] [--backend cpu|gpu] [--limit N]
//	                    [--tasks report,closed_vqa,open_vqa] [--closed rank|generate] [--json] [--predictions FILE]
//
// The data come from `go run ./tools/dataset`; see tools/dataset/FORMAT.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "eval:", err)
		os.Exit(2)
	}
}

const usage = "usage: go run ./tools/eval --weights W --data DIR [--split test] [--backend cpu|gpu] [--limit N] [--closed rank|generate] [--json]"

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.weights, "weights", "", "ctlens model directory (default: weights/demo when it exists)")
	fs.StringVar(&o.data, "data", "", "data set folder written by tools/dataset")
	fs.StringVar(&o.split, "split", "test", "split to score: train, val or test")
	fs.StringVar(&o.backend, "backend", "cpu", "cpu or gpu")
	fs.IntVar(&o.limit, "limit", 0, "score the first N cases of the split only (0: all)")
	fs.StringVar(&o.tasks, "tasks", "report,closed_vqa,open_vqa", "comma-separated tasks to score")
	fs.IntVar(&o.reportTokens, "report-tokens", 256, "generated tokens at most for a report")
	fs.IntVar(&o.answerTokens, "answer-tokens", 48, "generated tokens at most for an answer")
	fs.BoolVar(&o.asJSON, "json", false, "print only the JSON result")
	fs.StringVar(&o.predictions, "predictions", "", "write every prediction to this JSON-lines file (ranked closed questions with their choice probabilities)")
	fs.StringVar(&o.closed, "closed", closedRank, "how closed questions are answered: rank (the choices ranked by the model's likelihood of each answer \"X. text\") or generate (free greedy generation)")
	fs.Usage = func() { fmt.Fprintln(stderr, usage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q\n%s", fs.Arg(0), usage)
	}
	if o.data == "" {
		return fmt.Errorf("--data is required\nhint: build a data set with `go run ./tools/dataset -out DIR -n N -seed S`")
	}
	res, err := evaluate(ctx, o, stderr)
	if err != nil {
		return err
	}
	if !o.asJSON {
		printTable(stdout, res)
	}
	return writeJSON(stdout, res)
}
