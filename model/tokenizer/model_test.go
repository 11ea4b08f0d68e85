package tokenizer

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tiny builds a tokenizer.json with the given vocab (ids in order) and
// merges, no other components, then applies mod.
func tiny(t testing.TB, vocab []string, merges []string, mod func(m map[string]any)) *Tokenizer {
	t.Helper()
	m := obj("added_tokens", []any{}, "normalizer", nil, "pre_tokenizer", nil, "post_processor", nil, "decoder", nil,
		"model", obj("type", "BPE", "vocab", orderedVocab(vocab), "merges", merges))
	if mod != nil {
		mod(m)
	}
	b, err := marshalNoEscape(m)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Load(bytesReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// pieces encodes text and returns the token strings.
func pieces(tok *Tokenizer, text string, addSpecial bool) []string {
	var out []string
	for _, id := range tok.Encode(text, addSpecial) {
		s, _ := tok.Token(id)
		out = append(out, s)
	}
	return out
}

func model(m map[string]any) map[string]any { return m["model"].(map[string]any) }

func TestBPEMerges(t *testing.T) {
	abc := []string{"a", "b", "c", "ab", "bc", "abc", "aa", "<unk>", "<0xC3>", "<0xA9>"}
	tests := []struct {
		name   string
		merges []string
		mod    func(m map[string]any)
		in     string
		want   []string
	}{
		{"rank order", []string{"b c", "a b", "a bc"}, nil, "abc", []string{"abc"}},
		{"other path", []string{"a b", "b c", "ab c"}, nil, "abc", []string{"abc"}},
		{"lower rank first", []string{"a b", "b c"}, nil, "abc", []string{"ab", "c"}},
		{"ties go left", []string{"a a"}, nil, "aaa", []string{"aa", "a"}},
		{"ties repeat", []string{"a a"}, nil, "aaaa", []string{"aa", "aa"}},
		{"later duplicate merge wins", []string{"a b", "b c", "a b"}, nil, "abc", []string{"a", "bc"}},
		{"merge result outside the vocab", []string{"c a"}, func(m map[string]any) { model(m)["unk_token"] = "<unk>" }, "ca", []string{"<unk>"}},
		{"no unk: dropped", []string{}, nil, "aéb", []string{"a", "b"}},
		{"byte fallback", []string{}, func(m map[string]any) { model(m)["byte_fallback"] = true }, "aé", []string{"a", "<0xC3>", "<0xA9>"}},
		{"byte fallback needs every byte", []string{}, func(m map[string]any) {
			model(m)["byte_fallback"], model(m)["unk_token"] = true, "<unk>"
		}, "aü", []string{"a", "<unk>"}},
		{"fuse_unk", []string{}, func(m map[string]any) {
			model(m)["unk_token"], model(m)["fuse_unk"] = "<unk>", true
		}, "axyzb", []string{"a", "<unk>", "b"}},
		{"no fuse_unk", []string{}, func(m map[string]any) { model(m)["unk_token"] = "<unk>" }, "axyb", []string{"a", "<unk>", "<unk>", "b"}},
		{"ignore_merges takes whole vocab words", []string{"a b"}, func(m map[string]any) { model(m)["ignore_merges"] = true }, "abc", []string{"abc"}},
		{"pair merges", nil, func(m map[string]any) { model(m)["merges"] = []any{[]string{"b", "c"}, []string{"a", "bc"}} }, "abc", []string{"abc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := tiny(t, abc, tt.merges, tt.mod)
			if have := pieces(tok, tt.in, false); !slices.Equal(have, tt.want) {
				t.Errorf("have %q, want %q", have, tt.want)
			}
		})
	}
}

func TestBPESuffixes(t *testing.T) {
	// end_of_word_suffix marks a word's last symbol; decode turns it into a space.
	tok := tiny(t, []string{"a", "b", "b</w>", "ab</w>"}, []string{"a b</w>"}, func(m map[string]any) {
		model(m)["end_of_word_suffix"] = "</w>"
		m["pre_tokenizer"] = obj("type", "WhitespaceSplit")
		m["decoder"] = obj("type", "Fuse")
	})
	if have := pieces(tok, "ab ab b", false); !slices.Equal(have, []string{"ab</w>", "ab</w>", "b</w>"}) {
		t.Errorf("eow: %q", have)
	}
	if have := tok.Decode(tok.Encode("ab b", false), false); have != "ab b " {
		t.Errorf("eow decode: %q", have)
	}
	// continuing_subword_suffix is appended to all pieces but the last.
	tok = tiny(t, []string{"a", "b", "a##", "c"}, nil, func(m map[string]any) { model(m)["continuing_subword_suffix"] = "##" })
	if have := pieces(tok, "abc", false); !slices.Equal(have, []string{"a##", "c"}) {
		t.Errorf("continuing suffix: %q", have) // "b##" is not in the vocab and there is no unk
	}
}

func TestAddedTokens(t *testing.T) {
	vocab := []string{"a", "b", " ", "x", "<s>", "<s>x", "▁", "▁a", "▁b"}
	added := func(tokens ...map[string]any) func(m map[string]any) {
		return func(m map[string]any) {
			var list []any
			for _, a := range tokens {
				list = append(list, a)
			}
			m["added_tokens"] = list
		}
	}
	tests := []struct {
		name string
		mod  func(m map[string]any)
		in   string
		want []string
	}{
		{"cut out", added(addedJSON(4, "<s>", true)), "a<s>b", []string{"a", "<s>", "b"}},
		{"longest first", added(addedJSON(4, "<s>", true), addedJSON(5, "<s>x", true)), "<s>x<s>", []string{"<s>x", "<s>"}},
		{"lstrip", added(addedJSON(4, "<s>", true, "lstrip")), "a \t <s> b", []string{"a", "<s>", " ", "b"}},
		{"rstrip", added(addedJSON(4, "<s>", true, "rstrip")), "a <s> \n b", []string{"a", " ", "<s>", "b"}},
		{"single_word is ignored", added(addedJSON(4, "<s>", true, "single_word")), "a<s>b", []string{"a", "<s>", "b"}},
		{"normalized tokens match after normalization", func(m map[string]any) {
			added(addedJSON(7, "a", false))(m)
			m["normalizer"] = obj("type", "Sequence", "normalizers", []any{
				obj("type", "Prepend", "prepend", "▁"), obj("type", "Replace", "pattern", obj("String", " "), "content", "▁")})
		}, "b a", []string{"▁b", "a"}}, // "▁a" is matched whole and shows the content "a"
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := tiny(t, vocab, []string{"▁ b"}, tt.mod)
			if have := pieces(tok, tt.in, false); !slices.Equal(have, tt.want) {
				t.Errorf("have %q, want %q", have, tt.want)
			}
		})
	}
}

