// Package assistant is the app's AI panel: the model card and loading,
// report generation and questions streamed token by token, and the
// teaching view of the TGH-MoE routing.
package assistant

import "github.com/maxence-charriere/go-app/v10/pkg/app"

// Panel is the assistant panel. (Placeholder until the panel is built.)
type Panel struct{ app.Compo }

// Render implements app.Composer.
func (p *Panel) Render() app.UI {
	return app.Div().ID("assistant").Class("assistant").Text("Assistant")
}
