package tokenizer

// Test fixtures: corpora and the tokenizer.json files the parity test and
// the benchmarks run. Everything is generated here from seeded randomness;
// no expected outputs are stored.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
)

// fixedCorpus covers the cases the tokenizer must get exactly right.
var fixedCorpus = []string{
	"",
	"Hello world",
	"pneumothorax",
	"2.3 cm hypodense lesion in segment VII",
	"No pneumothorax. Small left pleural effusion (12 mm). Findings: hepatic steatosis.",
	"The patient's CT: it's stable, they're fine, we've seen, I'm sure, he'll go, she'd say",
	"IT'S ALL CAPS, DON'T SHOUT; We'Ll SeE",
	"a  b   c    d     e",
	"  leading spaces",
	"trailing spaces   ",
	"\ttab\tseparated\tvalues\t",
	"line1\nline2\r\nline3\n\n\nend\n",
	" \n \n ",
	"   ",
	"\n",
	" ",
	"12345678901234567890",
	"3.14159 and 1,234,567 and 0.5mm",
	"٣٤٥ arabic-indic digits ١٢",
	"½ ¾ ² ³ ⅓ Ⅻ ①",
	"日本語のテキストと中文混合",
	"한국어 텍스트 입니다",
	"Ελληνικά κείμενα και ΣΙΣΥΦΟΣ",
	"Ünïcödé àccents: café, naïve, Zürich, São Paulo",
	"שלום עולם",
	"مرحبا بالعالم 123",
	"emoji 🙂👍🏽👨‍👩‍👧 ❤️ 🫁",
	"mixed😀text😀😀",
	"\u00a0nbsp\u00a0 here",
	"zero\u200bwidth\u200djoiner",
	"bom\ufeffhere \ufeff",
	"nel\u0085next line",
	"ideographic\u3000space",
	"combining e\u0301 vs é and A\u030a vs Å",
	"ﬁ ligature ｆｕｌｌｗｉｄｔｈ ㎏ ™",
	"<|user|>\nWhat is shown?<|end|>\n<|assistant|>\nA 5 mm nodule.<|end|>",
	"<|system|> You are a radiologist. <|end|><|user|>  Describe <|image|> please<|end|>",
	"<s>Hello</s> <s> </s>",
	"text<|endoftext|>more<|endoftext|>",
	"<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
	"<|im_start|>system\nYou are helpful<|im_end|>\n<|im_start|>user\nhi<|im_end|>",
	"before <|image|> after",
	"<|unknown|> is not a token; <unk> and <0x41> are text here",
	"def f(x):\n    return x**2  # comment\n",
	"!!!???...,,, ;; -- __ ~~",
	"a--b__c 'quoted' \"double\" path/to/file.dcm C:\\data\\ct.dcm",
	"email@example.com https://example.org/a?b=c&d=e#f",
	"Hypodense Hypodense hypodense HYPODENSE",
	"DON'TCARE it'sy O'Reilly 'REally we'VEry 'TION 'tion 'station 'Sterior 'Segment 'Dense 'DENSE 'Measuring 'The 'There 'Recommend 'Mild 'VII 'Severe 'Moderate",
	"I do n't know , really . Is it ? Yes ! He 's here , they 're gone , we 've seen ' quoted ' .",
	"XYZZY and  XYZZY, <|image pad|> déjà vu, déjà vu!",
	"The liver measures 15.2 x 12.1 x 9.8 cm. Segment VII/VIII lesion, 2.3 cm, hypodense; no pneumothorax.",
	strings.Repeat("very long word ", 40) + strings.Repeat("x", 300),
	"▁already▁has▁metaspace ▁ ▁▁",
	"Ġbyte-level Ċ looking ĠĠ chars",
}

