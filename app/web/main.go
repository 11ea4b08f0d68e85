// Command web is the ctlens app's WebAssembly entry point:
//
//	GOOS=js GOARCH=wasm go build -o app.wasm ./app/web
//
// `go run ./server` builds and serves it; natively it does nothing (the
// server registers the same routes itself to render the pages).
package main

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	ctlens "ctlens/app"
)

func main() {
	ctlens.Routes()
	app.RunWhenOnBrowser()
}
