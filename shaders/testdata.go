package shaders

import (
	"math/rand"
	"strconv"
)

// randF32 returns n deterministic values uniform in [-scale, scale).
func randF32(seed int64, n int, scale float32) []float32 {
	r := rand.New(rand.NewSource(seed))
	out := make([]float32, n)
	for i := range out {
		out[i] = (r.Float32()*2 - 1) * scale
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }
