package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// Stream decodes ids one at a time, as a model generates them, and returns
// the text each one adds. It never returns part of a character: while the
// decoded text ends in U+FFFD (the bytes of a character split over byte-level
// or <0xNN> byte-fallback tokens that have not all arrived) that tail is
// held back until the next id completes it, or until Flush. The pieces
// concatenated equal Decode of all the ids, without clean-up of spaces
// (which looks ahead and cannot stream), for every decoder whose output for
// a prefix of the ids is a prefix of its output for all of them: ByteLevel,
// Metaspace, ByteFallback, Fuse, Replace of a String and Strip of leading
// characters, so the decoders of GPT-2, Llama and Phi-3. Decoders that look
// at what follows (Strip with stop > 0, BPEDecoder, Replace of a regex that
// spans tokens) get valid UTF-8 pieces but not always the same text.
//
// It keeps a window of ids: those since the last point where the text was
// complete, plus the last visible token before it as context (Metaspace
// and Strip decoders treat the first token specially). The window is short
// for real text; a model emitting a long run of invalid bytes makes it grow
// (each step re-decodes it), bounded by the generation's max tokens.
type Stream struct {
	t       *Tokenizer
	skip    bool
	ids     []int
	emitted int    // bytes of decode(ids) already returned
	last    string // decode(ids) at the previous step
}

// NewStream starts a streaming decode; skipSpecial leaves out special
// tokens as Decode does.
func (t *Tokenizer) NewStream(skipSpecial bool) *Stream {
	return &Stream{t: t, skip: skipSpecial}
}

// Next adds one id and returns the new text ("" while a character is
// incomplete or the token is skipped).
func (s *Stream) Next(id int) string {
	s.ids = append(s.ids, id)
	text := s.t.decode(s.ids, s.skip, false)
	// Only a final U+FFFD can still change: TextDecoder emits it for bytes
	// that end in the middle of a character; earlier ones are final.
	end := len(text)
	// (A cap on the window used to emit the U+FFFD as it stood past 64
	// ids; the fuzzer found a long invalid run whose last byte a later id
	// completed, so the stream and Decode disagreed. Correct beats bounded.)
	if strings.HasSuffix(text, string(utf8.RuneError)) {
		end -= utf8.RuneLen(utf8.RuneError)
	}
	if !strings.HasPrefix(text, s.last[:s.emitted]) {
		// The decoder changed text it had already produced; go on from
		// the longest common prefix, at a character boundary.
		n := 0
		for n < s.emitted && n < len(text) && text[n] == s.last[n] {
			n++
		}
		for n > 0 && n < len(text) && !utf8.RuneStart(text[n]) {
			n--
		}
		s.emitted = n
	}
	s.last = text
	if end < s.emitted {
		return "" // the held-back tail grew; nothing new is certain yet
	}
	out := text[s.emitted:end]
	s.emitted = end
	if end == len(text) {
		s.rewind()
	}
	return out
}

// rewind drops the ids before the last visible one, whose text is complete.
func (s *Stream) rewind() {
	k := len(s.ids) - 1
	for k >= 0 && !s.visible(s.ids[k]) {
		k--
	}
	if k < 0 {
		s.ids, s.emitted, s.last = s.ids[:0], 0, ""
		return
	}
	s.ids = append(s.ids[:0], s.ids[k:]...)
	s.last = s.t.decode(s.ids, s.skip, false)
	s.emitted = len(s.last)
}

// visible reports whether id contributes a token to decode.
func (s *Stream) visible(id int) bool {
	tok, ok := s.t.Token(id)
	if !ok {
		if !s.t.model.hasUnk {
			return false
		}
		tok = s.t.model.unkToken
	}
	return !s.skip || !s.t.special[tok]
}

// Flush returns the text held back (an incomplete character, as U+FFFD)
// and resets the stream.
func (s *Stream) Flush() string {
	text := s.t.decode(s.ids, s.skip, false)
	out := ""
	if s.emitted < len(text) {
		out = text[s.emitted:]
	}
	s.ids, s.emitted, s.last = s.ids[:0], 0, ""
	return out
}
