// Package metrics scores generated text the way M3D-Bench does (paper.md
// §7): BLEU-1, ROUGE-1, ROUGE-L and METEOR for reports and open answers,
// the "X." letter rule for closed questions, keyword exact match for open
// ones, and finding-level precision and recall for reports.
//
// Every text metric lowercases. Each follows the reference implementation
// M3D's evaluation calls (HF evaluate → sacrebleu's 13a tokenizer for
// BLEU, Google's rouge_score, NLTK's meteor_score), except where a comment
// says otherwise.
package metrics

import (
	"math"
	"regexp"
	"strings"
	"unicode"
)

// ---- tokenizers ----------------------------------------------------------------

var (
	// sacrebleu's 13a (mteval-v13a) rules, applied in order.
	bleuPunct     = regexp.MustCompile(`([\{-\~\[-\` + "`" + ` -\&\(-\+\:-\@\/])`)
	bleuPeriodL   = regexp.MustCompile(`([^0-9])([\.,])`)
	bleuPeriodR   = regexp.MustCompile(`([\.,])([^0-9])`)
	bleuDash      = regexp.MustCompile(`([0-9])(-)`)
	rougeNonAlnum = regexp.MustCompile(`[^a-z0-9]+`)
)

// BLEUTokens splits text as sacrebleu's 13a tokenizer does (punctuation
// apart, except inside numbers), lowercased.
func BLEUTokens(s string) []string {
	s = strings.ReplaceAll(s, "-\n", "")
	s = strings.ReplaceAll(s, "\n", " ")
	s = " " + strings.ToLower(s) + " "
	s = bleuPunct.ReplaceAllString(s, " $1 ")
	s = bleuPeriodL.ReplaceAllString(s, "$1 $2 ")
	s = bleuPeriodR.ReplaceAllString(s, " $1 $2")
	s = bleuDash.ReplaceAllString(s, "$1 $2 ")
	return strings.Fields(s)
}

// ROUGETokens splits text as rouge_score's default tokenizer does:
// lowercase, every run of characters other than a–z and 0–9 is a break.
func ROUGETokens(s string) []string {
	return strings.Fields(rougeNonAlnum.ReplaceAllString(strings.ToLower(s), " "))
}

// METEORTokens splits text into words and punctuation marks (a simple
// stand-in for NLTK's word_tokenize, which evaluate's meteor uses),
// lowercased as NLTK's meteor_score does.
func METEORTokens(s string) []string {
	var out []string
	var w strings.Builder
	flush := func() {
		if w.Len() > 0 {
			out = append(out, w.String())
			w.Reset()
		}
	}
	rs := []rune(strings.ToLower(s))
	for i, r := range rs {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			w.WriteRune(r)
		case (r == '.' || r == ',') && w.Len() > 0 && i+1 < len(rs) && unicode.IsDigit(rs[i+1]) && unicode.IsDigit(rs[i-1]):
			w.WriteRune(r) // 0.62, 1,000
		case r == '\'' || r == '-':
			if w.Len() > 0 && i+1 < len(rs) && unicode.IsLetter(rs[i+1]) {
				w.WriteRune(r)
			} else {
				flush()
				out = append(out, string(r))
			}
		case unicode.IsSpace(r):
			flush()
		default:
			flush()
			out = append(out, string(r))
		}
	}
	flush()
	return out
}

// ---- BLEU-1 ---------------------------------------------------------------------

// BLEUCounts are the sums BLEU-1 is made of.
type BLEUCounts struct {
	Matched int // clipped unigram matches
	HypLen  int
	RefLen  int // the shortest reference's length (TensorFlow NMT's compute_bleu, which evaluate uses)
}

// CountBLEU1 counts hyp's unigrams clipped by their most frequent
// occurrence in any one reference (Papineni et al. 2002, §2.1).
func CountBLEU1(hyp []string, refs ...[]string) BLEUCounts {
	maxRef := map[string]int{}
	c := BLEUCounts{HypLen: len(hyp), RefLen: -1}
	for _, r := range refs {
		cnt := map[string]int{}
		for _, w := range r {
			cnt[w]++
		}
		for w, n := range cnt {
			maxRef[w] = max(maxRef[w], n)
		}
		if c.RefLen < 0 || len(r) < c.RefLen {
			c.RefLen = len(r)
		}
	}
	c.RefLen = max(c.RefLen, 0)
	have := map[string]int{}
	for _, w := range hyp {
		have[w]++
	}
	for w, n := range have {
		c.Matched += min(n, maxRef[w])
	}
	return c
}

// Add sums counts, for corpus BLEU.
func (c BLEUCounts) Add(d BLEUCounts) BLEUCounts {
	return BLEUCounts{c.Matched + d.Matched, c.HypLen + d.HypLen, c.RefLen + d.RefLen}
}

// Precision is the modified unigram precision.
func (c BLEUCounts) Precision() float64 {
	if c.HypLen == 0 {
		return 0
	}
	return float64(c.Matched) / float64(c.HypLen)
}

