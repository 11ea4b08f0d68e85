package app

import (
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

func TestDrawerToggles(t *testing.T) {
	var w Workstation
	steps := []struct {
		toggle Drawer
		want   Drawer
	}{
		{DrawerLibrary, DrawerLibrary},     // opens
		{DrawerAssistant, DrawerAssistant}, // the other replaces it
		{DrawerAssistant, ""},              // the same one closes
		{DrawerLibrary, DrawerLibrary},
		{DrawerLibrary, ""},
	}
	for i, s := range steps {
		w.Toggle(s.toggle)
		if w.Open() != s.want {
			t.Fatalf("step %d: Toggle(%q) left %q open, want %q", i, s.toggle, w.Open(), s.want)
		}
	}
}

// TestShellRendersInTestEngine mounts the workstation in go-app's test
// engine (no browser): the root carries the open drawer as a class, the
// panels are in place, and the status line words follow the GPU probe.
func TestShellRendersInTestEngine(t *testing.T) {
	nop := func(app.Context, app.Event) {}
	for _, c := range []struct {
		open  Drawer
		class string
	}{{"", "workstation"}, {DrawerLibrary, "workstation drawer-library"}, {DrawerAssistant, "workstation drawer-assistant"}} {
		w := &Workstation{open: c.open, gpu: GPUReady, adapter: "Test GPU"}
		e := app.NewTestEngine()
		if err := e.Load(w); err != nil {
			t.Fatal(err)
		}
		e.ConsumeAll()
		if err := app.TestMatch(w, app.TestUIDescriptor{
			Path:     app.TestPath(0),
			Expected: app.Div().ID("workstation").Class(c.class).OnKeyDown(nop),
		}); err != nil {
			t.Errorf("open %q: root: %v", c.open, err)
		}
		panes := []app.UI{
			app.Aside().ID("pane-library").Class("pane", "pane-library").Aria("label", "Study library"),
			app.Main().ID("pane-viewer").Class("pane", "pane-viewer"),
			app.Aside().ID("pane-assistant").Class("pane", "pane-assistant").Aria("label", "Assistant"),
		}
		for i, p := range panes {
			if err := app.TestMatch(w, app.TestUIDescriptor{Path: app.TestPath(0, i+1), Expected: p}); err != nil {
				t.Errorf("pane %d: %v", i, err)
			}
		}
		if err := app.TestMatch(w, app.TestUIDescriptor{Path: app.TestPath(0, 5, 0, 0), Expected: app.Text("Test GPU")}); err != nil {
			t.Errorf("status line adapter: %v", err)
		}
		if err := app.TestMatch(w, app.TestUIDescriptor{Path: app.TestPath(0, 5, 1, 0), Expected: app.Text("WebGPU")}); err != nil {
			t.Errorf("status line WebGPU: %v", err)
		}
	}
}

func TestStatusLineWords(t *testing.T) {
	for _, c := range []struct {
		w    Workstation
		path []int // to the WebGPU span's text
		want string
	}{
		{Workstation{gpu: GPUReady, f16: true}, []int{0, 5, 1, 0}, "WebGPU · f16"},
		{Workstation{gpu: GPUMissing}, []int{0, 5, 0, 0}, "no WebGPU"},
		{Workstation{gpu: GPUChecking}, []int{0, 5, 0, 0}, "checking GPU…"},
	} {
		w := c.w
		e := app.NewTestEngine()
		if err := e.Load(&w); err != nil {
			t.Fatal(err)
		}
		e.ConsumeAll()
		if err := app.TestMatch(&w, app.TestUIDescriptor{Path: app.TestPath(c.path...), Expected: app.Text(c.want)}); err != nil {
			t.Errorf("gpu %d f16 %v: %v", c.w.gpu, c.w.f16, err)
		}
	}
}
