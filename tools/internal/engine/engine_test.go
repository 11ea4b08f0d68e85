package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ctlens/model"
)

// TestResolveWeights: an explicit directory wins; without one, the demo
// directory is used only when it holds a manifest, else the error says how
// to make a model.
func TestResolveWeights(t *testing.T) {
	if d, err := ResolveWeights("x/y"); d != "x/y" || err != nil {
		t.Errorf("explicit: %q %v", d, err)
	}
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	root := t.TempDir()
	os.Chdir(root)
	if _, err := ResolveWeights(""); err == nil || !strings.Contains(err.Error(), "the built-in model is not here") || !strings.Contains(err.Error(), "model tiny") {
		t.Errorf("no demo: %v", err)
	}
	os.MkdirAll(filepath.Join(root, DefaultWeights), 0o755)
	os.WriteFile(filepath.Join(root, DefaultWeights, "manifest.json"), []byte("{}"), 0o644)
	if d, err := ResolveWeights(""); d != DefaultWeights || err != nil {
		t.Errorf("demo present: %q %v", d, err)
	}
}

// TestReads: the dry run reports a missing tensor by name and lists only
// what the loader asks for.
func TestReads(t *testing.T) {
	cfg := model.TinyConfigs()[0].Config
	src, err := model.RandomWeights(cfg, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	shapes := map[string][]int{"unused.weight": {2, 2}}
	for n, st := range src {
		shapes[n] = st.Shape
	}
	read, err := Reads(cfg, shapes)
	if err != nil {
		t.Fatal(err)
	}
	if read["unused.weight"] || read[model.VisionLayerName(2, "mlp.fc1.weight")] {
		t.Error("a tensor the model never reads is listed (an extra one, or a layer past the feature layer)")
	}
	if !read["model.embed_tokens.weight"] || !read[model.VisionLayerName(1, "mlp.fc1.weight")] {
		t.Error("a tensor the model reads is missing from the list")
	}
	delete(shapes, "model.norm.weight")
	if _, err := Reads(cfg, shapes); err == nil || !strings.Contains(err.Error(), "model.norm.weight") {
		t.Errorf("missing model.norm.weight: %v", err)
	}
}
