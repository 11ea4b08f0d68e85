package tinymodel

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"ctlens/weights"
)

// TestDeterministic: the tokenizer and the checkpoints are functions of
// their seed (tests compare runs against each other, and a model
// directory made twice must be the same model); another seed changes the
// weights.
func TestDeterministic(t *testing.T) {
	_, a, err := Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	_, b, _ := Tokenizer()
	if !bytes.Equal(a, b) {
		t.Error("two trainings of the tiny tokenizer differ")
	}
	read := func(seed int64, dt weights.DType) []byte {
		dir := t.TempDir()
		if _, _, err := WriteHF(dir, Phi3V, HFOptions{Seed: seed, DType: dt}); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	if !bytes.Equal(read(1, weights.BF16), read(1, weights.BF16)) {
		t.Error("equal seeds wrote different checkpoints")
	}
	if bytes.Equal(read(1, weights.F32), read(2, weights.F32)) {
		t.Error("different seeds wrote the same checkpoint")
	}
	if f16, f32 := len(read(1, weights.F16)), len(read(1, weights.F32)); 10*f16 > 6*f32 {
		t.Errorf("an F16 checkpoint of %d bytes beside an F32 one of %d: not about half", f16, f32)
	}
}
