/// <reference lib="dom" />
/**
 * The preview panel's Calculator section (src/webview/preview/calculatorView.ts) on the real page in headless
 * Chromium, served the way test/unit/previewPage.unit.test.ts serves it: main.ts bundled as esbuild.js bundles
 * dist/preview.js, under the panel's CSP, with a harness standing in for VS Code's webview API that records
 * what the page posts. With CONV_LENS_README_SHOTS=1 it also writes the README's screenshot,
 * media/readme/calculator.png.
 *
 * Needs Debian's Chromium (`apt-get install chromium`) or $CONV_LENS_CHROMIUM.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { type Browser, type Page, chromium } from 'playwright-core';
import { isPanelToHost, type PanelToHost } from '../../src/protocol/preview';

function repositoryRoot(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'conv-lens')
      return dir;
  }
  return process.cwd();
}

const ROOT = repositoryRoot();
const ARTIFACTS = path.join(ROOT, '.test-artifacts', 'preview');
const NONCE = 'calculator-nonce-0123456789';
/** The panel's CSP (src/extension/previewPanel.ts), with 'self' where the webview has its resource origin. */
const CSP = [
  "default-src 'none'",
  "img-src 'self' data:",
  "style-src 'self'",
  `script-src 'nonce-${NONCE}' 'wasm-unsafe-eval'`,
  'worker-src blob:',
  "connect-src 'self'",
].join('; ');

const HARNESS = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="stylesheet" href="preview.css">
<title>Conv Lens calculator harness</title>
</head>
<body>
<script nonce="${NONCE}">
  // Stands in for VS Code's webview API: what the page posts is kept for the test to read.
  window.__sent = [];
  window.acquireVsCodeApi = () => ({ postMessage: (message) => window.__sent.push(message) });
