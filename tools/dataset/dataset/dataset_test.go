package dataset

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/x448/float16"

	"ctlens/model"
	"ctlens/model/tokenizer"
	"ctlens/tools/phantom/synth"
	"ctlens/volume"
	"ctlens/volume/dicomread"
)

// small is a grid that renders fast; its phantom is 48x48x12.
func small(out string, n, workers int) Options {
	return Options{Out: out, N: n, Seed: 3, D: 6, H: 24, W: 24, Workers: workers}
}

func build(t *testing.T, o Options) *Stats {
	t.Helper()
	st, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// readTree returns every file under dir by its relative path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBuildDeterministic: the same seed gives byte-identical files, with
// one worker or three.
func TestBuildDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	build(t, small(a, 12, 1))
	build(t, small(b, 12, 3))
	ta, tb := readTree(t, a), readTree(t, b)
	want := []string{"meta.json", "tokenizer.json"}
	for _, sp := range Splits {
		for _, f := range []string{"volumes.npy", "samples.jsonl", "captions.jsonl"} {
			want = append(want, filepath.Join(sp, f))
		}
	}
	for _, f := range want {
		if _, ok := ta[f]; !ok {
			t.Errorf("%s not written", f)
		}
	}
	if len(ta) != len(tb) {
		t.Fatalf("%d files vs %d", len(ta), len(tb))
	}
	for f, x := range ta {
		if !bytes.Equal(x, tb[f]) {
			t.Errorf("%s differs between runs", f)
		}
	}
	// A different seed gives different data.
	c := t.TempDir()
	o := small(c, 12, 1)
	o.Seed = 4
	build(t, o)
	if bytes.Equal(readTree(t, c)["train/volumes.npy"], ta["train/volumes.npy"]) {
		t.Error("seeds 3 and 4 gave the same training volumes")
	}
}

// TestSplits: every case is in exactly one split, rows follow case order,
// and a case keeps its split when more cases are built.
func TestSplits(t *testing.T) {
	dir := t.TempDir()
	const n = 14
	build(t, small(dir, n, 2))
	m, err := ReadMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	where := map[int]string{}
	total := 0
	for _, sp := range Splits {
		ss, err := ReadSamples(dir, sp)
		if err != nil {
			t.Fatal(err)
		}
		v, err := OpenVolumes(filepath.Join(dir, sp, "volumes.npy"))
		if err != nil {
			t.Fatal(err)
		}
		if v.N != m.Splits[sp] || v.Shape != [3]int{6, 24, 24} {
			t.Errorf("%s: volumes %d×%v, meta says %d cases of %v", sp, v.N, v.Shape, m.Splits[sp], m.Size)
		}
		v.Close()
		rowCase := map[int]int{}
		for _, s := range ss {
			if w, ok := where[s.CaseID]; ok && w != sp {
				t.Fatalf("case %d in %s and %s", s.CaseID, w, sp)
			}
			where[s.CaseID] = sp
			if c, ok := rowCase[s.Case]; ok && c != s.CaseID {
				t.Fatalf("%s row %d holds cases %d and %d", sp, s.Case, c, s.CaseID)
			}
			rowCase[s.Case] = s.CaseID
		}
		for r := 1; r < len(rowCase); r++ {
			if rowCase[r] <= rowCase[r-1] {
				t.Errorf("%s: row %d is case %d after case %d", sp, r, rowCase[r], rowCase[r-1])
			}
		}
		if len(rowCase) != m.Splits[sp] {
			t.Errorf("%s: %d cases in samples, meta says %d", sp, len(rowCase), m.Splits[sp])
		}
		total += m.Splits[sp]
	}
	if total != n || len(where) != n {
		t.Errorf("%d cases over the splits, %d seen, want %d", total, len(where), n)
	}
	for id := 1; id <= n; id++ {
		if where[id] != splitOf(3, id) {
			t.Errorf("case %d in %q, splitOf says %q", id, where[id], splitOf(3, id))
		}
	}
	// Over many cases the split is near 80/10/10 and no case moves
	// when N grows (splitOf looks at nothing else).
	cnt := map[string]int{}
	for id := 1; id <= 5000; id++ {
		cnt[splitOf(1, id)]++
	}
	if cnt["train"] < 3850 || cnt["train"] > 4150 || cnt["test"] < 420 || cnt["test"] > 580 {
		t.Errorf("split counts of 5000: %v", cnt)
	}
}

