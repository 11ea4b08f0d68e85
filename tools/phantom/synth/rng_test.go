package synth

import (
	"math"
	"math/big"
	"strings"
	"testing"
)

func TestStreamsIndependent(t *testing.T) {
	a, b, a2 := stream(1, "case", 1), stream(1, "case", 2), stream(1, "case", 1)
	if x, y := a.u64(), b.u64(); x == y {
		t.Errorf("streams for case 1 and 2 start alike: %x", x)
	}
	a = stream(1, "case", 1)
	for i := 0; i < 100; i++ {
		if x, y := a.u64(), a2.u64(); x != y {
			t.Fatalf("same label, draw %d: %x != %x", i, x, y)
		}
	}
	// "1" as a string and 1 as an int must not collide.
	if stream(1, "1").u64() == stream(1, 1).u64() {
		t.Errorf("string and int labels collide")
	}
}

func TestNormalMoments(t *testing.T) {
	r := stream(9, "normal")
	const n = 200000
	var s, s2 float64
	for i := 0; i < n; i++ {
		x := r.normal()
		s += x
		s2 += x * x
	}
	mean, sd := s/n, math.Sqrt(s2/n-(s/n)*(s/n))
	if math.Abs(mean) > 0.01 || math.Abs(sd-1) > 0.01 {
		t.Errorf("normal(): mean %.4f sd %.4f, want 0 and 1", mean, sd)
	}
	for i := 0; i < 1000; i++ {
		if u := r.intn(7); u < 0 || u >= 7 {
			t.Fatalf("intn(7) = %d", u)
		}
		if f := r.float(); f < 0 || f >= 1 {
			t.Fatalf("float() = %v", f)
		}
	}
}

func TestDeriveUID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		u := deriveUID(42, "sop", 1, i)
		if len(u) > 64 || !strings.HasPrefix(u, "2.25.") {
			t.Fatalf("%q: want a 2.25 UID of at most 64 characters", u)
		}
		digits := u[5:]
		if digits[0] == '0' || strings.Trim(digits, "0123456789") != "" {
			t.Fatalf("%q: the component after 2.25 must be a decimal without leading zero", u)
		}
		n, _ := new(big.Int).SetString(digits, 10)
		if n.BitLen() > 128 {
			t.Fatalf("%q: more than 128 bits", u)
		}
		// RFC 9562: version nibble 8, variant bits 10.
		if v := new(big.Int).Rsh(n, 76).Int64() & 0xF; v != 8 {
			t.Fatalf("%q: UUID version %d, want 8", u, v)
		}
		if v := new(big.Int).Rsh(n, 62).Int64() & 0x3; v != 2 {
			t.Fatalf("%q: UUID variant bits %b, want 10", u, v)
		}
		if seen[u] {
			t.Fatalf("%q derived twice", u)
		}
		seen[u] = true
	}
	if deriveUID(42, "study") != deriveUID(42, "study") || deriveUID(42, "study") == deriveUID(43, "study") {
		t.Errorf("UIDs must follow the seed: same seed same UID, other seed other UID")
	}
}
