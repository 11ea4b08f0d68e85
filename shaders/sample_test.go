package shaders

import (
	"math"
	"testing"
)

// Known answers of the PCG hash and the derived uniform, computed
// independently (Python, from the published pcg_hash).
func TestSamplePCGKnownAnswers(t *testing.T) {
	for _, c := range []struct{ in, want uint32 }{{0, 129708002}, {1, 2831084092}, {42, 1223963391}, {0xffffffff, 3861530882}} {
		if got := pcgHash(c.in); got != c.want {
			t.Errorf("pcg(%d) = %d, want %d", c.in, got, c.want)
		}
	}
	for _, c := range []struct {
		seed, step uint32
		want       float64
	}{{0, 0, 0.19039934873580933}, {1, 0, 0.3686981797218323}, {0, 1, 0.9108019471168518}, {12345, 678, 0.905382513999939}} {
		if got := SampleUniform(c.seed, c.step); float64(got) != c.want {
			t.Errorf("u(%d, %d) = %v, want %v", c.seed, c.step, got, c.want)
		}
	}
}

// u is in [0, 1) and its mean and variance are those of a uniform.
func TestSampleUniformRange(t *testing.T) {
	const n = 100000
	var s, s2 float64
	for i := uint32(0); i < n; i++ {
		u := float64(SampleUniform(7, i))
		if u < 0 || u >= 1 {
			t.Fatalf("u(7, %d) = %v", i, u)
		}
		s += u
		s2 += u * u
	}
	mean, v := s/n, s2/n-(s/n)*(s/n)
	// Standard errors: 1/sqrt(12n) ≈ 9e-4 for the mean; use 5 of them.
	if math.Abs(mean-0.5) > 5e-3 || math.Abs(v-1.0/12) > 5e-3 {
		t.Errorf("mean %v variance %v, want 0.5 and 1/12", mean, v)
	}
}

func argmaxF32(l []float32) uint32 {
	best := 0
	for i, v := range l {
		if v > l[best] {
			best = i
		}
	}
	return uint32(best)
}

// Greedy picks the lowest index among equal maxima; top-k = 1 and a tiny
// temperature on well-separated logits give the argmax too.
func TestSampleArgmaxPaths(t *testing.T) {
	l := randF32(1, 5000, 3)
	l[4000], l[17], l[4999] = 7, 7, 7
	for _, p := range []SampleParams{
		NewSampleParams(5000, 0, 0, 0, 1, 0),     // greedy
		NewSampleParams(5000, -1, 40, 0.9, 1, 0), // negative temperature: greedy
	} {
		if id := SampleRef(l, p); id != 17 {
			t.Errorf("%+v: %d, want 17 (the lowest of the tied maxima)", p, id)
		}
	}
	if tr := samplePrepare(l, NewSampleParams(5000, 1, 0, 0, 0, 0), true); tr.id != 17 {
		t.Errorf("greedy variant: %d, want 17", tr.id)
	}
	for seed := uint32(0); seed < 20; seed++ {
		pk := peakedLogits(int64(seed), 32064, 16)
		want := argmaxF32(pk)
		topk1 := samplePrepare(pk, NewSampleParams(32064, 1, 1, 0, seed, 0), false)
		cold := samplePrepare(pk, NewSampleParams(32064, 0.01, 0, 0, seed, 0), false)
		for step := uint32(0); step < 10; step++ {
			if topk1.draw(seed, step); topk1.id != want {
				t.Fatalf("top-k=1: %d, want argmax %d", topk1.id, want)
			}
			if cold.draw(seed, step); cold.id != want {
				t.Fatalf("T=0.01: %d, want argmax %d", cold.id, want)
			}
		}
	}
}

// The thresholds are exact: top-k's is the k-th largest z (ties kept),
// top-p's keeps the smallest prefix of sorted values reaching top_p.
func TestSampleThresholds(t *testing.T) {
	// z = 3 appears twice: top-k = 2 and 3 keep both 3s and the 4.
	l := []float32{1, 3, 4, 3, 0, -2}
	for _, c := range []struct {
		k    uint32
		keep []bool
	}{
		{1, []bool{false, false, true, false, false, false}},
		{2, []bool{false, true, true, true, false, false}},
		{3, []bool{false, true, true, true, false, false}},
		{4, []bool{true, true, true, true, false, false}},
		{0, []bool{true, true, true, true, true, true}},
		{6, []bool{true, true, true, true, true, true}},
		{99, []bool{true, true, true, true, true, true}},
	} {
		tr := samplePrepare(l, NewSampleParams(6, 1, c.k, 0, 0, 0), false)
		for i, keep := range c.keep {
			if (tr.w[i] > 0) != keep {
				t.Errorf("top-k %d: index %d kept %v, want %v (w %v)", c.k, i, tr.w[i] > 0, keep, tr.w)
			}
		}
	}
	// Probabilities of softmax(ln 0.5, ln 0.3, ln 0.15, ln 0.05): the
	// cumulative masses are 0.5, 0.8, 0.95, 1.
	lp := []float32{float32(math.Log(0.15)), float32(math.Log(0.5)), float32(math.Log(0.05)), float32(math.Log(0.3))}
	for _, c := range []struct {
		p    float32
		kept int
	}{{0.3, 1}, {0.49, 1}, {0.51, 2}, {0.79, 2}, {0.81, 3}, {0.94, 3}, {0.96, 4}, {1, 4}, {0, 4}} {
		tr := samplePrepare(lp, NewSampleParams(4, 1, 0, c.p, 0, 0), false)
		n := 0
		for _, w := range tr.w {
			if w > 0 {
				n++
			}
		}
		if n != c.kept {
			t.Errorf("top-p %v keeps %d, want %d", c.p, n, c.kept)
		}
	}
	// top-p applies to the top-k survivors: with k = 2 the kept mass is
	// 0.8, and p = 0.6 of it (0.48) is reached by the first token alone.
	tr := samplePrepare(lp, NewSampleParams(4, 1, 2, 0.6, 0, 0), false)
	if tr.w[1] == 0 || tr.w[0]+tr.w[2]+tr.w[3] != 0 {
		t.Errorf("top-k 2 then top-p 0.6 keeps %v, want only index 1", tr.w)
	}
}

