/**
 * The animation renderers inside a real VS Code: notebooks opened from disk (the runner's copy of examples/), whose
 * `application/vnd.conv-lens+json` outputs and ```conv-lens Markdown cells are drawn in the notebook's webview.
 * The renderers report what they drew over renderer messaging (`conv-lens.rendered`, see src/renderer/protocol.ts);
 * this suite listens on the same channels (vscode.notebooks.createRendererMessaging) and checks each report
 * against the core's timeline for the output's payload. Then it exports through the `convLens.exportAnimation`
 * command (SVG, PNG, animated SVG) and checks the files, and it checks that the Markdown preview's markdown-it
 * runs the ```conv-lens plugin and that the spec language is registered.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { ANIMATION_MIME } from '../../../src/core/animation/payload';
import { timelineFromSpec } from '../../../src/core/animation/spec';
import {
  type Timeline,
  frameCount,
  scatterGrid,
  sourceGrid,
  timelineFromPayload,
} from '../../../src/core/animation/timeline';
import {
  MARKDOWN_RENDERER_ID,
  OUTPUT_RENDERER_ID,
  type RenderedMessage,
  type WidgetSummary,
} from '../../../src/renderer/protocol';

const EXTENSION_ID = 'conv-lens.conv-lens';

function workspaceFile(...segments: string[]): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'No workspace folder is open; the runner opens a copy of examples/.');
  return vscode.Uri.joinPath(folder.uri, ...segments);
}

interface Received {
  readonly channel: string;
  readonly notebook: string;
  readonly message: RenderedMessage;
}

/** Every `conv-lens.rendered` report from both renderers, from before the first notebook opens. */
const received: Received[] = [];
const listeners: vscode.Disposable[] = [];

