//go:build js && wasm

package taskyield

import "syscall/js"

// Yield blocks the calling goroutine until the browser has run a task
// of its own (a setTimeout callback): the current task ends, and this
// goroutine resumes in a new one.
func Yield() {
	done := make(chan struct{})
	f := js.FuncOf(func(js.Value, []js.Value) any {
		close(done)
		return nil
	})
	js.Global().Call("setTimeout", f, 0)
	<-done
	f.Release()
}
