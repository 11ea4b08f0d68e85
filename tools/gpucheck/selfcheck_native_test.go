//go:build !js

package main

import (
	"context"
	"strings"
	"testing"

	"ctlens/wgpu"
)

// wgpu-native's naga lacks dot4I8Packed: the device must say so and the
// runtime must refuse a pipeline that needs it before naga sees it. (The
// browser suite runs the same self-check where the extension exists.)
func TestPackedDot4RefusedNatively(t *testing.T) {
	d, err := wgpu.Open(context.Background(), wgpu.Options{})
	if err != nil {
		t.Fatalf("no GPU device (the test command installs mesa-vulkan-drivers): %v", err)
	}
	defer d.Close()
	if d.Info().Features.PackedDot4Usable {
		t.Fatal("PackedDot4Usable natively, where naga rejects dot4I8Packed")
	}
	note, err := checkPackedDot4(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(note, "refused") {
		t.Errorf("note %q: the pipeline was not refused", note)
	}
}
