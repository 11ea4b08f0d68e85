// Package library is the app's offline study library: import of files,
// folders and zips, the series list with thumbnails and warnings, and
// storage in IndexedDB through hackpadfs.
package library

import "github.com/maxence-charriere/go-app/v10/pkg/app"

// Panel is the library panel. (Placeholder until the library is built.)
type Panel struct{ app.Compo }

// Render implements app.Composer.
func (p *Panel) Render() app.UI {
	return app.Div().ID("library").Class("library").Text("Library")
}
