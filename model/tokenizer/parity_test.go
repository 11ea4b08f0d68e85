package tokenizer

// Parity with the reference implementation, @huggingface/tokenizers
// (tokenizers.js) under node: every fixture tokenizer encodes the fixed and
// random corpora and decodes its own encodings and random id sequences in
// Go and in JS, and the results must be identical.
//
// The npm package is installed once into .cache/ at the repository root
// (gitignored) and reused; set CTLENS_NPM_CACHE to put it elsewhere.

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

const hfTokenizersVersion = "0.2.0"

// tokenizersJS returns the path of tokenizers.mjs, installing the package
// if needed. It fails the test when node or npm is missing.
func tokenizersJS(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: the parity test needs node and npm (HINT: apt-get install nodejs npm)", tool)
		}
	}
	dir := os.Getenv("CTLENS_NPM_CACHE")
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, ".cache", "npm")
	}
	dir = filepath.Join(dir, "hf-tokenizers-"+hfTokenizersVersion)
	lib := filepath.Join(dir, "node_modules", "@huggingface", "tokenizers", "dist", "tokenizers.mjs")
	if _, err := os.Stat(lib); err == nil {
		return lib
	}
	// Install into a fresh folder and rename it into place, so that a
	// concurrent or interrupted run never sees half an install.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "install-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--prefix", tmp, "@huggingface/tokenizers@"+hfTokenizersVersion)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install @huggingface/tokenizers@%s: %v\n%s\nHINT: the npm registry must be reachable once; the package is then cached in %s", hfTokenizersVersion, err, out, dir)
	}
	t.Logf("npm install @huggingface/tokenizers@%s took %v (cached in %s)", hfTokenizersVersion, time.Since(start).Round(time.Millisecond), dir)
	if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, os.ErrExist) {
		if _, statErr := os.Stat(lib); statErr != nil {
			t.Fatal(err)
		}
	}
	return lib
}

// repoRoot is the folder of go.mod above the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

type jsEncode struct {
	Plain   json.RawMessage `json:"plain"`
	Special json.RawMessage `json:"special"`
}

type jsDecode struct {
	Keep json.RawMessage `json:"keep"`
	Skip json.RawMessage `json:"skip"`
}

type jsResult struct {
	Name   string     `json:"name"`
	Encode []jsEncode `json:"encode"`
	Decode []jsDecode `json:"decode"`
}

