package tokenizer

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestTrain(t *testing.T) {
	corpus := reportCorpus(2000, 3)[:2000] // without the fixed corpus and its foreign chat markers
	for range 50 {
		corpus = append(corpus, "<|user|>\nWhat is this?<|end|>\n<|assistant|>\nA cyst.<|end|><|endoftext|>")
	}
	for _, split := range []SplitStyle{SplitGPT2, SplitLlama3} {
		tok, err := Train(slices.Values(corpus), 500, TrainOptions{Split: split, BOS: "<|endoftext|>"})
		if err != nil {
			t.Fatal(err)
		}
		if tok.VocabSize() != 500 {
			t.Errorf("split %d: vocab size %d, want 500", split, tok.VocabSize())
		}
		for i, s := range DefaultSpecialTokens() {
			if id, ok := tok.TokenID(s); !ok || id != i || !tok.IsSpecial(id) {
				t.Errorf("special %q: id %d %v", s, id, ok)
			}
		}
		total := 0
		for _, text := range corpus {
			ids := tok.Encode(text, false)
			total += len(ids)
			if have := tok.Decode(ids, false); have != text {
				t.Fatalf("round trip of %q gave %q", text, have)
			}
			if withBOS := tok.Encode(text, true); len(withBOS) != len(ids)+1 || withBOS[0] != 0 {
				t.Fatalf("BOS not added: %v", withBOS[:min(3, len(withBOS))])
			}
		}
		// Merges must compress: fewer tokens than bytes by a wide margin.
		bytesN := 0
		for _, text := range corpus {
			bytesN += len(text)
		}
		if ratio := float64(bytesN) / float64(total); ratio < 2 {
			t.Errorf("split %d: %.2f bytes per token", split, ratio)
		}
		// Special token text in the corpus is not learned from.
		for _, s := range []string{"<|", "|>", "Ċ<|"} {
			if _, ok := tok.TokenID(s); ok {
				t.Errorf("split %d: learned %q from special tokens", split, s)
			}
		}
	}
}

// TestTrainDeterministic: the same corpus gives the same file, and the file
// loads into a tokenizer that encodes the same.
func TestTrainDeterministic(t *testing.T) {
	corpus := reportCorpus(500, 4)
	write := func() []byte {
		tok, err := Train(slices.Values(corpus), 400, TrainOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := tok.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, b := write(), write()
	if !bytes.Equal(a, b) {
		t.Fatal("two trainings differ")
	}
	if !bytes.Contains(a, []byte(`"<|endoftext|>": 0`)) || bytes.Contains(a, []byte(`\u003c`)) {
		t.Error("vocab is not written in id order without HTML escapes")
	}
}

func TestTrainStopsAndErrors(t *testing.T) {
	tok, err := Train(slices.Values([]string{"ab ab", "cd"}), 10000, TrainOptions{SpecialTokens: []string{}, MinFrequency: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Only "a b" (2×) and then "Ġ a"… occur twice; nothing else can be merged.
	if tok.VocabSize() >= 256+5 {
		t.Errorf("vocab %d: merged pairs seen once", tok.VocabSize())
	}
	if _, err := Train(slices.Values([]string{"x"}), 100, TrainOptions{}); err == nil {
		t.Error("vocab size below 256 + specials accepted")
	}
	if _, err := Train(slices.Values([]string{"x"}), 1000, TrainOptions{BOS: "<s>"}); err == nil || !strings.Contains(err.Error(), "<s>") {
		t.Errorf("unknown BOS accepted: %v", err)
	}
	if _, err := Train(slices.Values([]string{"x"}), 1000, TrainOptions{SpecialTokens: []string{"a", "a"}}); err == nil {
		t.Error("repeated special token accepted")
	}
}
