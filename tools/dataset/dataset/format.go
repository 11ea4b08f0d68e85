// Package dataset builds and reads the training data of the demo model:
// synthetic CT cases from tools/phantom/synth, imported through volume as
// the app imports a study, each with its report, closed and open questions
// and per-slice captions, split into train, validation and test, with a
// byte-level BPE tokenizer trained on the training text. FORMAT.md beside
// the command describes the files; tools/train reads them and tools/eval
// scores a model on them.
package dataset

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/x448/float16"
)

// Format and Version stamp meta.json; readers refuse other values. Bump the
// version when a field changes meaning.
const (
	Format  = "ctlens-dataset"
	Version = 1
)

// Split names, in the order they are written.
var Splits = []string{"train", "val", "test"}

// Task names of samples; they are model.TaskNames, the TGH-MoE groups.
const (
	TaskReport    = "report"
	TaskClosedVQA = "closed_vqa"
	TaskOpenVQA   = "open_vqa"
)

// Meta is meta.json: what was built and how, everything a trainer needs
// besides the per-sample files.
type Meta struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	Seed    uint64 `json:"seed"`
	// Size is the model input grid [D, H, W] (slices, rows, columns).
	Size [3]int `json:"size"`
	// InputNorm is volume.ParseNorm's form of the HU → [0,1] mapping; a
	// model trained on this data must carry it in its config.
	InputNorm string `json:"input_norm"`
	// PhantomSize is the synth grid the cases were rendered at
	// (COLSxROWSxSLICES, synth.ParseSize's form).
	PhantomSize string `json:"phantom_size"`
	// Splits counts cases per split; SplitRule says how a case is assigned.
	Splits    map[string]int `json:"splits"`
	SplitRule string         `json:"split_rule"`
	// Samples counts samples per split and task; QTypes per split and
	// question type.
	Samples map[string]map[string]int `json:"samples"`
	QTypes  map[string]map[string]int `json:"qtypes"`
	// Captions counts captions.jsonl lines per split.
	Captions map[string]int `json:"captions"`
	Prompt   PromptMeta     `json:"prompt"`
	Tok      TokenizerMeta  `json:"tokenizer"`
	// Findings lists the finding kinds drawn and the size range (mm) of
	// each, chosen so that the finding shows on the Size grid.
	Findings []KindRange `json:"findings"`
	// Excluded lists kinds left out because they would not show on the
	// grid, with the reason.
	Excluded map[string]string `json:"excluded"`
}

// PromptMeta holds the exact prompt strings training must use: the chat
// template of model.DefaultPrompt and the instructions.
type PromptMeta struct {
	Template      string   `json:"template"`       // model.PromptConfig.Template, with {prompt}
	ImageToken    string   `json:"image_token"`    // where the visual tokens go
	StopTokens    []string `json:"stop_tokens"`    // generation ends at any of these
	ReportPrompt  string   `json:"report_prompt"`  // the question of every report sample
	CaptionPrompt string   `json:"caption_prompt"` // the question of every caption (stage 0)
	// CaptionPromptIDs is CaptionPrompt through model.BuildPrompt.
	CaptionPromptIDs []int `json:"caption_prompt_ids"`
}

// TokenizerMeta describes tokenizer.json in ids.
type TokenizerMeta struct {
	VocabSize int `json:"vocab_size"`
	BOSID     int `json:"bos_id"`     // "<s>", added at the start of every prompt
	EOSID     int `json:"eos_id"`     // "<|endoftext|>"
	EndID     int `json:"end_id"`     // "<|end|>", the last id of every answer_ids
	ImageSlot int `json:"image_slot"` // the value standing for the visual tokens in prompt_ids (model.ImageSlot)
	// Special lists the special tokens in id order (ids 0, 1, …).
	Special []string `json:"special"`
}

// KindRange is a finding kind and the sizes drawn for it (mm; both zero
// for cardiomegaly, whose size is the heart's).
type KindRange struct {
	Kind  string  `json:"kind"`
	MinMM float64 `json:"min_mm"`
	MaxMM float64 `json:"max_mm"`
}

