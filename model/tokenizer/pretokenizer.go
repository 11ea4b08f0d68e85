package tokenizer

// Pre-tokenizers (HF "pre_tokenizer"): split a normalized section into the
// words that BPE sees. Supported: ByteLevel, Split, Metaspace, Digits,
// Sequence, Whitespace, WhitespaceSplit, Punctuation, BertPreTokenizer and
// Replace, each as tokenizers.js implements it (which differs from the Rust
// crate in places: Metaspace never splits on "▁", Split treats every
// behavior but "Removed" as "Isolated").

import (
	"encoding/json"
	"strings"
	"unicode"
)

type preTokenizer interface {
	// preTokenize appends the pieces of text to out. section is the index of
	// the text's section among those split off by added tokens (Metaspace's
	// prepend_scheme "first" looks at it).
	preTokenize(out []string, text string, section int) []string
}

// seqPreTokenizer is Sequence: each pre-tokenizer applied to every piece of
// the previous one.
type seqPreTokenizer []preTokenizer

func (q seqPreTokenizer) preTokenize(out []string, text string, section int) []string {
	pieces := []string{text}
	for _, p := range q {
		var next []string
		for _, piece := range pieces {
			next = p.preTokenize(next, piece, section)
		}
		pieces = next
	}
	return append(out, pieces...)
}

// byteLevelPreTokenizer is ByteLevel: optionally a leading space, the GPT-2
// regex (with JS `\s`, as tokenizers.js has it as a regex literal), then
// every UTF-8 byte mapped to its printable stand-in (bytesToUnicode).
type byteLevelPreTokenizer struct {
	addPrefixSpace bool
	useRegex       bool
}

var gpt2JSScanner = &pattern{scan: gpt2Scanner(isJSSpace)}

func (b byteLevelPreTokenizer) preTokenize(out []string, text string, _ int) []string {
	if b.addPrefixSpace && !strings.HasPrefix(text, " ") {
		text = " " + text
	}
	if !b.useRegex {
		return append(out, byteLevelString(text))
	}
	gpt2JSScanner.each(text, func(loc []int) {
		out = append(out, byteLevelString(text[loc[0]:loc[1]]))
	})
	return out
}

// bytesToUnicode is GPT-2's byte → printable rune table: printable Latin-1
// bytes map to themselves, the other 68 to U+0100 onwards; runeBytes is
// its inverse, indexed by rune (all stand-ins are below U+0144).
var bytesToUnicode, runeBytes = func() ([256]rune, [0x144]byte) {
	var t [256]rune
	var inv [0x144]byte
	n := 0
	for b := 0; b < 256; b++ {
		if b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF {
			t[b] = rune(b)
		} else {
			t[b] = rune(256 + n)
			n++
		}
		inv[t[b]] = byte(b)
	}
	return t, inv
}()

// unicodeToByte maps a stand-in back to its byte. Any other rune gives 0,
// as tokenizers.js's lookup yields undefined, which a Uint8Array stores
// as 0.
func unicodeToByte(r rune) byte {
	if r >= 0 && int(r) < len(runeBytes) {
		return runeBytes[r]
	}
	return 0
}

// byteLevelString maps the bytes of s (raw bytes, so invalid UTF-8 too) to
// their stand-ins.
func byteLevelString(s string) string {
	var b strings.Builder
	b.Grow(2 * len(s))
	for i := 0; i < len(s); i++ {
		b.WriteRune(bytesToUnicode[s[i]])
	}
	return b.String()
}

// splitPreTokenizer is Split.
type splitPreTokenizer struct {
	pat     *pattern
	invert  bool // config "invert": keep only the matches
	removed bool // behavior "Removed": String.split semantics
}

