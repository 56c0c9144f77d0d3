/// <reference lib="dom" />
/**
 * The notebook renderer in headless Chromium. The renderer is built the way esbuild.js builds dist/renderer.js
 * (browser, ES module), served from 127.0.0.1 next to test/browser/harness.html, which calls
 * `activate(context).renderOutputItem(item, element)` as VS Code does. Each drawn frame is compared with the
 * core's timeline (the cells marked on screen are exactly the cells the timeline names), and screenshots go to
 * .test-artifacts/renderer/.
 *
 * Needs Debian's Chromium (`apt-get install chromium`, as .ci/run does) or $CONV_LENS_CHROMIUM.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { type Browser, type Page, chromium } from 'playwright-core';
import {
  type Timeline,
  cellValue,
  directFrame,
  directReaders,
  frameCount,
  matrixView,
  scatterCounts,
  scatterFrame,
  scatterGrid,
  sourceCellKind,
  sourceGrid,
  timelineFromPayload,
  unflatten,
} from '../../src/core/animation/timeline';

/** The repository root: the nearest folder above this file whose package.json is Conv Lens's. */
function repositoryRoot(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'conv-lens')
      return dir;
  }
  return process.cwd();
}

const ROOT = repositoryRoot();
const ARTIFACTS = path.join(ROOT, '.test-artifacts', 'renderer');
/** Flags that let Debian's Chromium run headless as root on a closed network (notes/vscode-host-testing.md). */
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

function timeline(payload: unknown): Timeline {
  const outcome = timelineFromPayload(payload);
  if (!outcome.ok) assert.fail(outcome.error);
  return outcome.value;
}

const key = (index: readonly number[]): string => index.join(',');
const sorted = (keys: string[]): string[] => [...keys].sort();

