//go:build !js

package wgpu

/*
#include <stdint.h>
#include <stdlib.h>

// Declared here rather than through cogentcore's header (which lives in the
// module cache); the symbols come from the wgpu-native library that
// cogentcore/webgpu links.
typedef struct WGPUDeviceImpl* WGPUDevice;
typedef void (*WGPUErrorCallback)(uint32_t type, char const * message, void * userdata);
void wgpuDevicePushErrorScope(WGPUDevice device, uint32_t filter);
void wgpuDevicePopErrorScope(WGPUDevice device, WGPUErrorCallback callback, void * userdata);

typedef struct { uint32_t type; char msg[1024]; } ctlens_scope_result;

static void ctlens_scope_cb(uint32_t type, char const * message, void * userdata) {
	ctlens_scope_result *r = (ctlens_scope_result*)userdata;
	r->type = type;
	r->msg[0] = 0;
	if (message) {
		size_t i = 0;
		for (; message[i] && i < sizeof(r->msg) - 1; i++) r->msg[i] = message[i];
		r->msg[i] = 0;
	}
}

static void ctlens_push(WGPUDevice d) {
	// wgpu-native of this version knows no "internal" filter (it aborts).
	wgpuDevicePushErrorScope(d, 1); // out-of-memory
	wgpuDevicePushErrorScope(d, 0); // validation
}

static void ctlens_pop(WGPUDevice d, ctlens_scope_result *r) {
	for (int i = 0; i < 2; i++) {
		ctlens_scope_result one = {0};
		wgpuDevicePopErrorScope(d, ctlens_scope_cb, &one);
		if (r->type == 0 && one.type != 0) *r = one;
	}
}
*/
import "C"

import (
	"unsafe"

	webgpu "github.com/cogentcore/webgpu/wgpu"
)

// rawDevice reads the C handle out of cogentcore's Device, whose only field
// is that handle (checked by TestRawDeviceLayout at the pinned version).
func rawDevice(d *webgpu.Device) C.WGPUDevice {
	return *(*C.WGPUDevice)(unsafe.Pointer(d))
}

// scope runs f inside validation and out-of-memory error scopes and
// returns the first error they caught.
func (d *Device) scope(op string, f func()) error {
	if err := d.Lost(); err != nil {
		return err
	}
	dev := rawDevice(d.raw)
	C.ctlens_push(dev)
	f()
	var r C.ctlens_scope_result
	C.ctlens_pop(dev, &r)
	if err := d.Lost(); err != nil {
		return err
	}
	typ, msg := uint32(r._type), C.GoString(&r.msg[0])
	if typ == 5 { // WGPUErrorType_DeviceLost
		d.markLost(msg)
		return d.Lost()
	}
	return scopeError(op, typ, msg)
}

func scopeError(op string, typ uint32, msg string) error {
	switch typ {
	case 0:
		return nil
	case 1:
		return &Error{Kind: "validation", Op: op, Message: msg}
	case 2:
		return &Error{Kind: "out-of-memory", Op: op, Message: msg}
	}
	return &Error{Kind: "internal", Op: op, Message: msg}
}
