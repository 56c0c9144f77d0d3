/// <reference lib="dom" />
/**
 * ```conv-lens blocks drawn in headless Chromium, the two ways VS Code shows Markdown:
 * - the Markdown preview: a page of markdown-it + plugin HTML (what `extendMarkdownIt` gives VS Code's preview)
 *   with the preview script built as esbuild.js builds dist/markdownPreview.js; then a content update the way the
 *   preview does it (new HTML, then the `vscode.markdown.updateContent` event);
 * - notebook Markdown cells: the notebook renderer built as dist/markdownCell.js, activated with a stand-in for
 *   VS Code's `vscode.markdown-it-renderer` that renders a cell the way the built-in one does (markdown-it with
 *   `env.outputItem`, HTML into a shadow root on the element whose id is the cell id).
 * Each drawn widget is compared with the core's timeline for the block's spec.
 *
 * Needs Debian's Chromium (`apt-get install chromium`) or $CONV_LENS_CHROMIUM, like renderer.unit.test.ts.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { type Browser, type Page, chromium } from 'playwright-core';
import { timelineFromSpec } from '../../src/core/animation/spec';
import { frameCount, sourceGrid } from '../../src/core/animation/timeline';
import { convLensMarkdownIt } from '../../src/markdown/fence';

function repositoryRoot(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'conv-lens')
      return dir;
  }
  return process.cwd();
}

const ROOT = repositoryRoot();
const ARTIFACTS = path.join(ROOT, '.test-artifacts', 'markdown');
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

// markdown-it comes with @vscode/vsce (no types of its own); VS Code's preview and notebooks use the same major.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const MarkdownIt = require('markdown-it') as new (options?: { html?: boolean }) => {
  renderer: { rules: object };
  render(source: string): string;
};

const UPSAMPLE =
  'conv_transpose2d input=3x3 kernel=3 stride=2 padding=1 output_padding=1\nframework: pytorch';
const DOWNSAMPLE = 'conv2d input=6x6 kernel=3 stride=2 padding=1  # halves the size';
const TYPO = 'conv2d input=5x5 kernal=3';

const DOCUMENT = [
  '# Shapes',
  '',
  '```conv-lens',
  UPSAMPLE,
  '```',
  '',
  '```python',
  'x = torch.zeros(1, 3, 6, 6)',
  '```',
  '',
  '```conv-lens',
  DOWNSAMPLE,
  '```',
  '',
  '```conv-lens',
  TYPO,
  '```',
  '',
].join('\n');

/** The page the notebook Markdown test runs: a stand-in for the built-in Markdown renderer, then ours on top. */
const CELL_HARNESS = `
import MarkdownIt from 'markdown-it';
import { activate } from './src/renderer/markdownCell.ts';

// What vscode.markdown-it-renderer does (extensions/markdown-language-features/notebook/index.ts): one markdown-it,
// extendable by other renderers; each cell rendered with env.outputItem into #preview in a shadow root on the
// element with the cell's id.
const md = new MarkdownIt({ html: true, linkify: true });
const builtIn = {
  extendMarkdownIt(extend) { extend(md); },
  renderOutputItem(item, element) {
    let preview;
    if (element.shadowRoot) preview = element.shadowRoot.getElementById('preview');
    else {
      const root = element.attachShadow({ mode: 'open' });
      preview = document.createElement('div');
      preview.id = 'preview';
      root.append(preview);
    }
    preview.innerHTML = md.render(item.text(), { outputItem: item });
  },
};
const messages = [];
const listeners = [];
await activate({
  getRenderer: async (id) => (id === 'vscode.markdown-it-renderer' ? builtIn : undefined),
  postMessage: (message) => messages.push(message),
  onDidReceiveMessage: (listener) => { listeners.push(listener); return { dispose() {} }; },
});
window.cells = {
  messages,
  async render(id, text) {
    let element = document.getElementById(id);
    if (!element) {
      element = document.createElement('div');
      element.id = id;
      element.className = 'preview';
      document.body.append(element);
    }
    builtIn.renderOutputItem({ id, mime: 'text/markdown', text: () => text }, element);
    await new Promise((resolve) => setTimeout(resolve, 0));
  },
  send(message) { for (const listener of listeners) listener(message); },
};
window.cellsReady = true;
`;

