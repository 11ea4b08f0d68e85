package dicomread

import (
	"fmt"
)

// FormatError reports input that is not valid DICOM: a missing preamble, a
// length that runs past the end of the file, a value of the wrong size. The
// file cannot be read as it stands.
type FormatError struct {
	Msg string // what is wrong, for a person
}

// Error implements error.
func (e *FormatError) Error() string { return "invalid DICOM: " + e.Msg }

// UnsupportedError reports valid DICOM that ctlens does not handle: a
// transfer syntax without a decoder (JPEG-LS, JPEG 2000), colour pixels, an
// object that is not an image (SR, RTSTRUCT).
type UnsupportedError struct {
	Msg string // what is not handled, for a person
}

// Error implements error.
func (e *UnsupportedError) Error() string { return "unsupported: " + e.Msg }

// FileError ties an error to the file it came from, so that a per-file list
// of problems can be shown while the rest of an import goes on. Path is empty
// when the reader was not given a name (ReadHeader on a bare io.Reader).
type FileError struct {
	Path string // the file, as found under the imported fs.FS
	Err  error  // wraps a *FormatError or *UnsupportedError
}

// Error implements error: "volume: PATH: (gggg,eeee) Name: ...". The
// "volume:" prefix predates this package and is kept: callers (the
// library's import list) strip it by that name.
func (e *FileError) Error() string {
	if e.Path == "" {
		return "volume: " + e.Err.Error()
	}
	return "volume: " + e.Path + ": " + e.Err.Error()
}

// Unwrap returns the file's error, for errors.As.
func (e *FileError) Unwrap() error { return e.Err }

// Tag is a DICOM attribute tag (group, element), PS3.5 7.1.
type Tag struct {
	Group, Element uint16 // hexadecimal in DICOM's writing: (Group,Element)
}

// String writes the tag as DICOM does: "(0028,0010)".
func (t Tag) String() string { return fmt.Sprintf("(%04X,%04X)", t.Group, t.Element) }

// tagged wraps err with the tag and its keyword, the form every error of
// this room takes below the file level: "(0028,0010) Rows: ...".
func tagged(t Tag, name string, err error) error {
	return fmt.Errorf("%v %s: %w", t, name, err)
}

func formatErrorf(format string, a ...any) error {
	return &FormatError{Msg: fmt.Sprintf(format, a...)}
}

func unsupportedf(format string, a ...any) error {
	return &UnsupportedError{Msg: fmt.Sprintf(format, a...)}
}