describe('notebook renderer in headless Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let page: Page;
  let server: http.Server;
  let serveDir: string;

  before(async () => {
    const executable = process.env['CONV_LENS_CHROMIUM'] || '/usr/bin/chromium';
    if (!fs.existsSync(executable)) {
      throw new Error(
        `Chromium is not at ${executable}. Install Debian's (apt-get install -y chromium) or set ` +
          `CONV_LENS_CHROMIUM to a Chromium binary.`,
      );
    }
    serveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'conv-lens-renderer-'));
    await esbuild.build({
      entryPoints: [path.join(ROOT, 'src/renderer/renderer.ts')],
      outfile: path.join(serveDir, 'renderer.js'),
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      logLevel: 'error',
    });
    fs.copyFileSync(path.join(ROOT, 'test/browser/harness.html'), path.join(serveDir, 'index.html'));
    server = http.createServer((request, response) => {
      const name =
        (request.url ?? '/').split('?')[0] === '/' ? 'index.html' : path.basename(request.url ?? '');
      const file = path.join(serveDir, name);
      if (!fs.existsSync(file)) {
        response.writeHead(404).end();
        return;
      }
      const type = name.endsWith('.js') ? 'text/javascript' : 'text/html';
      response.writeHead(200, { 'content-type': `${type}; charset=utf-8` }).end(fs.readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath: executable, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1100, height: 800 }, deviceScaleFactor: 1 });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    // Renders start paused under reduced motion, so frames can be checked one at a time.
    await page.emulateMedia({ reducedMotion: 'reduce' });
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(
      () => (window as unknown as { convLensReady?: boolean }).convLensReady === true,
    );
    assert.deepEqual(errors, []);
  });

  after(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (serveDir) fs.rmSync(serveDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await page.evaluate(() => (window as unknown as { convLens: { clear(): void } }).convLens.clear());
  });

  async function render(payload: unknown, raw = false): Promise<string> {
    const id = await page.evaluate(
      ([p, r]) =>
        (window as unknown as { convLens: { render(p: unknown, r: boolean): string } }).convLens.render(p, r),
      [payload, raw] as const,
    );
    return `#${id}`;
  }

  /** Moves the scrubber, as a user dragging it would. */
  async function goTo(id: string, frame: number): Promise<void> {
    await page.$eval(
      `${id} .cl-scrub`,
      (node, f) => {
        const input = node as HTMLInputElement;
        input.value = String(f);
        input.dispatchEvent(new Event('input', { bubbles: true }));
      },
      frame,
    );
    assert.equal(await page.getAttribute(`${id} .cl-anim`, 'data-frame'), String(frame));
  }

  async function positions(selector: string): Promise<string[]> {
    return sorted(
      await page.$$eval(selector, (nodes) => nodes.map((node) => node.getAttribute('data-pos') ?? '')),
    );
  }

  async function shot(id: string, name: string): Promise<void> {
    await page.locator(id).screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
  }

  it('draws a padded, strided 2-D conv frame by frame exactly as the timeline says', async () => {
    const payload = { op: 'conv', input: [5, 5], kernel: 3, stride: 2, padding: 1 };
    const t = timeline(payload);
    const id = await render(payload);
    assert.equal(await page.getAttribute(`${id} .cl-anim`, 'data-frames'), String(frameCount(t, 'direct')));
    // Every drawn source cell has the kind the core gives it (padding cells distinct from input cells).
    const kinds = await page.$$eval(`${id} rect[data-grid="source"]`, (nodes) =>
      nodes.map((node) => [node.getAttribute('data-pos') ?? '', node.getAttribute('data-kind') ?? '']),
    );
    assert.equal(kinds.length, 7 * 7);
    for (const [pos, kind] of kinds) assert.equal(kind, sourceCellKind(t, pos!.split(',').map(Number)), pos);
    for (const f of [0, 4, 8]) {
      await goTo(id, f);
      const frame = directFrame(t, f);
      assert.deepEqual(
        await positions(`${id} rect[data-grid="source"].cl-tap`),
        sorted(frame.taps.map((tap) => key(tap.source))),
      );
      assert.deepEqual(await positions(`${id} rect[data-grid="output"].cl-current`), [key(frame.output)]);
      assert.equal((await positions(`${id} rect[data-grid="output"].cl-done`)).length, f);
      await shot(id, `conv2d-padding1-stride2-frame${f}`);
    }
    const info = await page.textContent(`${id} .cl-formulas`);
    assert.match(info ?? '', /H_out = ⌊\(H_in \+ 2·p − d·\(k − 1\) − 1\)\/s⌋ \+ 1/);
    assert.match(info ?? '', /⌊\(5 \+ 2·1 − 1·\(3 − 1\) − 1\)\/2⌋ \+ 1 = 3/);
  });

  it('shows a transposed conv as scatter (with counts), as the zero-inserted direct conv, and as Cᵀ', async () => {
    const payload = {
      op: 'conv_transpose',
      input: [3, 3],
      kernel: 3,
      stride: 2,
      padding: 1,
      output_padding: 1,
    };
    const t = timeline(payload);
    const id = await render(payload);
    assert.equal(await page.getAttribute(`${id} .cl-anim`, 'data-view'), 'scatter');
    const grid = scatterGrid(t);
    for (let f = 0; f < frameCount(t, 'scatter'); f++) {
      await goTo(id, f);
      const frame = scatterFrame(t, f);
      assert.deepEqual(await positions(`${id} rect[data-grid="input"].cl-source-current`), [
        key(frame.input),
      ]);
      assert.deepEqual(
        await positions(`${id} rect[data-grid="output"].cl-tap`),
        sorted(frame.taps.map((tap) => key(tap.output))),
      );
      const counts = scatterCounts(t, f);
      const drawn = await page.$$eval(`${id} rect[data-grid="output"]`, (nodes) =>
        nodes.map((node) => [node.getAttribute('data-pos') ?? '', node.getAttribute('data-count') ?? '']),
      );
      const want = Array.from(counts, (count, flat) => [
        key(unflatten(flat, grid.sizes).map((o, d) => o + grid.lo[d]!)),
        String(count),
      ]);
      assert.deepEqual(
        sorted(drawn.map((pair) => pair.join('='))),
        sorted(want.map((pair) => pair.join('='))),
      );
      if (f === 4 || f === 8) await shot(id, `conv-transpose2d-scatter-frame${f}`);
    }
    // output_padding cells are marked.
    const marked = await positions(`${id} rect[data-grid="output"][data-output-padding="true"]`);
    assert.equal(marked.length, 6 + 6 - 1);

    // Key 2 switches to the direct view of the same operation.
    await page.focus(`${id} .cl-anim`);
    await page.keyboard.press('2');
    assert.equal(await page.getAttribute(`${id} .cl-anim`, 'data-view'), 'direct');
    for (const f of [0, 14, 35]) {
      await goTo(id, f);
      const frame = directFrame(t, f);
      assert.deepEqual(
        await positions(`${id} rect[data-grid="source"].cl-tap`),
        sorted(frame.taps.map((tap) => key(tap.source))),
      );
      assert.deepEqual(await positions(`${id} rect[data-grid="output"].cl-current`), [key(frame.output)]);
    }
    assert.equal(
      await page.getAttribute(`${id} rect[data-grid="source"][data-pos="1,1"]`, 'data-kind'),
      'hole',
    );
    await goTo(id, 14);
    await shot(id, 'conv-transpose2d-direct-frame14');

    // The matrix view: row f of Cᵀ highlighted, its entries the timeline's.
    await page.click(`${id} button[data-view="matrix"]`);
    assert.equal(await page.getAttribute(`${id} .cl-anim`, 'data-view'), 'matrix');
    const matrix = matrixView(t);
    if (!matrix.ok) assert.fail(matrix.error);
    const entries = matrix.value.entries;
    assert.equal(await page.locator(`${id} rect[data-grid="matrix"]`).count(), entries.length);
    for (const f of [0, 7, 35]) {
      await goTo(id, f);
      const want: string[] = entries.filter((e) => e.row === f).map((e) => `${e.row},${e.col}`);
      assert.deepEqual(await positions(`${id} rect[data-grid="matrix"].cl-tap`), sorted(want));
      assert.deepEqual(await positions(`${id} rect[data-grid="y"].cl-current`), [String(f)]);
    }
    assert.match((await page.textContent(`${id} .cl-frame-info`)) ?? '', /row 35 of Cᵀ/);
    await shot(id, 'conv-transpose2d-matrix-row35');
  });

  it('marks ceil_mode overhang cells of a pooling window', async () => {
    const payload = {
      op: 'max_pool',
      input: [5, 5],
      kernel: 2,
      ceil_mode: true,
      framework: 'pytorch',
      values: { input: Array.from({ length: 25 }, (_, i) => (i * 7) % 11) },
    };
    const t = timeline(payload);
    const id = await render(payload);
    await goTo(id, 8);
    const frame = directFrame(t, 8);
    const overhang = frame.taps.filter((tap) => tap.kind === 'overhang').map((tap) => key(tap.source));
    assert.equal(overhang.length, 3);
    assert.deepEqual(await positions(`${id} rect[data-kind="overhang"].cl-tap`), sorted(overhang));
    const texts = await page.$$eval(`${id} g[data-grid="output"] text`, (nodes) =>
      nodes.map((node) => node.textContent),
    );
    const want = Array.from({ length: 9 }, (_, flat) => String(cellValue(t, unflatten(flat, [3, 3]))!.value));
    assert.deepEqual(texts, want);
    const last = String(payload.values.input[24]);
    assert.ok(
      ((await page.textContent(`${id} .cl-frame-info`)) ?? '').startsWith(`y[2, 2] = max(${last}) = ${last}`),
    );
    await shot(id, 'maxpool2d-ceil-mode-overhang');
  });

  it('draws 1-D with dilation gaps and values, and hover links every connected cell', async () => {
    const payload = {
      op: 'conv1d',
      input: 9,
      kernel: 3,
      dilation: 2,
      values: { input: [1, 2, 3, 4, 5, 6, 7, 8, 9], kernel: [1, 0, -1] },
    };
    const t = timeline(payload);
    const id = await render(payload);
    await goTo(id, 2);
    assert.deepEqual(await positions(`${id} rect[data-grid="source"].cl-tap`), ['2', '4', '6']);
    assert.match(
      (await page.textContent(`${id} .cl-frame-info`)) ?? '',
      /y\[2\] = 3·1 \+ 5·0 \+ 7·\(-1\) = -4/,
    );
    await page.hover(`${id} rect[data-grid="source"][data-pos="4"]`);
    assert.deepEqual(
      await positions(`${id} rect[data-grid="output"].cl-linked`),
      sorted(directReaders(t, [4]).map(key)),
    );
    await shot(id, 'conv1d-dilation2-hover');
  });

  it('renders a clear message for bad payloads, never a blank cell', async () => {
    const cases: Array<[unknown, boolean, RegExp]> = [
      [{ op: 'conv', input: [5, 5], kernal: 3 }, false, /Unknown field "kernal". Did you mean "kernel"\?/],
      [
        { op: 'conv_transpose', input: 4, kernel: 3, stride: 2, output_padding: 2, framework: 'pytorch' },
        false,
        /output_padding must be smaller than stride/,
      ],
      ['{"op": "conv", "input": [5, 5', true, /not valid JSON/],
      [[1, 2, 3], false, /must be a JSON object/],
    ];
    for (const [index, [payload, raw, message]] of cases.entries()) {
      const id = await render(payload, raw);
      const alert = page.locator(`${id} [role="alert"]`);
      assert.equal(await alert.count(), 1);
      assert.match((await alert.textContent()) ?? '', message);
      assert.match((await alert.textContent()) ?? '', /Conv Lens cannot draw this output/);
      if (index === 0) await shot(id, 'bad-payload-message');
    }
    // Huge sizes are drawn capped, with a notice.
    const id = await render({ op: 'conv', input: [512, 512], kernel: 3, stride: 2, padding: 1 });
    assert.equal(await page.locator(`${id} [role="alert"]`).count(), 0);
    assert.match(
      (await page.textContent(`${id} .cl-notices`)) ?? '',
      /draws at most 64 cells a side.*512×512 the output is 256×256/,
    );
    assert.equal(await page.getAttribute(`${id} .cl-anim`, 'data-frames'), String(32 * 32));
  });

  it('plays, pauses, steps and changes speed from the keyboard; exports the frame as SVG', async () => {
    const id = await render({ op: 'conv_transpose', input: [2, 2], kernel: 3, stride: 2 });
    const root = `${id} .cl-anim`;
    await page.focus(root);
    assert.equal(await page.getAttribute(root, 'data-playing'), 'false', 'reduced motion: starts paused');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getAttribute(root, 'data-frame'), '1');
    await page.keyboard.press('End');
    assert.equal(await page.getAttribute(root, 'data-frame'), '3');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await page.getAttribute(root, 'data-frame'), '2');
    await page.keyboard.press('+');
    assert.equal(await page.getAttribute(root, 'data-speed'), '2');
    await page.keyboard.press('Space');
    assert.equal(await page.getAttribute(root, 'data-playing'), 'true');
    await page.waitForFunction(
      (selector) => document.querySelector(selector)?.getAttribute('data-frame') !== '2',
      root,
    );
    await page.keyboard.press('Space');
    assert.equal(await page.getAttribute(root, 'data-playing'), 'false');

    await page.click(`${id} .cl-export`);
    const messages = (await page.evaluate(
      () => (window as unknown as { convLens: { messages: unknown[] } }).convLens.messages,
    )) as Array<{
      type: string;
      format: string;
      fileName: string;
      data: string;
    }>;
    // The renderer also reports each draw ('conv-lens.rendered'); exports are the other messages.
    assert.deepEqual(
      messages.map((message) => message.type),
      ['conv-lens.rendered', 'conv-lens.exportImage'],
    );
    messages.shift();
    assert.equal(messages.length, 1);
    assert.equal(messages[0]!.type, 'conv-lens.exportImage');
    assert.equal(messages[0]!.format, 'svg');
    assert.match(messages[0]!.fileName, /\.svg$/);
    const svgText = messages[0]!.data;
    assert.match(svgText, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svgText, /fill: rgb\(/, 'colours are resolved inline');
    const parsed = await page.evaluate((text) => {
      const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
      return {
        error: doc.querySelector('parsererror') !== null,
        cells: doc.querySelectorAll('rect[data-grid]').length,
      };
    }, svgText);
    assert.deepEqual(parsed, { error: false, cells: 2 * 2 + 5 * 5 });
    fs.writeFileSync(path.join(ARTIFACTS, 'export-conv-transpose-scatter.svg'), svgText);
  });

  interface Message {
    type: string;
    format?: string;
    fileName?: string;
    data?: string;
    encoding?: string;
    requestId?: string;
    error?: string;
    outputId?: string;
    ok?: boolean;
    summary?: {
      view: string;
      frames: number;
      inputSize: number[];
      outputSize: number[];
      cells: Record<string, number>;
    };
  }

  async function messagesOf(type?: string): Promise<Message[]> {
    const all = (await page.evaluate(
      () => (window as unknown as { convLens: { messages: unknown[] } }).convLens.messages,
    )) as Message[];
    return type === undefined ? all : all.filter((message) => message.type === type);
  }

  /** Waits for the renderer to send a message of `type` (PNG exports finish asynchronously). */
  async function nextMessage(type: string, count = 1): Promise<Message[]> {
    await page.waitForFunction(
      ([t, n]) =>
        (window as unknown as { convLens: { messages: Array<{ type: string }> } }).convLens.messages.filter(
          (message) => message.type === t,
        ).length >= n,
      [type, count] as const,
    );
    return messagesOf(type);
  }

  async function exportAs(id: string, format: string): Promise<Message> {
    const before = (await messagesOf('conv-lens.exportImage')).length;
    await page.selectOption(`${id} .cl-export-format`, format);
    await page.click(`${id} .cl-export`);
    const messages = await nextMessage('conv-lens.exportImage', before + 1);
    return messages[before]!;
  }

  it('reports to the host what it drew, read from the drawing', async () => {
    const payload = { op: 'conv_transpose', input: [3, 3], kernel: 3, stride: 2, padding: 1, view: 'direct' };
    const t = timeline(payload);
    const id = await render(payload);
    const [rendered] = await messagesOf('conv-lens.rendered');
    assert.equal(rendered!.outputId, id.slice(1));
    assert.equal(rendered!.ok, true);
    const grid = sourceGrid(t);
    assert.deepEqual(rendered!.summary, {
      ...rendered!.summary,
      view: 'direct',
      frames: frameCount(t, 'direct'),
      inputSize: [3, 3],
      outputSize: [5, 5],
      cells: { source: grid.sizes[0]! * grid.sizes[1]!, output: 25 },
    });
    // A payload it cannot draw is reported with the message the cell shows.
    await render({ op: 'conv', input: [5, 5], kernal: 3 });
    const failed = (await messagesOf('conv-lens.rendered'))[1]!;
    assert.equal(failed.ok, false);
    assert.match(failed.error ?? '', /Unknown field "kernal"\. Did you mean "kernel"\?/);
  });

  it('exports the frame as a PNG that shows the same colours as the cells', async () => {
    const payload = { op: 'conv', input: [5, 5], kernel: 3, stride: 2, padding: 1 };
    const t = timeline(payload);
    const id = await render(payload);
    await goTo(id, 4);
    const message = await exportAs(id, 'png');
    assert.equal(message.format, 'png');
    assert.equal(message.encoding, 'base64');
    assert.match(message.fileName ?? '', /-frame-5\.png$/);
    const png = Buffer.from(message.data ?? '', 'base64');
    assert.deepEqual(
      [...png.subarray(0, 8)],
      [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
      'PNG signature',
    );
    const svgSize = await page.$eval(`${id} .cl-stage svg`, (node) => [
      Number(node.getAttribute('width')),
      Number(node.getAttribute('height')),
    ]);
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [svgSize[0]! * 2, svgSize[1]! * 2]);
    fs.writeFileSync(path.join(ARTIFACTS, 'export-conv2d-frame5.png'), png);

    // Pixels at the centre of a kernel tap and of an untouched input cell, read back from the PNG itself.
    const frame = directFrame(t, 4);
    const tap = frame.taps.find((candidate) => candidate.kind === 'input')!;
    const tapped = new Set(frame.taps.map((candidate) => key(candidate.source)));
    const idle = sorted(
      await page.$$eval(`${id} rect[data-grid="source"][data-kind="input"]`, (nodes) =>
        nodes.map((node) => node.getAttribute('data-pos') ?? ''),
      ),
    ).find((pos) => !tapped.has(pos))!;
    const pixels = await page.evaluate(
      async ([data, selectors]) => {
        const image = new Image();
        image.src = `data:image/png;base64,${data}`;
        await image.decode();
        const canvas = document.createElement('canvas');
        canvas.width = image.width;
        canvas.height = image.height;
        const context = canvas.getContext('2d')!;
        context.drawImage(image, 0, 0);
        return selectors.map((selector) => {
          const rect = document.querySelector(selector)!;
          const x = (Number(rect.getAttribute('x')) + Number(rect.getAttribute('width')) / 2) * 2;
          const y = (Number(rect.getAttribute('y')) + Number(rect.getAttribute('height')) / 2) * 2;
          return [...context.getImageData(Math.round(x), Math.round(y), 1, 1).data.slice(0, 3)];
        });
      },
      [
        message.data!,
        [
          `${id} rect[data-grid="source"][data-pos="${key(tap.source)}"]`,
          `${id} rect[data-grid="source"][data-pos="${idle}"]`,
        ],
      ] as const,
    );
    // The stylesheet's colours over the white background: the kernel's orange (217, 119, 6) at 55 % for a tap,
    // the input's blue (38, 139, 210) at 16 % for an untouched input cell.
    const over = (colour: number[], alpha: number): number[] =>
      colour.map((c) => alpha * c + (1 - alpha) * 255);
    const close = (actual: number[], expected: number[], what: string): void =>
      assert.ok(
        actual.every((c, i) => Math.abs(c - expected[i]!) <= 6),
        `${what}: got rgb(${actual.join(', ')}), expected about rgb(${expected.map(Math.round).join(', ')})`,
      );
    close(pixels[0]!, over([217, 119, 6], 0.55), 'kernel tap');
    close(pixels[1]!, over([38, 139, 210], 0.16), 'untouched input cell');
  });

  it('exports every frame as an animated SVG whose frames are the timeline', async () => {
    const payload = { op: 'conv', input: [5, 5], kernel: 3, stride: 2, padding: 1 };
    const t = timeline(payload);
    const id = await render(payload);
    await goTo(id, 2);
    const message = await exportAs(id, 'animated-svg');
    assert.equal(message.format, 'animated-svg');
    assert.equal(message.encoding, 'utf8');
    assert.match(message.fileName ?? '', /-direct-animated\.svg$/);
    const svgText = message.data ?? '';
    assert.match(svgText, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svgText, /<animate [^>]*calcMode="discrete"/);
    fs.writeFileSync(path.join(ARTIFACTS, 'export-conv2d-animated.svg'), svgText);
    // The widget is back where it was.
    assert.equal(await page.getAttribute(`${id} .cl-anim`, 'data-frame'), '2');

    const frames = frameCount(t, 'direct');
    // 2 frames a second at 1×, and the last frame held three frames longer.
    const seconds = 0.5;
    const shown = await page.evaluate(
      ([text, times]) => {
        const holder = document.createElement('div');
        holder.id = 'animated-export';
        document.body.append(holder);
        const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
        const root = document.importNode(doc.documentElement, true) as unknown as SVGSVGElement;
        holder.append(root);
        root.pauseAnimations();
        const result = times.map((time) => {
          root.setCurrentTime(time);
          const taps = Array.from(root.querySelectorAll('rect[data-grid="source"]'))
            .filter((node) => getComputedStyle(node).fill === 'rgb(217, 119, 6)')
            .map((node) => node.getAttribute('data-pos') ?? '');
          const current = Array.from(root.querySelectorAll('rect[data-grid="output"]'))
            .filter((node) => Number(getComputedStyle(node).fillOpacity) > 0.9)
            .map((node) => node.getAttribute('data-pos') ?? '');
          return { taps, current };
        });
        const duration = root.querySelector('animate')?.getAttribute('dur');
        holder.remove();
        return { result, duration };
      },
      [svgText, [0, 4, frames - 1].map((f) => (f + 0.5) * seconds)] as const,
    );
    assert.equal(shown.duration, `${(frames + 3) * seconds}s`);
    [0, 4, frames - 1].forEach((f, i) => {
      const frame = directFrame(t, f);
      assert.deepEqual(
        sorted(shown.result[i]!.taps),
        sorted(frame.taps.map((tap) => key(tap.source))),
        `frame ${f}`,
      );
      assert.deepEqual(shown.result[i]!.current, [key(frame.output)], `frame ${f}`);
    });
  });

  it('animates the scatter counts of a transposed conv frame by frame', async () => {
    const payload = { op: 'conv_transpose', input: [3, 3], kernel: 3, stride: 2 };
    const t = timeline(payload);
    const id = await render(payload);
    assert.equal(await page.getAttribute(`${id} .cl-anim`, 'data-view'), 'scatter');
    const message = await exportAs(id, 'animated-svg');
    const frames = frameCount(t, 'scatter');
    const checked = [0, 1, 4, frames - 1];
    const shown = await page.evaluate(
      ([text, times]) => {
        const holder = document.createElement('div');
        document.body.append(holder);
        const root = document.importNode(
          new DOMParser().parseFromString(text, 'image/svg+xml').documentElement,
          true,
        ) as unknown as SVGSVGElement;
        holder.append(root);
        root.pauseAnimations();
        const group = root.querySelector('g[data-grid="output"]')!;
        const result = times.map((time) => {
          root.setCurrentTime(time);
          // Each visible number, placed on the output cell whose centre it sits at.
          return Array.from(group.querySelectorAll('text'))
            .filter((node) => getComputedStyle(node).visibility === 'visible' && node.textContent !== '')
            .map((node) => {
              const cell = Array.from(group.querySelectorAll('rect')).find(
                (rect) =>
                  Number(rect.getAttribute('x')) + Number(rect.getAttribute('width')) / 2 ===
                    Number(node.getAttribute('x')) &&
                  Number(rect.getAttribute('y')) + Number(rect.getAttribute('height')) / 2 ===
                    Number(node.getAttribute('y')),
              );
              return `${cell?.getAttribute('data-pos')}=${node.textContent}`;
            });
        });
        holder.remove();
        return result;
      },
      [message.data!, checked.map((f) => (f + 0.5) * 0.5)] as const,
    );
    const grid = scatterGrid(t);
    checked.forEach((f, i) => {
      const counts = scatterCounts(t, f);
      const want = Array.from(counts, (count, flat) =>
        count > 0 ? `${key(unflatten(flat, grid.sizes).map((o, d) => o + grid.lo[d]!))}=${count}` : '',
      ).filter((entry) => entry !== '');
      assert.deepEqual(sorted(shown[i]!), sorted(want), `stamp counts at frame ${f}`);
    });
  });

  it("answers the host's export requests, and says why when it cannot", async () => {
    const id = (await render({ op: 'max_pool', input: [4, 4], kernel: 2 })).slice(1);
    const send = (message: unknown): Promise<void> =>
      page.evaluate(
        (m) => (window as unknown as { convLens: { send(m: unknown): void } }).convLens.send(m),
        message,
      );
    await send({ type: 'conv-lens.requestExport', requestId: 'r1', format: 'svg', outputId: id });
    const [answer] = await nextMessage('conv-lens.exportImage');
    assert.equal(answer!.requestId, 'r1');
    assert.match(answer!.data ?? '', /^<svg/);
    await send({ type: 'conv-lens.requestExport', requestId: 'r2', format: 'svg', outputId: 'nothing-here' });
    await send({ type: 'conv-lens.requestExport', requestId: 'r3', format: 'gif' });
    const failures = await nextMessage('conv-lens.exportFailed', 2);
    assert.deepEqual(
      failures.map((failure) => [failure.requestId, failure.error]),
      [
        ['r2', 'No Conv Lens animation with the id nothing-here is shown.'],
        ['r3', 'Unknown export format "gif"; use svg, png or animated-svg.'],
      ],
    );
  });

  it('plays on its own unless reduced motion is asked for', async () => {
    await page.emulateMedia({ reducedMotion: 'no-preference' });
    try {
      const id = await render({ op: 'avg_pool', input: [6, 6], kernel: 2 });
      const root = `${id} .cl-anim`;
      assert.equal(await page.getAttribute(root, 'data-playing'), 'true');
      await page.waitForFunction(
        (selector) => Number(document.querySelector(selector)?.getAttribute('data-frame')) >= 1,
        root,
      );
    } finally {
      await page.emulateMedia({ reducedMotion: 'reduce' });
    }
  });

  it("takes its colours from VS Code's theme variables", async () => {
    await page.evaluate(() => {
      const style = document.documentElement.style;
      style.setProperty('--vscode-editor-background', '#1e1e1e');
      style.setProperty('--vscode-editor-foreground', '#d4d4d4');
      style.setProperty('--vscode-charts-blue', 'rgb(255, 0, 0)');
      style.setProperty('--vscode-charts-green', 'rgb(0, 200, 120)');
      style.setProperty('--vscode-charts-orange', 'rgb(250, 200, 0)');
      style.setProperty('--vscode-editorWidget-border', '#555555');
    });
    try {
      const id = await render({ op: 'conv_transpose', input: [3, 3], kernel: 3, stride: 2, view: 'direct' });
      await goTo(id, 12);
      const fill = await page.$eval(
        `${id} rect[data-kind="input"]:not(.cl-tap)`,
        (node) => getComputedStyle(node).fill,
      );
      assert.equal(fill, 'rgb(255, 0, 0)');
      const tap = await page.$eval(`${id} rect.cl-tap`, (node) => getComputedStyle(node).fill);
      assert.equal(tap, 'rgb(250, 200, 0)');
      await shot(id, 'dark-theme-conv-transpose-direct');
    } finally {
      await page.evaluate(() => document.documentElement.removeAttribute('style'));
    }
  });
});
