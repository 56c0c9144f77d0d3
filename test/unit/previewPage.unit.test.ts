/// <reference lib="dom" />
/**
 * The preview panel's page in headless Chromium, against a harness that plays the extension host: the page is
 * built the way esbuild.js builds dist/preview.js and dist/previewWorker.js and served from 127.0.0.1 under the
 * panel's own CSP (nonce, 'wasm-unsafe-eval', worker-src blob:). The harness records what the page posts
 * (acquireVsCodeApi) and sends it host messages (window.postMessage). Chromium runs with
 * --enable-unsafe-webgpu, which gives WebGPU on SwiftShader, so both engines run; both must equal the CPU
 * engine run here in node on the same problems. Screenshots go to .test-artifacts/preview/.
 *
 * Needs Debian's Chromium (`apt-get install chromium`) or $CONV_LENS_CHROMIUM.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import {
  harnessPage,
  type HarnessWindow,
  launchChromium,
  PREVIEW_ARTIFACTS,
  type PreviewServer,
  servePreviewPages,
} from '../browser/previewHarness';
import { createCpuEngine } from '../../src/core/engine/cpu';
import {
  type HostToPanel,
  isPanelToHost,
  type PanelToHost,
  type PreviewLayer,
  type ResultMessage,
} from '../../src/protocol/preview';
import { rgbaToInput } from '../../src/webview/preview/images';
import { generatePattern } from '../../src/webview/preview/patterns';
import { runStack } from '../../src/webview/preview/stack';

/** DCGAN's second generator layer: nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False). */
const DCGAN_LAYER: PreviewLayer = {
  op: 'conv_transpose',
  kernel: [4, 4],
  stride: [2, 2],
  padding: [1, 1],
  dilation: [1, 1],
  outputPadding: [0, 0],
  outChannels: 256,
  label: 'nn.ConvTranspose2d (dcgan.py:26)',
};

const CONV_LAYER: PreviewLayer = {
  op: 'conv',
  kernel: [3, 3],
  stride: [2, 2],
  padding: [1, 1],
  dilation: [1, 1],
  outputPadding: [0, 0],
  outChannels: 5,
  label: 'nn.Conv2d (test)',
};

/** A PNG of `width`×`height` RGB pixels from `at(x, y)` (8 bits, no filter), encoded here so the test knows every value. */
function encodePng(
  width: number,
  height: number,
  at: (x: number, y: number) => [number, number, number],
): Buffer {
  const crc32 = (bytes: Buffer) => {
    let crc = ~0;
    for (const byte of bytes) {
      crc ^= byte;
      for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
    }
    return ~crc >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(crc32(body));
    return Buffer.concat([head, body, tail]);
  };
  const raw = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++)
      at(x, y).forEach((v, c) => (raw[y * (1 + width * 3) + 1 + x * 3 + c] = v));
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

type Window = HarnessWindow;