func TestDecoders(t *testing.T) {
	vocab := []string{"▁Hello", "▁world", "<0xE2>", "<0x82>", "<0xAC>", "x", "ĠhiĊ", "<s>", "Ġ"}
	tests := []struct {
		name    string
		decoder map[string]any
		ids     []int
		want    string
	}{
		{"metaspace drops the first space", obj("type", "Metaspace"), []int{0, 1}, "Hello world"},
		{"llama-2 chain", obj("type", "Sequence", "decoders", []any{
			obj("type", "Replace", "pattern", obj("String", "▁"), "content", " "),
			obj("type", "ByteFallback"), obj("type", "Fuse"), obj("type", "Strip", "content", " ", "start", 1, "stop", 0)}),
			[]int{0, 2, 3, 4, 5, 1}, "Hello€x world"},
		{"byte fallback incomplete", obj("type", "ByteFallback"), []int{2, 3, 5}, "\uFFFDx"},
		{"byte level", obj("type", "ByteLevel"), []int{6, 8}, " hi\n "},
		{"byte level passes added tokens at top level", obj("type", "ByteLevel"), []int{7, 6}, "<s> hi\n"},
		{"strip both ends", obj("type", "Strip", "content", "x", "start", 2, "stop", 2), []int{5, 5}, ""},
		{"no decoder joins with spaces", nil, []int{5, 5}, "x x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := tiny(t, vocab, nil, func(m map[string]any) {
				m["decoder"] = tt.decoder
				m["added_tokens"] = []any{addedJSON(7, "<s>", true)}
			})
			if have := tok.Decode(tt.ids, false); have != tt.want {
				t.Errorf("have %q, want %q", have, tt.want)
			}
		})
	}
}

