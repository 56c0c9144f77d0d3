/**
 * The preview panel's page, served for tests the way the panel serves it: src/webview/preview/main.ts and
 * worker.ts bundled as esbuild.js bundles dist/preview.js and dist/previewWorker.js, media/preview.css, and
 * harness pages under the panel's own CSP (src/extension/previewPanel.ts), from 127.0.0.1. A harness page stands
 * in for VS Code's webview API and records what the page posts in `window.__sent`.
 *
 * Needs Debian's Chromium (`apt-get install chromium`) or $CONV_LENS_CHROMIUM.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { type Browser, chromium } from 'playwright-core';

function repositoryRoot(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'conv-lens')
      return dir;
  }
  return process.cwd();
}

export const ROOT = repositoryRoot();
export const PREVIEW_ARTIFACTS = path.join(ROOT, '.test-artifacts', 'preview');

const NONCE = 'harness-nonce-0123456789';
/** The panel's CSP, with 'self' where the webview has its resource origin. */
const CSP = [
  "default-src 'none'",
  "img-src 'self' data:",
  "style-src 'self'",
  `script-src 'nonce-${NONCE}' 'wasm-unsafe-eval'`,
  'worker-src blob:',
  "connect-src 'self'",
].join('; ');

/** What a harness page keeps of the page's messages to the host. */
export type HarnessWindow = { __sent: unknown[] };

/** A harness page; `config` is the page's JSON configuration (the worker's URL, pool settings). */
export function harnessPage(config: Record<string, unknown>, title = 'Conv Lens preview harness'): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="stylesheet" href="preview.css">
<title>${title}</title>
</head>
<body>
<script nonce="${NONCE}">
  // Stands in for VS Code's webview API: what the page posts is kept for the test to read.
  window.__sent = [];
  window.acquireVsCodeApi = () => ({ postMessage: (message) => window.__sent.push(message) });
</script>
<script type="application/json" id="conv-lens-preview-config">${JSON.stringify(config)}</script>
<script nonce="${NONCE}" src="preview.js"></script>
</body>
</html>`;
}

export interface PreviewServer {
  /** `http://127.0.0.1:PORT/`; pages by file name below it (`index.html` at the root). */
  readonly origin: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html' };

/** Builds the page's bundles into a temporary folder with the given pages, and serves it under the CSP. */
export async function servePreviewPages(pages: Readonly<Record<string, string>>): Promise<PreviewServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conv-lens-preview-'));
  for (const [entry, out] of [
    ['src/webview/preview/main.ts', 'preview.js'],
    ['src/webview/preview/worker.ts', 'previewWorker.js'],
  ] as const) {
    await esbuild.build({
      entryPoints: [path.join(ROOT, entry)],
      outfile: path.join(dir, out),
      bundle: true,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      logLevel: 'error',
    });
  }
  fs.copyFileSync(path.join(ROOT, 'media/preview.css'), path.join(dir, 'preview.css'));
  for (const [name, html] of Object.entries(pages)) fs.writeFileSync(path.join(dir, name), html);
  const server = http.createServer((request, response) => {
    const url = (request.url ?? '/').split('?')[0]!;
    const name = url === '/' ? 'index.html' : path.basename(url);
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) {
      // The browser asks for a favicon on its own; that is not the page's doing.
      response.writeHead(name === 'favicon.ico' ? 204 : 404).end();
      return;
    }
    response
      .writeHead(200, {
        'content-type': `${TYPES[path.extname(name)] ?? 'application/octet-stream'}; charset=utf-8`,
        'content-security-policy': CSP,
      })
      .end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fs.mkdirSync(PREVIEW_ARTIFACTS, { recursive: true });
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Flags that work as root on a closed network; --enable-unsafe-webgpu gives WebGPU on SwiftShader. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

/** Debian's Chromium, headless, or a clear message saying how to get it. */
export async function launchChromium(): Promise<Browser> {
  const executable = process.env['CONV_LENS_CHROMIUM'] || '/usr/bin/chromium';
  if (!fs.existsSync(executable)) {
    throw new Error(
      `Chromium is not at ${executable}. Install Debian's (apt-get install -y chromium) or set ` +
        `CONV_LENS_CHROMIUM to a Chromium binary.`,
    );
  }
  return chromium.launch({ executablePath: executable, headless: true, args: CHROMIUM_ARGS });
}
