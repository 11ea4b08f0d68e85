package tokenizer

import (
	"encoding/hex"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestDecodeWHATWG checks the decoder against the Encoding Standard's
// UTF-8 decoder: one U+FFFD per maximal ill-formed subpart.
func TestDecodeWHATWG(t *testing.T) {
	const R = "\uFFFD"
	tests := []struct {
		name, hex string
		stripBOM  bool
		want      string
	}{
		{"empty", "", false, ""},
		{"ascii", "41", false, "A"},
		{"euro", "e282ac", false, "€"},
		{"truncated 3-byte", "e282", false, R},
		{"truncated then ascii", "e28241", false, R + "A"},
		{"stray continuation", "80", false, R},
		{"overlong lead C0", "c080", false, R + R},
		{"surrogate ED A0 80", "eda080", false, R + R + R},
		{"4-byte", "f09f9880", false, "😀"},
		{"truncated 4-byte", "f09f98", false, R},
		{"above U+10FFFF", "f4908080", false, R + R + R + R},
		{"E0 needs A0..BF", "e08080", false, R + R + R},
		{"F5 invalid lead", "f5", false, R},
		{"BOM kept", "efbbbf41", false, "\uFEFFA"},
		{"BOM stripped", "efbbbf41", true, "A"},
		{"only a leading BOM is stripped", "41efbbbf", true, "A\uFEFF"},
		{"stripping sees a second BOM", "efbbbfefbbbf", true, "\uFEFF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := hex.DecodeString(tt.hex)
			if err != nil {
				t.Fatal(err)
			}
			if have := decodeWHATWG(b, tt.stripBOM); have != tt.want {
				t.Errorf("have %q, want %q", have, tt.want)
			}
		})
	}
}

// TestDecodeWHATWGValid: on valid UTF-8 the decoder is the identity.
func TestDecodeWHATWGValid(t *testing.T) {
	for _, s := range append(randomCorpus(500, 9), fixedCorpus...) {
		if !utf8.ValidString(s) {
			continue
		}
		if have := decodeWHATWG([]byte(s), false); have != s {
			t.Errorf("decode(%q) = %q", s, have)
		}
	}
}

func TestJSParseIntHex(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"41", 0x41, true}, {"ff", 255, true}, {"4G", 4, true}, {"G1", 0, false},
		{" F", 15, true}, {"-1", -1, true}, {"+F", 15, true}, {"0x", 0, false},
		{"x1", 0, false}, {"", 0, false}, {"\u00a0A", 10, true},
	}
	for _, tt := range tests {
		v, ok := jsParseIntHex(tt.in)
		if v != tt.want || ok != tt.ok {
			t.Errorf("parseInt(%q, 16) = %d, %v; want %d, %v", tt.in, v, ok, tt.want, tt.ok)
		}
	}
}

// TestByteFallbackValue follows tokenizers.js: six UTF-16 units, "<0x" and
// ">", parseInt of units 3 and 4, stored in a Uint8Array.
func TestByteFallbackValue(t *testing.T) {
	tests := []struct {
		tok  string
		want byte
		ok   bool
	}{
		{"<0x41>", 0x41, true}, {"<0x0A>", 0x0A, true}, {"<0xe6>", 0xE6, true},
		{"<0x1é>", 0x01, true}, // parseInt("1é", 16) is 1
		{"<0x-1>", 0xFF, true}, // -1 in a Uint8Array
		{"<0xZZ>", 0, false}, {"<0x4142>", 0, false}, {"<0x4>", 0, false},
		{"<0x😀>", 0, false}, // six units, but NaN
		{"0x41", 0, false}, {"<0X41>", 0, false},
	}
	for _, tt := range tests {
		b, ok := byteFallbackValue(tt.tok)
		if b != tt.want || ok != tt.ok {
			t.Errorf("byteFallbackValue(%q) = %#x, %v; want %#x, %v", tt.tok, b, ok, tt.want, tt.ok)
		}
	}
}

func TestJSExpandReplacement(t *testing.T) {
	// s = "xabcx", match "abc" at 1..4, group 1 = "b" (2..3).
	s, loc := "xabcx", []int{1, 4, 2, 3}
	tests := []struct{ repl, want string }{
		{"plain", "plain"}, {"$$", "$"}, {"$&", "abc"}, {"$`", "x"}, {"$'", "x"},
		{"$1", "b"}, {"$2", "$2"}, {"$01", "b"}, {"$10", "b0"}, {"$", "$"}, {"a$", "a$"},
		{"$0", "$0"}, {"[$1|$&]", "[b|abc]"},
	}
	for _, tt := range tests {
		var b strings.Builder
		jsExpandReplacement(&b, tt.repl, s, loc)
		if have := b.String(); have != tt.want {
			t.Errorf("expand(%q) = %q, want %q", tt.repl, have, tt.want)
		}
	}
	// A group that did not take part expands to nothing.
	var b strings.Builder
	jsExpandReplacement(&b, "<$1>", s, []int{1, 4, -1, -1})
	if b.String() != "<>" {
		t.Errorf("unset group: %q", b.String())
	}
}

func TestJSTrimAndSpaces(t *testing.T) {
	// U+FEFF is JS whitespace but not Unicode White_Space; U+0085 the other way round.
	if !isJSSpace(0xFEFF) || isJSSpace(0x85) || isWhiteSpace(0xFEFF) || !isWhiteSpace(0x85) {
		t.Error("JS and Unicode whitespace sets are mixed up")
	}
	if have := jsTrim("\ufeff\t x \u0085"); have != "x \u0085" {
		t.Errorf("jsTrim = %q", have)
	}
}

func TestCleanUpTokenization(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a . b , c ! d ?", "a. b, c! d?"},
		{"do n't , I 'm , it 's , we 've , they 're", "don't, I'm, it's, we've, they're"},
		{"say ' hi", "say'hi"},
		{"no change", "no change"},
	}
	for _, tt := range tests {
		if have := cleanUpTokenization(tt.in); have != tt.want {
			t.Errorf("cleanUp(%q) = %q, want %q", tt.in, have, tt.want)
		}
	}
}