</script>
<script type="application/json" id="conv-lens-preview-config">{"workerUrl":"./previewWorker.js"}</script>
<script nonce="${NONCE}" src="preview.js"></script>
</body>
</html>`;

type Window = { __sent: unknown[] };

describe('preview panel Calculator section in headless Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let page: Page;
  let server: http.Server;
  let serveDir: string;
  const pageErrors: string[] = [];

  async function sent(): Promise<PanelToHost[]> {
    const all = await page.evaluate(() => (window as unknown as Window).__sent);
    for (const message of all)
      assert.ok(isPanelToHost(message), `Outside the protocol: ${JSON.stringify(message)}`);
    return all as PanelToHost[];
  }

  /** Replaces a parameter field's text the way typing does (an `input` event per change). */
  async function setParam(name: string, value: string): Promise<void> {
    await page.fill(`[data-testid=calc-params] input[data-param=${name}]`, value);
  }

  before(async () => {
    const executable = process.env['CONV_LENS_CHROMIUM'] || '/usr/bin/chromium';
    if (!fs.existsSync(executable)) {
      throw new Error(
        `Chromium is not at ${executable}. Install Debian's (apt-get install -y chromium) or set ` +
          `CONV_LENS_CHROMIUM to a Chromium binary.`,
      );
    }
    serveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'conv-lens-calculator-'));
    for (const [entry, out] of [
      ['src/webview/preview/main.ts', 'preview.js'],
      ['src/webview/preview/worker.ts', 'previewWorker.js'],
    ] as const) {
      await esbuild.build({
        entryPoints: [path.join(ROOT, entry)],
        outfile: path.join(serveDir, out),
        bundle: true,
        platform: 'browser',
        format: 'iife',
        target: 'es2022',
        logLevel: 'error',
      });
    }
    fs.copyFileSync(path.join(ROOT, 'media/preview.css'), path.join(serveDir, 'preview.css'));
    fs.writeFileSync(path.join(serveDir, 'index.html'), HARNESS);
    const types: Record<string, string> = {
      '.js': 'text/javascript',
      '.css': 'text/css',
      '.html': 'text/html',
    };
    server = http.createServer((request, response) => {
      const url = (request.url ?? '/').split('?')[0]!;
      const name = url === '/' ? 'index.html' : path.basename(url);
      const file = path.join(serveDir, name);
      if (!fs.existsSync(file)) {
        response.writeHead(name === 'favicon.ico' ? 204 : 404).end();
        return;
      }
      response
        .writeHead(200, {
          'content-type': `${types[path.extname(name)] ?? 'application/octet-stream'}; charset=utf-8`,
          'content-security-policy': CSP,
        })
        .end(fs.readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: executable,
      headless: true,
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 900, height: 900 }, deviceScaleFactor: 1 });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() =>
      (window as unknown as Window).__sent.some((m) => (m as { type: string }).type === 'ready'),
    );
    // The section starts collapsed under the title; open it as a user would.
    await page.click('[data-testid=calculator] > summary');
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    if (serveDir) fs.rmSync(serveDir, { recursive: true, force: true });
  });

  it('offers the core’s parameter list for the chosen layer, prefilled with its defaults', async () => {
    await page.selectOption('[data-testid=calc-framework]', 'pytorch');
    await page.selectOption('[data-testid=calc-kind]', 'convTranspose');
    await page.selectOption('[data-testid=calc-rank]', '2');
    const names = await page.$$eval('[data-testid=calc-params] input[data-param]', (inputs) =>
      inputs.map(
        (input) => `${(input as HTMLInputElement).dataset['param']}=${(input as HTMLInputElement).value}`,
      ),
    );
    assert.deepEqual(names, [
      'in_channels=64',
      'out_channels=32',
      'kernel_size=4',
      'stride=1',
      'padding=0',
      'output_padding=0',
      'dilation=1',
      'groups=1',
      'bias=True',
    ]);
    assert.equal(await page.inputValue('[data-testid=calc-input]'), '(1, 64, 16, 16)');
  });

  it('computes the DCGAN layer: (1, 32, 32, 32), H_out = 2·H_in, params and the generated code', async () => {
    await setParam('stride', '2');
    await setParam('padding', '1');
    assert.equal(await page.textContent('[data-testid=calc-output]'), '(1, 32, 32, 32)');
    const formulas = (await page.textContent('[data-testid=calc-formulas]')) ?? '';
    assert.ok(formulas.includes('H_out = 2·H_in'), formulas);
    assert.ok(formulas.includes('W_out = 2·W_in'), formulas);
    assert.equal(await page.textContent('[data-testid=calc-weight]'), '(64, 32, 4, 4)');
    assert.equal(await page.textContent('[data-testid=calc-param-count]'), '32,800');
    assert.equal(
      await page.textContent('[data-testid=calc-code]'),
      'nn.ConvTranspose2d(64, 32, kernel_size=4, stride=2, padding=1)',
    );
    assert.equal(await page.textContent('[data-testid=calc-error]'), '');
    await page.screenshot({ path: path.join(ARTIFACTS, 'calculator-forward.png'), fullPage: true });
    if (process.env['CONV_LENS_README_SHOTS'] === '1') {
      // The README's picture: the same page at twice the pixel density, so the text stays crisp on HiDPI screens.
      const shot = await browser.newPage({ viewport: { width: 820, height: 700 }, deviceScaleFactor: 2 });
      await shot.goto(page.url());
      await shot.click('[data-testid=calculator] > summary');
      await shot.fill('[data-testid=calc-params] input[data-param=stride]', '2');
      await shot.fill('[data-testid=calc-params] input[data-param=padding]', '1');
      await shot.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await shot.locator('[data-testid=calculator]').screenshot({
        path: path.join(ROOT, 'media', 'readme', 'calculator.png'),
      });
      await shot.close();
    }
  });

  it('shows the core’s message for an invalid parameter and marks that field', async () => {
    await setParam('output_padding', '2');
    const message = (await page.textContent('[data-testid=calc-error]')) ?? '';
    assert.match(message, /output_padding must be smaller than stride or dilation/);
    assert.match(message, /it can be 0 to 1/);
    assert.equal(
      await page.getAttribute('[data-testid=calc-params] input[data-param=output_padding]', 'aria-invalid'),
      'true',
    );
    assert.equal(
      await page.getAttribute('[data-testid=calc-params] input[data-param=stride]', 'aria-invalid'),
      'false',
    );
    // Not a Python value at all: the core's parser says so, on that field.
    await setParam('output_padding', '(1,');
    assert.match(
      (await page.textContent('[data-testid=calc-error]')) ?? '',
      /^output_padding: '\(1,' is not/,
    );
    await setParam('output_padding', '1');
    assert.equal(await page.textContent('[data-testid=calc-error]'), '');
    assert.equal(await page.textContent('[data-testid=calc-output]'), '(1, 32, 33, 33)');
    await setParam('output_padding', '0');
    // An input the layer cannot take is the input's problem, in the core's words.
    await page.fill('[data-testid=calc-input]', '1, 64, y');
    assert.match((await page.textContent('[data-testid=calc-error]')) ?? '', /'y' in the input shape/);
    await page.fill('[data-testid=calc-input]', '1, 64');
    assert.match(
      (await page.textContent('[data-testid=calc-error]')) ?? '',
      /got 2-D input of size \(1, 64\)/,
    );
    await page.fill('[data-testid=calc-input]', '(1, 64, 16, 16)');
  });

  it('posts a validated insertCode message with the generated code', async () => {
    const before = (await sent()).length;
    await page.click('[data-testid=calc-code-insert]');
    const after = await sent();
    assert.equal(after.length, before + 1);
    assert.deepEqual(after.at(-1), {
      type: 'insertCode',
      code: 'nn.ConvTranspose2d(64, 32, kernel_size=4, stride=2, padding=1)',
    });
    // The host's check refuses anything else under that name.
    assert.equal(isPanelToHost({ type: 'insertCode', code: '' }), false);
    assert.equal(isPanelToHost({ type: 'insertCode', code: 42 }), false);
    assert.equal(isPanelToHost({ type: 'insertCode', code: 'x'.repeat(5000) }), false);
  });

  it('writes other frameworks: Keras channels last, ONNX with W’s shape', async () => {
    await page.selectOption('[data-testid=calc-framework]', 'keras');
    assert.equal(await page.inputValue('[data-testid=calc-input]'), '(1, 16, 16, 64)');
    await setParam('strides', '2');
    await setParam('padding', "'same'");
    assert.equal(await page.textContent('[data-testid=calc-output]'), '(1, 32, 32, 32)');
    assert.match(
      (await page.textContent('[data-testid=calc-code]')) ?? '',
      /^layers\.Conv2DTranspose\(32, 4/,
    );
    await page.selectOption('[data-testid=calc-framework]', 'onnx');
    assert.match((await page.textContent('[data-testid=calc-code]')) ?? '', /# W: \(64, 32, 4, 4\)/);
    await page.selectOption('[data-testid=calc-framework]', 'flax');
    await page.selectOption('[data-testid=calc-kind]', 'maxPool');
    assert.match((await page.textContent('[data-testid=calc-error]')) ?? '', /nn\.max_pool/);
    await page.selectOption('[data-testid=calc-framework]', 'pytorch');
    await page.selectOption('[data-testid=calc-kind]', 'convTranspose');
  });

  it('inverse mode: 37 → 75 lists PyTorch and Keras settings, and Insert posts one of them', async () => {
    await page.click('[data-testid=calc-tab-inverse]');
    assert.equal(await page.isVisible('[data-testid=calc-forward]'), false);
    await page.fill('[data-testid=calc-sizes]', '37 -> 75');
    const frameworks = await page.$$eval('[data-testid=calc-answer]', (cards) =>
      cards.map((card) => (card as HTMLElement).dataset['framework']),
    );
    assert.ok(frameworks.includes('pytorch'), frameworks.join(', '));
    assert.ok(frameworks.includes('keras'), frameworks.join(', '));
    const text = (await page.textContent('[data-testid=calc-answers]')) ?? '';
    assert.ok(
      text.includes(
        'nn.ConvTranspose1d(in_channels, out_channels, kernel_size=2, stride=2, output_padding=1)',
      ),
    );
    assert.ok(
      text.includes("Conv1DTranspose(filters, kernel_size=2, strides=2, padding='valid', output_padding=1)"),
    );
    assert.ok(text.includes('L_out = 2·L_in + 1'), text);
    // A fixed kernel and stride narrow the answer to that layer.
    await page.fill('[data-testid=calc-inverse-kernel]', '4');
    await page.fill('[data-testid=calc-inverse-stride]', '2');
    assert.ok(((await page.textContent('[data-testid=calc-answers]')) ?? '').includes('kernel_size=4'));
    await page.fill('[data-testid=calc-inverse-kernel]', '0');
    assert.match(
      (await page.textContent('[data-testid=calc-inverse-error]')) ?? '',
      /kernel must be a whole number/,
    );
    await page.fill('[data-testid=calc-inverse-kernel]', '');
    await page.fill('[data-testid=calc-inverse-stride]', '');
    await page.fill('[data-testid=calc-sizes]', '37 ->');
    assert.match((await page.textContent('[data-testid=calc-inverse-error]')) ?? '', /to size is empty/);
    await page.fill('[data-testid=calc-sizes]', '37x37 -> 75x75');
    const before = (await sent()).length;
    await page.click('[data-testid=calc-answer-code-pytorch-insert] >> nth=0');
    const last = (await sent()).at(-1)!;
    assert.equal((await sent()).length, before + 1);
    assert.equal(last.type, 'insertCode');
    assert.match(last.type === 'insertCode' ? last.code : '', /^nn\.ConvTranspose2d\(/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'calculator-inverse.png'), fullPage: true });
    assert.deepEqual(pageErrors, []);
  });
});
