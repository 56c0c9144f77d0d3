import * as assert from 'node:assert/strict';
import { bindArguments } from '../../src/core/arithmetic/args';
import { evaluateCase, inferCase } from '../../src/core/arithmetic/case';
import { convTransposePadding } from '../../src/core/arithmetic/flax';
import { layerByQualifiedName, resolveLayerName } from '../../src/core/arithmetic/registry';
import type { LayerShape, PyValue } from '../../src/core/arithmetic/types';
import { loadCases, mismatches } from './oracle.helpers';

describe('JAX / Flax golden cases (jax_shapes.json, produced by JAX 0.11 with Flax)', () => {
  const cases = loadCases('jax_shapes.json');
  it(`answers all ${cases.length} cases as JAX does`, () => {
    assert.equal(cases.length, 680);
    const wrong = mismatches(cases);
    assert.equal(
      wrong.length,
      0,
      `${wrong.length} of ${cases.length} wrong:\n${wrong.slice(0, 8).join('\n')}`,
    );
  });
  it('refuses every case JAX refuses (string padding with input_dilation)', () => {
    const refused = cases.filter((c) => c.error !== undefined);
    assert.equal(refused.length, 24);
    for (const golden of refused) {
      const { error: _error, ...question } = golden;
      const answer = evaluateCase(question);
      assert.ok('error' in answer && /input_dilation/.test(answer.error), JSON.stringify(answer));
    }
  });
});

type Args = Record<string, PyValue>;
const conv = (args: Args, input: number[]) => evaluateCase({ op: 'flax.linen.Conv', args, input });
const convT = (args: Args, input: number[]) => evaluateCase({ op: 'flax.linen.ConvTranspose', args, input });
const lax = (args: Args, input: number[]) => evaluateCase({ op: 'jax.lax.conv_transpose', args, input });

function shapeOf(op: string, args: Args, input: number[]): LayerShape {
  const answer = inferCase({ op, args, input });
  assert.ok(answer.ok, answer.ok ? '' : answer.error);
  return answer.value;
}

function errorOf(answer: ReturnType<typeof evaluateCase>): string {
  assert.ok('error' in answer, `expected an error, got ${JSON.stringify(answer)}`);
  return answer.error;
}

