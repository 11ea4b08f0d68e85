// Command web is the ctlens app's WebAssembly entry point:
//
//	GOOS=js GOARCH=wasm go build -o app.wasm ./app/web
//
// `go run ./server` builds and serves it; natively it does nothing (the
// server registers the same routes itself to render the pages).
//
// The start is split into short browser tasks (see app/web/boot): boot
// yields during package initialisation, main yields before go-app mounts
// the page, and the workstation mounts its panels one task at a time.
package main

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	ctlens "ctlens/app"
	"ctlens/app/internal/taskyield"
	"ctlens/app/web/boot"
)

func main() {
	if boot.InBrowser {
		// The package inits ran in tasks of their own; so does go-app's
		// first mount.
		taskyield.Yield()
	}
	ctlens.Routes()
	app.RunWhenOnBrowser()
}
