// Package jsawait waits on JavaScript promises from Go on js/wasm: the one
// helper the page's panels and the model worker share. Await blocks the
// calling goroutine, so call it off the UI goroutine (go-app's ctx.Async)
// or in the worker.
package jsawait
