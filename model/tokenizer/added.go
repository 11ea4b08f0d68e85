package tokenizer

// Added tokens (HF "added_tokens"): strings matched in the text before the
// model sees it, longest first at each position, as tokenizers.js's
// DictionarySplitter does. Tokens with normalized=false are matched in the
// raw text; those with normalized=true in the normalized text, by their
// normalized content. tokenizers.js applies lstrip and rstrip (trimming JS
// whitespace off the neighbouring text) and ignores single_word.

// addedToken is one entry of "added_tokens".
type addedToken struct {
	Content    string `json:"content"`
	ID         *int   `json:"id"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Special    bool   `json:"special"`
	Normalized *bool  `json:"normalized"` // default: !special
	id         int
}

// splitter finds added tokens in text with a byte trie. On valid UTF-8 this
// equals tokenizers.js's trie over UTF-16 code units, since a token's first
// byte can only match at a code point boundary.
type splitter struct {
	nodes []trieNode
	first [256]bool
}

type trieNode struct {
	next map[byte]int32
	end  int32 // length of the token ending here, or 0
}

func newSplitter(words []string) *splitter {
	s := &splitter{nodes: []trieNode{{}}}
	for _, w := range words {
		if w == "" {
			continue // an empty token never matches in tokenizers.js
		}
		s.first[w[0]] = true
		n := int32(0)
		for i := 0; i < len(w); i++ {
			if s.nodes[n].next == nil {
				s.nodes[n].next = make(map[byte]int32)
			}
			c, ok := s.nodes[n].next[w[i]]
			if !ok {
				c = int32(len(s.nodes))
				s.nodes = append(s.nodes, trieNode{})
				s.nodes[n].next[w[i]] = c
			}
			n = c
		}
		s.nodes[n].end = int32(len(w))
	}
	return s
}

// split cuts text into the pieces between matches and the matches
// themselves (DictionarySplitter.split).
func (s *splitter) split(text string) []string {
	var out []string
	start := 0
	for i := 0; i < len(text); {
		if !s.first[text[i]] {
			i++
			continue
		}
		match := int32(0)
		n := int32(0)
		for j := i; j < len(text); j++ {
			c, ok := s.nodes[n].next[text[j]]
			if !ok {
				break
			}
			n = c
			if e := s.nodes[n].end; e > 0 {
				match = e
			}
		}
		if match == 0 {
			i++
			continue
		}
		if i > start {
			out = append(out, text[start:i])
		}
		out = append(out, text[i:i+int(match)])
		i += int(match)
		start = i
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}
