// Command bench measures ctlens against other software and holds kernel
// experiments until one of them wins.
//
//	go run ./tools/bench import [-size 512x512x300] [-seed 1] [-dir DIR] [-runs 3] [-json]
//	                            [-readers ctlens,gdcm-cxx,…] [-python /usr/bin/python3]
//
// import generates (once, then reuses from -dir) a phantom CT series and
// reads it with ctlens and with GDCM and pydicom, alternating runs, then
// prints time, MB/s, slices/s and peak memory against the int16 volume for
// each. It fails if any reader's HU differ from ctlens's. See package
// ctlens/tools/bench/importbench for how each reader is measured.
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
	"path/filepath"
	"strings"

	"ctlens/tools/bench/importbench"
	"ctlens/tools/phantom/synth"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if len(os.Args) > 1 && os.Args[1] == importbench.ChildCommand {
		// The re-executed ctlens reader (see importbench.ChildCommand).
		if err := importbench.ChildMain(ctx, os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "bench:", strings.TrimPrefix(err.Error(), "bench: "))
		os.Exit(1)
	}
}

const usage = "usage: go run ./tools/bench import [-size 512x512x300] [-seed 1] [-dir DIR] [-runs 3] [-json] [-readers r1,r2] [-python PATH]"

// run parses the subcommand and its flags, runs the benchmark and prints it.
// self, the command that re-executes this binary, is os.Executable.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "import" {
		fmt.Fprintln(stderr, usage)
		if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "help" {
			return flag.ErrHelp
		}
		return fmt.Errorf("unknown subcommand %q; the one benchmark so far is import", args[0])
	}
	fs := flag.NewFlagSet("bench import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, usage); fs.PrintDefaults() }
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	var (
		size    = fs.String("size", "512x512x300", "phantom COLUMNSxROWSxSLICES")
		seed    = fs.Uint64("seed", 1, "phantom seed")
		dir     = fs.String("dir", filepath.Join(cache, "ctlens", "bench"), "cache folder for the phantom series and the compiled GDCM reader")
		runs    = fs.Int("runs", 3, "runs per reader (medians and min–max spread are reported)")
		asJSON  = fs.Bool("json", false, "print the report as JSON instead of a table")
		readers = fs.String("readers", "", "comma-separated readers to run (default all): "+strings.Join(importbench.ReaderNames(), ","))
		python  = fs.String("python", "/usr/bin/python3", "Python with Debian's python3-pydicom, python3-numpy and python3-gdcm")
		quiet   = fs.Bool("q", false, "no progress on stderr")
	)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; every option is a flag, e.g. -runs 5", fs.Arg(0))
	}
	sz, err := synth.ParseSize(*size)
	if err != nil {
		return fmt.Errorf("-size: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find this binary to re-execute it: %w", err)
	}
	cfg := importbench.Config{Size: sz, Seed: *seed, Dir: *dir, Runs: *runs, Python: *python, Self: []string{self}, Log: stderr}
	if *readers != "" {
		cfg.Readers = strings.Split(*readers, ",")
	}
	if *quiet {
		cfg.Log = nil
	}
	rep, err := importbench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return importbench.WriteTable(stdout, rep)
}
