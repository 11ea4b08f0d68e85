package codec

import "fmt"

// FormatError reports input that violates the format it claims to be in
// (ITU-T T.81 for JPEG, DICOM PS3.5 Annex G for RLE): a bad marker segment,
// an impossible table, truncated entropy-coded data, an RLE header whose
// offsets point outside the fragment, and so on.
//
// Where names the part of the stream being processed when the problem was
// found: a JPEG marker ("SOF3", "DHT", "SOS", "RST2", "scan data"), or an RLE
// structure ("header", "segment 2"). Offset is the byte offset into the
// decoder's input at which it was detected, or -1 when no single offset
// applies (for example when an argument is invalid).
type FormatError struct {
	Codec  string // "jpeg" or "rle"
	Where  string // marker or structure being decoded
	Offset int    // byte offset into the input, or -1
	Msg    string // what is wrong
}

// Error formats the error as "codec: <codec>: invalid <where> at offset
// <n>: <msg>".
func (e *FormatError) Error() string {
	return describe(e.Codec, "invalid", e.Where, e.Offset, e.Msg)
}

// UnsupportedError reports a stream that may well be valid but uses a
// process or feature this package deliberately does not implement, for
// example arithmetic coding, hierarchical JPEG, JPEG-LS, an image larger
// than MaxImageSamples, or an RLE bit depth other than 8, 16 or 32.
// Callers can use it to fall back to another decoder instead of reporting
// a corrupt file.
type UnsupportedError struct {
	Codec  string // "jpeg" or "rle"
	Where  string // marker or structure being decoded
	Offset int    // byte offset into the input, or -1
	Msg    string // the unsupported feature
}

// Error formats the error as "codec: <codec>: unsupported <where> at
// offset <n>: <msg>".
func (e *UnsupportedError) Error() string {
	return describe(e.Codec, "unsupported", e.Where, e.Offset, e.Msg)
}

// describe formats both error kinds alike so that log lines always carry
// the codec, the location and the reason, in that order.
func describe(codec, kind, where string, off int, msg string) string {
	s := "codec: " + codec + ": " + kind
	if where != "" {
		s += " " + where
	} else if kind == "invalid" {
		s += " data"
	}
	if off >= 0 {
		s += fmt.Sprintf(" at offset %d", off)
	}
	return s + ": " + msg
}

func jpegErr(where string, off int, format string, args ...any) error {
	return &FormatError{Codec: "jpeg", Where: where, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func jpegUnsupported(where string, off int, format string, args ...any) error {
	return &UnsupportedError{Codec: "jpeg", Where: where, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func rleErr(where string, off int, format string, args ...any) error {
	return &FormatError{Codec: "rle", Where: where, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func rleUnsupported(where string, off int, format string, args ...any) error {
	return &UnsupportedError{Codec: "rle", Where: where, Offset: off, Msg: fmt.Sprintf(format, args...)}
}
