import * as assert from 'node:assert/strict';
import { applyDimRule } from '../../src/core/arithmetic/dims';
import {
  forwardSettings,
  outputPaddingFor,
  settingsForTarget,
  transposedRange,
  transposedSettings,
  translateSame,
  upsampleSettings,
  type TargetSetting,
} from '../../src/core/arithmetic/solve';
import type { DimRule, Outcome } from '../../src/core/arithmetic/types';

const deconv = (kernel: number, stride: number, padding: number, dilation = 1): DimRule => ({
  kind: 'transposed',
  kernel,
  dilation,
  stride,
  padBegin: padding,
  padEnd: padding,
  outputPadding: 0,
});

function value<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) assert.fail(`expected ok, got: ${outcome.error}`);
  return outcome.value;
}

function error<T>(outcome: Outcome<T>): string {
  if (outcome.ok) assert.fail(`expected a failure, got ${JSON.stringify(outcome.value)}`);
  return outcome.error;
}

describe('solve: transposedRange and outputPaddingFor', () => {
  it('gives the [min, min + s − 1] range PyTorch accepts', () => {
    const range = value(transposedRange(deconv(3, 2, 1), 7));
    assert.deepEqual(range, {
      min: 13,
      max: 14,
      outputPaddingMax: 1,
      maxWithOutputPadding: 14,
      text: '13 to 14 (output_padding 0 to 1)',
    });
    assert.equal(value(transposedRange(deconv(3, 1, 1), 7)).text, '7 (output_padding 0)');
  });

  it('lets output_padding reach past the forward-consistent range only through dilation', () => {
    const range = value(transposedRange(deconv(3, 1, 0, 3), 5));
    assert.equal(range.min, 11);
    assert.equal(range.max, 11);
    assert.equal(range.outputPaddingMax, 2);
    assert.equal(range.maxWithOutputPadding, 13);
    assert.equal(value(outputPaddingFor(deconv(3, 1, 0, 3), 5, 13)), 2);
  });

  it('keeps the positive part of a range that starts below 1, and refuses one that never does', () => {
    const range = value(transposedRange(deconv(1, 3, 1), 1));
    assert.equal(range.min, 1);
    assert.equal(range.max, 1);
    assert.equal(value(outputPaddingFor(deconv(1, 3, 1), 1, 1)), 2);
    assert.match(error(transposedRange(deconv(1, 1, 3), 2)), /padding 3\+3 crops all of it/);
  });

  it("gives SAME's range for transposed-same", () => {
    const range = value(transposedRange({ kind: 'transposed-same', kernel: 3, dilation: 1, stride: 2 }, 7));
    assert.equal(range.min, 13);
    assert.equal(range.max, 14);
  });

  it('solves output_padding and says why a target is out of reach', () => {
    assert.equal(value(outputPaddingFor(deconv(3, 2, 1), 7, 14)), 1);
    assert.equal(value(outputPaddingFor(deconv(3, 2, 1), 7, 13)), 0);
    assert.equal(
      error(outputPaddingFor(deconv(3, 2, 1), 7, 16)),
      'From an input of 7 this transposed convolution gives 13 to 14; 16 would need output_padding 3, but ' +
        'output_padding must be smaller than stride (2) or dilation (1).',
    );
    assert.match(error(outputPaddingFor(deconv(3, 2, 1), 7, 12)), /output_padding -1/);
    assert.match(
      error(outputPaddingFor(deconv(3, 1, 1), 7, 8)),
      /must be 0 here \(stride 1 and dilation 1\)/,
    );
  });

  it('refuses absurd input', () => {
    const conv: DimRule = {
      kind: 'window',
      kernel: 3,
      dilation: 1,
      stride: 1,
      padBegin: 0,
      padEnd: 0,
      ceilMode: false,
    };
    assert.match(error(transposedRange(conv, 5)), /Only a transposed convolution/);
    assert.match(error(outputPaddingFor(conv, 5, 5)), /belongs to a transposed convolution/);
    assert.match(error(transposedRange(deconv(3, 2, 1), 0)), /at least 1, got 0/);
    assert.match(error(transposedRange(deconv(3, 2, 1), -4)), /at least 1/);
    assert.match(error(transposedRange(deconv(3, 2, 1), 2.5)), /whole number/);
    assert.match(error(transposedRange(deconv(3, 2, 1), 1e15)), /larger than/);
    assert.match(error(transposedRange(deconv(0, 2, 1), 5)), /kernel size must be/);
    assert.match(error(transposedRange(deconv(3, 0, 1), 5)), /stride must be/);
    assert.match(error(outputPaddingFor(deconv(3, 2, 1), 7, 0)), /target size must be at least 1/);
    assert.match(error(outputPaddingFor(deconv(3, 2, 1), 7, NaN)), /whole number/);
  });
});

