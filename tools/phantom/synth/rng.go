package synth

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"math/bits"
	"math/rand/v2"
)

// rng is a seeded stream of random numbers. Every draw goes through the
// PCG source (whose output the Go project specifies), and the conversions to
// floats and normals are our own, so the same seed gives the same phantom
// on every Go release and machine.
type rng struct {
	src   *rand.PCG
	spare float64 // second normal of the last polar-method pair
	has   bool
}

// stream derives an independent stream from a seed and a label path such as
// ("case", 7, "anatomy"). Streams are keyed by name rather than drawn in
// sequence so that adding a draw to one part of the generator does not shift
// the numbers every other part sees.
func stream(seed uint64, parts ...any) *rng {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			h.Write([]byte{0})
			h.Write([]byte(v))
		case int:
			binary.LittleEndian.PutUint64(b[:], uint64(v))
			h.Write([]byte{1})
			h.Write(b[:])
		case uint64:
			binary.LittleEndian.PutUint64(b[:], v)
			h.Write([]byte{2})
			h.Write(b[:])
		default:
			panic("synth: stream label must be string, int or uint64")
		}
	}
	sum := h.Sum(nil)
	return &rng{src: rand.NewPCG(binary.LittleEndian.Uint64(sum[0:8]), binary.LittleEndian.Uint64(sum[8:16]))}
}

func (r *rng) u64() uint64 { return r.src.Uint64() }

// float returns a uniform value in [0, 1).
func (r *rng) float() float64 { return float64(r.src.Uint64()>>11) * (1.0 / (1 << 53)) }

// uniform returns a uniform value in [lo, hi).
func (r *rng) uniform(lo, hi float64) float64 { return lo + (hi-lo)*r.float() }

// intn returns a uniform integer in [0, n).
func (r *rng) intn(n int) int {
	if n <= 0 {
		panic("synth: intn with n <= 0")
	}
	// Lemire's multiply-shift; the bias for our small n is far below 2⁻⁴⁰.
	hi, _ := bits.Mul64(r.src.Uint64(), uint64(n))
	return int(hi)
}

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

// normal returns a standard normal value (Marsaglia's polar method).
func (r *rng) normal() float64 {
	if r.has {
		r.has = false
		return r.spare
	}
	for {
		u := 2*r.float() - 1
		v := 2*r.float() - 1
		s := u*u + v*v
		if s > 0 && s < 1 {
			f := math.Sqrt(-2 * math.Log(s) / s)
			r.spare, r.has = v*f, true
			return u * f
		}
	}
}

// logUniform returns a value whose logarithm is uniform in [log lo, log hi):
// small nodules are common and large ones rare, as in screening cohorts.
func (r *rng) logUniform(lo, hi float64) float64 {
	return math.Exp(r.uniform(math.Log(lo), math.Log(hi)))
}
