package tokenizer

// Decoders (HF "decoder"): token strings → text. Supported: ByteLevel,
// Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence and BPEDecoder,
// as tokenizers.js implements them: ByteLevel passes added tokens through
// only when it is the top-level decoder, Metaspace always drops the first
// token's leading space, ByteFallback's TextDecoder strips a leading BOM.

import (
	"encoding/json"
	"strings"
	"unicode/utf16"
)

type decoder interface {
	decodeChain(tokens []string) []string
}

// seqDecoder is Sequence.
type seqDecoder []decoder

func (q seqDecoder) decodeChain(tokens []string) []string {
	for _, d := range q {
		tokens = d.decodeChain(tokens)
	}
	return tokens
}

// byteLevelDecoder is ByteLevel: the runes of each run of tokens map back
// to bytes (a rune outside the table becomes byte 0, as Uint8Array turns
// undefined into 0), decoded as UTF-8 by TextDecoder (ignoreBOM: true).
type byteLevelDecoder struct {
	added map[string]bool // added tokens' contents, passed through; set only at top level
}

func (d *byteLevelDecoder) decodeChain(tokens []string) []string {
	var out []string
	var run []byte
	flush := func() {
		if run != nil {
			out = append(out, decodeWHATWG(run, false))
			run = nil
		}
	}
	for _, t := range tokens {
		if d.added[t] {
			flush()
			out = append(out, t)
			continue
		}
		if run == nil {
			run = []byte{}
		}
		for _, r := range t {
			run = append(run, unicodeToByte(r))
		}
	}
	flush()
	return out
}

// metaspaceDecoder is Metaspace: the replacement becomes a space and the
// first token loses one leading space.
type metaspaceDecoder struct{ replacement string }

func (d metaspaceDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		s := strings.ReplaceAll(t, d.replacement, " ")
		if i == 0 {
			s = strings.TrimPrefix(s, " ")
		}
		out[i] = s
	}
	return out
}

// replaceDecoder is Replace (Llama-2 and Phi-3: "▁" → " ").
type replaceDecoder replaceNormalizer

func (d replaceDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		out[i] = replaceAll(d.pat, t, d.content)
	}
	return out
}

// byteFallbackDecoder is ByteFallback: runs of <0xNN> tokens become the
// text of their bytes (TextDecoder with its default ignoreBOM: false).
type byteFallbackDecoder struct{}

func (byteFallbackDecoder) decodeChain(tokens []string) []string {
	var out []string
	var run []byte
	for _, t := range tokens {
		if b, ok := byteFallbackValue(t); ok {
			run = append(run, b)
			continue
		}
		if len(run) > 0 {
			out = append(out, decodeWHATWG(run, true))
			run = run[:0]
		}
		out = append(out, t)
	}
	if len(run) > 0 {
		out = append(out, decodeWHATWG(run, true))
	}
	return out
}

// byteFallbackValue parses a <0xNN> token the way tokenizers.js does: six
// UTF-16 units, "<0x" … ">", parseInt of the middle two, stored in a
// Uint8Array (so modulo 256).
func byteFallbackValue(t string) (byte, bool) {
	if !strings.HasPrefix(t, "<0x") || !strings.HasSuffix(t, ">") || utf16Len(t) != 6 {
		return 0, false
	}
	units := utf16.Encode([]rune(t))
	v, ok := jsParseIntHex(string(utf16.Decode(units[3:5])))
	return byte(v), ok
}

// fuseDecoder is Fuse: all tokens joined into one.
type fuseDecoder struct{}

func (fuseDecoder) decodeChain(tokens []string) []string {
	return []string{strings.Join(tokens, "")}
}

// stripDecoder is Strip: up to start leading and stop trailing UTF-16 units
// equal to content are cut from each token.
type stripDecoder struct {
	content     string
	start, stop int
}

func (d stripDecoder) decodeChain(tokens []string) []string {
	c := utf16.Encode([]rune(d.content))
	out := make([]string, len(tokens))
	for i, t := range tokens {
		if len(c) != 1 {
			out[i] = t // a multi-unit content never equals one unit
			continue
		}
		u := utf16.Encode([]rune(t))
		lo, hi := 0, len(u)
		for k := 0; k < d.start && k < len(u) && u[k] == c[0]; k++ {
			lo = k + 1
		}
		for k := 0; k < d.stop && len(u)-k-1 >= 0 && u[len(u)-k-1] == c[0]; k++ {
			hi = len(u) - k - 1
		}
		if lo >= hi {
			out[i] = ""
			continue
		}
		out[i] = string(utf16.Decode(u[lo:hi]))
	}
	return out
}

// bpeDecoder is BPEDecoder: the suffix becomes a space, or nothing on the
// last token.
type bpeDecoder struct{ suffix string }

func (d bpeDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		rep := " "
		if i == len(tokens)-1 {
			rep = ""
		}
		out[i] = strings.ReplaceAll(t, d.suffix, rep)
	}
	return out
}

// newDecoder builds the decoder at path (nil for JSON null).
func newDecoder(raw json.RawMessage, path string) (decoder, error) {
	return newComponent(raw, path, buildDecoder)
}

func buildDecoder(typ string, raw json.RawMessage, path string) (decoder, error) {
	switch typ {
	case "Sequence":
		var c struct {
			Decoders json.RawMessage `json:"decoders"`
		}
		if err := decodeFields(raw, &c); err != nil {
			return nil, err
		}
		items, err := sequenceOf(c.Decoders, path, false, newDecoder)
		if err != nil {
			return nil, err
		}
		return seqDecoder(items), nil
	case "ByteLevel":
		return &byteLevelDecoder{}, nil
	case "Metaspace":
		var c struct {
			Replacement *string `json:"replacement"`
		}
		if err := decodeFields(raw, &c); err != nil {
			return nil, err
		}
		d := metaspaceDecoder{replacement: "▁"}
		if c.Replacement != nil {
			d.replacement = *c.Replacement
		}
		return d, nil
	case "Replace":
		var c struct {
			Pattern patternJSON `json:"pattern"`
			Content string      `json:"content"`
		}
		if err := decodeFields(raw, &c); err != nil {
			return nil, err
		}
		p, err := compilePattern(c.Pattern, false)
		if err != nil {
			return nil, err
		}
		return replaceDecoder{p, c.Content}, nil
	case "ByteFallback":
		return byteFallbackDecoder{}, nil
	case "Fuse":
		return fuseDecoder{}, nil
	case "Strip":
		var c struct {
			Content string `json:"content"`
			Start   int    `json:"start"`
			Stop    int    `json:"stop"`
		}
		if err := decodeFields(raw, &c); err != nil {
			return nil, err
		}
		return stripDecoder{c.Content, c.Start, c.Stop}, nil
	case "BPEDecoder":
		var c struct {
			Suffix string `json:"suffix"`
		}
		if err := decodeFields(raw, &c); err != nil {
			return nil, err
		}
		return bpeDecoder{c.Suffix}, nil
	case "WordPiece", "CTC":
		return nil, unsupported("decoder type %q is not implemented", typ)
	}
	return nil, unsupported("unknown decoder type %q", typ)
}
