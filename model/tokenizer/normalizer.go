package tokenizer

// Normalizers (HF "normalizer"): string → string before pre-tokenization.
// Supported: Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD, Strip,
// StripAccents, Precompiled. The Unicode forms use golang.org/x/text (its
// tables are Unicode 13; node's ICU is newer, so characters assigned since
// then may normalize differently).

import (
	"encoding/json"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

type normalizer interface {
	normalize(s string) string
}

// seqNormalizer is Sequence: each normalizer in turn.
type seqNormalizer []normalizer

func (q seqNormalizer) normalize(s string) string {
	for _, n := range q {
		s = n.normalize(s)
	}
	return s
}

// prependNormalizer is Prepend: Phi-3 and Llama-2 prepend "▁".
type prependNormalizer string

func (p prependNormalizer) normalize(s string) string { return string(p) + s }

// replaceNormalizer is Replace: every match of the pattern becomes content
// (Phi-3 and Llama-2 replace " " with "▁").
type replaceNormalizer struct {
	pat     *pattern
	content string
}

func (r replaceNormalizer) normalize(s string) string { return replaceAll(r.pat, s, r.content) }

// unicodeNormalizer is NFC, NFD, NFKC or NFKD.
type unicodeNormalizer struct{ form norm.Form }

func (u unicodeNormalizer) normalize(s string) string { return u.form.String(s) }

// stripNormalizer is Strip: JS trim on the chosen sides.
type stripNormalizer struct{ left, right bool }

func (n stripNormalizer) normalize(s string) string {
	if n.left {
		s = jsTrimStart(s)
	}
	if n.right {
		s = jsTrimEnd(s)
	}
	return s
}

// stripAccentsNormalizer is StripAccents: tokenizers.js deletes every mark
// (\p{M}); it does not decompose first.
type stripAccentsNormalizer struct{}

func (stripAccentsNormalizer) normalize(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.M, r) {
			return -1
		}
		return r
	}, s)
}

// precompiledNormalizer is Precompiled as tokenizers.js implements it: it
// ignores the charsmap, deletes some controls, maps some spaces to " " and
// applies NFKC (around U+FF5E, which NFKC would change).
type precompiledNormalizer struct{}

func (precompiledNormalizer) normalize(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 0x01 && r <= 0x08, r == 0x0B, r >= 0x0E && r <= 0x1F, r == 0x7F, r == 0x8F, r == 0x9F:
			return -1
		case r == 0x09, r == 0x0A, r == 0x0C, r == 0x0D, r == 0xA0, r == 0x1680,
			r >= 0x2000 && r <= 0x200F, r == 0x2028, r == 0x2029, r == 0x202F,
			r == 0x205F, r == 0x2581, r == 0x3000, r == 0xFEFF, r == 0xFFFD:
			return ' '
		}
		return r
	}, s)
	parts := strings.Split(s, "\uFF5E")
	for i := range parts {
		parts[i] = norm.NFKC.String(parts[i])
	}
	return strings.Join(parts, "\uFF5E")
}

// replaceAll is String.prototype.replaceAll with a global regex.
func replaceAll(p *pattern, s, content string) string {
	if p.isLit && p.literal != "" && !strings.Contains(content, "$") {
		return strings.ReplaceAll(s, p.literal, content)
	}
	var b strings.Builder
	last := 0
	p.each(s, func(loc []int) {
		b.WriteString(s[last:loc[0]])
		jsExpandReplacement(&b, content, s, loc)
		last = loc[1]
	})
	b.WriteString(s[last:])
	return b.String()
}

// newNormalizer builds the normalizer at path (nil for JSON null).
func newNormalizer(raw json.RawMessage, path string) (normalizer, error) {
	return newComponent(raw, path, buildNormalizer)
}

func buildNormalizer(typ string, raw json.RawMessage, path string) (normalizer, error) {
	switch typ {
	case "Sequence":
		var c struct {
			Normalizers json.RawMessage `json:"normalizers"`
		}
		if err := decodeFields(raw, &c); err != nil {
			return nil, err
		}
		items, err := sequenceOf(c.Normalizers, path, true, newNormalizer)
		if err != nil {
			return nil, err
		}
		return seqNormalizer(items), nil
	case "Prepend":
		var c struct {
			Prepend string `json:"prepend"`
		}
		if err := decodeFields(raw, &c); err != nil {
			return nil, err
		}
		return prependNormalizer(c.Prepend), nil
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
		return replaceNormalizer{p, c.Content}, nil
	case "NFC":
		return unicodeNormalizer{norm.NFC}, nil
	case "NFD":
		return unicodeNormalizer{norm.NFD}, nil
	case "NFKC":
		return unicodeNormalizer{norm.NFKC}, nil
	case "NFKD":
		return unicodeNormalizer{norm.NFKD}, nil
	case "Strip":
		var c struct {
			Left  bool `json:"strip_left"`
			Right bool `json:"strip_right"`
		}
		if err := decodeFields(raw, &c); err != nil {
			return nil, err
		}
		return stripNormalizer{c.Left, c.Right}, nil
	case "StripAccents":
		return stripAccentsNormalizer{}, nil
	case "Precompiled":
		return precompiledNormalizer{}, nil
	case "Lowercase", "BertNormalizer", "NFKCCasefold", "Nmt", "ByteLevel":
		return nil, unsupported("normalizer type %q is not implemented", typ)
	}
	return nil, unsupported("unknown normalizer type %q", typ)
}
