/**
 * How the editor shows an analysis: the Markdown of the hovers and the text of the inlay hints. Pure (no
 * vscode), so it is unit-tested; shapeEditor.ts puts the strings into VS Code's objects.
 */
import type { EditorCall, EditorLayer } from './analysisProtocol';

type Dims = readonly (number | null)[];

/** `(1, 64, ?, ?)`; a 1-tuple keeps its comma, as Python prints it; `?` when nothing is known. */
export function formatDims(shape: Dims | null): string {
  if (!shape) return '?';
  const parts = shape.map((dim) => (dim === null ? '?' : String(dim)));
  return `(${parts.join(', ')}${parts.length === 1 ? ',' : ''})`;
}

/** Whether anything about a shape is known (a rank with every size unknown says little, but something). */
function knows(shape: Dims | null): boolean {
  return shape !== null && shape.some((dim) => dim !== null);
}

/** 819200 → `819,200`. */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** 13107200 → `13.1 M`: MACs are read as orders of magnitude. */
export function formatMacs(value: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, unit] of units) {
    if (value >= size) return `${(value / size).toFixed(value >= size * 100 ? 0 : 1)} ${unit}`;
  }
  return String(Math.round(value));
}

/** Escapes text (a message, a note) so that Markdown shows it as written. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]<>()#+\-.!|~]/g, (c) => `\\${c}`);
}

/** Text inside a table cell: a `|` would end the cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** Applications worth a row: those where something about the input or the output is known. */
function knownApplications(layer: EditorLayer): EditorLayer['applications'] {
  return layer.applications.filter((application) => knows(application.input) || knows(application.output));
}

const MAX_ROWS = 8;

/**
 * The hover on a layer constructor: what it is, its formulas, weight and parameters, then every known input
 * with its output, MACs and where the input came from, then the notes (checkerboard risk, unused rows).
 * Null when nothing at all is known, so that a plain activation does not get an empty hover.
 */
export function layerHoverMarkdown(layer: EditorLayer, problems: readonly string[] = []): string | null {
  const applications = knownApplications(layer);
  if (
    layer.formulas.length === 0 &&
    layer.weightShape === null &&
    applications.length === 0 &&
    layer.notes.length === 0
  )
    return null;
  const parts: string[] = [];
  const qualified =
    layer.qualifiedName && layer.qualifiedName !== layer.callee ? ` — ${layer.qualifiedName}` : '';
  parts.push(`**\`${layer.callee}\`**${escapeMarkdown(qualified)}`);
  if (layer.formulas.length > 0) parts.push(layer.formulas.map((formula) => `\`${formula}\``).join(' · '));
  const weights: string[] = [];
  if (layer.weightShape) weights.push(`weight \`${formatDims(layer.weightShape)}\``);
  if (layer.params !== null && layer.params > 0) weights.push(`${formatCount(layer.params)} parameters`);
  if (weights.length > 0) parts.push(weights.join(' · '));
  if (applications.length > 0) parts.push(applicationTable(applications));
  if (layer.receptiveField) parts.push(`receptive field so far \`${layer.receptiveField}\` input cells`);
  else parts.push('_No input shape reaches this layer yet: add `# convlens: input (…)` above the class._');
  for (const note of layer.notes) parts.push(`⚠ ${escapeMarkdown(note)}`);
  for (const problem of problems) parts.push(`_${escapeMarkdown(problem)}_`);
  return parts.join('\n\n');
}