// TestVolumeMatchesImport: a row of volumes.npy equals volume.ModelInput
// of the same case written to disk by synth.Generate and imported from
// the folder, as `ctlens report` would.
func TestVolumeMatchesImport(t *testing.T) {
	dir := t.TempDir()
	o := small(dir, 6, 1)
	build(t, o)
	ss, err := ReadSamples(dir, "train")
	if err != nil {
		t.Fatal(err)
	}
	s := ss[len(ss)-1] // the last training case
	v, err := OpenVolumes(filepath.Join(dir, "train", "volumes.npy"))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	have, err := v.Row(s.Case)
	if err != nil {
		t.Fatal(err)
	}

	ranges, _ := Ranges(o.D, o.H, o.W)
	phantom := synth.Size{Cols: 48, Rows: 48, Slices: 12}
	var specs []synth.FindingSpec
	for attempt := 0; ; attempt++ {
		specs = drawFindings(o.Seed, s.CaseID, attempt, ranges)
		if _, err := synth.NewCase(synth.Options{Seed: o.Seed, Size: phantom, Findings: specs}, s.CaseID); err == nil {
			break
		}
	}
	disk := t.TempDir()
	if err := synth.Generate(context.Background(), disk, s.CaseID, 1, synth.Options{Seed: o.Seed, Size: phantom, Findings: specs}, nil); err != nil {
		t.Fatal(err)
	}
	fsys, closer, err := dicomread.Open(filepath.Join(disk, fmt.Sprintf("case%04d", s.CaseID)))
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	res, err := dicomread.Import(context.Background(), fsys, nil)
	if err != nil || len(res.Volumes) != 1 || res.Volumes[0] == nil {
		t.Fatalf("import: %v, %d volumes", err, len(res.Volumes))
	}
	norm, _ := volume.ParseNorm(DefaultNorm)
	want, err := volume.ModelInput(res.Volumes[0], 0, o.D, o.H, o.W, norm)
	if err != nil {
		t.Fatal(err)
	}
	if len(have) != len(want) {
		t.Fatalf("%d values, want %d", len(have), len(want))
	}
	var lo, hi float32 = 1, 0
	for i := range want {
		w := float16.Fromfloat32(want[i]).Float32()
		if have[i] != w {
			t.Fatalf("value %d: %v, want %v (from %v)", i, have[i], w, want[i])
		}
		lo, hi = min(lo, have[i]), max(hi, have[i])
	}
	if lo > 0.1 || hi < 0.9 {
		t.Errorf("values span only [%v, %v]: the window lost air or bone", lo, hi)
	}
}

