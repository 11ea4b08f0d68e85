package shaders

import (
	"encoding/binary"
	"math"
)

func float32bits(f float32) uint32 { return math.Float32bits(f) }

// F32Bytes encodes float32 values little-endian.
func F32Bytes(v []float32) []byte {
	out := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(f))
	}
	return out
}

// U32Bytes encodes uint32 values little-endian.
func U32Bytes(v []uint32) []byte {
	out := make([]byte, 4*len(v))
	for i, u := range v {
		binary.LittleEndian.PutUint32(out[4*i:], u)
	}
	return out
}

// BytesF32 decodes little-endian float32 values.
func BytesF32(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// BytesU32 decodes little-endian uint32 values.
func BytesU32(b []byte) []uint32 {
	out := make([]uint32, len(b)/4)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return out
}
