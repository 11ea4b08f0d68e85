package shaders

import (
	"math"
	"testing"
)

func TestPlanVolume(t *testing.T) {
	// A 512×512×500 series: 262 MB in two slabs under the 128 MiB default.
	l, err := PlanVolume(512, 512, 500, 128<<20)
	if err != nil {
		t.Fatal(err)
	}
	if l.Slabs != 2 || l.SlabSlices != 250 {
		t.Errorf("512×512×500 at 128 MiB: %d slabs of %d slices, want 2 of 250", l.Slabs, l.SlabSlices)
	}
	total := 0
	for s := range l.Slabs {
		if b := 4 * l.SlabWords(s); b > 128<<20 {
			t.Errorf("slab %d is %d bytes, over the limit", s, b)
		}
		total += 2 * l.SlabWords(s)
	}
	if total != 512*512*500 {
		t.Errorf("slabs hold %d voxels, want %d (2 bytes each)", total, 512*512*500)
	}
	if _, err := PlanVolume(512, 512, 2000, 128<<20); err == nil {
		t.Error("a 1 GB volume was accepted into four 128 MiB slabs")
	}
	if _, err := PlanVolume(0, 5, 5, 1<<20); err == nil {
		t.Error("an empty volume was accepted")
	}
}

func TestPackSlabAndSampleAtCentres(t *testing.T) {
	nx, ny, nz := 5, 3, 7 // odd slice size: slabs end mid-word
	vox := testVolume(nx, ny, nz, 3)
	l, err := PlanVolume(nx, ny, nz, uint64(nx*ny*2*2))
	if err != nil {
		t.Fatal(err)
	}
	ref := VolumeRef{NX: nx, NY: ny, NZ: nz, Vox: vox}
	for z := range nz {
		s := z / int(l.SlabSlices)
		words := l.PackSlab(vox, s)
		for y := range ny {
			for x := range nx {
				i := x + nx*(y+ny*(z-s*int(l.SlabSlices)))
				have := int16(uint16(words[i/2] >> (16 * (i & 1))))
				want := vox[x+nx*(y+ny*z)]
				if have != want {
					t.Fatalf("voxel %d,%d,%d: packed %d, want %d", x, y, z, have, want)
				}
				if got := ref.Sample([3]float32{float32(x), float32(y), float32(z)}); got != float32(want) {
					t.Fatalf("voxel %d,%d,%d: sampled %v at its centre, want %d", x, y, z, got, want)
				}
			}
		}
	}
	// Halfway between two voxels along x is their mean.
	a, b := float64(vox[1+nx*(1+ny*2)]), float64(vox[2+nx*(1+ny*2)])
	if got := ref.Sample([3]float32{1.5, 1, 2}); math.Abs(float64(got)-(a+b)/2) > 1e-3 {
		t.Errorf("midpoint sample %v, want %v", got, (a+b)/2)
	}
}

func TestPack4x8(t *testing.T) {
	c := [4]float32{0, 1, 0.5, -3}
	u := Pack4x8(c)
	if u != 0x0080ff00 {
		t.Errorf("Pack4x8(%v) = %#x, want 0x0080ff00", c, u)
	}
	back := Unpack4x8(0xff804000)
	if back[3] != 1 || back[0] != 0 || math.Abs(float64(back[1])-64.0/255) > 1e-7 {
		t.Errorf("Unpack4x8 = %v", back)
	}
}

// The DVR reference sees the sphere: rays through the middle are opaque
// and bright, rays through the corner air stay black.
func TestRaymarchRefSeesTheSphere(t *testing.T) {
	n := 24
	vox := testVolume(n, n, n, 1)
	ref := VolumeRef{NX: n, NY: n, NZ: n, Vox: vox}
	p := RaymarchParams{Width: 2, Height: 1, NX: uint32(n), NY: uint32(n), NZ: uint32(n), SlabSlices: uint32(n),
		OX: float32(n) / 2, OY: float32(n) / 2, OZ: -1, UX: -float32(n) / 2, UY: -float32(n)/2 + 1,
		DX: 1e-6, DY: 1e-6, DZ: 0.5, Steps: 1000, LutLo: -1000, LutScale: 255.0 / 3000, OpacityExp: 1}
	out := make([][4]float32, 2)
	RaymarchRef(out, ref, testLUT(), p)
	if out[0][0] < 0.3 {
		t.Errorf("centre ray through the +1000 HU sphere: %v, want bright", out[0])
	}
	if out[1][0] != 0 || out[1][1] != 0 {
		t.Errorf("corner ray through air: %v, want black", out[1])
	}
}
