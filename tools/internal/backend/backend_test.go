package backend

import (
	"context"
	"strings"
	"testing"

	"ctlens/model"
)

// TestOpen: both backends open (the GPU one on whatever adapter the
// machine has: lavapipe where the test script installs it), an unknown
// name is refused with the names, and Warm accepts both.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	cfg := model.TinyConfigs()[0].Config
	src, err := model.RandomWeights(cfg, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Names() {
		ops, release, err := Open(ctx, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.HasPrefix(ops.Backend(), name) {
			t.Errorf("--backend %s opened %s", name, ops.Backend())
		}
		m, err := model.New(ops, cfg, src)
		if err != nil {
			t.Fatal(err)
		}
		if err := Warm(ctx, ops, m); err != nil {
			t.Errorf("%s: warm: %v", name, err)
		}
		release()
	}
	if _, _, err := Open(ctx, "tpu"); err == nil || !strings.Contains(err.Error(), "hint: --backend cpu|gpu") {
		t.Errorf("tpu: %v", err)
	}
}
