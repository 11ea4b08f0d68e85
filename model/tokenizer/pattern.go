package tokenizer

// Patterns: the {"String": ...} and {"Regex": ...} objects of tokenizer.json
// (used by the Split and Replace components), matched the way tokenizers.js
// matches them.
//
// tokenizer.json regexes are written for Oniguruma; tokenizers.js rewrites
// them into JS `u`-mode regexes (rewrite_oniguruma_to_js): `\s` becomes
// \p{White_Space}, `\d` becomes \p{Nd}, `.` excludes only "\n", (?i:…) folds
// ASCII letters only. Go's regexp (RE2) has no lookaround, and the split
// patterns of GPT-2, Llama-3 and Qwen2 end in `\s+(?!\S)|\s+`. So:
//
//   - the known split patterns are matched by hand-written scanners
//     (gpt2Scanner, llama3Scanner) that reproduce the backtracking semantics
//     exactly, `\s+(?!\S)` included;
//   - any other pattern ending in `|\s+(?!\S)|\s+` has that tail matched by
//     hand and the rest compiled with Go's regexp;
//   - other patterns are translated to RE2 syntax with the JS meanings; a
//     pattern that needs lookaround, backreferences or a look-behind anchor
//     (^, \A, \b) is an UnsupportedError.
//
// Matching follows String.prototype.matchAll: leftmost match from the last
// match's end; after an empty match the search moves on by one code point.

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The split regexes of well-known tokenizers, as they appear in their
// tokenizer.json files.
const (
	// PatternGPT2 is the GPT-2 pre-tokenization regex (also the one built
	// into the ByteLevel pre-tokenizer).
	PatternGPT2 = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
	// PatternLlama3 is the Llama-3 (and cl100k) Split regex.
	PatternLlama3 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// PatternQwen2 is Llama-3's regex with single digits, as in Qwen2.
	PatternQwen2 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// wsTail is the alternation tail that RE2 cannot express.
const wsTail = `|\s+(?!\S)|\s+`

// pattern is a compiled String or Regex pattern.
type pattern struct {
	src     string
	isLit   bool
	literal string
	capLit  bool                      // the literal counts as capture group 1 (Split with invert=false)
	scan    func(s string, i int) int // hand scanner: end of the match at i, or -1
	re      *regexp.Regexp            // translated regex; for tail patterns, the part before wsTail
	tail    bool                      // re is followed by `|\s+(?!\S)|\s+`
	ws      func(r rune) bool         // whitespace of the tail and scanners
}

// patternJSON is the tokenizer.json form: exactly one of String or Regex.
type patternJSON struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

// compilePattern builds a pattern. capture mirrors create_pattern's invert
// argument being false, which wraps a String pattern in a capture group.
func compilePattern(p patternJSON, capture bool) (*pattern, error) {
	switch {
	case p.String != nil:
		return &pattern{src: *p.String, isLit: true, literal: *p.String, capLit: capture}, nil
	case p.Regex != nil:
		return compileRegex(*p.Regex, isWhiteSpace)
	}
	return nil, formatErr("pattern has neither String nor Regex")
}

// compileRegex compiles a tokenizer.json regex; ws is the meaning of `\s`
// for the hand-matched parts.
func compileRegex(src string, ws func(rune) bool) (*pattern, error) {
	p := &pattern{src: src, ws: ws}
	switch src {
	case PatternGPT2:
		p.scan = gpt2Scanner(ws)
		return p, nil
	case PatternLlama3:
		p.scan = llama3Scanner(ws, 3)
		return p, nil
	case PatternQwen2:
		p.scan = llama3Scanner(ws, 1)
		return p, nil
	}
	return compileTranslated(src, ws)
}

// compileTranslated compiles src through translateRegex (with the
// hand-matched whitespace tail when it has one), never a scanner.
func compileTranslated(src string, ws func(rune) bool) (*pattern, error) {
	p := &pattern{src: src, ws: ws}
	body := src
	if strings.HasSuffix(src, wsTail) && len(src) > len(wsTail) {
		body, p.tail = strings.TrimSuffix(src, wsTail), true
	}
	goSrc, err := translateRegex(body)
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w", src, err)
	}
	re, err := regexp.Compile(goSrc)
	if err != nil {
		return nil, unsupported("regex %q (as Go %q): %v", src, goSrc, err)
	}
	p.re = re
	return p, nil
}

