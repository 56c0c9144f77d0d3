#!/usr/bin/env node
// `npm run capture:readme`: the README's pictures, taken from real runs so that they show what the code does today.
//
//   1. The notebook renderer (dist/renderer.js, built by `node esbuild.js`) in headless Chromium, hosted by
//      test/browser/harness.html exactly as the renderer tests host it: an animated SVG of a transposed conv's
//      scatter view, made by the renderer's own "Animated SVG (all frames)" export, and PNG stills of the widget
//      in the matrix view and in the direct view.
//   2. VS Code (code-server, started the way `npm start` starts it, with the extension packaged as a .vsix and
//      installed into a throwaway profile) with examples/pytorch/unet.py open: the Conv Lens hover on a
//      ConvTranspose2d constructor, and the inlay hints in UNet.forward. Playwright moves the mouse and presses
//      keys as a person would; the screenshots are cropped to the editor.
//
// Everything goes to media/readme/ (overwritten on each run). Each file is checked against a size budget, so
// the README stays light.
//   npm run capture:readme                      build, then take every picture
//   npm run capture:readme -- --no-build        reuse dist/ as it is
//   npm run capture:readme -- --only renderer   only the renderer pictures (or: --only vscode)
// The functions handed to page.evaluate() run in the browser page, where these exist:
/* global window, document, NodeFilter */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createSandbox,
  delay,
  freePort,
  launchChromium,
  startCodeServer,
  USER_SETTINGS,
} from '../test/host/codeServer.mjs';
import { ensureToolchain } from '../test/host/toolchain.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'media', 'readme');
/** Largest file we commit for the README; GitHub shows bigger ones, but the repository would carry them forever. */
const MAX_BYTES = 300 * 1024;

const argv = process.argv.slice(2);
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : null;
if (only !== null && only !== 'renderer' && only !== 'vscode') {
  console.error(`--only takes "renderer" or "vscode", not ${JSON.stringify(only)}.`);
  process.exit(2);
}

const note = (line) => console.log(`[capture] ${line}`);

function step(command, args, what, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], ...options });
  if (result.error || result.status !== 0) {
    throw new Error(`${what} failed (${result.error?.message ?? `exit ${result.status}`}).`);
  }
}