func TestParityTokenizersJS(t *testing.T) {
	lib := tokenizersJS(t)
	dir := t.TempDir()
	texts := append(append([]string{}, fixedCorpus...), randomCorpus(400, 42)...)

	type spec struct {
		Name   string         `json:"name"`
		Path   string         `json:"path"`
		Config map[string]any `json:"config"`
		Decode [][]int        `json:"decode"`
	}
	fs := fixtures(t)
	toks := make([]*Tokenizer, len(fs))
	var specs []spec
	for i, f := range fs {
		tok, err := Load(bytesReader(f.json))
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		if err := tok.ApplyConfig(jsonReader(t, f.config)); err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		toks[i] = tok
		path := filepath.Join(dir, f.name+".json")
		if err := os.WriteFile(path, f.json, 0o644); err != nil {
			t.Fatal(err)
		}
		specs = append(specs, spec{f.name, path, f.config, decodeCases(tok, texts, f.outOfRange, uint64(i))})
	}
	job := filepath.Join(dir, "job.json")
	b, err := json.Marshal(map[string]any{"tokenizers": specs, "texts": texts,
		"pretokenizers": componentPreTokenizers, "normalizers": componentNormalizers})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(job, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.json")
	start := time.Now()
	cmd := exec.Command("node", filepath.Join("testdata", "parity.mjs"), lib, job, out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node parity.mjs: %v\n%s", err, msg)
	}
	t.Logf("tokenizers.js ran in %v", time.Since(start).Round(time.Millisecond))
	var res struct {
		Tokenizers []jsResult          `json:"tokenizers"`
		Components [][]json.RawMessage `json:"components"`
	}
	b, err = os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	results := res.Tokenizers
	if len(results) != len(fs) || len(res.Components) != len(componentPreTokenizers)+len(componentNormalizers) {
		t.Fatal("malformed node output")
	}

	total, bad := 0, 0
	report := func(name, what string, in any, have any, want json.RawMessage) {
		total++
		wantV := reflect.New(reflect.TypeOf(have)).Interface()
		if err := json.Unmarshal(want, wantV); err != nil || !reflect.DeepEqual(have, reflect.ValueOf(wantV).Elem().Interface()) {
			bad++
			if bad <= 30 {
				t.Errorf("%s: %s %q:\n have %v\n want %s", name, what, fmt.Sprint(in), show(have), want)
			}
		}
	}
	for i, r := range results {
		tok, f := toks[i], fs[i]
		if r.Name != f.name || len(r.Encode) != len(texts) || len(r.Decode) != len(specs[i].Decode) {
			t.Fatalf("%s: malformed node output", f.name)
		}
		for j, text := range texts {
			report(f.name, "encode", text, nonNil(tok.Encode(text, false)), r.Encode[j].Plain)
			report(f.name, "encode+special", text, nonNil(tok.Encode(text, true)), r.Encode[j].Special)
		}
		for j, ids := range specs[i].Decode {
			report(f.name, "decode", ids, tok.Decode(ids, false), r.Decode[j].Keep)
			report(f.name, "decode skip-special", ids, tok.Decode(ids, true), r.Decode[j].Skip)
		}
	}
	t.Logf("tokenizers: compared %d results (%d tokenizers × %d texts × 2 encodes, plus decodes): %d differ", total, len(fs), len(texts), bad)

	// The components alone.
	total, bad = 0, 0
	for i, cfg := range componentPreTokenizers {
		name := fmt.Sprintf("pre_tokenizer %v", cfg)
		p, err := newPreTokenizer(jsonRaw(t, cfg), "pre_tokenizer")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for j, text := range texts {
			report(name, "pre-tokenize", text, nonNilStrings(p.preTokenize(nil, text, 0)), res.Components[i][j])
		}
	}
	for i, cfg := range componentNormalizers {
		name := fmt.Sprintf("normalizer %v", cfg)
		n, err := newNormalizer(jsonRaw(t, cfg), "normalizer")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for j, text := range texts {
			report(name, "normalize", text, n.normalize(text), res.Components[len(componentPreTokenizers)+i][j])
		}
	}
	t.Logf("components: compared %d results (%d pre-tokenizers and %d normalizers × %d texts): %d differ",
		total, len(componentPreTokenizers), len(componentNormalizers), len(texts), bad)
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNil(ids []int) []int {
	if ids == nil {
		return []int{}
	}
	return ids
}

func show(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

// decodeCases are the Go encodings of the texts (tokenizers.js rejects an
// empty list, so those are left out) and random id sequences, with ids past
// the vocab when out is set.
func decodeCases(tok *Tokenizer, texts []string, out bool, seed uint64) [][]int {
	var cases [][]int
	for _, text := range texts {
		if ids := tok.Encode(text, true); len(ids) > 0 {
			cases = append(cases, ids)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 3))
	n := tok.VocabSize()
	for range 300 {
		ids := make([]int, rng.IntN(24)+1)
		for k := range ids {
			switch {
			case out && rng.IntN(40) == 0:
				ids[k] = n + rng.IntN(10)
			case rng.IntN(3) == 0:
				ids[k] = rng.IntN(min(n, 300)) // byte tokens and specials: the tricky ones
			default:
				ids[k] = rng.IntN(n)
			}
		}
		cases = append(cases, ids)
	}
	return cases
}

// componentPreTokenizers are compared with tokenizers.js one by one.
var componentPreTokenizers = []map[string]any{
	obj("type", "ByteLevel", "add_prefix_space", false, "use_regex", true),
	obj("type", "ByteLevel", "add_prefix_space", true, "use_regex", true),
	obj("type", "Split", "pattern", obj("Regex", PatternGPT2), "behavior", "Isolated", "invert", false),
	obj("type", "Split", "pattern", obj("Regex", PatternLlama3), "behavior", "Isolated", "invert", false),
	obj("type", "Split", "pattern", obj("Regex", PatternQwen2), "behavior", "Isolated", "invert", false),
	obj("type", "Split", "pattern", obj("Regex", PatternLlama3), "behavior", "Removed", "invert", false),
	obj("type", "Split", "pattern", obj("Regex", PatternGPT2), "behavior", "Isolated", "invert", true),
	obj("type", "Split", "pattern", obj("Regex", `(?i:[a-z]+|'s)|\p{N}{1,2}| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`), "behavior", "Isolated", "invert", false),
	obj("type", "Split", "pattern", obj("Regex", `\w+|\W`), "behavior", "Isolated", "invert", false),
	obj("type", "Split", "pattern", obj("Regex", `[\p{L}\p{M}]+|\s`), "behavior", "Removed", "invert", false),
	obj("type", "Split", "pattern", obj("Regex", `.{1,3}`), "behavior", "Isolated", "invert", true),
	obj("type", "Split", "pattern", obj("Regex", `\d{2,}|(\s)`), "behavior", "Removed"),
	obj("type", "Split", "pattern", obj("Regex", `x*`), "behavior", "Isolated", "invert", false),
	obj("type", "Split", "pattern", obj("Regex", `e*`), "behavior", "Removed", "invert", false),
	obj("type", "Split", "pattern", obj("Regex", `[^\s\p{L}\p{N}]+$`), "behavior", "Isolated", "invert", false),
	obj("type", "Split", "pattern", obj("String", " "), "behavior", "Removed", "invert", false),
	obj("type", "Split", "pattern", obj("String", " "), "behavior", "Removed"),
	obj("type", "Split", "pattern", obj("String", "e"), "behavior", "MergedWithPrevious", "invert", false),
	obj("type", "Metaspace", "replacement", "▁", "prepend_scheme", "always", "split", true),
	obj("type", "Metaspace", "replacement", "_", "prepend_scheme", "never"),
	obj("type", "Metaspace", "prepend_scheme", "first"),
	obj("type", "Digits", "individual_digits", true),
	obj("type", "Digits", "individual_digits", false),
	obj("type", "Whitespace"),
	obj("type", "WhitespaceSplit"),
	obj("type", "Punctuation", "behavior", "Isolated"),
	obj("type", "BertPreTokenizer"),
	obj("type", "Replace", "pattern", obj("String", " "), "content", "$&_$$"),
	obj("type", "Sequence", "pretokenizers", []any{
		obj("type", "Split", "pattern", obj("Regex", PatternLlama3), "behavior", "Isolated", "invert", false),
		obj("type", "ByteLevel", "add_prefix_space", false, "use_regex", false),
	}),
}

// componentNormalizers are compared with tokenizers.js one by one.
var componentNormalizers = []map[string]any{
	obj("type", "NFC"), obj("type", "NFD"), obj("type", "NFKC"), obj("type", "NFKD"),
	obj("type", "Precompiled", "precompiled_charsmap", ""),
	obj("type", "StripAccents"),
	obj("type", "Strip", "strip_left", true, "strip_right", true),
	obj("type", "Strip", "strip_left", false, "strip_right", true),
	obj("type", "Replace", "pattern", obj("Regex", `\s+`), "content", "<$&|$1|$'>"),
	obj("type", "Replace", "pattern", obj("Regex", `(\p{L})(\p{N})?`), "content", "$2$1"),
	obj("type", "Replace", "pattern", obj("String", ""), "content", "|"),
	obj("type", "Prepend", "prepend", "▁"),
	obj("type", "Sequence", "normalizers", []any{obj("type", "Prepend", "prepend", "▁"), obj("type", "Replace", "pattern", obj("String", " "), "content", "▁")}),
}