describe('preview panel page in headless Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let page: Page;
  let server: PreviewServer;
  const pageErrors: string[] = [];
  let nextId = 100;

  async function send(message: HostToPanel | Record<string, unknown>): Promise<void> {
    await page.evaluate((m) => window.postMessage(m, '*'), message);
  }

  async function sent(): Promise<PanelToHost[]> {
    const all = await page.evaluate(() => (window as unknown as Window).__sent);
    for (const message of all)
      assert.ok(isPanelToHost(message), `Outside the protocol: ${JSON.stringify(message)}`);
    return all as PanelToHost[];
  }

  /** Sends a `run` request and waits for its answer; fails on an error answer. */
  async function run(fields: Record<string, unknown>): Promise<ResultMessage> {
    const id = nextId++;
    await send({ type: 'run', id, ...fields });
    await page.waitForFunction(
      (wanted) =>
        (window as unknown as Window).__sent.some(
          (m) =>
            (m as { id?: number; type: string }).id === wanted && (m as { type: string }).type !== 'ready',
        ),
      id,
      { timeout: 60_000 },
    );
    const answer = (await sent()).find((m) => 'id' in m && m.id === id)!;
    if (answer.type === 'error') assert.fail(`The page answered run ${id} with an error: ${answer.message}`);
    return answer as ResultMessage;
  }

  /** The same stack run here by the CPU engine, on the same generated input and weights. */
  async function expected(
    result: ResultMessage,
    pattern: 'shapes' | 'checkerboard',
    size: number,
    seed: number,
  ) {
    const preset = 'random';
    const outcome = await runStack(
      createCpuEngine({ precision: 'float64' }).run,
      result.layers,
      generatePattern(pattern, size),
      preset,
      seed,
    );
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.error);
    return outcome.value.at(-1)!;
  }

  function assertClose(
    actual: readonly number[],
    wanted: Float32Array,
    tolerance: number,
    what: string,
  ): void {
    assert.equal(actual.length, wanted.length, `${what}: ${actual.length} values, expected ${wanted.length}`);
    let worst = 0;
    for (let i = 0; i < wanted.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - wanted[i]!));
    assert.ok(worst <= tolerance, `${what}: largest difference ${worst} exceeds ${tolerance}`);
  }

  before(async () => {
    server = await servePreviewPages({
      'index.html': harnessPage({ workerUrl: './previewWorker.js' }),
      // The same page with a pool of 3 workers that shares every problem, however few cores this machine has.
      'pool.html': harnessPage({ workerUrl: './previewWorker.js', cpuWorkers: 3, cpuPoolMinMacs: 0 }),
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1 });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.goto(server.origin);
    await page.waitForFunction(() =>
      (window as unknown as Window).__sent.some((m) => (m as { type: string }).type === 'ready'),
    );
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('renders a layer from the host with the default run on the automatic engine, with badge and heatmaps', async () => {
    await send({ type: 'init', layer: DCGAN_LAYER, engine: 'auto', notes: ['a note from the host'] });
    await page.waitForFunction(() => document.body.dataset['state'] === 'done');
    const title = await page.textContent('h1');
    assert.ok(title?.includes('nn.ConvTranspose2d (dcgan.py:26)'), `title: ${title}`);
    assert.ok((await page.textContent('.notes'))?.includes('a note from the host'));
    const badge = (await page.textContent('[data-testid=badge]')) ?? '';
    assert.match(badge, /(WebGPU|CPU).* ms/);
    // Input (3 channels of the `shapes` sample), output (3 channels: the bilinear preset filters each channel),
    // and the overlap count of the transposed conv.
    assert.equal(await page.locator('[data-testid=figure-input] canvas.map').count(), 3);
    assert.equal(await page.locator('[data-testid=figure-stage-0] canvas.map').count(), 3);
    assert.equal(await page.locator('[data-testid=figure-overlap-0] canvas.map').count(), 1);
    const result = (await sent()).find((m): m is ResultMessage => m.type === 'result' && m.id === null);
    assert.ok(result, 'no result message for the run the init started');
    assert.deepEqual(result.inputShape, [1, 3, 16, 16]);
    assert.deepEqual(result.outputShapes, [[1, 3, 32, 32]]);
    await page.screenshot({ path: path.join(PREVIEW_ARTIFACTS, 'preview-dcgan-auto.png'), fullPage: true });
  });

  it('computes on the CPU engine in a worker, equal to the CPU engine run directly', async () => {
    await send({ type: 'init', layer: CONV_LAYER, engine: 'cpu', notes: [] });
    const result = await run({
      engine: 'cpu',
      input: { pattern: 'shapes', size: 24 },
      preset: 'random',
      seed: 7,
      includeValues: true,
    });
    assert.equal(result.engine, 'cpu');
    assert.match(result.engineLabel, /CPU .*in a worker/);
    assert.deepEqual(result.outputShapes, [[1, 5, 12, 12]]);
    const wanted = await expected(result, 'shapes', 24, 7);
    assertClose(result.values!, wanted.y, 1e-5, 'CPU worker vs CPU engine');
    assert.match((await page.textContent('[data-testid=badge]')) ?? '', /CPU/);
    await page.screenshot({ path: path.join(PREVIEW_ARTIFACTS, 'preview-conv-cpu.png'), fullPage: true });
  });

  it('computes on WebGPU (SwiftShader), equal to the CPU engine', async () => {
    const result = await run({
      engine: 'webgpu',
      input: { pattern: 'shapes', size: 24 },
      preset: 'random',
      seed: 7,
      includeValues: true,
    });
    assert.equal(result.engine, 'webgpu');
    assert.match(result.engineLabel, /WebGPU/);
    const wanted = await expected(result, 'shapes', 24, 7);
    assertClose(result.values!, wanted.y, 1e-4, 'WebGPU vs CPU engine');
    assert.match((await page.textContent('[data-testid=badge]')) ?? '', /WebGPU/);
    await page.screenshot({ path: path.join(PREVIEW_ARTIFACTS, 'preview-conv-webgpu.png'), fullPage: true });
  });

  it('runs a transposed conv on both engines with the same result', async () => {
    await send({ type: 'init', layer: DCGAN_LAYER, engine: 'auto', notes: [] });
    const cpu = await run({
      engine: 'cpu',
      input: { pattern: 'checkerboard', size: 16 },
      preset: 'random',
      seed: 3,
      includeValues: true,
    });
    const gpu = await run({
      engine: 'webgpu',
      input: { pattern: 'checkerboard', size: 16 },
      preset: 'random',
      seed: 3,
      includeValues: true,
    });
    const wanted = await expected(cpu, 'checkerboard', 16, 3);
    assert.deepEqual(cpu.outputShapes, [[1, 8, 32, 32]]);
    assertClose(cpu.values!, wanted.y, 1e-5, 'CPU worker vs CPU engine (transposed)');
    assertClose(gpu.values!, wanted.y, 1e-4, 'WebGPU vs CPU engine (transposed)');
  });

  it('shares a conv and a transposed conv between several workers, bit for bit one worker’s result', async () => {
    const poolPage = await browser.newPage();
    poolPage.on('pageerror', (error) => pageErrors.push(error.message));
    poolPage.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    try {
      await poolPage.goto(`${server.origin}pool.html`);
      await poolPage.waitForFunction(() =>
        (window as unknown as Window).__sent.some((m) => (m as { type: string }).type === 'ready'),
      );
      // 8 output channels (the preview's most) make two register tiles, so splitWork cuts them in two.
      const layers: PreviewLayer[] = [
        { ...CONV_LAYER, outChannels: 8, label: 'nn.Conv2d (pool)' },
        { ...DCGAN_LAYER, padding: [2, 1], outputPadding: [1, 0], label: 'nn.ConvTranspose2d (pool)' },
      ];
      for (const layer of layers) {
        const fields = {
          engine: 'cpu',
          input: { pattern: 'shapes', size: 20 },
          preset: 'random',
          seed: 11,
          includeValues: true,
        };
        // One worker: the panel's own page, where problems this small never leave the first worker.
        await send({ type: 'init', layer, engine: 'cpu', notes: [] });
        const single = await run(fields);
        assert.match(single.engineLabel, /CPU .*in a worker$/);
        // The pool: the page whose config forces 3 workers for every problem.
        const id = nextId++;
        await poolPage.evaluate((m) => window.postMessage(m, '*'), {
          type: 'init',
          layer,
          engine: 'cpu',
          notes: [],
        });
        await poolPage.evaluate((m) => window.postMessage(m, '*'), { type: 'run', id, ...fields });
        await poolPage.waitForFunction(
          (wanted) => (window as unknown as Window).__sent.some((m) => (m as { id?: number }).id === wanted),
          id,
          { timeout: 60_000 },
        );
        const all = (await poolPage.evaluate(() => (window as unknown as Window).__sent)) as PanelToHost[];
        const pooled = all.find((m) => 'id' in m && m.id === id)!;
        assert.ok(isPanelToHost(pooled));
        if (pooled.type !== 'result') assert.fail(`The pool page answered with ${JSON.stringify(pooled)}`);
        // splitWork cuts 8 channels into at most 2 slices of whole tiles, so 2 of the 3 workers run.
        assert.match(pooled.engineLabel, /^CPU \(.*\) in 2 workers$/, layer.label);
        assert.match(
          (await poolPage.textContent('[data-testid=badge]')) ?? '',
          /^CPU \(.*\) in 2 workers · [\d.]+ ms/,
        );
        assert.deepEqual(pooled.outputShapes, single.outputShapes);
        const bits = (values: readonly number[]) => Buffer.from(Float32Array.from(values).buffer);
        assert.ok(bits(pooled.values!).equals(bits(single.values!)), `${layer.label}: pool vs one worker`);
        // And the CPU engine here in node, at the precision the workers name, gives the same bits.
        const precision = /float64/.test(pooled.engineLabel) ? 'float64' : 'float32';
        const outcome = await runStack(
          createCpuEngine({ precision }).run,
          pooled.layers,
          generatePattern('shapes', 20),
          'random',
          11,
        );
        assert.ok(outcome.ok, outcome.ok ? '' : outcome.error);
        const node = Buffer.from(outcome.value.at(-1)!.y.buffer);
        assert.ok(bits(pooled.values!).equals(node), `${layer.label}: pool vs the CPU engine in node`);
      }
      await poolPage.screenshot({ path: path.join(PREVIEW_ARTIFACTS, 'preview-pool.png'), fullPage: true });
    } finally {
      await poolPage.close();
    }
  });

  it('recomputes when the user edits stride or padding in the panel, with the new output size', async () => {
    const runsNow = () => page.evaluate(() => Number(document.body.dataset['runs'] ?? '0'));
    const settled = (previous: number) =>
      page.waitForFunction(
        (runs) =>
          Number(document.body.dataset['runs'] ?? '0') > runs && document.body.dataset['state'] === 'done',
        previous,
      );
    const lastResult = async () =>
      (await sent()).filter((m): m is ResultMessage => m.type === 'result' && m.id === null).at(-1)!;
    let runs = await runsNow();
    await send({ type: 'init', layer: CONV_LAYER, engine: 'cpu', notes: [] });
    await settled(runs);
    const before = await lastResult();
    const [h, w] = before.inputShape.slice(2) as [number, number];
    // Conv2d: ⌊(in + 2p − k)/s⌋ + 1 (PyTorch docs), here k 3, s 2, p 1.
    const out = (size: number, s: number, p: number) => Math.floor((size + 2 * p - 3) / s) + 1;
    assert.deepEqual(before.outputShapes[0]!.slice(2), [out(h, 2, 1), out(w, 2, 1)]);
    const edit = async (label: string, value: string) => {
      runs = await runsNow();
      await page.fill(`[aria-label="${label}"]`, value);
      await page.dispatchEvent(`[aria-label="${label}"]`, 'change');
      await settled(runs);
    };
    await edit('stride height of layer 1', '1');
    await edit('stride width of layer 1', '1');
    assert.deepEqual((await lastResult()).outputShapes[0]!.slice(2), [out(h, 1, 1), out(w, 1, 1)]);
    await edit('padding width of layer 1', '0');
    assert.deepEqual((await lastResult()).outputShapes[0]!.slice(2), [out(h, 1, 1), out(w, 1, 0)]);
  });

  it('shows the value and highlights its input window on hover', async () => {
    await send({ type: 'init', layer: CONV_LAYER, engine: 'cpu', notes: [] });
    await run({ engine: 'cpu', input: { pattern: 'checkerboard', size: 16 }, preset: 'box' });
    const canvas = page.locator('[data-testid=figure-stage-0] canvas.map').first();
    const box = (await canvas.boundingBox())!;
    // Output cell (row 2, column 3) at the page's zoom.
    const zoom = box.width / 8;
    await page.mouse.move(box.x + 3.5 * zoom, box.y + 2.5 * zoom);
    const readout = (await page.textContent('[data-testid=readout]')) ?? '';
    // Stride 2, padding 1, kernel 3: output row 2 reads input rows 3, 4, 5; column 3 reads 5, 6, 7.
    assert.match(readout, /row 2, column 3: .* from input rows 3, 4, 5 × columns 5, 6, 7 \(9 cells/);
    await page.screenshot({ path: path.join(PREVIEW_ARTIFACTS, 'preview-hover.png'), fullPage: true });
  });

  it('builds a conv → transposed conv round trip with an overlap-count heatmap', async () => {
    await page.click('[data-testid=round-trip]');
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid=figure-overlap-1]') !== null &&
        document.body.dataset['state'] === 'done',
    );
    const result = (await sent()).filter((m): m is ResultMessage => m.type === 'result').at(-1)!;
    assert.equal(result.layers.length, 2);
    assert.equal(result.layers[1]!.op, 'conv_transpose');
    // The round trip brings 16×16 back: 16 → 8 with k3 s2 p1, then 8 → 16 needs output_padding 1.
    assert.deepEqual(result.outputShapes.at(-1), [1, 1, 16, 16]);
    assert.deepEqual(result.layers[1]!.outputPadding, [1, 1]);
    const caption = (await page.textContent('[data-testid=figure-overlap-1] figcaption')) ?? '';
    // k 3, s 2: phases get 1 and 2 taps per axis, so 1 to 4 taps inside.
    assert.match(caption, /1 to 4 taps inside: checkerboard artifacts/);
    await page.screenshot({ path: path.join(PREVIEW_ARTIFACTS, 'preview-round-trip.png'), fullPage: true });
  });

  it('ignores messages outside the protocol and reports errors in the user’s words', async () => {
    const before = (await sent()).length;
    await send({ type: 'run', id: -1 });
    await send({ type: 'init', layer: { op: 'conv', kernel: [999, 3] }, engine: 'auto', notes: [] });
    await send({ type: 'evil', payload: '<script>' });
    await page.waitForTimeout(200);
    assert.equal((await sent()).length, before, 'the page answered a message outside the protocol');
    // A kernel larger than the padded input: the core's message comes back as an error answer.
    await send({
      type: 'init',
      layer: { ...CONV_LAYER, kernel: [15, 15], padding: [0, 0] },
      engine: 'cpu',
      notes: [],
    });
    const id = nextId++;
    await send({ type: 'run', id, engine: 'cpu', input: { pattern: 'impulse', size: 8 } });
    await page.waitForFunction(
      (wanted) => (window as unknown as Window).__sent.some((m) => (m as { id?: number }).id === wanted),
      id,
    );
    const answer = (await sent()).find((m) => 'id' in m && m.id === id)!;
    assert.equal(answer.type, 'error');
    assert.match(answer.type === 'error' ? answer.message : '', /Layer 1 .*kernel/i);
    assert.deepEqual(pageErrors, []);
  });
  it('decodes a workspace image from the host into a [1, 3, H, W] input, and says when one will not decode', async () => {
    // The page asked the host for the workspace's images when it loaded; the list fills the input selector.
    assert.ok(
      (await sent()).some((m) => m.type === 'listImages'),
      'the page never asked for the images',
    );
    await send({ type: 'images', files: ['images/sample.png'], note: null });
    await send({ type: 'init', layer: CONV_LAYER, engine: 'cpu', notes: [] });
    await page.waitForFunction(() => document.body.dataset['state'] === 'done');
    assert.ok(
      await page.locator('select[aria-label=input] option[value="image: images/sample.png"]').count(),
      'the input selector does not list the workspace image',
    );
    // 32×24 pixels: at the conv's size 32 the longer side fits exactly, so the input equals the pixels.
    const pixel = (x: number, y: number): [number, number, number] => [
      (x * 8) % 256,
      (y * 10) % 256,
      (x * y) % 256,
    ];
    const png = encodePng(32, 24, pixel);
    const id = nextId++;
    await send({
      type: 'image',
      id,
      name: 'images/test.png',
      mime: 'image/png',
      base64: png.toString('base64'),
    });
    await page.waitForFunction(
      (wanted) => (window as unknown as Window).__sent.some((m) => (m as { id?: number }).id === wanted),
      id,
    );
    const loaded = (await sent()).find((m) => 'id' in m && m.id === id)!;
    assert.deepEqual(loaded, { type: 'imageLoaded', id, name: 'images/test.png', width: 32, height: 24 });

    const result = await run({ engine: 'cpu', preset: 'random', seed: 5, includeValues: true });
    assert.deepEqual(result.inputShape, [1, 3, 24, 32]);
    const rgba = new Uint8ClampedArray(32 * 24 * 4);
    for (let y = 0; y < 24; y++) {
      for (let x = 0; x < 32; x++) rgba.set([...pixel(x, y), 255], (y * 32 + x) * 4);
    }
    const outcome = await runStack(
      createCpuEngine({ precision: 'float64' }).run,
      result.layers,
      rgbaToInput(rgba, 32, 24),
      'random',
      5,
    );
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.error);
    assertClose(result.values!, outcome.value.at(-1)!.y, 1e-4, 'output on the decoded image');
    assert.match(
      (await page.textContent('[data-testid=figure-input] figcaption')) ?? '',
      /images\/test\.png/,
    );

    // Bytes that are base64 but no PNG: an error in the panel and an error answer, and the page still runs.
    const bad = nextId++;
    await send({ type: 'image', id: bad, name: 'broken.png', mime: 'image/png', base64: 'AAAAAAAA' });
    await page.waitForFunction(
      (wanted) => (window as unknown as Window).__sent.some((m) => (m as { id?: number }).id === wanted),
      bad,
    );
    const answer = (await sent()).find((m) => 'id' in m && m.id === bad)!;
    assert.equal(answer.type, 'error');
    assert.match(answer.type === 'error' ? answer.message : '', /broken\.png could not be decoded/);
    assert.equal(
      await page.locator('.error', { hasText: 'broken.png' }).count(),
      1,
      'no message in the panel',
    );
    // Text that is not base64 is outside the protocol and dropped.
    const before = (await sent()).length;
    await send({ type: 'image', id: nextId++, name: 'x.png', mime: 'image/png', base64: '<not base64>' });
    await page.waitForTimeout(200);
    assert.equal((await sent()).length, before);
    const again = await run({ engine: 'cpu', input: { pattern: 'impulse', size: 8 } });
    assert.deepEqual(again.inputShape, [1, 1, 8, 8]);
    assert.deepEqual(pageErrors, []);
  });
});
