//go:build !(js && wasm)

package assistant

import (
	"context"
	"errors"
)

// The panel's browser calls have no native counterpart: natively the
// server only renders the page, and these are never reached.

var errNotBrowser = errors.New("only in the browser")

func hasWebGPU() bool                              { return false }
func copyText(ctx context.Context, s string) error { return errNotBrowser }
func download(name, mime string, data []byte)      {}
func pickedFiles(id string) (any, error)           { return nil, errNotBrowser }
func clearValue(id string)                         {}
