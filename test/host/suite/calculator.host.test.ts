/**
 * "Conv Lens: Shape Calculator" in the real host: driven with an argument object (forward, insertion, inverse),
 * and once through its own quick input, accepted step by step with the workbench's quick-input commands.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const COMMAND = 'convLens.shapeCalculator';
const STATE = 'convLens.shapeCalculator.state';

interface ForwardResult {
  mode: 'forward';
  layer: string;
  code: string;
  output: number[];
  outputText: string;
  formulas: string[];
  params: number;
  inserted: string | null;
  error?: string;
}

interface InverseSetting {
  framework: string;
  via: string;
  reachable: boolean;
  code: string | null;
  reason: string | null;
}

interface InverseResult {
  mode: 'inverse';
  settings: InverseSetting[];
  inserted: string | null;
  error?: string;
}

interface QuickState {
  step: string;
  title: string;
  value: string;
  items: string[];
  active: string | null;
  validation: string | null;
}

async function activate(): Promise<void> {
  const extension = vscode.extensions.all.find((candidate) => candidate.packageJSON?.name === 'conv-lens');
  assert.ok(extension, 'The Conv Lens extension is not loaded.');
  await extension.activate();
}

async function untitledPython(content: string): Promise<vscode.TextEditor> {
  const document = await vscode.workspace.openTextDocument({ language: 'python', content });
  return vscode.window.showTextDocument(document);
}

/** Waits until the calculator's quick input shows `step`, and returns what it shows. */
async function waitForStep(step: string): Promise<QuickState> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const state = await vscode.commands.executeCommand<QuickState | null>(STATE);
    if (state?.step === step) return state;
    if (Date.now() > deadline)
      assert.fail(`The calculator never showed the '${step}' step (last: ${JSON.stringify(state)}).`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('Shape calculator', () => {
  before(activate);

  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('answers the DCGAN upsampling layer with its shape and formula', async () => {
    const result = await vscode.commands.executeCommand<ForwardResult>(COMMAND, {
      mode: 'forward',
      framework: 'pytorch',
      layer: 'convTranspose2d',
      params: '64, 32, kernel_size=4, stride=2, padding=1',
      input: '1, 64, 16, 16',
    });
    assert.equal(result.error, undefined, result.error);
    assert.deepEqual(result.output, [1, 32, 32, 32]);
    assert.equal(result.layer, 'torch.nn.ConvTranspose2d');
    assert.ok(result.formulas.includes('H_out = 2·H_in'), result.formulas.join('\n'));
    assert.equal(result.code, 'nn.ConvTranspose2d(64, 32, kernel_size=4, stride=2, padding=1)');
    assert.equal(result.params, 64 * 32 * 16 + 32);
  });

  it('writes the same layer in Keras, Flax and ONNX syntax', async () => {
    const cases = [
      {
        framework: 'keras',
        params: "32, 4, strides=2, padding='same'",
        input: [1, 16, 16, 64],
        code: "layers.Conv2DTranspose(32, 4, strides=2, padding='same')",
      },
      {
        framework: 'flax',
        params: "features=32, kernel_size=(4, 4), strides=(2, 2), padding='SAME'",
        input: [1, 16, 16, 64],
        code: "nn.ConvTranspose(features=32, kernel_size=(4, 4), strides=(2, 2), padding='SAME')",
      },
      {
        framework: 'onnx',
        params: { out_channels: 32, kernel_shape: [4, 4], strides: [2, 2], pads: [1, 1, 1, 1] },
        input: [1, 64, 16, 16],
        code: "helper.make_node('ConvTranspose', ['X', 'W'], ['Y'], kernel_shape=[4, 4], strides=[2, 2], pads=[1, 1, 1, 1])  # W: (64, 32, 4, 4)",
      },
    ];
    for (const c of cases) {
      const result = await vscode.commands.executeCommand<ForwardResult>(COMMAND, {
        framework: c.framework,
        layer: 'convTranspose2d',
        params: c.params,
        input: c.input,
      });
      assert.equal(result.error, undefined, `${c.framework}: ${result.error}`);
      assert.equal(result.code, c.code);
      assert.ok(result.formulas.includes('H_out = 2·H_in'), `${c.framework}: ${result.formulas.join(', ')}`);
    }
  });

  it('explains a wrong parameter in the core words instead of throwing', async () => {
    const result = await vscode.commands.executeCommand<ForwardResult>(COMMAND, {
      framework: 'pytorch',
      layer: 'convTranspose2d',
      params: 'kernel_size=4, stride=2, output_padding=2',
      input: '1, 64, 16, 16',
    });
    assert.ok(result.error?.includes('output_padding'), JSON.stringify(result));
  });

  it('inserts the layer at the cursor of an open Python document, with its indentation', async () => {
    const editor = await untitledPython(
      'class Up(nn.Module):\n    def __init__(self):\n        self.up = \n',
    );
    editor.selection = new vscode.Selection(2, 18, 2, 18);
    const result = await vscode.commands.executeCommand<ForwardResult>(COMMAND, {
      framework: 'pytorch',
      layer: 'convTranspose2d',
      params: '64, 32, kernel_size=4, stride=2, padding=1',
      input: [1, 64, 16, 16],
      insert: true,
    });
    assert.equal(result.inserted, 'nn.ConvTranspose2d(64, 32, kernel_size=4, stride=2, padding=1)');
    assert.equal(
      editor.document.lineAt(2).text,
      '        self.up = nn.ConvTranspose2d(64, 32, kernel_size=4, stride=2, padding=1)',
    );
  });

  it('answers 37 → 75 in every framework and inserts a two-line answer indented', async () => {
    const result = await vscode.commands.executeCommand<InverseResult>(COMMAND, {
      mode: 'inverse',
      target: '37x37 -> 75x75',
    });
    assert.equal(result.error, undefined, result.error);
    const reachable = result.settings.filter((setting) => setting.reachable);
    const has = (framework: string, via: string) =>
      reachable.some((setting) => setting.framework === framework && setting.via === via);
    assert.ok(has('pytorch', 'output_padding'), JSON.stringify(reachable, null, 1));
    assert.ok(has('pytorch', 'forward(x, output_size=...)'));
    for (const framework of ['keras', 'tensorflow', 'onnx', 'flax']) {
      assert.ok(
        reachable.some((setting) => setting.framework === framework),
        `No ${framework} answer in ${JSON.stringify(result.settings, null, 1)}`,
      );
    }
    const outputSize = reachable.find((s) => s.via === 'forward(x, output_size=...)')!;
    assert.ok(outputSize.code!.includes('output_size=[75, 75]'));

    // With kernel 4 and stride 2 fixed, PyTorch needs output_padding=1; Keras cannot, and says why.
    const fixed = await vscode.commands.executeCommand<InverseResult>(COMMAND, {
      mode: 'inverse',
      target: '37x37 -> 75x75',
      params: 'kernel_size=4, stride=2, padding=1',
    });
    const torch = fixed.settings.find((s) => s.framework === 'pytorch' && s.via === 'output_padding');
    assert.equal(
      torch?.code,
      'nn.ConvTranspose2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1, output_padding=1)',
    );
    assert.ok(fixed.settings.some((s) => s.framework === 'keras' && !s.reachable && s.reason));

    const editor = await untitledPython('def forward(self, x):\n    \n');
    editor.selection = new vscode.Selection(1, 4, 1, 4);
    const inserted = await vscode.commands.executeCommand<InverseResult>(COMMAND, {
      mode: 'inverse',
      target: '37x37 -> 75x75',
      params: { kernel_size: 4, stride: 2, padding: 1 },
      framework: 'pytorch',
      via: 'forward(x, output_size=...)',
      insert: true,
    });
    assert.equal(inserted.error, undefined, inserted.error);
    assert.equal(
      editor.document.getText(),
      'def forward(self, x):\n' +
        '    deconv = nn.ConvTranspose2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1)\n' +
        '    y = deconv(x, output_size=[75, 75])\n',
    );
  });

  it('runs the interactive flow: each step accepted through the quick input', async () => {
    const editor = await untitledPython('up = \n');
    editor.selection = new vscode.Selection(0, 5, 0, 5);
    // The command resolves when the flow ends, so it is started without awaiting it.
    const running = vscode.commands.executeCommand<ForwardResult>(COMMAND);
    const accept = () => vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');

    const mode = await waitForStep('mode');
    assert.match(mode.active ?? '', /Output shape/);
    await accept();
    const framework = await waitForStep('framework');
    assert.equal(framework.active, 'PyTorch');
    await accept();
    const layer = await waitForStep('layer');
    assert.equal(layer.active, 'Conv 2-D');
    // Moves to the next item, ConvTranspose 2-D.
    await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
    const moved = await vscode.commands.executeCommand<QuickState>(STATE);
    assert.equal(moved.active, 'ConvTranspose 2-D', `The quick input did not move: ${JSON.stringify(moved)}`);
    await accept();
    const parameters = await waitForStep('parameters');
    assert.ok(parameters.items.includes('kernel_size = 4'), parameters.items.join('\n'));
    await accept();
    const input = await waitForStep('input');
    assert.equal(input.value, '1, 64, 16, 16');
    assert.equal(input.validation, null);
    await accept();
    const result = await waitForStep('result');
    assert.ok(result.items.includes('H_out = H_in + 3'), result.items.join('\n'));
    await accept();
    const answer = await running;
    assert.deepEqual(answer.output, [1, 32, 19, 19]);
    assert.equal(answer.inserted, 'nn.ConvTranspose2d(64, 32, kernel_size=4)');
    assert.equal(editor.document.lineAt(0).text, 'up = nn.ConvTranspose2d(64, 32, kernel_size=4)');
  });
  it('runs the interactive inverse flow: 37x37 -> 75x75, then inserts the first PyTorch answer', async () => {
    const editor = await untitledPython('up = \n');
    editor.selection = new vscode.Selection(0, 5, 0, 5);
    const running = vscode.commands.executeCommand<InverseResult>(COMMAND);
    const accept = () => vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    await waitForStep('mode');
    await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
    assert.match(
      (await vscode.commands.executeCommand<QuickState>(STATE)).active ?? '',
      /Settings for a size/,
    );
    await accept();
    const sizes = await waitForStep('sizes');
    assert.equal(sizes.value, '37x37 -> 75x75');
    await accept();
    await waitForStep('fixed');
    await accept();
    const listed = await waitForStep('inverse-result');
    assert.ok(
      listed.items.some((item) => item.includes('output_size=[75, 75]')),
      listed.items.join('\n'),
    );
    await accept();
    const answer = await running;
    assert.ok(answer.inserted?.startsWith('nn.ConvTranspose2d('), JSON.stringify(answer.inserted));
    assert.equal(editor.document.lineAt(0).text, `up = ${answer.inserted}`);
  });
});
