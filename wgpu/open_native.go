//go:build !js

package wgpu

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	webgpu "github.com/cogentcore/webgpu/wgpu"
)

// platform holds what the native build keeps beside the device.
type platform struct {
	instance *webgpu.Instance
	adapter  *webgpu.Adapter
}

func openPlatform(opt Options) (*Device, error) {
	inst := webgpu.CreateInstance(nil)
	if inst == nil {
		return nil, fmt.Errorf("wgpu: no WebGPU instance (wgpu-native failed to start)")
	}
	pref := webgpu.PowerPreferenceLowPower
	if opt.HighPerformance {
		pref = webgpu.PowerPreferenceHighPerformance
	}
	ad, err := inst.RequestAdapter(&webgpu.RequestAdapterOptions{PowerPreference: pref})
	if err != nil || ad == nil {
		inst.Release()
		return nil, fmt.Errorf("wgpu: no GPU adapter found (on Debian, install mesa-vulkan-drivers for the lavapipe CPU adapter): %v", err)
	}
	ai := ad.GetInfo()
	lim := ad.GetLimits().Limits
	// cogentcore reads the push-constant limit from an uninitialised
	// extras struct; ctlens uses no push constants, so ask for none.
	lim.MaxPushConstantSize = 0

	want := []webgpu.FeatureName{webgpu.FeatureNameShaderF16, webgpu.FeatureNameTimestampQuery}
	var req []webgpu.FeatureName
	for _, f := range want {
		if ad.HasFeature(f) {
			req = append(req, f)
		}
	}
	d := &Device{plat: platform{instance: inst, adapter: ad}}
	raw, err := ad.RequestDevice(&webgpu.DeviceDescriptor{
		Label:            "ctlens",
		RequiredFeatures: req,
		RequiredLimits:   &webgpu.RequiredLimits{Limits: lim},
		// No DeviceLostCallback: cogentcore passes it to C inside a Go
		// struct, which cgocheck rejects. Natively a loss surfaces through
		// the error scopes instead (scope_native.go).
	})
	if err != nil {
		ad.Release()
		inst.Release()
		return nil, fmt.Errorf("wgpu: adapter %q refused a device: %v", ai.Name, err)
	}
	d.raw = raw
	dl := raw.GetLimits().Limits
	d.info = Info{
		Adapter: AdapterInfo{
			Name:         adapterName(ai),
			Vendor:       ai.VendorName,
			Architecture: ai.Architecture,
			Driver:       ai.DriverDescription,
			Type:         adapterType(ai.AdapterType),
			Backend:      strings.ReplaceAll(ai.BackendType.String(), "-", ""),
		},
		Features: Features{
			ShaderF16:      raw.HasFeature(webgpu.FeatureNameShaderF16),
			TimestampQuery: raw.HasFeature(webgpu.FeatureNameTimestampQuery),
			// wgpu-native's naga rejects `enable` directives, subgroup
			// built-ins and dot4I8Packed, so none is usable natively.
			ShaderF16Usable:  false,
			SubgroupsUsable:  false,
			PackedDot4Usable: false,
		},
		Limits: limitsFrom(dl),
	}
	return d, nil
}

// adapterName prefers the driver's description where wgpu-native reports a
// bare PCI id as the name (Mesa's lavapipe reports "0x0").
func adapterName(ai webgpu.AdapterInfo) string {
	if (ai.Name == "" || strings.HasPrefix(ai.Name, "0x")) && ai.DriverDescription != "" {
		return ai.DriverDescription
	}
	return ai.Name
}

func adapterType(t webgpu.AdapterType) string {
	switch t {
	case webgpu.AdapterTypeDiscreteGPU:
		return "discrete"
	case webgpu.AdapterTypeIntegratedGPU:
		return "integrated"
	case webgpu.AdapterTypeCPU:
		return "cpu"
	}
	return "unknown"
}

