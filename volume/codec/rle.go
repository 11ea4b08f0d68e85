package codec

import (
	"encoding/binary"
	"strconv"
)

// RLE Lossless, DICOM PS3.5 Annex G. A frame is a 64-byte header (G.5:
// the number of segments followed by 15 segment offsets, all 32-bit
// little-endian) and up to 15 segments. Each segment holds one byte plane
// of one sample plane, most significant byte first (G.2), compressed with
// PackBits runs (G.3.1).

// DecodeRLE decodes one RLE Lossless frame (one DICOM fragment) of
// rows×cols pixels, each with samples samples of bitsAllocated bits
// (8, 16 or 32). The result holds rows*cols*samples samples of
// bitsAllocated/8 bytes, little-endian, interleaved by pixel
// (colour-by-pixel, PlanarConfiguration 0) whatever the dataset's
// PlanarConfiguration says: the segments, not the attribute, define the
// planes, and interleaved output matches Image.Pix of DecodeJPEG.
//
// Errors are *FormatError for a malformed frame (bad header, offsets
// outside the data, segment count not matching the arguments, segments
// that decode to more or fewer bytes than a plane) and *UnsupportedError
// for parameters this decoder does not handle.
func DecodeRLE(data []byte, rows, cols, bitsAllocated, samples int) ([]byte, error) {
	if rows <= 0 || cols <= 0 || rows > 0xFFFF || cols > 0xFFFF {
		return nil, rleErr("", -1, "image size %d×%d outside 1..65535", cols, rows)
	}
	if samples <= 0 {
		return nil, rleErr("", -1, "%d samples per pixel", samples)
	}
	if bitsAllocated != 8 && bitsAllocated != 16 && bitsAllocated != 32 {
		return nil, rleUnsupported("", -1, "BitsAllocated %d (only 8, 16 and 32 are supported)", bitsAllocated)
	}
	bps := bitsAllocated / 8
	nseg := samples * bps
	if nseg > 15 {
		return nil, rleUnsupported("", -1, "%d samples of %d bits need %d segments, RLE allows at most 15", samples, bitsAllocated, nseg)
	}
	npix := rows * cols
	if int64(npix)*int64(samples) > MaxImageSamples {
		return nil, rleUnsupported("", -1, "image of %d×%d×%d samples exceeds MaxImageSamples (%d)", cols, rows, samples, MaxImageSamples)
	}
	if len(data) < 64 {
		return nil, rleErr("header", 0, "frame of %d bytes is shorter than the 64-byte header", len(data))
	}
	n := int(binary.LittleEndian.Uint32(data))
	if n != nseg {
		return nil, rleErr("header", 0, "%d segments, expected %d for %d samples of %d bits", n, nseg, samples, bitsAllocated)
	}
	var start, end [15]int
	for i := 0; i < n; i++ {
		off := binary.LittleEndian.Uint32(data[4+4*i:])
		if off < 64 || int64(off) > int64(len(data)) {
			return nil, rleErr("header", 4+4*i, "segment %d offset %d outside 64..%d", i+1, off, len(data))
		}
		start[i] = int(off)
		if i > 0 && start[i] < start[i-1] {
			return nil, rleErr("header", 4+4*i, "segment %d offset %d precedes segment %d", i+1, off, i)
		}
	}
	if start[0] != 64 {
		return nil, rleErr("header", 4, "first segment offset %d, must be 64", start[0])
	}
	for i := 0; i < n; i++ {
		end[i] = len(data)
		if i+1 < n {
			end[i] = start[i+1]
		}
		// A PackBits run of 2 bytes expands to at most 128, so a
		// segment shorter than npix/64 cannot fill a plane: reject before
		// allocating the output.
		if int64(end[i]-start[i])*64 < int64(npix) {
			return nil, rleErr(segName(i), start[i], "%d bytes cannot encode %d samples", end[i]-start[i], npix)
		}
	}
	out := make([]byte, npix*samples*bps)
	plane := make([]byte, npix)
	for i := 0; i < n; i++ {
		if err := unpackBits(data[start[i]:end[i]], plane, i, start[i]); err != nil {
			return nil, err
		}
		// Segment i is byte (i % bps) of sample plane i / bps, counting
		// from the most significant byte; output is little-endian.
		s, b := i/bps, i%bps
		pos := s*bps + (bps - 1 - b)
		stride := samples * bps
		for p, v := range plane {
			out[p*stride+pos] = v
		}
	}
	return out, nil
}

func segName(i int) string { return "segment " + strconv.Itoa(i+1) }

// unpackBits decodes one PackBits segment (G.3.1) into dst, which it must
// fill exactly. Bytes after the plane is complete are ignored: encoders
// pad segments to an even length.
func unpackBits(src, dst []byte, seg, base int) error {
	o := 0
	i := 0
	for o < len(dst) {
		if i >= len(src) {
			return rleErr(segName(seg), base+i, "segment ends after %d of %d bytes", o, len(dst))
		}
		h := int(int8(src[i]))
		i++
		switch {
		case h >= 0: // literal run of h+1 bytes
			n := h + 1
			if i+n > len(src) {
				return rleErr(segName(seg), base+i-1, "literal run of %d bytes past the end of the segment", n)
			}
			if o+n > len(dst) {
				return rleErr(segName(seg), base+i-1, "literal run of %d bytes overruns the plane (%d bytes left)", n, len(dst)-o)
			}
			copy(dst[o:], src[i:i+n])
			i += n
			o += n
		case h != -128: // replicate the next byte 1-h times
			n := 1 - h
			if i >= len(src) {
				return rleErr(segName(seg), base+i-1, "replicate run without its byte")
			}
			if o+n > len(dst) {
				return rleErr(segName(seg), base+i-1, "replicate run of %d bytes overruns the plane (%d bytes left)", n, len(dst)-o)
			}
			b := src[i]
			i++
			for k := o; k < o+n; k++ {
				dst[k] = b
			}
			o += n
		}
		// -128 is a no-op.
	}
	return nil
}