// each calls f for every match in String.prototype.matchAll order. loc holds
// byte offsets: start, end, then a start/end pair per capture group (-1 for
// a group that did not take part). f must not keep loc.
func (p *pattern) each(s string, f func(loc []int)) {
	switch {
	case p.isLit:
		p.eachLiteral(s, f)
	case p.scan != nil:
		var loc [2]int
		for i := 0; i < len(s); {
			if end := p.scan(s, i); end >= 0 {
				loc[0], loc[1] = i, end
				f(loc[:])
				i = end
				continue
			}
			_, w := decodeRune(s[i:])
			i += w
		}
	case p.tail:
		p.eachTail(s, f)
	default:
		for pos := 0; pos <= len(s); {
			loc := p.re.FindStringSubmatchIndex(s[pos:])
			if loc == nil {
				return
			}
			shift(loc, pos)
			f(loc)
			pos = nextPos(s, loc)
		}
	}
}

func (p *pattern) eachLiteral(s string, f func(loc []int)) {
	loc := make([]int, 2, 4)
	if p.capLit {
		loc = loc[:4]
	}
	put := func(a, b int) {
		loc[0], loc[1] = a, b
		if p.capLit {
			loc[2], loc[3] = a, b
		}
		f(loc)
	}
	if p.literal == "" {
		// An empty regex matches at every code point boundary.
		for i := 0; ; {
			put(i, i)
			if i >= len(s) {
				return
			}
			_, w := decodeRune(s[i:])
			i += w
		}
	}
	for i := 0; ; {
		j := strings.Index(s[i:], p.literal)
		if j < 0 {
			return
		}
		put(i+j, i+j+len(p.literal))
		i += j + len(p.literal)
	}
}

// eachTail matches `re|\s+(?!\S)|\s+`: at each position the regex part is
// tried first (the leftmost RE2 match from here is reused while it lies
// ahead, which is sound because the translated regex never looks behind its
// start), then the two whitespace alternatives.
func (p *pattern) eachTail(s string, f func(loc []int)) {
	var next []int // leftmost regex match at or after pos; nil = not searched
	none := false
	for pos := 0; pos <= len(s); {
		if !none && (next == nil || next[0] < pos) {
			next = p.re.FindStringSubmatchIndex(s[pos:])
			if next == nil {
				none = true
			} else {
				shift(next, pos)
			}
		}
		if !none && next[0] == pos {
			f(next)
			pos = nextPos(s, next)
			next = nil
			continue
		}
		if pos == len(s) {
			return
		}
		if end := wsRun(s, pos, p.ws); end >= 0 {
			loc := make([]int, 2+2*p.re.NumSubexp())
			for i := range loc {
				loc[i] = -1
			}
			loc[0], loc[1] = pos, end
			f(loc)
			pos = end
			continue
		}
		_, w := decodeRune(s[pos:])
		pos += w
	}
}

// wsRun matches `\s+(?!\S)|\s+` at i: a run of whitespace that stops short
// of its last character when a non-space follows, so that the last space can
// lead the next word; or -1 when s[i] is not whitespace.
func wsRun(s string, i int, ws func(rune) bool) int {
	e, lastW := i, 0
	for e < len(s) {
		r, w := decodeRune(s[e:])
		if !ws(r) {
			break
		}
		e, lastW = e+w, w
	}
	switch {
	case e == i:
		return -1
	case e == len(s):
		return e
	case e-lastW > i:
		return e - lastW
	}
	return e // `\s+(?!\S)` failed on a single space; `\s+` takes it
}

func shift(loc []int, by int) {
	for i := range loc {
		if loc[i] >= 0 {
			loc[i] += by
		}
	}
}

// nextPos is where matchAll searches next: the match end, or one code point
// further after an empty match.
func nextPos(s string, loc []int) int {
	if loc[1] > loc[0] {
		return loc[1]
	}
	if loc[1] >= len(s) {
		return len(s) + 1
	}
	_, w := decodeRune(s[loc[1]:])
	return loc[1] + w
}

