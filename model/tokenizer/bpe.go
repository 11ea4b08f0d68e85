package tokenizer

// The BPE model (HF "model": {"type": "BPE"}), as tokenizers.js runs it:
// each pre-token is split into code points and adjacent pairs are merged in
// order of merge rank (ties: leftmost first), using a priority queue over a
// linked list of symbols. Pieces missing from the vocab become <0xNN> byte
// tokens (byte_fallback) or the unk token; fuse_unk joins runs of unk.

import (
	"encoding/json"
	"strings"
	"sync"
)

// bpeModel holds the vocab, the merges and the resolved ids.
type bpeModel struct {
	vocab        map[string]int // tokens_to_ids: the model vocab, then added tokens' contents
	unkToken     string
	hasUnk       bool
	unkID        int // tokens_to_ids.get(unk_token) before added tokens are added; -1 if none
	byteFallback bool
	fuseUnk      bool
	ignoreMerges bool
	eow          string // end_of_word_suffix, appended to a word's last symbol
	cont         string // continuing_subword_suffix (tokenizers.js's name), appended to all but the last piece

	// Interned symbol strings: every merge operand and result.
	syms   map[string]int32
	symStr []string
	merges map[uint64]mergeRule

	// Resolved once the tokenizer knows its added tokens.
	symOut   []piece    // per symbol: the piece it becomes, when it is in the vocab
	symKnown []bool     // per symbol: in the vocab
	byteTok  [256]piece // <0xNN> tokens
	byteOK   [256]bool
	unkPiece piece
	final    func(string) (int, bool) // added_tokens_map, then tokens_to_ids, then unk

	mu    sync.RWMutex
	cache map[string][]piece
}

type mergeRule struct {
	rank   int32
	result int32
}

// piece is one model output token: its id and whether fuse_unk treats it as
// unknown.
type piece struct {
	id  int32
	unk bool
}

// maxCachedWord is the longest pre-token (bytes) whose encoding is cached,
// as tokenizers.js caches only tokens shorter than 256 code units.
const maxCachedWord = 256

// maxCacheEntries bounds the per-word cache; it is cleared when full.
const maxCacheEntries = 1 << 16

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

func (m *bpeModel) intern(s string) int32 {
	if id, ok := m.syms[s]; ok {
		return id
	}
	id := int32(len(m.symStr))
	m.syms[s] = id
	m.symStr = append(m.symStr, s)
	return id
}

// addMerge records merge number rank; a later duplicate wins, as in the JS
// Map built from the merges list.
func (m *bpeModel) addMerge(a, b string, rank int) {
	l, r := m.intern(a), m.intern(b)
	m.merges[pairKey(l, r)] = mergeRule{rank: int32(rank), result: m.intern(a + b)}
}

// resolve computes ids once tokens_to_ids and the final lookup are complete.
func (m *bpeModel) resolve(final func(string) (int, bool)) {
	m.final = final
	m.symOut = make([]piece, len(m.symStr))
	m.symKnown = make([]bool, len(m.symStr))
	for i, s := range m.symStr {
		if _, ok := m.vocab[s]; ok {
			m.symKnown[i] = true
			m.symOut[i] = m.pieceOf(s)
		}
	}
	for b := 0; b < 256; b++ {
		s := byteToken(byte(b))
		if _, ok := m.vocab[s]; ok {
			m.byteOK[b] = true
			m.byteTok[b] = m.pieceOf(s)
		}
	}
	if m.hasUnk {
		m.unkPiece = m.pieceOf(m.unkToken)
	}
	m.cache = make(map[string][]piece)
}

// pieceOf is the id tokenizers.js gives a model token string, and whether
// fuse_unk sees it as unknown ((tokens_to_ids.get(t) ?? unk_id) === unk_id).
func (m *bpeModel) pieceOf(s string) piece {
	id, ok := m.final(s)
	if !ok {
		id = -1
	}
	v, inVocab := m.vocab[s]
	if !inVocab {
		v = m.unkID
	}
	return piece{id: int32(id), unk: v == m.unkID}
}

