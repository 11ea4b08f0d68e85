package shaders

import (
	"fmt"
	"math"
)

// MaxVolumeSlabs is how many storage buffers the image kernels (mpr,
// raymarch) read a volume from: 4 × the 128 MiB default binding limit
// holds 512×512×1000 int16 voxels.
const MaxVolumeSlabs = 4

// VolumeLayout says how PackVolume split a volume into slabs.
type VolumeLayout struct {
	NX, NY, NZ uint32
	SlabSlices uint32 // whole z-slices per slab
	Slabs      int    // slabs used (≤ MaxVolumeSlabs)
}

// SlabWords is the number of u32 words of slab s.
func (l VolumeLayout) SlabWords(s int) int {
	z0 := s * int(l.SlabSlices)
	nz := min(int(l.SlabSlices), int(l.NZ)-z0)
	return (int(l.NX)*int(l.NY)*nz + 1) / 2
}

// PlanVolume chooses the slab layout of an nx×ny×nz int16 volume whose
// slabs may each hold at most maxSlabBytes (the device's storage binding
// limit): the fewest slabs, each of whole z-slices. The voxels stay at 2
// bytes each.
func PlanVolume(nx, ny, nz int, maxSlabBytes uint64) (VolumeLayout, error) {
	if nx <= 0 || ny <= 0 || nz <= 0 {
		return VolumeLayout{}, fmt.Errorf("shaders: volume %d×%d×%d has no voxels", nx, ny, nz)
	}
	slice := uint64(nx) * uint64(ny) * 2
	per := maxSlabBytes / slice
	if per == 0 {
		return VolumeLayout{}, fmt.Errorf("shaders: one %d×%d slice (%d bytes) exceeds the storage binding limit %d", nx, ny, slice, maxSlabBytes)
	}
	per = min(per, uint64(nz))
	slabs := (uint64(nz) + per - 1) / per
	if slabs > MaxVolumeSlabs {
		return VolumeLayout{}, fmt.Errorf("shaders: volume %d×%d×%d (%d MB) needs %d slabs of %d bytes; the kernels read at most %d",
			nx, ny, nz, slice*uint64(nz)>>20, slabs, maxSlabBytes, MaxVolumeSlabs)
	}
	// Spread slices evenly so no slab is nearly empty.
	per = (uint64(nz) + slabs - 1) / slabs
	return VolumeLayout{NX: uint32(nx), NY: uint32(ny), NZ: uint32(nz), SlabSlices: uint32(per), Slabs: int(slabs)}, nil
}

// PackSlab returns slab s of vox (x fastest, then y, then z) as the
// kernels read it: two int16 per u32, the even voxel in the low half.
func (l VolumeLayout) PackSlab(vox []int16, s int) []uint32 {
	n := int(l.NX) * int(l.NY)
	z0 := s * int(l.SlabSlices)
	nz := min(int(l.SlabSlices), int(l.NZ)-z0)
	src := vox[z0*n : (z0+nz)*n]
	out := make([]uint32, (len(src)+1)/2)
	for i, v := range src {
		out[i/2] |= uint32(uint16(v)) << (16 * (i & 1))
	}
	return out
}

// VolumeRef is the Go reference of volsample.wgsl: the same voxels and
// the same float32 trilinear sampling.
type VolumeRef struct {
	NX, NY, NZ int
	Vox        []int16
}

func (v VolumeRef) voxel(x, y, z int) float32 {
	return float32(v.Vox[x+v.NX*(y+v.NY*z)])
}

func (v VolumeRef) dims() [3]float32 { return [3]float32{float32(v.NX), float32(v.NY), float32(v.NZ)} }

// Inside reports whether voxel-space point p lies in [−½, n−½) on every axis.
func (v VolumeRef) Inside(p [3]float32) bool {
	d := v.dims()
	for a := range 3 {
		if !(p[a] >= -0.5 && p[a] < d[a]-0.5) {
			return false
		}
	}
	return true
}

func lerp1(a, b, t float32) float32 { return a*(1-t) + b*t }

// Sample is the trilinear HU at voxel-space p, clamped to the edge voxels.
func (v VolumeRef) Sample(p [3]float32) float32 {
	d := v.dims()
	var i0, i1 [3]int
	var f [3]float32
	n := [3]int{v.NX, v.NY, v.NZ}
	for a := range 3 {
		q := min(max(p[a], 0), d[a]-1)
		fl := float32(math.Floor(float64(q)))
		f[a] = q - fl
		i0[a] = int(fl)
		i1[a] = min(i0[a]+1, n[a]-1)
	}
	c00 := lerp1(v.voxel(i0[0], i0[1], i0[2]), v.voxel(i1[0], i0[1], i0[2]), f[0])
	c10 := lerp1(v.voxel(i0[0], i1[1], i0[2]), v.voxel(i1[0], i1[1], i0[2]), f[0])
	c01 := lerp1(v.voxel(i0[0], i0[1], i1[2]), v.voxel(i1[0], i0[1], i1[2]), f[0])
	c11 := lerp1(v.voxel(i0[0], i1[1], i1[2]), v.voxel(i1[0], i1[1], i1[2]), f[0])
	return lerp1(lerp1(c00, c10, f[1]), lerp1(c01, c11, f[1]), f[2])
}

// pixelOut declares the image kernels' output at binding b: RGBA8 words
// for a canvas, or four unrounded f32 per pixel for parity tests.
func pixelOut(b int, f32 bool) string {
	if f32 {
		return fmt.Sprintf(`
@group(0) @binding(%d) var<storage, read_write> out: array<f32>;
fn store_pixel(i: u32, c: vec4<f32>) {
    out[4u * i] = c.r;
    out[4u * i + 1u] = c.g;
    out[4u * i + 2u] = c.b;
    out[4u * i + 3u] = c.a;
}
`, b)
	}
	return fmt.Sprintf(`
@group(0) @binding(%d) var<storage, read_write> out: array<u32>;
fn store_pixel(i: u32, c: vec4<f32>) {
    out[i] = pack4x8unorm(c);
}
`, b)
}

// Pack4x8 is WGSL's pack4x8unorm: each channel clamped to [0,1], scaled
// to 255 and rounded, r in the low byte.
func Pack4x8(c [4]float32) uint32 {
	var u uint32
	for i, x := range c {
		x = min(max(x, 0), 1)
		u |= uint32(math.Floor(float64(0.5+255*x))) << (8 * i)
	}
	return u
}

// Unpack4x8 is WGSL's unpack4x8unorm.
func Unpack4x8(u uint32) [4]float32 {
	var c [4]float32
	for i := range c {
		c[i] = float32((u>>(8*i))&0xff) / 255
	}
	return c
}

// volumeBuffers packs vox into slab buffers named vol0..vol3 for a case;
// slabs beyond the layout's are one-word dummies, as the viewer binds them.
func volumeBuffers(l VolumeLayout, vox []int16) []Buffer {
	var out []Buffer
	for s := range MaxVolumeSlabs {
		name := fmt.Sprintf("vol%d", s)
		if s < l.Slabs {
			out = append(out, Buffer{Name: name, Init: U32Bytes(l.PackSlab(vox, s))})
		} else {
			out = append(out, Buffer{Name: name, Size: 4})
		}
	}
	return out
}