// TestQuestions checks every question of 40 planned cases (no pixels):
// M3D-VQA form, choices and letters, and answers that agree with the
// ground truth.
func TestQuestions(t *testing.T) {
	ranges, excl := Ranges(16, 64, 64)
	if _, ok := excl["rib_fracture"]; !ok {
		t.Error("rib fractures (≤ 12 mm gaps) kept on a 6.25 mm grid")
	}
	var kinds []string
	for _, k := range ranges {
		kinds = append(kinds, k.Kind)
	}
	seen := map[string]int{}
	letters := map[string]int{}
	for id := 1; id <= 40; id++ {
		c, err := NewCase(5, id, synth.Size{Cols: 64, Rows: 64, Slices: 16}, ranges)
		if err != nil {
			t.Fatal(err)
		}
		tr := c.Truth()
		for _, f := range tr.Findings {
			r := ranges[slices.IndexFunc(ranges, func(k KindRange) bool { return k.Kind == string(f.Type) })]
			if r.MaxMM > 0 && (f.SizeMM < r.MinMM || f.SizeMM > r.MaxMM) && f.Type != synth.Consolidation {
				t.Errorf("case %d: %s of %.1f mm outside [%v, %v]", id, f.Type, f.SizeMM, r.MinMM, r.MaxMM)
			}
		}
		for _, q := range Questions(5, tr, kinds) {
			seen[q.Task+"/"+q.QType]++
			checkQuestion(t, id, tr, q)
			if q.Task == TaskClosedVQA && len(q.Choices) == 4 {
				letters[q.Letter]++
			}
		}
	}
	for _, k := range []string{"closed_vqa/finding", "closed_vqa/presence", "closed_vqa/side", "closed_vqa/organ",
		"closed_vqa/location", "closed_vqa/size", "open_vqa/finding", "open_vqa/presence", "open_vqa/side",
		"open_vqa/location", "open_vqa/size"} {
		if seen[k] == 0 {
			t.Errorf("no %s question in 40 cases", k)
		}
	}
	// The right letter is spread over the positions.
	for _, l := range []string{"A", "B", "C", "D"} {
		if letters[l] < 10 {
			t.Errorf("letter %s right only %d times: %v", l, letters[l], letters)
		}
	}
}

func checkQuestion(t *testing.T, id int, tr *synth.Truth, q Sample) {
	t.Helper()
	where := func() string { return strconv.Itoa(id) + " " + q.QType + ": " + q.Question + " → " + q.Answer }
	has := func(pred func(synth.Finding) bool) bool { return slices.ContainsFunc(tr.Findings, pred) }
	switch q.Task {
	case TaskClosedVQA:
		n := 4
		if q.QType == QPresent {
			n = 2
		}
		if len(q.Choices) != n {
			t.Fatalf("%s: %d choices, want %d", where(), len(q.Choices), n)
		}
		if q.Question != model.ClosedQuestion(strings.Split(q.Question, " Choices:")[0], q.Choices) {
			t.Errorf("%s: not in M3D-VQA form", where())
		}
		i := int(q.Letter[0] - 'A')
		if len(q.Letter) != 1 || i < 0 || i >= n || q.Answer != q.Letter+". "+q.Choices[i] {
			t.Fatalf("%s: letter %q does not name the answer", where(), q.Letter)
		}
		for j := range q.Choices {
			for k := j + 1; k < n; k++ {
				if q.Choices[j] == q.Choices[k] {
					t.Errorf("%s: choice %q twice", where(), q.Choices[j])
				}
			}
		}
		right := q.Choices[i]
		switch q.QType {
		case QFinding:
			if len(tr.Findings) == 0 && right != noAbnormality ||
				len(tr.Findings) > 0 && right != KindName(string(orderedFindings(tr.Findings)[0].Type)) {
				t.Errorf("%s: wrong main finding", where())
			}
			for _, c := range q.Choices {
				if c != right && has(func(f synth.Finding) bool { return KindName(string(f.Type)) == c }) {
					t.Errorf("%s: distractor %q is present", where(), c)
				}
			}
		case QPresent:
			k := strings.TrimSuffix(strings.TrimPrefix(strings.Split(q.Question, " in this CT")[0], "Is there "), "")
			present := has(func(f synth.Finding) bool { return strings.HasSuffix(k, KindName(string(f.Type))) })
			if present != (right == "yes") {
				t.Errorf("%s: present=%v", where(), present)
			}
		case QSide:
			if !has(func(f synth.Finding) bool {
				return f.Side == right && strings.Contains(q.Question, KindName(string(f.Type)))
			}) {
				t.Errorf("%s: no such finding on that side", where())
			}
		case QWhere:
			if !has(func(f synth.Finding) bool {
				return f.Side+" "+f.Lobe+" lobe" == right || f.Side+" lobe" == right || f.Aspect == right
			}) {
				t.Errorf("%s: no finding there", where())
			}
		}
	case TaskOpenVQA:
		if q.Keyword == "" || !strings.Contains(strings.ToLower(q.Answer), strings.ToLower(q.Keyword)) {
			t.Errorf("%s: keyword %q not in the answer", where(), q.Keyword)
		}
		if len(q.Choices) != 0 || q.Letter != "" || strings.Contains(q.Question, "Choices:") {
			t.Errorf("%s: open question with choices", where())
		}
	default:
		t.Errorf("%s: task %q", where(), q.Task)
	}
}

