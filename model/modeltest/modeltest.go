// Package modeltest holds test helpers shared by the model's backends and
// tools, in the spirit of net/http/httptest.
package modeltest

import (
	"math/rand"
	"testing"

	"ctlens/model"
	"fmt"
	"strings"
)

// ByteTokenizer is a stand-in for model/tokenizer that satisfies
// model.Tokenizer: ASCII bytes are ids 0..127 and the Phi-3 special tokens
// follow (Specials[i] is id 128+i), so prompts built by the chat template
// tokenize predictably within the tiny models' 160-token vocabulary.
type ByteTokenizer struct{}

// Specials are the special tokens ByteTokenizer knows, from id 128 on.
var Specials = []string{"<s>", "<|user|>", "<|end|>", "<|assistant|>", "<|endoftext|>"}

// Encode adds <s> with addSpecial, as Phi-3's post-processor does.
func (ByteTokenizer) Encode(text string, addSpecial bool) []int {
	var ids []int
	if addSpecial {
		ids = append(ids, 128)
	}
outer:
	for len(text) > 0 {
		for i, sp := range Specials {
			if strings.HasPrefix(text, sp) {
				ids = append(ids, 128+i)
				text = text[len(sp):]
				continue outer
			}
		}
		ids = append(ids, int(text[0]&127))
		text = text[1:]
	}
	return ids
}

// Decode is Encode's inverse; ids past the specials print as <id>.
func (ByteTokenizer) Decode(ids []int, skipSpecial bool) string {
	var b strings.Builder
	for _, id := range ids {
		switch {
		case id < 128:
			b.WriteByte(byte(id))
		case skipSpecial:
		case id-128 < len(Specials):
			b.WriteString(Specials[id-128])
		default:
			fmt.Fprintf(&b, "<%d>", id)
		}
	}
	return b.String()
}

// TokenID looks up a special token.
func (ByteTokenizer) TokenID(tok string) (int, bool) {
	for i, sp := range Specials {
		if sp == tok {
			return 128 + i, true
		}
	}
	return 0, false
}

// Volume is a deterministic random model input (D, Cin, H, W) for cfg.
func Volume(cfg model.Config, seed int64) []float32 {
	v := cfg.Vision
	rng := rand.New(rand.NewSource(seed))
	px := make([]float32, cfg.Slices()*v.NumChannels*v.ImageSize*v.ImageSize)
	for i := range px {
		px[i] = float32(rng.NormFloat64())
	}
	return px
}

// Prompt is cfg's chat prompt around text with one image slot, tokenized
// by ByteTokenizer.
func Prompt(t testing.TB, cfg model.Config, text string) []int {
	t.Helper()
	ids, err := model.BuildPrompt(ByteTokenizer{}, cfg.Prompt, text)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}
