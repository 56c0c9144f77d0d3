import * as assert from 'node:assert/strict';
import { evaluateCase, inferCase } from '../../src/core/arithmetic/case';
import { applyDimRule } from '../../src/core/arithmetic/dims';
import { onnxLayers } from '../../src/core/arithmetic/onnx';
import type { LayerShape, PyValue } from '../../src/core/arithmetic/types';
import { loadCases, mismatches } from './oracle.helpers';

type Attrs = Record<string, PyValue>;

const run = (op: string, attrs: Attrs, input: number[], weight?: number[]) =>
  inferCase({ op: `onnx.${op}`, attrs, input, ...(weight ? { weight } : {}) });

function shapeOf(op: string, attrs: Attrs, input: number[], weight?: number[]): LayerShape {
  const outcome = run(op, attrs, input, weight);
  assert.ok(outcome.ok, `expected a shape, got: ${outcome.ok ? '' : outcome.error}`);
  return outcome.value;
}

/** Asserts a refusal whose message contains every fragment (numbers included). */
function refuses(
  op: string,
  attrs: Attrs,
  input: number[],
  weight: number[] | undefined,
  ...fragments: string[]
) {
  const outcome = run(op, attrs, input, weight);
  assert.ok(
    !outcome.ok,
    `expected an error, got output ${outcome.ok ? JSON.stringify(outcome.value.output) : ''}`,
  );
  for (const fragment of fragments) {
    assert.ok(outcome.error.includes(fragment), `message lacks "${fragment}":\n  ${outcome.error}`);
  }
  return outcome.error;
}

describe('ONNX golden cases (onnx_shapes.json, produced by onnxruntime 1.30)', () => {
  const cases = loadCases('onnx_shapes.json').filter((c) => c.op.startsWith('onnx.'));
  it(`answers all ${cases.length} cases as onnxruntime does`, () => {
    const wrong = mismatches(cases);
    assert.equal(
      wrong.length,
      0,
      `${wrong.length} of ${cases.length} wrong:\n${wrong.slice(0, 8).join('\n')}`,
    );
  });
  it('reports dims whose rules give the output sizes (applyDimRule), except the documented pool quirk', () => {
    let checked = 0;
    for (const golden of cases) {
      if (golden.output === undefined) continue;
      const { output: _output, ...question } = golden;
      const outcome = inferCase(question);
      assert.ok(outcome.ok);
      const input = golden['input'] as number[];
      outcome.value.dims.forEach((rule, i) => {
        const truncated = outcome.value.notes.some((note) => note.includes('rounds toward zero'));
        if (!truncated)
          assert.equal(applyDimRule(rule, input[i + 2]!), golden.output![i + 2], JSON.stringify(golden));
      });
      checked++;
    }
    assert.ok(checked > 600);
  });
});

