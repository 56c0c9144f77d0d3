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
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import {
  harnessPage,
  type HarnessWindow,
  launchChromium,
  PREVIEW_ARTIFACTS,
  type PreviewServer,
  ROOT,
  servePreviewPages,
} from '../browser/previewHarness';
import { isPanelToHost, type PanelToHost } from '../../src/protocol/preview';

const HARNESS = harnessPage({ workerUrl: './previewWorker.js' }, 'Conv Lens calculator harness');

type Window = HarnessWindow;

describe('preview panel Calculator section in headless Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let page: Page;
  let server: PreviewServer;
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
    server = await servePreviewPages({ 'index.html': HARNESS });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 900, height: 900 }, deviceScaleFactor: 1 });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.goto(server.origin);
    await page.waitForFunction(() =>
      (window as unknown as Window).__sent.some((m) => (m as { type: string }).type === 'ready'),
    );
    // The section starts collapsed under the title; open it as a user would.
    await page.click('[data-testid=calculator] > summary');
  });

  after(async () => {
    await browser?.close();
    await server?.close();
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
    await page.screenshot({ path: path.join(PREVIEW_ARTIFACTS, 'calculator-forward.png'), fullPage: true });
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
    await page.screenshot({ path: path.join(PREVIEW_ARTIFACTS, 'calculator-inverse.png'), fullPage: true });
    assert.deepEqual(pageErrors, []);
  });
});