describe('flax.linen.Conv rules', () => {
  it("defaults to padding='SAME': out = ceil(in / stride)", () => {
    assert.deepEqual(conv({ features: 8, kernel_size: [3, 3], strides: 2 }, [1, 15, 16, 3]), {
      output: [1, 8, 8, 8],
    });
  });
  it("'VALID': floor((in − kEff) / s) + 1 with kEff = d·(k − 1) + 1", () => {
    // 10 − (2·(3 − 1) + 1) = 5 → floor(5/2) + 1 = 3.
    assert.deepEqual(
      conv({ features: 4, kernel_size: [3], strides: 2, padding: 'VALID', kernel_dilation: 2 }, [2, 10, 1]),
      {
        output: [2, 3, 4],
      },
    );
  });
  it('JAX returns an empty axis (not an error) when the kernel is larger than the input', () => {
    const shape = shapeOf('flax.linen.Conv', { features: 4, kernel_size: [5], padding: 'VALID' }, [1, 3, 2]);
    assert.deepEqual(shape.output, [1, 0, 4]);
    assert.ok(shape.notes.some((note) => /empty/.test(note)));
  });
  it("'CIRCULAR' pads ((kEff − 1)//2, kEff//2) and runs VALID", () => {
    // k=4: pads (1, 2) → 8 + 3 − 4 = 7 → floor(7/3) + 1 = 3.
    assert.deepEqual(conv({ features: 2, kernel_size: [4], strides: 3, padding: 'CIRCULAR' }, [1, 8, 1]), {
      output: [1, 3, 2],
    });
  });
  it("'CAUSAL' pads kEff − 1 on the left (1-D only)", () => {
    assert.deepEqual(
      conv({ features: 2, kernel_size: [3], padding: 'CAUSAL', kernel_dilation: 2 }, [1, 9, 1]),
      {
        output: [1, 9, 2],
      },
    );
    assert.match(
      errorOf(conv({ features: 2, kernel_size: [3, 3], padding: 'CAUSAL' }, [1, 9, 9, 1])),
      /only implemented for 1-D.*2 spatial dimensions/,
    );
  });
  it('an int padding pads both sides of every dimension; pairs pad (low, high); negatives crop', () => {
    assert.deepEqual(conv({ features: 1, kernel_size: [3, 3], padding: 2 }, [1, 5, 6, 1]), {
      output: [1, 7, 8, 1],
    });
    assert.deepEqual(conv({ features: 1, kernel_size: [3, 3], padding: [[0, 2], 1] }, [1, 5, 6, 1]), {
      output: [1, 5, 6, 1],
    });
    assert.deepEqual(conv({ features: 1, kernel_size: [1], padding: [[-1, -1]] }, [1, 5, 1]), {
      output: [1, 3, 1],
    });
  });
  it('padding that crops more than the input is refused, with the numbers', () => {
    assert.match(
      errorOf(conv({ features: 1, kernel_size: [1], padding: [[-4, -3]] }, [1, 5, 1])),
      /\(-4, -3\).*\(5\)/,
    );
  });
  it('input_dilation with explicit padding spreads the input: (in − 1)·d + 1', () => {
    // (6 − 1)·2 + 1 = 11, + 2 + 2 − 3 + 1 = 13.
    assert.deepEqual(conv({ features: 1, kernel_size: [3], padding: 2, input_dilation: 2 }, [1, 6, 1]), {
      output: [1, 13, 1],
    });
  });
  it('string padding with input_dilation is refused and the message suggests explicit pairs', () => {
    const message = errorOf(
      conv({ features: 1, kernel_size: [3], padding: 'SAME', input_dilation: 2 }, [1, 6, 1]),
    );
    assert.match(message, /padding='SAME' cannot be combined with input_dilation=\(2,\)/);
    assert.match(message, /padding=\[\(2, 2\)\]/);
  });
  it('input_dilation of all ones is fine with string padding', () => {
    assert.deepEqual(conv({ features: 1, kernel_size: [3], input_dilation: [1] }, [1, 6, 1]), {
      output: [1, 6, 1],
    });
  });
  it('lax accepts SAME/VALID in any case, SAME_LOWER too; unknown strings are refused', () => {
    assert.deepEqual(conv({ features: 1, kernel_size: [3], padding: 'valid' }, [1, 6, 1]), {
      output: [1, 4, 1],
    });
    assert.deepEqual(conv({ features: 1, kernel_size: [4], strides: 2, padding: 'SAME_LOWER' }, [1, 7, 1]), {
      output: [1, 4, 1],
    });
    assert.match(errorOf(conv({ features: 1, kernel_size: [3], padding: 'FULL' }, [1, 6, 1])), /'FULL'/);
  });
  it('accepts unbatched input and several batch axes', () => {
    assert.deepEqual(conv({ features: 5, kernel_size: [3, 3] }, [8, 8, 3]), { output: [8, 8, 5] });
    assert.deepEqual(conv({ features: 5, kernel_size: [3, 3], padding: 'VALID' }, [2, 4, 8, 8, 3]), {
      output: [2, 4, 6, 6, 5],
    });
  });
  it('a bare int kernel_size is a 1-D kernel, whatever the input rank (and says so)', () => {
    const shape = shapeOf('flax.linen.Conv', { features: 5, kernel_size: 3, padding: 'VALID' }, [1, 8, 8, 3]);
    assert.deepEqual(shape.output, [1, 8, 6, 5]);
    assert.deepEqual(shape.weightShape, [3, 3, 5]);
    assert.ok(shape.notes.some((note) => /1-D convolution/.test(note)));
  });
  it('kernel in Flax layout (k..., in/groups, features), bias (features,), params and MACs', () => {
    const shape = shapeOf(
      'flax.linen.Conv',
      { features: 8, kernel_size: [3, 3], feature_group_count: 2, padding: 'VALID' },
      [2, 6, 6, 4],
    );
    assert.deepEqual(shape.output, [2, 4, 4, 8]);
    assert.deepEqual(shape.weightShape, [3, 3, 2, 8]);
    assert.deepEqual(shape.biasShape, [8]);
    assert.equal(shape.params, 3 * 3 * 2 * 8 + 8);
    assert.equal(shape.macs, 2 * 4 * 4 * 8 * 9 * 2);
    assert.equal(shape.dims.length, 2);
    assert.equal(shape.dims[0]!.kind, 'window');
    const noBias = shapeOf(
      'flax.linen.Conv',
      { features: 8, kernel_size: [3, 3], use_bias: false },
      [1, 6, 6, 4],
    );
    assert.equal(noBias.biasShape, null);
    assert.equal(noBias.params, 3 * 3 * 4 * 8);
  });
  it('feature_group_count must divide the input features and the output features', () => {
    assert.match(
      errorOf(conv({ features: 8, kernel_size: [3], feature_group_count: 3 }, [1, 6, 4])),
      /feature_group_count=3 must divide the input's 4 features/,
    );
    assert.match(
      errorOf(conv({ features: 5, kernel_size: [3], feature_group_count: 2 }, [1, 6, 4])),
      /features=5 must be a multiple of feature_group_count=2/,
    );
  });
  it('binds the real positional order: features, kernel_size, strides, padding, input_dilation, ...', () => {
    const def = layerByQualifiedName('flax.linen.Conv')!;
    const bound = bindArguments(def.name, def.params, [16, [3, 3], 2, 'VALID'], {});
    assert.ok(bound.ok);
    const shape = def.infer(bound.value, [1, 9, 9, 3]);
    assert.ok(shape.ok);
    assert.deepEqual(shape.value.output, [1, 4, 4, 16]);
  });
  it('`nn.Conv` resolves to Flax, not PyTorch', () => {
    assert.equal(resolveLayerName('nn.Conv')[0]?.name, 'flax.linen.Conv');
    assert.equal(resolveLayerName('lax.conv_transpose')[0]?.name, 'jax.lax.conv_transpose');
  });
});