// gpt2Scanner matches PatternGPT2 at i:
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// ws is `\s`: JS whitespace for the ByteLevel pre-tokenizer's built-in regex
// literal, Unicode White_Space for a translated Split regex.
func gpt2Scanner(ws func(rune) bool) func(s string, i int) int {
	other := func(r rune) bool { return !ws(r) && !unicode.IsLetter(r) && !unicode.IsNumber(r) }
	return func(s string, i int) int {
		r, _ := decodeRune(s[i:])
		if r == '\'' {
			if n := contraction(s[i+1:], false); n > 0 {
				return i + 1 + n
			}
		}
		// ` ?X+` for the three classes: an optional leading space.
		j := i
		if r == ' ' && i+1 < len(s) {
			j = i + 1
		}
		rj, _ := decodeRune(s[j:])
		// Without the space the classes cannot match at i either, as a
		// space is neither a letter, a number nor "other".
		for _, class := range [...]func(rune) bool{unicode.IsLetter, unicode.IsNumber, other} {
			if class(rj) {
				return runOf(s, j, class)
			}
		}
		return wsRun(s, i, ws)
	}
}

// llama3Scanner matches PatternLlama3 (maxDigits 3) or PatternQwen2
// (maxDigits 1) at i:
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//	 ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
func llama3Scanner(ws func(rune) bool, maxDigits int) func(s string, i int) int {
	other := func(r rune) bool { return !ws(r) && !unicode.IsLetter(r) && !unicode.IsNumber(r) }
	isCRLF := func(r rune) bool { return r == '\r' || r == '\n' }
	return func(s string, i int) int {
		r, w := decodeRune(s[i:])
		if r == '\'' {
			if n := contraction(s[i+1:], true); n > 0 {
				return i + 1 + n
			}
		}
		// [^\r\n\p{L}\p{N}]?\p{L}+
		if unicode.IsLetter(r) {
			return runOf(s, i, unicode.IsLetter)
		}
		if !isCRLF(r) && !unicode.IsNumber(r) && i+w < len(s) {
			if r2, _ := decodeRune(s[i+w:]); unicode.IsLetter(r2) {
				return runOf(s, i+w, unicode.IsLetter)
			}
		}
		// \p{N}{1,3}
		if unicode.IsNumber(r) {
			e := i
			for n := 0; n < maxDigits && e < len(s); n++ {
				r2, w2 := decodeRune(s[e:])
				if !unicode.IsNumber(r2) {
					break
				}
				e += w2
			}
			return e
		}
		// ` ?[^\s\p{L}\p{N}]+[\r\n]*`
		start := -1
		if other(r) {
			start = i
		} else if r == ' ' && i+1 < len(s) {
			if r2, _ := decodeRune(s[i+1:]); other(r2) {
				start = i + 1
			}
		}
		if start >= 0 {
			e := runOf(s, start, other)
			for e < len(s) && (s[e] == '\r' || s[e] == '\n') {
				e++
			}
			return e
		}
		if !ws(r) {
			return -1
		}
		// \s*[\r\n]+: the whitespace run up to and including its last CR/LF.
		e, lastNL := i, -1
		for e < len(s) {
			r2, w2 := decodeRune(s[e:])
			if !ws(r2) {
				break
			}
			if isCRLF(r2) {
				lastNL = e
			}
			e += w2
		}
		if lastNL >= 0 {
			return lastNL + 1
		}
		return wsRun(s, i, ws)
	}
}

// contraction matches s|t|re|ve|m|ll|d at the start of s (after the
// apostrophe), optionally ASCII-case-insensitively, and returns its length.
func contraction(s string, fold bool) int {
	lower := func(k int) byte {
		if k >= len(s) {
			return 0
		}
		c := s[k]
		if fold && c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		return c
	}
	switch c := lower(0); c {
	case 's', 't', 'm', 'd':
		return 1
	case 'r', 'v':
		if lower(1) == 'e' {
			return 2
		}
	case 'l':
		if lower(1) == 'l' {
			return 2
		}
	}
	return 0
}

// runOf returns the end of the run of runes in class starting at i.
func runOf(s string, i int, class func(rune) bool) int {
	for i < len(s) {
		r, w := decodeRune(s[i:])
		if !class(r) {
			break
		}
		i += w
	}
	return i
}

// Character-class bodies (RE2 syntax) for the properties that tokenizers.js
// substitutes and RE2 lacks by name.
var (
	wsClass    = `\t-\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}`
	alphaClass = `\p{L}\p{Nl}` + rangeTableClass(unicode.Other_Alphabetic)
	wordClass  = alphaClass + `\p{M}\p{Nd}\p{Pc}`
	// Outside a class, tokenizers.js's \w also has ² ³ ¹ ¼ ½ ¾.
	wordExtra = `\x{B2}\x{B3}\x{B9}\x{BC}-\x{BE}`
)

