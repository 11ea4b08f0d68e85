package tokenizer

// The BPE trainer: byte-level BPE as GPT-2 and Llama-3 use it. It counts
// the pre-tokens of a corpus (split exactly as Encode will split them),
// starts from the 256 byte symbols and repeatedly merges the most frequent
// adjacent pair, then writes the result as a tokenizer.json that
// tokenizers.js (and the Rust tokenizers crate) load.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strings"
)

// SplitStyle chooses how text is cut into words before byte-level BPE.
type SplitStyle int

const (
	// SplitGPT2 uses the ByteLevel pre-tokenizer with its built-in GPT-2
	// regex.
	SplitGPT2 SplitStyle = iota
	// SplitLlama3 uses a Split pre-tokenizer with PatternLlama3 (digits in
	// groups of up to three, newlines kept apart), then ByteLevel.
	SplitLlama3
)

// TrainOptions configure Train. The zero value trains a GPT-2 style
// tokenizer with DefaultSpecialTokens.
type TrainOptions struct {
	// SpecialTokens become added special tokens with ids 0, 1, … in this
	// order; nil means DefaultSpecialTokens(). Their text in the corpus is
	// not learned from.
	SpecialTokens []string
	// Split is the pre-tokenization.
	Split SplitStyle
	// MinFrequency is the least count of a pair to be merged (default 2).
	MinFrequency int
	// BOS and EOS, when set (each must be one of SpecialTokens), are added
	// around every sequence that is encoded with addSpecial, through a
	// TemplateProcessing post-processor.
	BOS, EOS string
}

// DefaultSpecialTokens are the chat markers of ctlens's prompt template, in
// the Phi-3 style, and the end-of-text token.
func DefaultSpecialTokens() []string {
	return []string{"<|endoftext|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>", "<|image|>"}
}

// Train learns a byte-level BPE tokenizer of vocabSize ids (special tokens
// and the 256 byte symbols included) from the texts of corpus. It stops
// early when no pair occurs MinFrequency times.
func Train(corpus iter.Seq[string], vocabSize int, opts TrainOptions) (*Tokenizer, error) {
	specials := opts.SpecialTokens
	if specials == nil {
		specials = DefaultSpecialTokens()
	}
	if opts.MinFrequency <= 0 {
		opts.MinFrequency = 2
	}
	if least := len(specials) + 256; vocabSize < least {
		return nil, fmt.Errorf("tokenizer: train: vocab size %d is below %d (special tokens + 256 bytes)", vocabSize, least)
	}
	seen := map[string]bool{}
	for _, s := range specials {
		if s == "" || seen[s] {
			return nil, fmt.Errorf("tokenizer: train: special token %q is empty or repeated", s)
		}
		seen[s] = true
	}
	for _, s := range []string{opts.BOS, opts.EOS} {
		if s != "" && !seen[s] {
			return nil, fmt.Errorf("tokenizer: train: %q is not among the special tokens", s)
		}
	}

	// Count words, split as Encode splits them.
	pre := trainPreTokenizer(opts.Split)
	split := newSplitter(specials)
	counts := map[string]int{}
	var words []string
	for text := range corpus {
		for _, sec := range split.split(text) {
			if seen[sec] {
				continue
			}
			words = pre.preTokenize(words[:0], sec, 0)
			for _, w := range words {
				counts[w]++
			}
		}
	}

	tr := newTrainer(specials, counts)
	tr.run(vocabSize, opts.MinFrequency)
	b, err := tr.json(opts)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: train: %w", err)
	}
	t, err := load(b, "trained tokenizer.json")
	if err != nil {
		return nil, err
	}
	return t, nil
}

func trainPreTokenizer(s SplitStyle) preTokenizer {
	if s == SplitLlama3 {
		return seqPreTokenizer{
			splitPreTokenizer{pat: &pattern{src: PatternLlama3, scan: llama3Scanner(isWhiteSpace, 3)}},
			byteLevelPreTokenizer{useRegex: false},
		}
	}
	return byteLevelPreTokenizer{useRegex: true}
}

// trainer holds the words as symbol sequences and the pair statistics.
type trainer struct {
	specials []string
	tokens   []string       // id → token string
	ids      map[string]int // token string → id
	merges   [][2]string

	words  [][]int32 // unique words as symbol ids
	counts []int     // occurrences of each word
	pairs  map[uint64]int
	where  map[uint64][]int32 // words that held the pair when it was counted (may be stale)
	heap   []trainEntry
}

