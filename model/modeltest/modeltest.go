// Package modeltest holds test helpers shared by the model's backends and
// tools, in the spirit of net/http/httptest.
package modeltest

import (
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
