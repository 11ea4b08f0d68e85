package shaders

import (
	"math"
	"sort"
	"testing"
)

// The f32 reference agrees with a float64 softmax and a sort-based top-k.
func TestMoERouteRefAgainstFloat64(t *testing.T) {
	for _, p := range []MoERouteParams{
		{Tokens: 50, Groups: 3, Experts: 8, K: 2, Renorm: 1, GlobalIDs: 1},
		{Tokens: 50, Groups: 1, Experts: 4, K: 3},
		{Tokens: 9, Groups: 2, Experts: 64, K: 8, Renorm: 1},
	} {
		for group := uint32(0); group < p.Groups; group++ {
			eg, k := int(p.Experts), int(p.K)
			logits := randF32(int64(p.Experts*10+p.K), int(p.Tokens*p.Groups)*eg, 6)
			ids, gates, probs := MoERouteRef(logits, group, p)
			for tk := 0; tk < int(p.Tokens); tk++ {
				row := logits[(tk*int(p.Groups)+int(group))*eg:][:eg]
				m := math.Inf(-1)
				for _, v := range row {
					m = math.Max(m, float64(v))
				}
				var s float64
				for _, v := range row {
					s += math.Exp(float64(v) - m)
				}
				order := make([]int, eg)
				for i := range order {
					order[i] = i
				}
				sort.SliceStable(order, func(a, b int) bool { return row[order[a]] > row[order[b]] })
				var ssel float64
				for j := 0; j < k; j++ {
					ssel += math.Exp(float64(row[order[j]]) - m)
				}
				for e := 0; e < eg; e++ {
					want := math.Exp(float64(row[e])-m) / s
					if d := math.Abs(float64(probs[tk*eg+e]) - want); d > 1e-6 {
						t.Fatalf("%+v g=%d: probs[%d,%d] = %v, want %v", p, group, tk, e, probs[tk*eg+e], want)
					}
				}
				for j := 0; j < k; j++ {
					e := order[j]
					wantID := uint32(e)
					if p.GlobalIDs != 0 {
						wantID += group * p.Experts
					}
					if ids[tk*k+j] != wantID {
						t.Fatalf("%+v g=%d: ids[%d,%d] = %d, want %d", p, group, tk, j, ids[tk*k+j], wantID)
					}
					den := s
					if p.Renorm != 0 {
						den = ssel
					}
					want := math.Exp(float64(row[e])-m) / den
					if d := math.Abs(float64(gates[tk*k+j]) - want); d > 1e-6 {
						t.Fatalf("%+v g=%d: gates[%d,%d] = %v, want %v", p, group, tk, j, gates[tk*k+j], want)
					}
				}
			}
		}
	}
}

// Renormalised gates sum to one; without renorm the gates are the selected
// experts' probabilities, which with the others sum to one.
func TestMoERouteGatesSumToOne(t *testing.T) {
	const T = 200
	logits := randF32(3, T*8, 5)
	for _, renorm := range []uint32{0, 1} {
		p := MoERouteParams{Tokens: T, Groups: 1, Experts: 8, K: 3, Renorm: renorm}
		ids, gates, probs := MoERouteRef(logits, 0, p)
		for tk := 0; tk < T; tk++ {
			var sg, sp float64
			for j := 0; j < 3; j++ {
				sg += float64(gates[tk*3+j])
				if renorm == 0 && gates[tk*3+j] != probs[tk*8+int(ids[tk*3+j])] {
					t.Fatalf("token %d: gate %v is not prob %v", tk, gates[tk*3+j], probs[tk*8+int(ids[tk*3+j])])
				}
				if j > 0 && gates[tk*3+j] > gates[tk*3+j-1] {
					t.Fatalf("token %d: gates not in rank order: %v", tk, gates[tk*3:tk*3+3])
				}
			}
			for e := 0; e < 8; e++ {
				sp += float64(probs[tk*8+e])
			}
			if math.Abs(sp-1) > 1e-6 {
				t.Fatalf("token %d: probs sum to %v", tk, sp)
			}
			if renorm == 1 && math.Abs(sg-1) > 1e-6 {
				t.Fatalf("token %d: renormalised gates sum to %v", tk, sg)
			}
			if renorm == 0 && (sg > 1+1e-6 || sg <= 3.0/8-1e-6) {
				t.Fatalf("token %d: top-3 of 8 probabilities sum to %v", tk, sg)
			}
		}
	}
}

