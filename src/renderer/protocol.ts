/**
 * The messages between Conv Lens's renderers (the notebook output renderer `conv-lens.animation` and the notebook
 * Markdown renderer `conv-lens.markdown`) and the extension host (src/extension/renderers.ts). Both sides import
 * this file, so it holds no DOM and no vscode types. Messages from a webview are untrusted: the host reads them
 * through the checks below, never by casting.
 */

/** The renderer ids, as package.json contributes them. */
export const OUTPUT_RENDERER_ID = 'conv-lens.animation';
export const MARKDOWN_RENDERER_ID = 'conv-lens.markdown';

/** svg and png: the frame on screen; animated-svg: every frame of the current view, played by SMIL. */
export type ExportFormat = 'svg' | 'png' | 'animated-svg';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['svg', 'png', 'animated-svg'];

/** File name extension for each export format. */
export function exportExtension(format: ExportFormat): string {
  return format === 'png' ? 'png' : 'svg';
}

/**
 * Renderer → host: an exported image to save. The host asks where (a save dialog starting at `fileName`), unless
 * the export answers a request that already said where (`requestId`).
 */
export interface ExportImageMessage {
  readonly type: 'conv-lens.exportImage';
  readonly format: ExportFormat;
  readonly fileName: string;
  /** SVG text when `encoding` is utf8; the PNG's bytes in base64 when it is base64. */
  readonly data: string;
  readonly encoding: 'utf8' | 'base64';
  readonly requestId?: string;
}

/** Renderer → host: a requested export could not be made (no animation shown, too many frames to animate…). */
export interface ExportFailedMessage {
  readonly type: 'conv-lens.exportFailed';
  readonly requestId?: string;
  readonly error: string;
}

/** Host → renderer: export the animation `outputId` (or the one used last) in `format`, answering `requestId`. */
export interface RequestExportMessage {
  readonly type: 'conv-lens.requestExport';
  readonly requestId: string;
  readonly format: ExportFormat;
  readonly outputId?: string;
}

/** What a widget drew, as the renderer reports it after drawing (read from the DOM, not from the payload). */
export interface WidgetSummary {
  readonly title: string;
  readonly call: string;
  readonly view: string;
  readonly views: readonly string[];
  readonly frame: number;
  readonly frames: number;
  readonly inputSize: readonly number[];
  readonly outputSize: readonly number[];
  /** Number of drawn cells per grid (`source`, `input`, `output`, `matrix`, `x`, `y`). */
  readonly cells: Readonly<Record<string, number>>;
  readonly notices: readonly string[];
}

/**
 * Renderer → host, after each draw: what was drawn, or the message shown instead. `outputId` is the output item's
 * id for notebook outputs and `<cell id>#<block index>` for ```conv-lens blocks in Markdown cells.
 */
export type RenderedMessage =
  | {
      readonly type: 'conv-lens.rendered';
      readonly source: 'output' | 'markdown';
      readonly outputId: string;
      readonly ok: true;
      readonly summary: WidgetSummary;
    }
  | {
      readonly type: 'conv-lens.rendered';
      readonly source: 'output' | 'markdown';
      readonly outputId: string;
      readonly ok: false;
      readonly error: string;
    };

/** Largest export the host accepts from a webview, in characters of `data`. */
export const MAX_EXPORT_CHARS = 64 * 1024 * 1024;

export type Checked<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** Reads an untrusted message as an export to save. */
export function readExportMessage(message: unknown): Checked<ExportImageMessage> {
  if (typeof message !== 'object' || message === null) return { ok: false, error: 'not an object' };
  const m = message as Record<string, unknown>;
  if (m['type'] !== 'conv-lens.exportImage') return { ok: false, error: 'not an export' };
  const format = m['format'];
  if (typeof format !== 'string' || !(EXPORT_FORMATS as readonly string[]).includes(format)) {
    return { ok: false, error: `unknown export format ${JSON.stringify(format)}` };
  }
  const encoding = m['encoding'] ?? 'utf8';
  if (encoding !== 'utf8' && encoding !== 'base64') {
    return { ok: false, error: `unknown encoding ${JSON.stringify(encoding)}` };
  }
  if ((format === 'png') !== (encoding === 'base64')) {
    return { ok: false, error: `a ${format} export cannot come as ${encoding}` };
  }
  const data = m['data'];
  if (typeof data !== 'string' || data.length === 0) return { ok: false, error: 'the export is empty' };
  if (data.length > MAX_EXPORT_CHARS) return { ok: false, error: 'the export is too large' };
  const requestId = m['requestId'];
  if (requestId !== undefined && typeof requestId !== 'string') return { ok: false, error: 'bad requestId' };
  return {
    ok: true,
    value: {
      type: 'conv-lens.exportImage',
      format: format as ExportFormat,
      encoding,
      fileName: safeFileName(m['fileName'], format as ExportFormat),
      data,
      ...(requestId === undefined ? {} : { requestId }),
    },
  };
}

/** A file name from the webview reduced to a plain name with the right extension: no folders, no odd characters. */
export function safeFileName(name: unknown, format: ExportFormat): string {
  const extension = exportExtension(format);
  const base = (typeof name === 'string' ? name : '')
    .split(/[\\/]/)
    .pop()!
    .replace(/\.[A-Za-z0-9]+$/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+/, '')
    .slice(0, 120);
  return `${base || 'conv-lens-animation'}.${extension}`;
}
