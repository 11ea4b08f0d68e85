package dicomread

// The frame decoders of encapsulated transfer syntaxes (PS3.5 A.4), by the
// codec name of syntax.go. A syntax whose codec is missing here (JPEG-LS,
// JPEG 2000, video) is reported as an UnsupportedError naming the syntax,
// the file and the series; it is never decoded into garbage.

import (
	"errors"

	"ctlens/volume/codec"
)

// decoded is one decoded frame: either sample values (one per pixel, the
// stored bits as the codec produced them) or native little-endian bytes laid
// out as uncompressed Pixel Data would be.
type decoded struct {
	samples []uint16
	native  []byte
}

// frameCodec decodes one complete frame (all its fragments joined).
type frameCodec func(data []byte, h *Header) (decoded, error)

var codecs = map[string]frameCodec{
	// Encapsulated Uncompressed (PS3.5 A.4.11): each frame is its native
	// bytes in a fragment of its own.
	"raw": func(data []byte, h *Header) (decoded, error) {
		if int64(len(data)) < h.frameBytes() {
			return decoded{}, formatErrorf("frame has %d bytes, want %d", len(data), h.frameBytes())
		}
		return decoded{native: data}, nil
	},
	// JPEG processes 1, 2 & 4, 6 & 8, 10 & 12 and 14 (PS3.5 A.4.1, ITU-T
	// T.81), by volume/codec.
	"jpeg": func(data []byte, h *Header) (decoded, error) {
		img, err := codec.DecodeJPEG(data)
		if err != nil {
			return decoded{}, codecError(err)
		}
		if img.Width != h.Columns || img.Height != h.Rows || img.Components != 1 {
			return decoded{}, formatErrorf("JPEG frame is %d×%d×%d, header says %d×%d×1",
				img.Width, img.Height, img.Components, h.Columns, h.Rows)
		}
		return decoded{samples: img.Pix}, nil
	},
	// RLE Lossless (PS3.5 A.4.2, Annex G), by volume/codec.
	"rle": func(data []byte, h *Header) (decoded, error) {
		b, err := codec.DecodeRLE(data, h.Rows, h.Columns, h.BitsAllocated, h.SamplesPerPixel)
		if err != nil {
			return decoded{}, codecError(err)
		}
		return decoded{native: b}, nil
	},
}

// codecError maps the codec's error kinds onto this room's.
func codecError(err error) error {
	var ue *codec.UnsupportedError
	if errors.As(err, &ue) {
		return &UnsupportedError{Msg: err.Error()}
	}
	return &FormatError{Msg: err.Error()}
}
