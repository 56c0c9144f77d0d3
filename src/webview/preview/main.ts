/// <reference lib="dom" />
/**
 * The preview panel's page: pick an input, apply the layer from the editor (or a short stack the user composes)
 * on WebGPU or the CPU worker, and look at every stage's feature maps as heatmaps with a legend, a per-channel
 * grid, zoom and a hover readout that highlights the input cells an output value came from. Talks to the host
 * only through src/protocol/preview.ts, and checks every message it receives.
 *
 * The page loads as a classic script under a CSP with a nonce (src/extension/previewPanel.ts). It reads its
 * configuration (the worker script's URL) from a JSON script element, because a webview's page has no other
 * way to learn the resource URLs the host computed.
 */
import { applyDimRule } from '../../core/arithmetic/dims';
import {
  type EngineKind,
  type EngineSetting,
  ENGINE_SETTINGS,
  type ErrorMessage,
  type HostToPanel,
  isHostToPanel,
  KERNEL_PRESETS,
  type KernelPreset,
  MAX_PREVIEW_KERNEL,
  MAX_PREVIEW_STACK,
  MAX_SETTING,
  type PanelToHost,
  PATTERNS,
  type PatternName,
  type PreviewLayer,
  type ResultMessage,
  type RunMessage,
} from '../../protocol/preview';
import { createCalculatorView } from './calculatorView';
import { EngineChooser, type PreviewEngine } from './engines';
import { type ColourMap, drawLegend, drawMap, formatValue, type Scale, scaleFor } from './heatmap';
import { type Filter, parseCustomFilter } from './kernels';
import { generatePattern, type PreviewImage } from './patterns';
import { decodeImage, IMAGE_OPTION_PREFIX, imageInput, workspaceImages } from './images';
import {
  interiorOverlap,
  mirrorLayer,
  overlapCounts,
  range,
  runStack,
  sourceCells,
  type Stage,
} from './stack';

