import * as assert from 'node:assert/strict';
import { parseAnimationPayload } from '../../src/core/animation/payload';
import { parseSpec, specToPayload, timelineFromSpec } from '../../src/core/animation/spec';
import type { Outcome } from '../../src/core/arithmetic/types';

function value<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) assert.fail(`expected ok, got: ${outcome.error}`);
  return outcome.value;
}

function error<T>(outcome: Outcome<T>): string {
  if (outcome.ok) assert.fail(`expected a failure, got ${JSON.stringify(outcome.value)}`);
  return outcome.error;
}

describe('conv-lens spec language', () => {
  it('reads an operation with key=value settings into the JSON payload', () => {
    assert.deepEqual(
      value(specToPayload('conv_transpose2d input=3x3 kernel=3 stride=2 padding=1 output_padding=1')),
      {
        op: 'conv_transpose2d',
        input: [3, 3],
        kernel: 3,
        stride: 2,
        padding: 1,
        output_padding: 1,
      },
    );
  });

  it('reads several lines, key: value lines, comments, tuples, pairs and booleans', () => {
    const text = [
      '# a pooling layer that rounds up',
      'max_pool2d input=(7, 6), kernel = 3, stride=2',
      'padding: ((1, 0), (0, 1))  # asymmetric',
      'ceil_mode: True',
      "framework: 'onnx'",
      'values: {"input": [[1, 2, 3, 4, 5, 6]]}',
    ].join('\n');
    assert.deepEqual(value(specToPayload(text)), {
      op: 'max_pool2d',
      input: [7, 6],
      kernel: 3,
      stride: 2,
      padding: [
        [1, 0],
        [0, 1],
      ],
      ceil_mode: true,
      framework: 'onnx',
      values: { input: [[1, 2, 3, 4, 5, 6]] },
    });
  });

  it('gives the same spec as the equivalent notebook payload', () => {
    const fromSpec = value(
      parseSpec('conv2d input=5×5 kernel=3 dilation=(2, 1) padding=same framework=pytorch'),
    );
    const fromJson = value(
      parseAnimationPayload({
        op: 'conv2d',
        input: [5, 5],
        kernel: 3,
        dilation: [2, 1],
        padding: 'same',
        framework: 'pytorch',
      }),
    );
    assert.deepEqual(fromSpec, fromJson);
    const t = value(timelineFromSpec('conv_transpose1d input=4 kernel=4 stride=2 padding=1'));
    assert.deepEqual(t.outputSize, [8]);
  });

  it('takes values as JSON, on a line or inline', () => {
    const t = value(
      timelineFromSpec('conv1d input=3 kernel=2 values={"input": [1, 2, 3], "kernel": [1, -1]}'),
    );
    assert.deepEqual(t.values, { input: [1, 2, 3], kernel: [1, -1] });
  });

  const bad: Array<[string, string, RegExp]> = [
    ['an empty block', '  # nothing\n', /block is empty/],
    ['a stray word', 'conv2d input=5x5 kernel=3 fast', /line 1: "fast" is not a setting/],
    ['a setting twice', 'conv2d input=5 kernel=3\nkernel: 2', /line 2: "kernel" is set twice/],
    ['an unclosed bracket', 'conv2d input=(5, 5 kernel=3', /line 1: a bracket is not closed/],
    ['an unreadable value', 'conv2d input=5x5 kernel=3$', /cannot read the value of "kernel"/],
    ['a misspelt setting (through the payload check)', 'conv2d input=5x5 kernal=3', /Did you mean "kernel"/],
    [
      'a framework rule (through the LayerDef)',
      'conv2d input=5x5 kernel=3 stride=2 padding=same framework=pytorch',
      /stride/,
    ],
  ];
  for (const [what, text, message] of bad) {
    it(`refuses ${what} with a clear message`, () => {
      const outcome = timelineFromSpec(text);
      assert.match(error(outcome), message);
    });
  }
});