type trainEntry struct {
	count int
	pair  uint64
}

// better orders the queue: higher count first, then the smaller pair of
// ids, so that training is deterministic.
func (a trainEntry) better(b trainEntry) bool {
	return a.count > b.count || a.count == b.count && a.pair < b.pair
}

func newTrainer(specials []string, counts map[string]int) *trainer {
	tr := &trainer{specials: specials, ids: map[string]int{}, pairs: map[uint64]int{}, where: map[uint64][]int32{}}
	for _, s := range specials {
		tr.add(s)
	}
	var byteID [256]int32
	for b := 0; b < 256; b++ {
		byteID[b] = int32(tr.add(string(bytesToUnicode[b])))
	}
	// Words in a fixed order (map iteration is random) for determinism.
	keys := make([]string, 0, len(counts))
	for w := range counts {
		keys = append(keys, w)
	}
	slices.Sort(keys)
	for _, w := range keys {
		var seq []int32
		for _, r := range w {
			seq = append(seq, byteID[unicodeToByte(r)])
		}
		tr.words = append(tr.words, seq)
		tr.counts = append(tr.counts, counts[w])
	}
	for wi, seq := range tr.words {
		for i := 0; i+1 < len(seq); i++ {
			p := pairKey(seq[i], seq[i+1])
			tr.pairs[p] += tr.counts[wi]
			tr.where[p] = append(tr.where[p], int32(wi))
		}
	}
	for p, c := range tr.pairs {
		tr.push(trainEntry{c, p})
	}
	return tr
}

func (tr *trainer) add(s string) int {
	if id, ok := tr.ids[s]; ok {
		return id
	}
	id := len(tr.tokens)
	tr.tokens = append(tr.tokens, s)
	tr.ids[s] = id
	return id
}

func (tr *trainer) run(vocabSize, minFreq int) {
	for len(tr.tokens) < vocabSize && len(tr.heap) > 0 {
		e := tr.pop()
		cur := tr.pairs[e.pair]
		if cur != e.count {
			if cur > 0 {
				tr.push(trainEntry{cur, e.pair})
			}
			continue
		}
		if cur < minFreq {
			return
		}
		a, b := int32(e.pair>>32), int32(uint32(e.pair))
		merged := int32(tr.add(tr.tokens[a] + tr.tokens[b]))
		tr.merges = append(tr.merges, [2]string{tr.tokens[a], tr.tokens[b]})
		changed := map[uint64]bool{}
		done := map[int32]bool{}
		for _, wi := range tr.where[e.pair] {
			if done[wi] {
				continue
			}
			done[wi] = true
			tr.replace(wi, a, b, merged, changed)
		}
		delete(tr.where, e.pair)
		for p := range changed {
			if c := tr.pairs[p]; c > 0 {
				tr.push(trainEntry{c, p})
			}
		}
	}
}

// replace merges every a b in word wi (left to right) into m, updating
// the pair counts; pairs whose count rose are noted in changed.
func (tr *trainer) replace(wi, a, b, m int32, changed map[uint64]bool) {
	seq := tr.words[wi]
	found := false
	for i := 0; i+1 < len(seq); i++ {
		if seq[i] == a && seq[i+1] == b {
			found = true
			break
		}
	}
	if !found {
		return
	}
	c := tr.counts[wi]
	for i := 0; i+1 < len(seq); i++ {
		tr.pairs[pairKey(seq[i], seq[i+1])] -= c
	}
	out := seq[:0:0]
	for i := 0; i < len(seq); i++ {
		if i+1 < len(seq) && seq[i] == a && seq[i+1] == b {
			out = append(out, m)
			i++
			continue
		}
		out = append(out, seq[i])
	}
	tr.words[wi] = out
	for i := 0; i+1 < len(out); i++ {
		p := pairKey(out[i], out[i+1])
		tr.pairs[p] += c
		if out[i] == m || out[i+1] == m {
			tr.where[p] = append(tr.where[p], wi)
			changed[p] = true
		}
	}
}

