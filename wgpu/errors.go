package wgpu

import (
	"errors"
	"fmt"
)

// ErrDeviceLost is wrapped by every error returned after the device was lost.
// Callers recover by opening a new Device and re-uploading what they need.
var ErrDeviceLost = errors.New("wgpu: device lost")

// ErrTooLarge is wrapped when a buffer would exceed the device's limits.
var ErrTooLarge = errors.New("wgpu: buffer exceeds device limit")

// Error is a WebGPU error caught by an error scope: a validation failure,
// an out-of-memory condition or an internal driver error.
type Error struct {
	Kind    string // "validation", "out-of-memory" or "internal"
	Op      string // what ctlens was doing, e.g. `pipeline "rmsnorm/f32"`
	Message string // the driver's words
}

func (e *Error) Error() string {
	return fmt.Sprintf("wgpu: %s: %s error: %s", e.Op, e.Kind, e.Message)
}
