package shaders

import "strings"

// DeviceFeatures are the optional WGSL features a device can compile and
// run, as the GPU runtime reports them as usable (ctlens/wgpu's
// Features.SubgroupsUsable, PackedDot4Usable and ShaderF16Usable; shaders
// does not import wgpu, so the backend copies them over). The faster
// browser-only kernel variants are picked from these at run time.
type DeviceFeatures struct {
	// Subgroups: WGSL subgroup built-ins (`enable subgroups;`).
	Subgroups bool
	// PackedDot4: dot4I8Packed and pack4xI8 (the
	// packed_4x8_integer_dot_product language extension).
	PackedDot4 bool
	// ShaderF16: f16 arithmetic in WGSL (`enable f16;`). No kernel uses it
	// yet; it is here so that the backend fills it in once and f16
	// variants can be picked later without changing callers.
	ShaderF16 bool
}

// Unsupported names what k needs that a device with features f lacks, or
// returns "" when k can run there.
func (k Kernel) Unsupported(f DeviceFeatures) string {
	var missing []string
	if k.NeedsSubgroups && !f.Subgroups {
		missing = append(missing, "WGSL subgroups")
	}
	if k.NeedsPackedDot4 && !f.PackedDot4 {
		missing = append(missing, "WGSL packed_4x8_integer_dot_product")
	}
	if len(missing) == 0 {
		return ""
	}
	return "needs " + strings.Join(missing, " and ") + ", which this device's compiler lacks"
}

// GEMVPick is the gemv variant for m rows of x and weights of type dt on a
// device with features f; the caller sets the epilogue (Bias, Act,
// Accumulate, Segmented) on it. The two choices are independent, so a
// device with both features gets both:
//   - the dot products: for int8 weights, packed int8 dot products where
//     the device has them (x quantized to int8 per block of 32 inside the
//     kernel: faster, and within MatMulDP4Bound of the f32 result), else
//     the weights dequantized to f32, as on every device;
//   - the reduction: subgroupAdd where the device has subgroups, else
//     workgroup memory.
//
// Rows comes from GEMVRows(m).
func GEMVPick(dt DType, m int, f DeviceFeatures) GEMVVariant {
	return GEMVVariant{
		DType:      dt,
		Rows:       GEMVRows(m),
		Subgroups:  f.Subgroups,
		PackedDot4: dt == Int8 && f.PackedDot4,
	}
}
