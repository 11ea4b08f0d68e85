package wgpu

// AdapterInfo names the adapter that a Device runs on.
type AdapterInfo struct {
	Name         string `json:"name"`
	Vendor       string `json:"vendor,omitempty"`
	Architecture string `json:"architecture,omitempty"`
	Driver       string `json:"driver,omitempty"`
	// Type is "discrete", "integrated", "cpu" or "unknown".
	Type string `json:"type"`
	// Backend is the native API ("vulkan", "metal", …) or "webgpu" in a browser.
	Backend string `json:"backend"`
}

// Features lists the optional WebGPU features ctlens can use, as granted to
// the device (not merely offered by the adapter).
type Features struct {
	ShaderF16      bool `json:"shader_f16"`
	Subgroups      bool `json:"subgroups"`
	TimestampQuery bool `json:"timestamp_query"`
	// ShaderF16Usable is false where the device grants shader-f16 but the
	// shader compiler cannot take `enable f16;` (the naga inside
	// cogentcore's wgpu-native), so kernels must not rely on it.
	ShaderF16Usable bool `json:"shader_f16_usable"`
	// SubgroupsUsable likewise: the feature is granted and WGSL subgroup
	// built-ins compile on this build.
	SubgroupsUsable bool `json:"subgroups_usable"`
	// PackedDot4Usable: WGSL's dot4I8Packed and pack4xI8 compile. They are
	// a language extension (packed_4x8_integer_dot_product) of the
	// compiler, not a device feature: browsers list it in
	// navigator.gpu.wgslLanguageFeatures; the naga inside wgpu-native
	// lacks it.
	PackedDot4Usable bool `json:"packed_dot4_usable"`
}

// Limits are the device limits that compute code must respect. They are the
// adapter's real limits, requested in full when the device was opened.
type Limits struct {
	MaxBufferSize                     uint64 `json:"max_buffer_size"`
	MaxStorageBufferBindingSize       uint64 `json:"max_storage_buffer_binding_size"`
	MaxUniformBufferBindingSize       uint64 `json:"max_uniform_buffer_binding_size"`
	MaxStorageBuffersPerShaderStage   uint32 `json:"max_storage_buffers_per_shader_stage"`
	MaxBindGroups                     uint32 `json:"max_bind_groups"`
	MinUniformBufferOffsetAlignment   uint32 `json:"min_uniform_buffer_offset_alignment"`
	MinStorageBufferOffsetAlignment   uint32 `json:"min_storage_buffer_offset_alignment"`
	MaxComputeWorkgroupStorageSize    uint32 `json:"max_compute_workgroup_storage_size"`
	MaxComputeInvocationsPerWorkgroup uint32 `json:"max_compute_invocations_per_workgroup"`
	MaxComputeWorkgroupSizeX          uint32 `json:"max_compute_workgroup_size_x"`
	MaxComputeWorkgroupSizeY          uint32 `json:"max_compute_workgroup_size_y"`
	MaxComputeWorkgroupSizeZ          uint32 `json:"max_compute_workgroup_size_z"`
	MaxComputeWorkgroupsPerDimension  uint32 `json:"max_compute_workgroups_per_dimension"`
}

// Info is everything a Device reports about itself; tools print it as JSON.
type Info struct {
	Adapter  AdapterInfo `json:"adapter"`
	Features Features    `json:"features"`
	Limits   Limits      `json:"limits"`
}
