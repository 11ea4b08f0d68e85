package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand"
	"strings"
	"testing"
)

// packBits compresses one byte plane row by row (PS3.5 G.3.1 requires
// rows not to share runs), using replicate runs for 3+ equal bytes and
// literal runs otherwise; each run is at most 128 bytes.
func packBits(plane []byte, cols int) []byte {
	var out []byte
	for r := 0; r+cols <= len(plane); r += cols {
		row := plane[r : r+cols]
		i := 0
		for i < len(row) {
			j := i + 1
			for j < len(row) && j-i < 128 && row[j] == row[i] {
				j++
			}
			if j-i >= 3 {
				out = append(out, byte(int8(1-(j-i))), row[i])
				i = j
				continue
			}
			// Literal: up to the next run of 3 equal bytes.
			j = i
			for j < len(row) && j-i < 128 {
				if j+2 < len(row) && row[j] == row[j+1] && row[j] == row[j+2] {
					break
				}
				j++
			}
			out = append(out, byte(j-i-1))
			out = append(out, row[i:j]...)
			i = j
		}
	}
	if len(out)%2 == 1 {
		out = append(out, 0x80) // even length; -128 is a no-op
	}
	return out
}

// encodeRLE builds an RLE frame from little-endian interleaved samples.
func encodeRLE(pix []byte, rows, cols, bitsAllocated, samples int) []byte {
	bps := bitsAllocated / 8
	n := samples * bps
	hdr := make([]byte, 64)
	binary.LittleEndian.PutUint32(hdr, uint32(n))
	var body []byte
	for i := 0; i < n; i++ {
		s, b := i/bps, i%bps
		plane := make([]byte, rows*cols)
		for p := range plane {
			plane[p] = pix[(p*samples+s)*bps+bps-1-b]
		}
		binary.LittleEndian.PutUint32(hdr[4+4*i:], uint32(64+len(body)))
		body = append(body, packBits(plane, cols)...)
	}
	return append(hdr, body...)
}

func TestRLERoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for _, c := range []struct{ rows, cols, bits, samples int }{
		{1, 1, 8, 1}, {7, 300, 8, 1}, {13, 17, 16, 1}, {9, 11, 8, 3}, {5, 6, 16, 3}, {4, 5, 32, 1}, {3, 4, 32, 3},
	} {
		pix := make([]byte, c.rows*c.cols*c.samples*c.bits/8)
		for i := range pix {
			// Mostly runs, some noise: both kinds of PackBits runs.
			if i%37 < 20 {
				pix[i] = byte(i / 37)
			} else {
				pix[i] = byte(rng.Intn(256))
			}
		}
		frame := encodeRLE(pix, c.rows, c.cols, c.bits, c.samples)
		got, err := DecodeRLE(frame, c.rows, c.cols, c.bits, c.samples)
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if !bytes.Equal(got, pix) {
			t.Fatalf("%+v: output differs", c)
		}
	}
}

func TestRLEErrors(t *testing.T) {
	pix := make([]byte, 4*4*2)
	for i := range pix {
		pix[i] = byte(i * 7)
	}
	good := encodeRLE(pix, 4, 4, 16, 1)
	if _, err := DecodeRLE(good, 4, 4, 16, 1); err != nil {
		t.Fatal(err)
	}
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	put := func(b []byte, off int, v uint32) []byte { binary.LittleEndian.PutUint32(b[off:], v); return b }
	cases := []struct {
		name                      string
		data                      []byte
		rows, cols, bits, samples int
		unsupported               bool
		where, msg                string
	}{
		{"short header", good[:40], 4, 4, 16, 1, false, "header", "shorter"},
		{"segment count", mod(func(b []byte) []byte { return put(b, 0, 3) }), 4, 4, 16, 1, false, "header", "segments"},
		{"too many segments", good, 4, 4, 32, 4, true, "", "at most 15"},
		{"offset past end", mod(func(b []byte) []byte { return put(b, 8, 1<<31) }), 4, 4, 16, 1, false, "header", "outside"},
		{"offset in header", mod(func(b []byte) []byte { return put(b, 8, 10) }), 4, 4, 16, 1, false, "header", "outside"},
		{"first offset", mod(func(b []byte) []byte { return put(b, 4, 66) }), 4, 4, 16, 1, false, "header", "must be 64"},
		{"decreasing offsets", mod(func(b []byte) []byte { put(b, 4, 64); return put(b, 8, 64) }), 4, 4, 16, 1, false, "segment 1", "cannot encode"},
		{"literal overrun", append(rleHeader(1), 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21), 2, 2, 8, 1, false, "segment 1", "overruns"},
		{"replicate overrun", append(rleHeader(1), 0xF0, 9), 2, 2, 8, 1, false, "segment 1", "overruns"},
		{"truncated literal", append(rleHeader(1), 3, 1, 2), 2, 2, 8, 1, false, "segment 1", "past the end"},
		{"truncated segment", append(rleHeader(1), 1, 1, 2), 2, 2, 8, 1, false, "segment 1", "ends after 2 of 4"},
		{"replicate without byte", append(rleHeader(1), 0x80, 0xFE), 2, 2, 8, 1, false, "segment 1", "without its byte"},
		{"allocation bomb", append(rleHeader(1), 0x81, 0), 60000, 60000, 8, 1, true, "", "MaxImageSamples"},
		{"plane bomb", append(rleHeader(1), 0x81, 0), 4000, 4000, 8, 1, false, "segment 1", "cannot encode"},
		{"bits allocated", good, 4, 4, 12, 1, true, "", "BitsAllocated"},
		{"zero rows", good, 0, 4, 16, 1, false, "", "size"},
		{"zero samples", good, 4, 4, 16, 0, false, "", "samples"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeRLE(c.data, c.rows, c.cols, c.bits, c.samples)
			if err == nil {
				t.Fatal("no error")
			}
			var fe *FormatError
			var ue *UnsupportedError
			switch {
			case c.unsupported && errors.As(err, &ue):
				if ue.Where != c.where {
					t.Errorf("where %q, want %q (%v)", ue.Where, c.where, err)
				}
			case !c.unsupported && errors.As(err, &fe):
				if fe.Where != c.where {
					t.Errorf("where %q, want %q (%v)", fe.Where, c.where, err)
				}
			default:
				t.Fatalf("wrong error type %T: %v", err, err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not mention %q", err, c.msg)
			}
		})
	}
}

// rleHeader returns a header for n segments, the first at offset 64 and
// the others (if any) unset.
func rleHeader(n int) []byte {
	h := make([]byte, 64)
	binary.LittleEndian.PutUint32(h, uint32(n))
	binary.LittleEndian.PutUint32(h[4:], 64)
	return h
}

// TestRLEPaddingAndNoop: a -128 header byte is a no-op and bytes after a
// complete plane (even-length padding) are ignored.
func TestRLEPaddingAndNoop(t *testing.T) {
	frame := append(rleHeader(1), 0x80, 0xFE, 7, 0x80, 0, 9, 0, 0, 0)
	got, err := DecodeRLE(frame, 2, 2, 8, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, []byte{7, 7, 7, 9}) {
		t.Fatalf("got %v", got)
	}
}
