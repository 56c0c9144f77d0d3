/**
 * The one protocol of the preview panel: the messages between the extension host (src/extension/previewPanel.ts)
 * and the panel's page (src/webview/preview/main.ts), and between the page and its CPU worker
 * (src/webview/preview/worker.ts). Every side imports this file, so it holds no DOM, node or vscode types.
 * Whatever arrives from the other side is untrusted: each receiver reads it through the checks below
 * (`isHostToPanel`, `isPanelToHost`, `isWorkerRequest`, `isWorkerReply`), never by casting.
 */

/** The preview works on 2-D maps; 1-D layers run along the rows (height 1). */
export type PreviewOp = 'conv' | 'conv_transpose';
export type Pair = readonly [number, number];

/** One layer of the preview's stack, in PyTorch's terms (what the user wrote, whatever the framework). */
export interface PreviewLayer {
  readonly op: PreviewOp;
  /** kernel_size [height, width]. */
  readonly kernel: Pair;
  readonly stride: Pair;
  /** Padding on both sides of each dimension (for transposed convs: the crop on both sides). */
  readonly padding: Pair;
  readonly dilation: Pair;
  /** Transposed convs only: extra size at the end of each dimension (zeros for plain convs). */
  readonly outputPadding: Pair;
  /** Output channels of the layer in the model; the preview shows at most MAX_PREVIEW_CHANNELS of them. */
  readonly outChannels: number;
  /** Where the layer came from, for the panel's title: `nn.ConvTranspose2d (dcgan.py:26)`, or `custom`. */
  readonly label: string;
}

export type EngineSetting = 'auto' | 'webgpu' | 'cpu';
export type EngineKind = 'cpu' | 'webgpu';
export const ENGINE_SETTINGS: readonly EngineSetting[] = ['auto', 'webgpu', 'cpu'];

export const PATTERNS = ['checkerboard', 'impulse', 'gradient', 'text', 'rings', 'shapes'] as const;
/** Generated inputs: four test patterns and two built-in sample images (drawn procedurally, RGB). */
export type PatternName = (typeof PATTERNS)[number];

export const KERNEL_PRESETS = [
  'identity',
  'box',
  'gaussian',
  'sobel-x',
  'sobel-y',
  'laplacian',
  'bilinear',
  'random',
] as const;
export type KernelPreset = (typeof KERNEL_PRESETS)[number];

/** Limits on what a message may ask for, so a bad message can never make the page allocate without bound. */
export const MAX_PREVIEW_SIZE = 256;
export const MAX_PREVIEW_KERNEL = 15;
export const MAX_PREVIEW_CHANNELS = 8;
export const MAX_PREVIEW_STACK = 3;
export const MAX_SETTING = 64;

/** The input a run uses: a generated pattern of `size`×`size` pixels. */
export interface PreviewInput {
  readonly pattern: PatternName;
  readonly size: number;
}

// ---------------------------------------------------------------------------------------------------------
// Host → panel
// ---------------------------------------------------------------------------------------------------------

/** Sent from the host to the panel once it said `ready`, and again whenever the user previews another layer. */
export interface InitMessage {
  readonly type: 'init';
  /** The layer to preview; null opens the panel with a default 3×3 conv. */
  readonly layer: PreviewLayer | null;
  /** convLens.preview.engine. */
  readonly engine: EngineSetting;
  /** What the host could not read from the source and filled in (shown under the title). */
  readonly notes: readonly string[];
}

/**
 * Sent from the host to the panel to run the current stack now and answer with a `result` carrying `id`
 * (tests and commands use it). Every field is optional: absent ones keep what the panel shows.
 */
export interface RunMessage {
  readonly type: 'run';
  readonly id: number;
  readonly engine?: EngineKind;
  readonly input?: PreviewInput;
  readonly preset?: KernelPreset;
  readonly seed?: number;
  /** Whether the result carries the output values (a test compares them; the UI never needs them). */
  readonly includeValues?: boolean;
}

/**
 * Sent from the host to the panel, answering its `listImages`: the workspace's image files (paths relative to
 * the workspace, at most MAX_IMAGE_FILES), and a note when some were left out or none could be listed.
 */
export interface ImagesMessage {
  readonly type: 'images';
  readonly files: readonly string[];
  readonly note: string | null;
}

/**
 * Sent from the host to the panel: one workspace image's bytes, base64-encoded, to decode into the input.
 * `id` is the host's request (tests) or null for an image the user picked; the panel answers with
 * `imageLoaded` or an `error` carrying the same id.
 */
export interface ImageMessage {
  readonly type: 'image';
  readonly id: number | null;
  /** The path relative to the workspace, as listed. */
  readonly name: string;
  readonly mime: ImageMime;
  readonly base64: string;
}