// TestTokenizerRoundTrip: tokenizer.json loads with model/tokenizer, every
// answer, caption and training text decodes back exactly, prompt_ids are
// model.BuildPrompt's, and the special ids are meta's.
func TestTokenizerRoundTrip(t *testing.T) {
	dir := t.TempDir()
	build(t, small(dir, 10, 2))
	m, err := ReadMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tok, err := tokenizer.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != m.Tok.VocabSize || m.Tok.VocabSize <= 256+len(SpecialTokens()) {
		t.Errorf("vocab %d, meta %d", tok.VocabSize(), m.Tok.VocabSize)
	}
	for i, s := range m.Tok.Special {
		if id, ok := tok.TokenID(s); !ok || id != i || !tok.IsSpecial(id) {
			t.Errorf("special %q: id %d %v", s, id, ok)
		}
	}
	if id, _ := tok.TokenID("<|end|>"); id != m.Tok.EndID {
		t.Errorf("end id %d, meta %d", id, m.Tok.EndID)
	}
	pc := model.DefaultPrompt()
	bytesN, tokensN := 0, 0
	for _, sp := range Splits {
		ss, err := ReadSamples(dir, sp)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range ss {
			ids, err := model.BuildPrompt(tok, pc, s.Question)
			if err != nil || !slices.Equal(ids, s.PromptIDs) {
				t.Fatalf("prompt ids of %q: %v, BuildPrompt gives %v (%v)", s.Question, s.PromptIDs, ids, err)
			}
			if ids[0] != m.Tok.BOSID || slices.Index(ids, m.Tok.ImageSlot) != 3 {
				t.Fatalf("prompt %v: want <s> first and the image slot fourth", ids[:6])
			}
			if last := s.AnswerIDs[len(s.AnswerIDs)-1]; last != m.Tok.EndID {
				t.Fatalf("answer ids end with %d, want %d", last, m.Tok.EndID)
			}
			if have := tok.Decode(s.AnswerIDs[:len(s.AnswerIDs)-1], false); have != s.Answer {
				t.Fatalf("answer %q decodes to %q", s.Answer, have)
			}
			text := chatText(pc, s.Question) + s.Answer + "<|end|>"
			if have := tok.Decode(tok.Encode(text, false), false); have != text {
				t.Fatalf("corpus text %q round trips to %q", text, have)
			}
			bytesN += len(s.Answer)
			tokensN += len(s.AnswerIDs) - 1
		}
		cs, err := ReadCaptions(dir, sp)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != m.Splits[sp]*m.Size[0] {
			t.Errorf("%s: %d captions for %d cases of %d slices", sp, len(cs), m.Splits[sp], m.Size[0])
		}
		for _, c := range cs {
			if have := tok.Decode(c.CaptionIDs[:len(c.CaptionIDs)-1], false); have != c.Caption {
				t.Fatalf("caption %q decodes to %q", c.Caption, have)
			}
		}
	}
	// The merges compress the text well: it is templated.
	if r := float64(bytesN) / float64(tokensN); r < 3 {
		t.Errorf("%.2f bytes per answer token", r)
	}
}