func rangeTableClass(t *unicode.RangeTable) string {
	var b strings.Builder
	add := func(lo, hi, stride uint32) {
		for c := lo; c <= hi; c += stride {
			if stride == 1 {
				if lo == hi {
					fmt.Fprintf(&b, `\x{%X}`, lo)
				} else {
					fmt.Fprintf(&b, `\x{%X}-\x{%X}`, lo, hi)
				}
				return
			}
			fmt.Fprintf(&b, `\x{%X}`, c)
		}
	}
	for _, r := range t.R16 {
		add(uint32(r.Lo), uint32(r.Hi), uint32(r.Stride))
	}
	for _, r := range t.R32 {
		add(r.Lo, r.Hi, r.Stride)
	}
	return b.String()
}

// propertyNames maps the long Unicode property names JS accepts to RE2's.
var propertyNames = map[string]string{
	"Letter": "L", "Uppercase_Letter": "Lu", "Lowercase_Letter": "Ll", "Titlecase_Letter": "Lt",
	"Modifier_Letter": "Lm", "Other_Letter": "Lo", "Mark": "M", "Nonspacing_Mark": "Mn",
	"Spacing_Mark": "Mc", "Enclosing_Mark": "Me", "Number": "N", "Decimal_Number": "Nd",
	"Letter_Number": "Nl", "Other_Number": "No", "Punctuation": "P", "Symbol": "S",
	"Separator": "Z", "Space_Separator": "Zs", "Other": "C", "Control": "Cc", "Format": "Cf",
	"Connector_Punctuation": "Pc", "Dash_Punctuation": "Pd", "Math_Symbol": "Sm",
	"Currency_Symbol": "Sc", "Modifier_Symbol": "Sk", "Other_Symbol": "So",
	"Open_Punctuation": "Ps", "Close_Punctuation": "Pe", "Other_Punctuation": "Po",
}

// property returns the RE2 form of \p{name} (negated: \P{name}): either a
// \p{…} that RE2 knows, or a class body for the properties tokenizers.js
// expands (White_Space, Alphabetic, Word), which cannot be negated here.
func property(name string, negated bool) (body string, expanded bool, err error) {
	name = strings.TrimPrefix(strings.TrimPrefix(name, "Script="), "sc=")
	name = strings.TrimPrefix(name, "General_Category=")
	name = strings.TrimPrefix(name, "gc=")
	if n, ok := propertyNames[name]; ok {
		name = n
	}
	switch name {
	case "White_Space", "space":
		body = wsClass
	case "Alphabetic", "Alpha":
		body = alphaClass
	case "Word":
		body = wordClass
	}
	if body != "" {
		if negated {
			return "", false, unsupported(`\P{%s}`, name)
		}
		return body, true, nil
	}
	p := `\p{` + name + `}`
	if negated {
		p = `\P{` + name + `}`
	}
	if _, err := regexp.Compile(p); err != nil {
		return "", false, unsupported(`Unicode property %q`, name)
	}
	return p, false, nil
}