// Finding is one true finding of a case, as questions and scores need it.
type Finding struct {
	Kind     string  `json:"kind"`               // synth.Kind: lung_nodule, pleural_effusion, …
	Side     string  `json:"side,omitempty"`     // patient side; for a liver lesion, the hepatic lobe
	Lobe     string  `json:"lobe,omitempty"`     // lung lobe: upper, middle, lower
	Segment  string  `json:"segment,omitempty"`  // liver segment (Couinaud)
	Aspect   string  `json:"aspect,omitempty"`   // kidney pole
	Location string  `json:"location"`           // synth's location phrase
	SizeMM   float64 `json:"size_mm"`            // synth's size_mm (see its size_measure)
	Severity string  `json:"severity,omitempty"` // effusion, pneumothorax, cardiomegaly
}

// Sample is one line of samples.jsonl: one prompt and its target.
type Sample struct {
	Case     int    `json:"case"`    // row in this split's volumes.npy
	CaseID   int    `json:"case_id"` // synth case number
	Task     string `json:"task"`    // TaskReport, TaskClosedVQA or TaskOpenVQA
	QType    string `json:"qtype"`   // question type (see FORMAT.md); "report" for reports
	Question string `json:"question"`
	Answer   string `json:"answer"`
	// Keyword is the key word of an open answer (exact-match scoring).
	Keyword string `json:"keyword,omitempty"`
	// Choices and Letter are a closed question's options and the right
	// letter ("A"…); Answer is then "X. text".
	Choices  []string  `json:"choices,omitempty"`
	Letter   string    `json:"letter,omitempty"`
	Findings []Finding `json:"findings"` // every true finding of the case
	// PromptIDs is model.BuildPrompt of Question with the dataset's
	// tokenizer: BOS, chat markers, ImageSlot (−1) where the visual tokens
	// go. AnswerIDs is the answer's ids followed by EndID.
	PromptIDs []int `json:"prompt_ids"`
	AnswerIDs []int `json:"answer_ids"`
}

// Caption is one line of captions.jsonl: what one model-input slice shows.
type Caption struct {
	Case       int    `json:"case"` // row in volumes.npy
	CaseID     int    `json:"case_id"`
	Slice      int    `json:"slice"` // z in 0..D−1 of the model input
	Caption    string `json:"caption"`
	CaptionIDs []int  `json:"caption_ids"` // ids followed by EndID
	// Findings are the case's findings this slice shows (those Caption
	// names after "Abnormal:"); empty on a normal slice.
	Findings []Finding `json:"findings"`
}

// ---- volumes.npy: float16 (N, D, H, W) --------------------------------------

// npyHeader returns an .npy v1.0 header for little-endian float16 of shape,
// padded so that the data starts on a multiple of 64 bytes as numpy does.
func npyHeader(shape []int) []byte {
	dims := make([]string, len(shape))
	for i, s := range shape {
		dims[i] = strconv.Itoa(s)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	dict := fmt.Sprintf("{'descr': '<f2', 'fortran_order': False, 'shape': (%s), }", tuple)
	pre := 10 // magic (6), version (2), header length (2)
	pad := 64 - (pre+len(dict)+1)%64
	if pad == 64 {
		pad = 0
	}
	hdr := dict + strings.Repeat(" ", pad) + "\n"
	b := make([]byte, 0, pre+len(hdr))
	b = append(b, "\x93NUMPY\x01\x00"...)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(hdr)))
	return append(b, hdr...)
}

// appendF16 appends v as little-endian float16, rounding to nearest even.
func appendF16(b []byte, v []float32) []byte {
	for _, x := range v {
		b = binary.LittleEndian.AppendUint16(b, float16.Fromfloat32(x).Bits())
	}
	return b
}

// Volumes reads rows of a volumes.npy without loading the whole file.
type Volumes struct {
	f     *os.File
	path  string
	N     int    // rows (cases)
	Shape [3]int // D, H, W
	off   int64  // data start
}

var shapeRE = regexp.MustCompile(`'shape':\s*\(([0-9, ]*)\)`)

// OpenVolumes opens a float16 (N, D, H, W) .npy file as BuildDir writes it.
func OpenVolumes(path string) (*Volumes, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	v, err := readVolumesHeader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	return v, nil
}