describe('onnx.Conv', () => {
  it('3×3, pads 1: same size; weight, bias, params and MACs from W = [M, C/group, k...]', () => {
    const shape = shapeOf(
      'Conv',
      { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
      [2, 3, 32, 32],
      [16, 3, 3, 3],
    );
    assert.deepEqual(shape.output, [2, 16, 32, 32]);
    assert.deepEqual(shape.weightShape, [16, 3, 3, 3]);
    assert.deepEqual(shape.biasShape, [16]);
    assert.equal(shape.params, 16 * 27 + 16);
    assert.equal(shape.macs, 2 * 16 * 32 * 32 * 3 * 9);
    assert.deepEqual(shape.dims[0], {
      kind: 'window',
      kernel: 3,
      dilation: 1,
      stride: 1,
      padBegin: 1,
      padEnd: 1,
      ceilMode: false,
    });
  });
  it('takes kernel_shape from W when absent, and groups (depthwise)', () => {
    const shape = shapeOf('Conv', { group: 8, strides: [2, 2] }, [1, 8, 15, 15], [8, 1, 3, 3]);
    assert.deepEqual(shape.output, [1, 8, 7, 7]);
    assert.equal(shape.macs, 8 * 49 * 1 * 9);
  });
  it('pads are [x1_begin, x2_begin, x1_end, x2_end]', () => {
    const shape = shapeOf('Conv', { pads: [0, 3, 0, 0] }, [1, 1, 5, 5], [1, 1, 3, 3]);
    assert.deepEqual(shape.output, [1, 1, 3, 6]);
  });
  it('SAME_UPPER / SAME_LOWER give ⌈in/stride⌉ with a same rule placing the odd pad', () => {
    const upper = shapeOf('Conv', { auto_pad: 'SAME_UPPER', strides: [2, 3] }, [1, 1, 7, 10], [1, 1, 3, 3]);
    assert.deepEqual(upper.output, [1, 1, 4, 4]);
    assert.equal(upper.dims[0]!.kind, 'same');
    assert.equal((upper.dims[0] as { extraPadAt: string }).extraPadAt, 'end');
    const lower = shapeOf('Conv', { auto_pad: 'SAME_LOWER' }, [1, 1, 7, 10], [1, 1, 2, 2]);
    assert.equal((lower.dims[0] as { extraPadAt: string }).extraPadAt, 'begin');
    assert.deepEqual(lower.output, [1, 1, 7, 10]);
  });
  it('notes input rows that flooring leaves unread', () => {
    const shape = shapeOf('Conv', { strides: [2, 2] }, [1, 1, 8, 8], [1, 1, 3, 3]);
    assert.deepEqual(shape.output, [1, 1, 3, 3]);
    assert.ok(shape.notes.some((note) => note.includes('last 1 input position is never read')));
  });
  it('refuses SAME_* with dilation, suggesting explicit pads', () => {
    refuses(
      'Conv',
      { auto_pad: 'SAME_UPPER', dilations: [2, 2] },
      [1, 1, 9, 9],
      [1, 1, 3, 3],
      "'SAME_UPPER'",
      'dilations [2, 2]',
      'pads [2, 2, 2, 2]',
      'size [9, 9]',
    );
  });
  it('refuses an input smaller than the (dilated) kernel', () => {
    refuses('Conv', { dilations: [2] }, [1, 1, 4], [1, 1, 3], 'input (4)', '2·(3 − 1) + 1 = 5', 'L ≥ 5');
    refuses('Conv', { auto_pad: 'VALID', strides: [3] }, [1, 1, 2], [1, 1, 3], 'input (2)', 'kernel (3)');
    refuses('Conv', { pads: [1, 0] }, [1, 1, 1], [1, 1, 3], '1 + 1 padding = 2', 'L ≥ 2');
  });
  it('refuses channels that do not match W[1]·group, and M not divisible by group', () => {
    refuses('Conv', {}, [1, 4, 8, 8], [8, 3, 3, 3], 'C = 4', 'W[1]·group = 3·1 = 3', 'W[1] = C/group = 4');
    refuses('Conv', { group: 2 }, [1, 4, 8, 8], [8, 1, 3, 3], 'C = 4', '1·2 = 2', 'group 4');
    refuses('Conv', { group: 2 }, [1, 4, 8, 8], [5, 2, 3, 3], 'M = W[0] = 5', 'group (2)');
  });
  it('refuses kernel_shape that differs from W, a rank mismatch, and pads with auto_pad', () => {
    refuses('Conv', { kernel_shape: [3, 5] }, [1, 1, 8, 8], [1, 1, 3, 3], 'kernel_shape [3, 5]', '[3, 3]');
    refuses('Conv', {}, [1, 1, 8, 8], [1, 1, 3], 'W (1, 1, 3) is 3-D', 'input X (1, 1, 8, 8) is 4-D');
    refuses('Conv', { auto_pad: 'VALID', pads: [1, 1] }, [1, 1, 8], [1, 1, 3], 'pads [1, 1]', "'VALID'");
  });
});

describe('onnx.ConvTranspose', () => {
  it('k4 s2 pads 1 doubles the size; W = [C, M/group, k...], M = W[1]·group', () => {
    const shape = shapeOf(
      'ConvTranspose',
      { strides: [2, 2], pads: [1, 1, 1, 1], group: 2 },
      [1, 64, 16, 16],
      [64, 16, 4, 4],
    );
    assert.deepEqual(shape.output, [1, 32, 32, 32]);
    assert.deepEqual(shape.biasShape, [32]);
    assert.equal(shape.params, 64 * 16 * 16 + 32);
    assert.equal(shape.macs, 64 * 256 * 16 * 16);
    assert.equal(shape.dims[0]!.kind, 'transposed');
    assert.deepEqual(shape.notes, []);
  });
  it('VALID: (in − 1)·s + k_eff + output_padding, with a checkerboard note for k % s ≠ 0', () => {
    const shape = shapeOf(
      'ConvTranspose',
      { auto_pad: 'VALID', strides: [2], dilations: [2], output_padding: [1] },
      [1, 1, 5],
      [1, 1, 3],
    );
    assert.deepEqual(shape.output, [1, 1, 8 + 5 + 1]);
    const odd = shapeOf('ConvTranspose', { strides: [2] }, [1, 1, 5], [1, 1, 3]);
    assert.ok(odd.notes.some((note) => note.includes('checkerboard')));
  });
  it('SAME_*: in·stride when k_eff + output_padding ≥ stride, with onnxruntime crop placement', () => {
    const upper = shapeOf('ConvTranspose', { auto_pad: 'SAME_UPPER', strides: [2] }, [1, 1, 5], [1, 1, 3]);
    assert.deepEqual(upper.output, [1, 1, 10]);
    assert.deepEqual(upper.dims[0], {
      kind: 'transposed',
      kernel: 3,
      dilation: 1,
      stride: 2,
      padBegin: 1,
      padEnd: 0,
      outputPadding: 0,
    });
    const lower = shapeOf('ConvTranspose', { auto_pad: 'SAME_LOWER', strides: [2] }, [1, 1, 5], [1, 1, 3]);
    assert.deepEqual([lower.dims[0]!.kind === 'transposed' && lower.dims[0]!.padBegin], [0]);
  });
  it('SAME_* with a kernel smaller than the stride is not in·stride (no padding to remove)', () => {
    const shape = shapeOf('ConvTranspose', { auto_pad: 'SAME_UPPER', strides: [3] }, [1, 1, 4], [1, 1, 2]);
    assert.deepEqual(shape.output, [1, 1, 11]);
    assert.ok(shape.notes.some((note) => note.includes('gives 11, not in·stride = 12')));
  });
  it('output_shape: any size from 1 to (in − 1)·s + k_eff + s − 1, cropping by pads', () => {
    const shape = shapeOf('ConvTranspose', { strides: [2], output_shape: [7] }, [1, 1, 3], [1, 1, 2]);
    assert.deepEqual(shape.output, [1, 1, 7]);
    assert.deepEqual(shape.dims[0], { kind: 'fixed', size: 7 });
    assert.deepEqual(
      shapeOf('ConvTranspose', { strides: [3], output_shape: [1] }, [1, 1, 9], [1, 1, 3]).output,
      [1, 1, 1],
    );
    const full = shapeOf(
      'ConvTranspose',
      { strides: [2, 2], output_shape: [1, 1, 9, 8] },
      [1, 1, 4, 4],
      [1, 1, 3, 3],
    );
    assert.deepEqual(full.output, [1, 1, 9, 8]);
    assert.ok(full.notes.some((note) => note.includes('includes N and C')));
  });
  it('refuses an output_shape no forward conv maps back to the input', () => {
    refuses(
      'ConvTranspose',
      { auto_pad: 'SAME_UPPER', strides: [2], output_shape: [11] },
      [1, 1, 3],
      [1, 1, 2],
      'output_shape 11',
      'input size 3',
      'stride 2',
      'kernel 2',
      '1..7',
    );
    refuses('ConvTranspose', { output_shape: [0] }, [1, 1, 3], [1, 1, 2], 'size 0');
    refuses(
      'ConvTranspose',
      { output_shape: [5, 5, 5] },
      [1, 1, 3, 3],
      [1, 1, 2, 2],
      'has 3 values',
      'needs 2',
    );
  });
  it('refuses output_padding ≥ stride even when the dilation is larger (unlike PyTorch)', () => {
    refuses(
      'ConvTranspose',
      { strides: [1], dilations: [2], output_padding: [1] },
      [1, 1, 14],
      [1, 1, 3],
      'output_padding 1',
      'stride (1)',
      '0 only',
      'maps to 15',
    );
    refuses(
      'ConvTranspose',
      { strides: [2], output_padding: [2], output_shape: [9] },
      [1, 1, 4],
      [1, 1, 2],
      'output_padding 2',
    );
  });
  it('refuses an output of size 0 or less', () => {
    refuses('ConvTranspose', { pads: [3, 0] }, [1, 2, 1], [2, 1, 2], 'size -1', 'pads 3 − 0', 'at most 1');
    refuses('ConvTranspose', { pads: [1, 1] }, [1, 1, 1], [1, 1, 2], 'size 0');
  });
  it('refuses W[0] ≠ C and C not divisible by group', () => {
    refuses('ConvTranspose', {}, [1, 4, 5, 5], [3, 2, 3, 3], 'W[0] = 3', 'C = 4');
    refuses('ConvTranspose', { group: 3 }, [1, 4, 5, 5], [4, 2, 3, 3], 'C = 4', 'group (3)', '1, 2, 4');
  });
});

describe('onnx.MaxPool / onnx.AveragePool', () => {
  it('2×2 stride 2 halves the size; no weights', () => {
    const shape = shapeOf('MaxPool', { kernel_shape: [2, 2], strides: [2, 2] }, [1, 3, 32, 31]);
    assert.deepEqual(shape.output, [1, 3, 16, 15]);
    assert.equal(shape.weightShape, null);
    assert.equal(shape.params, 0);
    assert.equal(shape.macs, 0);
  });
  it('ceil_mode rounds up but drops a window that would start in the end padding', () => {
    const attrs = { kernel_shape: [2], strides: [2], ceil_mode: 1 };
    assert.deepEqual(shapeOf('AveragePool', attrs, [1, 1, 5]).output, [1, 1, 3]);
    // (5 + 2 − 2)/2 rounds up to 3, +1 = 4, but the 4th window would start at 6 ≥ 5 + 1: dropped.
    assert.deepEqual(shapeOf('AveragePool', { ...attrs, pads: [1, 1] }, [1, 1, 5]).output, [1, 1, 3]);
  });
  it('floor mode rounds a negative span toward zero (onnxruntime int64 arithmetic)', () => {
    const shape = shapeOf('MaxPool', { kernel_shape: [2], strides: [2] }, [1, 2, 1]);
    assert.deepEqual(shape.output, [1, 2, 1]);
    assert.ok(shape.notes.some((note) => note.includes('rounds toward zero')));
  });
  it('allows an empty output (size 0) but refuses a negative one', () => {
    const empty = shapeOf('MaxPool', { kernel_shape: [3], strides: [2], auto_pad: 'VALID' }, [1, 2, 1]);
    assert.deepEqual(empty.output, [1, 2, 0]);
    assert.ok(empty.notes.some((note) => note.includes('empty')));
    refuses(
      'AveragePool',
      { kernel_shape: [4, 3], strides: [2, 1], auto_pad: 'VALID' },
      [1, 2, 4, 1],
      undefined,
      'window (3)',
      'input (1)',
      'would be -1',
      'W ≥ 3',
    );
  });
  it('refuses pads not smaller than the kernel', () => {
    refuses(
      'MaxPool',
      { kernel_shape: [2], pads: [1, 2] },
      [1, 2, 12],
      undefined,
      '1 at the begin, 2 at the end',
      'kernel (2)',
      'at most 1',
    );
  });
  it('SAME with the kernel smaller than in mod stride needs negative pads, which onnxruntime refuses', () => {
    refuses(
      'AveragePool',
      { kernel_shape: [2], strides: [3], auto_pad: 'SAME_LOWER' },
      [1, 2, 12],
      undefined,
      '(-1)',
      'input size 12',
      'kernel 2',
      'stride 3',
    );
    refuses(
      'MaxPool',
      { kernel_shape: [1], strides: [3], auto_pad: 'SAME_UPPER' },
      [1, 2, 5],
      undefined,
      '5 mod stride 3 = 2',
    );
    // With a dilation (or storage_order 1) onnxruntime leaves MLAS and accepts the negative pad.
    assert.deepEqual(
      shapeOf(
        'MaxPool',
        { kernel_shape: [1, 1], strides: [2, 3], auto_pad: 'SAME_LOWER', dilations: [1, 2] },
        [1, 2, 2, 3],
      ).output,
      [1, 2, 1, 1],
    );
    assert.deepEqual(
      shapeOf(
        'MaxPool',
        { kernel_shape: [1], strides: [2], auto_pad: 'SAME_UPPER', storage_order: 1 },
        [1, 2, 6],
      ).output,
      [1, 2, 3],
    );
  });
  it('SAME with dilation sizes the pads from the undilated kernel', () => {
    const shape = shapeOf(
      'MaxPool',
      { kernel_shape: [3], strides: [3], auto_pad: 'SAME_UPPER', dilations: [2] },
      [1, 2, 11],
    );
    assert.deepEqual(shape.output, [1, 2, 3]);
    assert.ok(shape.notes.some((note) => note.includes('not ⌈11/3⌉ = 4')));
    assert.deepEqual(
      shapeOf('AveragePool', { kernel_shape: [3], strides: [2], auto_pad: 'SAME_UPPER' }, [1, 1, 7]).output,
      [1, 1, 4],
    );
  });
  it('refuses a missing kernel_shape and a kernel_shape of the wrong length', () => {
    refuses('MaxPool', { strides: [2] }, [1, 1, 8], undefined, 'kernel_shape');
    assert.ok('error' in evaluateCase({ op: 'onnx.MaxPool', attrs: {}, input: [1, 1, 8] }));
    refuses('MaxPool', { kernel_shape: [2, 2] }, [1, 1, 8], undefined, 'has 2 values', 'needs 1');
  });
});

describe('ONNX bad input: fail(), never a throw', () => {
  it('refuses negative pads, non-integer and mistyped attributes with the offending value', () => {
    refuses('Conv', { pads: [-1, 0, 0, 0] }, [1, 1, 8, 8], [1, 1, 3, 3], 'non-negative', '[-1, 0, 0, 0]');
    refuses('Conv', { strides: [1.5, 1] }, [1, 1, 8, 8], [1, 1, 3, 3], 'integers', '[1.5, 1]');
    refuses('Conv', { strides: 2 }, [1, 1, 8, 8], [1, 1, 3, 3], 'list', '[2, 2]');
    refuses('Conv', { strides: [0, 1] }, [1, 1, 8, 8], [1, 1, 3, 3], 'at least 1');
    refuses('Conv', { group: '2' }, [1, 2, 8, 8], [1, 1, 3, 3], "'2'");
    refuses('Conv', { group: 0 }, [1, 2, 8, 8], [1, 1, 3, 3], 'group');
    refuses('Conv', { auto_pad: 'same_upper' }, [1, 1, 8, 8], [1, 1, 3, 3], "'same_upper'", 'upper case');
    refuses('MaxPool', { kernel_shape: [2], ceil_mode: 2 }, [1, 1, 8], undefined, 'ceil_mode', '0 or 1');
    refuses(
      'AveragePool',
      { kernel_shape: [2], count_include_pad: 'yes' },
      [1, 1, 8],
      undefined,
      'count_include_pad',
    );
    refuses('ConvTranspose', { output_padding: [-1] }, [1, 1, 8], [1, 1, 3], 'non-negative');
  });
  it('refuses wrong ranks and sizes', () => {
    refuses('Conv', {}, [1, 8], [1, 1], '2-D input');
    refuses('MaxPool', { kernel_shape: [1, 1, 1, 1] }, [1, 1, 2, 2, 2, 2], undefined, '6-D input');
    refuses('Conv', {}, [1, 1, 8], [1, 1, 3, 3], 'same rank');
    refuses('Conv', {}, [1, 0, 8], [1, 0, 3], 'size 0 along C');
    refuses('Conv', {}, [1, 1, 2 ** 40], [1, 1, 3], 'too large');
    refuses('ConvTranspose', { strides: [2 ** 31] }, [1, 1, 2 ** 31], [1, 1, 3], 'too large');
    refuses('Conv', {}, [1, 1, 8], [1, 1, 0], 'between 1 and');
  });
  it('refuses a missing weight_shape', () => {
    const outcome = onnxLayers
      .find((def) => def.name === 'onnx.Conv')!
      .infer({ auto_pad: 'NOTSET' }, [1, 1, 8]);
    assert.ok(!outcome.ok && outcome.error.includes('weight_shape'));
    assert.ok('error' in evaluateCase({ op: 'onnx.ConvTranspose', attrs: {}, input: [1, 1, 8] }));
  });
  it('survives random attribute garbage', () => {
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const values: PyValue[] = [
      null,
      0,
      1,
      -1,
      2,
      2.5,
      true,
      'SAME_UPPER',
      'x',
      [],
      [1],
      [2, 2],
      [0, 1, 2, 3],
      [-1, 2],
      [1, [2]],
      [2 ** 40, 1],
      [1, 1, 1, 1, 1, 1],
    ];
    for (let trial = 0; trial < 3000; trial++) {
      const def = pick(onnxLayers);
      const args: Record<string, PyValue> = {};
      for (const param of def.params)
        args[param.name] = random() < 0.5 ? (param.default ?? null) : pick(values);
      if (random() < 0.7)
        args['weight_shape'] = Array.from({ length: 3 + Math.floor(random() * 3) }, () =>
          Math.floor(random() * 4),
        );
      if (def.name.includes('Pool') && random() < 0.7) args['kernel_shape'] = [1 + Math.floor(random() * 3)];
      const input = Array.from({ length: Math.floor(random() * 7) }, () => Math.floor(random() * 6));
      assert.doesNotThrow(
        () => def.infer(args, input),
        `${def.name} ${JSON.stringify(args)} ${JSON.stringify(input)}`,
      );
    }
  });
});
