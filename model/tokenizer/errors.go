package tokenizer

import "fmt"

// FormatError reports a tokenizer.json that is not valid: bad JSON, a
// missing field, a component whose fields have the wrong shape.
type FormatError struct{ Msg string }

// Error returns the message.
func (e *FormatError) Error() string { return e.Msg }

// UnsupportedError reports a valid tokenizer.json that uses something this
// package does not implement (a model type, a component, a regex construct).
// The encoder refuses such files instead of tokenizing them differently from
// the reference.
type UnsupportedError struct{ Msg string }

// Error returns the message, prefixed with "unsupported: ".
func (e *UnsupportedError) Error() string { return "unsupported: " + e.Msg }

func formatErr(format string, args ...any) error {
	return &FormatError{Msg: fmt.Sprintf(format, args...)}
}

func unsupported(format string, args ...any) error {
	return &UnsupportedError{Msg: fmt.Sprintf(format, args...)}
}
