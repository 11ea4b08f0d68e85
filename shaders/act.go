package shaders

import (
	"fmt"
	"math"
)

// Act is an activation function fused into a kernel's epilogue or applied
// by the elementwise kernel.
type Act uint8

const (
	ActNone      Act = iota
	ActGELUErf       // exact GELU, 0.5·x·(1+erf(x/√2)) (CLIP ViT-L, projector)
	ActGELUTanh      // GELU, tanh approximation
	ActQuickGELU     // x·σ(1.702x) (OpenAI CLIP)
	ActSiLU          // x·σ(x) (SwiGLU gate)
)

var actNames = [...]string{"none", "gelu_erf", "gelu_tanh", "quick_gelu", "silu"}

// Acts lists every activation.
func Acts() []Act { return []Act{ActNone, ActGELUErf, ActGELUTanh, ActQuickGELU, ActSiLU} }

func (a Act) String() string { return actNames[a] }

// ParseAct is the inverse of String; it also takes HF config names
// ("gelu", "gelu_new", "gelu_pytorch_tanh", "quick_gelu", "silu").
func ParseAct(s string) (Act, error) {
	switch s {
	case "gelu":
		return ActGELUErf, nil
	case "gelu_new", "gelu_pytorch_tanh", "gelu_fast":
		return ActGELUTanh, nil
	}
	for i, n := range actNames {
		if n == s {
			return Act(i), nil
		}
	}
	return 0, fmt.Errorf("shaders: unknown activation %q", s)
}

// actConst is the WGSL constant selecting a in act.wgsl.
func actConst(a Act) Const { return Const{"ACT", uint32(a)} }

// ActRef is the reference of act.wgsl's activate, computed in float64 and
// rounded: the kernel's erf approximation is within 1.5e-7 of it.
func ActRef(a Act, x float32) float32 {
	v := float64(x)
	sig := func(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
	switch a {
	case ActGELUErf:
		return float32(0.5 * v * (1 + math.Erf(v/math.Sqrt2)))
	case ActGELUTanh:
		return float32(0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v))))
	case ActQuickGELU:
		return float32(v * sig(1.702*v))
	case ActSiLU:
		return float32(v * sig(v))
	}
	return x
}
