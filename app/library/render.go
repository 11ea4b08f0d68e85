package library

import (
	"fmt"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"ctlens/app/importer/protocol"
)

// stageText names an import stage for people.
var stageText = map[string]string{
	"reading":    "Fetching files",
	"headers":    "Reading headers",
	"pixels":     "Decoding slices",
	"resampling": "Resampling onto a regular grid",
	"storing":    "Storing",
}

// Render draws the panel.
func (p *Panel) Render() app.UI {
	root := app.Div().ID("library").Class("library").
		DataSet("series", len(p.entries)).DataSet("importing", yesNo(p.importing)).DataSet("ready", yesNo(p.store != nil)).
		DataSet("selected", p.selected)
	return root.Body(
		app.Raw("<style>"+css+"</style>"),
		app.Div().Class("lib-head").Body(
			app.H2().Class("lib-title").Text("Library"),
			app.Label().ID("import-button").Class("lib-button").For("import-input").Title("Import DICOM files or .zip archives").Body(
				app.Text("Import…"),
				app.Input().ID("import-input").Type("file").Multiple(true).Class("lib-hidden").
					Aria("label", "Import files").OnChange(p.onInput),
			),
			app.Label().ID("import-folder-button").Class("lib-button").For("import-folder").Title("Import a folder of DICOM files").Body(
				app.Text("Folder…"),
				app.Input().ID("import-folder").Type("file").Multiple(true).Attr("webkitdirectory", true).Class("lib-hidden").
					Aria("label", "Import a folder").OnChange(p.onInput),
			),
		),
		app.If(p.loadErr != "", func() app.UI {
			return app.P().ID("library-error").Class("lib-error").Text(p.loadErr)
		}),
		app.If(p.importing, p.renderProgress),
		app.If(p.summary != "", func() app.UI {
			return app.P().ID("import-summary").Class("lib-muted").Text(p.summary)
		}),
		app.If(len(p.problems) > 0, p.renderProblems),
		app.If(p.store != nil && len(p.entries) == 0 && !p.importing, func() app.UI {
			return app.P().ID("library-empty").Class("lib-muted").Text("No studies yet. Drop DICOM files, folders or .zip archives anywhere on the page, or use Import…")
		}),
		app.Ul().ID("series-list").Class("series-list").Body(
			app.Range(p.entries).Slice(func(i int) app.UI { return p.renderEntry(p.entries[i]) }),
		),
		app.P().ID("storage").Class("lib-muted").Body(app.Text(p.storageText())),
		app.If(p.dragging, func() app.UI {
			return app.Div().ID("drop-overlay").Class("drop-overlay").Body(
				app.Div().Class("drop-box").Text("Drop DICOM files, folders or .zip archives to import them"))
		}),
	)
}

func (p *Panel) renderProgress() app.UI {
	label := stageText[p.prog.Stage]
	count := fmt.Sprintf("%d / %d files", p.prog.Done, p.prog.Total)
	if p.prog.Stage == "storing" {
		count = protocol.BytesText(p.prog.Done) + " / " + protocol.BytesText(p.prog.Total)
	}
	if p.prog.Series != "" {
		label += " · " + p.prog.Series
	}
	return app.Div().ID("import-status").Class("import-status").Aria("live", "polite").Body(
		app.Div().Class("lib-row").Body(
			app.Span().ID("import-stage").Text(label),
			app.Span().ID("import-count").Class("lib-muted").Text(count),
		),
		app.Progress().ID("import-progress").Max(max(p.prog.Total, 1)).Value(p.prog.Done).
			DataSet("stage", p.prog.Stage).Aria("label", label),
		app.If(p.file != "", func() app.UI {
			return app.Div().ID("import-file").Class("lib-muted lib-small").Text(p.file)
		}),
	)
}

func (p *Panel) renderProblems() app.UI {
	return app.Details().ID("import-errors").Class("import-errors").Open(true).Body(
		app.Summary().Textf("%d file(s) could not be imported", len(p.problems)),
		app.Ul().Body(app.Range(p.problems).Slice(func(i int) app.UI {
			pr := p.problems[i]
			return app.Li().Class("import-error").DataSet("path", pr.Path).Body(
				app.Strong().Text(pr.Path), app.Text(": "+pr.Reason))
		})),
		app.Button().ID("import-errors-clear").Text("Dismiss").OnClick(func(ctx app.Context, e app.Event) { p.problems = nil }),
	)
}

