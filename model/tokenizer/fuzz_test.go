package tokenizer

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the generated files in testdata/")

// seedFiles are small tokenizer.json files in testdata/: fuzz seeds, and a
// golden check that the trainer's output has not changed unnoticed.
func seedFiles(t testing.TB) map[string][]byte {
	llama3 := TrainOptions{Split: SplitLlama3, BOS: "<|endoftext|>"}
	return map[string][]byte{
		"gpt2-small.json":   trainedJSONSized(t, TrainOptions{}, 300, 200),
		"llama3-small.json": trainedJSONSized(t, llama3, 300, 200),
		"phi3-small.json":   spJSONSized(t, nil, false, 200, 40),
	}
}

func TestSeedFiles(t *testing.T) {
	for name, want := range seedFiles(t) {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		have, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (HINT: go test ./model/tokenizer -run TestSeedFiles -update)", err)
		}
		if !bytes.Equal(have, want) {
			t.Errorf("testdata/%s differs from what the generator writes now; if the change is intended: go test ./model/tokenizer -run TestSeedFiles -update", name)
		}
	}
}

func loadSeed(t testing.TB, name string) *Tokenizer {
	t.Helper()
	tok, err := LoadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// FuzzLoad: any input either loads or fails with a FormatError or an
// UnsupportedError, and whatever loads encodes, decodes and streams
// without panicking.
func FuzzLoad(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"added_tokens":[{"id":3,"content":"<s>","special":true,"rstrip":true}],"normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"Regex":"\\s+"},"content":"▁"}]},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"(?i:ab)|\\s+(?!\\S)|\\s+"},"behavior":"Removed"},"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}]},"decoder":{"type":"Sequence","decoders":[{"type":"ByteFallback"},{"type":"Strip","content":" ","start":1,"stop":1}]},"model":{"type":"BPE","unk_token":"a","byte_fallback":true,"fuse_unk":true,"vocab":{"a":0,"b":1,"ab":2,"<0x41>":4},"merges":[["a","b"]]}}`))
	texts := []string{"", "Hello  world\n", "ab AB <s> x", "日本🙂 é", "\xff\xe2\x82"}
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := Load(bytes.NewReader(data))
		if err != nil {
			var fe *FormatError
			var ue *UnsupportedError
			if !errors.As(err, &fe) && !errors.As(err, &ue) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		for _, s := range texts {
			ids := tok.Encode(s, true)
			_ = tok.Decode(ids, false)
			_ = tok.Decode(ids, true)
			st := tok.NewStream(true)
			for _, id := range ids {
				st.Next(id)
			}
			st.Flush()
		}
		_ = tok.Decode([]int{-1, 0, 1, 1 << 30}, false)
	})
}

// FuzzEncode: on the byte-level seed tokenizers (no normalizer) decoding an
// encoding gives back the text, as TextDecoder reads its bytes (so exactly
// the text when it is valid UTF-8); on all of them streaming adds up to
// Decode.
// maxStreamIDs bounds the ids FuzzEncode streams: more than a
// generation's default max tokens (256), far fewer than a long input's.
const maxStreamIDs = 2048

func FuzzEncode(f *testing.F) {
	for _, s := range fixedCorpus {
		f.Add(s)
	}
	for _, s := range []string{"\xff", "a\xe2\x82", "\xed\xa0\x80x", "<|user|>\xf0\x9f", "\xe2<|end|>\x82\xac"} {
		f.Add(s)
	}
	byteLevel := []*Tokenizer{loadSeed(f, "gpt2-small.json"), loadSeed(f, "llama3-small.json")}
	sp := loadSeed(f, "phi3-small.json")
	f.Fuzz(func(t *testing.T, s string) {
		for _, tok := range byteLevel {
			ids := tok.Encode(s, false)
			have, want := tok.Decode(ids, false), decodeWHATWG([]byte(s), false)
			if have != want {
				t.Fatalf("decode(encode(%q)) = %q, want %q", s, have, want)
			}
			if utf8.ValidString(s) && have != s {
				t.Fatalf("valid text %q came back as %q", s, have)
			}
		}
		for _, tok := range append(byteLevel, sp) {
			ids := tok.Encode(s, true)
			if len(ids) > maxStreamIDs {
				// A run of invalid bytes keeps the stream's window open,
				// and each step re-decodes it (see Stream): quadratic in
				// the run, which generation bounds by its max tokens. A
				// 16 KB run took 2.4 s here, past the fuzzer's 10 s hang
				// limit once instrumented on a loaded machine.
				ids = ids[:maxStreamIDs]
			}
			st := tok.NewStream(false)
			var b strings.Builder
			for _, id := range ids {
				b.WriteString(st.Next(id))
			}
			b.WriteString(st.Flush())
			if want := tok.decode(ids, false, false); b.String() != want {
				t.Fatalf("stream of %q: %q, decode %q", s, b.String(), want)
			}
		}
	})
}
