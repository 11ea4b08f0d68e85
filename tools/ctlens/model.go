package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"ctlens/shaders"
	"ctlens/tools/internal/tinymodel"
)

func init() {
	commands["model"] = command{"make model directories: model tiny --out DIR writes a tiny random model (or --hf ARCH a tiny HF checkpoint)", runModel}
}

const modelUsage = "usage: ctlens model tiny --out DIR [--family NAME|N] [--dtype f32|f16|int8|int4] [--seed S]\n" +
	"       ctlens model tiny --hf phi3_v|phi3|clip_vision_model|ctlens --out DIR [--seed S]"

// runModel is `ctlens model tiny …`: a tiny random model directory, so
// report, ask and hf-dump run end to end before real weights exist (the
// numbers are random, the text is noise; the shapes, formats and
// pipeline are real). With --hf it writes a tiny Hugging Face checkpoint
// instead, the input of tools/convert and hf-dump.
func runModel(args []string) error { return modelCmd(args, os.Stdout, os.Stderr) }

func modelCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "tiny" {
		return fmt.Errorf("unknown or missing model subcommand\n%s", modelUsage)
	}
	fs := flag.NewFlagSet("model tiny", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "directory to write (new or empty)")
	family := fs.String("family", tinymodel.DefaultFamily, "tiny family, by name or index: "+strings.Join(tinymodel.Families(), ", "))
	dtype := fs.String("dtype", "f32", "matrix storage: f32, f16, int8 or int4 (where K allows; else f32)")
	seed := fs.Int64("seed", 1, "weights seed: equal seeds give equal models")
	hf := fs.String("hf", "", "write a tiny Hugging Face checkpoint of this architecture instead: phi3_v, phi3, clip_vision_model or ctlens")
	fs.Usage = func() { fmt.Fprintln(stderr, modelUsage); fs.PrintDefaults() }
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q\n%s", fs.Arg(0), modelUsage)
	}
	if *out == "" {
		return fmt.Errorf("--out is required\n%s", modelUsage)
	}
	if entries, err := os.ReadDir(*out); err == nil && len(entries) > 0 {
		return fmt.Errorf("--out %s is not empty\nhint: give a new directory", *out)
	}
	if *hf != "" {
		cfg, _, err := tinymodel.WriteHF(*out, *hf, tinymodel.HFOptions{Seed: *seed})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote a tiny %s checkpoint to %s (vision layers %d, decoder layers %d)\n", *hf, *out, cfg.Vision.NumLayers, cfg.LLM.NumLayers)
		return nil
	}
	dt, err := shaders.ParseDType(*dtype)
	if err != nil {
		return fmt.Errorf("--dtype: %w", err)
	}
	m, err := tinymodel.WriteDir(*out, *family, dt, *seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: model %q, %d tensors, %d parameters, %d bytes\n", *out, m.Model, len(m.Tensors), m.Parameters, m.Bytes())
	fmt.Fprintf(stdout, "try: go run ./tools/ctlens report DICOM_PATH --weights %s\n", *out)
	return nil
}