/** Sent from the host to the panel when a picked image cannot be read (gone, too large): shown in the panel. */
export interface ImageErrorMessage {
  readonly type: 'imageError';
  readonly id: number | null;
  readonly message: string;
}

export type HostToPanel = InitMessage | RunMessage | ImagesMessage | ImageMessage | ImageErrorMessage;

/** What the host lists and reads: a cap on the files, and one on each file's bytes. */
export const MAX_IMAGE_FILES = 200;
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
/** A cap on the decoded picture, so a small file that claims a huge size cannot exhaust the page's memory. */
export const MAX_IMAGE_PIXELS = 40_000_000;

export const IMAGE_MIMES = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  bmp: 'image/bmp',
  webp: 'image/webp',
} as const;
export type ImageMime = (typeof IMAGE_MIMES)[keyof typeof IMAGE_MIMES];
const MIME_VALUES: readonly ImageMime[] = [...new Set(Object.values(IMAGE_MIMES))];

/** The MIME type of an image file by its extension, or null for one the preview does not read. */
export function imageMimeOf(fileName: string): ImageMime | null {
  const extension = /\.([A-Za-z]+)$/.exec(fileName)?.[1]?.toLowerCase() ?? '';
  return Object.prototype.hasOwnProperty.call(IMAGE_MIMES, extension)
    ? IMAGE_MIMES[extension as keyof typeof IMAGE_MIMES]
    : null;
}

// ---------------------------------------------------------------------------------------------------------
// Panel → host
// ---------------------------------------------------------------------------------------------------------

/** Sent from the panel to the host when its script has loaded and listens. */
export interface ReadyMessage {
  readonly type: 'ready';
}

/** Sent from the panel to the host after every run: what ran, where, how long, and the output's range. */
export interface ResultMessage {
  readonly type: 'result';
  /** The `run` request it answers, or null for a run the user started. */
  readonly id: number | null;
  readonly engine: EngineKind;
  /** In words, as the badge shows it (`CPU (WebAssembly SIMD, float32) in a worker`). */
  readonly engineLabel: string;
  readonly milliseconds: number;
  readonly layers: readonly PreviewLayer[];
  readonly inputShape: readonly number[];
  /** The shape after each layer of the stack, [N, C, H, W]. */
  readonly outputShapes: readonly (readonly number[])[];
  readonly min: number;
  readonly max: number;
  /** The last stage's output, row-major, when the request asked for it. */
  readonly values?: readonly number[];
}

/** Sent from the panel to the host when a run failed (a layer the input cannot take, an engine error). */
export interface ErrorMessage {
  readonly type: 'error';
  readonly id: number | null;
  readonly message: string;
}

/** Sent from the panel to the host when its input selector needs the workspace's images. */
export interface ListImagesMessage {
  readonly type: 'listImages';
}

/**
 * Sent from the panel to the host when the user picks a workspace image: one of the paths of the last
 * `images` message (the host reads nothing else).
 */
export interface PickImageMessage {
  readonly type: 'pickImage';
  readonly name: string;
}

/** Sent from the panel to the host when an `image` was decoded: its name and size in pixels. */
export interface ImageLoadedMessage {
  readonly type: 'imageLoaded';
  readonly id: number | null;
  readonly name: string;
  readonly width: number;
  readonly height: number;
}

export type PanelToHost =
  | ReadyMessage
  | ResultMessage
  | ErrorMessage
  | ListImagesMessage
  | PickImageMessage
  | ImageLoadedMessage
  | InsertCodeMessage;

/**
 * Sent from the panel to the host when the user presses the Calculator's "Insert at cursor": the host inserts
 * `code` at the cursor of the last active text editor.
 */
export interface InsertCodeMessage {
  readonly type: 'insertCode';
  readonly code: string;
}

/** Longest code an `insertCode` message may carry: generated layers are a few lines. */
export const MAX_INSERT_CODE = 4000;

// ---------------------------------------------------------------------------------------------------------
// Panel ↔ CPU worker (inside the page)
// ---------------------------------------------------------------------------------------------------------

/** Sent from the page to the worker: one convolution problem (the fields of the engine's ConvProblem). */
export interface WorkerRequest {
  readonly type: 'convolve';
  readonly id: number;
  readonly op: PreviewOp;
  readonly x: Float32Array;
  readonly xShape: readonly number[];
  readonly w: Float32Array;
  readonly wShape: readonly number[];
  readonly stride: readonly number[];
  readonly padBegin: readonly number[];
  readonly padEnd: readonly number[];
  readonly dilation: readonly number[];
  readonly outputPadding: readonly number[];
  /**
   * One part of the output to compute, when several workers share the problem (src/webview/preview/pool.ts);
   * absent, the worker computes all of it.
   */
  readonly slice?: PreviewSlice;
}

