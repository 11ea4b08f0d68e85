// Command dataset builds the training data of the demo model from
// synthetic CT: thousands of tools/phantom cases, each imported through
// volume as the app imports a study and resampled to the model's grid,
// with its report, closed (M3D-VQA form) and open questions and per-slice
// captions, in fixed train/val/test splits, plus a byte-level BPE
// tokenizer trained on the training text.
//
//	go run ./tools/dataset -out DIR -n N -seed S [-size 16x64x64] [-phantom-size 128x128x32]
//	                       [-norm window:-300:1500] [-vocab 1536] [-workers 1]
//
// The same seed gives byte-identical files. FORMAT.md describes them.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"time"

	"ctlens/tools/dataset/dataset"
	"ctlens/tools/phantom/synth"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "dataset:", err)
		os.Exit(2)
	}
}

// parseGrid reads DxHxW.
func parseGrid(s string) (d, h, w int, err error) {
	parts := strings.Split(strings.ToLower(s), "x")
	if len(parts) != 3 {
		return 0, 0, 0, fmt.Errorf("-size %q: want DxHxW (slices x rows x columns), e.g. 16x64x64", s)
	}
	var v [3]int
	for i, p := range parts {
		if v[i], err = strconv.Atoi(strings.TrimSpace(p)); err != nil || v[i] < 1 {
			return 0, 0, 0, fmt.Errorf("-size %q: %q is not a positive whole number; want DxHxW, e.g. 16x64x64", s, p)
		}
	}
	return v[0], v[1], v[2], nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dataset", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o dataset.Options
	fs.StringVar(&o.Out, "out", "", "output folder (must be new or empty)")
	fs.IntVar(&o.N, "n", 40, "number of cases (numbered 1..N)")
	fs.Uint64Var(&o.Seed, "seed", 1, "run seed; the same seed gives byte-identical files")
	size := fs.String("size", "16x64x64", "model input grid DxHxW (slices x rows x columns; rows = columns)")
	phantom := fs.String("phantom-size", "", "synth grid COLSxROWSxSLICES (default: twice the model grid on every axis)")
	fs.StringVar(&o.Norm, "norm", dataset.DefaultNorm, "HU normalisation: minmax, window:C:W or window-signed:C:W")
	fs.IntVar(&o.Vocab, "vocab", dataset.DefaultVocab, "tokenizer vocabulary size (specials and 256 bytes included)")
	fs.IntVar(&o.Workers, "workers", 1, "cases rendered at once; the output does not depend on it")
	quiet := fs.Bool("q", false, "no progress lines")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; every option is a flag, e.g. -out DIR", fs.Arg(0))
	}
	if o.Out == "" {
		return fmt.Errorf("-out is required; give a new folder, e.g. -out /tmp/ds")
	}
	var err error
	if o.D, o.H, o.W, err = parseGrid(*size); err != nil {
		return err
	}
	if *phantom != "" {
		if o.Phantom, err = synth.ParseSize(*phantom); err != nil {
			return fmt.Errorf("-phantom-size: %w", err)
		}
	}
	t0 := time.Now()
	if !*quiet {
		o.Progress = func(done, total int) {
			if done%100 == 0 || done == total {
				el := time.Since(t0).Seconds()
				fmt.Fprintf(stderr, "%d/%d cases, %.2f cases/s\n", done, total, float64(done)/el)
			}
		}
	}
	st, err := dataset.Build(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d cases in %.1f s (%.2f cases/s rendering and import), volumes %.1f MiB, vocab %d\n",
		st.Cases, st.Elapsed.Seconds(), st.CasesPerSec, float64(st.VolumesBytes)/(1<<20), st.Vocab)
	keys := make([]string, 0, len(st.QTypes))
	for k := range st.QTypes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(stdout, "  %-22s %6d\n", k, st.QTypes[k])
	}
	for _, task := range []string{dataset.TaskReport, dataset.TaskClosedVQA, dataset.TaskOpenVQA} {
		fmt.Fprintf(stdout, "  %-12s mean tokens: prompt %.1f, answer %.1f (train)\n", task, st.MeanPrompt[task], st.MeanTokens[task])
	}
	m, err := dataset.ReadMeta(o.Out)
	if err != nil {
		return err
	}
	js, _ := json.Marshal(m.Splits)
	fmt.Fprintf(stdout, "splits %s, norm %s, phantom %s, excluded %v\n", js, m.InputNorm, m.PhantomSize, m.Excluded)
	return nil
}
