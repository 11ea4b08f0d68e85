// Package tokenizer loads Hugging Face tokenizer.json files and encodes and
// decodes text exactly as the reference implementation,
// @huggingface/tokenizers (tokenizers.js, npm), does; it also trains
// byte-level BPE tokenizers and writes them as tokenizer.json.
//
// It owns the text ↔ token id mapping of the model room: the model is
// handed ids, and generated ids come back through Decode or a Stream. It
// never reads the network; LoadFile is the only file access.
//
// # Pipeline
//
// Encode runs the stages of tokenizers.js's Tokenizer.encode:
//
//  1. added tokens ("added_tokens") are cut out of the raw text, longest
//     first, with their lstrip/rstrip;
//  2. the normalizer runs on each remaining section (Sequence, Prepend,
//     Replace, NFC, NFD, NFKC, NFKD, Strip, StripAccents, Precompiled);
//  3. added tokens with normalized=true are cut out of the normalized text;
//  4. the pre-tokenizer splits it into words (ByteLevel, Split, Metaspace,
//     Digits, Sequence, Whitespace, WhitespaceSplit, Punctuation,
//     BertPreTokenizer, Replace);
//  5. the model, BPE (byte-level as in GPT-2, Llama-3 and Qwen2, or
//     SentencePiece-style with byte_fallback and fuse_unk as in Llama-2 and
//     Phi-3), turns each word into ids;
//  6. the post-processor adds special tokens (TemplateProcessing,
//     ByteLevel, Sequence, BertProcessing, RobertaProcessing).
//
// Decode maps ids to token strings and runs the decoder (ByteLevel,
// Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence, BPEDecoder).
// Anything else in a file is an UnsupportedError that names the component
// and the file; a malformed file is a FormatError.
//
// # Matching tokenizers.js
//
// tokenizers.js differs from the Rust tokenizers crate in places, and this
// package follows tokenizers.js: Metaspace never splits, Split treats every
// behavior but Removed as Isolated, single_word is ignored, Metaspace
// decoding always drops the first leading space, and regexes follow its
// Oniguruma → JS translation (`\s` is Unicode White_Space, except inside
// the ByteLevel pre-tokenizer's own GPT-2 regex, which uses JS `\s`). Go's
// regexp has no lookahead, so the GPT-2, Llama-3 and Qwen2 split patterns,
// with their `\s+(?!\S)`, are matched by hand-written scanners. JS strings
// are UTF-16 and TextDecoder follows the WHATWG decoder; jsstr.go holds
// those semantics.
//
// Unicode tables come from Go (15.0) and golang.org/x/text (13.0 for
// normalization); node's ICU may be newer, so characters assigned since
// may be classified or normalized differently.
//
// parity_test.go compares everything above with tokenizers.js under node.
package tokenizer
