// Command ctlens is the native command line of ctlens: the same engine as
// the browser app, on wgpu-native.
//
//	ctlens gpu                         print the adapter, features and limits as JSON
//	ctlens gpu --check                 also run every kernel's parity case on it
//	ctlens info PATH [--json]          describe the CT series found under PATH
//	ctlens report PATH [--weights W]   stream a radiology report for the series
//	ctlens ask PATH "question"         answer a question about it
//	ctlens hf-dump --checkpoint DIR    run an HF checkpoint and write .npy outputs
//	ctlens model tiny --out DIR        write a tiny random model directory
//
// Each subcommand lives in its own file and registers itself in commands.
package main

import (
	"fmt"
	"os"
	"sort"
)

// command is one subcommand: a one-line summary and its entry point, which
// receives the arguments after the subcommand's name.
type command struct {
	summary string
	run     func(args []string) error
}

var commands = map[string]command{}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		if len(os.Args) < 2 {
			os.Exit(2)
		}
		return
	}
	c, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "ctlens: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err := c.run(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "ctlens %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: ctlens COMMAND [arguments]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", n, commands[n].summary)
	}
}