function previewPage(body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>preview</title></head>
<body class="vscode-body"><div class="markdown-body" dir="auto">${body}</div>
<script src="markdownPreview.js"></script></body></html>`;
}

function timeline(spec: string) {
  const outcome = timelineFromSpec(spec);
  if (!outcome.ok) assert.fail(outcome.error);
  return outcome.value;
}

describe('```conv-lens blocks in the Markdown preview and in notebook Markdown cells (headless Chromium)', function () {
  this.timeout(120_000);
  let browser: Browser;
  let page: Page;
  let server: http.Server;
  let serveDir: string;
  let base: string;
  const errors: string[] = [];
  const html = convLensMarkdownIt(new MarkdownIt({ html: true })).render(DOCUMENT);

  before(async () => {
    const executable = process.env['CONV_LENS_CHROMIUM'] || '/usr/bin/chromium';
    if (!fs.existsSync(executable)) {
      throw new Error(
        `Chromium is not at ${executable}. Install Debian's (apt-get install -y chromium) or set CONV_LENS_CHROMIUM.`,
      );
    }
    serveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'conv-lens-markdown-'));
    const common = {
      bundle: true,
      platform: 'browser' as const,
      target: 'es2022',
      logLevel: 'error' as const,
    };
    await esbuild.build({
      ...common,
      entryPoints: [path.join(ROOT, 'src/renderer/markdownPreview.ts')],
      outfile: path.join(serveDir, 'markdownPreview.js'),
      format: 'iife',
    });
    await esbuild.build({
      ...common,
      stdin: { contents: CELL_HARNESS, resolveDir: ROOT, sourcefile: 'cell-harness.js', loader: 'js' },
      outfile: path.join(serveDir, 'cells.js'),
      format: 'esm',
    });
    fs.writeFileSync(path.join(serveDir, 'preview.html'), previewPage(html));
    fs.writeFileSync(
      path.join(serveDir, 'cells.html'),
      '<!doctype html><html><head><meta charset="utf-8"></head><body><script type="module" src="cells.js"></script></body></html>',
    );
    server = http.createServer((request, response) => {
      const file = path.join(serveDir, path.basename((request.url ?? '/').split('?')[0] ?? ''));
      if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) {
        response.writeHead(404).end();
        return;
      }
      const type = file.endsWith('.js') ? 'text/javascript' : 'text/html';
      response.writeHead(200, { 'content-type': `${type}; charset=utf-8` }).end(fs.readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath: executable, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1 });
    page.on('pageerror', (error) => errors.push(error.message));
    await page.emulateMedia({ reducedMotion: 'reduce' });
  });

  after(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (serveDir) fs.rmSync(serveDir, { recursive: true, force: true });
  });

  afterEach(() => assert.deepEqual(errors.splice(0), [], 'errors on the page'));

  it('draws each valid block in the preview as its spec says, and shows the message for an invalid one', async () => {
    await page.goto(`${base}/preview.html`);
    await page.waitForFunction(() => document.querySelectorAll('.conv-lens-block .cl-anim').length === 2);
    const blocks = page.locator('.markdown-body > .conv-lens-block');
    assert.equal(await blocks.count(), 3);
    for (const [index, spec] of [UPSAMPLE, DOWNSAMPLE].entries()) {
      const t = timeline(spec);
      const root = blocks.nth(index).locator('.cl-anim');
      assert.equal(await root.getAttribute('data-view'), t.initialView);
      assert.equal(await root.getAttribute('data-frames'), String(frameCount(t, t.initialView)));
      assert.match(
        (await root.locator('.cl-shapes').textContent()) ?? '',
        new RegExp(`input ${t.inputSize.join('×')} → output ${t.outputSize.join('×')}`),
      );
    }
    // The downsampling block opens in the direct view: its padded source grid is drawn cell for cell.
    const t = timeline(DOWNSAMPLE);
    const grid = sourceGrid(t);
    assert.equal(
      await blocks.nth(1).locator('rect[data-grid="source"]').count(),
      grid.sizes[0]! * grid.sizes[1]!,
    );
    const invalid = blocks.nth(2);
    assert.equal(await invalid.getAttribute('role'), 'alert');
    assert.match(
      (await invalid.textContent()) ?? '',
      /Conv Lens cannot draw this block\. Unknown field "kernal"\. Did you mean "kernel"\?/,
    );
    assert.equal(await invalid.locator('.cl-anim').count(), 0);
    // The python fence is left alone.
    assert.equal(await page.locator('.markdown-body > pre > code.language-python').count(), 1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'preview.png'), fullPage: true });
  });

  it('mounts again after the preview updates its content, keeping each unchanged block where it was', async () => {
    await page.goto(`${base}/preview.html`);
    await page.waitForFunction(() => document.querySelectorAll('.conv-lens-block .cl-anim').length === 2);
    const second = page.locator('.markdown-body > .conv-lens-block').nth(1).locator('.cl-anim');
    await second.focus();
    await page.keyboard.press('End');
    const last = String(frameCount(timeline(DOWNSAMPLE), 'direct') - 1);
    assert.equal(await second.getAttribute('data-frame'), last);
    // What the preview does on an edit elsewhere in the file: new HTML for the body, then the event.
    const edited = convLensMarkdownIt(new MarkdownIt({ html: true })).render(`Edited.\n\n${DOCUMENT}`);
    await page.evaluate((body) => {
      document.querySelector('.markdown-body')!.innerHTML = body;
      window.dispatchEvent(new CustomEvent('vscode.markdown.updateContent'));
    }, edited);
    const blocks = page.locator('.markdown-body > .conv-lens-block');
    assert.equal(await blocks.locator('.cl-anim').count(), 2);
    const redrawn = blocks.nth(1).locator('.cl-anim');
    assert.equal(await redrawn.getAttribute('data-frame'), last, 'the frame carries over');
    assert.equal(await redrawn.getAttribute('data-playing'), 'false');
    // Mounting is idempotent: another event leaves the same widgets in place.
    const before = await blocks.nth(0).locator('.cl-anim').elementHandle();
    await page.evaluate(() => window.dispatchEvent(new CustomEvent('vscode.markdown.updateContent')));
    assert.equal(await blocks.locator('.cl-anim').count(), 2);
    assert.equal(await before!.evaluate((node) => node.isConnected), true);
  });

  interface Message {
    type: string;
    outputId?: string;
    ok?: boolean;
    error?: string;
    requestId?: string;
    format?: string;
    data?: string;
    summary?: { view: string; frames: number; outputSize: number[]; cells: Record<string, number> };
  }

  async function cellMessages(): Promise<Message[]> {
    return (await page.evaluate(
      () => (window as unknown as { cells: { messages: unknown[] } }).cells.messages,
    )) as Message[];
  }

  it('draws blocks in notebook Markdown cells, inside the cell shadow root, and reports them to the host', async () => {
    await page.goto(`${base}/cells.html`);
    await page.waitForFunction(() => (window as unknown as { cellsReady?: boolean }).cellsReady === true);
    const render = (id: string, text: string): Promise<void> =>
      page.evaluate(
        ([i, t]) =>
          (window as unknown as { cells: { render(i: string, t: string): Promise<void> } }).cells.render(
            i,
            t,
          ),
        [id, text] as const,
      );
    await render('cell-1', DOCUMENT);
    const drawn = await page.evaluate(() => {
      const root = document.getElementById('cell-1')!.shadowRoot!;
      return {
        widgets: root.querySelectorAll('.conv-lens-block .cl-anim').length,
        alerts: root.querySelectorAll('.conv-lens-invalid[role="alert"]').length,
        inDocument: document.querySelectorAll('.cl-anim').length,
      };
    });
    assert.deepEqual(drawn, { widgets: 2, alerts: 1, inDocument: 0 });
    const rendered = (await cellMessages()).filter((message) => message.type === 'conv-lens.rendered');
    assert.deepEqual(
      rendered.map((message) => [message.outputId, message.ok]),
      [
        ['cell-1#0', true],
        ['cell-1#1', true],
        ['cell-1#2', false],
      ],
    );
    const up = timeline(UPSAMPLE);
    assert.equal(rendered[0]!.summary!.view, up.initialView);
    assert.equal(rendered[0]!.summary!.frames, frameCount(up, up.initialView));
    assert.deepEqual(rendered[0]!.summary!.outputSize, [6, 6]);
    assert.match(rendered[2]!.error ?? '', /^Unknown field "kernal"/);
    await page.locator('#cell-1').screenshot({ path: path.join(ARTIFACTS, 'notebook-markdown-cell.png') });

    // The host's export command reaches the block used last.
    const send = (message: unknown): Promise<void> =>
      page.evaluate(
        (m) => (window as unknown as { cells: { send(m: unknown): void } }).cells.send(m),
        message,
      );
    await page.evaluate(() => {
      const root = document.getElementById('cell-1')!.shadowRoot!;
      root.querySelectorAll<HTMLElement>('.cl-anim')[1]!.dispatchEvent(new Event('pointerdown'));
    });
    await send({ type: 'conv-lens.requestExport', requestId: 'm1', format: 'svg' });
    await send({ type: 'conv-lens.requestExport', requestId: 'm2', format: 'svg', outputId: 'cell-1#2' });
    await page.waitForFunction(
      () =>
        (window as unknown as { cells: { messages: Array<{ requestId?: string }> } }).cells.messages.filter(
          (m) => m.requestId,
        ).length >= 2,
    );
    const answers = (await cellMessages()).filter((message) => message.requestId);
    const exported = answers.find((message) => message.requestId === 'm1')!;
    assert.equal(exported.type, 'conv-lens.exportImage');
    assert.match(exported.data ?? '', /conv2d\(kernel=3, stride=2, padding=1\): direct view/);
    const refused = answers.find((message) => message.requestId === 'm2')!;
    assert.deepEqual(
      [refused.type, refused.error],
      ['conv-lens.exportFailed', 'No Conv Lens animation with the id cell-1#2 is shown.'],
    );

    // Editing the cell down to one block drops the others.
    await render('cell-1', `\`\`\`conv-lens\n${DOWNSAMPLE}\n\`\`\``);
    await send({ type: 'conv-lens.requestExport', requestId: 'm3', format: 'svg', outputId: 'cell-1#1' });
    await page.waitForFunction(() =>
      (window as unknown as { cells: { messages: Array<{ requestId?: string }> } }).cells.messages.some(
        (m) => m.requestId === 'm3',
      ),
    );
    const gone = (await cellMessages()).find((message) => message.requestId === 'm3')!;
    assert.equal(gone.type, 'conv-lens.exportFailed');
    assert.equal(
      await page.evaluate(
        () => document.getElementById('cell-1')!.shadowRoot!.querySelectorAll('.cl-anim').length,
      ),
      1,
    );
  });
});
