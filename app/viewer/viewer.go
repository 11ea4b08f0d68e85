// Package viewer is the app's image viewer: axial, coronal and sagittal
// MPR and a 3D rendering of the series on screen (app/state), drawn with
// WebGPU.
package viewer

import "github.com/maxence-charriere/go-app/v10/pkg/app"

// Viewer is the viewport grid. (Placeholder until the viewer is built.)
type Viewer struct{ app.Compo }

// Render implements app.Composer.
func (v *Viewer) Render() app.UI {
	return app.Div().ID("viewer").Class("viewer").Text("Viewer")
}
