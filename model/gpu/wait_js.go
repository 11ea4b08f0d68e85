//go:build js

package gpu

// waitFirst is false in the browser: readbacks await mapAsync's promise,
// which has no timeout, so SubmitRead may wait on work of any length.
const waitFirst = false

// waitIdle is never called in the browser (waitFirst is false).
func (b *Backend) waitIdle() error { return nil }
