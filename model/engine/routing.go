package engine

import (
	"fmt"

	"ctlens/model"
)

// RoutingSummary condenses model.Routing for people: the task decision
// in full, and per MoE layer how the visual tokens spread over the
// chosen group's experts (the per-token gates are D·S·K numbers).
type RoutingSummary struct {
	Task      string             `json:"task"`
	TaskProbs map[string]float32 `json:"task_probs"`
	Forced    bool               `json:"forced"`
	Layers    []LayerSummary     `json:"layers"`
}

// LayerSummary is one MoE layer's spread of tokens over experts.
type LayerSummary struct {
	Layer  int `json:"layer"`
	Tokens int `json:"tokens"`
	K      int `json:"k"`
	// ExpertShare[e] is the fraction of the tokens' top-k slots that went
	// to expert e of the group; GateMass[e] the mean gate it received per
	// token (Σ = 1 with renormalised gates).
	ExpertShare []float64 `json:"expert_share"`
	GateMass    []float64 `json:"gate_mass"`
	MeanTopGate float64   `json:"mean_top_gate"` // the rank-1 gate, averaged over tokens
}

// Summarize condenses r (nil for a dense model) for a group of eg
// experts.
func Summarize(r *model.Routing, eg int) *RoutingSummary {
	if r == nil {
		return nil
	}
	s := &RoutingSummary{Task: r.TaskName, TaskProbs: map[string]float32{}, Forced: r.Forced, Layers: []LayerSummary{}}
	for i, p := range r.TaskProbs {
		name := fmt.Sprint(i)
		if i < len(model.TaskNames) {
			name = model.TaskNames[i]
		}
		s.TaskProbs[name] = p
	}
	for _, l := range r.Layers {
		ls := LayerSummary{Layer: l.Layer, Tokens: l.Tokens, K: l.K, ExpertShare: make([]float64, eg), GateMass: make([]float64, eg)}
		for i, e := range l.Experts {
			if e < 0 || e >= eg {
				continue
			}
			ls.ExpertShare[e]++
			ls.GateMass[e] += float64(l.Gates[i])
			if i%l.K == 0 {
				ls.MeanTopGate += float64(l.Gates[i])
			}
		}
		for e := range ls.ExpertShare {
			ls.ExpertShare[e] /= float64(max(l.Tokens*l.K, 1))
			ls.GateMass[e] /= float64(max(l.Tokens, 1))
		}
		ls.MeanTopGate /= float64(max(l.Tokens, 1))
		s.Layers = append(s.Layers, ls)
	}
	return s
}
