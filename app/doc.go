// Package app will be the go-app v10 progressive web app: the study
// library, the WebGPU viewer and the AI assistant panel (issue #6).
package app