/** A part of the output: batches [batchStart, batchEnd) × output channels [channelStart, channelEnd). */
export interface PreviewSlice {
  readonly batchStart: number;
  readonly batchEnd: number;
  readonly channelStart: number;
  readonly channelEnd: number;
}

/** Sent from the worker to the page: the answer to one request. */
export type WorkerReply =
  | {
      readonly type: 'done';
      readonly id: number;
      readonly y: Float32Array;
      readonly yShape: readonly number[];
      readonly engine: string;
      readonly milliseconds: number;
      /**
       * Present when the request named a slice: `y` then holds only that slice, [batches, channels,
       * ...spatial] of it, and `yShape` is still the whole output's shape.
       */
      readonly slice?: PreviewSlice;
    }
  | { readonly type: 'failed'; readonly id: number; readonly error: string };

// ---------------------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------------------

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isInt(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function isPair(value: unknown, min: number, max: number): value is Pair {
  return Array.isArray(value) && value.length === 2 && value.every((v) => isInt(v, min, max));
}

function isOneOf<T extends string>(value: unknown, options: readonly T[]): value is T {
  return typeof value === 'string' && (options as readonly string[]).includes(value);
}

function isShape(value: unknown): value is number[] {
  return (
    Array.isArray(value) && value.length >= 1 && value.length <= 5 && value.every((v) => isInt(v, 0, 2 ** 31))
  );
}

function isShortText(value: unknown, max = 500): value is string {
  return typeof value === 'string' && value.length <= max;
}

export function isPreviewLayer(value: unknown): value is PreviewLayer {
  return (
    isObject(value) &&
    isOneOf(value['op'], ['conv', 'conv_transpose'] as const) &&
    isPair(value['kernel'], 1, MAX_PREVIEW_KERNEL) &&
    isPair(value['stride'], 1, MAX_SETTING) &&
    isPair(value['padding'], 0, MAX_SETTING) &&
    isPair(value['dilation'], 1, MAX_SETTING) &&
    isPair(value['outputPadding'], 0, MAX_SETTING) &&
    isInt(value['outChannels'], 1, 1 << 20) &&
    isShortText(value['label'])
  );
}

function isPreviewInput(value: unknown): value is PreviewInput {
  return isObject(value) && isOneOf(value['pattern'], PATTERNS) && isInt(value['size'], 1, MAX_PREVIEW_SIZE);
}

/** Whether a message the panel received is one the host sends. */
export function isHostToPanel(value: unknown): value is HostToPanel {
  if (!isObject(value)) return false;
  switch (value['type']) {
    case 'init':
      return (
        (value['layer'] === null || isPreviewLayer(value['layer'])) &&
        isOneOf(value['engine'], ENGINE_SETTINGS) &&
        Array.isArray(value['notes']) &&
        value['notes'].length <= 20 &&
        value['notes'].every((note) => isShortText(note))
      );
    case 'run':
      return (
        isInt(value['id'], 0, Number.MAX_SAFE_INTEGER) &&
        (value['engine'] === undefined || isOneOf(value['engine'], ['cpu', 'webgpu'] as const)) &&
        (value['input'] === undefined || isPreviewInput(value['input'])) &&
        (value['preset'] === undefined || isOneOf(value['preset'], KERNEL_PRESETS)) &&
        (value['seed'] === undefined || isInt(value['seed'], 0, 2 ** 32 - 1)) &&
        (value['includeValues'] === undefined || typeof value['includeValues'] === 'boolean')
      );
    case 'images':
      return (
        Array.isArray(value['files']) &&
        value['files'].length <= MAX_IMAGE_FILES &&
        value['files'].every((file) => isShortText(file, 1000)) &&
        (value['note'] === null || isShortText(value['note']))
      );
    case 'image':
      return (
        (value['id'] === null || isInt(value['id'], 0, Number.MAX_SAFE_INTEGER)) &&
        isShortText(value['name'], 1000) &&
        isOneOf(value['mime'], MIME_VALUES) &&
        isBase64(value['base64'], MAX_IMAGE_BYTES)
      );
    case 'imageError':
      return (
        (value['id'] === null || isInt(value['id'], 0, Number.MAX_SAFE_INTEGER)) &&
        isShortText(value['message'], 2000)
      );
    default:
      return false;
  }
}

/** Whether `value` is base64 text of at most `maxBytes` bytes (padding included, no line breaks). */
export function isBase64(value: unknown, maxBytes: number): value is string {
  return (
    typeof value === 'string' &&
    value.length % 4 === 0 &&
    value.length <= Math.ceil(maxBytes / 3) * 4 &&
    /^[A-Za-z0-9+/]*={0,2}$/.test(value)
  );
}

/** Whether a message the host received is one the panel sends. */
export function isPanelToHost(value: unknown): value is PanelToHost {
  if (!isObject(value)) return false;
  const id = value['id'];
  const isId = id === null || isInt(id, 0, Number.MAX_SAFE_INTEGER);
  switch (value['type']) {
    case 'ready':
    case 'listImages':
      return true;
    case 'pickImage':
      return isShortText(value['name'], 1000);
    case 'imageLoaded':
      return (
        isId &&
        isShortText(value['name'], 1000) &&
        isInt(value['width'], 1, MAX_IMAGE_PIXELS) &&
        isInt(value['height'], 1, MAX_IMAGE_PIXELS)
      );
    case 'error':
      return isId && isShortText(value['message'], 2000);
    case 'insertCode':
      return isShortText(value['code'], MAX_INSERT_CODE) && value['code'].trim() !== '';
    case 'result': {
      const values = value['values'];
      return (
        isId &&
        isOneOf(value['engine'], ['cpu', 'webgpu'] as const) &&
        isShortText(value['engineLabel']) &&
        typeof value['milliseconds'] === 'number' &&
        Number.isFinite(value['milliseconds']) &&
        Array.isArray(value['layers']) &&
        value['layers'].length <= MAX_PREVIEW_STACK &&
        value['layers'].every(isPreviewLayer) &&
        isShape(value['inputShape']) &&
        Array.isArray(value['outputShapes']) &&
        value['outputShapes'].length <= MAX_PREVIEW_STACK &&
        value['outputShapes'].every(isShape) &&
        typeof value['min'] === 'number' &&
        typeof value['max'] === 'number' &&
        (values === undefined ||
          (Array.isArray(values) && values.length <= 1 << 22 && values.every((v) => typeof v === 'number')))
      );
    }
    default:
      return false;
  }
}

function isSettingList(value: unknown, min: number): value is number[] {
  return Array.isArray(value) && value.length <= 3 && value.every((v) => isInt(v, min, 1 << 20));
}

/** Whether `value` is a non-empty slice (bounds against the problem are the worker's check). */
export function isPreviewSlice(value: unknown): value is PreviewSlice {
  return (
    isObject(value) &&
    isInt(value['batchStart'], 0, 2 ** 31) &&
    isInt(value['batchEnd'], 1, 2 ** 31) &&
    isInt(value['channelStart'], 0, 2 ** 31) &&
    isInt(value['channelEnd'], 1, 2 ** 31) &&
    value['batchStart'] < value['batchEnd'] &&
    value['channelStart'] < value['channelEnd']
  );
}

/** Values in `slice` of an output of shape `yShape` ([N, C, ...spatial]). */
export function sliceLength(yShape: readonly number[], slice: PreviewSlice): number {
  const plane = yShape.slice(2).reduce((a, b) => a * b, 1);
  return (slice.batchEnd - slice.batchStart) * (slice.channelEnd - slice.channelStart) * plane;
}

/** Whether a message the worker received is a request the page sends. */
export function isWorkerRequest(value: unknown): value is WorkerRequest {
  return (
    isObject(value) &&
    value['type'] === 'convolve' &&
    isInt(value['id'], 0, Number.MAX_SAFE_INTEGER) &&
    isOneOf(value['op'], ['conv', 'conv_transpose'] as const) &&
    value['x'] instanceof Float32Array &&
    value['w'] instanceof Float32Array &&
    isShape(value['xShape']) &&
    isShape(value['wShape']) &&
    isSettingList(value['stride'], 1) &&
    isSettingList(value['padBegin'], 0) &&
    isSettingList(value['padEnd'], 0) &&
    isSettingList(value['dilation'], 1) &&
    isSettingList(value['outputPadding'], 0) &&
    (value['slice'] === undefined || isPreviewSlice(value['slice']))
  );
}

/** Whether a message the page received from its worker is a reply. */
export function isWorkerReply(value: unknown): value is WorkerReply {
  if (!isObject(value) || !isInt(value['id'], 0, Number.MAX_SAFE_INTEGER)) return false;
  if (value['type'] === 'failed') return isShortText(value['error'], 2000);
  return (
    value['type'] === 'done' &&
    value['y'] instanceof Float32Array &&
    isShape(value['yShape']) &&
    isShortText(value['engine']) &&
    typeof value['milliseconds'] === 'number' &&
    // A slice's values must fill exactly that slice of the output, so assembling it cannot read or write
    // out of bounds.
    (value['slice'] === undefined ||
      (isPreviewSlice(value['slice']) &&
        value['yShape'].length >= 2 &&
        value['slice'].batchEnd <= value['yShape'][0]! &&
        value['slice'].channelEnd <= value['yShape'][1]! &&
        value['y'].length === sliceLength(value['yShape'], value['slice'])))
  );
}