// translateRegex rewrites an Oniguruma pattern into RE2 syntax with the
// meaning tokenizers.js's rewrite_oniguruma_to_js gives it.
func translateRegex(src string) (string, error) {
	var out strings.Builder
	fold := false
	var folds []bool
	hasAtom, lastQuant := false, false
	atom := func(s string) {
		out.WriteString(s)
		hasAtom, lastQuant = true, false
	}
	for i := 0; i < len(src); {
		c, w := utf8.DecodeRuneInString(src[i:])
		switch c {
		case '\\':
			s, n, err := translateEscape(src[i:], fold, false)
			if err != nil {
				return "", err
			}
			i += n
			if s != "" {
				atom(s)
			}
			continue
		case '[':
			s, n, err := translateClass(src[i:], fold)
			if err != nil {
				return "", err
			}
			atom(s)
			i += n
			continue
		case ']':
			atom(`\]`)
		case '.':
			atom(`[^\n]`)
		case '^':
			return "", unsupported("the ^ anchor")
		case '$':
			atom(`(?m:$)`)
		case '(':
			folds = append(folds, fold)
			rest := src[i:]
			switch {
			case strings.HasPrefix(rest, "(?i:"):
				out.WriteString("(?:")
				fold = true
				i += 4
			case strings.HasPrefix(rest, "(?:"), strings.HasPrefix(rest, "(?>"):
				out.WriteString("(?:")
				i += 3
			case strings.HasPrefix(rest, "(?="), strings.HasPrefix(rest, "(?!"),
				strings.HasPrefix(rest, "(?<="), strings.HasPrefix(rest, "(?<!"):
				return "", unsupported("lookaround %q", rest[:min(len(rest), 4)])
			case strings.HasPrefix(rest, "(?<"):
				out.WriteString("(?P<")
				i += 3
			case strings.HasPrefix(rest, "(?"):
				return "", unsupported("group %q", rest[:min(len(rest), 4)])
			default:
				out.WriteString("(")
				i++
			}
			hasAtom, lastQuant = false, false
			continue
		case ')':
			if len(folds) == 0 {
				return "", formatErr("unbalanced ) at %d", i)
			}
			fold = folds[len(folds)-1]
			folds = folds[:len(folds)-1]
			out.WriteString(")")
			hasAtom, lastQuant = true, false
		case '|':
			out.WriteString("|")
			hasAtom, lastQuant = false, false
		case '{':
			n := quantifierBrace(src[i:])
			if n == 0 || !hasAtom {
				atom(`\{`)
				break
			}
			body := src[i+1 : i+n-1]
			if strings.HasPrefix(body, ",") {
				body = "0" + body
			}
			if i+n < len(src) && (src[i+n] == '+' || src[i+n] == '*') {
				return "", unsupported("stacked quantifier %q", src[i:i+n+1])
			}
			out.WriteString("{" + body + "}")
			lastQuant = true
			i += n
			continue
		case '}':
			atom(`\}`)
		case '+':
			if !lastQuant { // a possessive + after a quantifier is dropped, as in JS
				out.WriteString("+")
				lastQuant = true
			}
		case '*', '?':
			out.WriteRune(c)
			lastQuant = true
		default:
			atom(literal(c, fold))
		}
		i += w
	}
	if len(folds) != 0 {
		return "", formatErr("unbalanced (")
	}
	return out.String(), nil
}

// quantifierBrace returns the length of a {n}, {n,}, {n,m} or {,m}
// quantifier at the start of s, or 0.
func quantifierBrace(s string) int {
	i := 1
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	lead := digits()
	comma := i < len(s) && s[i] == ','
	if comma {
		i++
	}
	trail := digits()
	if i >= len(s) || s[i] != '}' || (lead == 0 && (!comma || trail == 0)) {
		return 0
	}
	return i + 1
}

// literal renders one literal rune, as an [xX] pair inside (?i:…).
func literal(c rune, fold bool) string {
	if fold && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return "[" + string(unicode.ToLower(c)) + string(unicode.ToUpper(c)) + "]"
	}
	return regexp.QuoteMeta(string(c))
}