interface VsCodeApi {
  postMessage(message: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const post = (message: PanelToHost): void => vscode.postMessage(message);

const config = JSON.parse(document.getElementById('conv-lens-preview-config')?.textContent ?? '{}') as {
  workerUrl?: string;
};
const chooser = new EngineChooser(config.workerUrl ?? './previewWorker.js');

const SIZES = [8, 16, 32, 64, 128] as const;
const ZOOMS = [1, 2, 3, 4, 6, 8, 12, 16] as const;

const DEFAULT_LAYER: PreviewLayer = {
  op: 'conv',
  kernel: [3, 3],
  stride: [1, 1],
  padding: [1, 1],
  dilation: [1, 1],
  outputPadding: [0, 0],
  outChannels: 4,
  label: '3×3 conv',
};

interface State {
  layers: PreviewLayer[];
  pattern: PatternName;
  size: number;
  preset: KernelPreset;
  seed: number;
  /** The custom kernel's text when the user applied one (it then replaces the preset). */
  custom: string | null;
  engine: EngineSetting;
  zoom: number;
  /** Whether the user picked the zoom; until then each run picks one that fits the largest map in ~200 pixels. */
  zoomChosen: boolean;
  notes: readonly string[];
}

const state: State = {
  layers: [DEFAULT_LAYER],
  pattern: 'shapes',
  size: 32,
  preset: 'gaussian',
  seed: 1,
  custom: null,
  engine: 'auto',
  zoom: 4,
  zoomChosen: false,
  notes: [],
};

// ---------------------------------------------------------------------------------------------------------
// DOM helpers
// ---------------------------------------------------------------------------------------------------------

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<string, string>> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) if (value !== undefined) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function select<T extends string>(
  label: string,
  options: readonly T[],
  current: T,
  onChange: (value: T) => void,
): HTMLLabelElement {
  const box = el('select', { 'aria-label': label });
  for (const option of options) box.append(el('option', { value: option }, option));
  box.value = current;
  box.addEventListener('change', () => onChange(box.value as T));
  return el('label', { class: 'field' }, `${label} `, box);
}

const root = el('main', { class: 'preview' });
document.body.append(root);

const title = el('h1', { class: 'title' });
const notes = el('div', { class: 'notes' });
const badge = el('span', { class: 'badge', role: 'status', 'data-testid': 'badge' }, 'not run yet');
const errorBox = el('div', { class: 'error', role: 'alert', hidden: '' });
const readout = el('div', { class: 'readout', 'data-testid': 'readout' }, 'Hover a map to read a value.');
const stackBox = el('div', { class: 'stack' });
const maps = el('div', { class: 'maps' });
const customText = el('textarea', {
  class: 'custom',
  rows: '3',
  cols: '18',
  'aria-label': 'custom kernel',
  placeholder: 'custom kernel rows, e.g.\n0 -1 0\n-1 4 -1\n0 -1 0',
});

// ---------------------------------------------------------------------------------------------------------
// Controls
// ---------------------------------------------------------------------------------------------------------

function controls(): HTMLElement {
  const customButton = el('button', { type: 'button' }, 'Use custom kernel');
  customButton.addEventListener('click', () => {
    state.custom = customText.value;
    schedule();
  });
  const presetButtons = select('kernel', KERNEL_PRESETS, state.preset, (value) => {
    state.preset = value;
    state.custom = null;
    schedule();
  });
  const seed = el('input', { type: 'number', min: '0', max: '999999', value: String(state.seed) });
  seed.setAttribute('aria-label', 'seed');
  seed.addEventListener('change', () => {
    const value = Number(seed.value);
    if (Number.isInteger(value) && value >= 0) {
      state.seed = value;
      schedule();
    }
  });
  const zoomOut = el('button', { type: 'button', 'aria-label': 'zoom out' }, '−');
  const zoomIn = el('button', { type: 'button', 'aria-label': 'zoom in' }, '+');
  const zoomText = el('span', { class: 'zoom' }, `${state.zoom}×`);
  const zoom = (step: number) => {
    const index = ZOOMS.indexOf(state.zoom as (typeof ZOOMS)[number]);
    state.zoom = ZOOMS[Math.min(ZOOMS.length - 1, Math.max(0, index + step))]!;
    state.zoomChosen = true;
    zoomText.textContent = `${state.zoom}×`;
    applyZoom();
  };
  zoomText.dataset['testid'] = 'zoom';
  zoomOut.addEventListener('click', () => zoom(-1));
  zoomIn.addEventListener('click', () => zoom(1));
  const roundTrip = el('button', { type: 'button', 'data-testid': 'round-trip' }, 'Round trip');
  roundTrip.title = 'The first layer, then the layer that mirrors it, side by side';
  roundTrip.addEventListener('click', () => {
    const first = state.layers[0]!;
    const input = currentInput();
    const shapes = roughOutSize(first, [input.height, input.width]);
    state.layers = [first, mirrorLayer(first, shapes, [input.height, input.width])];
    renderStack();
    schedule();
  });
  const addConv = el('button', { type: 'button' }, '+ conv');
  addConv.addEventListener('click', () => addLayer('conv'));
  const addTransposed = el('button', { type: 'button' }, '+ transposed conv');
  addTransposed.addEventListener('click', () => addLayer('conv_transpose'));
  return el(
    'div',
    { class: 'controls' },
    select(
      'input',
      [...PATTERNS, ...workspaceImages.files.map((file) => `${IMAGE_OPTION_PREFIX}${file}`)],
      workspaceImages.current ? `${IMAGE_OPTION_PREFIX}${workspaceImages.current.name}` : state.pattern,
      (value) => {
        if (value.startsWith(IMAGE_OPTION_PREFIX)) {
          // The host reads the file and sends it back as an `image` message, which runs the stack.
          post({ type: 'pickImage', name: value.slice(IMAGE_OPTION_PREFIX.length) });
          return;
        }
        workspaceImages.current = null;
        state.pattern = value as PatternName;
        schedule();
      },
    ),
    select('size', SIZES.map(String), String(state.size), (value) => {
      state.size = Number(value);
      schedule();
    }),
    presetButtons,
    el('label', { class: 'field' }, 'seed ', seed),
    select('engine', ENGINE_SETTINGS, state.engine, (value) => {
      state.engine = value;
      schedule();
    }),
    el('span', { class: 'field' }, 'zoom ', zoomOut, zoomText, zoomIn),
    roundTrip,
    addConv,
    addTransposed,
    el('span', { class: 'field' }, customText, customButton),
  );
}

/** The output size of a layer on `size`, from the core's size rules; used to pick a round trip's output_padding. */
function roughOutSize(layer: PreviewLayer, size: readonly [number, number]): [number, number] {
  const out = ([0, 1] as const).map((d) => {
    const common = { kernel: layer.kernel[d], dilation: layer.dilation[d], stride: layer.stride[d] };
    const pads = { padBegin: layer.padding[d], padEnd: layer.padding[d] };
    return applyDimRule(
      layer.op === 'conv'
        ? { kind: 'window', ...common, ...pads, ceilMode: false }
        : { kind: 'transposed', ...common, ...pads, outputPadding: layer.outputPadding[d] },
      size[d],
    );
  });
  return [out[0]!, out[1]!];
}

function addLayer(op: PreviewLayer['op']): void {
  if (state.layers.length >= MAX_PREVIEW_STACK) {
    showError(`The preview stacks at most ${MAX_PREVIEW_STACK} layers.`);
    return;
  }
  state.layers.push(
    op === 'conv'
      ? { ...DEFAULT_LAYER, label: `layer ${state.layers.length + 1}` }
      : {
          ...DEFAULT_LAYER,
          op,
          kernel: [4, 4],
          stride: [2, 2],
          padding: [1, 1],
          label: `layer ${state.layers.length + 1}`,
        },
  );
  renderStack();
  schedule();
}

/** The editable settings of each layer of the stack. */
function renderStack(): void {
  stackBox.replaceChildren();
  state.layers.forEach((layer, index) => {
    const row = el('div', { class: 'layer', 'data-testid': `layer-${index}` });
    row.append(el('span', { class: 'layer-name' }, `${index + 1}. ${layer.label}`));
    const op = select('op', ['conv', 'conv_transpose'] as const, layer.op, (value) =>
      update(index, { op: value }),
    );
    row.append(op);
    const fields: [keyof PreviewLayer & string, string, number, number][] = [
      ['kernel', 'kernel_size', 1, MAX_PREVIEW_KERNEL],
      ['stride', 'stride', 1, MAX_SETTING],
      ['padding', 'padding', 0, MAX_SETTING],
      ['dilation', 'dilation', 1, MAX_SETTING],
    ];
    if (layer.op === 'conv_transpose') fields.push(['outputPadding', 'output_padding', 0, MAX_SETTING]);
    for (const [key, name, min, max] of fields) {
      const pair = layer[key] as readonly [number, number];
      const inputs = pair.map((value, dim) => {
        const input = el('input', {
          type: 'number',
          min: String(min),
          max: String(max),
          value: String(value),
          'aria-label': `${name} ${dim === 0 ? 'height' : 'width'} of layer ${index + 1}`,
        });
        input.addEventListener('change', () => {
          const next = Number(input.value);
          if (!Number.isInteger(next) || next < min || next > max) {
            showError(`${name} must be a whole number from ${min} to ${max}, not '${input.value}'.`);
            return;
          }
          const updated: [number, number] = [pair[0], pair[1]];
          updated[dim] = next;
          update(index, { [key]: updated } as Partial<PreviewLayer>);
        });
        return input;
      });
      row.append(el('label', { class: 'field pair' }, `${name} `, ...inputs));
    }
    if (state.layers.length > 1) {
      const remove = el('button', { type: 'button', 'aria-label': `remove layer ${index + 1}` }, '×');
      remove.addEventListener('click', () => {
        state.layers.splice(index, 1);
        renderStack();
        schedule();
      });
      row.append(remove);
    }
    stackBox.append(row);
  });
}

function update(index: number, change: Partial<PreviewLayer>): void {
  const layer = { ...state.layers[index]!, ...change };
  if (layer.op === 'conv') layer.outputPadding = [0, 0];
  state.layers[index] = layer;
  renderStack();
  schedule();
}

function showError(message: string | null): void {
  errorBox.hidden = message === null;
  errorBox.textContent = message ?? '';
}

// ---------------------------------------------------------------------------------------------------------
// Maps
// ---------------------------------------------------------------------------------------------------------

/** A figure: a titled grid of one canvas per channel, with a legend; canvases keep their values for the readout. */
interface Figure {
  readonly element: HTMLElement;
  readonly canvases: HTMLCanvasElement[];
  readonly overlays: HTMLCanvasElement[];
  readonly height: number;
  readonly width: number;
}

const figures: Figure[] = [];

function figure(
  heading: string,
  values: Float32Array,
  channels: number,
  height: number,
  width: number,
  map: ColourMap,
  testId: string,
): { figure: Figure; scale: Scale } {
  const [min, max] = range(values);
  const scale = scaleFor(map, map === 'sequential' ? Math.min(0, min) : min, max);
  const grid = el('div', { class: 'grid' });
  const canvases: HTMLCanvasElement[] = [];
  const overlays: HTMLCanvasElement[] = [];
  for (let c = 0; c < channels; c++) {
    const canvas = el('canvas', { class: 'map', 'data-channel': String(c) });
    drawMap(canvas, values, c * height * width, height, width, scale);
    const overlay = el('canvas', { class: 'overlay' });
    canvases.push(canvas);
    overlays.push(overlay);
    grid.append(el('div', { class: 'cell' }, el('div', { class: 'stackable' }, canvas, overlay), `ch ${c}`));
  }
  const legendBar = el('canvas', { class: 'legend-bar' });
  drawLegend(legendBar, scale);
  const legend = el(
    'div',
    { class: 'legend' },
    el('span', {}, formatValue(scale.low)),
    legendBar,
    el('span', {}, formatValue(scale.high)),
    el('span', { class: 'range' }, `values ${formatValue(min)} … ${formatValue(max)}`),
  );
  const element = el(
    'figure',
    { class: 'figure', 'data-testid': testId },
    el('figcaption', {}, heading),
    grid,
    legend,
  );
  return { figure: { element, canvases, overlays, height, width }, scale };
}

function applyZoom(): void {
  for (const f of figures) {
    for (const canvas of [...f.canvases, ...f.overlays]) {
      canvas.style.width = `${f.width * state.zoom}px`;
      canvas.style.height = `${f.height * state.zoom}px`;
    }
  }
}

function describeLayer(layer: PreviewLayer): string {
  const pair = (p: readonly [number, number]) => (p[0] === p[1] ? String(p[0]) : `${p[0]}×${p[1]}`);
  const extra =
    layer.op === 'conv_transpose' && (layer.outputPadding[0] > 0 || layer.outputPadding[1] > 0)
      ? ` op ${pair(layer.outputPadding)}`
      : '';
  return `${layer.op === 'conv' ? 'conv' : 'transposed conv'} k ${pair(layer.kernel)} s ${pair(layer.stride)} p ${pair(
    layer.padding,
  )}${layer.dilation[0] > 1 || layer.dilation[1] > 1 ? ` d ${pair(layer.dilation)}` : ''}${extra}`;
}

/** Draws the input, each stage's output and, for transposed convs, the overlap counts; wires the hover readout. */
function renderMaps(input: PreviewImage, stages: readonly Stage[]): void {
  maps.replaceChildren();
  figures.length = 0;
  const inputFigure = figure(
    `Input: ${workspaceImages.current?.name ?? state.pattern} [1, ${input.channels}, ${input.height}, ${input.width}]`,
    input.data,
    input.channels,
    input.height,
    input.width,
    'sequential',
    'figure-input',
  ).figure;
  figures.push(inputFigure);
  maps.append(inputFigure.element);
  let previous = inputFigure;
  let previousValues = input.data;
  stages.forEach((stage, index) => {
    const [, channels, height, width] = stage.yShape as [number, number, number, number];
    const { figure: output } = figure(
      `Layer ${index + 1}: ${describeLayer(stage.layer)} → [${stage.yShape.join(', ')}]`,
      stage.y,
      channels,
      height,
      width,
      'diverging',
      `figure-stage-${index}`,
    );
    figures.push(output);
    maps.append(output.element);
    const source = previous;
    const sourceValues = previousValues;
    output.canvases.forEach((canvas, channel) => {
      canvas.addEventListener('mousemove', (event) => {
        const row = Math.min(height - 1, Math.floor(event.offsetY / state.zoom));
        const column = Math.min(width - 1, Math.floor(event.offsetX / state.zoom));
        const value = stage.y[(channel * height + row) * width + column]!;
        const cells = sourceCells(stage.layer, [source.height, source.width], row, column);
        highlight(source, cells);
        highlight(output, [[row, column]]);
        const rows = [...new Set(cells.map(([r]) => r))];
        const columns = [...new Set(cells.map(([, c]) => c))];
        const inputs =
          cells.length === 0
            ? 'no input cell (all padding)'
            : `input rows ${rows.join(', ')} × columns ${columns.join(', ')} (${cells.length} cells, ` +
              `first channel there ${formatValue(sourceValues[cells[0]![0] * source.width + cells[0]![1]]!)})`;
        readout.textContent = `Layer ${index + 1}, channel ${channel}, row ${row}, column ${column}: ${formatValue(
          value,
        )} — from ${inputs}`;
      });
      canvas.addEventListener('mouseleave', () => {
        highlight(source, []);
        highlight(output, []);
      });
    });
    if (stage.layer.op === 'conv_transpose') {
      const counts = overlapCounts(stage.layer, [source.height, source.width], [height, width]);
      // The borders always get fewer taps (the crop); the interior says whether there is a checkerboard.
      const { least, most } = interiorOverlap(stage.layer);
      const { figure: overlap } = figure(
        `Overlap count of layer ${index + 1}${
          least === most
            ? ` (${most} taps everywhere inside: no checkerboard)`
            : ` (${least} to ${most} taps inside: checkerboard artifacts)`
        }`,
        counts,
        1,
        height,
        width,
        'sequential',
        `figure-overlap-${index}`,
      );
      figures.push(overlap);
      maps.append(overlap.element);
    }
    previous = output;
    previousValues = stage.y;
  });
  applyZoom();
}

/** Outlines `cells` on every channel of `target` (an empty list clears the outlines). */
function highlight(target: Figure, cells: readonly (readonly [number, number])[]): void {
  for (const overlay of target.overlays) {
    overlay.width = target.width * state.zoom;
    overlay.height = target.height * state.zoom;
    const context = overlay.getContext('2d');
    if (!context) continue;
    context.clearRect(0, 0, overlay.width, overlay.height);
    context.strokeStyle = '#ff9f1c';
    context.lineWidth = Math.max(1, Math.min(2, state.zoom / 3));
    for (const [row, column] of cells) {
      context.strokeRect(column * state.zoom + 0.5, row * state.zoom + 0.5, state.zoom - 1, state.zoom - 1);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------------------------

let generation = 0;
let timer: ReturnType<typeof setTimeout> | undefined;

/** Runs soon: several quick changes (typing in a field) become one run. */
function schedule(): void {
  clearTimeout(timer);
  timer = setTimeout(() => void run(null), 60);
}

async function engineFor(
  forced: EngineKind | undefined,
): Promise<{ engine: PreviewEngine | null; note: string | null }> {
  if (forced === 'cpu') return { engine: chooser.cpu, note: null };
  if (forced === 'webgpu') {
    const gpu = await chooser.webgpu();
    return gpu.ok
      ? { engine: gpu.value, note: null }
      : { engine: null, note: `WebGPU is unavailable: ${gpu.error}` };
  }
  return chooser.choose(state.engine);
}

/** Runs the stack and draws it; answers `request` (a host's `run`) with a result or an error. */
async function run(request: RunMessage | null): Promise<void> {
  const mine = ++generation;
  const id = request?.id ?? null;
  const fail = (message: string) => {
    if (mine !== generation) return;
    showError(message);
    document.body.dataset['state'] = 'error';
    post({ type: 'error', id, message } satisfies ErrorMessage);
  };
  document.body.dataset['state'] = 'running';
  let custom: Filter | null = null;
  const first = state.layers[0]!;
  if (state.custom !== null) {
    const parsed = parseCustomFilter(state.custom, first.kernel[0], first.kernel[1]);
    if (!parsed.ok) return fail(parsed.error);
    custom = parsed.filter;
  }
  const { engine, note } = await engineFor(request?.engine);
  if (!engine) return fail(note ?? 'No engine is available.');
  const input = currentInput();
  const started = performance.now();
  const outcome = await runStack(engine.run, state.layers, input, state.preset, state.seed, custom);
  const milliseconds = performance.now() - started;
  if (mine !== generation) return;
  if (!outcome.ok) return fail(outcome.error);
  showError(null);
  const stages = outcome.value;
  if (!state.zoomChosen) {
    const largest = Math.max(input.height, input.width, ...stages.flatMap((stage) => stage.yShape.slice(2)));
    state.zoom = [...ZOOMS].reverse().find((zoom) => zoom * largest <= 200) ?? 1;
    const zoomText = document.querySelector('[data-testid=zoom]');
    if (zoomText) zoomText.textContent = `${state.zoom}×`;
  }
  renderMaps(input, stages);
  const label = stages[0]?.engine ?? engine.label;
  badge.textContent = `${label} · ${milliseconds.toFixed(1)} ms${note ? ` · ${note}` : ''}`;
  badge.dataset['engine'] = engine.kind;
  const last = stages.at(-1);
  const [min, max] = last ? range(last.y) : [0, 0];
  const result: ResultMessage = {
    type: 'result',
    id,
    engine: engine.kind,
    engineLabel: label,
    milliseconds,
    layers: state.layers,
    inputShape: [1, input.channels, input.height, input.width],
    outputShapes: stages.map((stage) => stage.yShape),
    min,
    max,
    ...(request?.includeValues && last ? { values: Array.from(last.y) } : {}),
  };
  post(result);
  document.body.dataset['state'] = 'done';
  document.body.dataset['runs'] = String(Number(document.body.dataset['runs'] ?? '0') + 1);
}

/** The input of the next run: the workspace image in use, else the generated pattern. */
function currentInput(): PreviewImage {
  const image = workspaceImages.current;
  return image ? imageInput(image, state.size) : generatePattern(state.pattern, state.size);
}

/** Decodes a workspace image the host sent and runs on it; a picture that will not decode is said, not thrown. */
async function receiveImage(message: Extract<HostToPanel, { type: 'image' }>): Promise<void> {
  const decoded = await decodeImage(message);
  if (!decoded.ok) {
    showError(decoded.error);
    post({ type: 'error', id: message.id, message: decoded.error });
    return;
  }
  workspaceImages.current?.bitmap.close();
  workspaceImages.current = decoded.image;
  const { name, width, height } = decoded.image;
  rebuild();
  schedule();
  post({ type: 'imageLoaded', id: message.id, name, width, height });
}

function renderHeader(): void {
  title.textContent = `Conv Lens preview — ${state.layers[0]?.label ?? ''}`;
  notes.replaceChildren(...state.notes.map((note) => el('div', {}, note)));
}

function receive(message: HostToPanel): void {
  switch (message.type) {
    case 'init': {
      const layer = message.layer ?? DEFAULT_LAYER;
      state.layers = [layer];
      state.engine = message.engine;
      state.notes = message.notes;
      // A transposed conv upsamples: a smaller input, and the kernel that makes it a bilinear upsampler.
      state.preset = layer.op === 'conv_transpose' ? 'bilinear' : 'gaussian';
      state.size = layer.op === 'conv_transpose' ? 16 : 32;
      state.custom = null;
      rebuild();
      schedule();
      return;
    }
    case 'run':
      if (message.input) {
        workspaceImages.current = null;
        state.pattern = message.input.pattern;
        state.size = message.input.size;
      }
      if (message.preset) {
        state.preset = message.preset;
        state.custom = null;
      }
      if (message.seed !== undefined) state.seed = message.seed;
      clearTimeout(timer);
      rebuild();
      void run(message);
      return;
    case 'images':
      workspaceImages.files = message.files;
      workspaceImages.note = message.note;
      if (message.note) state.notes = [...state.notes, message.note];
      rebuild();
      return;
    case 'image':
      void receiveImage(message);
      return;
    case 'imageError':
      showError(message.message);
      post({ type: 'error', id: message.id, message: message.message });
      return;
    default: {
      const never: never = message;
      return never;
    }
  }
}

const controlsBox = el('div');
function rebuild(): void {
  renderHeader();
  controlsBox.replaceChildren(controls());
  renderStack();
}

root.append(
  el('header', { class: 'header' }, title, badge),
  notes,
  controlsBox,
  stackBox,
  errorBox,
  readout,
  maps,
);
rebuild();
// The Calculator section (collapsed under the title) computes in the page; only "Insert at cursor" goes to the host.
notes.after(createCalculatorView({ insertCode: (code) => post({ type: 'insertCode', code }) }));

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  // Only the host's messages reach a webview's window; anything that fails the protocol check is dropped.
  if (isHostToPanel(event.data)) receive(event.data);
});
post({ type: 'ready' });
post({ type: 'listImages' });