async function eventually<T>(probe: () => T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      assert.fail(
        `Timed out after ${timeoutMs / 1000} s waiting for ${what}. Reports so far:\n` +
          received.map((r) => `  ${r.channel} ${JSON.stringify(r.message).slice(0, 200)}`).join('\n'),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** What a widget drawing `t` in its first view reports: the view, frames, sizes and the cells of each grid. */
function expectedSummary(t: Timeline): Partial<WidgetSummary> {
  const view = t.initialView;
  const product = (sizes: readonly number[]): number => sizes.reduce((a, b) => a * b, 1);
  const output = product(t.outputSize);
  const cells: Record<string, number> =
    view === 'direct'
      ? { source: product(sourceGrid(t).sizes), output }
      : view === 'scatter'
        ? { input: product(t.inputSize), output: product(scatterGrid(t).sizes) }
        : {};
  return {
    call: t.call,
    view,
    views: [...t.views],
    frames: frameCount(t, view),
    inputSize: [...t.inputSize],
    outputSize: [...t.outputSize],
    cells,
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function pick(summary: WidgetSummary, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((key) => [key, (summary as unknown as Record<string, unknown>)[key]]));
}

async function openNotebook(uri: vscode.Uri): Promise<vscode.NotebookEditor> {
  const document = await vscode.workspace.openNotebookDocument(uri);
  assert.equal(document.notebookType, 'jupyter-notebook');
  return vscode.window.showNotebookDocument(document);
}

/** Scrolls cell `index` into view, so the webview renders it (outputs far below are rendered lazily). */
function reveal(editor: vscode.NotebookEditor, index: number): void {
  editor.revealRange(new vscode.NotebookRange(index, index + 1), vscode.NotebookEditorRevealType.InCenter);
}

function rendered(
  notebook: vscode.Uri,
  source: RenderedMessage['source'],
  test: (message: RenderedMessage) => boolean,
): RenderedMessage | undefined {
  return [...received]
    .reverse()
    .find((r) => r.notebook === notebook.toString() && r.message.source === source && test(r.message))
    ?.message;
}

describe('Animations in a real VS Code: notebook outputs, Markdown cells, exports, Markdown preview', function () {
  this.timeout(120_000);

  before(async () => {
    // Listening before any notebook opens: the renderers report each draw once.
    for (const id of [OUTPUT_RENDERER_ID, MARKDOWN_RENDERER_ID]) {
      const channel = vscode.notebooks.createRendererMessaging(id);
      listeners.push(
        channel.onDidReceiveMessage(({ editor, message }) => {
          const m = message as RenderedMessage;
          if (m && m.type === 'conv-lens.rendered') {
            received.push({ channel: id, notebook: editor.notebook.uri.toString(), message: m });
          }
        }),
      );
    }
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not loaded.`);
    await extension.activate();
  });

  after(async () => {
    for (const listener of listeners) listener.dispose();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('draws every application/vnd.conv-lens+json output of examples/notebooks/animations.ipynb', async () => {
    const uri = workspaceFile('notebooks', 'animations.ipynb');
    const editor = await openNotebook(uri);
    const outputs: Array<{ index: number; timeline: Timeline }> = [];
    for (const cell of editor.notebook.getCells()) {
      for (const output of cell.outputs) {
        for (const item of output.items) {
          if (item.mime !== ANIMATION_MIME) continue;
          const payload: unknown = JSON.parse(new TextDecoder().decode(item.data));
          const t = timelineFromPayload(payload);
          assert.ok(t.ok, `cell ${cell.index}: ${t.ok ? '' : t.error}`);
          outputs.push({ index: cell.index, timeline: t.value });
        }
      }
    }
    assert.equal(outputs.length, 4, 'the example notebook has four animation outputs');
    for (const { index, timeline } of outputs) {
      reveal(editor, index);
      const message = await eventually(
        () =>
          rendered(uri, 'output', (m) => m.ok && m.summary.call === timeline.call) as
            Extract<RenderedMessage, { ok: true }> | undefined,
        `the renderer to draw ${timeline.call} (cell ${index})`,
      );
      const expected = expectedSummary(timeline);
      assert.deepEqual(pick(message.summary, Object.keys(expected)), expected, timeline.call);
      assert.equal(message.summary.frame, 0);
    }
    // The transposed conv opens in the scatter view; the dilated 1-D conv carries its numbers.
    assert.deepEqual(
      outputs.map((o) => o.timeline.initialView),
      ['direct', 'scatter', 'direct', 'direct'],
    );
  });

  it('draws the ```conv-lens block of a Markdown cell', async () => {
    const uri = workspaceFile('notebooks', 'animations.ipynb');
    const editor = await openNotebook(uri);
    const cell = editor.notebook
      .getCells()
      .find(
        (c) => c.kind === vscode.NotebookCellKind.Markup && c.document.getText().includes('```conv-lens'),
      );
    assert.ok(cell, 'the example notebook has a Markdown cell with a ```conv-lens block');
    const block = /```conv-lens\n([\s\S]*?)```/.exec(cell.document.getText())![1]!;
    const t = timelineFromSpec(block);
    assert.ok(t.ok, t.ok ? '' : t.error);
    reveal(editor, cell.index);
    const message = await eventually(
      () =>
        rendered(uri, 'markdown', (m) => m.ok && m.summary.call === t.value.call) as
          Extract<RenderedMessage, { ok: true }> | undefined,
      'the Markdown renderer to draw the ```conv-lens block',
    );
    assert.match(message.outputId, /#0$/);
    const expected = expectedSummary(t.value);
    assert.deepEqual(pick(message.summary, Object.keys(expected)), expected);
    assert.deepEqual(message.summary.outputSize, [4, 4]);
  });

  it('shows the core message for an output or a block it cannot draw', async () => {
    const uri = workspaceFile('notebooks', 'conv-lens-bad.ipynb');
    const notebook = {
      cells: [
        {
          cell_type: 'markdown',
          id: 'bad-markdown',
          metadata: {},
          source: ['Bad block:\n', '\n', '```conv-lens\n', 'conv2d input=5x5\n', 'kernel=(3, 3\n', '```'],
        },
        {
          cell_type: 'code',
          execution_count: 1,
          id: 'bad-output',
          metadata: {},
          source: ['conv_lens(op="conv", input=[5, 5], kernal=3)'],
          outputs: [
            {
              output_type: 'display_data',
              metadata: {},
              data: {
                [ANIMATION_MIME]: { op: 'conv', input: [5, 5], kernal: 3 },
                'text/plain': ['Conv Lens animation'],
              },
            },
          ],
        },
      ],
      metadata: { language_info: { name: 'python' } },
      nbformat: 4,
      nbformat_minor: 5,
    };
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(JSON.stringify(notebook, null, 1)));
    try {
      await openNotebook(uri);
      const output = await eventually(
        () => rendered(uri, 'output', (m) => !m.ok),
        'the output renderer to report the bad payload',
      );
      assert.ok(!output.ok);
      assert.match(output.error, /^Unknown field "kernal"\. Did you mean "kernel"\?/);
      const block = await eventually(
        () => rendered(uri, 'markdown', (m) => !m.ok),
        'the Markdown renderer to report the bad block',
      );
      assert.ok(!block.ok);
      assert.equal(block.error, 'line 2: a bracket is not closed.');
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      await vscode.workspace.fs.delete(uri);
    }
  });

  it('exports an output as SVG, PNG and animated SVG through convLens.exportAnimation', async () => {
    const uri = workspaceFile('notebooks', 'animations.ipynb');
    const editor = await openNotebook(uri);
    const cell = editor.notebook
      .getCells()
      .find((c) => c.outputs.some((o) => o.items.some((i) => i.mime === ANIMATION_MIME)))!;
    const item = cell.outputs[0]!.items.find((i) => i.mime === ANIMATION_MIME)!;
    const t = timelineFromPayload(JSON.parse(new TextDecoder().decode(item.data)));
    assert.ok(t.ok);
    reveal(editor, cell.index);
    const drawn = await eventually(
      () =>
        rendered(uri, 'output', (m) => m.ok && m.summary.call === t.value.call) as
          Extract<RenderedMessage, { ok: true }> | undefined,
      'the first output to be drawn',
    );
    const folder = workspaceFile('exports');
    try {
      const exportAs = async (
        format: string,
        name: string,
        outputId = drawn.outputId,
      ): Promise<Uint8Array> => {
        const destination = vscode.Uri.joinPath(folder, name);
        const saved = await vscode.commands.executeCommand<string | undefined>('convLens.exportAnimation', {
          format,
          destination,
          outputId,
        });
        assert.equal(saved, destination.toString(), `the ${format} export was not saved`);
        return vscode.workspace.fs.readFile(destination);
      };
      const svg = new TextDecoder().decode(await exportAs('svg', 'frame.svg'));
      assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      // The notebook plays the animation, so the frame is whichever was on screen.
      assert.match(
        svg,
        new RegExp(
          `<title>${escapeRegExp(t.value.call)}: direct view, frame \\d+ of ${frameCount(t.value, 'direct')}</title>`,
        ),
      );
      for (const [grid, count] of Object.entries(drawn.summary.cells)) {
        assert.equal(
          svg.split(`data-grid="${grid}" data-pos=`).length - 1,
          count,
          `${grid} cells in the SVG`,
        );
      }
      const png = await exportAs('png', 'frame.png');
      assert.deepEqual(
        [...png.subarray(0, 8)],
        [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
        'PNG signature',
      );
      const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
      const width = /<svg width="(\d+)" height="(\d+)"/.exec(svg)!;
      assert.deepEqual(
        [view.getUint32(16), view.getUint32(20)],
        [Number(width[1]) * 2, Number(width[2]) * 2],
      );
      const animated = new TextDecoder().decode(await exportAs('animated-svg', 'animated.svg'));
      assert.match(animated, /^<svg/);
      assert.match(
        animated,
        /<animate attributeName="fill" dur="[\d.]+s" repeatCount="indefinite" calcMode="discrete"/,
      );
      assert.ok(animated.includes(`${frameCount(t.value, 'direct')} frames at 2 per second`));
      // The Markdown cell's block answers the same command, by its `<cell id>#<index>` id.
      const markdownCell = editor.notebook
        .getCells()
        .find(
          (c) => c.kind === vscode.NotebookCellKind.Markup && c.document.getText().includes('```conv-lens'),
        )!;
      reveal(editor, markdownCell.index);
      const block = await eventually(
        () => rendered(uri, 'markdown', (m) => m.ok) as Extract<RenderedMessage, { ok: true }> | undefined,
        'the Markdown block to be drawn',
      );
      const blockSvg = new TextDecoder().decode(await exportAs('svg', 'block.svg', block.outputId));
      assert.ok(blockSvg.includes(`<title>${block.summary.call}:`), 'the block export shows the block');
    } finally {
      await vscode.workspace.fs.delete(folder, { recursive: true }).then(undefined, () => undefined);
    }
  });

  it('says so when there is nothing to export', async () => {
    const saved = await vscode.commands.executeCommand<string | undefined>('convLens.exportAnimation', {
      format: 'svg',
      destination: workspaceFile('exports', 'none.svg'),
      outputId: 'no-such-output',
    });
    assert.equal(saved, undefined);
  });

  it("runs the ```conv-lens plugin in the Markdown preview's markdown-it", async () => {
    const html = await vscode.commands.executeCommand<string>(
      'markdown.api.render',
      '# Title\n\n```conv-lens\nconv2d input=6x6 kernel=3 stride=2 padding=1\n```\n\n```conv-lens\nconv2d kernal=3\n```\n',
    );
    assert.equal(typeof html, 'string');
    const valid =
      /<div class="conv-lens-block code-line[^"]*" data-conv-lens-payload="([^"]*)"[^>]*data-line="2"/.exec(
        html,
      );
    assert.ok(valid, `No conv-lens placeholder in the preview's HTML:\n${html}`);
    const payload = JSON.parse(valid[1]!.replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as unknown;
    assert.deepEqual(payload, { op: 'conv2d', input: [6, 6], kernel: 3, stride: 2, padding: 1 });
    assert.match(html, /class="conv-lens-block conv-lens-invalid[^"]*" role="alert"/);
    assert.match(html, /Unknown field &quot;kernal&quot;/);
    // The preview script that mounts the widgets is contributed and built.
    const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
    const manifest = extension.packageJSON as { contributes: Record<string, unknown> };
    const scripts = manifest.contributes['markdown.previewScripts'] as string[];
    assert.deepEqual(scripts, ['./dist/markdownPreview.js']);
    const script = await vscode.workspace.fs.readFile(
      vscode.Uri.joinPath(extension.extensionUri, scripts[0]!),
    );
    assert.ok(new TextDecoder().decode(script).includes('vscode.markdown.updateContent'));
  });

  it('registers the conv-lens language for .convlens files', async () => {
    assert.ok((await vscode.languages.getLanguages()).includes('conv-lens'));
    const uri = workspaceFile('layer.convlens');
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode('conv2d input=5x5 kernel=3\n'));
    try {
      const document = await vscode.workspace.openTextDocument(uri);
      assert.equal(document.languageId, 'conv-lens');
    } finally {
      await vscode.workspace.fs.delete(uri);
    }
  });
});
