/**
 * `Conv Lens: Open Preview`: a webview panel that applies a layer to an input and shows the feature maps
 * (the page is src/webview/preview/main.ts). Opened from the command palette (the layer under the cursor) or from
 * a layer hover's "Preview this layer" link, which passes `{ uri, offset }`.
 *
 * Security: the page runs under a strict CSP whose script nonce comes from node's cryptographic generator; it
 * may load only the bundle's and media's files (localResourceRoots); 'wasm-unsafe-eval' lets the CPU engine
 * compile its WebAssembly SIMD kernels, `worker-src blob:` lets it start its worker, and `connect-src` reaches
 * nothing but the extension's own files (the worker's script). Every message from the page is checked against
 * src/protocol/preview.ts before it is used.
 *
 * Workspace images: the page asks for the list (`listImages`), the host answers with at most MAX_IMAGE_FILES
 * paths and reads only a file of that list, of at most MAX_IMAGE_BYTES, when the page picks one; the bytes go
 * as base64 and the page decodes them from a Blob (no URL is loaded, so the CSP stays as it is).
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  type EngineSetting,
  ENGINE_SETTINGS,
  type ErrorMessage,
  type HostToPanel,
  type ImageLoadedMessage,
  imageMimeOf,
  type InitMessage,
  isPanelToHost,
  MAX_IMAGE_BYTES,
  MAX_IMAGE_FILES,
  type PreviewLayer,
  type ResultMessage,
  type RunMessage,
} from '../protocol/preview';
import type { AnalysisService } from './analysisService';
import { registerPreviewCodeLens } from './previewCodeLens';
import { previewLayerFromSite } from './previewLayer';

export const OPEN_PREVIEW_COMMAND = 'convLens.openPreview';
const VIEW_TYPE = 'convLens.preview';

/** The command's argument from a hover link or a test: the layer constructor at `offset` in the document `uri`. */
export interface PreviewTarget {
  readonly uri: string;
  readonly offset: number;
}

function isPreviewTarget(value: unknown): value is PreviewTarget {
  if (typeof value !== 'object' || value === null) return false;
  const target = value as Record<string, unknown>;
  return (
    typeof target['uri'] === 'string' &&
    typeof target['offset'] === 'number' &&
    Number.isInteger(target['offset']) &&
    target['offset'] >= 0
  );
}

/** What the command returns: the panel's layer, and a way to run it and wait for the answer (used by tests). */
export interface PreviewHandle {
  readonly layer: PreviewLayer | null;
  readonly notes: readonly string[];
  /** Resolves when the page has loaded and received its layer. */
  readonly ready: Promise<void>;
  run(request: Omit<RunMessage, 'type' | 'id'>): Promise<ResultMessage | ErrorMessage>;
  /** The workspace's image files as the panel lists them (paths relative to the workspace). */
  images(): Promise<{ files: readonly string[]; note: string | null }>;
  /** Sends the listed image `name` to the panel as its input; resolves with its decoded size or the error. */
  loadImage(name: string): Promise<ImageLoadedMessage | ErrorMessage>;
}

/** The glob of the image files the panel offers as inputs, and what it skips. */
const IMAGE_GLOB = '**/*.{png,jpg,jpeg,gif,bmp,webp,PNG,JPG,JPEG,GIF,BMP,WEBP}';
const IMAGE_EXCLUDE = '**/node_modules/**';