// Ties go to the lower index; equal logits give equal gates.
func TestMoERouteTiesAndLargeLogits(t *testing.T) {
	p := MoERouteParams{Tokens: 2, Groups: 1, Experts: 4, K: 2, Renorm: 1}
	ids, gates, _ := MoERouteRef([]float32{1, 3, 1, 3, 0, 0, 0, 0}, 0, p)
	if ids[0] != 1 || ids[1] != 3 || ids[2] != 0 || ids[3] != 1 {
		t.Errorf("tie-breaking: ids = %v, want [1 3 0 1]", ids)
	}
	for _, g := range gates {
		if g != 0.5 {
			t.Errorf("equal logits give gates %v, want 0.5", gates)
		}
	}
	// exp(±1000) overflows without the max subtraction.
	_, gates, probs := MoERouteRef([]float32{1000, -1000, 999, 0}, 0, MoERouteParams{Tokens: 1, Groups: 1, Experts: 4, K: 2, Renorm: 1})
	for _, v := range append(gates, probs...) {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("large logits: gates %v probs %v", gates, probs)
		}
	}
	if want := 1 / (1 + math.Exp(-1)); math.Abs(float64(gates[0])-want) > 1e-6 {
		t.Errorf("gate of 1000 against 999 = %v, want %v", gates[0], want)
	}
}

// The group comes from the task buffer: the slice of that group is routed,
// ids are numbered globally when asked, and a group past the last is
// clamped.
func TestMoERouteGroupSlice(t *testing.T) {
	p := MoERouteParams{Tokens: 1, Groups: 3, Experts: 2, K: 1, GlobalIDs: 1}
	logits := []float32{9, 0, 0, 9, 5, 6} // group 0 prefers 0, group 1 prefers 1, group 2 prefers 1
	for _, c := range []struct{ group, want uint32 }{{0, 0}, {1, 3}, {2, 5}, {7, 5}} {
		ids, _, probs := MoERouteRef(logits, c.group, p)
		if ids[0] != c.want {
			t.Errorf("group %d: id %d, want %d", c.group, ids[0], c.want)
		}
		if len(probs) != 2 {
			t.Errorf("probs cover %d experts, want the group's 2", len(probs))
		}
	}
	p.GlobalIDs = 0
	if ids, _, _ := MoERouteRef(logits, 2, p); ids[0] != 1 {
		t.Errorf("local id %d, want 1", ids[0])
	}
}

func TestMoERouteParamsValidate(t *testing.T) {
	ok := MoERouteParams{Tokens: 1, Groups: 1, Experts: 8, K: 8}
	if err := ok.Validate(); err != nil {
		t.Error(err)
	}
	for _, bad := range []MoERouteParams{
		{Tokens: 1, Groups: 1, Experts: 4, K: 5},
		{Tokens: 1, Groups: 1, Experts: 16, K: 9},
		{Tokens: 1, Groups: 0, Experts: 4, K: 1},
		{Tokens: 1, Groups: 1, Experts: 4, K: 0},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestMoETaskRouteRef(t *testing.T) {
	for _, c := range []struct {
		logits []float32
		force  int32
		want   uint32
	}{
		{[]float32{0.1, 2, -1}, -1, 1},
		{[]float32{2, -1, 2}, -1, 0}, // tie → lower
		{[]float32{-5, -4, -3}, -1, 2},
		{[]float32{5, 0, 0}, 2, 2},
		{[]float32{5, 0, 0}, 3, 0}, // out of range: argmax
		{[]float32{-7}, -1, 0},
	} {
		task, probs := TaskRouteRef(c.logits, c.force)
		if task != c.want {
			t.Errorf("%v force %d: task %d, want %d", c.logits, c.force, task, c.want)
		}
		var s float64
		for _, v := range probs {
			s += float64(v)
		}
		if math.Abs(s-1) > 1e-6 {
			t.Errorf("%v: task probs sum to %v", c.logits, s)
		}
	}
	_, probs := TaskRouteRef([]float32{0, float32(math.Log(3))}, -1)
	if math.Abs(float64(probs[0])-0.25) > 1e-6 || math.Abs(float64(probs[1])-0.75) > 1e-6 {
		t.Errorf("softmax(0, ln 3) = %v, want [0.25 0.75]", probs)
	}
}

// f32Key orders floats like the floats themselves and round-trips.
func TestMoEF32KeyOrder(t *testing.T) {
	vals := []float32{float32(math.Inf(-1)), -1e30, -2, -1, -1e-30, float32(math.Copysign(0, -1)), 0, 1e-30, 1, 2, 1e30, float32(math.Inf(1))}
	for i, v := range vals {
		if keyF32(f32Key(v)) != v || math.Signbit(float64(keyF32(f32Key(v)))) != math.Signbit(float64(v)) {
			t.Errorf("round trip of %v", v)
		}
		if i > 0 && f32Key(vals[i-1]) >= f32Key(v) {
			t.Errorf("key(%v) ≥ key(%v)", vals[i-1], v)
		}
	}
}