// fragments build the random corpus.
var fragments = []string{
	"the", " the", "lesion", " lesion", "pneumothorax", " segment", " VII", "VIII", "hypo", "dense",
	" cm", "mm", "2.3", "12", "007", "1999", "٣", "½",
	" ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", " \n", "\u00a0", "\u3000", "\ufeff", "\u0085", "\u2028",
	".", ",", ";", "!", "?", "'s", "'T", "'re", "'LL", "'d", "'", "\"", "(", ")", "-", "/", "#", "...",
	"日本", "語", "中文", "한국", "Ελλάδα", "café", "naïve", "e\u0301", "ǅ", "ß", "İ",
	"🙂", "👍🏽", "👨‍👩‍👧", "❤️", "🫁", "\u200b", "ﬁ", "Ⅻ", "①", "ｆｕｌｌ",
	"<|user|>", "<|assistant|>", "<|end|>", "<|endoftext|>", "<|image|>", "<s>", "</s>", "<unk>",
	"<|begin_of_text|>", "<|eot_id|>", "<|im_start|>", "<|im_end|>", "<|", "|>", "<0xE6>",
	"Hypodense", "HYPODENSE", " hypodense", "▁", "Ġ",
}

// randomCorpus returns n strings of random fragments and code points.
func randomCorpus(n int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 1))
	ranges := [][2]rune{{0x20, 0x7E}, {0xA0, 0x24F}, {0x370, 0x3FF}, {0x400, 0x4FF}, {0x590, 0x6FF},
		{0x2000, 0x206F}, {0x3040, 0x30FF}, {0x4E00, 0x4FFF}, {0xAC00, 0xAD00}, {0x1F300, 0x1F64F}}
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for k := rng.IntN(12) + 1; k > 0; k-- {
			if rng.IntN(4) == 0 {
				r := ranges[rng.IntN(len(ranges))]
				b.WriteRune(r[0] + rune(rng.IntN(int(r[1]-r[0]+1))))
				continue
			}
			b.WriteString(fragments[rng.IntN(len(fragments))])
		}
		out[i] = b.String()
	}
	return out
}

// reportCorpus is synthetic report text to train the test vocabularies on.
func reportCorpus(n int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 2))
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s %s %s in %s %s, measuring %d.%d cm. %s %s.\n%s",
			pick("A", "The", "There is a", "No"),
			pick("small", "large", "well-defined", "ill-defined", "hypodense", "hyperdense"),
			pick("lesion", "nodule", "mass", "cyst", "effusion", "pneumothorax", "consolidation"),
			pick("segment", "the left lower lobe", "the right upper lobe", "the liver", "the kidney"),
			pick("VII", "VIII", "IV", "II", "6", "b"),
			rng.IntN(20), rng.IntN(10),
			pick("No", "Mild", "Moderate", "Severe"),
			pick("pleural effusion", "ascites", "lymphadenopathy", "steatosis", "emphysema"),
			pick("", "Impression: stable.", "Recommend follow-up CT in 3 months.", "It's unchanged; they're stable.", "日本語 café 🙂", "\t\tindented\n\n"))
	}
	return append(out, fixedCorpus...)
}

// fixture is one tokenizer.json under test.
type fixture struct {
	name       string
	json       []byte
	config     map[string]any // the tokenizer_config tokenizers.js is given
	outOfRange bool           // decoding an unknown id is defined in tokenizers.js (it may throw otherwise)
}

