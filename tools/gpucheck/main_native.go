//go:build !js

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
)

// main runs the same suite on the native device (wgpu-native) and prints
// the report; it exits 1 when a case or a self-check failed.
func main() {
	match := flag.String("case", "", "only cases whose full name matches this regexp")
	heavy := flag.Bool("heavy", false, "include the heavy (large-shape) cases")
	flag.Parse()
	opt, err := parseOptions(*match, *heavy)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	r := runSuite(context.Background(), opt, func(*Report) {})
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if r.Error != "" || r.Failed > 0 || r.RuntimeFailed > 0 {
		fmt.Fprintf(os.Stderr, "gpucheck: %d cases failed, %d runtime checks failed %s\n", r.Failed, r.RuntimeFailed, r.Error)
		os.Exit(1)
	}
}
