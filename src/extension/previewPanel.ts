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
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  type EngineSetting,
  ENGINE_SETTINGS,
  type ErrorMessage,
  type HostToPanel,
  type InitMessage,
  isPanelToHost,
  type PreviewLayer,
  type ResultMessage,
  type RunMessage,
} from '../protocol/preview';
import type { AnalysisService } from './analysisService';
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
  private readonly pending = new Map<number, (message: ResultMessage | ErrorMessage) => void>();
  private init: InitMessage;
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
      this.pending.set(id, resolve);
      this.send({ ...request, type: 'run', id });
    });
  }
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
      };
    }),
  );
}
