package volume

import (
	"fmt"
	"math"
)

// Window is a display window in HU: values from Center−Width/2 to
// Center+Width/2 map onto the grey ramp (PS3.3 C.11.2.1.2.1).
type Window struct {
	Center, Width float64      // HU
	Name          string       // "lung", the file's explanation, "auto"…
	Source        WindowSource // where it came from
}

// String writes the window as a viewer labels it: "lung W1500/L-600".
func (w Window) String() string {
	return fmt.Sprintf("%s W%g/L%g", w.Name, w.Width, w.Center)
}

// Apply maps hu through the window onto [0,1] (the LINEAR function of
// PS3.3 C.11.2.1.2.1, without its half-unit offsets, which only matter for
// integer output).
func (w Window) Apply(hu float64) float64 {
	lo := w.Center - w.Width/2
	t := (hu - lo) / w.Width
	return math.Min(1, math.Max(0, t))
}

// WindowSource says where a window came from.
type WindowSource string

// The sources DefaultWindow chooses between, in its order of precedence.
const (
	SourceUser   WindowSource = "user"
	SourceHeader WindowSource = "header"
	SourceStats  WindowSource = "statistics"
	SourcePreset WindowSource = "preset"
)

// Presets are the standard CT windows (width/level in HU) offered beside the
// ones a file carries.
var Presets = []Window{
	{Name: "brain", Width: 80, Center: 40, Source: SourcePreset},
	{Name: "soft tissue", Width: 400, Center: 40, Source: SourcePreset},
	{Name: "lung", Width: 1500, Center: -600, Source: SourcePreset},
	{Name: "bone", Width: 2000, Center: 500, Source: SourcePreset},
	{Name: "liver", Width: 150, Center: 90, Source: SourcePreset},
	{Name: "mediastinum", Width: 400, Center: 40, Source: SourcePreset},
}

// DefaultWindow chooses the window a view opens with, in VolView's order:
// the user's own value for this view, else the first window the header
// carries (Window Center/Width; in windows, those with Source
// SourceHeader, so a Volume's Windows can be passed as they are), else one
// computed from the volume's statistics (its 1st to 99th HU percentile).
func DefaultWindow(user *Window, windows []Window, stats Stats) Window {
	if user != nil && user.Width >= 1 {
		w := *user
		w.Source = SourceUser
		return w
	}
	for _, w := range windows {
		if w.Source == SourceHeader {
			return w
		}
	}
	lo, hi := float64(stats.P01), float64(stats.P99)
	if hi-lo < 1 {
		lo, hi = float64(stats.Min), math.Max(float64(stats.Max), float64(stats.Min)+1)
	}
	return Window{Center: (lo + hi) / 2, Width: hi - lo, Name: "auto", Source: SourceStats}
}