func (p splitPreTokenizer) preTokenize(out []string, text string, _ int) []string {
	switch {
	case p.invert:
		p.pat.each(text, func(loc []int) {
			if loc[1] > loc[0] {
				out = append(out, text[loc[0]:loc[1]])
			}
		})
	case p.removed:
		// text.split(regex).filter(x => x): pieces between matches plus the
		// capture groups, empty pieces dropped. A split never happens on an
		// empty match at the last split point or at the end of the text.
		last := 0
		p.pat.each(text, func(loc []int) {
			if loc[0] >= len(text) || loc[0] == loc[1] && loc[0] == last {
				return
			}
			if loc[0] > last {
				out = append(out, text[last:loc[0]])
			}
			for g := 2; g+1 < len(loc); g += 2 {
				if loc[g] >= 0 && loc[g+1] > loc[g] {
					out = append(out, text[loc[g]:loc[g+1]])
				}
			}
			last = loc[1]
		})
		if last < len(text) {
			out = append(out, text[last:])
		}
	default:
		// regex_split: matches and the text between them ("Isolated").
		prev := 0
		p.pat.each(text, func(loc []int) {
			if prev < loc[0] {
				out = append(out, text[prev:loc[0]])
			}
			if loc[1] > loc[0] {
				out = append(out, text[loc[0]:loc[1]])
			}
			prev = loc[1]
		})
		if prev < len(text) {
			out = append(out, text[prev:])
		}
	}
	return out
}

// metaspacePreTokenizer is Metaspace: spaces become the replacement
// ("▁"), which is prepended per prepend_scheme. tokenizers.js returns the
// whole text as one piece (it does not split on the replacement).
type metaspacePreTokenizer struct {
	replacement string
	strRep      string
	scheme      string // always, first or never
}

func (m metaspacePreTokenizer) preTokenize(out []string, text string, section int) []string {
	s := strings.ReplaceAll(text, " ", m.strRep)
	if !strings.HasPrefix(s, m.replacement) && (m.scheme == "always" || m.scheme == "first" && section == 0) {
		s = m.strRep + s
	}
	return append(out, s)
}

// runPreTokenizer keeps the runs of text where class gives the same kind
// (kind 0 = dropped), one run per maximal stretch; with single, each rune
// of kind singleKind is a run of its own. It covers Digits, Whitespace,
// WhitespaceSplit, Punctuation and BertPreTokenizer, whose JS regexes are
// all of the form `A+|B+` over disjoint classes.
type runPreTokenizer struct {
	kind       func(r rune) int
	singleKind int  // a kind whose runes are never joined (0: none)
	trim       bool // JS trim() first (BertPreTokenizer)
}

func (p runPreTokenizer) preTokenize(out []string, text string, _ int) []string {
	if p.trim {
		text = jsTrim(text)
	}
	for i := 0; i < len(text); {
		r, w := decodeRune(text[i:])
		k := p.kind(r)
		if k == 0 {
			i += w
			continue
		}
		j := i + w
		if k != p.singleKind {
			for j < len(text) {
				r2, w2 := decodeRune(text[j:])
				if p.kind(r2) != k {
					break
				}
				j += w2
			}
		}
		out = append(out, text[i:j])
		i = j
	}
	return out
}

func isASCIIDigit(r rune) bool { return r >= '0' && r <= '9' }

// isJSPunct is tokenizers.js's PUNCTUATION_REGEX: \p{P} and ASCII
// punctuation and symbols.
func isJSPunct(r rune) bool {
	return r >= 0x21 && r <= 0x2F || r >= 0x3A && r <= 0x40 || r >= 0x5B && r <= 0x60 ||
		r >= 0x7B && r <= 0x7E || unicode.IsPunct(r)
}

func isASCIIWord(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_'
}

// replacePreTokenizer is the Replace pre-tokenizer: one piece, replaced.
type replacePreTokenizer replaceNormalizer

func (p replacePreTokenizer) preTokenize(out []string, text string, _ int) []string {
	return append(out, replaceAll(p.pat, text, p.content))
}

// newPreTokenizer builds the pre-tokenizer at path (nil for JSON null).
func newPreTokenizer(raw json.RawMessage, path string) (preTokenizer, error) {
	return newComponent(raw, path, buildPreTokenizer)
}

