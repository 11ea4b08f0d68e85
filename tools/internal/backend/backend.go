// Package backend opens the model.Ops implementation a tool's --backend
// flag names: "cpu" (model/cpu, the plain-Go reference) or "gpu"
// (model/gpu on the adapter wgpu-native finds). It is apart from
// tools/internal/engine so that tools without a --backend (convert) do
// not link the GPU runtime.
package backend

import (
	"context"
	"fmt"
	"strings"

	"ctlens/model"
	"ctlens/model/cpu"
	"ctlens/model/gpu"
	"ctlens/wgpu"
)

// Names lists the backends, for help texts.
func Names() []string { return []string{"cpu", "gpu"} }

// Open returns the backend called name and the function that releases
// it (the GPU device; nothing for the CPU).
func Open(ctx context.Context, name string) (model.Ops, func(), error) {
	switch name {
	case "cpu":
		return cpu.New(), func() {}, nil
	case "gpu":
		d, err := wgpu.Open(ctx, wgpu.Options{HighPerformance: true})
		if err != nil {
			return nil, nil, fmt.Errorf("gpu backend: %w\nhint: on Debian, `apt-get install mesa-vulkan-drivers` provides a CPU Vulkan adapter; or use --backend cpu", err)
		}
		return gpu.New(d), d.Close, nil
	}
	return nil, nil, fmt.Errorf("unknown backend %q\nhint: --backend %s", name, strings.Join(Names(), "|"))
}

// Warm prepares m on its backend before the first request: the GPU
// backend compiles every pipeline the forward pass picks (ARCHITECTURE:
// pipelines are warmed at load); the CPU backend has nothing to do.
func Warm(ctx context.Context, ops model.Ops, m *model.Model) error {
	if w, ok := ops.(interface {
		Warm(context.Context, *model.Model) error
	}); ok {
		return w.Warm(ctx, m)
	}
	return nil
}