function applicationTable(applications: EditorLayer['applications']): string {
  const withMacs = applications.some((application) => application.macs !== null && application.macs > 0);
  // The source goes before MACs: hover tables have no cell padding, and a right-aligned number next to text
  // runs into it.
  const header = withMacs ? '| input | output | input from | MACs |' : '| input | output | input from |';
  const rule = withMacs ? '| :-- | :-- | :-- | --: |' : '| :-- | :-- | :-- |';
  const rows = applications.slice(0, MAX_ROWS).map((application) => {
    const cells = [`\`${formatDims(application.input)}\``, `\`${formatDims(application.output)}\``];
    cells.push(cell(application.source));
    if (withMacs) cells.push(application.macs !== null ? formatMacs(application.macs) : '');
    return `| ${cells.join(' | ')} |`;
  });
  const more =
    applications.length > MAX_ROWS ? `\n\n…and ${applications.length - MAX_ROWS} more inputs.` : '';
  return [header, rule, ...rows].join('\n') + more;
}

/**
 * The hover on a forward line that applies layers by name (`self.conv(x)`, `self.main(z)`): the in → out of
 * each layer the name stands for, and the shape the statement produced when it is known.
 */
export function callHoverMarkdown(
  call: EditorCall,
  layers: readonly EditorLayer[],
  lineOf: (offset: number) => number,
  result: string | null,
): string | null {
  const members = call.layers.map((index) => layers[index]).filter((layer) => layer !== undefined);
  if (members.length === 0) return null;
  const parts: string[] = [];
  if (members.length === 1 && !call.container) {
    const layer = members[0]!;
    parts.push(
      call.name === layer.callee
        ? `**\`${layer.callee}\`** applied here`
        : `**\`${call.name}\`** is \`${layer.callee}\` (line ${lineOf(layer.from)})`,
    );
    if (layer.formulas.length > 0) parts.push(layer.formulas.map((formula) => `\`${formula}\``).join(' · '));
    const applications = knownApplications(layer);
    if (applications.length === 0) parts.push('_No input shape reaches it yet._');
    else
      parts.push(
        applications.length === 1
          ? `\`${formatDims(applications[0]!.input)}\` → \`${formatDims(applications[0]!.output)}\` (input from ${escapeMarkdown(applications[0]!.source)})`
          : applicationTable(applications),
      );
  } else {
    parts.push(`**\`${call.name}\`**: ${members.length} layers`);
    // A container applied to several inputs: the k-th input of its first layer and the k-th output of its
    // last are one pass through it, as long as both saw the same number of inputs.
    const first = knownApplications(members[0]!);
    const last = knownApplications(members[members.length - 1]!);
    if (first.length > 1 && first.length === last.length) {
      const passes = first.slice(0, MAX_ROWS).map((application, k) => {
        return `| \`${formatDims(application.input)}\` | \`${formatDims(last[k]!.output)}\` | ${cell(application.source)} |`;
      });
      parts.push(['| input | output | input from |', '| :-- | :-- | :-- |', ...passes].join('\n'));
    }
    // One row per layer, with its first known input; the layer's own hover lists the others.
    const rows: string[] = ['| layer | input | output |', '| :-- | :-- | :-- |'];
    for (const layer of members.slice(0, 3 * MAX_ROWS)) {
      const applications = knownApplications(layer);
      const shown = applications[0];
      const more = applications.length > 1 ? ` (+${applications.length - 1} more)` : '';
      rows.push(
        `| \`${layer.callee}\` (line ${lineOf(layer.from)}) | ${shown ? `\`${formatDims(shown.input)}\`` : '?'} | ${
          shown ? `\`${formatDims(shown.output)}\`${more}` : '?'
        } |`,
      );
    }
    if (members.length > 3 * MAX_ROWS) rows.push(`| …${members.length - 3 * MAX_ROWS} more | | |`);
    parts.push(rows.join('\n'));
  }
  if (result) parts.push(`Result: \`${result}\``);
  return parts.join('\n\n');
}

/**
 * The output shape to show after a layer's definition line: only when every application with anything known
 * gives the same output, so the hint never picks one of several inputs silently.
 */
export function layerHintText(layer: EditorLayer): string | null {
  const outputs = new Set(
    layer.applications
      .filter((application) => knows(application.output))
      .map((application) => formatDims(application.output)),
  );
  return outputs.size === 1 ? [...outputs][0]! : null;
}
