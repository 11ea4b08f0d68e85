package tokenizer

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestStream: for every fixture, the streamed pieces are valid UTF-8 and add
// up to Decode (for the decoders that allow it: see Stream).
func TestStream(t *testing.T) {
	texts := append(append([]string{}, fixedCorpus...), randomCorpus(200, 8)...)
	for _, f := range fixtures(t) {
		tok, err := Load(bytesReader(f.json))
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		cases := decodeCases(tok, texts, true, 77)
		for range 100 { // runs of byte tokens, the hard case for streaming
			ids := make([]int, rng.IntN(12)+1)
			for k := range ids {
				ids[k] = rng.IntN(min(tok.VocabSize(), 300))
			}
			cases = append(cases, ids)
		}
		for _, skip := range []bool{false, true} {
			for _, ids := range cases {
				s := tok.NewStream(skip)
				var b strings.Builder
				for _, id := range ids {
					piece := s.Next(id)
					if !utf8.ValidString(piece) {
						t.Fatalf("%s: invalid UTF-8 piece %q", f.name, piece)
					}
					b.WriteString(piece)
				}
				b.WriteString(s.Flush())
				if f.name == "punct-whitespace" {
					continue // its Strip decoder cuts trailing spaces: not streamable exactly
				}
				if have, want := b.String(), tok.decode(ids, skip, false); have != want {
					t.Errorf("%s skip=%v ids %v:\n stream %q\n decode %q", f.name, skip, ids, have, want)
				}
			}
		}
	}
}

// TestStreamHoldsPartialCharacters: an emoji spread over four byte-fallback
// tokens appears whole, with the fourth.
func TestStreamHoldsPartialCharacters(t *testing.T) {
	tok, err := Load(bytesReader(spJSON(t, nil, false)))
	if err != nil {
		t.Fatal(err)
	}
	ids := tok.Encode("a 🫁 b", false)
	s := tok.NewStream(false)
	var got []string
	for _, id := range ids {
		got = append(got, s.Next(id))
	}
	joined := strings.Join(got, "")
	if joined != "a 🫁 b" || strings.ContainsRune(joined, utf8.RuneError) {
		t.Fatalf("pieces %q", got)
	}
	holds := 0
	for _, p := range got {
		if p == "" {
			holds++
		}
	}
	if holds < 3 {
		t.Errorf("pieces %q: the emoji's first three bytes should give nothing", got)
	}
}
