//go:build !js

package main

import (
	"context"

	"ctlens/wgpu"
)

// checkDeviceLost has nothing to simulate natively: wgpu-native gets no
// device-lost callback from cogentcore (see wgpu/open_native.go), and a
// loss there surfaces through the error scopes.
func checkDeviceLost(context.Context, *wgpu.Device) (string, error) {
	return "not simulated natively", nil
}

// checkRealLimits is covered natively by wgpu's TestInfoReportsRealLimits
// (cogentcore exposes no second adapter query to compare with here).
func checkRealLimits(context.Context, *wgpu.Device) (string, error) {
	return "checked by wgpu's native tests", nil
}