func buildPreTokenizer(typ string, raw json.RawMessage, path string) (preTokenizer, error) {
	switch typ {
	case "Sequence":
		var c struct {
			List json.RawMessage `json:"pretokenizers"`
		}
		if err := decodeFields(raw, &c); err != nil {
			return nil, err
		}
		items, err := sequenceOf(c.List, path, true, newPreTokenizer)
		if err != nil {
			return nil, err
		}
		return seqPreTokenizer(items), nil
	case "ByteLevel":
		c := struct {
			AddPrefixSpace bool  `json:"add_prefix_space"`
			UseRegex       *bool `json:"use_regex"`
		}{}
		if err := decodeFields(raw, &c); err != nil {
			return nil, err
		}
		return byteLevelPreTokenizer{c.AddPrefixSpace, c.UseRegex == nil || *c.UseRegex}, nil
	case "Split":
		var c struct {
			Pattern  *patternJSON `json:"pattern"`
			Behavior string       `json:"behavior"`
			Invert   *bool        `json:"invert"`
		}
		if err := decodeFields(raw, &c); err != nil {
			return nil, err
		}
		if c.Pattern == nil {
			return nil, formatErr(`Split has no "pattern"`)
		}
		invert := c.Invert != nil && *c.Invert
		// create_pattern gets `invert ?? true`: an explicit false wraps a
		// String pattern in a capture group, which String.split keeps.
		p, err := compilePattern(*c.Pattern, c.Invert != nil && !*c.Invert)
		if err != nil {
			return nil, err
		}
		return splitPreTokenizer{pat: p, invert: invert, removed: strings.ToLower(c.Behavior) == "removed"}, nil
	case "Metaspace":
		var c struct {
			Replacement   *string `json:"replacement"`
			StrRep        string  `json:"str_rep"`
			PrependScheme *string `json:"prepend_scheme"`
		}
		if err := decodeFields(raw, &c); err != nil {
			return nil, err
		}
		m := metaspacePreTokenizer{replacement: "▁", scheme: "always"}
		if c.Replacement != nil {
			m.replacement = *c.Replacement
		}
		m.strRep = c.StrRep
		if m.strRep == "" {
			m.strRep = m.replacement
		}
		if c.PrependScheme != nil {
			m.scheme = *c.PrependScheme
		}
		return m, nil
	case "Digits":
		var c struct {
			Individual bool `json:"individual_digits"`
		}
		if err := decodeFields(raw, &c); err != nil {
			return nil, err
		}
		p := runPreTokenizer{kind: func(r rune) int {
			if isASCIIDigit(r) {
				return 2
			}
			return 1
		}}
		if c.Individual {
			p.singleKind = 2
		}
		return p, nil
	case "Whitespace": // /\w+|[^\w\s]+/g without the u flag: ASCII \w
		return runPreTokenizer{kind: func(r rune) int {
			switch {
			case isASCIIWord(r):
				return 1
			case isJSSpace(r):
				return 0
			}
			return 2
		}}, nil
	case "WhitespaceSplit": // /\S+/g
		return runPreTokenizer{kind: func(r rune) int {
			if isJSSpace(r) {
				return 0
			}
			return 1
		}}, nil
	case "Punctuation":
		return runPreTokenizer{kind: func(r rune) int {
			if isJSPunct(r) {
				return 2
			}
			return 1
		}}, nil
	case "BertPreTokenizer": // trim, then /[^\s P]+|[P]/gu
		return runPreTokenizer{trim: true, singleKind: 2, kind: func(r rune) int {
			switch {
			case isJSSpace(r):
				return 0
			case isJSPunct(r):
				return 2
			}
			return 1
		}}, nil
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
		return replacePreTokenizer{p, c.Content}, nil
	case "FixedLength", "UnicodeScripts", "CharDelimiterSplit":
		return nil, unsupported("pre-tokenizer type %q is not implemented", typ)
	}
	return nil, unsupported("unknown pre-tokenizer type %q", typ)
}
