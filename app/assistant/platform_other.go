//go:build !(js && wasm)

package assistant

import (
	"context"
	"errors"

	"ctlens/model"
	"ctlens/weights"
)

// The panel's browser calls have no native counterpart: natively the
// server only renders the page, and these are never reached.

var errNotBrowser = errors.New("only in the browser")

func fetchBytes(ctx context.Context, url string) ([]byte, error) { return nil, errNotBrowser }
func httpOpener(base string) weights.Opener                      { return weights.FSOpener(nil) }
func openCache(ctx context.Context) (*weights.Cache, error)      { return nil, errNotBrowser }
func rememberBuiltIn(name string) error                          { return errNotBrowser }
func builtInName() (string, error)                               { return "", errNotBrowser }
func hasWebGPU() bool                                            { return false }
func copyText(ctx context.Context, s string) error               { return errNotBrowser }
func download(name, mime string, data []byte)                    {}
func isDeviceLost(err error) bool                                { return false }

func openGPU(ctx context.Context, onLost func(string)) (model.Ops, func(), error) {
	return nil, nil, errNotBrowser
}

func pickedFolder(ctx context.Context, id string) ([]byte, weights.Opener, string, error) {
	return nil, nil, "", errNotBrowser
}

func online() bool { return false }