// BLEU is the modified precision times the brevity penalty
// exp(1 − r/c) when the hypothesis is shorter than the reference; no
// smoothing (evaluate's default).
func (c BLEUCounts) BLEU() float64 {
	if c.HypLen == 0 || c.Matched == 0 {
		return 0
	}
	bp := 1.0
	if c.HypLen < c.RefLen {
		bp = math.Exp(1 - float64(c.RefLen)/float64(c.HypLen))
	}
	return bp * c.Precision()
}

// BLEU1 is sentence-level BLEU-1 of hyp against refs, as M3D computes it
// per sample (evaluate's bleu with max_order=1) before averaging.
func BLEU1(hyp string, refs ...string) float64 {
	var rt [][]string
	for _, r := range refs {
		rt = append(rt, BLEUTokens(r))
	}
	return CountBLEU1(BLEUTokens(hyp), rt...).BLEU()
}

// ---- ROUGE ----------------------------------------------------------------------

// PRF is a precision, recall and F1.
type PRF struct{ P, R, F float64 }

func prf(match, hyp, ref int) PRF {
	if match == 0 || hyp == 0 || ref == 0 {
		return PRF{}
	}
	p, r := float64(match)/float64(hyp), float64(match)/float64(ref)
	return PRF{p, r, 2 * p * r / (p + r)}
}

// ROUGE1 is unigram overlap (each token counted at most as often as in
// the other text), rouge_score's rouge1 without stemming.
func ROUGE1(hyp, ref string) PRF {
	h, r := ROUGETokens(hyp), ROUGETokens(ref)
	cnt := map[string]int{}
	for _, w := range r {
		cnt[w]++
	}
	m := 0
	for _, w := range h {
		if cnt[w] > 0 {
			cnt[w]--
			m++
		}
	}
	return prf(m, len(h), len(r))
}

// ROUGEL is the longest common subsequence measure (Lin 2004, §3.1), F
// with β = 1 as rouge_score reports it.
func ROUGEL(hyp, ref string) PRF {
	h, r := ROUGETokens(hyp), ROUGETokens(ref)
	return prf(lcs(h, r), len(h), len(r))
}

func lcs(a, b []string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			if a[i] == b[j] {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(prev[j+1], cur[j])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// ---- METEOR ---------------------------------------------------------------------

// METEOR parameters: NLTK's defaults (and Lavie & Agarwal 2007's).
const (
	meteorAlpha = 0.9
	meteorBeta  = 3.0
	meteorGamma = 0.5
)

// METEOR is NLTK's meteor_score over the references (the best one):
// words aligned by exact match, then by Porter stem, each stage pairing a
// hypothesis word, from the last, with the last unpaired equal reference
// word as NLTK does; Fmean = P·R / (α·P + (1−α)·R), penalty γ·(chunks /
// matches)^β, score Fmean·(1 − penalty). NLTK's third stage, WordNet
// synonyms, is not implemented: a synonym scores as a miss.
func METEOR(hyp string, refs ...string) float64 {
	h := METEORTokens(hyp)
	best := 0.0
	for _, r := range refs {
		best = max(best, METEORTokensScore(h, METEORTokens(r)))
	}
	return best
}

// METEORTokensScore is METEOR of tokenized, lowercased texts.
func METEORTokensScore(hyp, ref []string) float64 {
	type enum struct {
		i int
		w string
	}
	hs, rs := make([]enum, len(hyp)), make([]enum, len(ref))
	for i, w := range hyp {
		hs[i] = enum{i, w}
	}
	for i, w := range ref {
		rs[i] = enum{i, w}
	}
	var matches [][2]int
	stage := func(key func(string) string) {
		for i := len(hs) - 1; i >= 0; i-- {
			for j := len(rs) - 1; j >= 0; j-- {
				if key(hs[i].w) == key(rs[j].w) {
					matches = append(matches, [2]int{hs[i].i, rs[j].i})
					hs = append(hs[:i], hs[i+1:]...)
					rs = append(rs[:j], rs[j+1:]...)
					break
				}
			}
		}
	}
	stage(func(s string) string { return s })
	stage(PorterStem)
	m := len(matches)
	if m == 0 {
		return 0
	}
	// Sort by hypothesis position (insertion sort: m is small).
	for i := 1; i < m; i++ {
		for j := i; j > 0 && matches[j][0] < matches[j-1][0]; j-- {
			matches[j], matches[j-1] = matches[j-1], matches[j]
		}
	}
	chunks := 1
	for i := 0; i+1 < m; i++ {
		if !(matches[i+1][0] == matches[i][0]+1 && matches[i+1][1] == matches[i][1]+1) {
			chunks++
		}
	}
	p, r := float64(m)/float64(len(hyp)), float64(m)/float64(len(ref))
	fmean := p * r / (meteorAlpha*p + (1-meteorAlpha)*r)
	penalty := meteorGamma * math.Pow(float64(chunks)/float64(m), meteorBeta)
	return fmean * (1 - penalty)
}