func TestPostProcessorAndSpecials(t *testing.T) {
	vocab := []string{"<s>", "</s>", "a", "<pad>", "<unk>"}
	template := obj("type", "TemplateProcessing", "single", []any{
		obj("SpecialToken", obj("id", "<s>", "type_id", 0)), obj("Sequence", obj("id", "A", "type_id", 0)),
		obj("SpecialToken", obj("id", "</s>", "type_id", 0))})
	tok := tiny(t, vocab, nil, func(m map[string]any) {
		m["post_processor"] = obj("type", "Sequence", "processors", []any{obj("type", "ByteLevel"), template})
		m["added_tokens"] = []any{addedJSON(0, "<s>", true), addedJSON(1, "</s>", true)}
		model(m)["unk_token"] = "<unk>"
	})
	if have := tok.Encode("aa", true); !slices.Equal(have, []int{0, 2, 2, 1}) {
		t.Errorf("with specials: %v", have)
	}
	if have := tok.Encode("aa", false); !slices.Equal(have, []int{2, 2}) {
		t.Errorf("without specials: %v", have)
	}
	if have, want := tok.Specials(), (SpecialIDs{BOS: 0, EOS: 1, PAD: 3, UNK: 4}); have != want {
		t.Errorf("specials %+v, want %+v", have, want)
	}
	if have := tok.Decode([]int{0, 2, 1, 99}, true); have != "a <unk>" {
		t.Errorf("skip special: %q", have)
	}
	if err := tok.ApplyConfig(strings.NewReader(`{"eos_token": {"content": "a"}, "pad_token": "<s>", "additional_special_tokens": ["a"]}`)); err != nil {
		t.Fatal(err)
	}
	if have := tok.Specials(); have.EOS != 2 || have.PAD != 0 {
		t.Errorf("after ApplyConfig: %+v", have)
	}
	if have := tok.Decode([]int{2, 4}, true); have != "<unk>" {
		t.Errorf("additional special tokens are skipped: %q", have)
	}
}

