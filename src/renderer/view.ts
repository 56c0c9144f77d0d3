/// <reference lib="dom" />
/**
 * The animation widget: draws a Conv Lens timeline (src/core/animation) as SVG grids with playback controls,
 * hover connections, a formula panel and SVG export. Shared by the notebook renderer (renderer.ts) and, later,
 * the Markdown preview. Everything it shows comes from the core timeline; this file only draws it.
 *
 * State is mirrored on the root element (`data-view`, `data-frame`, `data-frames`, `data-playing`) and every
 * cell carries `data-grid`, `data-pos` (its coordinate in that grid) and `data-kind`, so tests and assistive
 * tools can read what is on screen.
 */
import type { AnimationView } from '../core/animation/payload';
import {
  type DirectFrame,
  type MatrixView,
  type ScatterFrame,
  type Timeline,
  cellValue,
  directFrame,
  directReaders,
  flatten,
  frameCount,
  isOutputPadding,
  matrixView,
  overlapCounts,
  scatterFrame,
  scatterGrid,
  scatterSources,
  sourceCellKind,
  sourceGrid,
  timelineFromPayload,
  unflatten,
} from '../core/animation/timeline';
import { EXPORTED_PROPERTIES, buildAnimatedSvg } from './animatedSvg';
import {
  EXPORT_FORMATS,
  type ExportFailedMessage,
  type ExportFormat,
  type ExportImageMessage,
  type WidgetSummary,
  exportExtension,
} from './protocol';
import { RENDERER_CSS } from './styles';

const SVG_NS = 'http://www.w3.org/2000/svg';
/** Frames per second at speed 1×. */
const BASE_FPS = 2;
const SPEEDS = [0.25, 0.5, 1, 2, 4] as const;
/** Cells smaller than this carry no numbers. */
const MIN_TEXT_CELL = 16;
const MAX_TERMS_SHOWN = 12;

export interface AnimationHost {
  /** The renderer's messaging (present when the manifest sets requiresMessaging): exports go to the host. */
  readonly postMessage?: (message: unknown) => void;
}

/** Labels of the export formats in the toolbar. */
const EXPORT_LABELS: Record<ExportFormat, string> = {
  svg: 'SVG (this frame)',
  png: 'PNG (this frame)',
  'animated-svg': 'Animated SVG (all frames)',
};
/** PNG exports are drawn at twice the on-screen size, so they stay sharp on high-density screens and slides. */
const PNG_SCALE = 2;

export interface AnimationWidget {
  readonly root: HTMLElement;
  readonly timeline: Timeline;
  setView(view: AnimationView): void;
  showFrame(frame: number): void;
  play(): void;
  pause(): void;
  /** The current frame as a standalone SVG document (colours resolved, so it looks the same outside VS Code). */
  exportSvg(): string;
  /** The current frame as a PNG (the SVG drawn on a canvas at twice its size), in base64. */
  exportPng(): Promise<string>;
  /** Every frame of the current view as one SMIL-animated SVG document; throws when it would be too large. */
  exportAnimatedSvg(): string;
  /** The export as the message the host saves; rejects with a sentence when it cannot be made. */
  exportImage(format: ExportFormat, requestId?: string): Promise<ExportImageMessage>;
  /** Exports and hands the file to the host (or downloads it without one); failures are shown and reported. */
  deliverExport(format: ExportFormat, requestId?: string): Promise<void>;
  /** What is drawn, read from the drawing: for the host's 'rendered' report and for tests. */
  summary(): WidgetSummary;
  /** When the user last clicked, focused or typed in the widget (ms since the epoch; 0 if never). */
  readonly lastActive: number;
  dispose(): void;
}

/**
 * Draws `payload` into `element`: the animation, or a clear message when the payload cannot be drawn. Returns
 * the widget, or null when a message was shown instead. Never throws.
 */
export function renderAnimation(
  element: HTMLElement,
  payload: unknown,
  host: AnimationHost = {},
): AnimationWidget | null {
  try {
    const outcome = timelineFromPayload(payload);
    if (!outcome.ok) {
      renderMessage(element, outcome.error, payload);
      return null;
    }
    return new Widget(element, outcome.value, host);
  } catch (error) {
    renderMessage(element, `Something went wrong while drawing (${(error as Error).message}).`, payload);
    return null;
  }
}

/** A message in place of the animation: what is wrong, and an example of a payload that works. */
export function renderMessage(element: HTMLElement, message: string, payload?: unknown): void {
  const root = document.createElement('div');
  root.className = 'cl-anim';
  root.append(style());
  const box = el('div', { class: 'cl-error', role: 'alert' });
  const heading = el('strong', {}, 'Conv Lens cannot draw this output. ');
  const text = el('span', { class: 'cl-error-message' }, message);
  const example = el(
    'pre',
    {},
    `A payload that works: {"op": "conv_transpose", "input": [3, 3], "kernel": 3, "stride": 2, "padding": 1}`,
  );
  box.append(heading, text, example);
  if (payload !== undefined) {
    let shown: string;
    try {
      shown = typeof payload === 'string' ? payload : JSON.stringify(payload);
    } catch {
      shown = String(payload);
    }
    if (shown !== undefined && shown.length > 0) {
      box.append(
        el(
          'pre',
          { class: 'cl-error-payload' },
          `Received: ${shown.slice(0, 300)}${shown.length > 300 ? '…' : ''}`,
        ),
      );
    }
  }
  root.append(box);
  element.replaceChildren(root);
}

