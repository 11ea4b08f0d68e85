//go:build !js

package shaders_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"ctlens/shaders"
	"ctlens/shaders/parity"
	"ctlens/wgpu"
)

var caseFilter = flag.String("case", "", "run only parity cases whose full name matches this regexp")

// TestKernelParity runs every kernel case on the native GPU (lavapipe on CI)
// against its Go reference. No adapter is a failure, not a skip.
func TestKernelParity(t *testing.T) {
	d, err := wgpu.Open(context.Background(), wgpu.Options{})
	if err != nil {
		t.Fatalf("no GPU device (the test command installs mesa-vulkan-drivers): %v", err)
	}
	defer d.Close()
	re := regexp.MustCompile(*caseFilter)
	for _, c := range shaders.Cases() {
		if !re.MatchString(c.FullName()) {
			continue
		}
		t.Run(c.FullName(), func(t *testing.T) {
			if c.Heavy && testing.Short() {
				t.Skip("heavy case; runs without -short")
			}
			r := parity.Run(context.Background(), d, c)
			if r.Skipped != "" {
				t.Logf("SKIPPED on %s: %s (runs in the headless-Chromium suite)", d.Info().Adapter.Name, r.Skipped)
				return
			}
			if !r.OK() {
				t.Fatal(r.Err)
			}
		})
	}
}

// Every .wgsl file belongs to a registered family and every family's files
// exist, so no kernel ships without a descriptor and its parity cases.
func TestEveryFileHasADescriptor(t *testing.T) {
	claimed := map[string]string{}
	for fam, files := range shaders.FamilyFiles() {
		for _, f := range files {
			claimed[f] = fam
		}
	}
	for _, f := range shaders.EmbeddedFiles() {
		if _, ok := claimed[f]; !ok {
			t.Errorf("%s has no family (register it with its cases)", f)
		}
	}
	disk, _ := filepath.Glob("*.wgsl")
	for f, fam := range claimed {
		if !slices.Contains(disk, f) {
			t.Errorf("family %s names %s, which does not exist", fam, f)
		}
	}
	perFamily := map[string]int{}
	for _, c := range shaders.Cases() {
		perFamily[c.Family]++
	}
	for _, fam := range shaders.Families() {
		if perFamily[fam] == 0 {
			t.Errorf("family %s has no parity cases", fam)
		}
	}
}

// Each case is well-formed and names are unique, so failures are findable.
func TestCasesWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range shaders.Cases() {
		if err := c.Validate(); err != nil {
			t.Error(err)
		}
		if seen[c.FullName()] {
			t.Errorf("duplicate case name %s", c.FullName())
		}
		seen[c.FullName()] = true
		for _, s := range c.Steps {
			if !strings.Contains(s.Kernel.Source, "struct Params") {
				t.Errorf("%s: kernel %s has no generated Params struct", c.FullName(), s.Kernel.Name)
			}
		}
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(m.Run())
}
