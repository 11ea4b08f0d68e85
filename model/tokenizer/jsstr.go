package tokenizer

// This file holds the JavaScript string semantics that tokenizers.js relies
// on and that differ from Go's: the whitespace set of String.prototype.trim
// and of a JS regex `\s`, UTF-16 lengths, the WHATWG UTF-8 decoder behind
// TextDecoder, parseInt, and the replacement patterns of String.replaceAll.

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// isJSSpace reports whether r is in ECMAScript's WhiteSpace or
// LineTerminator sets: what `\s` means in a JS regex and what trim() strips.
// Unlike Unicode White_Space it includes U+FEFF and excludes U+0085.
func isJSSpace(r rune) bool {
	switch {
	case r >= '\t' && r <= '\r', r == ' ', r == 0xA0, r == 0x1680,
		r >= 0x2000 && r <= 0x200A, r == 0x2028, r == 0x2029, r == 0x202F,
		r == 0x205F, r == 0x3000, r == 0xFEFF:
		return true
	}
	return false
}

// isWhiteSpace reports the Unicode White_Space property, which is what
// tokenizers.js substitutes for `\s` when it translates a tokenizer.json
// (Oniguruma) regex: `\s` → `\p{White_Space}`.
func isWhiteSpace(r rune) bool {
	switch {
	case r >= '\t' && r <= '\r', r == ' ', r == 0x85, r == 0xA0, r == 0x1680,
		r >= 0x2000 && r <= 0x200A, r == 0x2028, r == 0x2029, r == 0x202F,
		r == 0x205F, r == 0x3000:
		return true
	}
	return false
}

// decodeRune is utf8.DecodeRuneInString that never reports width 0 for a
// non-empty string; invalid bytes come back as RuneError of width 1, so
// scanners walk raw bytes of invalid UTF-8 one at a time.
func decodeRune(s string) (rune, int) {
	return utf8.DecodeRuneInString(s)
}

// jsTrimStart is String.prototype.trimStart.
func jsTrimStart(s string) string { return strings.TrimLeftFunc(s, isJSSpace) }

// jsTrimEnd is String.prototype.trimEnd.
func jsTrimEnd(s string) string { return strings.TrimRightFunc(s, isJSSpace) }

// jsTrim is String.prototype.trim.
func jsTrim(s string) string { return strings.TrimFunc(s, isJSSpace) }

// utf16Len is a JS string's .length: UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// decodeWHATWG decodes bytes the way TextDecoder("utf-8") does (the WHATWG
// Encoding Standard, "UTF-8 decoder"): each maximal ill-formed subpart
// becomes one U+FFFD, which differs from Go's one-U+FFFD-per-byte. With
// stripBOM (TextDecoder's default, ignoreBOM=false) a leading U+FEFF
// decoded from EF BB BF is dropped.
func decodeWHATWG(b []byte, stripBOM bool) string {
	var out strings.Builder
	out.Grow(len(b))
	var cp rune
	needed, seen := 0, 0
	lower, upper := byte(0x80), byte(0xBF)
	first := true
	emit := func(r rune) {
		if first {
			first = false
			if stripBOM && r == 0xFEFF {
				return
			}
		}
		out.WriteRune(r)
	}
	for i := 0; i < len(b); {
		c := b[i]
		if needed == 0 {
			i++
			switch {
			case c <= 0x7F:
				emit(rune(c))
			case c >= 0xC2 && c <= 0xDF:
				needed, cp = 1, rune(c&0x1F)
			case c >= 0xE0 && c <= 0xEF:
				if c == 0xE0 {
					lower = 0xA0
				}
				if c == 0xED {
					upper = 0x9F
				}
				needed, cp = 2, rune(c&0xF)
			case c >= 0xF0 && c <= 0xF4:
				if c == 0xF0 {
					lower = 0x90
				}
				if c == 0xF4 {
					upper = 0x8F
				}
				needed, cp = 3, rune(c&0x7)
			default:
				emit(utf8.RuneError)
			}
			continue
		}
		if c < lower || c > upper {
			// The byte is not consumed: it starts over after the U+FFFD.
			cp, needed, seen = 0, 0, 0
			lower, upper = 0x80, 0xBF
			emit(utf8.RuneError)
			continue
		}
		i++
		lower, upper = 0x80, 0xBF
		cp = cp<<6 | rune(c&0x3F)
		seen++
		if seen == needed {
			emit(cp)
			cp, needed, seen = 0, 0, 0
		}
	}
	if needed != 0 {
		emit(utf8.RuneError)
	}
	return out.String()
}

// jsParseIntHex is parseInt(s, 16) for the two characters the ByteFallback
// decoder hands it: leading JS whitespace and a sign are allowed, then an
// optional 0x prefix, then the longest run of hex digits. ok is false where
// parseInt returns NaN.
func jsParseIntHex(s string) (v int, ok bool) {
	s = jsTrimStart(s)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s = s[2:]
	}
	n := 0
	for n < len(s) && isHexDigit(s[n]) {
		n++
	}
	if n == 0 {
		return 0, false
	}
	u, _ := strconv.ParseUint(s[:n], 16, 64)
	v = int(u)
	if neg {
		v = -v
	}
	return v, true
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// jsExpandReplacement expands a String.replaceAll replacement string for one
// match: $$, $&, $`, $', $n and $nn (when that group exists; otherwise the
// text stays literal). loc holds the match's submatch byte offsets in s
// (-1 for a group that did not take part, which expands to "").
func jsExpandReplacement(dst *strings.Builder, repl, s string, loc []int) {
	groups := len(loc)/2 - 1
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c != '$' || i+1 >= len(repl) {
			dst.WriteByte(c)
			continue
		}
		switch n := repl[i+1]; {
		case n == '$':
			dst.WriteByte('$')
			i++
		case n == '&':
			dst.WriteString(s[loc[0]:loc[1]])
			i++
		case n == '`':
			dst.WriteString(s[:loc[0]])
			i++
		case n == '\'':
			dst.WriteString(s[loc[1]:])
			i++
		case n >= '0' && n <= '9':
			// Two digits win when that group exists (ECMA-262 GetSubstitution).
			g, w := int(n-'0'), 1
			if i+2 < len(repl) && repl[i+2] >= '0' && repl[i+2] <= '9' {
				if g2 := g*10 + int(repl[i+2]-'0'); g2 >= 1 && g2 <= groups {
					g, w = g2, 2
				}
			}
			if g < 1 || g > groups {
				dst.WriteByte(c)
				continue
			}
			if loc[2*g] >= 0 {
				dst.WriteString(s[loc[2*g]:loc[2*g+1]])
			}
			i += w
		default:
			dst.WriteByte(c)
		}
	}
}

// cleanUpTokenization is tokenizers.js's clean_up_tokenization, applied by
// decode when clean_up_tokenization_spaces is on.
func cleanUpTokenization(s string) string {
	return cleanUpReplacer.Replace(s)
}

// The replacements run one after another, in this order, as the JS chain of
// .replace(/x/g, y) calls does.
var cleanUpReplacer = sequenceReplacer{
	{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
	{" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
}

type sequenceReplacer [][2]string

func (r sequenceReplacer) Replace(s string) string {
	for _, p := range r {
		if strings.Contains(s, p[0]) {
			s = strings.ReplaceAll(s, p[0], p[1])
		}
	}
	return s
}
