//go:build !(js && wasm)

package boot

// InBrowser is true in the browser build.
const InBrowser = false

// Release does nothing outside the browser: there is no loader.
func Release() {}
