package synth

import "math/big"

// deriveUID returns a UID under the 2.25 root (PS3.5 §B.2): the decimal
// value of a UUID whose 122 free bits come from the case seed and a label,
// so the same seed gives the same UIDs and different labels never collide
// in practice.
func deriveUID(caseSeed uint64, parts ...any) string {
	r := stream(caseSeed, append([]any{"uid"}, parts...)...)
	hi, lo := r.u64(), r.u64()
	// RFC 9562 version 8 (custom) and variant 10, so that the value is a
	// well-formed UUID as 2.25 asks.
	hi = hi&^(0xF<<12) | 0x8<<12
	lo = lo&^(0x3<<62) | 0x2<<62
	n := new(big.Int).SetUint64(hi)
	n.Lsh(n, 64)
	n.Or(n, new(big.Int).SetUint64(lo))
	return "2.25." + n.String()
}
