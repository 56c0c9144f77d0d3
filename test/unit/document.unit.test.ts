/**
 * The editor analysis of one file: where input shapes come from, receptive fields, hints and fixes.
 * Expected sizes follow the PyTorch docs' Conv2d/MaxPool2d formulas; receptive fields the standard recurrence
 * r ← r + (k − 1)·j, j ← j·s (Dumoulin & Visin; Araujo et al., distill.pub/2019/computing-receptive-fields).
 */
import * as assert from 'node:assert/strict';
import { analyzeDocument } from '../../src/python/document';
import { SourceFile } from '../../src/python/syntax';

const NET = `import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(100, 10)

    def forward(self, x):
        x = self.pool(self.conv1(x))
        x = self.conv2(x)
        return self.fc(x.flatten(1))
`;

function analyze(text: string) {
  const file = new SourceFile('net.py', text);
  return { file, analysis: analyzeDocument(file) };
}

describe('editor analysis of a model file', () => {
  it('takes the input shape from an annotation comment and says so', () => {
    const { file, analysis } = analyze(
      NET.replace('class Net', '# convlens: input (2, 3, 32, 32)\nclass Net'),
    );
    // conv2 stands on line 10 once the annotation line is added above the class.
    const conv2 = analysis.layers.find((l) => file.position(l.from).line === 10)!;
    assert.equal(conv2.className, 'Conv2d');
    assert.deepEqual(conv2.applications[0]!.input, [2, 8, 16, 16]);
    assert.deepEqual(conv2.applications[0]!.output, [2, 16, 16, 16]);
    assert.match(conv2.applications[0]!.source, /annotation above class Net \(line 4\)/);
    // conv 3 (r 3, j 1) → pool 2 (r 4, j 2) → conv 3 (r 4 + 2·2 = 8, j 2).
    assert.equal(conv2.receptiveField, '8×8 (jump 2×2)');
  });

  it('takes the input shape from summary(model, (C, H, W)) with the batch of 2 torchsummary adds', () => {
    const { analysis } = analyze(`${NET}\nfrom torchsummary import summary\nsummary(Net(), (3, 20, 20))\n`);
    const conv1 = analysis.layers[0]!;
    assert.deepEqual(conv1.applications[0]!.input, [2, 3, 20, 20]);
    assert.match(conv1.applications[0]!.source, /summary\(\.\.\.\) at line 18/);
  });

  it('flags the Linear with the flattened size and puts the fix on its constructor only', () => {
    const { file, analysis } = analyze(`${NET}\nNet()(torch.randn(1, 3, 20, 20))\n`);
    const linear = analysis.diagnostics.filter((d) => /in_features/i.test(d.message));
    assert.ok(linear.length >= 1, JSON.stringify(analysis.diagnostics));
    // 16 channels × 10 × 10 after the pool = 1600.
    const withFix = linear.filter((d) => d.fix);
    assert.equal(withFix.length, 1);
    assert.equal(file.text.slice(withFix[0]!.fix!.from, withFix[0]!.fix!.to), '100');
    assert.equal(withFix[0]!.fix!.newText, '1600');
    assert.ok(file.text.slice(withFix[0]!.from, withFix[0]!.to).startsWith('nn.Linear('));
  });

  it('gives the shape after forward lines as hints', () => {
    const { file, analysis } = analyze(`${NET}\nNet()(torch.randn(1, 3, 20, 20))\n`);
    const texts = analysis.hints.map((h) => `${file.position(h.at).line}: ${h.text}`);
    assert.ok(texts.includes('13: (1, 8, 10, 10)'), texts.join('\n'));
    assert.ok(texts.includes('14: (1, 16, 10, 10)'), texts.join('\n'));
  });

  it('still gives formulas without any input shape', () => {
    const { analysis } = analyze(NET);
    assert.deepEqual(analysis.layers[1]!.formulas, ['H_out = ⌊H_in/2⌋', 'W_out = ⌊W_in/2⌋']);
    assert.equal(analysis.layers[1]!.receptiveField, null);
  });
});

