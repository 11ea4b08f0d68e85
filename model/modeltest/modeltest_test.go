package modeltest

import (
	"slices"
	"testing"
)

func TestByteTokenizerRoundTrip(t *testing.T) {
	var tok ByteTokenizer
	text := "<|user|>\nIs there a nodule?<|end|>\n<|assistant|>\n"
	ids := tok.Encode(text, true)
	if ids[0] != 128 || ids[1] != 129 {
		t.Fatalf("ids start %v, want <s> <|user|> = 128 129", ids[:2])
	}
	if got := tok.Decode(ids[1:], false); got != text {
		t.Errorf("Decode(Encode(x)) = %q, want %q", got, text)
	}
	if got := tok.Decode(ids, true); got != "\nIs there a nodule?\n\n" {
		t.Errorf("Decode skipping specials = %q", got)
	}
	if id, ok := tok.TokenID("<|end|>"); !ok || id != 130 || !slices.Contains(ids, id) {
		t.Errorf("TokenID(<|end|>) = %d, %v", id, ok)
	}
	if _, ok := tok.TokenID("<|nope|>"); ok {
		t.Error("unknown special token found")
	}
}