func readVolumesHeader(f *os.File, path string) (*Volumes, error) {
	pre := make([]byte, 10)
	if _, err := io.ReadFull(f, pre); err != nil || string(pre[:6]) != "\x93NUMPY" {
		return nil, fmt.Errorf("dataset: %s: not an .npy file", path)
	}
	if pre[6] != 1 {
		return nil, fmt.Errorf("dataset: %s: .npy version %d.%d, want 1.0", path, pre[6], pre[7])
	}
	n := int(binary.LittleEndian.Uint16(pre[8:]))
	hdr := make([]byte, n)
	if _, err := io.ReadFull(f, hdr); err != nil {
		return nil, fmt.Errorf("dataset: %s: truncated .npy header", path)
	}
	h := string(hdr)
	if !strings.Contains(h, "'descr': '<f2'") || !strings.Contains(h, "'fortran_order': False") {
		return nil, fmt.Errorf("dataset: %s: header %q: want little-endian float16 in C order", path, strings.TrimSpace(h))
	}
	m := shapeRE.FindStringSubmatch(h)
	if m == nil {
		return nil, fmt.Errorf("dataset: %s: header %q has no shape", path, strings.TrimSpace(h))
	}
	var dims []int
	for _, s := range strings.Split(m[1], ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		d, err := strconv.Atoi(s)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("dataset: %s: bad shape %q", path, m[1])
		}
		dims = append(dims, d)
	}
	if len(dims) != 4 || dims[1] == 0 || dims[2] == 0 || dims[3] == 0 {
		return nil, fmt.Errorf("dataset: %s: shape (%s): want (N, D, H, W)", path, m[1])
	}
	v := &Volumes{f: f, path: path, N: dims[0], Shape: [3]int{dims[1], dims[2], dims[3]}, off: int64(10 + n)}
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	if want := v.off + int64(v.N)*int64(v.rowLen())*2; st.Size() != want {
		return nil, fmt.Errorf("dataset: %s: %d bytes, the header's shape needs %d", path, st.Size(), want)
	}
	return v, nil
}

func (v *Volumes) rowLen() int { return v.Shape[0] * v.Shape[1] * v.Shape[2] }

// Row returns case i's volume (D·H·W values, w fastest) as float32.
func (v *Volumes) Row(i int) ([]float32, error) {
	if i < 0 || i >= v.N {
		return nil, fmt.Errorf("dataset: %s: row %d of %d", v.path, i, v.N)
	}
	n := v.rowLen()
	b := make([]byte, 2*n)
	if _, err := v.f.ReadAt(b, v.off+int64(i)*int64(2*n)); err != nil {
		return nil, fmt.Errorf("dataset: %s: row %d: %w", v.path, i, err)
	}
	out := make([]float32, n)
	for j := range out {
		out[j] = float16.Frombits(binary.LittleEndian.Uint16(b[2*j:])).Float32()
	}
	return out, nil
}

// Close closes the file.
func (v *Volumes) Close() error { return v.f.Close() }

// ---- readers -----------------------------------------------------------------

// ReadMeta reads DIR/meta.json and checks its stamp.
func ReadMeta(dir string) (*Meta, error) {
	p := filepath.Join(dir, "meta.json")
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w\nhint: build one with `go run ./tools/dataset -out DIR -n N -seed S`", err)
	}
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("dataset: %s: %w", p, err)
	}
	if m.Format != Format || m.Version != Version {
		return nil, fmt.Errorf("dataset: %s: format %q version %d, want %q version %d", p, m.Format, m.Version, Format, Version)
	}
	return &m, nil
}

// ReadSamples reads DIR/<split>/samples.jsonl.
func ReadSamples(dir, split string) ([]Sample, error) {
	return readJSONL[Sample](filepath.Join(dir, split, "samples.jsonl"))
}

// ReadCaptions reads DIR/<split>/captions.jsonl.
func ReadCaptions(dir, split string) ([]Caption, error) {
	return readJSONL[Caption](filepath.Join(dir, split, "captions.jsonl"))
}

func readJSONL[T any](p string) ([]T, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	var out []T
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, fmt.Errorf("dataset: %s:%d: %w", p, line, err)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}
