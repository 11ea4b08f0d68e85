// Command train is the Go half of tools/train, the PyTorch trainer of the
// paper's recipe (train.py, model.py, export.py beside this file; see
// docs/TRAINING.md): the check that what PyTorch trained is what the
// engine runs.
//
//	go run ./tools/train parity --model DIR [--backend cpu|gpu]
//	    runs the fixed inputs export.py stored in DIR through the engine and
//	    compares its logits, task routing and greedy tokens with PyTorch's
//	    (the third rung of the testing ladder).
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
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

const usage = `usage: go run ./tools/train parity --model DIR [--backend cpu|gpu]`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("no command\n%s", usage)
	}
	switch args[0] {
	case "parity":
		fs := flag.NewFlagSet("parity", flag.ContinueOnError)
		fs.SetOutput(stderr)
		dir := fs.String("model", "", "model directory written by export.py (manifest.json, parity.json, parity_*.npy)")
		be := fs.String("backend", "cpu", "cpu or gpu")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *dir == "" {
			return fmt.Errorf("parity needs --model DIR\n%s", usage)
		}
		r, err := CheckParity(ctx, *dir, *be)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, r)
		return r.Err()
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}
