// Command phantom writes synthetic chest/abdomen CT series with known
// ground truth: real DICOM files, a JSON ground truth and a report per case.
//
//	go run ./tools/phantom -out DIR -n N -seed S [-size 512x512x160] [-variant v1,v2] [-zip]
//	                       [-findings KIND[:SIDE][:MM],...] [-start K] [-workers W] [-reports]
//
// Output, for each case NNNN from -start on:
//
//	DIR/caseNNNN/IM0001.dcm …  the DICOM files (in DIR.zip instead with -zip)
//	DIR/caseNNNN.json          ground truth (synth.Truth, stamped with format and version)
//	DIR/caseNNNN.txt           the report: FINDINGS and IMPRESSION
//
// The same seed gives byte-identical output, whatever -workers says. See
// package ctlens/tools/phantom/synth for the anatomy, the findings, the
// variants and the ground-truth schema.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"ctlens/tools/phantom/synth"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "phantom:", err)
		os.Exit(2)
	}
}

// config is what the flags ask for.
type config struct {
	out          string
	n, start     int
	opts         synth.Options
	printReports bool
}

// parse reads the flags; every error names the flag and the fix.
func parse(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("phantom", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg      config
		seed     = fs.Uint64("seed", 1, "run seed; the same seed gives byte-identical output")
		size     = fs.String("size", "512x512x160", "COLUMNSxROWSxSLICES")
		variant  = fs.String("variant", "", "comma-separated import-test variants: "+strings.Join(variantNames(), ", "))
		zip      = fs.Bool("zip", false, "write the DICOM files into DIR.zip (same as -variant zip)")
		findings = fs.String("findings", "", "comma-separated findings to force instead of drawing them, each KIND[:SIDE][:SIZE_MM], e.g. lung_nodule:right:12; 'none' for a normal case")
		workers  = fs.Int("workers", 0, "rendering goroutines (0: GOMAXPROCS); the output does not depend on it")
	)
	fs.StringVar(&cfg.out, "out", "", "output folder (must be new or empty)")
	fs.IntVar(&cfg.n, "n", 1, "number of cases")
	fs.IntVar(&cfg.start, "start", 1, "number of the first case; cases are seeded by number, so runs can be split")
	fs.BoolVar(&cfg.printReports, "reports", false, "print each case's report")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./tools/phantom -out DIR -n N -seed S [-size 512x512x160] [-variant v1,v2] [-zip]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q; every option is a flag, e.g. -out DIR", fs.Arg(0))
	}
	if cfg.out == "" {
		return cfg, fmt.Errorf("-out is required; give a new folder, e.g. -out /tmp/phantom")
	}
	if cfg.n < 1 {
		return cfg, fmt.Errorf("-n %d: need at least one case; use -n 1 or more", cfg.n)
	}
	if cfg.start < 1 {
		return cfg, fmt.Errorf("-start %d: cases are numbered from 1; use -start 1 or more", cfg.start)
	}
	if *workers < 0 {
		return cfg, fmt.Errorf("-workers %d: use 0 (all CPUs) or a positive count", *workers)
	}
	sz, err := synth.ParseSize(*size)
	if err != nil {
		return cfg, fmt.Errorf("-size: %w", err)
	}
	vs, err := synth.ParseVariants(*variant)
	if err != nil {
		return cfg, fmt.Errorf("-variant: %w", err)
	}
	if *zip {
		vs[synth.Zip] = true
	}
	cfg.opts = synth.Options{Seed: *seed, Size: sz, Variants: vs, Workers: *workers}
	if *findings != "" {
		cfg.opts.Findings = []synth.FindingSpec{}
		for _, f := range strings.Split(*findings, ",") {
			if strings.TrimSpace(f) == "none" {
				continue
			}
			spec, err := synth.ParseFindingSpec(f)
			if err != nil {
				return cfg, fmt.Errorf("-findings: %w", err)
			}
			cfg.opts.Findings = append(cfg.opts.Findings, spec)
		}
	}
	return cfg, nil
}

func variantNames() []string {
	var s []string
	for _, v := range synth.AllVariants {
		s = append(s, string(v))
	}
	return s
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parse(args, stderr)
	if err != nil {
		return err
	}
	return synth.Generate(ctx, cfg.out, cfg.start, cfg.n, cfg.opts, func(r synth.Result) {
		var fs []string
		for _, f := range r.Truth.Findings {
			fs = append(fs, f.Location+" "+string(f.Type))
		}
		if len(fs) == 0 {
			fs = []string{"normal"}
		}
		fmt.Fprintf(stdout, "%s  %d files  %.1fs  %s\n", r.Name, r.Files, r.Elapsed.Seconds(), strings.Join(fs, "; "))
		if cfg.printReports {
			fmt.Fprintln(stdout, r.Truth.Report.Text)
		}
	})
}