// mutate decodes a tokenizer.json, lets f change it and encodes it again.
func mutate(t testing.TB, b []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := marshalNoEscape(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func trainedJSON(t testing.TB, opts TrainOptions, vocab int) []byte {
	return trainedJSONSized(t, opts, vocab, 3000)
}

func trainedJSONSized(t testing.TB, opts TrainOptions, vocab, lines int) []byte {
	t.Helper()
	tok, err := Train(slices.Values(reportCorpus(lines, 7)), vocab, opts)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := tok.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func addedJSON(id int, content string, special bool, flags ...string) map[string]any {
	m := map[string]any{"id": id, "content": content, "special": special, "single_word": false,
		"lstrip": false, "rstrip": false, "normalized": !special}
	for _, f := range flags {
		m[f] = !m[f].(bool)
	}
	return m
}

func obj(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// spJSON builds a SentencePiece-style BPE tokenizer.json in the layout of
// Llama-2 and Phi-3: <unk>, <s>, </s>, the 256 <0xNN> byte tokens, then
// characters and merges learned here on "▁"-joined words; a Prepend +
// Replace normalizer, no pre-tokenizer, byte fallback, fuse_unk, a <s>
// template and the Replace/ByteFallback/Fuse/Strip decoder; Phi-3's chat
// tokens as added tokens (rstrip, as Phi-3 has them), plus a non-special
// normalized token and an lstrip one to exercise those paths.
func spJSON(t testing.TB, dropBytes []byte, pairMerges bool) []byte {
	return spJSONSized(t, dropBytes, pairMerges, 3000, 400)
}

// spJSONSized is spJSON trained on n report lines with up to merges merges.
func spJSONSized(t testing.TB, dropBytes []byte, pairMerges bool, n, merges int) []byte {
	t.Helper()
	words := map[string]int{}
	for _, text := range reportCorpus(n, 11) {
		norm := "▁" + strings.ReplaceAll(text, " ", "▁")
		// Words start at each "▁".
		start := 0
		runes := []rune(norm)
		for i := 1; i <= len(runes); i++ {
			if i == len(runes) || runes[i] == '▁' {
				words[string(runes[start:i])]++
				start = i
			}
		}
	}
	charCount := map[string]int{}
	for w, c := range words {
		for _, r := range w {
			charCount[string(r)] += c
		}
	}
	var alphabet []string
	for ch, c := range charCount {
		if c >= 30 {
			alphabet = append(alphabet, ch)
		}
	}
	sort.Slice(alphabet, func(i, j int) bool {
		if charCount[alphabet[i]] != charCount[alphabet[j]] {
			return charCount[alphabet[i]] > charCount[alphabet[j]]
		}
		return alphabet[i] < alphabet[j]
	})
	learned := naiveBPE(words, alphabet, merges)

	vocab := []string{"<unk>", "<s>", "</s>"}
	drop := map[byte]bool{}
	for _, b := range dropBytes {
		drop[b] = true
	}
	for b := 0; b < 256; b++ {
		if !drop[byte(b)] {
			vocab = append(vocab, byteToken(byte(b)))
		}
	}
	seen := map[string]bool{}
	for _, v := range vocab {
		seen[v] = true
	}
	for _, s := range alphabet {
		if !seen[s] {
			seen[s] = true
			vocab = append(vocab, s)
		}
	}
	for _, m := range learned {
		if s := m[0] + m[1]; !seen[s] {
			seen[s] = true
			vocab = append(vocab, s)
		}
	}
	var mergeList []any
	for _, m := range learned {
		if pairMerges {
			mergeList = append(mergeList, []string{m[0], m[1]})
		} else {
			mergeList = append(mergeList, m[0]+" "+m[1])
		}
	}
	nv := len(vocab)
	added := []any{
		addedJSON(0, "<unk>", true), addedJSON(1, "<s>", true), addedJSON(2, "</s>", true),
		addedJSON(nv, "<|endoftext|>", true),
		addedJSON(nv+1, "<|assistant|>", true, "rstrip"),
		addedJSON(nv+2, "<|system|>", true, "rstrip"),
		addedJSON(nv+3, "<|end|>", true, "rstrip"),
		addedJSON(nv+4, "<|user|>", true, "rstrip"),
		addedJSON(nv+5, "<|image|>", true, "lstrip"),
		addedJSON(nv+6, "hypodense", false),
	}
	vocabObj := make(orderedVocab, nv)
	copy(vocabObj, vocab)
	single := []any{obj("SpecialToken", obj("id", "<s>", "type_id", 0)), obj("Sequence", obj("id", "A", "type_id", 0))}
	file := obj(
		"version", "1.0", "truncation", nil, "padding", nil,
		"added_tokens", added,
		"normalizer", obj("type", "Sequence", "normalizers", []any{
			obj("type", "Prepend", "prepend", "▁"),
			obj("type", "Replace", "pattern", obj("String", " "), "content", "▁"),
		}),
		"pre_tokenizer", nil,
		"post_processor", obj("type", "TemplateProcessing", "single", single,
			"pair", append(slices.Clone(single), obj("SpecialToken", obj("id", "<s>", "type_id", 1)), obj("Sequence", obj("id", "B", "type_id", 1))),
			"special_tokens", obj("<s>", obj("id", "<s>", "ids", []int{1}, "tokens", []string{"<s>"}))),
		"decoder", obj("type", "Sequence", "decoders", []any{
			obj("type", "Replace", "pattern", obj("String", "▁"), "content", " "),
			obj("type", "ByteFallback"),
			obj("type", "Fuse"),
			obj("type", "Strip", "content", " ", "start", 1, "stop", 0),
		}),
		"model", obj("type", "BPE", "dropout", nil, "unk_token", "<unk>", "continuing_subword_prefix", nil,
			"end_of_word_suffix", nil, "fuse_unk", true, "byte_fallback", true, "ignore_merges", false,
			"vocab", vocabObj, "merges", mergeList),
	)
	b, err := marshalNoEscape(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// naiveBPE learns n merges over words (counts), starting from single
// characters of alphabet (others never merge), by recounting every pair
// each round: slow and obviously right.
func naiveBPE(words map[string]int, alphabet []string, n int) [][2]string {
	known := map[string]bool{}
	for _, a := range alphabet {
		known[a] = true
	}
	type word struct {
		syms  []string
		count int
	}
	var ws []word
	keys := make([]string, 0, len(words))
	for w := range words {
		keys = append(keys, w)
	}
	sort.Strings(keys)
	for _, w := range keys {
		var syms []string
		for _, r := range w {
			syms = append(syms, string(r))
		}
		ws = append(ws, word{syms, words[w]})
	}
	var merges [][2]string
	for len(merges) < n {
		counts := map[[2]string]int{}
		for _, w := range ws {
			for i := 0; i+1 < len(w.syms); i++ {
				if known[w.syms[i]] && known[w.syms[i+1]] {
					counts[[2]string{w.syms[i], w.syms[i+1]}] += w.count
				}
			}
		}
		var best [2]string
		bestN := 0
		for p, c := range counts {
			if c > bestN || c == bestN && (p[0] < best[0] || p[0] == best[0] && p[1] < best[1]) {
				best, bestN = p, c
			}
		}
		if bestN < 2 {
			break
		}
		merges = append(merges, best)
		known[best[0]+best[1]] = true
		for wi := range ws {
			s := ws[wi].syms
			var out []string
			for i := 0; i < len(s); i++ {
				if i+1 < len(s) && s[i] == best[0] && s[i+1] == best[1] {
					out = append(out, best[0]+best[1])
					i++
					continue
				}
				out = append(out, s[i])
			}
			ws[wi].syms = out
		}
	}
	return merges
}

var noCleanUp = map[string]any{"clean_up_tokenization_spaces": false}

// fixtures returns the tokenizers under test.
func fixtures(t testing.TB) []fixture {
	t.Helper()
	gpt2 := trainedJSON(t, TrainOptions{}, 700)
	llama3 := trainedJSON(t, TrainOptions{
		Split:         SplitLlama3,
		SpecialTokens: []string{"<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"},
		BOS:           "<|begin_of_text|>",
	}, 700)
	phi3 := spJSON(t, nil, false)

	fs := []fixture{
		{name: "trained-gpt2", json: gpt2, config: noCleanUp, outOfRange: true},
		{name: "llama3", json: mutate(t, llama3, func(m map[string]any) {
			model := m["model"].(map[string]any)
			model["ignore_merges"] = true
			// Whole words in the vocab that the merges cannot build: only
			// ignore_merges yields them.
			vocab := model["vocab"].(map[string]any)
			n := len(vocab)
			vocab["ĠXYZZY"], vocab["XYZZY"] = n, n+1
			// Added tokens whose text is not byte-level: the top-level
			// ByteLevel decoder must pass them through unchanged.
			m["added_tokens"] = append(m["added_tokens"].([]any),
				addedJSON(n+2, "<|image pad|>", true), addedJSON(n+3, "déjà vu", false))
		}), config: noCleanUp, outOfRange: true},
		{name: "phi3", json: phi3, config: noCleanUp, outOfRange: true},
		{name: "phi3-cleanup", json: phi3, config: map[string]any{}, outOfRange: true},
		{name: "sp-unk-pairs", json: spJSON(t, []byte{0xF0, 0xF0 + 1, 0xF0 + 2, 0x9F, 0xE6}, true), config: noCleanUp, outOfRange: true},
		{name: "metaspace-digits", json: mutate(t, phi3, func(m map[string]any) {
			m["normalizer"] = nil
			m["pre_tokenizer"] = obj("type", "Sequence", "pretokenizers", []any{
				obj("type", "Metaspace", "replacement", "▁", "prepend_scheme", "first", "split", false),
				obj("type", "Digits", "individual_digits", true),
			})
			m["decoder"] = obj("type", "Sequence", "decoders", []any{
				obj("type", "ByteFallback"), obj("type", "Metaspace", "replacement", "▁", "prepend_scheme", "first"),
			})
		}), config: noCleanUp, outOfRange: true},
		{name: "qwen2-nfc", json: mutate(t, llama3, func(m map[string]any) {
			m["normalizer"] = obj("type", "NFC")
			m["pre_tokenizer"] = obj("type", "Sequence", "pretokenizers", []any{
				obj("type", "Split", "pattern", obj("Regex", PatternQwen2), "behavior", "Isolated", "invert", false),
				obj("type", "ByteLevel", "add_prefix_space", false, "trim_offsets", false, "use_regex", false),
			})
			m["decoder"] = obj("type", "Sequence", "decoders", []any{obj("type", "ByteLevel")})
			added := m["added_tokens"].([]any)
			n := len(m["model"].(map[string]any)["vocab"].(map[string]any))
			m["added_tokens"] = append(added,
				addedJSON(n, "<|im_start|>", true),
				addedJSON(n+1, "<|im_end|>", true, "rstrip"),
				addedJSON(n+2, " lesion", false, "lstrip"),
				addedJSON(n+3, "<|image|>", false, "lstrip", "rstrip", "normalized"))
		}), config: noCleanUp},
		{name: "gpt2-split-nfkc", json: mutate(t, gpt2, func(m map[string]any) {
			m["normalizer"] = obj("type", "Sequence", "normalizers", []any{
				obj("type", "NFKC"),
				obj("type", "Replace", "pattern", obj("Regex", " {2,}"), "content", " "),
			})
			m["pre_tokenizer"] = obj("type", "Sequence", "pretokenizers", []any{
				obj("type", "Split", "pattern", obj("Regex", PatternGPT2), "behavior", "Isolated", "invert", false),
				obj("type", "ByteLevel", "add_prefix_space", true, "trim_offsets", true, "use_regex", false),
			})
		}), config: map[string]any{"clean_up_tokenization_spaces": true}, outOfRange: true},
		{name: "translated-regex", json: mutate(t, gpt2, func(m map[string]any) {
			m["normalizer"] = obj("type", "Sequence", "normalizers", []any{
				obj("type", "NFD"), obj("type", "StripAccents"), obj("type", "Strip", "strip_left", true, "strip_right", false),
			})
			m["pre_tokenizer"] = obj("type", "Sequence", "pretokenizers", []any{
				obj("type", "Split", "pattern", obj("Regex", `(?i:[a-z]+)|\p{N}{1,2}| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`), "behavior", "Isolated", "invert", false),
				obj("type", "Split", "pattern", obj("String", "-"), "behavior", "Removed", "invert", false),
				obj("type", "Split", "pattern", obj("Regex", `\d|\.`), "behavior", "Removed"),
				obj("type", "ByteLevel", "add_prefix_space", false, "use_regex", false),
			})
		}), config: noCleanUp, outOfRange: true},
		{name: "punct-whitespace", json: mutate(t, gpt2, func(m map[string]any) {
			m["normalizer"] = obj("type", "NFKD")
			m["pre_tokenizer"] = obj("type", "Sequence", "pretokenizers", []any{
				obj("type", "Punctuation", "behavior", "Isolated"),
				obj("type", "WhitespaceSplit"),
				obj("type", "Digits", "individual_digits", false),
				obj("type", "ByteLevel", "add_prefix_space", true, "use_regex", true),
			})
			m["decoder"] = obj("type", "Sequence", "decoders", []any{
				obj("type", "ByteLevel"),
				obj("type", "Replace", "pattern", obj("Regex", `(\s)\s+`), "content", "[$1$&$$]"),
				obj("type", "Strip", "content", " ", "start", 2, "stop", 3),
			})
		}), config: noCleanUp},
	}
	return fs
}
