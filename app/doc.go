// Package app is the go-app v10 progressive web app: the workstation
// shell that lays out the study library (app/library), the WebGPU viewer
// (app/viewer) and the AI assistant (app/assistant), which share the
// series on screen through app/state. app/web is its wasm entry point;
// server/ serves it.
package app
