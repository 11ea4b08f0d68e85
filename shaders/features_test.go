package shaders

import (
	"strings"
	"testing"
)

// One case per branch of GEMVPick: the dot products (packed for int8 where
// the device has them, never for other weights) and the reduction
// (subgroups where the device has them) are chosen independently.
func TestGEMVPick(t *testing.T) {
	all := DeviceFeatures{Subgroups: true, PackedDot4: true, ShaderF16: true}
	cases := []struct {
		name string
		dt   DType
		m    int
		f    DeviceFeatures
		want GEMVVariant
	}{
		{"int8, both features", Int8, 1, all, GEMVVariant{DType: Int8, Rows: 1, Subgroups: true, PackedDot4: true}},
		{"int8, packed dot only", Int8, 1, DeviceFeatures{PackedDot4: true}, GEMVVariant{DType: Int8, Rows: 1, PackedDot4: true}},
		{"int8, subgroups only", Int8, 2, DeviceFeatures{Subgroups: true}, GEMVVariant{DType: Int8, Rows: 2, Subgroups: true}},
		{"int8, portable", Int8, 3, DeviceFeatures{}, GEMVVariant{DType: Int8, Rows: 4}},
		{"int8, f16 only", Int8, 1, DeviceFeatures{ShaderF16: true}, GEMVVariant{DType: Int8, Rows: 1}},
		{"int4 never packed", Int4, 1, all, GEMVVariant{DType: Int4, Rows: 1, Subgroups: true}},
		{"f16 never packed", F16, 5, DeviceFeatures{PackedDot4: true}, GEMVVariant{DType: F16, Rows: 4}},
		{"f32 never packed", F32, 1, DeviceFeatures{PackedDot4: true}, GEMVVariant{DType: F32, Rows: 1}},
	}
	for _, c := range cases {
		got := GEMVPick(c.dt, c.m, c.f)
		if got != c.want {
			t.Errorf("%s: GEMVPick = %+v, want %+v", c.name, got, c.want)
			continue
		}
		// What it picks runs where it was picked.
		if why := GEMV(got).Unsupported(c.f); why != "" {
			t.Errorf("%s: picked %s, which the device cannot run: %s", c.name, got, why)
		}
	}
}

// Unsupported names each missing feature, and nothing when all are there.
func TestKernelUnsupported(t *testing.T) {
	k := GEMV(GEMVVariant{DType: Int8, Subgroups: true, PackedDot4: true})
	for _, c := range []struct {
		f    DeviceFeatures
		want []string
	}{
		{DeviceFeatures{}, []string{"subgroups", "packed_4x8_integer_dot_product"}},
		{DeviceFeatures{Subgroups: true}, []string{"packed_4x8_integer_dot_product"}},
		{DeviceFeatures{PackedDot4: true}, []string{"subgroups"}},
	} {
		why := k.Unsupported(c.f)
		for _, w := range c.want {
			if !strings.Contains(why, w) {
				t.Errorf("%+v: %q does not name %s", c.f, why, w)
			}
		}
		if len(c.want) == 1 && strings.Contains(why, " and ") {
			t.Errorf("%+v: %q names more than is missing", c.f, why)
		}
	}
	if why := k.Unsupported(DeviceFeatures{Subgroups: true, PackedDot4: true}); why != "" {
		t.Errorf("runnable kernel reported as unsupported: %s", why)
	}
	if why := GEMV(GEMVVariant{DType: Int8}).Unsupported(DeviceFeatures{}); why != "" {
		t.Errorf("portable kernel reported as unsupported: %s", why)
	}
}

// PackedDot4 is an int8 variant; asking for it with other weights is a
// programming error, caught when the kernel is built.
func TestGEMVPackedDot4NeedsInt8(t *testing.T) {
	for _, dt := range []DType{F32, F16, Int4} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("GEMV built a PackedDot4 kernel for %s weights", dt)
				}
			}()
			GEMV(GEMVVariant{DType: dt, PackedDot4: true})
		}()
	}
}
