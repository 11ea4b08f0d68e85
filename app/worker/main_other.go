//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "the model worker runs in the browser: GOOS=js GOARCH=wasm go build ./app/worker (go run ./server builds and serves it)")
	os.Exit(2)
}
