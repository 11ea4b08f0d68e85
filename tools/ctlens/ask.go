package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"ctlens/model"
)

func init() {
	commands["ask"] = command{`answer a question about the CT series at PATH: ask PATH "question" (--weights DIR, --json)`, runAsk}
}

const askUsage = `usage: ctlens ask DICOM_PATH "question" [--choices "A|B|C"] [--weights DIR] [--backend cpu|gpu] [--json]` + "\n" +
	"                  [--series UID] [--seed S --temperature T --top-k K --top-p P --max-tokens N] [--task auto|…]\n" +
	`a closed question carries its options in the text ("… Choices: A. yes B. no") or in --choices`

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
	fs.Usage = func() { fmt.Fprintln(stderr, askUsage); fs.PrintDefaults() }
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || strings.TrimSpace(pos[1]) == "" {
		return fmt.Errorf("want DICOM_PATH and a question, have %d argument(s)\n%s", len(pos), askUsage)
	}
	q := pos[1]
	if *choices != "" {
		q = model.ClosedQuestion(q, strings.Split(*choices, "|"))
	}
	return generate(ctx, request{kind: "ask", path: pos[0], question: q}, g, stdout, stderr)
}
