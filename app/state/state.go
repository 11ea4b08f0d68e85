// Package state is what the app's components share while the page is
// open: the series on screen (its volume, already in memory) and the
// model's routing for it, so that the viewer can draw the assistant's
// expert heat map. It holds no UI and no storage (that is app/library).
//
// Components learn of changes through go-app actions (the Action*
// names), and read the values here: actions carry only small values, and
// a volume is hundreds of megabytes.
package state

import (
	"sync"

	"ctlens/model"
	"ctlens/volume"
)

// Action names, handled with app.Context.Handle and sent with
// app.Context.NewAction (or NewActionWithValue).
const (
	// ActionSeriesOpened: Current changed (value: the series ID, "" when
	// closed). Sent by app/library.
	ActionSeriesOpened = "ctlens/series-opened"
	// ActionRoutingChanged: Routing changed (value: the series ID it is for).
	// Sent by app/assistant after a generation.
	ActionRoutingChanged = "ctlens/routing-changed"
	// ActionHeatmap: the teaching heat-map overlay was switched (value:
	// bool, on). Sent by app/assistant, drawn by app/viewer.
	ActionHeatmap = "ctlens/heatmap"
)

// Series is the series on screen.
type Series struct {
	ID     string         // the library's ID for it (stable across reloads)
	Name   string         // what the user reads: description, body part, date
	Volume *volume.Volume // HU voxels and geometry
	Sample bool           // the built-in sample study
}

// Routing is the TGH-MoE routing of the last generation for a series,
// with the grid its visual tokens covered so the viewer can map a token
// back to voxels.
type Routing struct {
	SeriesID string
	Routing  *model.Routing
	// Slices, GridH, GridW are the vision tokens' grid: the model's D
	// slices, each GridH×GridW patches, resampled over the whole volume
	// (volume.ModelInput's mapping: slice z of D covers the volume's
	// z-extent evenly, patches its x/y extent).
	Slices, GridH, GridW int
	// ExpertsPerTask is the chosen group's expert count (the legend).
	ExpertsPerTask int
}

var (
	mu      sync.RWMutex
	current *Series
	routing *Routing
	heatmap bool
)

// SetCurrent makes s the series on screen (nil: none). The routing of an
// earlier series is dropped.
func SetCurrent(s *Series) {
	mu.Lock()
	defer mu.Unlock()
	current = s
	if routing != nil && (s == nil || routing.SeriesID != s.ID) {
		routing = nil
	}
}

// Current is the series on screen, or nil.
func Current() *Series {
	mu.RLock()
	defer mu.RUnlock()
	return current
}

// SetRouting records r (nil clears it).
func SetRouting(r *Routing) {
	mu.Lock()
	defer mu.Unlock()
	routing = r
}

// CurrentRouting is the routing for the series on screen, or nil when
// there is none for it.
func CurrentRouting() *Routing {
	mu.RLock()
	defer mu.RUnlock()
	if routing == nil || current == nil || routing.SeriesID != current.ID {
		return nil
	}
	return routing
}

// SetHeatmap records whether the expert heat map is shown.
func SetHeatmap(on bool) {
	mu.Lock()
	defer mu.Unlock()
	heatmap = on
}

// Heatmap reports whether the expert heat map is shown.
func Heatmap() bool {
	mu.RLock()
	defer mu.RUnlock()
	return heatmap
}
