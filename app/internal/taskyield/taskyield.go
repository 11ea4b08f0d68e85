// Package taskyield ends the browser task the wasm is running in, so
// that long work on the page's thread is cut into tasks under the
// responsiveness budget (no main-thread task over 200 ms).
//
// Go's wasm returns to the browser only when no goroutine is runnable.
// time.Sleep(time.Millisecond) is therefore no yield: while one
// goroutine sleeps, others run, and if they run past its millisecond
// (a first run on the page also pays V8's lazy compilation of every
// function it calls) the sleeper is runnable again and the task goes
// on. Yield waits instead for a callback that only the browser can make
// (setTimeout), which cannot run before the wasm has returned.
package taskyield
