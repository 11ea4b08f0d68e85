// Package boot splits the app's start into browser tasks short enough
// for the page to stay responsive (no main-thread task over 200 ms).
//
// Go's wasm runs JavaScript only when every goroutine is blocked, and
// go-app's loader calls the wasm once and runs it until it first
// blocks: the runtime, every package's init and go-app's first mount of
// the whole workstation, 0.4–1 s in one task when it all ran at once.
// This package's init is among the first to run and blocks, ending the
// task that instantiated the wasm; main then yields before go-app
// mounts, and the workstation mounts its panels one task at a time.
// Each of these yields waits for a browser callback (taskyield.Yield): a plain
// time.Sleep does not reliably end a task in Go's wasm.
// (The DICOM parser, whose tag dictionary was the largest single init,
// is no longer on the page at all: app/importer.)
//
// go-app's loader (app.js) removes its "Loading…" overlay as soon as the
// wasm first returns, which would now show the page before the app has
// mounted; init therefore swaps the overlay for a copy app.js does not
// know, and the app removes it (Release) once it has mounted.
package boot

// LoaderID is the id of go-app's loading overlay.
const LoaderID = "app-wasm-loader"
