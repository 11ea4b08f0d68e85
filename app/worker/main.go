// Command worker is the model engine's Web Worker: a second js/wasm
// program, apart from the app's, that the assistant panel starts with
// new Worker("/web/engine-worker.js"). It loads a model directory
// through the weights cache (IndexedDB) in front of the server's
// /weights/ (or a folder the user picked), runs it with model/engine on
// WebGPU (navigator.gpu exists in dedicated workers) or on the CPU
// backend, and streams what it does back to the page by postMessage, in
// app/worker/protocol's messages. Off the page's thread, the vision pass
// and each decode step no longer hold up the page.
//
//	GOOS=js GOARCH=wasm go build -o engine.wasm ./app/worker
//
// `go run ./server` builds and serves it (server/serve); natively it
// only says so.
package main
