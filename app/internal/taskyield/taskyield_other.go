//go:build !(js && wasm)

package taskyield

import "time"

// Yield blocks the calling goroutine for a millisecond: outside a
// browser there is no task to end, and natively the other goroutines
// run meanwhile anyway.
func Yield() { time.Sleep(time.Millisecond) }