// TestVocabOrder: JSON.parse keeps the last of repeated keys, and ids
// shared by several keys resolve in Object.entries order.
func TestVocabOrder(t *testing.T) {
	raw := `{"added_tokens": [], "normalizer": null, "pre_tokenizer": null, "post_processor": null, "decoder": null,
		"model": {"type": "BPE", "merges": [], "vocab": {"b": 0, "10": 1, "a": 1, "2": 1, "x": 5, "x": 2}}}`
	tok, err := Load(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := tok.Token(1); s != "a" {
		t.Errorf("id 1 is %q, want %q (integer keys come first)", s, "a")
	}
	if id, _ := tok.TokenID("x"); id != 2 {
		t.Errorf("x = %d, want the last value 2", id)
	}
	if tok.VocabSize() != 3 {
		t.Errorf("vocab size %d", tok.VocabSize())
	}
}

func TestLoadErrors(t *testing.T) {
	base := func(field, value string) string {
		parts := map[string]string{"normalizer": "null", "pre_tokenizer": "null", "post_processor": "null", "decoder": "null",
			"model": `{"type": "BPE", "vocab": {"a": 0}, "merges": []}`}
		parts[field] = value
		var b strings.Builder
		b.WriteString(`{"added_tokens": []`)
		for _, k := range []string{"normalizer", "pre_tokenizer", "post_processor", "decoder", "model"} {
			b.WriteString(`, "` + k + `": ` + parts[k])
		}
		b.WriteString("}")
		return b.String()
	}
	tests := []struct {
		name, json  string
		unsupported bool
		wantInMsg   string
	}{
		{"bad json", `{"model": `, false, "tokenizer: tokenizer.json: "},
		{"unigram", base("model", `{"type": "Unigram", "vocab": []}`), true, `model (Unigram): unsupported: model type "Unigram"`},
		{"unknown pre-tokenizer in a sequence", base("pre_tokenizer", `{"type": "Sequence", "pretokenizers": [{"type": "Digits"}, {"type": "ByteLevel"}, {"type": "Nope"}]}`),
			true, `pre_tokenizer[2] (Nope): unsupported: unknown pre-tokenizer type "Nope"`},
		{"lookahead split", base("pre_tokenizer", `{"type": "Split", "pattern": {"Regex": "a(?=b)"}, "behavior": "Isolated"}`), true, "pre_tokenizer (Split): regex"},
		{"unknown normalizer", base("normalizer", `{"type": "Sequence", "normalizers": [{"type": "Lowercase"}]}`), true, `normalizer[0] (Lowercase)`},
		{"unknown decoder", base("decoder", `{"type": "WordPiece"}`), true, `decoder (WordPiece)`},
		{"unknown post-processor", base("post_processor", `{"type": "Fancy"}`), true, `post_processor (Fancy)`},
		{"component without type", base("decoder", `{"kind": "Fuse"}`), false, `decoder: component has no "type"`},
		{"negative id", base("model", `{"type": "BPE", "vocab": {"a": -1}, "merges": []}`), false, "model (BPE)"},
		{"huge id", base("model", `{"type": "BPE", "vocab": {"a": 99999999999}, "merges": []}`), false, "not a valid id"},
		{"added token without id", strings.Replace(base("decoder", "null"), `"added_tokens": []`, `"added_tokens": [{"content": "x"}]`, 1), false, "has no id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(strings.NewReader(tt.json))
			if err == nil {
				t.Fatal("no error")
			}
			var u *UnsupportedError
			var f *FormatError
			if tt.unsupported && !errors.As(err, &u) || !tt.unsupported && !errors.As(err, &f) {
				t.Errorf("wrong error type: %T %v", errors.Unwrap(err), err)
			}
			if !strings.Contains(err.Error(), tt.wantInMsg) || !strings.HasPrefix(err.Error(), "tokenizer: tokenizer.json: ") {
				t.Errorf("error %q does not name %q", err, tt.wantInMsg)
			}
		})
	}
	// LoadFile names the file.
	path := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(path, []byte(base("decoder", `{"type": "CTC"}`)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(path); err == nil || !strings.Contains(err.Error(), path+": decoder (CTC)") {
		t.Errorf("LoadFile error %v does not name the file", err)
	}
}

// TestConcurrentEncode: the per-word cache is shared; goroutines encoding
// at once get what one goroutine gets.
func TestConcurrentEncode(t *testing.T) {
	tok := loadSeed(t, "llama3-small.json")
	texts := randomCorpus(300, 31)
	want := make([][]int, len(texts))
	for i, s := range texts {
		want[i] = tok.Encode(s, true)
	}
	tok.model.cache = make(map[string][]piece) // start cold
	errs := make(chan string, 8)
	for g := range 8 {
		go func() {
			for k := range texts {
				i := (k + g*37) % len(texts)
				if have := tok.Encode(texts[i], true); !slices.Equal(have, want[i]) {
					errs <- texts[i]
					return
				}
			}
			errs <- ""
		}()
	}
	for range 8 {
		if s := <-errs; s != "" {
			t.Errorf("concurrent encode of %q differs", s)
		}
	}
}