describe('solve: settingsForTarget', () => {
  const find = (settings: readonly TargetSetting[], framework: string, via: string): TargetSetting => {
    const found = settings.find((s) => s.framework === framework && s.via === via);
    assert.ok(found, `${framework} ${via}`);
    return found;
  };

  it('answers 7 → 14 with kernel 3, stride 2, padding 1 in every framework', () => {
    const answer = value(settingsForTarget({ kernel: 3, stride: 2, padding: 1, inputSize: 7, target: 14 }));
    assert.deepEqual(answer.dims, ['H', 'W']);
    assert.deepEqual(answer.ranges, [
      { min: 13, max: 14 },
      { min: 13, max: 14 },
    ]);
    const s = answer.settings;
    const torch = find(s, 'pytorch', 'output_padding');
    assert.equal(
      torch.code,
      'nn.ConvTranspose2d(in_channels, out_channels, kernel_size=3, stride=2, padding=1, output_padding=1)',
    );
    assert.deepEqual(torch.formulas, ['H_out = 2·H_in', 'W_out = 2·W_in']);
    assert.equal(
      find(s, 'pytorch', 'forward(x, output_size=...)').code,
      'deconv = nn.ConvTranspose2d(in_channels, out_channels, kernel_size=3, stride=2, padding=1)\n' +
        'y = deconv(x, output_size=[14, 14])',
    );
    assert.equal(
      find(s, 'keras', "padding='same'").code,
      "keras.layers.Conv2DTranspose(filters, kernel_size=3, strides=2, padding='same')",
    );
    const valid = find(s, 'keras', "padding='valid'");
    assert.equal(valid.reachable, false);
    assert.match(valid.reason!, /padding='valid' gives 15 to 16/);
    assert.equal(
      find(s, 'tensorflow', "output_shape, padding='SAME'").code,
      "tf.nn.conv2d_transpose(x, filters, output_shape=[batch, 14, 14, out_channels], strides=2, padding='SAME')",
    );
    assert.match(
      find(s, 'tensorflow', "output_shape, padding='VALID'").reason!,
      /VALID accepts output_shape 15 to 16/,
    );
    const pads = find(s, 'onnx', 'pads');
    assert.equal(
      pads.code,
      "helper.make_node('ConvTranspose', ['X', 'W'], ['Y'], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 0, 0])",
    );
    assert.ok(pads.notes.some((n) => n.includes("PyTorch's padding=1 with output_padding=1")));
    assert.equal(
      find(s, 'onnx', 'output_shape').code,
      "helper.make_node('ConvTranspose', ['X', 'W'], ['Y'], kernel_shape=[3, 3], strides=[2, 2], output_shape=[14, 14])",
    );
    const flax = find(s, 'flax', 'padding pairs');
    assert.equal(
      flax.code,
      'nn.ConvTranspose(features, kernel_size=(3, 3), strides=(2, 2), padding=((1, 2), (1, 2)))',
    );
    assert.ok(flax.notes.includes("padding='SAME' gives the same size."));
  });

  it("explains pytorch-3dunet's 'requested an output size of [5, 12, 31]' and offers a padding that works", () => {
    const answer = value(
      settingsForTarget({ kernel: 3, stride: 2, padding: 1, inputSize: [2, 6, 15], target: [5, 12, 31] }),
    );
    assert.deepEqual(answer.dims, ['D', 'H', 'W']);
    const size = find(answer.settings, 'pytorch', 'forward(x, output_size=...)');
    assert.equal(
      size.reason,
      'forward(x, output_size=[5, 12, 31]) raises: valid sizes range from [3, 11, 29] to [4, 12, 30] (for an input of [2, 6, 15]).',
    );
    const op = find(answer.settings, 'pytorch', 'output_padding');
    assert.equal(op.reachable, false);
    assert.match(op.reason!, /D: 5 is out of reach with padding 1, which gives 3 to 4/);
    assert.match(
      op.reason!,
      /padding=\(0, 1, 0\), output_padding=\(0, 1, 0\) reaches it: nn\.ConvTranspose3d\(/,
    );
    assert.equal(find(answer.settings, 'onnx', 'pads').reachable, true);
    assert.equal(find(answer.settings, 'onnx', 'output_shape').reachable, true);
  });

  it('writes 1-D code and per-dimension tuples', () => {
    const answer = value(
      settingsForTarget({
        kernel: [3, 4],
        stride: [2, 2],
        padding: [1, 1],
        inputSize: [7, 7],
        target: [14, 14],
      }),
    );
    const torch = find(answer.settings, 'pytorch', 'output_padding');
    assert.equal(
      torch.code,
      'nn.ConvTranspose2d(in_channels, out_channels, kernel_size=(3, 4), stride=2, padding=1, output_padding=(1, 0))',
    );
    const one = value(
      settingsForTarget({ kernel: 4, stride: 2, padding: 1, inputSize: 10, target: 20, rank: 1 }),
    );
    assert.deepEqual(one.dims, ['L']);
    assert.equal(
      find(one.settings, 'pytorch', 'output_padding').code,
      'nn.ConvTranspose1d(in_channels, out_channels, kernel_size=4, stride=2, padding=1, output_padding=0)',
    );
    assert.equal(
      find(one.settings, 'flax', 'padding pairs').code,
      'nn.ConvTranspose(features, kernel_size=(4,), strides=(2,), padding=((2, 2),))',
    );
    assert.match(
      find(one.settings, 'tensorflow', "output_shape, padding='SAME'").code!,
      /^tf\.nn\.conv1d_transpose\(/,
    );
  });

  it("uses Keras's default output_padding when it already fits, and refuses strides with dilation", () => {
    const answer = value(settingsForTarget({ kernel: 1, stride: 2, inputSize: 5, target: 10, rank: 1 }));
    const valid = find(answer.settings, 'keras', "padding='valid'");
    assert.equal(
      valid.code,
      "keras.layers.Conv1DTranspose(filters, kernel_size=1, strides=2, padding='valid')",
    );
    assert.ok(valid.notes.includes('The default output_padding=None already gives this size.'));
    const dilated = value(settingsForTarget({ kernel: 3, stride: 2, dilation: 2, inputSize: 5, target: 13 }));
    assert.match(
      find(dilated.settings, 'keras', "padding='valid'").reason!,
      /strides > 1 together with dilation_rate > 1/,
    );
    assert.match(find(dilated.settings, 'tensorflow', "output_shape, padding='VALID'").code!, /dilations=2/);
  });

  it("uses Keras 'same' with output_padding for sizes other than i·s", () => {
    const answer = value(settingsForTarget({ kernel: 3, stride: 2, inputSize: 7, target: 13, rank: 1 }));
    const same = find(answer.settings, 'keras', "padding='same'");
    assert.equal(
      same.code,
      "keras.layers.Conv1DTranspose(filters, kernel_size=3, strides=2, padding='same', output_padding=0)",
    );
    assert.deepEqual(same.formulas, ['L_out = 2·L_in − 1']);
  });

  it('notes a PyTorch output_padding allowed only by dilation', () => {
    const answer = value(
      settingsForTarget({ kernel: 3, stride: 1, dilation: 3, inputSize: 5, target: 13, rank: 1 }),
    );
    const torch = find(answer.settings, 'pytorch', 'output_padding');
    assert.equal(torch.reachable, true);
    assert.match(torch.notes[0]!, /accepted only because dilation 3 exceeds stride 1/);
    assert.equal(find(answer.settings, 'pytorch', 'forward(x, output_size=...)').reachable, false);
    assert.equal(find(answer.settings, 'onnx', 'pads').reachable, false);
  });

  it('says when no padding at all can reach a size', () => {
    const answer = value(settingsForTarget({ kernel: 2, stride: 2, inputSize: 4, target: 20, rank: 1 }));
    for (const setting of answer.settings) {
      if (setting.framework === 'flax') continue;
      assert.equal(setting.reachable, false, `${setting.framework} ${setting.via}`);
    }
    // Flax pads are free, so it gets there, but only by adding cells no input reaches.
    const flax = find(answer.settings, 'flax', 'padding pairs');
    assert.equal(flax.code, 'nn.ConvTranspose(features, kernel_size=(2,), strides=(2,), padding=((1, 13),))');
    assert.ok(flax.notes.some((n) => n.includes('adds cells no input reaches')));
    assert.match(find(answer.settings, 'pytorch', 'output_padding').reason!, /No padding reaches it/);
    assert.match(
      find(answer.settings, 'onnx', 'output_shape').reason!,
      /onnxruntime accepts output_shape up to 9/,
    );
    assert.match(find(answer.settings, 'onnx', 'pads').reason!, /largest ConvTranspose output from 4 is 9/);
    const small = value(settingsForTarget({ kernel: 1, stride: 2, inputSize: 5, target: 3, rank: 1 }));
    assert.match(find(small.settings, 'flax', 'padding pairs').reason!, /needs pads summing to -6/);
  });

  it('refuses absurd questions in words', () => {
    assert.match(error(settingsForTarget({ kernel: 0, inputSize: 5, target: 5 })), /kernel must be from 1/);
    assert.match(
      error(settingsForTarget({ kernel: 3, inputSize: -5, target: 5 })),
      /input size must be from 1/,
    );
    assert.match(
      error(settingsForTarget({ kernel: 3, inputSize: 5, target: 0 })),
      /target size must be from 1/,
    );
    assert.match(
      error(settingsForTarget({ kernel: 3, inputSize: 5, target: 1e13 })),
      /target size must be from 1 to/,
    );
    assert.match(
      error(settingsForTarget({ kernel: 3, stride: 2.5, inputSize: 5, target: 5 })),
      /whole number/,
    );
    assert.match(
      error(settingsForTarget({ kernel: [3, 3], stride: [1, 1, 1], inputSize: 5, target: 5 })),
      /has 3 values/,
    );
    assert.match(error(settingsForTarget({ kernel: [], inputSize: 5, target: 5 })), /empty list/);
    assert.match(error(settingsForTarget({ kernel: [1, 1, 1, 1], inputSize: 5, target: 5 })), /1-D to 3-D/);
    assert.match(
      error(settingsForTarget({ kernel: 3, inputSize: 5, target: 5, rank: 7 })),
      /rank must be 1, 2 or 3/,
    );
    assert.match(
      error(settingsForTarget({ kernel: 3, padding: -1, inputSize: 5, target: 5 })),
      /padding must be from 0/,
    );
    assert.match(
      error(settingsForTarget({ kernel: 'x' as unknown as number, inputSize: 5, target: 5 })),
      /kernel must be a whole number/,
    );
  });
});

describe('solve: forwardSettings, transposedSettings, upsampleSettings', () => {
  it('finds the simplest halving convs first', () => {
    const settings = value(forwardSettings({ inputSize: 32, outputSize: 16 }));
    assert.equal(settings[0]!.code, 'nn.Conv2d(in_channels, out_channels, kernel_size=2, stride=2)');
    assert.equal(
      settings[1]!.code,
      'nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=2, padding=1)',
    );
    assert.equal(settings[1]!.formula, 'H_out = ⌈H_in/2⌉');
    const wasteful = settings.find((s) => s.kernel === 1);
    assert.ok(wasteful && wasteful.waste !== null);
    assert.ok(settings.indexOf(wasteful) > settings.findIndex((s) => s.kernel === 7));
    for (const s of settings) assert.equal(applyDimRule(s.rule, 32), 16);
  });

  it('prefers stride 1 and no padding for a size-preserving or shrinking map', () => {
    const same = value(forwardSettings({ inputSize: 5, outputSize: 5, rank: 1 }));
    assert.equal(same[0]!.code, 'nn.Conv1d(in_channels, out_channels, kernel_size=1, stride=1)');
    assert.equal(same[1]!.code, 'nn.Conv1d(in_channels, out_channels, kernel_size=3, stride=1, padding=1)');
    const shrink = value(forwardSettings({ inputSize: 10, outputSize: 8, maxDilation: 1 }));
    assert.equal(shrink[0]!.code, 'nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=1)');
  });

  it('pads unevenly through F.pad when no symmetric padding fits', () => {
    const settings = value(
      forwardSettings({ inputSize: 5, outputSize: 5, maxKernel: 2, maxStride: 1, maxDilation: 1 }),
    );
    const even = settings.find((s) => s.kernel === 2)!;
    assert.deepEqual(even.padding, [0, 1]);
    assert.equal(
      even.code,
      "x = F.pad(x, (0, 1, 0, 1))  # PyTorch's padding= is symmetric\nnn.Conv2d(in_channels, out_channels, kernel_size=2, stride=1)",
    );
  });

  it('sends growing maps to the transposed search', () => {
    assert.match(
      error(forwardSettings({ inputSize: 16, outputSize: 40 })),
      /use a transposed conv \(transposedSettings\)/,
    );
    const up = value(transposedSettings({ inputSize: 16, outputSize: 32 }));
    assert.equal(up[0]!.code, 'nn.ConvTranspose2d(in_channels, out_channels, kernel_size=2, stride=2)');
    assert.equal(
      up[1]!.code,
      'nn.ConvTranspose2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1)',
    );
    const checker = up.find((s) => s.kernel === 3 && s.stride === 2)!;
    assert.equal(checker.checkerboard, true);
    assert.equal(checker.outputPadding, 1);
    for (const s of up) assert.equal(applyDimRule(s.rule, 16), 32);
    assert.match(
      error(transposedSettings({ inputSize: 40, outputSize: 3, maxKernel: 3 })),
      /use a forward conv/,
    );
  });

  it('crops unevenly with a slice when a transposed conv needs it', () => {
    const settings = value(
      transposedSettings({ inputSize: 5, outputSize: 6, maxStride: 1, maxDilation: 1, rank: 1 }),
    );
    const uneven = settings.find((s) => s.padding[0] !== s.padding[1])!;
    assert.equal(uneven.code.split('\n')[1], "y = y[..., :-1]  # PyTorch's padding= crops both sides alike");
    assert.equal(applyDimRule(uneven.rule, 5), 6);
  });

  it('lists 2× upsampling settings in the order people use them', () => {
    const answer = value(upsampleSettings(2));
    assert.deepEqual(
      answer.settings.map((s) => [s.kernel, s.padding[0], s.outputPadding]),
      [
        [4, 1, 0],
        [2, 0, 0],
        [6, 2, 0],
        [3, 1, 1],
        [5, 2, 1],
        [1, 0, 1],
      ],
    );
    assert.equal(answer.settings[3]!.checkerboard, true);
    for (const s of answer.settings)
      for (let i = 1; i <= 100; i++) assert.equal(applyDimRule(s.rule, i), 2 * i);
    assert.ok(answer.notes[0]!.includes("padding='same'"));
    assert.deepEqual(
      value(upsampleSettings(1, { maxKernel: 5 })).settings.map((s) => s.kernel),
      [1, 3, 5],
    );
    const four = value(upsampleSettings(4));
    assert.deepEqual([four.settings[0]!.kernel, four.settings[0]!.padding[0]], [8, 2]);
    for (const s of four.settings) assert.equal(applyDimRule(s.rule, 9), 36);
  });

  it('refuses absurd searches', () => {
    assert.match(error(upsampleSettings(0)), /whole number from 1 to 64, got 0/);
    assert.match(error(upsampleSettings(1.5)), /To shrink by s instead/);
    assert.match(error(upsampleSettings(1000)), /from 1 to 64/);
    assert.match(error(upsampleSettings(2, { maxKernel: 0 })), /maxKernel/);
    assert.match(error(upsampleSettings(2, { rank: 0 })), /rank/);
    assert.match(error(forwardSettings({ inputSize: 0, outputSize: 4 })), /input size must be at least 1/);
    assert.match(error(forwardSettings({ inputSize: 4, outputSize: -1 })), /output size must be at least 1/);
    assert.match(error(forwardSettings({ inputSize: 4, outputSize: 2, maxKernel: -3 })), /maxKernel must be/);
    assert.match(error(forwardSettings({ inputSize: 4, outputSize: 2, rank: 5 })), /rank must be/);
    assert.match(error(transposedSettings({ inputSize: 2 ** 40, outputSize: 2 })), /larger than/);
    // Huge bounds are capped, so even absurd requests answer quickly.
    const started = Date.now();
    value(
      forwardSettings({
        inputSize: 1000,
        outputSize: 20,
        maxKernel: 1e9,
        maxStride: 1e9,
        maxDilation: 1e9,
        limit: 1e9,
      }),
    );
    assert.ok(Date.now() - started < 2000);
  });
});

describe('solve: translateSame', () => {
  it("translates TF/Keras strided 'same' to PyTorch pads, saying for which sizes they hold", () => {
    const even = value(translateSame({ from: 'keras', to: 'pytorch', kernel: 3, stride: 2, inputSize: 8 }));
    assert.deepEqual(even.pads, [
      [0, 1],
      [0, 1],
    ]);
    assert.deepEqual(even.output, [4, 4]);
    assert.equal(even.adapts, true);
    assert.equal(
      even.toCode,
      'x = F.pad(x, (0, 1, 0, 1))  # padding= is symmetric in PyTorch\n' +
        'nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=2, padding=0)',
    );
    assert.equal(even.everySize, false);
    assert.equal(even.matchesFor, 'H_in even and W_in even');
    assert.ok(even.notes.some((n) => n.includes("timm's Conv2dSame")));
    const odd = value(
      translateSame({ from: 'tensorflow', to: 'pytorch', kernel: 3, stride: 2, inputSize: 7 }),
    );
    assert.equal(odd.toCode, 'nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=2, padding=1)');
    assert.equal(odd.matchesFor, 'H_in odd and W_in odd');
  });

  it("maps PyTorch's stride-1 'same' to Keras 'same' exactly, even for even kernels", () => {
    const t = value(translateSame({ from: 'pytorch', to: 'keras', kernel: 4, inputSize: 7 }));
    assert.deepEqual(t.pads[0], [1, 2]);
    assert.equal(t.toCode, "keras.layers.Conv2D(filters, kernel_size=4, strides=1, padding='same')");
    assert.equal(t.everySize, true);
    assert.equal(t.matchesFor, null);
    assert.equal(t.fromCode, "nn.Conv2d(in_channels, out_channels, kernel_size=4, padding='same')");
  });

  it('puts SAME_LOWER’s extra pad at the begin, which PyTorch and Keras can only say with explicit pads', () => {
    const torch = value(
      translateSame({
        from: 'onnx',
        onnxAutoPad: 'SAME_LOWER',
        to: 'pytorch',
        kernel: 4,
        inputSize: 7,
        rank: 1,
      }),
    );
    assert.deepEqual(torch.pads, [[2, 1]]);
    assert.equal(
      torch.toCode,
      'x = F.pad(x, (2, 1))  # padding= is symmetric in PyTorch\nnn.Conv1d(in_channels, out_channels, kernel_size=4, stride=1, padding=0)',
    );
    assert.equal(torch.everySize, true);
    const keras = value(
      translateSame({ from: 'onnx', onnxAutoPad: 'SAME_LOWER', to: 'keras', kernel: 4, inputSize: 7 }),
    );
    assert.equal(
      keras.toCode,
      "keras.layers.ZeroPadding2D(((2, 1), (2, 1)))\nkeras.layers.Conv2D(filters, kernel_size=4, strides=1, padding='valid')",
    );
    const onnx = value(
      translateSame({
        from: 'onnx',
        onnxAutoPad: 'SAME_LOWER',
        to: 'onnx',
        kernel: 4,
        stride: 2,
        inputSize: 8,
      }),
    );
    assert.equal(
      onnx.toCode,
      "helper.make_node('Conv', ['X', 'W'], ['Y'], kernel_shape=[4, 4], strides=[2, 2], auto_pad='SAME_LOWER')",
    );
    assert.equal(onnx.everySize, true);
  });

  it('uses the target’s own SAME where it splits the same way', () => {
    const flax = value(
      translateSame({
        from: 'keras',
        to: 'flax',
        kernel: [3, 5],
        stride: [2, 3],
        dilation: 1,
        inputSize: [9, 10],
      }),
    );
    assert.equal(flax.toCode, "nn.Conv(features, kernel_size=(3, 5), strides=(2, 3), padding='SAME')");
    assert.equal(flax.everySize, true);
    const onnx = value(translateSame({ from: 'jax', to: 'onnx', kernel: 3, stride: 2, inputSize: 8 }));
    assert.match(onnx.toCode, /auto_pad='SAME_UPPER'/);
    const symmetric = value(
      translateSame({ from: 'onnx', onnxAutoPad: 'SAME_LOWER', to: 'pytorch', kernel: 3, inputSize: 8 }),
    );
    assert.equal(symmetric.toCode, "nn.Conv2d(in_channels, out_channels, kernel_size=3, padding='same')");
    const flaxPairs = value(
      translateSame({
        from: 'onnx',
        onnxAutoPad: 'SAME_LOWER',
        to: 'flax',
        kernel: 2,
        stride: 2,
        inputSize: 7,
      }),
    );
    assert.equal(
      flaxPairs.toCode,
      'nn.Conv(features, kernel_size=(2, 2), strides=(2, 2), padding=((1, 0), (1, 0)))',
    );
    assert.equal(flaxPairs.everySize, false);
  });

  it('flags Keras strides with dilation and kernels of 1', () => {
    const dilated = value(
      translateSame({ from: 'flax', to: 'keras', kernel: 3, stride: 2, dilation: 2, inputSize: 9 }),
    );
    assert.ok(dilated.notes.includes('Keras refuses strides > 1 together with dilation_rate > 1.'));
    const pointwise = value(
      translateSame({ from: 'keras', to: 'pytorch', kernel: 1, stride: 2, inputSize: 9 }),
    );
    assert.equal(
      pointwise.toCode,
      'nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=2, padding=0)',
    );
    assert.equal(pointwise.everySize, true);
  });

  it('refuses what the frameworks refuse and absurd input', () => {
    assert.match(
      error(translateSame({ from: 'pytorch', to: 'keras', kernel: 3, stride: 2, inputSize: 8 })),
      /PyTorch rejects padding='same' for strided convolutions \(stride 2\)/,
    );
    assert.match(
      error(translateSame({ from: 'caffe' as never, to: 'keras', kernel: 3, inputSize: 8 })),
      /Unknown framework/,
    );
    assert.match(
      error(translateSame({ from: 'keras', to: 'onnx', kernel: 3, inputSize: 0 })),
      /input size must be from 1/,
    );
    assert.match(
      error(translateSame({ from: 'keras', to: 'onnx', kernel: -3, inputSize: 5 })),
      /kernel must be from 1/,
    );
    assert.match(
      error(
        translateSame({ from: 'onnx', to: 'keras', kernel: 3, inputSize: 5, onnxAutoPad: 'UPPER' as never }),
      ),
      /onnxAutoPad must be/,
    );
  });
});
