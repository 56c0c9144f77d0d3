import * as assert from 'node:assert/strict';
import { evaluateCase } from '../../src/core/arithmetic/case';
import { loadCases, mismatches } from './oracle.helpers';

describe('PyTorch golden cases (torch_shapes.json, produced by PyTorch 2.11)', () => {
  const cases = loadCases('torch_shapes.json');
  it(`answers all ${cases.length} cases as PyTorch does`, () => {
    const wrong = mismatches(cases);
    assert.equal(
      wrong.length,
      0,
      `${wrong.length} of ${cases.length} wrong:\n${wrong.slice(0, 8).join('\n')}`,
    );
  });
});

describe('PyTorch rules', () => {
  const shape = (
    op: string,
    args: Record<string, unknown>,
    input: number[],
    extra: Record<string, unknown> = {},
  ) => evaluateCase({ op: `torch.nn.${op}`, args, input, ...extra });

  it('DCGAN upsampling: ConvTranspose2d(k=4, s=2, p=1) doubles the size', () => {
    assert.deepEqual(
      shape(
        'ConvTranspose2d',
        { in_channels: 64, out_channels: 32, kernel_size: 4, stride: 2, padding: 1 },
        [1, 64, 16, 16],
      ),
      {
        output: [1, 32, 32, 32],
      },
    );
  });
  it('refuses output_padding not smaller than stride or dilation, saying what is valid', () => {
    const answer = shape(
      'ConvTranspose2d',
      { in_channels: 1, out_channels: 1, kernel_size: 3, stride: 2, output_padding: 2 },
      [1, 1, 5, 5],
    );
    assert.ok(
      'error' in answer &&
        /output_padding is 2 with stride 2 and dilation 1; it can be 0 to 1/.test(answer.error),
      JSON.stringify(answer),
    );
  });
  it("refuses padding='same' with a stride", () => {
    const answer = shape(
      'Conv2d',
      { in_channels: 3, out_channels: 8, kernel_size: 3, stride: 2, padding: 'same' },
      [1, 3, 32, 32],
    );
    assert.ok('error' in answer && /'same' is not supported with stride 2/.test(answer.error));
  });
  it('forward(x, output_size=...) picks output_padding within [min, min + s − 1]', () => {
    const args = { in_channels: 8, out_channels: 4, kernel_size: 3, stride: 2, padding: 1 };
    assert.deepEqual(shape('ConvTranspose2d', args, [1, 8, 37, 37], { output_size: [74, 73] }), {
      output: [1, 4, 74, 73],
    });
    const answer = shape('ConvTranspose2d', args, [1, 8, 37, 37], { output_size: [75, 73] });
    assert.ok('error' in answer && /valid sizes are 73 to 74/.test(answer.error), JSON.stringify(answer));
  });
  it('names the channel mismatch users hit most', () => {
    const answer = shape('Conv2d', { in_channels: 4, out_channels: 64, kernel_size: 3 }, [1, 16, 128, 128]);
    assert.ok(
      'error' in answer &&
        /expects 4 input channels \(weight \(64, 4, 3, 3\)\), but the input has 16/.test(answer.error),
    );
  });
  it('groups must divide the channels, and the message lists valid groups', () => {
    const answer = shape(
      'Conv2d',
      { in_channels: 6, out_channels: 4, kernel_size: 3, groups: 4 },
      [1, 6, 8, 8],
    );
    assert.ok('error' in answer && /divisible by groups \(4\).*1, 2/.test(answer.error));
  });
  it('bad input never throws', () => {
    for (const input of [[], [1], [1, 2, 3, 4, 5, 6], [-1, 3, 8, 8], [1, 3, 2 ** 40, 8]]) {
      const answer = shape('Conv2d', { in_channels: 3, out_channels: 8, kernel_size: 3 }, input);
      assert.ok('error' in answer, JSON.stringify(input));
    }
    for (const args of [
      { in_channels: 'x', out_channels: 1, kernel_size: 3 },
      { in_channels: 3, out_channels: 1, kernel_size: [3, 3, 3] },
      { in_channels: 3, out_channels: 1, kernel_size: -1 },
      { in_channels: 3, out_channels: 1, kernel_size: 1.5 },
    ]) {
      assert.ok('error' in shape('Conv2d', args, [1, 3, 8, 8]), JSON.stringify(args));
    }
  });
  it('the functional form reads the weight shape', () => {
    assert.deepEqual(
      evaluateCase({
        op: 'torch.nn.functional.conv2d',
        args: { weight: [16, 3, 5, 5], stride: 2, padding: 2 },
        input: [2, 3, 64, 64],
      }),
      {
        output: [2, 16, 32, 32],
      },
    );
  });
  it('adaptive pooling keeps None dimensions', () => {
    assert.deepEqual(shape('AdaptiveAvgPool2d', { output_size: [null, 7] }, [1, 3, 10, 20]), {
      output: [1, 3, 10, 7],
    });
  });
});