func (tr *trainer) push(e trainEntry) {
	h := append(tr.heap, e)
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h[i].better(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	tr.heap = h
}

func (tr *trainer) pop() trainEntry {
	h := tr.heap
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && h[l].better(h[m]) {
			m = l
		}
		if r < n && h[r].better(h[m]) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	tr.heap = h
	return top
}

// orderedVocab marshals as a JSON object in id order.
type orderedVocab []string

func (v orderedVocab) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for id, tok := range v {
		if id > 0 {
			b.WriteByte(',')
		}
		k, err := marshalNoEscape(tok)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		fmt.Fprintf(&b, ":%d", id)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// json renders the tokenizer.json. Merges are written as "a b" strings,
// which every reader accepts; byte-level tokens never contain a space.
func (tr *trainer) json(opts TrainOptions) ([]byte, error) {
	type added struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		LStrip     bool   `json:"lstrip"`
		RStrip     bool   `json:"rstrip"`
		Normalized bool   `json:"normalized"`
		Special    bool   `json:"special"`
	}
	type model struct {
		Type                    string       `json:"type"`
		Dropout                 *float64     `json:"dropout"`
		UnkToken                *string      `json:"unk_token"`
		ContinuingSubwordPrefix *string      `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string      `json:"end_of_word_suffix"`
		FuseUnk                 bool         `json:"fuse_unk"`
		ByteFallback            bool         `json:"byte_fallback"`
		IgnoreMerges            bool         `json:"ignore_merges"`
		Vocab                   orderedVocab `json:"vocab"`
		Merges                  []string     `json:"merges"`
	}
	type file struct {
		Version       string  `json:"version"`
		Truncation    any     `json:"truncation"`
		Padding       any     `json:"padding"`
		AddedTokens   []added `json:"added_tokens"`
		Normalizer    any     `json:"normalizer"`
		PreTokenizer  any     `json:"pre_tokenizer"`
		PostProcessor any     `json:"post_processor"`
		Decoder       any     `json:"decoder"`
		Model         model   `json:"model"`
	}
	obj := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	byteLevel := func(prefix, trim, regex bool) map[string]any {
		return obj("type", "ByteLevel", "add_prefix_space", prefix, "trim_offsets", trim, "use_regex", regex)
	}
	f := file{Version: "1.0", Model: model{Type: "BPE", Vocab: tr.tokens, Merges: []string{}}}
	for id, s := range tr.specials {
		f.AddedTokens = append(f.AddedTokens, added{ID: id, Content: s, Special: true})
	}
	for _, m := range tr.merges {
		if strings.Contains(m[0], " ") || strings.Contains(m[1], " ") {
			return nil, fmt.Errorf("merge %q has a space", m)
		}
		f.Model.Merges = append(f.Model.Merges, m[0]+" "+m[1])
	}
	switch opts.Split {
	case SplitLlama3:
		f.PreTokenizer = obj("type", "Sequence", "pretokenizers", []any{
			obj("type", "Split", "pattern", obj("Regex", PatternLlama3), "behavior", "Isolated", "invert", false),
			byteLevel(false, true, false),
		})
	default:
		f.PreTokenizer = byteLevel(false, true, true)
	}
	f.Decoder = byteLevel(true, true, true)
	f.PostProcessor = byteLevel(true, false, true)
	if opts.BOS != "" || opts.EOS != "" {
		var single, pair []any
		special := map[string]any{}
		tok := func(s string, typeID int) map[string]any {
			special[s] = obj("id", s, "ids", []int{tr.ids[s]}, "tokens", []string{s})
			return obj("SpecialToken", obj("id", s, "type_id", typeID))
		}
		seq := func(id string, typeID int) map[string]any {
			return obj("Sequence", obj("id", id, "type_id", typeID))
		}
		for _, part := range []struct {
			id     string
			typeID int
		}{{"A", 0}, {"B", 1}} {
			var items []any
			if opts.BOS != "" {
				items = append(items, tok(opts.BOS, part.typeID))
			}
			items = append(items, seq(part.id, part.typeID))
			if opts.EOS != "" {
				items = append(items, tok(opts.EOS, part.typeID))
			}
			if part.id == "A" {
				single = items
			} else {
				pair = append(single[:len(single):len(single)], items...)
			}
		}
		f.PostProcessor = obj("type", "Sequence", "processors", []any{
			f.PostProcessor,
			obj("type", "TemplateProcessing", "single", single, "pair", pair, "special_tokens", special),
		})
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
