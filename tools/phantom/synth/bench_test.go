package synth

import "testing"

// BenchmarkSlice512 renders and encodes one 512×512 slice of a full-size
// case (model, noise, rescale); a series is 160 of these over GOMAXPROCS
// goroutines.
func BenchmarkSlice512(b *testing.B) {
	c, err := NewCase(Options{Seed: 11, Size: Size{512, 512, 160}}, 1)
	if err != nil {
		b.Fatal(err)
	}
	s := c.series[0]
	var sc scratch
	b.SetBytes(512 * 512 * 2)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.pixels(s, s.files[(i*37)%len(s.files)].frames[0], &sc)
		i++
	}
}

// BenchmarkNewCase plans a case: anatomy, findings (with their volume
// integrals) and the ground truth, without pixels.
func BenchmarkNewCase(b *testing.B) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := NewCase(Options{Seed: 77, Size: Size{512, 512, 160}}, i); err != nil {
			b.Fatal(err)
		}
	}
}
