package tokenizer

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

func matches(p *pattern, s string) []string {
	var out []string
	p.each(s, func(loc []int) { out = append(out, s[loc[0]:loc[1]]) })
	return out
}

// TestWSRun pins the semantics of `\s+(?!\S)|\s+`.
func TestWSRun(t *testing.T) {
	tests := []struct {
		s    string
		i    int
		want int
	}{
		{"a  b", 1, 2},           // two spaces before a word: the last one is left for " b"
		{"a b", 1, 2},            // one space: `\s+(?!\S)` fails, `\s+` takes it
		{"  ", 0, 2},             // at the end everything goes
		{"\t\tb", 0, 1},          // tabs too
		{"x", 0, -1},             // not whitespace
		{" \u3000\u00a0b", 0, 4}, // multi-byte whitespace: stops before U+00A0
	}
	for _, tt := range tests {
		if have := wsRun(tt.s, tt.i, isWhiteSpace); have != tt.want {
			t.Errorf("wsRun(%q, %d) = %d, want %d", tt.s, tt.i, have, tt.want)
		}
	}
}

// TestScannersEqualTranslation checks each hand-written scanner against
// the same pattern compiled through translateRegex and RE2 (with the
// hand-matched whitespace tail): two independent implementations.
func TestScannersEqualTranslation(t *testing.T) {
	texts := append(append([]string{}, fixedCorpus...), randomCorpus(3000, 5)...)
	for _, src := range []string{PatternGPT2, PatternLlama3, PatternQwen2} {
		scan, err := compileRegex(src, isWhiteSpace)
		if err != nil {
			t.Fatal(err)
		}
		trans, err := compileTranslated(src, isWhiteSpace)
		if err != nil {
			t.Fatal(err)
		}
		if scan.scan == nil || trans.scan != nil || !trans.tail {
			t.Fatalf("%q: scanner %v, translated tail %v", src, scan.scan != nil, trans.tail)
		}
		bad := 0
		for _, s := range texts {
			have, want := matches(scan, s), matches(trans, s)
			if !slices.Equal(have, want) {
				if bad++; bad < 5 {
					t.Errorf("%.20q… on %q:\n scanner    %q\n translated %q", src, s, have, want)
				}
			}
		}
	}
}

func TestTranslateRegex(t *testing.T) {
	tests := []struct {
		src  string
		in   string
		want []string
	}{
		{`(?i:ab)`, "ab AB aB xab", []string{"ab", "AB", "aB", "ab"}},
		{`(?i:[a-c]+)`, "abcABCd", []string{"abcABC"}},
		{`\d+`, "12٣٤x", []string{"12٣٤"}},            // \d is \p{Nd}
		{`\s`, "a\u0085b\ufeffc", []string{"\u0085"}}, // \s is White_Space
		{`.`, "a\nb", []string{"a", "b"}},             // . excludes only \n
		{`\w+`, "é_x² y", []string{"é_x²", "y"}},      // Unicode word characters, with ²
		{`\p{Alphabetic}+`, "aⅫ1", []string{"aⅫ"}},
		{`a{2,}`, "a aa aaa", []string{"aa", "aaa"}},
		{`a++`, "aaa", []string{"aaa"}}, // possessive read as greedy
		{`x{`, "x{", []string{"x{"}},    // a brace that is no quantifier is literal
		{`\x41\u0042\x{43}`, "ABC", []string{"ABC"}},
		{`[\s\d]+`, "a 1\t2b", []string{" 1\t2"}},
		{`[]a]`, "]a", []string{"]", "a"}},
		{`b$`, "ab\nb", []string{"b", "b"}},
	}
	for _, tt := range tests {
		p, err := compileRegex(tt.src, isWhiteSpace)
		if err != nil {
			t.Errorf("%q: %v", tt.src, err)
			continue
		}
		if have := matches(p, tt.in); !slices.Equal(have, tt.want) {
			t.Errorf("%q on %q: have %q, want %q", tt.src, tt.in, have, tt.want)
		}
	}
}

func TestTranslateRegexUnsupported(t *testing.T) {
	for _, src := range []string{`(?<=a)b`, `a(?=b)`, `a(?!b)`, `^a`, `\bfoo`, `(a)\1`, `[[:alpha:]]`, `[a&&b]`, `\p{Nope}`, `\Ax`} {
		_, err := compileRegex(src, isWhiteSpace)
		var u *UnsupportedError
		if !errors.As(err, &u) {
			t.Errorf("%q: want an UnsupportedError, have %v", src, err)
		}
	}
	for _, src := range []string{`(a`, `a)`, `[a`, `\`} {
		_, err := compileRegex(src, isWhiteSpace)
		var f *FormatError
		if !errors.As(err, &f) {
			t.Errorf("%q: want a FormatError, have %v", src, err)
		}
	}
}

// TestMatchAllEmpty: after an empty match the search moves one code point
// on, and an empty match right after a match counts (String.matchAll).
func TestMatchAllEmpty(t *testing.T) {
	p, err := compileRegex(`a|`, isWhiteSpace)
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	p.each("aé", func(loc []int) { have = append(have, fmt.Sprint(loc[0], "-", loc[1])) })
	want := []string{"0-1", "1-1", "3-3"}
	if !slices.Equal(have, want) {
		t.Errorf("have %v, want %v", have, want)
	}
}