func limitsFrom(l webgpu.Limits) Limits {
	return Limits{
		MaxBufferSize:                     l.MaxBufferSize,
		MaxStorageBufferBindingSize:       l.MaxStorageBufferBindingSize,
		MaxUniformBufferBindingSize:       l.MaxUniformBufferBindingSize,
		MaxStorageBuffersPerShaderStage:   l.MaxStorageBuffersPerShaderStage,
		MaxBindGroups:                     l.MaxBindGroups,
		MinUniformBufferOffsetAlignment:   l.MinUniformBufferOffsetAlignment,
		MinStorageBufferOffsetAlignment:   l.MinStorageBufferOffsetAlignment,
		MaxComputeWorkgroupStorageSize:    l.MaxComputeWorkgroupStorageSize,
		MaxComputeInvocationsPerWorkgroup: l.MaxComputeInvocationsPerWorkgroup,
		MaxComputeWorkgroupSizeX:          l.MaxComputeWorkgroupSizeX,
		MaxComputeWorkgroupSizeY:          l.MaxComputeWorkgroupSizeY,
		MaxComputeWorkgroupSizeZ:          l.MaxComputeWorkgroupSizeZ,
		MaxComputeWorkgroupsPerDimension:  l.MaxComputeWorkgroupsPerDimension,
	}
}

func (d *Device) closePlatform() {
	if d.raw != nil {
		d.raw.Release()
		d.raw = nil
	}
	if d.plat.adapter != nil {
		d.plat.adapter.Release()
	}
	if d.plat.instance != nil {
		d.plat.instance.Release()
	}
}

// mapRead maps a staging buffer and copies its contents out. It polls
// wgpu-native without blocking: the blocking poll gives up after 5 s and
// then treats the submission as complete (frees its command buffers and
// maps the readback) while the device may still run it — on lavapipe a
// batch longer than that then corrupted memory and killed the process. So
// it spins briefly (a decode step on a real GPU finishes in microseconds to
// milliseconds) and then sleeps with a growing nap, which also leaves a CPU
// adapter the cores it needs. (The browser build awaits mapAsync's promise
// instead: open_js.go.)
func (d *Device) mapRead(staging *webgpu.Buffer, size uint64, what string) ([]byte, error) {
	var status atomic.Uint32
	const pending = 0xffffffff
	status.Store(pending)
	err := staging.MapAsync(webgpu.MapModeRead, 0, size, func(s webgpu.BufferMapAsyncStatus) { status.Store(uint32(s)) })
	if err != nil {
		return nil, fmt.Errorf("wgpu: read %q: %w", what, err)
	}
	start := time.Now()
	nap := 50 * time.Microsecond
	for status.Load() == pending {
		if err := d.Lost(); err != nil {
			return nil, err
		}
		d.raw.Poll(false, nil)
		if status.Load() != pending {
			break
		}
		if time.Since(start) < time.Millisecond {
			runtime.Gosched()
			continue
		}
		time.Sleep(nap)
		nap = min(2*nap, 2*time.Millisecond)
	}
	if st := webgpu.BufferMapAsyncStatus(status.Load()); st != webgpu.BufferMapAsyncStatusSuccess {
		if err := d.Lost(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("wgpu: read %q: map failed: status %d", what, st)
	}
	out := make([]byte, size)
	copy(out, staging.GetMappedRange(0, uint(size)))
	staging.Unmap()
	return out, nil
}

// createComputePipeline compiles synchronously; the label shows
// in wgpu-native's messages. (cogentcore's js descriptor has no label.)
func (d *Device) createComputePipeline(label string, layout *webgpu.PipelineLayout, stage webgpu.ProgrammableStageDescriptor) (*webgpu.ComputePipeline, error) {
	return d.raw.CreateComputePipeline(&webgpu.ComputePipelineDescriptor{Label: label, Layout: layout, Compute: stage})
}

// writeBuffer queues a write of data into buf at off.
func (d *Device) writeBuffer(buf *webgpu.Buffer, off uint64, data []byte) error {
	return d.queue.WriteBuffer(buf, off, data)
}