describe('flax.linen.ConvTranspose rules', () => {
  it("'SAME' gives in·stride", () => {
    assert.deepEqual(convT({ features: 4, kernel_size: [3, 3], strides: [2, 3] }, [1, 5, 7, 2]), {
      output: [1, 10, 21, 4],
    });
  });
  it("'VALID' gives in·stride + max(kEff − stride, 0)", () => {
    // 5·2 + max(3 − 2, 0) = 11; with dilation 2, kEff = 5: 5·2 + 3 = 13.
    assert.deepEqual(convT({ features: 4, kernel_size: [3], strides: [2], padding: 'VALID' }, [1, 5, 2]), {
      output: [1, 11, 4],
    });
    assert.deepEqual(
      convT(
        { features: 4, kernel_size: [3], strides: [2], padding: 'VALID', kernel_dilation: [2] },
        [1, 5, 2],
      ),
      { output: [1, 13, 4] },
    );
  });
  it('explicit pairs pad the stride-dilated input: (in − 1)·s + 1 + lo + hi − kEff + 1', () => {
    // (3 − 1)·2 + 1 = 5, + 3 + 3 − 4 + 1 = 8 (PyTorch would read padding 3 as a crop).
    const shape = shapeOf(
      'flax.linen.ConvTranspose',
      { features: 1, kernel_size: [4], strides: [2], padding: [[3, 3]] },
      [1, 3, 1],
    );
    assert.deepEqual(shape.output, [1, 8, 1]);
    assert.deepEqual(shape.dims[0], {
      kind: 'transposed',
      kernel: 4,
      dilation: 1,
      stride: 2,
      padBegin: 0,
      padEnd: 0,
      outputPadding: 0,
    });
    assert.ok(shape.notes.some((note) => /not PyTorch's padding/.test(note)));
  });
  it("'CIRCULAR' runs VALID then wraps onto period in·stride", () => {
    const shape = shapeOf(
      'flax.linen.ConvTranspose',
      { features: 4, kernel_size: [6, 6], strides: [2, 2], padding: 'CIRCULAR' },
      [1, 15, 15, 3],
    );
    assert.deepEqual(shape.output, [1, 30, 30, 4]);
    assert.ok(shape.notes.some((note) => /wraps it onto period 15·2 = 30/.test(note)));
  });
  it('kernel (k..., in, features), swapped to (k..., features, in) by transpose_kernel', () => {
    const plain = shapeOf(
      'flax.linen.ConvTranspose',
      { features: 4, kernel_size: [3, 3], strides: 2 },
      [1, 8, 8, 3],
    );
    assert.deepEqual(plain.weightShape, [3, 3, 3, 4]);
    assert.equal(plain.params, 3 * 3 * 3 * 4 + 4);
    assert.equal(plain.macs, 8 * 8 * 3 * 4 * 9);
    const swapped = shapeOf(
      'flax.linen.ConvTranspose',
      { features: 4, kernel_size: [3, 3], strides: 2, transpose_kernel: true },
      [1, 8, 8, 3],
    );
    assert.deepEqual(swapped.weightShape, [3, 3, 4, 3]);
    assert.deepEqual(swapped.output, [1, 16, 16, 4]);
  });
  it('notes the checkerboard risk when the kernel size is not a multiple of the stride', () => {
    const uneven = shapeOf(
      'flax.linen.ConvTranspose',
      { features: 1, kernel_size: [3], strides: [2] },
      [1, 4, 1],
    );
    assert.ok(uneven.notes.some((note) => /checkerboard/.test(note)));
    const even = shapeOf(
      'flax.linen.ConvTranspose',
      { features: 1, kernel_size: [4], strides: [2] },
      [1, 4, 1],
    );
    assert.ok(!even.notes.some((note) => /checkerboard/.test(note)));
  });
  it('other strings reach lax: refused with strides > 1, a forward conv with stride 1', () => {
    assert.match(
      errorOf(convT({ features: 1, kernel_size: [3], strides: [2], padding: 'same' }, [1, 4, 1])),
      /write 'SAME' or 'VALID' exactly/,
    );
    // Lower-case 'valid' with stride 1 is lax's forward VALID: 6 − 3 + 1 = 4.
    assert.deepEqual(convT({ features: 1, kernel_size: [3], strides: [1], padding: 'valid' }, [1, 6, 1]), {
      output: [1, 4, 1],
    });
    assert.match(errorOf(convT({ features: 1, kernel_size: [3], padding: 'CAUSAL' }, [1, 6, 1])), /'CAUSAL'/);
  });
  it('strides default to 1 (None) and the input may be unbatched', () => {
    assert.deepEqual(convT({ features: 2, kernel_size: [3], padding: 'VALID' }, [6, 1]), { output: [8, 2] });
  });
});

describe('jax.lax.conv_transpose rules', () => {
  it('`kernel` lists the spatial sizes; the kernel then fits the input and has 3 output features', () => {
    const shape = shapeOf(
      'jax.lax.conv_transpose',
      {
        kernel: [4, 4],
        strides: [2, 3],
        padding: [
          [2, 3],
          [2, 1],
        ],
        rhs_dilation: [1, 1],
        dimension_numbers: ['NHWC', 'HWIO', 'NHWC'],
      },
      [1, 6, 5, 2],
    );
    // (6 − 1)·2 + 1 + 5 − 4 + 1 = 13; (5 − 1)·3 + 1 + 3 − 4 + 1 = 13.
    assert.deepEqual(shape.output, [1, 13, 13, 3]);
    assert.deepEqual(shape.weightShape, [4, 4, 2, 3]);
  });
  it('a full kernel shape gives the output feature count', () => {
    assert.deepEqual(lax({ kernel: [3, 3, 2, 7], strides: [2, 2], padding: 'SAME' }, [1, 5, 5, 2]), {
      output: [1, 10, 10, 7],
    });
  });
  it('transpose_kernel swaps the kernel axes: its O axis must match the input features', () => {
    assert.deepEqual(
      lax({ kernel: [3, 3, 7, 2], strides: [2, 2], padding: 'SAME', transpose_kernel: true }, [1, 5, 5, 2]),
      { output: [1, 10, 10, 7] },
    );
    assert.match(
      errorOf(lax({ kernel: [3, 3, 7, 2], strides: [2, 2], padding: 'SAME' }, [1, 5, 5, 2])),
      /input has 2 features but the kernel \(3, 3, 7, 2\) expects 7/,
    );
  });
  it('other layouts: NCHW / OIHW', () => {
    assert.deepEqual(
      lax(
        {
          kernel: [7, 2, 3, 3],
          strides: [2, 1],
          padding: 'VALID',
          dimension_numbers: ['NCHW', 'OIHW', 'NCHW'],
        },
        [1, 2, 5, 6],
      ),
      { output: [1, 7, 11, 8] },
    );
  });
  it('defaults the layout by rank and refuses ranks without a default', () => {
    assert.deepEqual(lax({ kernel: [3], strides: [2], padding: 'SAME' }, [1, 5, 2]), { output: [1, 10, 3] });
    assert.match(
      errorOf(lax({ kernel: [3, 3, 3, 3], strides: [1, 1, 1, 1], padding: 'SAME' }, [1, 5, 5, 5, 5, 2])),
      /no default/,
    );
  });
  it('use_consistent_padding reads pairs as the forward conv padding (PyTorch)', () => {
    // PyTorch: (5 − 1)·2 − 2·1 + 3 = 9.
    assert.deepEqual(
      lax({ kernel: [3], strides: [2], padding: [[1, 1]], use_consistent_padding: true }, [1, 5, 2]),
      { output: [1, 9, 3] },
    );
  });
  it('_conv_transpose_padding as in jax/_src/lax/convolution.py', () => {
    assert.deepEqual(convTransposePadding(3, 2, 'SAME'), [2, 1]);
    assert.deepEqual(convTransposePadding(4, 2, 'SAME'), [2, 2]);
    assert.deepEqual(convTransposePadding(4, 2, 'VALID'), [3, 3]);
    assert.deepEqual(convTransposePadding(2, 3, 'VALID'), [1, 2]);
    assert.deepEqual(convTransposePadding(3, 2, [1, 1]), [1, 1]);
  });
  it('strides must be a sequence with one entry per spatial dimension', () => {
    assert.match(
      errorOf(lax({ kernel: [3, 3], strides: 2, padding: 'SAME' }, [1, 5, 5, 2])),
      /strides=\(2, 2\)/,
    );
    assert.match(errorOf(lax({ kernel: [3, 3], strides: [2], padding: 'SAME' }, [1, 5, 5, 2])), /1 value/);
  });
  it('explains a missing kernel and bad dimension_numbers', () => {
    assert.match(
      errorOf(lax({ strides: [2, 2], padding: 'SAME' }, [1, 5, 5, 2])),
      /needs the kernel's shape/,
    );
    assert.match(
      errorOf(
        lax(
          { kernel: [3, 3], strides: [2, 2], padding: 'SAME', dimension_numbers: ['NHWC', 'HWIO', 'NCHWX'] },
          [1, 5, 5, 2],
        ),
      ),
      /dimension_numbers\[2\]/,
    );
  });
});

describe('Flax / JAX bad input returns an error, never throws', () => {
  const bad: Array<[string, Args, number[]]> = [
    ['flax.linen.Conv', { features: 0, kernel_size: [3] }, [1, 5, 1]],
    ['flax.linen.Conv', { features: 2, kernel_size: [] }, [1, 5, 1]],
    ['flax.linen.Conv', { features: 2, kernel_size: [0] }, [1, 5, 1]],
    ['flax.linen.Conv', { features: 2, kernel_size: 'three' }, [1, 5, 1]],
    ['flax.linen.Conv', { features: 2, kernel_size: [3, 3] }, [5, 1]],
    ['flax.linen.Conv', { features: 2, kernel_size: [3], strides: [1, 1] }, [1, 5, 1]],
    ['flax.linen.Conv', { features: 2, kernel_size: [3], strides: 0 }, [1, 5, 1]],
    ['flax.linen.Conv', { features: 2, kernel_size: [3], padding: [[1, 2, 3]] }, [1, 5, 1]],
    ['flax.linen.Conv', { features: 2, kernel_size: [3], padding: [1, 2] }, [1, 5, 1]],
    ['flax.linen.Conv', { features: 2, kernel_size: [3], padding: null }, [1, 5, 1]],
    ['flax.linen.Conv', { features: 2, kernel_size: [3], padding: 'CIRCULAR' }, [1, 0, 1]],
    ['flax.linen.Conv', { features: 2, kernel_size: [3] }, [1, 5, 0]],
    ['flax.linen.Conv', { features: 2, kernel_size: [3] }, [1, 2 ** 40, 1]],
    ['flax.linen.Conv', { features: 2.5, kernel_size: [3] }, [1, 5, 1]],
    ['flax.linen.ConvTranspose', { features: 2, kernel_size: [3], strides: [-1] }, [1, 5, 1]],
    [
      'flax.linen.ConvTranspose',
      { features: 2, kernel_size: [3], padding: [[-9, -9]], strides: [1] },
      [1, 5, 1],
    ],
    ['flax.linen.ConvTranspose', { features: 2, kernel_size: [3], padding: 'CIRCULAR' }, [1, 0, 1]],
    ['jax.lax.conv_transpose', { kernel: [3, 3], strides: [2, 2], padding: 7 }, [1, 5, 5, 2]],
    ['jax.lax.conv_transpose', { kernel: [3, 3, 3], strides: [2, 2], padding: 'SAME' }, [1, 5, 5, 2]],
    ['jax.lax.conv_transpose', { kernel: [3], strides: [2], padding: 'SAME' }, [5, 2]],
    [
      'jax.lax.conv_transpose',
      { kernel: [3, 3], strides: [2, 2], padding: 'SAME', dimension_numbers: 'NHWC' },
      [1, 5, 5, 2],
    ],
    ['jax.lax.conv_transpose', { kernel: [0, 3], strides: [2, 2], padding: 'SAME' }, [1, 5, 5, 2]],
  ];
  for (const [op, args, input] of bad) {
    it(`${op} ${JSON.stringify(args)} on ${JSON.stringify(input)}`, () => {
      let answer: ReturnType<typeof evaluateCase> | undefined;
      assert.doesNotThrow(() => (answer = evaluateCase({ op, args, input })));
      assert.ok(answer && 'error' in answer && answer.error.length > 0, JSON.stringify(answer));
    });
  }
});
