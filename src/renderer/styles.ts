/**
 * The renderer's stylesheet. It ships inside the ES module (each widget adds it to its own root) because a
 * notebook output may live in a shadow root where a stylesheet in the document head would not reach it.
 * Colours come from VS Code's theme variables, so the animation follows light, dark and high-contrast themes;
 * the fallbacks are Dumoulin & Visin's input blue (38, 139, 210) and output teal (42, 161, 152) for pages
 * outside VS Code (Markdown previews elsewhere, the test harness).
 */
export const RENDERER_CSS = `
.cl-anim {
  --cl-fg: var(--vscode-editor-foreground, #1f2328);
  --cl-bg: var(--vscode-editor-background, #ffffff);
  --cl-muted: var(--vscode-descriptionForeground, #6e7781);
  --cl-input: var(--vscode-charts-blue, rgb(38, 139, 210));
  --cl-output: var(--vscode-charts-green, rgb(42, 161, 152));
  --cl-kernel: var(--vscode-charts-orange, #d97706);
  --cl-warn: var(--vscode-editorWarning-foreground, #bf8700);
  --cl-error: var(--vscode-errorForeground, #cf222e);
  --cl-line: var(--vscode-editorWidget-border, var(--vscode-panel-border, #afb8c1));
  --cl-focus: var(--vscode-focusBorder, #0969da);
  --cl-button-bg: var(--vscode-button-secondaryBackground, #eaeef2);
  --cl-button-fg: var(--vscode-button-secondaryForeground, #1f2328);
  --cl-button-hover: var(--vscode-button-secondaryHoverBackground, #d0d7de);
  --cl-active-bg: var(--vscode-button-background, #0969da);
  --cl-active-fg: var(--vscode-button-foreground, #ffffff);
  --cl-code: var(--vscode-editor-font-family, ui-monospace, SFMono-Regular, Menlo, Consolas, monospace);
  color: var(--cl-fg);
  font-family: var(--vscode-font-family, system-ui, sans-serif);
  font-size: var(--vscode-font-size, 13px);
  line-height: 1.4;
  padding: 6px 2px;
  max-width: 100%;
  outline: none;
}
/* Notebook Markdown cells style every div (width: 100%, a minimum height); the widget's own divs opt out. */
.cl-anim div { width: auto; min-height: 0; }
.cl-anim:focus-visible { outline: 1px solid var(--cl-focus); outline-offset: 2px; }
.cl-header { display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: baseline; margin-bottom: 6px; }
.cl-title { font-weight: 600; }
.cl-call, .cl-formulas, .cl-frame-text { font-family: var(--cl-code); }
.cl-call { color: var(--cl-muted); font-size: 0.92em; overflow-wrap: anywhere; }
.cl-toolbar { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin-bottom: 6px; }
.cl-group { display: inline-flex; gap: 2px; align-items: center; }
.cl-anim button, .cl-anim select {
  font: inherit; color: var(--cl-button-fg); background: var(--cl-button-bg);
  border: 1px solid var(--cl-line); border-radius: 3px; padding: 1px 7px; cursor: pointer; min-height: 22px;
}
.cl-anim button:hover { background: var(--cl-button-hover); }
.cl-anim button:focus-visible, .cl-anim select:focus-visible, .cl-anim input:focus-visible {
  outline: 1px solid var(--cl-focus); outline-offset: 1px;
}
.cl-anim button[aria-selected='true'], .cl-anim button[aria-pressed='true'] {
  background: var(--cl-active-bg); color: var(--cl-active-fg); border-color: var(--cl-active-bg);
}
.cl-scrub { width: 160px; accent-color: var(--cl-kernel); }
.cl-frame-text { color: var(--cl-muted); min-width: 9ch; font-size: 0.92em; }
.cl-stage { overflow-x: auto; max-width: 100%; }
.cl-stage svg { display: block; }
.cl-label { fill: var(--cl-muted); font-size: 11px; font-family: var(--vscode-font-family, system-ui, sans-serif); }
.cl-arrow { stroke: var(--cl-muted); stroke-width: 1.5; fill: none; }
.cl-cell { stroke: var(--cl-line); stroke-width: 1; fill: var(--cl-bg); }
.cl-cell[data-kind='input'] { fill: var(--cl-input); fill-opacity: 0.16; stroke: var(--cl-input); stroke-opacity: 0.6; }
.cl-cell[data-kind='pad'] { fill: var(--cl-bg); stroke-dasharray: 2 2; }
.cl-cell[data-kind='hole'] { fill: var(--cl-bg); stroke-dasharray: 1 2; stroke-opacity: 0.7; }
.cl-cell[data-kind='cropped'] { fill: var(--cl-muted); fill-opacity: 0.12; stroke-dasharray: 1 3; }
.cl-cell[data-kind='overhang'] { fill: none; stroke: var(--cl-warn); stroke-dasharray: 3 2; stroke-opacity: 0.8; }
.cl-cell[data-kind='output'] { fill: var(--cl-output); fill-opacity: 0.12; stroke: var(--cl-output); stroke-opacity: 0.6; }
.cl-cell[data-kind='output'].cl-done { fill-opacity: 0.42; }
.cl-cell.cl-counted { fill: var(--cl-output); fill-opacity: var(--cl-heat, 0.12); }
.cl-cell.cl-tap { fill: var(--cl-kernel); fill-opacity: 0.55; stroke: var(--cl-kernel); stroke-opacity: 1; stroke-width: 1.5; }
.cl-cell.cl-tap[data-kind='pad'], .cl-cell.cl-tap[data-kind='hole'] { fill-opacity: 0.22; }
.cl-cell.cl-tap[data-kind='overhang'], .cl-cell.cl-tap[data-kind='cropped'] {
  fill: var(--cl-warn); fill-opacity: 0.18; stroke: var(--cl-warn);
}
.cl-cell.cl-current { fill: var(--cl-output); fill-opacity: 0.95; stroke: var(--cl-fg); stroke-width: 2; }
.cl-cell.cl-source-current { fill: var(--cl-input); fill-opacity: 0.95; stroke: var(--cl-fg); stroke-width: 2; }
.cl-cell.cl-linked { stroke: var(--cl-fg); stroke-width: 2; stroke-dasharray: none; }
.cl-cell.cl-hover { stroke: var(--cl-focus); stroke-width: 2.5; }
.cl-oppad { fill: var(--cl-kernel); fill-opacity: 0.9; pointer-events: none; }
.cl-footprint { fill: none; stroke: var(--cl-kernel); stroke-width: 2; stroke-dasharray: 5 3; pointer-events: none; }
.cl-value { fill: var(--cl-fg); font-family: var(--cl-code); pointer-events: none; text-anchor: middle; dominant-baseline: central; }
.cl-value.cl-small { fill: var(--cl-muted); }
.cl-band { fill: var(--cl-kernel); fill-opacity: 0.14; pointer-events: none; }
.cl-entry { fill: var(--cl-input); fill-opacity: 0.55; }
.cl-entry.cl-tap { fill: var(--cl-kernel); fill-opacity: 1; }
.cl-matrix-bg { fill: var(--cl-bg); stroke: var(--cl-line); }
.cl-panel { margin-top: 6px; display: grid; gap: 3px; }
.cl-formulas { display: grid; gap: 1px; font-size: 0.92em; }
.cl-formula-dim { color: var(--cl-muted); }
.cl-frame-info { font-family: var(--cl-code); font-size: 0.92em; overflow-wrap: anywhere; }
.cl-hover-info { color: var(--cl-muted); font-size: 0.92em; min-height: 1.4em; }
.cl-caption { color: var(--cl-muted); font-size: 0.9em; margin-top: 2px; }
.cl-formula-general { color: var(--cl-muted); }
.cl-legend { display: flex; flex-wrap: wrap; gap: 10px; color: var(--cl-muted); font-size: 0.88em; }
.cl-swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; border: 1px solid var(--cl-line); }
.cl-notices { margin: 4px 0 0; padding-left: 18px; color: var(--cl-warn); font-size: 0.92em; }
.cl-error {
  border-left: 3px solid var(--cl-error); padding: 6px 10px; color: var(--cl-fg);
  background: color-mix(in srgb, var(--cl-error) 8%, transparent);
}
.cl-error strong { color: var(--cl-error); }
.cl-error pre { font-family: var(--cl-code); white-space: pre-wrap; color: var(--cl-muted); margin: 4px 0 0; }
@media (prefers-reduced-motion: reduce) {
  .cl-anim * { transition: none !important; animation: none !important; }
}
`;