/** Writes one picture into media/readme/ and refuses one over the budget, naming what to change. */
function save(name, data) {
  const file = path.join(outDir, name);
  fs.writeFileSync(file, data);
  const size = fs.statSync(file).size;
  note(`${path.relative(root, file)}: ${(size / 1024).toFixed(1)} KB`);
  if (size > MAX_BYTES) {
    throw new Error(
      `${name} is ${(size / 1024).toFixed(0)} KB, over the ${MAX_BYTES / 1024} KB budget: draw a smaller ` +
        `example or crop it tighter.`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 1. The notebook renderer.

/** The payloads drawn, as a notebook cell would display them (MIME application/vnd.conv-lens+json). */
const RENDERER_SHOTS = {
  /** Exported as an animated SVG: every input cell stamps the kernel onto the output, counts add up. */
  animated: {
    file: 'renderer-conv-transpose-scatter.svg',
    payload: {
      op: 'conv_transpose',
      input: [4, 4],
      kernel: 3,
      stride: 2,
      padding: 1,
      output_padding: 1,
      view: 'scatter',
    },
  },
  /**
   * A still of the matrix view: a 3×3 conv on a 4×4 input as the 4×16 matrix C (Dumoulin & Visin, section 4.1),
   * with the pointer on one weight of the current row, so the x and y cells it connects are outlined.
   */
  matrix: {
    file: 'renderer-conv-matrix.png',
    payload: { op: 'conv', input: [4, 4], kernel: 3, view: 'matrix' },
    frame: 1,
    hover: 'rect[data-grid="matrix"][data-pos="1,6"]',
  },
  /** A still of the direct view of a conv with padding and stride (Dumoulin & Visin, figure 2.6). */
  direct: {
    file: 'renderer-conv-direct.png',
    payload: { op: 'conv', input: [5, 5], kernel: 3, stride: 2, padding: 1, view: 'direct' },
    frame: 4,
  },
};

/**
 * Serves test/browser/harness.html (the page that stands in for VS Code's output webview) and the built
 * dist/renderer.js next to it, on 127.0.0.1.
 */
async function serveHarness() {
  const files = {
    '/': ['test/browser/harness.html', 'text/html'],
    '/renderer.js': ['dist/renderer.js', 'text/javascript'],
  };
  const server = http.createServer((request, response) => {
    const entry = files[(request.url ?? '/').split('?')[0]];
    if (!entry) {
      response.writeHead(404).end();
      return;
    }
    response
      .writeHead(200, { 'content-type': `${entry[1]}; charset=utf-8` })
      .end(fs.readFileSync(path.join(root, entry[0])));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((r) => server.close(r)),
  };
}

async function captureRenderer(toolchain) {
  const harness = await serveHarness();
  const browser = await launchChromium(toolchain, process.env);
  try {
    // Twice the pixels of the screen, so the stills stay sharp on high-density displays.
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 2 });
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    // Widgets start paused under reduced motion, so each still shows the frame asked for.
    await page.emulateMedia({ reducedMotion: 'reduce' });
    await page.goto(harness.url);
    await page.waitForFunction(() => window.convLensReady === true, null, { timeout: 30_000 });

    const render = async (payload) => {
      // The pointer stays away from the drawing unless a shot asks for a hover.
      await page.mouse.move(0, 0);
      await page.evaluate(() => window.convLens.clear());
      const id = await page.evaluate((p) => window.convLens.render(p), payload);
      await page.waitForSelector(`#${id} .cl-stage svg`, { timeout: 10_000 });
      return `#${id}`;
    };
    const goTo = async (id, frame) => {
      // Moves the scrubber as a user dragging it would.
      await page.$eval(
        `${id} .cl-scrub`,
        (node, f) => {
          node.value = String(f);
          node.dispatchEvent(new Event('input', { bubbles: true }));
        },
        frame,
      );
      const shown = await page.getAttribute(`${id} .cl-anim`, 'data-frame');
      if (shown !== String(frame)) throw new Error(`The widget shows frame ${shown}, not ${frame}.`);
    };
    const messages = (type) =>
      page.evaluate((t) => window.convLens.messages.filter((message) => message.type === t), type);

    // The animated export, through the toolbar's own export button, as a user would make it.
    {
      const { file, payload } = RENDERER_SHOTS.animated;
      const id = await render(payload);
      const view = await page.getAttribute(`${id} .cl-anim`, 'data-view');
      if (view !== 'scatter') throw new Error(`The transposed conv opened in the ${view} view, not scatter.`);
      const before = (await messages('conv-lens.exportImage')).length;
      await page.selectOption(`${id} .cl-export-format`, 'animated-svg');
      await page.click(`${id} .cl-export`);
      await page.waitForFunction(
        (n) => window.convLens.messages.filter((m) => m.type === 'conv-lens.exportImage').length > n,
        before,
        { timeout: 30_000 },
      );
      const message = (await messages('conv-lens.exportImage'))[before];
      if (message.format !== 'animated-svg' || !/^<svg[^>]*xmlns=/.test(message.data)) {
        throw new Error(`The export is not an animated SVG (${message.format}, ${message.fileName}).`);
      }
      save(file, message.data);
    }

    // Stills of the widget as it sits in a notebook cell: title, toolbar, drawing, formulas and legend.
    for (const shot of [RENDERER_SHOTS.matrix, RENDERER_SHOTS.direct]) {
      const id = await render(shot.payload);
      await goTo(id, shot.frame);
      if (shot.hover) await page.hover(`${id} ${shot.hover}`);
      save(shot.file, await page.locator(`${id} .cl-anim`).screenshot({ animations: 'disabled' }));
    }
    if (errors.length > 0) throw new Error(`The renderer page reported errors: ${errors.join('; ')}`);
  } finally {
    await browser.close();
    await harness.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 2. VS Code.

async function captureVsCode(toolchain) {
  const sandbox = createSandbox('conv-lens-readme-');
  // The workbench as a person would set it up for a screenshot: larger text, no minimap, hovers without delay.
  fs.writeFileSync(
    path.join(sandbox.userDataDir, 'User', 'settings.json'),
    JSON.stringify(
      {
        ...USER_SETTINGS,
        'editor.fontSize': 15,
        'editor.minimap.enabled': false,
        'editor.hover.delay': 100,
        'editor.hover.sticky': true,
        'workbench.activityBar.location': 'hidden',
        'window.commandCenter': false,
        'workbench.layoutControl.enabled': false,
        'editor.stickyScroll.enabled': false,
      },
      null,
      2,
    ),
  );
  let server;
  let browser;
  const logFile = path.join(sandbox.dir, 'code-server.log');
  try {
    // The same .vsix `npm start` installs (scripts/start.mjs).
    note('Packaging and installing the extension…');
    const vsix = path.join(sandbox.dir, 'conv-lens.vsix');
    const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
    step(
      process.execPath,
      [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', vsix],
      'Packaging with vsce',
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    step(
      toolchain.node,
      [
        toolchain.codeServer,
        '--user-data-dir',
        sandbox.userDataDir,
        '--extensions-dir',
        sandbox.extensionsDir,
        '--config',
        sandbox.config,
        '--install-extension',
        vsix,
        '--force',
      ],
      'Installing the .vsix into code-server',
      { env: sandbox.env, stdio: ['ignore', 'ignore', 'inherit'] },
    );

    const port = await freePort();
    server = await startCodeServer({
      toolchain,
      port,
      env: sandbox.env,
      userDataDir: sandbox.userDataDir,
      extensionsDir: sandbox.extensionsDir,
      config: sandbox.config,
      logFile,
    });
    browser = await launchChromium(toolchain, sandbox.env);
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 });
    const examples = path.join(root, 'examples');
    await page.goto(`${server.url}/?folder=${encodeURIComponent(examples).replace(/%2F/g, '/')}`);
    await page.waitForSelector('.monaco-workbench .part.editor', { timeout: 90_000 });
    await delay(3_000);

    // Quick Open, as a person would open the file.
    note('Opening pytorch/unet.py…');
    await page.keyboard.press('Control+P');
    await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 20_000 });
    await page.keyboard.type('unet.py', { delay: 30 });
    await delay(1_000);
    await page.keyboard.press('Enter');
    await page.waitForSelector('.monaco-editor .view-line', { timeout: 30_000 });
    await delay(1_000);

    // The extension is ready when its inlay hints are drawn (the first hint is in DoubleConv.forward).
    const viewText = () =>
      page.evaluate(() => document.querySelector('.monaco-editor .view-lines')?.textContent ?? '');
    const deadline = Date.now() + 60_000;
    while (!/→\s\(/.test(await viewText())) {
      if (Date.now() > deadline)
        throw new Error(`No Conv Lens inlay hint appeared in unet.py; see ${logFile}.`);
      await delay(250);
    }
    // The sidebar off, so the editor has the width.
    await page.keyboard.press('Control+B');
    await delay(500);
    const editorBox = async () => {
      const box = await page.locator('.part.editor').boundingBox();
      if (!box) throw new Error('The editor area is not on the page.');
      return box;
    };
    /** The box of line `line` on screen (its line number), or null when it is scrolled out of view. */
    const lineBox = (line) =>
      page.evaluate((n) => {
        const number = [...document.querySelectorAll('.monaco-editor .line-numbers')].find(
          (node) => node.textContent.trim() === String(n),
        );
        if (!number) return null;
        const { x, y, width, height } = number.getBoundingClientRect();
        return { x, y, width, height };
      }, line);
    /**
     * Scrolls so that line `line` is the first line of the editor: to the top of the file, then down one line at a
     * time (Ctrl+Down, Scroll Line Down), which keeps the lines aligned to the top edge as a mouse wheel would not.
     */
    const scrollToTop = async (line) => {
      await page.keyboard.press('Control+Home');
      for (let i = 1; i < line; i++) await page.keyboard.press('Control+ArrowDown');
      await delay(400);
      const content = await page.locator('.part.editor .monaco-editor').first().boundingBox();
      const box = await lineBox(line);
      if (!box || Math.abs(box.y - content.y) > 2) {
        throw new Error(`Could not scroll line ${line} of unet.py to the top of the editor.`);
      }
    };
    /** Where `word` is drawn in the first line that contains `line` (Monaco draws a line as a few spans). */
    const wordBox = (line, word) =>
      page.evaluate(
        ([l, w]) => {
          const node = [...document.querySelectorAll('.monaco-editor .view-line')].find((n) =>
            n.textContent.replace(/\u00a0/g, ' ').includes(l),
          );
          if (!node) return null;
          const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
          for (let text = walker.nextNode(); text; text = walker.nextNode()) {
            const at = text.data.indexOf(w);
            if (at < 0) continue;
            const range = document.createRange();
            range.setStart(text, at);
            range.setEnd(text, at + w.length);
            const { x, y, width, height } = range.getBoundingClientRect();
            return { x, y, width, height };
          }
          return null;
        },
        [line, word],
      );

    // 2a. The hover on the ConvTranspose2d constructor in Up.__init__, with room above it for the hover.
    note('Hovering ConvTranspose2d…');
    await scrollToTop(22);
    const word = await wordBox('self.up = nn.ConvTranspose2d', 'ConvTranspose2d');
    if (!word) throw new Error('ConvTranspose2d is not on screen in unet.py.');
    const wordX = word.x + word.width / 2;
    await page.mouse.move(wordX, word.y + word.height / 2, { steps: 5 });
    const hover = page.locator('.monaco-resizable-hover').filter({ hasText: 'ConvTranspose2d' }).first();
    await hover.waitFor({ state: 'visible', timeout: 20_000 });
    await delay(800);
    // VS Code caps a hover's height at a quarter of the editor (at least 250 px) and scrolls the rest; a person
    // drags its edge to see it whole, and so does this: the free edge (north when the hover sits above the word).
    const overflow = await hover.evaluate((node) => {
      const contents = node.querySelector('.monaco-hover-content');
      const scroller =
        node.querySelector('.monaco-scrollable-element') ?? node.querySelector('.monaco-hover');
      return contents.scrollHeight - scroller.clientHeight;
    });
    if (overflow > 0) {
      const north = hover.locator('.monaco-sash.orthogonal-edge-north:not(.disabled)');
      const edge = (await north.count()) > 0 ? north : hover.locator('.monaco-sash.orthogonal-edge-south');
      const box = await edge.first().boundingBox();
      const sign = (await north.count()) > 0 ? -1 : 1;
      const y = box.y + box.height / 2;
      // Straight up (or down) from the word, over the sticky hover, to its edge; then drag.
      await page.mouse.move(wordX, y, { steps: 10 });
      await page.mouse.down();
      await page.mouse.move(wordX, y + sign * (overflow + 12), { steps: 10 });
      await page.mouse.up();
      await delay(500);
    }
    if (!(await hover.isVisible())) throw new Error('The hover closed while it was being enlarged.');
    // Cropped below line 60, the end of class Up.
    const hoverArea = await editorBox();
    const end = await lineBox(60);
    if (!end) throw new Error('Line 60 of unet.py is not on screen.');
    save(
      'vscode-hover-conv-transpose.png',
      await page.screenshot({ clip: { ...hoverArea, height: end.y + end.height - hoverArea.y } }),
    );

    // 2b. The inlay hints in UNet.forward: class UNet at the top, cropped just below the end of the file.
    note('Showing the inlay hints…');
    await page.mouse.move(5, 5);
    await page.keyboard.press('Escape');
    await scrollToTop(62);
    await page.mouse.move(5, 5);
    await delay(800);
    const area = await editorBox();
    const last = await lineBox(93);
    if (!last) throw new Error('Line 93 of unet.py is not on screen.');
    const height = Math.min(area.height, last.y + last.height + 2 - area.y);
    save('vscode-inlay-hints.png', await page.screenshot({ clip: { ...area, height } }));
  } finally {
    await browser?.close();
    await server?.stop();
    if (process.env.CONV_LENS_CAPTURE_KEEP === '1') note(`Kept ${sandbox.dir}.`);
    else fs.rmSync(sandbox.dir, { recursive: true, force: true });
  }
}

async function main() {
  if (!argv.includes('--no-build')) {
    note('Building the extension…');
    step(process.execPath, ['esbuild.js'], 'node esbuild.js');
  }
  const toolchain = ensureToolchain({ log: note });
  fs.mkdirSync(outDir, { recursive: true });
  if (only !== 'vscode') await captureRenderer(toolchain);
  if (only !== 'renderer') await captureVsCode(toolchain);
  note(`Done: the pictures are in ${path.relative(root, outDir)}/.`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
