// Parity oracle for ctlens/model/tokenizer: runs @huggingface/tokenizers
// (tokenizers.js) on a job written by parity_test.go and writes its ids and
// decoded strings back as JSON.
//
// usage: node parity.mjs LIB_MJS JOB_JSON OUT_JSON
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [, , libPath, jobPath, outPath] = process.argv;
const lib = await import(pathToFileURL(libPath).href);
const { Tokenizer } = lib;
const job = JSON.parse(readFileSync(jobPath, "utf8"));

const attempt = (f) => {
  try {
    return f();
  } catch (e) {
    return { error: String(e) };
  }
};

const results = [];
for (const spec of job.tokenizers) {
  const tok = new Tokenizer(JSON.parse(readFileSync(spec.path, "utf8")), spec.config);
  const encode = job.texts.map((text) => ({
    plain: attempt(() => tok.encode(text, { add_special_tokens: false }).ids),
    special: attempt(() => tok.encode(text, { add_special_tokens: true }).ids),
  }));
  const decode = spec.decode.map((ids) => ({
    keep: attempt(() => tok.decode(ids, { skip_special_tokens: false })),
    skip: attempt(() => tok.decode(ids, { skip_special_tokens: true })),
  }));
  results.push({ name: spec.name, encode, decode });
}
// Components on their own: each pre-tokenizer and normalizer config of the
// job, through the exported classes, on every text.
const preTokenizers = {
  ByteLevel: lib.ByteLevelPreTokenizer, Split: lib.SplitPreTokenizer, Metaspace: lib.MetaspacePreTokenizer,
  Digits: lib.DigitsPreTokenizer, Sequence: lib.SequencePreTokenizer, Whitespace: lib.WhitespacePreTokenizer,
  WhitespaceSplit: lib.WhitespaceSplitPreTokenizer, Punctuation: lib.PunctuationPreTokenizer,
  BertPreTokenizer: lib.BertPreTokenizer, Replace: lib.ReplacePreTokenizer,
};
const normalizers = {
  NFC: lib.NFCNormalizer, NFD: lib.NFDNormalizer, NFKC: lib.NFKCNormalizer, NFKD: lib.NFKDNormalizer,
  Precompiled: lib.PrecompiledNormalizer, StripAccents: lib.StripAccentsNormalizer, Strip: lib.StripNormalizer,
  Replace: lib.ReplaceNormalizer, Prepend: lib.PrependNormalizer, Sequence: lib.SequenceNormalizer,
};
const components = [];
for (const config of job.pretokenizers ?? []) {
  const p = new preTokenizers[config.type](config);
  components.push(job.texts.map((text) => attempt(() => p.pre_tokenize(text, { section_index: 0 }))));
}
for (const config of job.normalizers ?? []) {
  const n = new normalizers[config.type](config);
  components.push(job.texts.map((text) => attempt(() => n.normalize(text))));
}
writeFileSync(outPath, JSON.stringify({ tokenizers: results, components }));
