package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Tokenizer encodes text to token ids and decodes ids to text, as the
// tokenizer.json it was loaded from prescribes. It is safe for concurrent
// use once loaded (ApplyConfig must come before any other use).
type Tokenizer struct {
	name string // file name, for messages
	raw  []byte // the tokenizer.json, for WriteJSON

	normalizer normalizer
	pre        preTokenizer
	model      *bpeModel
	post       postProcessor
	decoder    decoder

	addedByKey map[string]*addedToken // tokenizers.js's added_tokens_map: content and normalized content
	splitRaw   *splitter              // added tokens matched before normalization
	splitNorm  *splitter              // added tokens matched after it

	idToTok []string
	hasID   []bool
	special map[string]bool // contents that skipSpecial drops
	eow     string          // the model's end_of_word_suffix, which decode turns into spaces
	cleanUp bool

	specials SpecialIDs
}

// SpecialIDs are the ids of the conventional special tokens, -1 where the
// tokenizer has none. BOS and EOS come from the post-processor's template
// when it has one, else from well-known names among the added tokens (and
// from tokenizer_config.json after ApplyConfig); UNK is the model's
// unk_token.
type SpecialIDs struct {
	BOS, EOS, PAD, UNK int
}

// fileJSON is the top level of tokenizer.json.
type fileJSON struct {
	AddedTokens   []addedToken    `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         json.RawMessage `json:"model"`
}

// maxVocabID bounds token ids so that a hostile file cannot make Load
// allocate an enormous id table.
const maxVocabID = 1 << 24

// LoadFile reads a tokenizer.json file.
func LoadFile(path string) (*Tokenizer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return load(b, path)
}

// Load reads a tokenizer.json from r.
func Load(r io.Reader) (*Tokenizer, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: tokenizer.json: %w", err)
	}
	return load(b, "tokenizer.json")
}

func load(b []byte, name string) (*Tokenizer, error) {
	t, err := build(b, name)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", name, err)
	}
	return t, nil
}

func build(b []byte, name string) (*Tokenizer, error) {
	var f fileJSON
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, formatErr("%v", err)
	}
	t := &Tokenizer{name: name, raw: b}

	// The model.
	if isNull(f.Model) {
		return nil, formatErr(`no "model"`)
	}
	var mc bpeJSON
	if err := json.Unmarshal(f.Model, &mc); err != nil {
		return nil, componentError("model", "", formatErr("%v", err))
	}
	if mc.Type == "" {
		// tokenizers.js infers BPE from these keys when "type" is missing.
		var keys map[string]json.RawMessage
		_ = json.Unmarshal(f.Model, &keys)
		_, p := keys["continuing_subword_prefix"]
		_, u := keys["unk_token"]
		_, m := keys["merges"]
		if !(p && u && m) {
			return nil, componentError("model", "", unsupported("model without a type that is not BPE"))
		}
		mc.Type = "BPE"
	}
	if mc.Type != "BPE" {
		return nil, componentError("model", mc.Type, unsupported("model type %q (only BPE is implemented)", mc.Type))
	}
	vocab, order, err := parseVocab(mc.Vocab)
	if err != nil {
		return nil, componentError("model", "BPE", err)
	}
	model, err := newBPE(&mc, vocab)
	if err != nil {
		return nil, componentError("model", "BPE", err)
	}
	t.model = model
	t.eow = model.eow
	for _, k := range order {
		t.setID(vocab[k], k)
	}

	if t.normalizer, err = newNormalizer(f.Normalizer, "normalizer"); err != nil {
		return nil, err
	}
	if t.pre, err = newPreTokenizer(f.PreTokenizer, "pre_tokenizer"); err != nil {
		return nil, err
	}
	if t.decoder, err = newDecoder(f.Decoder, "decoder"); err != nil {
		return nil, err
	}

	// Added tokens, in file order; later entries win, as in the JS maps.
	t.addedByKey = make(map[string]*addedToken)
	t.special = make(map[string]bool)
	var rawWords, normWords []string
	for i := range f.AddedTokens {
		a := &f.AddedTokens[i]
		if a.ID == nil {
			return nil, formatErr("added_tokens[%d] (%q) has no id", i, a.Content)
		}
		a.id = *a.ID
		if a.id < 0 || a.id >= maxVocabID {
			return nil, formatErr("added_tokens[%d] (%q): id %d out of range", i, a.Content, a.id)
		}
		normalized := !a.Special
		if a.Normalized != nil {
			normalized = *a.Normalized
		}
		vocab[a.Content] = a.id
		t.setID(a.id, a.Content)
		if a.Special {
			t.special[a.Content] = true
		}
		t.addedByKey[a.Content] = a
		if normalized && t.normalizer != nil {
			n := t.normalizer.normalize(a.Content)
			normWords = append(normWords, n)
			t.addedByKey[n] = a
		} else {
			rawWords = append(rawWords, a.Content)
		}
	}
	t.splitRaw = newSplitter(rawWords)
	t.splitNorm = newSplitter(normWords)
	t.model.resolve(t.finalID)
	if bl, ok := t.decoder.(*byteLevelDecoder); ok {
		bl.added = make(map[string]bool)
		for _, a := range f.AddedTokens {
			bl.added[a.Content] = true
		}
	}
	if t.post, err = newPostProcessor(f.PostProcessor, "post_processor", t.finalID); err != nil {
		return nil, err
	}
	t.specials = t.findSpecials()
	return t, nil
}

func (t *Tokenizer) setID(id int, tok string) {
	if id >= len(t.idToTok) {
		n := max(id+1, 2*len(t.idToTok))
		t.idToTok = append(t.idToTok, make([]string, n-len(t.idToTok))...)
		t.hasID = append(t.hasID, make([]bool, n-len(t.hasID))...)
	}
	t.idToTok[id], t.hasID[id] = tok, true
}

// finalID is the id tokenizers.js's encode gives a token string:
// added_tokens_map, then tokens_to_ids, then the unk id.
func (t *Tokenizer) finalID(s string) (int, bool) {
	if a, ok := t.addedByKey[s]; ok {
		return a.id, true
	}
	if id, ok := t.model.vocab[s]; ok {
		return id, true
	}
	if t.model.unkID >= 0 {
		return t.model.unkID, true
	}
	return 0, false
}

// parseVocab reads the vocab object. JSON.parse keeps the last value of a
// repeated key; the id → token table is filled in Object.entries order
// (integer-like keys ascending, then the rest in order of first
// appearance), later entries overwriting earlier ones on a shared id.
func parseVocab(raw json.RawMessage) (map[string]int, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, formatErr(`"vocab" is not an object`)
	}
	vocab := make(map[string]int)
	var order []string
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, nil, formatErr("vocab: %v", err)
		}
		k, _ := kt.(string)
		vt, err := dec.Token()
		if err != nil {
			return nil, nil, formatErr("vocab: %v", err)
		}
		num, ok := vt.(json.Number)
		if !ok {
			return nil, nil, formatErr("vocab[%q] is not a number", k)
		}
		id, err := strconv.Atoi(string(num))
		if err != nil || id < 0 || id >= maxVocabID {
			return nil, nil, formatErr("vocab[%q] = %s is not a valid id", k, num)
		}
		if _, seen := vocab[k]; !seen {
			order = append(order, k)
		}
		vocab[k] = id
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, formatErr("vocab: %v", err)
	}
	var ints, rest []string
	for _, k := range order {
		if isArrayIndex(k) {
			ints = append(ints, k)
		} else {
			rest = append(rest, k)
		}
	}
	sort.Slice(ints, func(i, j int) bool {
		a, _ := strconv.ParseUint(ints[i], 10, 64)
		b, _ := strconv.ParseUint(ints[j], 10, 64)
		return a < b
	})
	return vocab, append(ints, rest...), nil
}

// isArrayIndex reports a JS array-index property name: a canonical decimal
// below 2^32 - 1, which objects list first and in numeric order.
func isArrayIndex(k string) bool {
	if k == "" || len(k) > 10 || len(k) > 1 && k[0] == '0' {
		return false
	}
	v, err := strconv.ParseUint(k, 10, 64)
	return err == nil && v < 1<<32-1
}

// wellKnown lists names that mark special tokens when the file does not say.
var wellKnown = struct{ bos, eos, pad []string }{
	bos: []string{"<s>", "<|begin_of_text|>", "<|startoftext|>", "<bos>", "[CLS]"},
	eos: []string{"</s>", "<|endoftext|>", "<|end_of_text|>", "<eos>", "[SEP]"},
	pad: []string{"<pad>", "<|pad|>", "[PAD]", "<|finetune_right_pad_id|>"},
}

func (t *Tokenizer) findSpecials() SpecialIDs {
	s := SpecialIDs{BOS: -1, EOS: -1, PAD: -1, UNK: -1}
	if t.model.hasUnk {
		if id, ok := t.model.vocab[t.model.unkToken]; ok {
			s.UNK = id
		}
	}
	var walk func(p postProcessor)
	walk = func(p postProcessor) {
		switch p := p.(type) {
		case *templateProcessor:
			seen := false
			for _, it := range p.items {
				switch {
				case it.sequence:
					seen = true
				case !seen && s.BOS < 0:
					s.BOS = it.id
				case seen:
					s.EOS = it.id
				}
			}
		case *wrapProcessor:
			s.BOS, s.EOS = p.cls.id, p.sep.id
		case seqProcessor:
			for _, q := range p {
				walk(q)
			}
		}
	}
	walk(t.post)
	byName := func(names []string) int {
		for _, n := range names {
			if id, ok := t.model.vocab[n]; ok {
				return id
			}
		}
		return -1
	}
	if s.BOS < 0 {
		s.BOS = byName(wellKnown.bos)
	}
	if s.EOS < 0 {
		s.EOS = byName(wellKnown.eos)
	}
	s.PAD = byName(wellKnown.pad)
	return s
}

// ApplyConfig reads a tokenizer_config.json (the transformers companion of
// tokenizer.json) for what tokenizers.js takes from it: the
// clean_up_tokenization_spaces switch, additional_special_tokens (dropped
// by Decode with skipSpecial), and the bos/eos/pad/unk token names, which
// set Specials. Without it, Decode does not clean up spaces (tokenizers.js
// defaults to cleaning up when the config does not say). Call it before
// any other use of t.
func (t *Tokenizer) ApplyConfig(r io.Reader) error {
	var c struct {
		CleanUp     *bool             `json:"clean_up_tokenization_spaces"`
		Additional  []json.RawMessage `json:"additional_special_tokens"`
		BOS         json.RawMessage   `json:"bos_token"`
		EOS         json.RawMessage   `json:"eos_token"`
		PAD         json.RawMessage   `json:"pad_token"`
		UNK         json.RawMessage   `json:"unk_token"`
		RemoveSpace bool              `json:"remove_space"`
		LowerAccent bool              `json:"do_lowercase_and_remove_accent"`
	}
	if err := json.NewDecoder(r).Decode(&c); err != nil {
		return fmt.Errorf("tokenizer: tokenizer_config.json: %w", &FormatError{Msg: err.Error()})
	}
	if c.RemoveSpace || c.LowerAccent {
		return fmt.Errorf("tokenizer: tokenizer_config.json: %w", unsupported("remove_space / do_lowercase_and_remove_accent"))
	}
	t.cleanUp = c.CleanUp == nil || *c.CleanUp
	for _, a := range c.Additional {
		var s string
		if json.Unmarshal(a, &s) == nil {
			t.special[s] = true
		}
	}
	set := func(dst *int, raw json.RawMessage) {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			var obj struct {
				Content string `json:"content"`
			}
			if json.Unmarshal(raw, &obj) != nil || obj.Content == "" {
				return
			}
			s = obj.Content
		}
		if id, ok := t.model.vocab[s]; ok {
			*dst = id
		}
	}
	set(&t.specials.BOS, c.BOS)
	set(&t.specials.EOS, c.EOS)
	set(&t.specials.PAD, c.PAD)
	set(&t.specials.UNK, c.UNK)
	return nil
}

// SetCleanUpTokenizationSpaces switches the clean-up that Decode applies
// (" ." → "." and the like, tokenizers.js's clean_up_tokenization). Call it
// before any other use of t.
func (t *Tokenizer) SetCleanUpTokenizationSpaces(on bool) { t.cleanUp = on }

// Specials returns the BOS, EOS, PAD and UNK ids (-1 where absent).
func (t *Tokenizer) Specials() SpecialIDs { return t.specials }

// VocabSize is the size of the id space: one more than the largest id of
// the vocab and the added tokens.
func (t *Tokenizer) VocabSize() int {
	n := len(t.hasID)
	for n > 0 && !t.hasID[n-1] {
		n--
	}
	return n
}

// TokenID returns the id of a token string (a vocab entry or an added
// token's content), as tokenizers.js's token_to_id.
func (t *Tokenizer) TokenID(s string) (int, bool) {
	id, ok := t.model.vocab[s]
	return id, ok
}

// Token returns the string of an id.
func (t *Tokenizer) Token(id int) (string, bool) {
	if id < 0 || id >= len(t.idToTok) || !t.hasID[id] {
		return "", false
	}
	return t.idToTok[id], true
}

// IsSpecial reports whether Decode with skipSpecial drops id.
func (t *Tokenizer) IsSpecial(id int) bool {
	s, ok := t.Token(id)
	return ok && t.special[s]
}

// Encode turns text into token ids. addSpecial lets the post-processor add
// its special tokens (the BOS of Llama and Phi-3).
//
// The steps are tokenizers.js's: added tokens are cut out of the raw text,
// each remaining section is normalized, added tokens are cut out of the
// normalized text, each remaining piece is pre-tokenized and run through
// the model, and the post-processor adds the template's tokens.
func (t *Tokenizer) Encode(text string, addSpecial bool) []int {
	var ids []int
	var words []string
	sections := t.splitRaw.split(text)
	t.stripAround(sections)
	for si, sec := range sections {
		if sec == "" {
			continue
		}
		if a, ok := t.addedByKey[sec]; ok {
			ids = append(ids, a.id)
			continue
		}
		if t.normalizer != nil {
			sec = t.normalizer.normalize(sec)
		}
		if sec == "" {
			continue
		}
		subs := t.splitNorm.split(sec)
		t.stripAround(subs)
		for _, sub := range subs {
			if sub == "" {
				continue
			}
			if a, ok := t.addedByKey[sub]; ok {
				ids = append(ids, a.id)
				continue
			}
			words = words[:0]
			if t.pre != nil {
				words = t.pre.preTokenize(words, sub, si)
			} else {
				words = append(words, sub)
			}
			ids = t.model.encode(ids, words)
		}
	}
	if t.post != nil {
		ids = t.post.process(ids, addSpecial)
	}
	return ids
}

// stripAround applies lstrip and rstrip of the added tokens among parts to
// their neighbours, in order, each step seeing the previous ones' effect
// (as the JS forEach over the mutated array does).
func (t *Tokenizer) stripAround(parts []string) {
	for i := range parts {
		a, ok := t.addedByKey[parts[i]]
		if !ok {
			continue
		}
		if a.LStrip && i > 0 {
			parts[i-1] = jsTrimEnd(parts[i-1])
		}
		if a.RStrip && i < len(parts)-1 {
			parts[i+1] = jsTrimStart(parts[i+1])
		}
	}
}

// Decode turns ids back into text. Ids without a token decode as the unk
// token (or nothing when there is none); with skipSpecial, special tokens
// are left out.
func (t *Tokenizer) Decode(ids []int, skipSpecial bool) string {
	return t.decode(ids, skipSpecial, t.cleanUp)
}

func (t *Tokenizer) decode(ids []int, skipSpecial, cleanUp bool) string {
	tokens := make([]string, 0, len(ids))
	for _, id := range ids {
		s, ok := t.Token(id)
		if !ok {
			if !t.model.hasUnk {
				continue
			}
			s = t.model.unkToken
		}
		if skipSpecial && t.special[s] {
			continue
		}
		tokens = append(tokens, s)
	}
	var out string
	if t.decoder != nil {
		out = strings.Join(t.decoder.decodeChain(tokens), "")
		if t.eow != "" {
			out = strings.ReplaceAll(out, t.eow, " ")
			if skipSpecial {
				out = jsTrim(out)
			}
		}
	} else {
		out = strings.Join(tokens, " ")
	}
	if cleanUp {
		out = cleanUpTokenization(out)
	}
	return out
}

// WriteJSON writes the tokenizer.json this tokenizer was loaded or trained
// from.
func (t *Tokenizer) WriteJSON(w io.Writer) error {
	if _, err := w.Write(t.raw); err != nil {
		return fmt.Errorf("tokenizer: write %s: %w", t.name, err)
	}
	return nil
}