func byteToken(b byte) string {
	const hex = "0123456789ABCDEF"
	return "<0x" + string([]byte{hex[b>>4], hex[b&15]}) + ">"
}

// encode appends the model tokens of the pre-tokens words to out, then
// applies fuse_unk over the pieces of this call.
func (m *bpeModel) encode(out []int, words []string) []int {
	var pieces []piece
	for _, w := range words {
		pieces = append(pieces, m.word(w)...)
	}
	lastUnk := false
	for _, p := range pieces {
		if m.fuseUnk && p.unk && lastUnk {
			continue
		}
		lastUnk = p.unk
		if p.id >= 0 {
			out = append(out, int(p.id))
		}
	}
	return out
}

// word returns the pieces of one pre-token, from the cache when it can.
func (m *bpeModel) word(w string) []piece {
	if w == "" {
		return nil
	}
	if len(w) < maxCachedWord {
		m.mu.RLock()
		p, ok := m.cache[w]
		m.mu.RUnlock()
		if ok {
			return p
		}
	}
	p := m.bpe(w)
	if len(w) < maxCachedWord {
		m.mu.Lock()
		if len(m.cache) >= maxCacheEntries {
			clear(m.cache)
		}
		m.cache[w] = p
		m.mu.Unlock()
	}
	return p
}

// bpeNode is one symbol of the word being merged: it covers w[start:end].
type bpeNode struct {
	sym        int32
	prev, next int32
	start, end int32
}

// bpeEntry is a candidate merge of node left with its next neighbour; it is
// stale when either symbol has changed since it was queued.
type bpeEntry struct {
	rank       int32
	left       int32 // node index = position of its first code point: the tie-break
	lsym, rsym int32
}

func (a bpeEntry) less(b bpeEntry) bool {
	return a.rank < b.rank || a.rank == b.rank && a.left < b.left
}

func (m *bpeModel) bpe(w string) []piece {
	if m.ignoreMerges {
		if _, ok := m.vocab[w]; ok {
			return []piece{m.pieceOf(w)}
		}
	}
	// Symbols: the code points of w, the last one with end_of_word_suffix.
	nodes := make([]bpeNode, 0, len(w))
	for i := 0; i < len(w); {
		_, size := decodeRune(w[i:])
		s := w[i : i+size]
		if i+size == len(w) && m.eow != "" {
			s += m.eow
		}
		sym, ok := m.syms[s]
		if !ok {
			sym = -1
		}
		n := int32(len(nodes))
		nodes = append(nodes, bpeNode{sym: sym, prev: n - 1, next: n + 1, start: int32(i), end: int32(i + size)})
		i += size
	}
	nodes[len(nodes)-1].next = -1

	var heap []bpeEntry
	push := func(left int32) {
		if left < 0 {
			return
		}
		right := nodes[left].next
		if right < 0 || nodes[left].sym < 0 || nodes[right].sym < 0 {
			return
		}
		if r, ok := m.merges[pairKey(nodes[left].sym, nodes[right].sym)]; ok {
			heap = heapPush(heap, bpeEntry{r.rank, left, nodes[left].sym, nodes[right].sym})
		}
	}
	for i := range nodes {
		push(int32(i))
	}
	for len(heap) > 0 {
		var e bpeEntry
		heap, e = heapPop(heap)
		l := &nodes[e.left]
		if l.sym != e.lsym || l.next < 0 || nodes[l.next].sym != e.rsym {
			continue // stale
		}
		r := &nodes[l.next]
		l.sym = m.merges[pairKey(e.lsym, e.rsym)].result
		l.end = r.end
		l.next = r.next
		if r.next >= 0 {
			nodes[r.next].prev = e.left
		}
		r.sym = -2 // dead
		push(l.prev)
		push(e.left)
	}

	var out []piece
	for i := int32(0); i >= 0; i = nodes[i].next {
		n := nodes[i]
		last := n.next < 0
		if m.cont == "" && n.sym >= 0 && m.symKnown[n.sym] {
			out = append(out, m.symOut[n.sym])
			continue
		}
		s := w[n.start:n.end]
		if last {
			s += m.eow
		} else {
			s += m.cont
		}
		out = m.appendPiece(out, s)
	}
	return out
}

