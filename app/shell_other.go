//go:build !(js && wasm)

package app

import "github.com/maxence-charriere/go-app/v10/pkg/app"

// probeGPU: outside the browser there is no navigator.gpu to ask.
func probeGPU() (GPUStatus, string, bool) { return GPUMissing, "", false }

// watchConnectivity: outside the browser the page is rendered once on the
// server; there is nothing to watch.
func watchConnectivity(ctx app.Context, w *Workstation) {}
