//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "importer is the app's DICOM import Web Worker: build it with GOOS=js GOARCH=wasm go build ./app/importer; `go run ./server` serves it")
	os.Exit(2)
}
