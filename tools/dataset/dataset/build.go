package dataset

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"ctlens/model"
	"ctlens/model/tokenizer"
	"ctlens/tools/phantom/synth"
	"ctlens/volume"
)

// DefaultNorm is the input normalisation of the data set: a window from
// −1050 to 450 HU keeps air (0.03) apart from lung (0.13) for a
// pneumothorax, soft tissue near 0.73 with 40–60 HU lesion contrast still
// 0.03, and bone and stones at the top.
const DefaultNorm = "window:-300:1500"

// DefaultVocab is the tokenizer size trained towards.
const DefaultVocab = 1536

// CaptionPrompt is the instruction of every stage-0 caption.
const CaptionPrompt = "Describe this CT slice."

// Options say what to build.
type Options struct {
	Out  string
	N    int    // cases, numbered 1..N
	Seed uint64 // run seed: the same seed gives byte-identical files
	// D, H, W is the model input grid.
	D, H, W int
	// Phantom is synth's grid; zero: twice the model grid on every axis,
	// so that volume.ModelInput's trilinear resize averages exactly 2×2×2
	// voxels and a small finding cannot fall between samples.
	Phantom synth.Size
	Norm    string // volume.ParseNorm's form; "" is DefaultNorm
	Vocab   int    // tokenizer vocabulary; 0 is DefaultVocab
	Workers int    // cases rendered at once; 0 or 1: one
	// Progress, when set, is called after each case is rendered.
	Progress func(done, total int)
}

// Stats is what Build measured.
type Stats struct {
	Cases        int
	Elapsed      time.Duration
	CasesPerSec  float64
	Samples      map[string]int // per task, all splits
	QTypes       map[string]int // per task/qtype, all splits
	Vocab        int
	MeanTokens   map[string]float64 // answer tokens per task (train split)
	MeanPrompt   map[string]float64 // prompt tokens per task, the image slot counted as one
	VolumesBytes int64
}

// caseOut is one rendered case.
type caseOut struct {
	id       int
	split    string
	vol      []float32
	samples  []Sample
	captions []Caption
}