/** The workspace's image files by the name the panel shows (relative path), at most MAX_IMAGE_FILES of them. */
async function listWorkspaceImages(): Promise<{ files: Map<string, vscode.Uri>; note: string | null }> {
  const files = new Map<string, vscode.Uri>();
  if (!vscode.workspace.workspaceFolders?.length) {
    return { files, note: 'Open a folder to use its images as inputs.' };
  }
  const found = await vscode.workspace.findFiles(IMAGE_GLOB, IMAGE_EXCLUDE, MAX_IMAGE_FILES + 1);
  const named = found
    .map((uri) => ({ uri, name: vscode.workspace.asRelativePath(uri) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const { uri, name } of named.slice(0, MAX_IMAGE_FILES)) files.set(name, uri);
  const note =
    found.length > MAX_IMAGE_FILES
      ? `The workspace has more than ${MAX_IMAGE_FILES} images; the input list shows the first ${MAX_IMAGE_FILES}.`
      : null;
  return { files, note };
}

/** A nonce for the CSP: 128 bits from the operating system's cryptographic generator. */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

function engineSetting(): EngineSetting {
  const value = vscode.workspace.getConfiguration('convLens').get<string>('preview.engine', 'auto');
  return (ENGINE_SETTINGS as readonly string[]).includes(value) ? (value as EngineSetting) : 'auto';
}

/** The page: CSP, stylesheet, the worker's URL as JSON, and the script with the nonce. */
function pageHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = makeNonce();
  const uri = (...segments: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...segments));
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}' 'wasm-unsafe-eval'`,
    'worker-src blob:',
    `connect-src ${webview.cspSource}`,
  ].join('; ');
  // `<` is escaped so the JSON can never close its script element.
  const config = JSON.stringify({ workerUrl: uri('dist', 'previewWorker.js').toString() }).replace(
    /</g,
    '\\u003c',
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${uri('media', 'preview.css').toString()}">
<title>Conv Lens preview</title>
</head>
<body>
<script type="application/json" id="conv-lens-preview-config">${config}</script>
<script nonce="${nonce}" src="${uri('dist', 'preview.js').toString()}"></script>
</body>
</html>`;
}

/** One open panel; a second "Open Preview" reuses it with the new layer. */
class PreviewPanel {
  private readonly panel: vscode.WebviewPanel;
  private ready = false;
  private readyWaiters: (() => void)[] = [];
  private nextId = 1;
  private readonly pending = new Map<
    number,
    (message: ResultMessage | ErrorMessage | ImageLoadedMessage) => void
  >();
  private init: InitMessage;
  /** The last listing of the workspace's images: the page may ask for these files, and for nothing else. */
  private listing: Promise<{ files: Map<string, vscode.Uri>; note: string | null }> | null = null;
  readonly disposed: Promise<void>;

  constructor(
    extensionUri: vscode.Uri,
    init: InitMessage,
    private readonly log: (line: string) => void,
  ) {
    this.init = init;
    this.panel = vscode.window.createWebviewPanel(
      VIEW_TYPE,
      'Conv Lens Preview',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      {
        enableScripts: true,
        retainContextWhenHidden: true,
        localResourceRoots: [
          vscode.Uri.joinPath(extensionUri, 'dist'),
          vscode.Uri.joinPath(extensionUri, 'media'),
        ],
      },
    );
    this.panel.webview.html = pageHtml(this.panel.webview, extensionUri);
    this.panel.webview.onDidReceiveMessage((message: unknown) => this.receive(message));
    this.disposed = new Promise((resolve) => this.panel.onDidDispose(() => resolve()));
  }

  private send(message: HostToPanel): void {
    void this.panel.webview.postMessage(message);
  }

  private receive(message: unknown): void {
    if (!isPanelToHost(message)) {
      this.log(`The preview sent a message outside its protocol; ignored.`);
      return;
    }
    switch (message.type) {
      case 'ready':
        this.send(this.init);
        this.ready = true;
        for (const waiter of this.readyWaiters.splice(0)) waiter();
        return;
      case 'insertCode':
        void insertIntoLastEditor(message.code, this.log);
        return;
      case 'listImages':
        void this.sendImages();
        return;
      case 'pickImage':
        void this.sendImage(message.name, null);
        return;
      case 'imageLoaded':
      case 'result':
      case 'error': {
        if (message.type === 'error') this.log(`Preview: ${message.message}`);
        if (message.id === null) return;
        const settle = this.pending.get(message.id);
        this.pending.delete(message.id);
        settle?.(message);
        return;
      }
      default: {
        const never: never = message;
        return never;
      }
    }
  }

  /** Lists the workspace's images afresh (files come and go) and sends the list to the page. */
  private async sendImages(): Promise<void> {
    this.listing = listWorkspaceImages().catch((error: unknown) => ({
      files: new Map<string, vscode.Uri>(),
      note: `The workspace's images could not be listed: ${error instanceof Error ? error.message : String(error)}.`,
    }));
    const { files, note } = await this.listing;
    this.send({ type: 'images', files: [...files.keys()], note });
  }

  images(): Promise<{ files: readonly string[]; note: string | null }> {
    this.listing ??= listWorkspaceImages();
    return this.listing.then(({ files, note }) => ({ files: [...files.keys()], note }));
  }

  /** Reads a listed image and sends its bytes; a file that is gone or too large becomes a message in the panel. */
  private async sendImage(name: string, id: number | null): Promise<void> {
    this.listing ??= listWorkspaceImages();
    const uri = (await this.listing).files.get(name);
    const fail = (message: string) => this.send({ type: 'imageError', id, message });
    const mime = imageMimeOf(name);
    if (!uri || !mime) return fail(`${name} is not one of the workspace's images; pick one from the list.`);
    try {
      const { size } = await vscode.workspace.fs.stat(uri);
      if (size > MAX_IMAGE_BYTES) {
        return fail(
          `${name} is ${(size / 1024 / 1024).toFixed(1)} MB; the preview reads images of up to ${
            MAX_IMAGE_BYTES / 1024 / 1024
          } MB. Pick a smaller one.`,
        );
      }
      const bytes = await vscode.workspace.fs.readFile(uri);
      if (bytes.byteLength > MAX_IMAGE_BYTES) return fail(`${name} grew past ${MAX_IMAGE_BYTES} bytes.`);
      this.send({ type: 'image', id, name, mime, base64: Buffer.from(bytes).toString('base64') });
    } catch (error) {
      fail(`${name} could not be read: ${error instanceof Error ? error.message : String(error)}.`);
    }
  }

  loadImage(name: string): Promise<ImageLoadedMessage | ErrorMessage> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, (message) => resolve(message as ImageLoadedMessage | ErrorMessage));
      void this.sendImage(name, id);
    });
  }

  show(init: InitMessage): void {
    this.init = init;
    this.panel.title = init.layer ? `Preview: ${init.layer.label}` : 'Conv Lens Preview';
    this.panel.reveal(vscode.ViewColumn.Beside, true);
    if (this.ready) this.send(init);
  }

  whenReady(): Promise<void> {
    return this.ready ? Promise.resolve() : new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  run(request: Omit<RunMessage, 'type' | 'id'>): Promise<ResultMessage | ErrorMessage> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, (message) => resolve(message as ResultMessage | ErrorMessage));
      this.send({ ...request, type: 'run', id });
    });
  }
}

