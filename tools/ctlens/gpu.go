package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"

	"ctlens/shaders"
	"ctlens/shaders/parity"
	"ctlens/wgpu"
)

func init() {
	commands["gpu"] = command{"print the GPU adapter, features and limits as JSON (--check runs the kernel parity suite)", runGPU}
}

// gpuReport is what `ctlens gpu` prints.
type gpuReport struct {
	wgpu.Info
	Check *checkSummary `json:"check,omitempty"`
}

type checkSummary struct {
	Passed  int             `json:"passed"`
	Failed  int             `json:"failed"`
	Skipped int             `json:"skipped"`
	Results []parity.Result `json:"results"`
}

func runGPU(args []string) error {
	fs := flag.NewFlagSet("gpu", flag.ContinueOnError)
	check := fs.Bool("check", false, "run every kernel's parity case on this device")
	heavy := fs.Bool("heavy", false, "with --check, include the heavy (large-shape) cases")
	match := fs.String("case", "", "with --check, only cases whose name matches this regexp")
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := wgpu.Open(context.Background(), wgpu.Options{HighPerformance: true})
	if err != nil {
		return fmt.Errorf("%w\nhint: on Debian, `apt-get install mesa-vulkan-drivers` provides a CPU Vulkan adapter", err)
	}
	defer d.Close()
	rep := gpuReport{Info: d.Info()}
	if *check {
		re, err := regexp.Compile(*match)
		if err != nil {
			return err
		}
		s := &checkSummary{}
		for _, c := range shaders.Cases() {
			if (c.Heavy && !*heavy) || !re.MatchString(c.FullName()) {
				continue
			}
			r := parity.Run(context.Background(), d, c)
			switch {
			case r.Skipped != "":
				s.Skipped++
			case r.OK():
				s.Passed++
			default:
				s.Failed++
			}
			s.Results = append(s.Results, r)
		}
		rep.Check = s
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return err
	}
	if rep.Check != nil && rep.Check.Failed > 0 {
		return fmt.Errorf("%d kernel cases failed", rep.Check.Failed)
	}
	return nil
}