// Build renders the cases, writes the volumes, trains the tokenizer on the
// training split's text and writes samples, captions and meta.json.
func Build(ctx context.Context, o Options) (*Stats, error) {
	if o.N < 1 {
		return nil, fmt.Errorf("dataset: -n %d: need at least one case", o.N)
	}
	if o.D < 1 || o.H < 16 || o.W < 16 || o.H != o.W {
		return nil, fmt.Errorf("dataset: grid %dx%dx%d: want D ≥ 1 and square slices of at least 16×16 (DxHxW, e.g. 16x64x64)", o.D, o.H, o.W)
	}
	if o.Phantom == (synth.Size{}) {
		o.Phantom = synth.Size{Cols: 2 * o.W, Rows: 2 * o.H, Slices: max(2*o.D, 4)}
	}
	if o.Norm == "" {
		o.Norm = DefaultNorm
	}
	if o.Vocab == 0 {
		o.Vocab = DefaultVocab
	}
	norm, err := volume.ParseNorm(o.Norm)
	if err != nil {
		return nil, err
	}
	if ents, err := os.ReadDir(o.Out); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("dataset: %s is not empty; choose a new folder or delete this one", o.Out)
	}
	ranges, excluded := Ranges(o.D, o.H, o.W)
	var kinds []string
	for _, k := range ranges {
		kinds = append(kinds, k.Kind)
	}

	// Splits first, so each volumes.npy header knows its row count.
	count := map[string]int{}
	for id := 1; id <= o.N; id++ {
		count[splitOf(o.Seed, id)]++
	}
	vols := map[string]*bufio.Writer{}
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for _, sp := range Splits {
		if err := os.MkdirAll(filepath.Join(o.Out, sp), 0o755); err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		f, err := os.Create(filepath.Join(o.Out, sp, "volumes.npy"))
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		files = append(files, f)
		w := bufio.NewWriterSize(f, 1<<20)
		w.Write(npyHeader([]int{count[sp], o.D, o.H, o.W}))
		vols[sp] = w
	}

	t0 := time.Now()
	rows := map[string]int{}
	var all []caseOut // without volumes, in case order
	buf := make([]byte, 0, 2*o.D*o.H*o.W)
	err = ordered(ctx, o.N, max(o.Workers, 1), func(i int) (caseOut, error) {
		return buildCase(ctx, o, i+1, ranges, kinds, norm)
	}, func(i int, c caseOut) error {
		row := rows[c.split]
		rows[c.split]++
		for k := range c.samples {
			c.samples[k].Case = row
		}
		for k := range c.captions {
			c.captions[k].Case = row
		}
		buf = appendF16(buf[:0], c.vol)
		if _, err := vols[c.split].Write(buf); err != nil {
			return fmt.Errorf("dataset: %s volumes: %w", c.split, err)
		}
		c.vol = nil
		all = append(all, c)
		if o.Progress != nil {
			o.Progress(i+1, o.N)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	elapsed := time.Since(t0)
	for _, sp := range Splits {
		if err := vols[sp].Flush(); err != nil {
			return nil, fmt.Errorf("dataset: %s volumes: %w", sp, err)
		}
	}

	// The tokenizer learns from the training split only.
	pc := model.DefaultPrompt()
	var corpus []string
	for _, c := range all {
		if c.split != "train" {
			continue
		}
		for _, s := range c.samples {
			corpus = append(corpus, chatText(pc, s.Question)+s.Answer+"<|end|>")
		}
		for _, cp := range c.captions {
			corpus = append(corpus, chatText(pc, CaptionPrompt)+cp.Caption+"<|end|>")
		}
	}
	if len(corpus) == 0 {
		return nil, fmt.Errorf("dataset: no case fell into the training split; use a larger -n")
	}
	tok, tokJSON, err := TrainTokenizer(corpus, o.Vocab)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(o.Out, "tokenizer.json"), tokJSON, 0o644); err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	endID, _ := tok.TokenID("<|end|>")
	bosID, _ := tok.TokenID(BOS)
	eosID, _ := tok.TokenID(EOS)
	capIDs, err := model.BuildPrompt(tok, pc, CaptionPrompt)
	if err != nil {
		return nil, err
	}

	meta := &Meta{
		Format: Format, Version: Version, Seed: o.Seed, Size: [3]int{o.D, o.H, o.W}, InputNorm: o.Norm,
		PhantomSize: o.Phantom.String(), Splits: map[string]int{}, SplitRule: SplitRule,
		Samples: map[string]map[string]int{}, QTypes: map[string]map[string]int{}, Captions: map[string]int{},
		Prompt: PromptMeta{Template: pc.Template, ImageToken: pc.ImageToken, StopTokens: pc.StopTokens,
			ReportPrompt: pc.ReportPrompt, CaptionPrompt: CaptionPrompt, CaptionPromptIDs: capIDs},
		Tok: TokenizerMeta{VocabSize: tok.VocabSize(), BOSID: bosID, EOSID: eosID, EndID: endID,
			ImageSlot: model.ImageSlot, Special: SpecialTokens()},
		Findings: ranges, Excluded: excluded,
	}
	st := &Stats{Cases: o.N, Elapsed: elapsed, CasesPerSec: float64(o.N) / elapsed.Seconds(),
		Samples: map[string]int{}, QTypes: map[string]int{}, Vocab: tok.VocabSize(),
		MeanTokens: map[string]float64{}, MeanPrompt: map[string]float64{}}
	tokN, promptN, nTrain := map[string]int{}, map[string]int{}, map[string]int{}
	for _, sp := range Splits {
		meta.Splits[sp] = count[sp]
		meta.Samples[sp], meta.QTypes[sp] = map[string]int{}, map[string]int{}
		var sb, cb bytes.Buffer
		for _, c := range all {
			if c.split != sp {
				continue
			}
			for _, s := range c.samples {
				ids, err := model.BuildPrompt(tok, pc, s.Question)
				if err != nil {
					return nil, err
				}
				s.PromptIDs = ids
				s.AnswerIDs = append(tok.Encode(s.Answer, false), endID)
				if err := writeLine(&sb, s); err != nil {
					return nil, err
				}
				meta.Samples[sp][s.Task]++
				meta.QTypes[sp][s.Task+"/"+s.QType]++
				st.Samples[s.Task]++
				st.QTypes[s.Task+"/"+s.QType]++
				if sp == "train" {
					tokN[s.Task] += len(s.AnswerIDs)
					promptN[s.Task] += len(s.PromptIDs)
					nTrain[s.Task]++
				}
			}
			for _, cp := range c.captions {
				cp.CaptionIDs = append(tok.Encode(cp.Caption, false), endID)
				if err := writeLine(&cb, cp); err != nil {
					return nil, err
				}
				meta.Captions[sp]++
			}
		}
		if err := os.WriteFile(filepath.Join(o.Out, sp, "samples.jsonl"), sb.Bytes(), 0o644); err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		if err := os.WriteFile(filepath.Join(o.Out, sp, "captions.jsonl"), cb.Bytes(), 0o644); err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
	}
	for task, n := range nTrain {
		st.MeanTokens[task] = float64(tokN[task]) / float64(n)
		st.MeanPrompt[task] = float64(promptN[task]) / float64(n)
	}
	for _, f := range files {
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		if fi, err := os.Stat(f.Name()); err == nil {
			st.VolumesBytes += fi.Size()
		}
	}
	files = nil
	mj, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(o.Out, "meta.json"), append(mj, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	return st, nil
}

// chatText is the prompt as text, the image token left out (BuildPrompt
// cuts the prompt there, so its text is never tokenized).
func chatText(pc model.PromptConfig, text string) string {
	return strings.Replace(strings.Replace(pc.Template, "{prompt}", text, 1), pc.ImageToken, "", 1)
}

func writeLine(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// buildCase plans, renders and imports one case and writes its text.
func buildCase(ctx context.Context, o Options, id int, ranges []KindRange, kinds []string, norm volume.Norm) (caseOut, error) {
	c, err := NewCase(o.Seed, id, o.Phantom, ranges)
	if err != nil {
		return caseOut{}, err
	}
	vol, err := Render(ctx, c, o.D, o.H, o.W, norm)
	if err != nil {
		return caseOut{}, err
	}
	t := c.Truth()
	out := caseOut{id: id, split: splitOf(o.Seed, id), vol: vol}
	fs := truthFindings(t.Findings)
	report := Sample{Task: TaskReport, QType: QReport, Question: model.DefaultPrompt().ReportPrompt,
		Answer: strings.TrimSpace(t.Report.Text)}
	out.samples = append([]Sample{report}, Questions(o.Seed, t, kinds)...)
	for k := range out.samples {
		out.samples[k].CaseID, out.samples[k].Findings = id, fs
	}
	for z, cap := range SliceCaptions(t, o.Phantom.Slices, o.D) {
		out.captions = append(out.captions, Caption{CaseID: id, Slice: z, Caption: cap.Text, Findings: cap.Findings})
	}
	return out, nil
}

// ordered runs produce(i) for i in [0, n) on workers goroutines and hands
// the results to consume in index order.
func ordered[T any](ctx context.Context, n, workers int, produce func(int) (T, error), consume func(int, T) error) error {
	type res struct {
		v   T
		err error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	slots := make([]chan res, n)
	for i := range slots {
		slots[i] = make(chan res, 1)
	}
	window := make(chan struct{}, 2*workers) // bounds results held
	jobs := make(chan int)
	go func() {
		defer close(jobs)
		for i := range n {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := ctx.Err(); err != nil {
					slots[i] <- res{err: err}
					continue
				}
				v, err := produce(i)
				slots[i] <- res{v, err}
			}
		}()
	}
	// On an early return, cancel first so that the feeder stops and the
	// workers drain, then wait for them.
	defer func() { cancel(); wg.Wait() }()
	for i := range n {
		select {
		case r := <-slots[i]:
			if r.err != nil {
				return r.err
			}
			if err := consume(i, r.v); err != nil {
				return err
			}
			<-window
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Special tokens of the data set's tokenizer, as tools/internal/tinymodel
// has them: the Phi-3 chat markers and a BOS the post-processor adds.
const (
	BOS = "<s>"
	EOS = "<|endoftext|>"
)

// SpecialTokens lists the special tokens in id order.
func SpecialTokens() []string { return append(tokenizer.DefaultSpecialTokens(), BOS) }

// TrainTokenizer trains the byte-level BPE on corpus and returns it as
// loaded back from its tokenizer.json, with the JSON.
func TrainTokenizer(corpus []string, vocab int) (*tokenizer.Tokenizer, []byte, error) {
	tok, err := tokenizer.Train(slices.Values(corpus), vocab, tokenizer.TrainOptions{SpecialTokens: SpecialTokens(), BOS: BOS})
	if err != nil {
		return nil, nil, fmt.Errorf("dataset: %w", err)
	}
	var b bytes.Buffer
	if err := tok.WriteJSON(&b); err != nil {
		return nil, nil, fmt.Errorf("dataset: %w", err)
	}
	tok, err = tokenizer.Load(bytes.NewReader(b.Bytes()))
	if err != nil {
		return nil, nil, errors.Join(errors.New("dataset: trained tokenizer does not load"), err)
	}
	return tok, b.Bytes(), nil
}