// SampleRef and the float64 sort-based oracle make the same draws wherever
// the oracle's margin exceeds float32 error, over many shapes and settings.
func TestSampleRefAgainstOracle(t *testing.T) {
	checked := 0
	for i, s := range []struct {
		v, top int
		temp   float32
		k      uint32
		p      float32
	}{
		{50, 50, 1, 0, 0}, {50, 10, 0.5, 5, 0}, {300, 40, 1.3, 0, 0.7}, {300, 40, 0.9, 20, 0.9},
		{2000, 100, 2, 50, 0.95}, {7, 7, 1, 3, 0.5}, {1000, 1000, 100, 0, 0.3},
	} {
		l := peakedLogits(int64(i), s.v, s.top)
		p := NewSampleParams(uint32(s.v), s.temp, s.k, s.p, uint32(i*7919), 0)
		o := newSampleOracle(l, p)
		tr := samplePrepare(l, p, false)
		for step := uint32(0); step < 200; step++ {
			id, margin := o.draw(p.Seed, step)
			tr.draw(p.Seed, step)
			if margin < 1e-5 {
				continue
			}
			checked++
			if tr.id != id {
				t.Fatalf("%+v step %d: reference %d, oracle %d (margin %.3g)", p, step, tr.id, id, margin)
			}
		}
	}
	if checked < 1000 {
		t.Errorf("only %d unambiguous draws compared", checked)
	}
}

// Over many draws the empirical frequencies follow the kept distribution:
// each token's count is within 5 standard deviations of N·p (a false alarm
// once in ~10⁶ tokens; the seeds are fixed, so the test is deterministic),
// no token outside the kept set is ever drawn, and Pearson's χ² stays below
// df + 5·sqrt(2·df).
func TestSampleStatistics(t *testing.T) {
	const n = 40000
	for _, c := range []struct {
		name string
		temp float32
		k    uint32
		p    float32
	}{{"plain", 1, 0, 0}, {"T=0.7,topk=10", 0.7, 10, 0}, {"topp=0.9", 1, 0, 0.9}, {"T=1.5,topk=12,topp=0.8", 1.5, 12, 0.8}} {
		l := peakedLogits(3, 60, 25)
		p := NewSampleParams(60, c.temp, c.k, c.p, 0xdecaf, 0)
		kept := newSampleOracle(l, p).kept
		tr := samplePrepare(l, p, false)
		counts := make([]int, len(l))
		for step := uint32(0); step < n; step++ {
			tr.draw(p.Seed, step)
			counts[tr.id]++
		}
		var chi2 float64
		df := -1
		for i, q := range kept {
			if q == 0 {
				if counts[i] != 0 {
					t.Errorf("%s: token %d outside the kept set drawn %d times", c.name, i, counts[i])
				}
				continue
			}
			mean, sd := n*q, math.Sqrt(n*q*(1-q))
			if math.Abs(float64(counts[i])-mean) > 5*sd+1 {
				t.Errorf("%s: token %d drawn %d times, expected %.1f ± %.1f", c.name, i, counts[i], mean, sd)
			}
			chi2 += (float64(counts[i]) - mean) * (float64(counts[i]) - mean) / mean
			df++
		}
		if df > 0 && chi2 > float64(df)+5*math.Sqrt(2*float64(df)) {
			t.Errorf("%s: χ² = %.1f with %d degrees of freedom", c.name, chi2, df)
		}
		if c.k > 0 && df+1 > int(c.k) {
			t.Errorf("%s: %d tokens kept with top-k %d and distinct logits", c.name, df+1, c.k)
		}
	}
}

// Different seeds give different streams; the same (seed, step) repeats.
func TestSampleSeedsAndSteps(t *testing.T) {
	l := peakedLogits(4, 1000, 100)
	p := NewSampleParams(1000, 1, 0, 0, 1, 0)
	same := 0
	for step := uint32(0); step < 200; step++ {
		a := SampleRef(l, SampleParams{Vocab: 1000, InvTemp: 1, Seed: 1, Step: step})
		b := SampleRef(l, SampleParams{Vocab: 1000, InvTemp: 1, Seed: 2, Step: step})
		if a == b {
			same++
		}
		p.Step = step
		if SampleRef(l, p) != a {
			t.Fatal("the same (seed, step) drew differently")
		}
	}
	if same > 100 {
		t.Errorf("seeds 1 and 2 agree on %d of 200 draws", same)
	}
}

// LogitsOffset selects a row of a (T, V) logits buffer.
func TestSampleLogitsOffset(t *testing.T) {
	rows := randF32(5, 3*100, 4)
	for r := 0; r < 3; r++ {
		p := SampleParams{Vocab: 100, LogitsOffset: uint32(r * 100)}
		if got, want := SampleRef(rows, p), argmaxF32(rows[r*100:(r+1)*100]); got != want {
			t.Errorf("row %d: %d, want %d", r, got, want)
		}
	}
}