/**
 * The text editor the user worked in last. While the panel has focus VS Code has no active text editor, so the
 * Calculator's "Insert at cursor" goes to the one remembered here (set up in registerPreviewPanel).
 */
let lastTextEditor: vscode.TextEditor | undefined;

/**
 * Inserts the Calculator's code at the cursor of the last active text editor (replacing a selection); lines
 * after the first take the cursor line's indentation, as the Shape Calculator command does.
 */
async function insertIntoLastEditor(code: string, log: (line: string) => void): Promise<void> {
  const visible = vscode.window.visibleTextEditors;
  const editor =
    (lastTextEditor && visible.includes(lastTextEditor) ? lastTextEditor : undefined) ??
    vscode.window.activeTextEditor ??
    visible[0];
  if (!editor || editor.document.isClosed) {
    void vscode.window.showWarningMessage('Open a Python file to insert the calculator’s code into.');
    return;
  }
  const position = editor.selection.active;
  const indentation = /^\s*/.exec(editor.document.lineAt(position.line).text)![0];
  const text = code
    .split('\n')
    .map((part, n) => (n === 0 ? part : indentation + part))
    .join('\n');
  const done = await editor.edit((edit) => edit.replace(editor.selection, text));
  if (!done) log('Preview: the editor refused the calculator’s insertion.');
}

/** The innermost layer site around `offset`. */
function layerAt<T extends { from: number; to: number }>(
  layers: readonly T[],
  offset: number,
): T | undefined {
  let best: T | undefined;
  for (const layer of layers) {
    if (layer.from > offset || offset > layer.to) continue;
    if (!best || layer.to - layer.from < best.to - best.from) best = layer;
  }
  return best;
}

export function registerPreviewPanel(context: vscode.ExtensionContext, service: AnalysisService): void {
  let current: PreviewPanel | null = null;
  const log = (line: string) => console.log(line);
  registerPreviewCodeLens(context, service);

  /** The layer at the target (or the cursor), read from the document's analysis. */
  const layerFor = async (
    target: PreviewTarget | null,
  ): Promise<{ layer: PreviewLayer | null; notes: string[] }> => {
    let document: vscode.TextDocument | undefined;
    let offset: number;
    if (target) {
      document = await vscode.workspace.openTextDocument(vscode.Uri.parse(target.uri));
      offset = target.offset;
    } else {
      const editor = vscode.window.activeTextEditor;
      if (!editor || editor.document.languageId !== 'python') return { layer: null, notes: [] };
      document = editor.document;
      offset = document.offsetAt(editor.selection.active);
    }
    const analysis = await service.analysisFor(document);
    const site = analysis ? layerAt(analysis.layers, offset) : undefined;
    if (!site) {
      return {
        layer: null,
        notes: target ? ['No layer constructor stands at that place; the preview shows a 3×3 conv.'] : [],
      };
    }
    const line = document.positionAt(site.from).line + 1;
    const text = document.getText(
      new vscode.Range(document.positionAt(site.from), document.positionAt(site.to)),
    );
    return previewLayerFromSite(site, text, `${path.basename(document.uri.path)}:${line}`);
  };

  lastTextEditor = vscode.window.activeTextEditor;
  context.subscriptions.push(
    vscode.window.onDidChangeActiveTextEditor((editor) => {
      if (editor) lastTextEditor = editor;
    }),
  );
  context.subscriptions.push(
    vscode.commands.registerCommand(OPEN_PREVIEW_COMMAND, async (arg?: unknown): Promise<PreviewHandle> => {
      const target = isPreviewTarget(arg) ? arg : null;
      const { layer, notes } = await layerFor(target);
      const init: InitMessage = { type: 'init', layer, engine: engineSetting(), notes };
      if (current) current.show(init);
      else {
        const panel = new PreviewPanel(context.extensionUri, init, log);
        current = panel;
        void panel.disposed.then(() => {
          if (current === panel) current = null;
        });
      }
      const panel = current;
      return {
        layer,
        notes,
        ready: panel.whenReady(),
        run: (request) => panel.run(request),
        images: () => panel.images(),
        loadImage: (name) => panel.loadImage(name),
      };
    }),
  );
}