describe('quick fix for a skip connection a transposed conv misses by one', () => {
  // A 2×2 max pool takes 9 to 4; ConvTranspose2d(k=2, s=2) gives (4 − 1)·2 + 2 = 8, one short of the skip's 9
  // (PyTorch docs' formulas). output_padding=1 (< stride 2) gives 9.
  const UP = `import torch
import torch.nn as nn

class Up(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ConvTranspose2d(4, 4, kernel_size=2, stride=2)

    def forward(self, x):
        return torch.cat([x, self.up(self.pool(x))], dim=1)

Up()(torch.randn(1, 4, 9, 9))
`;

  it('offers output_padding=1 on the ConvTranspose2d, added as a keyword', () => {
    const file = new SourceFile('up.py', UP);
    const analysis = analyzeDocument(file);
    const mismatch = analysis.diagnostics.find((d) => d.message.includes('cat'));
    assert.ok(mismatch?.fix, JSON.stringify(analysis.diagnostics));
    assert.match(mismatch.message, /Set output_padding=1 on the ConvTranspose2d makes it fit/);
    const fixed =
      file.text.slice(0, mismatch.fix.from) + mismatch.fix.newText + file.text.slice(mismatch.fix.to);
    assert.match(fixed, /nn\.ConvTranspose2d\(4, 4, kernel_size=2, stride=2, output_padding=1\)/);
    // The fixed model goes through without errors.
    const after = analyzeDocument(new SourceFile('up.py', fixed));
    assert.deepEqual(
      after.diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
  });

  it('offers nothing when output_padding cannot reach the size (it must stay below the stride)', () => {
    const file = new SourceFile(
      'up.py',
      UP.replace('torch.randn(1, 4, 9, 9)', 'torch.randn(1, 4, 7, 7)').replace(
        'MaxPool2d(2)',
        'MaxPool2d(3)',
      ),
    );
    const analysis = analyzeDocument(file);
    const mismatch = analysis.diagnostics.find((d) => d.message.includes('cat'));
    assert.ok(mismatch, JSON.stringify(analysis.diagnostics));
    assert.equal(mismatch.fix, undefined);
  });
});

describe('Flax modules in the editor', () => {
  const FLAX = `import flax.linen as nn
import jax.numpy as jnp

class CNN(nn.Module):
    @nn.compact
    def __call__(self, x):
        x = nn.Conv(features=8, kernel_size=(3, 3))(x)
        x = nn.avg_pool(x, window_shape=(2, 2), strides=(2, 2))
        return nn.Conv(features=8, kernel_size=(3, 3), padding='VALID')(x)

class Decoder(nn.Module):
    @nn.compact
    def __call__(self, z):
        return nn.ConvTranspose(features=4, kernel_size=(4, 4), strides=(2, 2))(z)

CNN().init(None, jnp.ones((1, 28, 28, 1)))
`;

  it('follows the receptive field through nn.avg_pool', () => {
    const file = new SourceFile('cnn.py', FLAX);
    const second = analyzeDocument(file).layers.find((l) => file.position(l.from).line === 9)!;
    // conv 3 (r 3) → pool 2 stride 2 (r 4, j 2) → conv 3 (r 4 + 2·2 = 8); 28 → 28 (SAME) → 14 → 12 (VALID).
    assert.equal(second.receptiveField, '8×8 (jump 2×2)');
    assert.deepEqual(second.applications[0]!.output, [1, 12, 12, 8]);
  });

  it('gives a Flax transposed conv its formulas from kernel_size even without an input shape', () => {
    const file = new SourceFile('cnn.py', FLAX);
    const transposed = analyzeDocument(file).layers.find((l) => l.className === 'ConvTranspose')!;
    // Flax 'SAME' transposed: out = in · stride (flax.linen.ConvTranspose / lax.conv_transpose).
    assert.deepEqual(transposed.formulas, ['H_out = 2·H_in', 'W_out = 2·W_in']);
  });
});