// TestCaptions: a finding is named in the slices its bounds reach and in
// no slice outside them.
func TestCaptions(t *testing.T) {
	c, err := synth.NewCase(synth.Options{Seed: 2, Size: synth.Size{Cols: 64, Rows: 64, Slices: 32},
		Findings: []synth.FindingSpec{{Kind: synth.LungNodule, Side: "left", SizeMM: 20}}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	tr := c.Truth()
	caps := SliceCaptions(tr, 32, 16)
	b := tr.Findings[0].BoundsVoxel
	named := 0
	for z, cp := range caps {
		inside := b[1][2] >= float64(2*z)-0.5 && b[0][2] <= float64(2*z+1)+0.5
		if strings.Contains(cp.Text, "lung nodule") != inside {
			t.Errorf("slice %d (native %d–%d, nodule %.1f–%.1f): %q", z, 2*z, 2*z+1, b[0][2], b[1][2], cp.Text)
		}
		switch {
		case inside && (len(cp.Findings) != 1 || cp.Findings[0].Kind != "lung_nodule" || cp.Findings[0].Side != "left"):
			t.Errorf("slice %d names the nodule; its findings are %+v", z, cp.Findings)
		case !inside && len(cp.Findings) != 0:
			t.Errorf("slice %d names no finding; its findings are %+v", z, cp.Findings)
		}
		if inside {
			named++
		}
	}
	if named == 0 || named > 3 {
		t.Errorf("a 20 mm nodule named in %d slices of 23 mm", named)
	}
	if !strings.Contains(caps[0].Text, "liver") || strings.Contains(caps[0].Text, "lung") {
		t.Errorf("lowest slice: %q, want the liver and no lung", caps[0].Text)
	}
}

// TestBadInput: errors name the problem.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x"), []byte("x"), 0o644)
	for name, o := range map[string]Options{
		"not empty":  small(dir, 3, 1),
		"no cases":   small(t.TempDir(), 0, 1),
		"not square": {Out: t.TempDir(), N: 2, D: 4, H: 16, W: 32},
		"bad norm":   {Out: t.TempDir(), N: 2, D: 4, H: 16, W: 16, Norm: "window:0"},
	} {
		if _, err := Build(context.Background(), o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	p := filepath.Join(dir, "v.npy")
	os.WriteFile(p, append(npyHeader([]int{2, 2, 2, 2}), make([]byte, 10)...), 0o644)
	if _, err := OpenVolumes(p); err == nil || !strings.Contains(err.Error(), "bytes") {
		t.Errorf("truncated volumes: %v", err)
	}
	os.WriteFile(p, append(npyHeader([]int{1, 1, 2, 2}), make([]byte, 8)...), 0o644)
	v, err := OpenVolumes(p)
	if err != nil {
		t.Fatal(err)
	}
	if row, err := v.Row(0); err != nil || len(row) != 4 || math.Abs(float64(row[0])) != 0 {
		t.Errorf("row 0: %v %v", row, err)
	}
	if _, err := v.Row(1); err == nil {
		t.Error("row 1 of 1: no error")
	}
	v.Close()
}

// BenchmarkCase measures one case: plan, render, import, resample, text.
func BenchmarkCase(b *testing.B) {
	o := Options{Seed: 1, D: 16, H: 64, W: 64, Phantom: synth.Size{Cols: 128, Rows: 128, Slices: 32}}
	ranges, _ := Ranges(16, 64, 64)
	var kinds []string
	for _, k := range ranges {
		kinds = append(kinds, k.Kind)
	}
	norm, _ := volume.ParseNorm(DefaultNorm)
	i := 0
	for b.Loop() {
		i++
		if _, err := buildCase(context.Background(), o, i, ranges, kinds, norm); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cases/s")
}

// TestOrderedError: an error in one case ends the run with that error,
// without deadlock, whatever the number of workers.
func TestOrderedError(t *testing.T) {
	for _, workers := range []int{1, 3} {
		seen := 0
		err := ordered(context.Background(), 50, workers, func(i int) (int, error) {
			if i == 7 {
				return 0, fmt.Errorf("case %d failed", i)
			}
			return i, nil
		}, func(i, v int) error {
			if i != v || i != seen {
				t.Errorf("result %d at %d, after %d", v, i, seen)
			}
			seen++
			return nil
		})
		if err == nil || err.Error() != "case 7 failed" || seen != 7 {
			t.Errorf("workers %d: %v after %d results", workers, err, seen)
		}
	}
}