// appendPiece adds the token for model string s: itself when in the vocab,
// else its <0xNN> bytes (when byte_fallback and all exist), else unk.
func (m *bpeModel) appendPiece(out []piece, s string) []piece {
	if _, ok := m.vocab[s]; ok {
		return append(out, m.pieceOf(s))
	}
	if m.byteFallback {
		all := true
		for i := 0; i < len(s); i++ {
			all = all && m.byteOK[s[i]]
		}
		if all {
			for i := 0; i < len(s); i++ {
				out = append(out, m.byteTok[s[i]])
			}
			return out
		}
	}
	if m.hasUnk {
		out = append(out, m.unkPiece)
	}
	return out
}

func heapPush(h []bpeEntry, e bpeEntry) []bpeEntry {
	h = append(h, e)
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h[i].less(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	return h
}

func heapPop(h []bpeEntry) ([]bpeEntry, bpeEntry) {
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && h[l].less(h[m]) {
			m = l
		}
		if r < n && h[r].less(h[m]) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	return h, top
}

// bpeJSON is the BPE model object of tokenizer.json.
type bpeJSON struct {
	Type                    string          `json:"type"`
	Vocab                   json.RawMessage `json:"vocab"`
	Merges                  json.RawMessage `json:"merges"`
	UnkToken                *string         `json:"unk_token"`
	EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
	ContinuingSubwordSuffix *string         `json:"continuing_subword_suffix"`
	FuseUnk                 bool            `json:"fuse_unk"`
	ByteFallback            bool            `json:"byte_fallback"`
	IgnoreMerges            bool            `json:"ignore_merges"`
}

// newBPE builds the model from its JSON; vocab is the parsed vocab.
func newBPE(c *bpeJSON, vocab map[string]int) (*bpeModel, error) {
	m := &bpeModel{
		vocab:        vocab,
		unkID:        -1,
		byteFallback: c.ByteFallback,
		fuseUnk:      c.FuseUnk,
		ignoreMerges: c.IgnoreMerges,
		syms:         make(map[string]int32),
		merges:       make(map[uint64]mergeRule),
	}
	if c.UnkToken != nil {
		m.unkToken, m.hasUnk = *c.UnkToken, true
		if id, ok := vocab[m.unkToken]; ok {
			m.unkID = id
		}
	}
	if c.EndOfWordSuffix != nil {
		m.eow = *c.EndOfWordSuffix
	}
	if c.ContinuingSubwordSuffix != nil {
		m.cont = *c.ContinuingSubwordSuffix
	}
	list, err := decodeList(c.Merges)
	if err != nil {
		return nil, formatErr("merges: %v", err)
	}
	// tokenizers.js picks the format from the first entry: ["a", "b"] pairs
	// or "a b" strings (split on the first space; a string without one never
	// matches a pair).
	pairs := len(list) > 0 && strings.HasPrefix(strings.TrimSpace(string(list[0])), "[")
	for i, raw := range list {
		if pairs {
			var p []string
			if err := json.Unmarshal(raw, &p); err == nil && len(p) == 2 {
				m.addMerge(p[0], p[1], i)
			}
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, formatErr("merges[%d]: %v", i, err)
		}
		if a, rest, ok := strings.Cut(s, " "); ok {
			b, _, _ := strings.Cut(rest, " ")
			m.addMerge(a, b, i)
		}
	}
	return m, nil
}
