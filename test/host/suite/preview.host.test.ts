/**
 * The preview panel in a real VS Code: the hover on a DCGAN layer links to it, the `convLens.openPreview`
 * command opens it for that layer (the argument a hover link passes), the layer's parameters reach the page,
 * and a `run` round trip through the typed protocol brings back a result equal to the CPU engine's on the same
 * input. The workspace is the runner's copy of examples/.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { createCpuEngine } from '../../../src/core/engine/cpu';
import type { PreviewHandle } from '../../../src/extension/previewPanel';
import { generatePattern } from '../../../src/webview/preview/patterns';
import { runStack } from '../../../src/webview/preview/stack';

function workspaceFile(...segments: string[]): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'No workspace folder is open; the runner opens a copy of examples/.');
  return vscode.Uri.joinPath(folder.uri, ...segments);
}

function withTimeout<T>(promise: Promise<T>, what: string, ms = 60_000): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`Timed out after ${ms / 1000} s: ${what}.`)), ms),
    ),
  ]);
}

describe('Preview panel in a real VS Code', function () {
  this.timeout(120_000);
  let dcgan: vscode.TextDocument;
  let offset: number;

  before(async () => {
    dcgan = await vscode.workspace.openTextDocument(workspaceFile('pytorch', 'dcgan.py'));
    await vscode.window.showTextDocument(dcgan);
    offset = dcgan.getText().indexOf('nn.ConvTranspose2d(ngf * 8');
    assert.ok(offset >= 0, 'dcgan.py no longer has nn.ConvTranspose2d(ngf * 8, …).');
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('links to the preview from a convolution layer’s hover', async () => {
    const position = dcgan.positionAt(offset + 5);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      dcgan.uri,
      position,
    );
    const text = (hovers ?? [])
      .flatMap((hover) => hover.contents)
      .map((content) => (typeof content === 'string' ? content : content.value))
      .join('\n');
    assert.match(text, /\[Preview this layer\]\(command:convLens\.openPreview\?/);
    const args = JSON.parse(decodeURIComponent(/openPreview\?([^)]*)\)/.exec(text)![1]!)) as unknown[];
    assert.deepEqual(args, [{ uri: dcgan.uri.toString(), offset }]);
  });

  it('opens for a DCGAN layer, receives its parameters and answers a run with the CPU engine’s result', async () => {
    const handle = await vscode.commands.executeCommand<PreviewHandle>('convLens.openPreview', {
      uri: dcgan.uri.toString(),
      offset,
    });
    assert.ok(handle, 'convLens.openPreview returned nothing.');
    assert.ok(handle.layer, `No layer was read: ${handle.notes.join(' ')}`);
    assert.equal(handle.layer.op, 'conv_transpose');
    assert.deepEqual(handle.layer.kernel, [4, 4]);
    assert.deepEqual(handle.layer.stride, [2, 2]);
    assert.deepEqual(handle.layer.padding, [1, 1]);
    assert.equal(handle.layer.outChannels, 256, 'out_channels (ngf * 4) should come from the weight shape');
    assert.match(handle.layer.label, /nn\.ConvTranspose2d \(dcgan\.py:\d+\)/);
    await withTimeout(handle.ready, 'the preview page to load');

    const answer = await withTimeout(
      handle.run({
        engine: 'cpu',
        input: { pattern: 'checkerboard', size: 16 },
        preset: 'bilinear',
        includeValues: true,
      }),
      'the preview to answer a run',
    );
    assert.equal(answer.type, 'result', answer.type === 'error' ? answer.message : '');
    if (answer.type !== 'result') return;
    // The parameters the page ran with are the layer's.
    assert.deepEqual(answer.layers, [handle.layer]);
    assert.equal(answer.engine, 'cpu');
    assert.deepEqual(answer.inputShape, [1, 1, 16, 16]);
    assert.deepEqual(answer.outputShapes, [[1, 1, 32, 32]]);
    const expected = await runStack(
      createCpuEngine({ precision: 'float64' }).run,
      answer.layers,
      generatePattern('checkerboard', 16),
      'bilinear',
      1,
    );
    assert.ok(expected.ok);
    const wanted = expected.value[0]!.y;
    const worst = wanted.reduce((most, value, i) => Math.max(most, Math.abs(value - answer.values![i]!)), 0);
    assert.ok(worst < 1e-5, `The panel's output differs from the CPU engine's by up to ${worst}.`);
  });

  it('opens from the command palette on the layer under the cursor', async () => {
    const editor = await vscode.window.showTextDocument(dcgan, vscode.ViewColumn.One);
    const conv = dcgan.getText().indexOf('nn.Conv2d(nc, ndf, 4, 2, 1');
    editor.selection = new vscode.Selection(dcgan.positionAt(conv + 4), dcgan.positionAt(conv + 4));
    const handle = await vscode.commands.executeCommand<PreviewHandle>('convLens.openPreview');
    assert.ok(handle.layer, `No layer under the cursor: ${handle.notes.join(' ')}`);
    assert.equal(handle.layer.op, 'conv');
    assert.deepEqual(handle.layer.kernel, [4, 4]);
    assert.equal(handle.layer.outChannels, 64);
    await withTimeout(handle.ready, 'the preview page');
    const answer = await withTimeout(
      handle.run({ input: { pattern: 'shapes', size: 32 }, preset: 'sobel-x' }),
      'a run on the automatic engine',
    );
    assert.equal(answer.type, 'result', answer.type === 'error' ? answer.message : '');
    if (answer.type === 'result') assert.deepEqual(answer.outputShapes, [[1, 3, 16, 16]]);
  });

  it('puts a “Preview this layer” CodeLens above each DCGAN convolution, with the hover link’s argument', async () => {
    const text = dcgan.getText();
    const wanted = (name: string) =>
      [...text.matchAll(new RegExp(`nn\\.${name}\\(`, 'g'))].map((match) => match.index);
    const transposed = wanted('ConvTranspose2d');
    assert.equal(transposed.length, 5, 'dcgan.py should have five nn.ConvTranspose2d layers');
    const lensesOf = async () =>
      (
        (await vscode.commands.executeCommand<vscode.CodeLens[]>(
          'vscode.executeCodeLensProvider',
          dcgan.uri,
        )) ?? []
      ).filter((lens) => lens.command?.command === 'convLens.openPreview');
    const lenses = await lensesOf();
    const offsets = lenses.map((lens) => {
      assert.equal(lens.command!.title, 'Preview this layer');
      const [arg] = lens.command!.arguments as [{ uri: string; offset: number }];
      assert.equal(arg.uri, dcgan.uri.toString());
      assert.equal(dcgan.positionAt(arg.offset).line, lens.range.start.line);
      return arg.offset;
    });
    for (const at of [...transposed, ...wanted('Conv2d')]) {
      assert.ok(offsets.includes(at), `no lens for the layer on line ${dcgan.positionAt(at).line + 1}`);
    }
    assert.ok(offsets.includes(offset), 'no lens with the argument the hover link passes');

    const config = vscode.workspace.getConfiguration('convLens');
    await config.update('codeLens.enabled', false, vscode.ConfigurationTarget.Global);
    try {
      assert.deepEqual(await lensesOf(), [], 'convLens.codeLens.enabled = false should hide the lenses');
    } finally {
      await config.update('codeLens.enabled', undefined, vscode.ConfigurationTarget.Global);
    }
    assert.equal((await lensesOf()).length, lenses.length);
  });

  it('lists the workspace’s images and runs on one the panel decoded', async () => {
    const handle = await vscode.commands.executeCommand<PreviewHandle>('convLens.openPreview', {
      uri: dcgan.uri.toString(),
      offset,
    });
    await withTimeout(handle.ready, 'the preview page');
    const { files } = await handle.images();
    assert.ok(files.includes('images/sample.png'), `images listed: ${files.join(', ')}`);
    const loaded = await withTimeout(handle.loadImage('images/sample.png'), 'the panel to decode the image');
    assert.equal(loaded.type, 'imageLoaded', loaded.type === 'error' ? loaded.message : '');
    assert.deepEqual(loaded, {
      type: 'imageLoaded',
      id: (loaded as { id: number }).id,
      name: 'images/sample.png',
      width: 48,
      height: 32,
    });
    const answer = await withTimeout(handle.run({ engine: 'cpu' }), 'a run on the image');
    assert.equal(answer.type, 'result', answer.type === 'error' ? answer.message : '');
    // A transposed conv previews at size 16: the 48×32 picture becomes 16×11, three channels.
    if (answer.type === 'result') {
      assert.deepEqual(answer.inputShape, [1, 3, 11, 16]);
      assert.deepEqual(answer.outputShapes, [[1, 3, 22, 32]]);
    }
    const missing = await withTimeout(handle.loadImage('../outside.png'), 'an answer for a file not listed');
    assert.equal(missing.type, 'error');
    assert.match(missing.type === 'error' ? missing.message : '', /not one of the workspace's images/);
  });
});