// translateEscape translates the escape at the start of s (which begins with
// a backslash), outside (inClass false) or inside a character class, where
// it returns a class body fragment. n is the number of bytes consumed.
func translateEscape(s string, fold, inClass bool) (out string, n int, err error) {
	if len(s) < 2 {
		return "", 0, formatErr("trailing backslash")
	}
	if (s[1] == 'p' || s[1] == 'P') && len(s) > 2 && s[2] == '{' {
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return "", 0, formatErr("unterminated %q", s)
		}
		body, expanded, err := property(s[3:end], s[1] == 'P')
		if err != nil {
			return "", 0, err
		}
		if !inClass && expanded {
			body = "[" + body + "]"
		}
		return body, end + 1, nil
	}
	if s[1] == 'x' || s[1] == 'u' {
		var hex string
		switch {
		case s[1] == 'x' && len(s) > 2 && s[2] == '{':
			end := strings.IndexByte(s, '}')
			if end < 0 {
				return "", 0, formatErr("unterminated %q", s)
			}
			hex, n = s[3:end], end+1
		case s[1] == 'x' && len(s) >= 4 && isHexDigit(s[2]) && isHexDigit(s[3]):
			hex, n = s[2:4], 4
		case s[1] == 'u' && len(s) >= 6 && isHexDigit(s[2]) && isHexDigit(s[3]) && isHexDigit(s[4]) && isHexDigit(s[5]):
			hex, n = s[2:6], 6
		default:
			return "", 0, unsupported("escape %q", s[:2])
		}
		var cp rune
		if _, err := fmt.Sscanf(hex, "%x", &cp); err != nil || cp > unicode.MaxRune {
			return "", 0, formatErr("bad code point escape %q", s[:n])
		}
		if inClass {
			return regexp.QuoteMeta(string(cp)), n, nil
		}
		return literal(cp, fold), n, nil
	}
	c, w := utf8.DecodeRuneInString(s[1:])
	n = 1 + w
	simple := map[rune]string{'n': `\n`, 'r': `\r`, 't': `\t`, 'f': `\f`, 'v': `\v`, 'a': `\x07`, 'e': `\x1B`}
	if v, ok := simple[c]; ok {
		return v, n, nil
	}
	class := func(body string, negated bool) (string, int, error) {
		switch {
		case inClass && negated:
			return "", 0, unsupported(`\%c inside a character class`, c)
		case inClass:
			return body, n, nil
		case negated:
			return "[^" + body + "]", n, nil
		}
		return "[" + body + "]", n, nil
	}
	switch c {
	case 'G':
		return "", n, nil // tokenizers.js drops \G
	case 's':
		return class(wsClass, false)
	case 'S':
		return class(wsClass, true)
	case 'd':
		return `\p{Nd}`, n, nil
	case 'D':
		return `\P{Nd}`, n, nil
	case 'h':
		return class(`0-9A-Fa-f`, false)
	case 'H':
		return class(`0-9A-Fa-f`, true)
	case 'w':
		if inClass {
			return wordClass, n, nil
		}
		return class(wordClass+wordExtra, false)
	case 'W':
		return class(wordClass+wordExtra, true)
	case 'z':
		if !inClass {
			return `\z`, n, nil
		}
	}
	if c < utf8.RuneSelf && (unicode.IsLetter(c) || unicode.IsDigit(c)) {
		return "", 0, unsupported(`escape \%c`, c)
	}
	if inClass {
		return regexp.QuoteMeta(string(c)), n, nil
	}
	return literal(c, fold), n, nil
}

// translateClass translates the [...] class at the start of s.
func translateClass(s string, fold bool) (string, int, error) {
	i := 1
	negated := i < len(s) && s[i] == '^'
	if negated {
		i++
	}
	first := i
	var body strings.Builder
	scalar := false // the last item can start a range
	for i < len(s) {
		c, w := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == ']' && i > first:
			b := body.String()
			if fold {
				b += foldAdditions(b)
			}
			if negated {
				return "[^" + b + "]", i + 1, nil
			}
			return "[" + b + "]", i + 1, nil
		case c == '\\':
			frag, n, err := translateEscape(s[i:], false, true)
			if err != nil {
				return "", 0, err
			}
			body.WriteString(frag)
			scalar = !strings.HasPrefix(frag, `\p`) && !strings.HasPrefix(frag, `\P`) && utf8.RuneCountInString(frag) <= 2 && frag != wsClass
			i += n
			continue
		case c == '[':
			return "", 0, unsupported("nested character class or POSIX bracket")
		case strings.HasPrefix(s[i:], "&&"):
			return "", 0, unsupported("character-class intersection")
		case c == '-':
			next := i + 1
			if scalar && next < len(s) && s[next] != ']' {
				body.WriteByte('-')
				scalar = false
				i++
				continue
			}
			body.WriteString(`\-`)
			scalar = false
		default:
			body.WriteString(regexp.QuoteMeta(string(c)))
			scalar = true
		}
		i += w
	}
	return "", 0, formatErr("unterminated character class")
}

// foldAdditions returns the ASCII letters whose other case is in the class
// body but which are not themselves, as tokenizers.js adds inside (?i:…).
func foldAdditions(body string) string {
	re, err := regexp.Compile(`^[` + body + `]$`)
	if err != nil {
		return ""
	}
	var add strings.Builder
	for c := 'a'; c <= 'z'; c++ {
		up := c - 'a' + 'A'
		hl, hu := re.MatchString(string(c)), re.MatchString(string(up))
		if hl && !hu {
			add.WriteRune(up)
		}
		if hu && !hl {
			add.WriteRune(c)
		}
	}
	return add.String()
}