function style(): HTMLStyleElement {
  const node = document.createElement('style');
  node.textContent = RENDERER_CSS;
  return node;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number> = {},
  text?: string,
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** `y[1, 2]`, `x[3]`. */
function cellName(letter: string, index: readonly number[]): string {
  return `${letter}[${index.join(', ')}]`;
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  if (Number.isInteger(value)) return String(value);
  if (Math.abs(value) >= 1000) return value.toPrecision(4);
  return String(Number(value.toFixed(2)));
}

/** `0..2` or `3`: the range of one coordinate over a set of cells. */
function span(values: readonly number[]): string {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? String(lo) : `${lo}..${hi}`;
}

function rangeName(letter: string, cells: readonly (readonly number[])[]): string {
  if (cells.length === 0) return 'nothing';
  const rank = cells[0]!.length;
  return `${letter}[${Array.from({ length: rank }, (_, d) => span(cells.map((c) => c[d]!))).join(', ')}]`;
}

/** One drawn grid: its cells by coordinate key, and how coordinates map to pixels. */
interface DrawnGrid {
  readonly name: 'source' | 'input' | 'output';
  readonly lo: readonly number[];
  readonly sizes: readonly number[];
  readonly x: number;
  readonly y: number;
  readonly cells: Map<string, SVGRectElement>;
  readonly texts: Map<string, SVGTextElement>;
}

const VIEW_LABELS: Record<AnimationView, string> = {
  direct: 'Direct',
  scatter: 'Scatter',
  matrix: 'Matrix',
};

const VIEW_HINTS: Record<AnimationView, string> = {
  direct: 'The kernel slides over the input; each frame writes one output cell.',
  scatter: 'Each input cell stamps the kernel onto the output; overlapping stamps add up (counts shown).',
  matrix:
    'The operation as a sparse matrix acting on the flattened input; the current output cell is one row.',
};

let widgetCount = 0;

class Widget implements AnimationWidget {
  readonly root: HTMLElement;
  readonly timeline: Timeline;
  private readonly host: AnimationHost;
  private readonly id = ++widgetCount;
  private view: AnimationView;
  private frame = 0;
  private frames = 1;
  private speedIndex = 2;
  private playing = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  lastActive = 0;

  // Controls and panels.
  private readonly tabs = new Map<AnimationView, HTMLButtonElement>();
  private readonly playButton: HTMLButtonElement;
  private readonly scrub: HTMLInputElement;
  private readonly frameText: HTMLSpanElement;
  private readonly speedSelect: HTMLSelectElement;
  private readonly exportSelect: HTMLSelectElement;
  private readonly stage: HTMLDivElement;
  private readonly frameInfo: HTMLDivElement;
  private readonly hoverInfo: HTMLDivElement;
  private readonly legend: HTMLDivElement;
  private readonly caption: HTMLDivElement;

  // The drawing of the current view.
  private svgRoot: SVGSVGElement | null = null;
  private grids = new Map<string, DrawnGrid>();
  private cellSize = 20;
  private footprint: SVGRectElement | null = null;
  private marked: Element[] = [];
  private hovered: Element[] = [];
  private counts: Int32Array | null = null;
  private countsThrough = -1;
  private maxCount = 1;
  private outputValues: Array<number | null> = [];
  private matrix: MatrixView | null = null;
  private matrixRows: Array<Array<{ col: number; weight: number; node: SVGRectElement }>> = [];
  private matrixBand: SVGRectElement | null = null;
  private matrixTop = 0;
  private xCells: SVGRectElement[] = [];
  private yCells: SVGRectElement[] = [];

  constructor(element: HTMLElement, timeline: Timeline, host: AnimationHost) {
    this.timeline = timeline;
    this.host = host;
    this.view = timeline.initialView;
    const t = timeline;
    const title = t.spec.title ?? describeOperation(t);
    this.root = el('div', {
      class: 'cl-anim',
      tabindex: '0',
      role: 'group',
      'aria-label': `Conv Lens animation: ${title}. Space plays or pauses, arrow keys step, 1 to ${t.views.length} switch views.`,
    });
    this.root.append(style());

    const header = el('div', { class: 'cl-header' });
    header.append(
      el('span', { class: 'cl-title' }, title),
      el(
        'span',
        { class: 'cl-shapes' },
        `input ${t.inputSize.join('×')} → output ${t.outputSize.join('×')}` +
          (t.channels && (t.channels.inChannels > 1 || t.channels.outChannels > 1)
            ? ` · channels ${t.channels.inChannels} → ${t.channels.outChannels}, groups ${t.channels.groups}`
            : ''),
      ),
      el('span', { class: 'cl-call' }, t.call),
    );

    const toolbar = el('div', { class: 'cl-toolbar' });
    const viewGroup = el('div', { class: 'cl-group', role: 'tablist', 'aria-label': 'View' });
    t.views.forEach((view, i) => {
      const button = el(
        'button',
        { type: 'button', role: 'tab', 'data-view': view, title: `${VIEW_HINTS[view]} (key ${i + 1})` },
        VIEW_LABELS[view],
      );
      button.addEventListener('click', () => this.setView(view));
      this.tabs.set(view, button);
      viewGroup.append(button);
    });
    const playGroup = el('div', { class: 'cl-group' });
    const back = el(
      'button',
      {
        type: 'button',
        class: 'cl-step-back',
        'aria-label': 'Previous frame (←)',
        title: 'Previous frame (←)',
      },
      '|◀',
    );
    this.playButton = el(
      'button',
      { type: 'button', class: 'cl-play', 'aria-label': 'Play (space)', title: 'Play / pause (space)' },
      '▶',
    );
    const forward = el(
      'button',
      { type: 'button', class: 'cl-step-forward', 'aria-label': 'Next frame (→)', title: 'Next frame (→)' },
      '▶|',
    );
    back.addEventListener('click', () => this.step(-1));
    forward.addEventListener('click', () => this.step(1));
    this.playButton.addEventListener('click', () => (this.playing ? this.pause() : this.play()));
    playGroup.append(back, this.playButton, forward);
    this.scrub = el('input', {
      type: 'range',
      class: 'cl-scrub',
      min: '0',
      max: '0',
      step: '1',
      value: '0',
      'aria-label': 'Frame',
    });
    this.scrub.addEventListener('input', () => {
      this.pause();
      this.showFrame(Number(this.scrub.value));
    });
    this.frameText = el('span', { class: 'cl-frame-text' });
    this.speedSelect = el('select', { class: 'cl-speed', 'aria-label': 'Speed', title: 'Speed (+ / −)' });
    SPEEDS.forEach((speed, i) => {
      const option = el('option', { value: String(i) }, `${speed}×`);
      this.speedSelect.append(option);
    });
    this.speedSelect.value = String(this.speedIndex);
    this.speedSelect.addEventListener('change', () => this.setSpeed(Number(this.speedSelect.value)));
    this.exportSelect = el('select', { class: 'cl-export-format', 'aria-label': 'Export format' });
    for (const format of EXPORT_FORMATS) {
      this.exportSelect.append(el('option', { value: format }, EXPORT_LABELS[format]));
    }
    this.exportSelect.value = 'svg';
    const exportButton = el(
      'button',
      { type: 'button', class: 'cl-export', title: 'Export in the chosen format' },
      'Export',
    );
    exportButton.addEventListener(
      'click',
      () => void this.deliverExport(this.exportSelect.value as ExportFormat),
    );
    const exportGroup = el('div', { class: 'cl-group' });
    exportGroup.append(this.exportSelect, exportButton);
    toolbar.append(viewGroup, playGroup, this.scrub, this.frameText, this.speedSelect, exportGroup);

    this.stage = el('div', { class: 'cl-stage' });
    this.caption = el('div', { class: 'cl-caption' });
    this.legend = el('div', { class: 'cl-legend' });
    const panel = el('div', { class: 'cl-panel' });
    this.frameInfo = el('div', { class: 'cl-frame-info' });
    this.hoverInfo = el('div', { class: 'cl-hover-info', 'aria-live': 'polite' });
    panel.append(this.frameInfo, this.formulaPanel(), this.hoverInfo);
    const channels = this.channelText();
    if (channels) panel.append(el('div', { class: 'cl-channels' }, channels));

    this.root.append(header, toolbar, this.stage, this.caption, this.legend, panel);
    if (t.notices.length > 0) {
      const list = el('ul', { class: 'cl-notices' });
      for (const notice of t.notices) list.append(el('li', {}, notice));
      this.root.append(list);
    }
    this.root.addEventListener('keydown', (event) => this.onKey(event));
    // The host's export command exports the animation used last when a notebook shows several.
    for (const type of ['pointerdown', 'focusin', 'keydown'] as const) {
      this.root.addEventListener(type, () => (this.lastActive = Date.now()));
    }
    element.replaceChildren(this.root);

    this.setView(this.view);
    this.updateControls();
    this.root.dataset['speed'] = String(SPEEDS[this.speedIndex]);
    const reduced =
      typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;
    if (!reduced && this.frames > 1) this.play();
  }

  // ---------------------------------------------------------------------------------------------------------
  // Playback.

  play(): void {
    if (this.disposed || this.playing) return;
    this.playing = true;
    this.updateControls();
    this.schedule();
  }

  pause(): void {
    this.playing = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.updateControls();
  }

  private schedule(): void {
    if (!this.playing) return;
    const interval = 1000 / (BASE_FPS * SPEEDS[this.speedIndex]!);
    // Linger on the last frame before starting over, so the finished output can be seen.
    const wait = this.frame === this.frames - 1 ? interval * 3 : interval;
    this.timer = setTimeout(() => {
      if (this.disposed || !this.root.isConnected) {
        this.dispose();
        return;
      }
      this.showFrame(this.frame + 1 >= this.frames ? 0 : this.frame + 1);
      this.schedule();
    }, wait);
  }

  private step(delta: number): void {
    this.pause();
    this.showFrame(Math.min(this.frames - 1, Math.max(0, this.frame + delta)));
  }

  private setSpeed(index: number): void {
    this.speedIndex = Math.min(SPEEDS.length - 1, Math.max(0, index));
    this.speedSelect.value = String(this.speedIndex);
    if (this.playing) {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.schedule();
    }
    this.root.dataset['speed'] = String(SPEEDS[this.speedIndex]);
  }

  private onKey(event: KeyboardEvent): void {
    const target = event.target as HTMLElement | null;
    // The scrubber and the speed list handle their own arrow keys.
    if (
      target &&
      (target.tagName === 'INPUT' || target.tagName === 'SELECT') &&
      event.key.startsWith('Arrow')
    )
      return;
    let handled = true;
    switch (event.key) {
      case ' ':
      case 'k':
        if (target && target.tagName === 'BUTTON' && event.key === ' ') {
          handled = false;
          break;
        }
        if (this.playing) this.pause();
        else this.play();
        break;
      case 'ArrowRight':
      case 'l':
      case '.':
        this.step(1);
        break;
      case 'ArrowLeft':
      case 'j':
      case ',':
        this.step(-1);
        break;
      case 'Home':
        this.pause();
        this.showFrame(0);
        break;
      case 'End':
        this.pause();
        this.showFrame(this.frames - 1);
        break;
      case '+':
      case '=':
        this.setSpeed(this.speedIndex + 1);
        break;
      case '-':
      case '_':
        this.setSpeed(this.speedIndex - 1);
        break;
      default: {
        const view = /^[1-9]$/.test(event.key) ? this.timeline.views[Number(event.key) - 1] : undefined;
        if (view) this.setView(view);
        else handled = false;
      }
    }
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  }

  private updateControls(): void {
    this.playButton.textContent = this.playing ? '❚❚' : '▶';
    this.playButton.setAttribute('aria-label', this.playing ? 'Pause (space)' : 'Play (space)');
    this.playButton.setAttribute('aria-pressed', String(this.playing));
    this.root.dataset['playing'] = String(this.playing);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Views.

  setView(view: AnimationView): void {
    if (!this.timeline.views.includes(view)) return;
    this.view = view;
    for (const [name, tab] of this.tabs) tab.setAttribute('aria-selected', String(name === view));
    this.root.dataset['view'] = view;
    this.frames = frameCount(this.timeline, view);
    this.scrub.max = String(this.frames - 1);
    this.marked = [];
    this.hovered = [];
    this.counts = null;
    this.countsThrough = -1;
    this.grids = new Map();
    this.matrix = null;
    this.hoverInfo.textContent = VIEW_HINTS[view];
    if (view === 'matrix') this.drawMatrix();
    else this.drawGrids();
    this.root.dataset['frames'] = String(this.frames);
    this.showFrame(Math.min(this.frame, this.frames - 1));
  }

  private drawGrids(): void {
    const t = this.timeline;
    const direct = this.view === 'direct';
    const left = direct
      ? { name: 'source' as const, ...sourceGrid(t) }
      : { name: 'input' as const, lo: t.inputSize.map(() => 0), sizes: [...t.inputSize] };
    const right = direct
      ? { name: 'output' as const, lo: t.outputSize.map(() => 0), sizes: [...t.outputSize] }
      : { name: 'output' as const, ...scatterGrid(t) };
    const rowsOf = (sizes: readonly number[]): number => (sizes.length === 2 ? sizes[0]! : 1);
    const colsOf = (sizes: readonly number[]): number => sizes[sizes.length - 1]!;
    const vertical = t.rank === 1;
    const labelHeight = 18;
    const gap = 44;
    let size: number;
    if (vertical) {
      size = Math.floor(720 / Math.max(colsOf(left.sizes), colsOf(right.sizes)));
    } else {
      size = Math.floor(
        Math.min(
          680 / (colsOf(left.sizes) + colsOf(right.sizes)),
          380 / Math.max(rowsOf(left.sizes), rowsOf(right.sizes)),
        ),
      );
    }
    size = Math.max(5, Math.min(34, size));
    this.cellSize = size;
    const leftLabel = direct
      ? t.op === 'conv_transpose'
        ? 'zero-inserted, padded input'
        : `input ${t.inputSize.join('×')}${t.axes.some((a) => a.source.padBegin !== 0 || a.source.padEnd !== 0) ? ' (padded)' : ''}`
      : `input ${t.inputSize.join('×')}`;
    const rightLabel = `output ${t.outputSize.join('×')}`;
    // About 6.5 px per character of the 11 px label font: the right grid starts after the left label ends.
    const labelWidth = (text: string): number => text.length * 6.5 + 12;
    const leftW = colsOf(left.sizes) * size;
    const leftH = rowsOf(left.sizes) * size;
    const rightW = colsOf(right.sizes) * size;
    const rightH = rowsOf(right.sizes) * size;
    const pad = 4;
    let leftPos: [number, number];
    let rightPos: [number, number];
    let width: number;
    let height: number;
    if (vertical) {
      width = Math.max(leftW, rightW) + 2 * pad;
      leftPos = [pad + (width - 2 * pad - leftW) / 2, labelHeight + pad];
      rightPos = [pad + (width - 2 * pad - rightW) / 2, labelHeight * 2 + pad + leftH + gap / 2];
      height = rightPos[1] + rightH + pad;
    } else {
      leftPos = [pad, labelHeight + pad];
      rightPos = [pad + Math.max(leftW + gap, labelWidth(leftLabel)), labelHeight + pad];
      width = rightPos[0] + rightW + pad;
      height = labelHeight + pad + Math.max(leftH, rightH) + pad;
    }
    const root = svg('svg', {
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: 'img',
      'aria-label': `${this.view} view of ${describeOperation(t)}`,
    });
    root.append(svg('title', {}, `${describeOperation(t)}: ${this.view} view`));
    const defs = svg('defs');
    root.append(defs);

    root.append(
      svg('text', { class: 'cl-label', x: leftPos[0], y: leftPos[1] - 6 }, leftLabel),
      svg('text', { class: 'cl-label', x: rightPos[0], y: rightPos[1] - 6 }, rightLabel),
    );
    if (vertical) {
      const x = width / 2;
      root.append(
        svg('path', {
          class: 'cl-arrow',
          d: `M ${x} ${leftPos[1] + leftH + 4} v ${gap / 2 - 2} m -4 -5 l 4 5 l 4 -5`,
        }),
      );
    } else {
      const y = leftPos[1] + Math.min(leftH, rightH) / 2;
      const from = leftPos[0] + leftW + 8;
      root.append(
        svg('path', { class: 'cl-arrow', d: `M ${from} ${y} H ${rightPos[0] - 8} m -5 -4 l 5 4 l -5 4` }),
      );
    }

    const showText = size >= MIN_TEXT_CELL;
    const values = t.values;
    const sourceKindOf = (pos: number[]): string => (direct ? sourceCellKind(t, pos) : 'input');
    const outputKindOf = (pos: number[]): string =>
      pos.every((p, d) => p >= 0 && p < t.outputSize[d]!) ? 'output' : 'cropped';

    this.outputValues = [];
    if (values) {
      const total = t.outputSize.reduce((a, b) => a * b, 1);
      for (let f = 0; f < total; f++)
        this.outputValues.push(cellValue(t, unflatten(f, t.outputSize))?.value ?? null);
    }

    const leftGrid = this.drawGrid(
      root,
      left.name,
      left.lo,
      left.sizes,
      leftPos,
      sourceKindOf,
      (pos, kind) => {
        if (!showText || !values) return null;
        if (kind === 'input') {
          const index = direct ? pos.map((g, d) => g / t.axes[d]!.source.inputDilation) : pos;
          return formatNumber(values.input[flatten(index, t.inputSize)]!);
        }
        if (kind === 'pad' || kind === 'hole') return t.op === 'max_pool' ? '' : '0';
        return null;
      },
    );
    const rightGrid = this.drawGrid(root, 'output', right.lo, right.sizes, rightPos, outputKindOf, () =>
      showText ? '' : null,
    );
    this.grids.set(leftGrid.name, leftGrid);
    this.grids.set('output', rightGrid);

    // output_padding cells: a corner mark, the same in both views.
    for (const [key, rect] of rightGrid.cells) {
      const pos = key.split(',').map(Number);
      if (rect.dataset['kind'] !== 'output' || !isOutputPadding(t, pos)) continue;
      rect.dataset['outputPadding'] = 'true';
      const x = Number(rect.getAttribute('x'));
      const y = Number(rect.getAttribute('y'));
      const mark = Math.max(3, size / 3);
      root.append(svg('path', { class: 'cl-oppad', d: `M ${x + size - mark} ${y} h ${mark} v ${mark} z` }));
    }

    if (!direct) {
      this.maxCount = Math.max(1, ...overlapCounts(t));
    }

    this.footprint = svg('rect', { class: 'cl-footprint', x: 0, y: 0, width: 0, height: 0, rx: 2 });
    root.append(this.footprint);
    root.addEventListener('mouseover', (event) => this.onHover(event));
    root.addEventListener('mouseleave', () => this.clearHover());
    this.svgRoot = root;
    this.stage.replaceChildren(root);
    this.drawLegend(direct);
    this.caption.textContent = direct ? this.sourceCaption() : this.scatterCaption();
  }

  /** What the direct view's source grid is, in words: padding per side, zero insertion, overhang. */
  private sourceCaption(): string {
    const t = this.timeline;
    const perAxis = (describe: (a: Timeline['axes'][number]) => string): string =>
      t.axes.map((a) => `${t.rank > 1 ? `${a.name}: ` : ''}${describe(a)}`).join('; ');
    if (t.op === 'conv_transpose') {
      return (
        `The equivalent direct convolution: input ${t.inputSize.join('×')} with stride − 1 zeros inserted between ` +
        `cells and k_eff − 1 − padding cells added (${perAxis((a) => `${a.source.padBegin} before, ${a.source.padEnd} after` + (a.outputPadding ? ` incl. output_padding ${a.outputPadding}` : ''))}), ` +
        `scanned with stride 1 by the flipped kernel.`
      );
    }
    const overhang = t.axes.some(
      (a, d) => a.source.hi > (t.inputSize[d]! - 1) * a.source.inputDilation + 1 + a.source.padEnd,
    );
    const padded = t.axes.some((a) => a.source.padBegin !== 0 || a.source.padEnd !== 0);
    return (
      `Input ${t.inputSize.join('×')}` +
      (padded
        ? `, padded ${perAxis((a) => `${a.source.padBegin} before, ${a.source.padEnd} after`)}`
        : ', no padding') +
      '.' +
      (overhang ? ' Dashed cells past the edge: ceil_mode lets the last window overhang the input.' : '')
    );
  }

  private scatterCaption(): string {
    const t = this.timeline;
    const cropped = t.axes.some((a) => a.cropBegin > 0 || a.cropEnd > 0);
    return (
      `Each input cell adds input × kernel onto the output at stride ${t.axes.map((a) => a.stride).join('×')}; ` +
      'the numbers count the stamps so far' +
      (cropped
        ? `, and the shaded border is what the padding crops (${t.axes.map((a) => `${a.cropBegin} before, ${a.cropEnd} after`).join('; ')})`
        : '') +
      '.'
    );
  }

  private drawGrid(
    root: SVGSVGElement,
    name: DrawnGrid['name'],
    lo: readonly number[],
    sizes: readonly number[],
    [x0, y0]: [number, number],
    kindOf: (pos: number[]) => string,
    textOf: (pos: number[], kind: string) => string | null,
  ): DrawnGrid {
    const size = this.cellSize;
    const group = svg('g', { class: `cl-grid cl-grid-${name}`, 'data-grid': name });
    const cells = new Map<string, SVGRectElement>();
    const texts = new Map<string, SVGTextElement>();
    const total = sizes.reduce((a, b) => a * b, 1);
    for (let flat = 0; flat < total; flat++) {
      const offset = unflatten(flat, sizes);
      const pos = offset.map((o, d) => o + lo[d]!);
      const row = sizes.length === 2 ? offset[0]! : 0;
      const col = offset[offset.length - 1]!;
      const kind = kindOf(pos);
      const key = pos.join(',');
      const rect = svg('rect', {
        class: 'cl-cell',
        x: x0 + col * size,
        y: y0 + row * size,
        width: size,
        height: size,
        'data-grid': name,
        'data-pos': key,
        'data-kind': kind,
      });
      group.append(rect);
      cells.set(key, rect);
      const text = textOf(pos, kind);
      if (text !== null) {
        const node = svg(
          'text',
          {
            class: 'cl-value',
            x: x0 + col * size + size / 2,
            y: y0 + row * size + size / 2,
            'font-size': Math.round(size * 0.42),
          },
          text,
        );
        group.append(node);
        texts.set(key, node);
      }
    }
    root.append(group);
    return { name, lo, sizes, x: x0, y: y0, cells, texts };
  }

  private drawLegend(direct: boolean): void {
    const t = this.timeline;
    const items: Array<[string, string]> = [
      ['var(--cl-input)', 'input'],
      ['var(--cl-kernel)', 'kernel footprint'],
      ['var(--cl-output)', direct ? 'output (done, current)' : 'output (darker: more stamps)'],
    ];
    if (direct && t.axes.some((a) => a.source.padBegin > 0 || a.source.padEnd > 0))
      items.push(['transparent', 'padding (dashed)']);
    if (direct && t.axes.some((a) => a.source.inputDilation > 1))
      items.push(['transparent', 'inserted zero (dotted)']);
    if (t.axes.some((a) => a.outputPadding > 0))
      items.push(['var(--cl-kernel)', 'output_padding (corner mark)']);
    this.legend.replaceChildren(
      ...items.map(([colour, label]) => {
        const item = el('span');
        const swatch = el('span', { class: 'cl-swatch' });
        swatch.style.background = colour;
        item.append(swatch, label);
        return item;
      }),
    );
  }

  private drawMatrix(): void {
    const t = this.timeline;
    const outcome = matrixView(t);
    this.svgRoot = null;
    this.legend.replaceChildren();
    if (!outcome.ok) {
      this.matrix = null;
      this.caption.textContent = '';
      const message = el('div', { class: 'cl-error', role: 'status' });
      message.append(el('span', { class: 'cl-error-message' }, outcome.error));
      this.stage.replaceChildren(message);
      return;
    }
    const m = outcome.value;
    this.matrix = m;
    const size = Math.max(3, Math.min(18, Math.floor(440 / Math.max(m.rows, m.cols))));
    this.cellSize = size;
    const pad = 4;
    const label = 18;
    const x0 = pad + 24;
    const y0 = pad + label + size + 10;
    this.matrixTop = y0;
    const width = Math.max(x0 + m.cols * size + 14 + size + 40, 240);
    const height = y0 + m.rows * size + pad;
    const root = svg('svg', {
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: 'img',
      'aria-label': `${m.label} as a ${m.rows}×${m.cols} matrix`,
    });
    root.append(svg('title', {}, `${describeOperation(t)}: matrix view`));
    root.append(
      svg('text', { class: 'cl-label', x: x0, y: pad + 12 }, `y = ${m.label}·x   (${m.rows}×${m.cols})`),
    );
    root.append(svg('text', { class: 'cl-label', x: pad, y: pad + label + size - 2 }, 'x'));
    this.caption.textContent =
      `x is the input flattened row-major (above), y the output (right); row r of ${m.label} holds the weights ` +
      `that make output cell r` +
      (t.op === 'conv_transpose'
        ? `. ${m.label} is the transpose of the matrix C of the conv that maps a ${t.outputSize.join('×')} input to ${t.inputSize.join('×')} with the same kernel, stride and padding.`
        : '.');
    // x above the matrix, one cell per column.
    this.xCells = [];
    for (let c = 0; c < m.cols; c++) {
      const rect = svg('rect', {
        class: 'cl-cell',
        x: x0 + c * size,
        y: pad + label,
        width: size,
        height: size,
        'data-grid': 'x',
        'data-pos': String(c),
        'data-kind': 'input',
      });
      this.xCells.push(rect);
      root.append(rect);
    }
    root.append(
      svg('rect', { class: 'cl-matrix-bg', x: x0, y: y0, width: m.cols * size, height: m.rows * size }),
    );
    this.matrixBand = svg('rect', { class: 'cl-band', x: x0, y: y0, width: m.cols * size, height: size });
    root.append(this.matrixBand);
    this.matrixRows = Array.from({ length: m.rows }, () => []);
    const kernelValues = t.values?.kernel ?? null;
    for (const entry of m.entries) {
      const rect = svg('rect', {
        class: 'cl-entry',
        x: x0 + entry.col * size,
        y: y0 + entry.row * size,
        width: size,
        height: size,
        'data-grid': 'matrix',
        'data-pos': `${entry.row},${entry.col}`,
        'data-weight': String(entry.weight),
      });
      root.append(rect);
      this.matrixRows[entry.row]!.push({ col: entry.col, weight: entry.weight, node: rect });
      if (size >= MIN_TEXT_CELL && kernelValues) {
        root.append(
          svg(
            'text',
            {
              class: 'cl-value',
              x: x0 + entry.col * size + size / 2,
              y: y0 + entry.row * size + size / 2,
              'font-size': Math.round(size * 0.5),
            },
            formatNumber(kernelValues[entry.weight]!),
          ),
        );
      }
    }
    // y on the right, one cell per row.
    this.yCells = [];
    const yx = x0 + m.cols * size + 14;
    for (let r = 0; r < m.rows; r++) {
      const rect = svg('rect', {
        class: 'cl-cell',
        x: yx,
        y: y0 + r * size,
        width: size,
        height: size,
        'data-grid': 'y',
        'data-pos': String(r),
        'data-kind': 'output',
      });
      if (isOutputPadding(t, unflatten(r, t.outputSize))) rect.dataset['outputPadding'] = 'true';
      this.yCells.push(rect);
      root.append(rect);
    }
    root.addEventListener('mouseover', (event) => this.onHover(event));
    root.addEventListener('mouseleave', () => this.clearHover());
    this.svgRoot = root;
    this.stage.replaceChildren(root);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Frames.

  showFrame(frame: number): void {
    if (this.disposed) return;
    const f = Math.min(this.frames - 1, Math.max(0, Math.floor(frame)));
    this.frame = f;
    this.scrub.value = String(f);
    this.frameText.textContent = `frame ${f + 1} / ${this.frames}`;
    this.root.dataset['frame'] = String(f);
    for (const node of this.marked) node.classList.remove('cl-tap', 'cl-current', 'cl-source-current');
    this.marked = [];
    if (this.view === 'direct') this.showDirect(directFrame(this.timeline, f));
    else if (this.view === 'scatter') this.showScatter(scatterFrame(this.timeline, f));
    else this.showMatrixRow(f);
  }

  private mark(node: Element | undefined, ...classes: string[]): void {
    if (!node) return;
    node.classList.add(...classes);
    this.marked.push(node);
  }

  private showDirect(frame: DirectFrame): void {
    const t = this.timeline;
    const source = this.grids.get('source');
    const output = this.grids.get('output');
    if (!source || !output) return;
    for (const tap of frame.taps) this.mark(source.cells.get(tap.source.join(',')), 'cl-tap');
    // Output cells up to this one are written; the values appear as they are.
    const total = t.outputSize.reduce((a, b) => a * b, 1);
    for (let flat = 0; flat < total; flat++) {
      const key = unflatten(flat, t.outputSize).join(',');
      output.cells.get(key)?.classList.toggle('cl-done', flat < frame.index);
      const text = output.texts.get(key);
      const value = this.outputValues[flat];
      if (text)
        text.textContent =
          flat <= frame.index && value !== undefined && value !== null ? formatNumber(value) : '';
    }
    this.mark(output.cells.get(frame.output.join(',')), 'cl-current');
    this.placeFootprint(
      source,
      frame.taps.map((tap) => tap.source),
    );
    this.frameInfo.textContent = this.describeDirect(frame);
  }

  private showScatter(frame: ScatterFrame): void {
    const t = this.timeline;
    const input = this.grids.get('input');
    const output = this.grids.get('output');
    if (!input || !output) return;
    this.mark(input.cells.get(frame.input.join(',')), 'cl-source-current');
    for (const tap of frame.taps) this.mark(output.cells.get(tap.output.join(',')), 'cl-tap');
    this.placeFootprint(
      output,
      frame.taps.map((tap) => tap.output),
    );
    // Stamp counts so far: extend the running counts by one frame when playing forward, recount otherwise.
    const grid = scatterGrid(t);
    if (this.counts === null || frame.index < this.countsThrough) {
      this.counts = new Int32Array(grid.sizes.reduce((a, b) => a * b, 1));
      this.countsThrough = -1;
    }
    for (let f = this.countsThrough + 1; f <= frame.index; f++) {
      for (const tap of scatterFrame(t, f).taps) {
        this.counts[
          flatten(
            tap.output.map((o, d) => o - grid.lo[d]!),
            grid.sizes,
          )
        ]! += 1;
      }
    }
    this.countsThrough = frame.index;
    for (let flat = 0; flat < this.counts.length; flat++) {
      const key = unflatten(flat, grid.sizes)
        .map((o, d) => o + grid.lo[d]!)
        .join(',');
      const count = this.counts[flat]!;
      const rect = output.cells.get(key);
      if (rect) {
        rect.dataset['count'] = String(count);
        rect.classList.toggle('cl-counted', count > 0 && rect.dataset['kind'] === 'output');
        rect.style.setProperty('--cl-heat', String(0.12 + (0.7 * count) / this.maxCount));
      }
      const text = output.texts.get(key);
      if (text) text.textContent = count > 0 ? String(count) : '';
    }
    this.frameInfo.textContent = this.describeScatter(frame);
  }

  private showMatrixRow(row: number): void {
    const t = this.timeline;
    const m = this.matrix;
    if (!m || !this.matrixBand) {
      this.frameInfo.textContent = '';
      return;
    }
    this.matrixBand.setAttribute('y', String(this.matrixTop + row * this.cellSize));
    this.matrixBand.dataset['row'] = String(row);
    const entries = this.matrixRows[row] ?? [];
    for (const entry of entries) {
      this.mark(entry.node, 'cl-tap');
      this.mark(this.xCells[entry.col], 'cl-tap');
    }
    this.mark(this.yCells[row], 'cl-current');
    const output = unflatten(row, t.outputSize);
    const cols = entries.map((e) => e.col);
    const value = this.timeline.values ? cellValue(t, output) : null;
    this.frameInfo.textContent =
      `row ${row} of ${m.label}: ${cellName('y', output)} = Σ ${m.label}[${row}, j]·x[j] over ` +
      `${entries.length} non-zero entr${entries.length === 1 ? 'y' : 'ies'}` +
      (cols.length > 0 ? ` (columns ${cols.slice(0, 16).join(', ')}${cols.length > 16 ? ', …' : ''})` : '') +
      (value ? ` = ${formatNumber(value.value)}` : '') +
      (t.op === 'conv_transpose' ? `; row ${row} of Cᵀ is column ${row} of the conv matrix C` : '');
  }

  private placeFootprint(grid: DrawnGrid, positions: readonly (readonly number[])[]): void {
    if (!this.footprint || positions.length === 0) return;
    const size = this.cellSize;
    const rank = positions[0]!.length;
    const lastDim = rank - 1;
    const cols = positions.map((p) => p[lastDim]! - grid.lo[lastDim]!);
    const rows = rank === 2 ? positions.map((p) => p[0]! - grid.lo[0]!) : [0];
    const x = grid.x + Math.min(...cols) * size - 1;
    const y = grid.y + Math.min(...rows) * size - 1;
    this.footprint.setAttribute('x', String(x));
    this.footprint.setAttribute('y', String(y));
    this.footprint.setAttribute('width', String((Math.max(...cols) - Math.min(...cols) + 1) * size + 2));
    this.footprint.setAttribute('height', String((Math.max(...rows) - Math.min(...rows) + 1) * size + 2));
  }

  private describeDirect(frame: DirectFrame): string {
    const t = this.timeline;
    const y = cellName('y', frame.output);
    const count = (kind: string): number => frame.taps.filter((tap) => tap.kind === kind).length;
    const inputs = frame.taps.filter((tap) => tap.input !== null).map((tap) => tap.input!);
    const parts = [`${count('input')} input`];
    if (count('pad') > 0) parts.push(`${count('pad')} padding`);
    if (count('hole') > 0) parts.push(`${count('hole')} inserted zero${count('hole') === 1 ? '' : 's'}`);
    if (count('overhang') > 0) parts.push(`${count('overhang')} past the edge (ceil_mode)`);
    if (count('cropped') > 0) parts.push(`${count('cropped')} cropped`);
    const value = cellValue(t, frame.output);
    let formula: string;
    if (value === null) {
      formula = `${y} reads ${rangeName('x', inputs)}`;
    } else if (t.op === 'max_pool') {
      formula = `${y} = max(${value.terms
        .slice(0, MAX_TERMS_SHOWN)
        .map((term) => formatNumber(t.values!.input[flatten(term.input, t.inputSize)]!))
        .join(', ')}${value.terms.length > MAX_TERMS_SHOWN ? ', …' : ''}) = ${formatNumber(value.value)}`;
    } else if (t.op === 'avg_pool') {
      formula = `${y} = (${
        value.terms
          .slice(0, MAX_TERMS_SHOWN)
          .map((term) => formatNumber(t.values!.input[flatten(term.input, t.inputSize)]!))
          .join(' + ') || '0'
      }${value.terms.length > MAX_TERMS_SHOWN ? ' + …' : ''}) / ${value.divisor} = ${formatNumber(value.value)}`;
    } else {
      const kernel = t.values!.kernel;
      const terms = value.terms.map((term) => {
        const x = formatNumber(t.values!.input[flatten(term.input, t.inputSize)]!);
        const w = kernel ? formatNumber(kernel[flatten(term.weight!, t.kernel)]!) : '1';
        return `${x}·${w.startsWith('-') ? `(${w})` : w}`;
      });
      formula = `${y} = ${terms.slice(0, MAX_TERMS_SHOWN).join(' + ') || '0'}${terms.length > MAX_TERMS_SHOWN ? ' + …' : ''} = ${formatNumber(value.value)}`;
    }
    const flipped = t.op === 'conv_transpose' ? ', kernel flipped' : '';
    const extra = isOutputPadding(t, frame.output) ? ' — an output_padding cell' : '';
    return `${formula}   (${frame.taps.length} taps: ${parts.join(', ')}${flipped})${extra}`;
  }

  private describeScatter(frame: ScatterFrame): string {
    const inside = frame.taps.filter((tap) => tap.inside);
    const cropped = frame.taps.length - inside.length;
    const x = cellName('x', frame.input);
    const value = this.timeline.values
      ? formatNumber(this.timeline.values.input[flatten(frame.input, this.timeline.inputSize)]!)
      : null;
    return (
      `${x}${value !== null ? ` = ${value}` : ''} stamps the kernel (${x}·w) onto ${rangeName(
        'y',
        frame.taps.map((tap) => tap.output),
      )}: ` +
      `${inside.length} cell${inside.length === 1 ? '' : 's'} inside the output` +
      (cropped > 0 ? `, ${cropped} cropped by padding` : '') +
      `. Numbers: stamps so far.`
    );
  }

  private formulaPanel(): HTMLElement {
    const t = this.timeline;
    const panel = el('div', { class: 'cl-formulas' });
    for (const line of t.formulas) {
      const input = `${line.dim}_in`;
      const axis = t.axes.find((a) => a.name === line.dim)!;
      const withInput = line.substituted.replaceAll(input, String(axis.inputSize));
      const row = el('div', { class: 'cl-formula', 'data-dim': line.dim });
      row.append(
        el('span', { class: 'cl-formula-dim' }, `${line.dim}: `),
        el('span', {}, `${line.general} = ${withInput.replace(/^.*?= /, '')} = ${axis.outputSize}`),
        el('span', { class: 'cl-formula-general' }, `   (for any input: ${line.simplified})`),
      );
      panel.append(row);
    }
    return panel;
  }

  private channelText(): string | null {
    const c = this.timeline.channels;
    if (!c || (c.inChannels === 1 && c.outChannels === 1)) return null;
    const inPer = c.inChannels / c.groups;
    const outPer = c.outChannels / c.groups;
    if (c.groups === 1) {
      return `Channels: every output channel sums over all ${c.inChannels} input channels (one ${this.timeline.kernel.join('×')} kernel each); the grids show one channel pair.`;
    }
    const range = (start: number, count: number): string =>
      count === 1 ? `${start}` : `${start}–${start + count - 1}`;
    const groups = Array.from(
      { length: Math.min(c.groups, 4) },
      (_, g) => `out ${range(g * outPer, outPer)} ← in ${range(g * inPer, inPer)}`,
    );
    return `Channels in ${c.groups} groups: ${groups.join('; ')}${c.groups > 4 ? '; …' : ''}. The grids show one channel pair.`;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Hover: a cell and every cell it connects to.

  private onHover(event: Event): void {
    const target = event.target as Element | null;
    if (!target || !(target instanceof SVGElement)) return;
    const grid = target.getAttribute('data-grid');
    const key = target.getAttribute('data-pos');
    if (!grid || key === null) return;
    this.clearHover();
    const t = this.timeline;
    const pos = key.split(',').map(Number);
    const link = (name: string, cells: readonly (readonly number[])[]): void => {
      const drawn = this.grids.get(name);
      for (const cell of cells) {
        const node = drawn?.cells.get(cell.join(','));
        if (node) {
          node.classList.add('cl-linked');
          this.hovered.push(node);
        }
      }
    };
    target.classList.add('cl-hover');
    this.hovered.push(target);
    let text = '';
    if (this.view === 'direct' && grid === 'source') {
      const readers = directReaders(t, pos);
      link('output', readers);
      const kind = target.getAttribute('data-kind');
      text = `${
        kind === 'input'
          ? cellName(
              'x',
              pos.map((g, d) => g / t.axes[d]!.source.inputDilation),
            )
          : `${kind} cell`
      } feeds ${readers.length} output cell${readers.length === 1 ? '' : 's'}${
        readers.length
          ? `: ${readers
              .slice(0, 12)
              .map((r) => `(${r.join(', ')})`)
              .join(' ')}${readers.length > 12 ? ' …' : ''}`
          : ''
      }.`;
    } else if (this.view === 'direct' && grid === 'output') {
      const frame = directFrame(t, flatten(pos, t.outputSize));
      link(
        'source',
        frame.taps.map((tap) => tap.source),
      );
      text = `${cellName('y', pos)} reads ${frame.taps.filter((tap) => tap.input).length} input cells of its ${frame.taps.length} taps.`;
    } else if (this.view === 'scatter' && grid === 'input') {
      const frame = scatterFrame(t, flatten(pos, t.inputSize));
      link(
        'output',
        frame.taps.map((tap) => tap.output),
      );
      text = `${cellName('x', pos)} reaches ${frame.taps.filter((tap) => tap.inside).length} output cells.`;
    } else if (this.view === 'scatter' && grid === 'output') {
      const inside = pos.every((p, d) => p >= 0 && p < t.outputSize[d]!);
      const sources = inside ? scatterSources(t, pos) : [];
      link('input', sources);
      text = inside
        ? `${cellName('y', pos)} receives ${sources.length} stamp${sources.length === 1 ? '' : 's'}${sources.length ? ` from ${sources.map((s) => `(${s.join(', ')})`).join(' ')}` : ''}.`
        : `position ${pos.join(', ')} is cropped by the padding.`;
    } else if (grid === 'matrix') {
      const [row, col] = pos as [number, number];
      const xNode = this.xCells[col];
      const yNode = this.yCells[row];
      for (const node of [xNode, yNode]) {
        if (node) {
          node.classList.add('cl-linked');
          this.hovered.push(node);
        }
      }
      const weight = unflatten(Number(target.getAttribute('data-weight')), t.kernel);
      text = `${this.matrix?.label}[${row}, ${col}] = ${cellName('w', weight)}: ${cellName('x', unflatten(col, t.inputSize))} → ${cellName('y', unflatten(row, t.outputSize))}.`;
    } else if (grid === 'x' || grid === 'y') {
      const index = Number(key);
      text =
        grid === 'x'
          ? `x[${index}] = ${cellName('x', unflatten(index, t.inputSize))}`
          : `y[${index}] = ${cellName('y', unflatten(index, t.outputSize))}`;
    }
    this.hoverInfo.textContent = text;
  }

  private clearHover(): void {
    for (const node of this.hovered) node.classList.remove('cl-linked', 'cl-hover');
    this.hovered = [];
  }

  // ---------------------------------------------------------------------------------------------------------
  // Export.

  exportSvg(): string {
    const source = this.svgRoot;
    if (!source) return '';
    const clone = source.cloneNode(true) as SVGSVGElement;
    const originals = [source, ...Array.from(source.querySelectorAll('*'))];
    const copies = [clone, ...Array.from(clone.querySelectorAll('*'))];
    originals.forEach((node, i) => {
      const copy = copies[i] as SVGElement | undefined;
      if (!copy || !(node instanceof SVGElement)) return;
      // The root, the title and defs draw nothing; their copies stay as they are.
      if (i === 0 || node.tagName === 'title' || node.tagName === 'defs') return;
      const computed = getComputedStyle(node);
      for (const property of EXPORTED_PROPERTIES) {
        const value = computed.getPropertyValue(property);
        if (value) copy.style.setProperty(property, value);
      }
    });
    clone.setAttribute('xmlns', SVG_NS);
    const backdrop = svg('rect', { x: 0, y: 0, width: '100%', height: '100%' });
    backdrop.style.setProperty('fill', this.background());
    clone.insertBefore(backdrop, clone.firstChild);
    const title = clone.querySelector('title');
    if (title)
      title.textContent = `${this.timeline.call}: ${this.view} view, frame ${this.frame + 1} of ${this.frames}`;
    return new XMLSerializer().serializeToString(clone);
  }

  async exportPng(): Promise<string> {
    const source = this.svgRoot;
    const text = this.exportSvg();
    if (!source || !text) throw new Error('There is no drawing to export in this view.');
    const width = Number(source.getAttribute('width'));
    const height = Number(source.getAttribute('height'));
    const bytes = new TextEncoder().encode(text);
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    const image = new Image();
    image.src = `data:image/svg+xml;base64,${btoa(binary)}`;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(width * PNG_SCALE));
    canvas.height = Math.max(1, Math.round(height * PNG_SCALE));
    const context = canvas.getContext('2d');
    if (!context)
      throw new Error('This page cannot draw on a canvas, so no PNG can be made; export SVG instead.');
    context.drawImage(image, 0, 0, canvas.width, canvas.height);
    const url = canvas.toDataURL('image/png');
    return url.slice(url.indexOf(',') + 1);
  }

  exportAnimatedSvg(): string {
    const source = this.svgRoot;
    if (!source) throw new Error('There is no drawing to export in this view.');
    const wasPlaying = this.playing;
    const shown = this.frame;
    this.pause();
    const fps = BASE_FPS * SPEEDS[this.speedIndex]!;
    try {
      const outcome = buildAnimatedSvg({
        root: source,
        frames: this.frames,
        // Scatter counts accumulate frame by frame, so frames are recorded from the first, in order.
        showFrame: (frame) => this.showFrame(frame),
        frameSeconds: 1 / fps,
        holdSeconds: 3 / fps,
        background: this.background(),
        title: `${this.timeline.call}: ${this.view} view, ${this.frames} frames at ${fps} per second`,
      });
      if (!outcome.ok) throw new Error(outcome.error);
      return outcome.svg;
    } finally {
      this.counts = null;
      this.countsThrough = -1;
      this.showFrame(shown);
      if (wasPlaying) this.play();
    }
  }

  async exportImage(format: ExportFormat, requestId?: string): Promise<ExportImageMessage> {
    const base = `conv-lens-${this.timeline.layerName.replace(/[^A-Za-z0-9]+/g, '-')}-${this.view}`;
    const name = format === 'animated-svg' ? `${base}-animated` : `${base}-frame-${this.frame + 1}`;
    const fileName = `${name}.${exportExtension(format)}`;
    const data =
      format === 'png'
        ? await this.exportPng()
        : format === 'svg'
          ? this.exportSvg()
          : this.exportAnimatedSvg();
    if (!data) throw new Error('There is no drawing to export in this view.');
    return {
      type: 'conv-lens.exportImage',
      format,
      fileName,
      data,
      encoding: format === 'png' ? 'base64' : 'utf8',
      ...(requestId === undefined ? {} : { requestId }),
    };
  }

  async deliverExport(format: ExportFormat, requestId?: string): Promise<void> {
    let message: ExportImageMessage;
    try {
      message = await this.exportImage(format, requestId);
    } catch (error) {
      const text = `Could not export: ${(error as Error).message}`;
      this.hoverInfo.textContent = text;
      const failed: ExportFailedMessage = {
        type: 'conv-lens.exportFailed',
        error: (error as Error).message,
        ...(requestId === undefined ? {} : { requestId }),
      };
      this.host.postMessage?.(failed);
      return;
    }
    if (this.host.postMessage) {
      this.host.postMessage(message);
    } else {
      // No extension host to save it (a page outside VS Code): the browser downloads the file.
      const blob =
        message.encoding === 'base64'
          ? new Blob([Uint8Array.from(atob(message.data), (c) => c.charCodeAt(0))], { type: 'image/png' })
          : new Blob([message.data], { type: 'image/svg+xml' });
      const url = URL.createObjectURL(blob);
      const link = el('a', { href: url, download: message.fileName });
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    }
    this.hoverInfo.textContent = `Exported ${format === 'animated-svg' ? `all ${this.frames} frames` : `frame ${this.frame + 1}`} as ${message.fileName}.`;
  }

  summary(): WidgetSummary {
    const cells: Record<string, number> = {};
    for (const node of Array.from(this.stage.querySelectorAll('rect[data-grid]'))) {
      const grid = node.getAttribute('data-grid')!;
      cells[grid] = (cells[grid] ?? 0) + 1;
    }
    return {
      title: this.root.querySelector('.cl-title')?.textContent ?? '',
      call: this.timeline.call,
      view: this.view,
      views: [...this.timeline.views],
      frame: this.frame,
      frames: this.frames,
      inputSize: [...this.timeline.inputSize],
      outputSize: [...this.timeline.outputSize],
      cells,
      notices: [...this.timeline.notices],
    };
  }

  private background(): string {
    return getComputedStyle(this.root).getPropertyValue('--cl-bg').trim() || '#ffffff';
  }

  dispose(): void {
    if (this.disposed) return;
    this.pause();
    this.disposed = true;
  }
}

/** `Transposed conv 2-D, kernel 3×3, stride 2×2` for titles and labels. */
function describeOperation(t: Timeline): string {
  const name = {
    conv: 'Convolution',
    conv_transpose: 'Transposed convolution',
    max_pool: 'Max pooling',
    avg_pool: 'Average pooling',
  }[t.op];
  const stride = t.axes.map((a) => a.stride);
  const dilation = t.axes.map((a) => a.dilation);
  return (
    `${name} ${t.rank}-D, kernel ${t.kernel.join('×')}` +
    (stride.some((s) => s !== 1) ? `, stride ${stride.join('×')}` : '') +
    (dilation.some((d) => d !== 1) ? `, dilation ${dilation.join('×')}` : '')
  );
}
