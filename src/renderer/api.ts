/**
 * The part of VS Code's notebook renderer API (the `vscode-notebook-renderer` typings) that Conv Lens uses,
 * written out here so the renderer builds without that package. VS Code loads the renderer as an ES module and
 * calls its exported `activate(context)`; the returned object draws each output item into the element it gets.
 * See https://code.visualstudio.com/api/extension-guides/notebook#notebook-renderer.
 */

/** One output of a cell, as VS Code hands it to a renderer. */
export interface OutputItem {
  readonly id: string;
  readonly mime: string;
  readonly metadata?: unknown;
  text(): string;
  /** Parses the output as JSON; throws on invalid JSON. */
  json(): unknown;
  data(): Uint8Array;
  blob(): Blob;
}

/** What VS Code passes to `activate`. `postMessage` exists when the manifest sets `requiresMessaging`. */
export interface RendererContext<TState = unknown> {
  /** Another renderer's API (for renderers that extend one, e.g. `vscode.markdown-it-renderer`). */
  getRenderer?(id: string): Promise<unknown>;
  readonly postMessage?: (message: unknown) => void;
  readonly onDidReceiveMessage?: (listener: (message: unknown) => void) => { dispose(): void };
  getState?(): TState | undefined;
  setState?(value: TState): void;
  readonly workspace?: { readonly isTrusted: boolean };
  readonly settings?: { readonly lineLimit?: number };
}

export interface RendererApi {
  renderOutputItem(outputItem: OutputItem, element: HTMLElement, signal?: AbortSignal): void | Promise<void>;
  disposeOutputItem?(id?: string): void;
}

export type ActivationFunction = (context: RendererContext) => RendererApi;

/** The messages between the renderers and the extension host live in protocol.ts (shared with the host). */
export type {
  ExportFailedMessage,
  ExportFormat,
  ExportImageMessage,
  RenderedMessage,
  RequestExportMessage,
  WidgetSummary,
} from './protocol';
