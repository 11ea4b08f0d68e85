package model_test

import (
	"context"
	"fmt"

	"ctlens/model"
	"ctlens/model/cpu"
	"ctlens/shaders"
)

// A tiny random 3D model with a TGH-MoE, on the CPU backend: routing,
// vision tower, prefill and four greedy decode steps.
func Example() {
	var cfg model.Config
	for _, tc := range model.TinyConfigs() {
		if tc.Name == "mha-untied-longrope-moe-3d" {
			cfg = tc.Config
		}
	}
	src, err := model.RandomWeights(cfg, 1, shaders.Int4)
	if err != nil {
		panic(err)
	}
	m, err := model.New(cpu.New(), cfg, src)
	if err != nil {
		panic(err)
	}
	s, err := m.NewState(model.StateOptions{MaxSeq: 64})
	if err != nil {
		panic(err)
	}
	v := cfg.Vision
	pixels := make([]float32, cfg.Slices()*v.NumChannels*v.ImageSize*v.ImageSize) // (D, Cin, H, W)
	prompt := []int{128, 129, 10, model.ImageSlot, 10, 72, 105, 130, 10, 131, 10} // <s><|user|>\n<image>\nHi<|end|>\n<|assistant|>\n
	res, err := m.Generate(context.Background(), s, model.Request{Prompt: prompt, Pixels: pixels},
		model.GenerateOptions{MaxTokens: 4, ForceTask: true, Task: model.TaskOpenVQA})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d visual tokens, %d generated, task %s, %d MoE layers routed\n",
		cfg.VisualTokens(), len(res.Tokens), res.Routing.TaskName, len(res.Routing.Layers))
	// Output: 13 visual tokens, 4 generated, task open_vqa, 2 MoE layers routed
}
