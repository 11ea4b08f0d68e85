package assistant

// panelCSS styles the panel. It travels with the component (an inline
// <style>, which the page's CSP allows) so the panel owns its look; it
// uses the theme's variables from ctlens.css. No ">" or "&": the server's
// prerender escapes text.
const panelCSS = `
.assistant { display: flex; flex-direction: column; gap: 0.75rem; padding: 0.75rem; font-size: 0.9rem; overflow: auto; }
.assistant h2 { font-size: 1rem; margin: 0; }
.assistant section { border-top: 1px solid var(--line, #333); padding-top: 0.5rem; }
.assistant-message { background: rgba(255, 170, 0, 0.12); border-left: 3px solid #fa0; padding: 0.4rem 0.6rem; margin: 0; }
.assistant-notice { opacity: 0.8; margin: 0; }
.card-lines { display: grid; grid-template-columns: auto 1fr; gap: 0.15rem 0.6rem; margin: 0 0 0.4rem; }
.card-lines dt { opacity: 0.7; }
.card-lines dd { margin: 0; overflow-wrap: anywhere; }
.model-actions, .report-actions, .export-actions, .ask { display: flex; flex-wrap: wrap; gap: 0.4rem; align-items: center; }
.load-progress { display: flex; flex-wrap: wrap; gap: 0.4rem; align-items: center; margin-top: 0.4rem; }
.load-progress progress { flex: 1 1 8rem; }
.model-cached { color: #6c6; margin: 0.2rem 0; }
.model-file { margin-top: 0.4rem; }
#max-tokens { width: 5rem; }
.decoding { margin: 0.4rem 0; }
.decoding-field { display: flex; flex-wrap: wrap; gap: 0.4rem; align-items: center; margin: 0.2rem 0; }
.decoding-field label { min-width: 6.5rem; }
.decoding-field input { width: 7rem; }
.report-text { width: 100%; box-sizing: border-box; min-height: 10rem; resize: vertical; font: inherit; margin: 0.4rem 0; }
.timings { opacity: 0.8; font-size: 0.8rem; min-height: 1.2em; margin: 0 0 0.4rem; }
#ask-input { flex: 1 1 10rem; }
.choices input { width: 80%; margin: 0.1rem 0; }
.choice { display: block; }
.qa-history { padding-left: 1.2rem; }
.qa p { margin: 0.1rem 0; white-space: pre-wrap; }
.qa-t { opacity: 0.7; font-size: 0.8rem; }
.qa-choices ul { list-style: none; margin: 0.2rem 0; padding: 0; }
.qa-choices-note { opacity: 0.7; font-size: 0.75rem; margin: 0.2rem 0; }
.qa-choice { position: relative; display: flex; justify-content: space-between; font-size: 0.85rem; padding: 0.1rem 0.3rem; }
.qa-choice-bar { position: absolute; left: 0; top: 0; bottom: 0; background: rgba(90, 160, 255, 0.18); z-index: -1; }
.qa-choice.chosen { font-weight: 600; }
.task-probs, .layer-shares, .legend { list-style: none; padding: 0; margin: 0.2rem 0; }
.bar-label { display: inline-block; min-width: 9rem; }
.shares { background: rgba(128, 128, 128, 0.2); }
.legend { display: flex; flex-wrap: wrap; gap: 0.6rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
`