func (p *Panel) renderEntry(e Entry) app.UI {
	cls := []string{"series-item"}
	if e.ID == p.selected {
		cls = append(cls, "selected")
	}
	if e.Err != nil {
		cls = append(cls, "damaged")
	}
	id := e.ID
	open := app.Button().Class("series-open").Title("Open " + e.Name)
	if p.opening != "" {
		open = open.Disabled(true)
	}
	li := app.Li().Class(cls...).DataSet("id", e.ID).DataSet("sample", yesNo(e.Sample)).DataSet("slices", e.Slices()).
		DataSet("warnings", len(e.Warnings)).DataSet("skipped", len(e.Skipped))
	if e.ID == p.selected {
		li = li.Aria("current", "page")
	}
	if e.Err != nil {
		return li.Body(
			app.Div().Class("series-body").Body(
				app.Div().Class("series-name").Text("Damaged series "+e.ID),
				app.Div().Class("lib-error").Text(e.Err.Error()),
			),
			p.renderDelete(e),
		)
	}
	info := []string{fmt.Sprintf("%d slices", e.Slices())}
	if e.Phases > 1 {
		info[0] += fmt.Sprintf(" × %d phases", e.Phases)
	}
	if d := e.Date(); d != "" {
		info = append(info, d)
	}
	if b := strings.TrimSpace(e.Meta.BodyPartExamined); b != "" {
		info = append(info, b)
	}
	info = append(info, protocol.BytesText(e.Bytes))
	return li.Body(
		open.OnClick(func(app.Context, app.Event) {
			ctx := p.ctx
			ctx.Async(func() { p.open(ctx, id) })
		}, app.EventScope(id)).Body(
			app.If(p.thumbs[e.ID] != "", func() app.UI {
				return app.Img().Class("series-thumb").Src(p.thumbs[e.ID]).Alt("middle slice of " + e.Name)
			}).Else(func() app.UI { return app.Div().Class("series-thumb") }),
			app.Div().Class("series-body").Body(
				app.Div().Class("series-name").Body(
					app.Text(e.Name),
					app.If(e.Sample, func() app.UI { return app.Span().Class("badge sample-badge").Text("Sample") }),
				),
				app.Div().Class("series-info lib-muted").Text(strings.Join(info, " · ")),
				app.If(p.opening == e.ID, func() app.UI { return app.Div().Class("lib-muted").Text("Opening…") }),
			),
		),
		app.If(len(e.Warnings) > 0, func() app.UI {
			return app.Ul().Class("series-warnings").Body(app.Range(e.Warnings).Slice(func(i int) app.UI {
				return app.Li().Class("series-warning").Title(e.Warnings[i]).Text("⚠ " + e.Warnings[i])
			}))
		}),
		app.If(len(e.Skipped) > 0, func() app.UI {
			return app.Details().Class("series-skipped").Body(
				app.Summary().Textf("%d file(s) skipped", len(e.Skipped)),
				app.Ul().Body(app.Range(e.Skipped).Slice(func(i int) app.UI {
					return app.Li().Class("skipped-file").Body(app.Strong().Text(e.Skipped[i].Path), app.Text(": "+e.Skipped[i].Reason))
				})),
			)
		}),
		p.renderDelete(e),
	)
}

func (p *Panel) renderDelete(e Entry) app.UI {
	id := e.ID
	if p.confirm != id {
		return app.Button().Class("series-delete").Title("Delete "+e.Name+" from this device").Text("Delete").
			OnClick(func(app.Context, app.Event) { p.confirm = id }, app.EventScope(id))
	}
	what := "this series"
	if e.Sample {
		what = "the sample study (it will not come back)"
	}
	return app.Div().Class("series-confirm").Body(
		app.Span().Text("Delete "+what+" from this device?"),
		app.Button().Class("series-delete-yes").Text("Delete").OnClick(func(app.Context, app.Event) { p.remove(id) }, app.EventScope(id)),
		app.Button().Class("series-delete-no").Text("Cancel").OnClick(func(app.Context, app.Event) { p.confirm = "" }, app.EventScope(id)),
	)
}

func (p *Panel) storageText() string {
	if p.store == nil {
		return "Storage: opening…"
	}
	s := "Storage: library " + protocol.BytesText(p.stored)
	if p.quota > 0 {
		s += fmt.Sprintf(" · this site uses %s of %s available", protocol.BytesText(p.used), protocol.BytesText(p.quota))
	}
	if p.persisted {
		s += " · kept by the browser"
	}
	return s
}

// css is the panel's own styles, on the shell's theme variables (the
// CSP allows inline styles).
const css = `
.library { display: flex; flex-direction: column; gap: 8px; padding: 8px; }
.lib-head { display: flex; align-items: center; gap: 6px; }
.lib-title { flex: 1; margin: 0; font-size: 15px; }
.lib-button { border: 1px solid var(--line); border-radius: 6px; padding: 4px 10px; cursor: pointer; }
.lib-button:hover, .lib-button:focus-within { border-color: var(--accent); }
.lib-hidden { position: absolute; width: 1px; height: 1px; opacity: 0; overflow: hidden; }
.lib-muted { color: var(--muted); }
.lib-small { font-size: 12px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.lib-error, .import-error { color: #ff8f8f; }
.lib-row { display: flex; justify-content: space-between; gap: 6px; }
.import-status progress { width: 100%; }
.import-errors ul, .series-warnings, .series-skipped ul { margin: 4px 0; padding-left: 16px; font-size: 12px; }
.series-list { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 6px; }
.series-item { border: 1px solid var(--line); border-radius: 8px; padding: 6px; }
.series-item.selected { border-color: var(--accent); box-shadow: 0 0 0 1px var(--accent) inset; }
.series-open { display: flex; gap: 8px; width: 100%; text-align: left; border: 0; padding: 0; background: none; }
.series-thumb { width: 64px; height: 64px; object-fit: contain; background: #000; border-radius: 4px; flex: none; }
.series-body { min-width: 0; }
.series-name { font-weight: 600; overflow-wrap: anywhere; }
.series-info { font-size: 12px; }
.series-warnings { list-style: none; padding-left: 0; color: #ffd27f; }
.series-warning { display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 3; overflow: hidden; }
.series-delete, .series-confirm { margin-top: 4px; font-size: 12px; }
.series-confirm { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; }
.badge { margin-left: 6px; font-size: 11px; font-weight: 500; padding: 0 6px; border-radius: 8px; background: var(--line); }
.drop-overlay { position: fixed; inset: 0; z-index: 1000; display: flex; align-items: center; justify-content: center;
  background: rgba(0, 0, 0, .6); pointer-events: none; }
.drop-box { padding: 32px 48px; border: 3px dashed var(--accent); border-radius: 16px; background: var(--panel); font-size: 18px; }
`

// yesNo writes a flag for data-* attributes ("true" would be written as
// a bare attribute by go-app's server rendering).
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
