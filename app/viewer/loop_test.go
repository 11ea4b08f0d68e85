//go:build !js

package viewer

import (
	"context"
	"sync"
	"testing"
	"time"

	"ctlens/shaders"
	"ctlens/volume"
)

type shown struct {
	view string
	w, h int
	img  []byte
}

// The render loop, natively: it uploads the volume, draws the MPR frames
// it is given, and refines the 3D view pass by pass up to the top level
// (lavapipe is quick on a small volume).
func TestRenderLoopDrawsAndRefines(t *testing.T) {
	l := newRenderLoop()
	var mu sync.Mutex
	var got []shown
	done := make(chan struct{}, 16)
	l.show = func(view string, img []byte, w, h int) {
		mu.Lock()
		got = append(got, shown{view, w, h, append([]byte(nil), img...)})
		mu.Unlock()
		done <- struct{}{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- l.run(ctx, func(string) {}) }()

	v := testVolume(nil)
	s := NewSession(v)
	l.setVolume(v)
	l.setLUT(Presets3D[0].LUT())
	p := s.MPR["axial"].Params(v, 40, 30, s.Cross, volume.Window{Center: 0, Width: 2000}, false, Slab{})
	p.HeatOn = 0
	l.request(frame{view: "axial", mpr: &p})
	lo, hi := Presets3D[0].Range()
	l.request(frame{view: "3d", top: len(rayLevels) - 1, ray: func(level int) shaders.RaymarchParams {
		lv := rayLevels[level]
		return s.Cam.Params(v, 64/lv.div, 48/lv.div, RayQuality{StepMM: lv.step, Steps: lv.steps}, shaders.RayDVR, lo, hi, volume.Window{}, true)
	}})
	want := 1 + len(rayLevels)
	for i := 0; i < want; i++ {
		select {
		case <-done:
		case err := <-errc:
			t.Fatalf("the loop ended: %v", err)
		case <-time.After(60 * time.Second):
			t.Fatalf("only %d of %d frames after 60 s", i, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	var sizes []int
	for _, f := range got {
		if len(f.img) != 4*f.w*f.h {
			t.Errorf("%s: %d bytes for %d×%d", f.view, len(f.img), f.w, f.h)
		}
		if f.view == "3d" {
			sizes = append(sizes, f.w)
		}
	}
	if len(sizes) != len(rayLevels) || sizes[0] != 16 || sizes[len(sizes)-1] != 64 {
		t.Errorf("3D passes drawn at widths %v, want %d passes from 16 to 64", sizes, len(rayLevels))
	}
	if got[0].view != "axial" {
		t.Errorf("first frame %s, want the axial MPR (drawn before the 3D passes)", got[0].view)
	}
}
