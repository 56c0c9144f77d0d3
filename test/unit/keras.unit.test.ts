/**
 * Keras / TensorFlow shape rules. There is no golden file for Keras: the expected values below are worked out
 * by hand from the formulas in Keras 3's source, cited per block:
 *   conv and pooling: keras/src/ops/operation_utils.py (compute_conv_output_shape, compute_pooling_output_shape)
 *   transposed conv:  keras/src/backend/common/backend_utils.py (_get_output_shape_given_tf_padding)
 *   layer checks:     keras/src/layers/convolutional/base_conv.py, base_conv_transpose.py, base_pooling.py
 *   tf.nn:            tensorflow/python/ops/nn_ops.py conv2d_transpose (output_shape must map back onto the input)
 */
import * as assert from 'node:assert/strict';
import { bindArguments } from '../../src/core/arithmetic/args';
import { evaluateCase, inferCase } from '../../src/core/arithmetic/case';
import { layerByQualifiedName, resolveLayerName } from '../../src/core/arithmetic/registry';
import type { LayerShape, PyValue } from '../../src/core/arithmetic/types';

type Args = Record<string, PyValue>;
const keras = (layer: string, args: Args, input: number[]) =>
  evaluateCase({ op: `keras.layers.${layer}`, args, input });

function shapeOf(op: string, args: Args, input: number[]): LayerShape {
  const answer = inferCase({ op, args, input });
  assert.ok(answer.ok, answer.ok ? '' : answer.error);
  return answer.value;
}

function errorOf(answer: ReturnType<typeof evaluateCase>): string {
  assert.ok('error' in answer, `expected an error, got ${JSON.stringify(answer)}`);
  return answer.error;
}

describe('keras.layers.Conv{1,2,3}D', () => {
  // compute_conv_output_shape: valid floor((in − d·(k − 1) − 1)/s) + 1; same/causal floor((in − 1)/s) + 1.
  it("'valid' (the default): floor((in − kEff) / s) + 1", () => {
    // floor((32 − 3)/2) + 1 = 15.
    assert.deepEqual(keras('Conv2D', { filters: 16, kernel_size: 3, strides: 2 }, [4, 32, 32, 3]), {
      output: [4, 15, 15, 16],
    });
    // Dilation 2, k = 3: kEff = 5, 10 − 5 + 1 = 6.
    assert.deepEqual(keras('Conv1D', { filters: 8, kernel_size: 3, dilation_rate: 2 }, [1, 10, 4]), {
      output: [1, 6, 8],
    });
    assert.deepEqual(keras('Conv3D', { filters: 2, kernel_size: [3, 2, 1] }, [1, 5, 5, 5, 1]), {
      output: [1, 3, 4, 5, 2],
    });
  });
  it("'same' (case-insensitive): ceil(in / s)", () => {
    assert.deepEqual(
      keras('Conv2D', { filters: 16, kernel_size: 3, strides: 2, padding: 'SAME' }, [1, 15, 16, 3]),
      {
        output: [1, 8, 8, 16],
      },
    );
  });
  it("Conv1D 'causal' keeps ceil(in / s); other ranks refuse it", () => {
    assert.deepEqual(
      keras('Conv1D', { filters: 8, kernel_size: 3, padding: 'causal', dilation_rate: 4 }, [2, 50, 3]),
      {
        output: [2, 50, 8],
      },
    );
    assert.match(
      errorOf(keras('Conv2D', { filters: 8, kernel_size: 3, padding: 'causal' }, [1, 9, 9, 3])),
      /'valid' or 'same'.*only for Conv1D/,
    );
  });
  it("data_format='channels_first' reads (batch, channels, spatial...)", () => {
    assert.deepEqual(
      keras('Conv2D', { filters: 16, kernel_size: 3, data_format: 'channels_first' }, [1, 3, 32, 30]),
      { output: [1, 16, 30, 28] },
    );
    assert.match(
      errorOf(keras('Conv2D', { filters: 16, kernel_size: 3, data_format: 'NCHW' }, [1, 3, 32, 30])),
      /'channels_last' or 'channels_first'/,
    );
  });
  it('kernel (k..., C_in/groups, filters), bias (filters,), params and MACs', () => {
    const shape = shapeOf(
      'keras.layers.Conv2D',
      { filters: 8, kernel_size: [3, 3], groups: 2 },
      [2, 6, 6, 4],
    );
    assert.deepEqual(shape.output, [2, 4, 4, 8]);
    assert.deepEqual(shape.weightShape, [3, 3, 2, 8]);
    assert.deepEqual(shape.biasShape, [8]);
    assert.equal(shape.params, 3 * 3 * 2 * 8 + 8);
    assert.equal(shape.macs, 2 * 4 * 4 * 8 * 9 * 2);
    const noBias = shapeOf(
      'keras.layers.Conv2D',
      { filters: 8, kernel_size: 3, use_bias: false },
      [1, 6, 6, 4],
    );
    assert.equal(noBias.biasShape, null);
    assert.equal(noBias.params, 3 * 3 * 4 * 8);
  });
  it('notes the input rows a strided valid conv never reads', () => {
    // 10 − 3 = 7, 7 mod 2 = 1 row unread.
    const shape = shapeOf('keras.layers.Conv1D', { filters: 1, kernel_size: 3, strides: 2 }, [1, 10, 1]);
    assert.ok(shape.notes.some((note) => /last 1 input position is never read/.test(note)));
  });
  it('refuses a valid conv whose output would be empty (Keras: "zero or negative")', () => {
    assert.match(
      errorOf(keras('Conv2D', { filters: 4, kernel_size: 5 }, [1, 4, 9, 3])),
      /size 0 along H: the input is 4 but the kernel is 5/,
    );
  });
  it('refuses strides > 1 together with dilation_rate > 1', () => {
    assert.match(
      errorOf(keras('Conv2D', { filters: 4, kernel_size: 3, strides: 2, dilation_rate: 2 }, [1, 9, 9, 3])),
      /strides \(2, 2\) cannot be combined with dilation_rate \(2, 2\)/,
    );
  });
  it('filters and input channels must be divisible by groups', () => {
    assert.match(
      errorOf(keras('Conv2D', { filters: 6, kernel_size: 3, groups: 4 }, [1, 9, 9, 8])),
      /filters=6 must be divisible by groups=4/,
    );
    assert.match(
      errorOf(keras('Conv2D', { filters: 8, kernel_size: 3, groups: 4 }, [1, 9, 9, 6])),
      /input has 6 channels, which groups=4 does not divide/,
    );
  });
  it('needs exactly rank + 2 input axes', () => {
    assert.match(
      errorOf(keras('Conv2D', { filters: 8, kernel_size: 3 }, [9, 9, 3])),
      /expects a 4-D input \(batch, H, W, channels\)/,
    );
  });
  it('kernel_size must have one entry per spatial dimension', () => {
    assert.match(errorOf(keras('Conv2D', { filters: 8, kernel_size: [3] }, [1, 9, 9, 3])), /tuple of 2 ints/);
  });
  it('binds the real positional order and accepts Layer keywords (name=, input_shape=)', () => {
    const def = layerByQualifiedName('keras.layers.Conv2D')!;
    const bound = bindArguments(def.name, def.params, [32, 3, 2, 'same'], {
      name: 'conv1',
      input_shape: [28, 28, 1],
    });
    assert.ok(bound.ok);
    const shape = def.infer(bound.value, [1, 28, 28, 1]);
    assert.ok(shape.ok);
    assert.deepEqual(shape.value.output, [1, 14, 14, 32]);
  });
  it('short names resolve: layers.Conv2D, tf.keras.layers.Conv2D, layers.MaxPool2D', () => {
    assert.equal(resolveLayerName('layers.Conv2D')[0]?.name, 'keras.layers.Conv2D');
    assert.equal(resolveLayerName('tf.keras.layers.Conv2D')[0]?.name, 'keras.layers.Conv2D');
    assert.equal(resolveLayerName('layers.MaxPool2D')[0]?.name, 'keras.layers.MaxPool2D');
  });
});

describe('keras.layers.Conv{1,2,3}DTranspose', () => {
  // _get_output_shape_given_tf_padding: valid (in − 1)·s + kEff + op, op default max(kEff, s) − kEff;
  // same: in·s without output_padding, (in − 1)·s + kEff % 2 + op with it.
  it("'valid' (the default): in·s + max(kEff − s, 0)", () => {
    // 7·2 + max(3 − 2, 0) = 15.
    assert.deepEqual(keras('Conv2DTranspose', { filters: 8, kernel_size: 3, strides: 2 }, [1, 7, 7, 16]), {
      output: [1, 15, 15, 8],
    });
    // Kernel smaller than the stride: 7·3 + 0 = 21.
    assert.deepEqual(keras('Conv1DTranspose', { filters: 8, kernel_size: 2, strides: 3 }, [1, 7, 16]), {
      output: [1, 21, 8],
    });
  });
  it("'same': in·s", () => {
    assert.deepEqual(
      keras(
        'Conv3DTranspose',
        { filters: 4, kernel_size: 3, strides: [2, 1, 3], padding: 'same' },
        [1, 4, 5, 6, 2],
      ),
      { output: [1, 8, 5, 18, 4] },
    );
  });
  it('output_padding: valid (in − 1)·s + kEff + op; same (in − 1)·s + kEff % 2 + op', () => {
    // valid: 6·2 + 3 + 1 = 16; same: 6·2 + 1 + 1 = 14 (k = 3), 6·2 + 0 + 1 = 13 (k = 4).
    assert.deepEqual(
      keras('Conv2DTranspose', { filters: 1, kernel_size: 3, strides: 2, output_padding: 1 }, [1, 7, 7, 1]),
      {
        output: [1, 16, 16, 1],
      },
    );
    assert.deepEqual(
      keras(
        'Conv2DTranspose',
        { filters: 1, kernel_size: 3, strides: 2, padding: 'same', output_padding: 1 },
        [1, 7, 7, 1],
      ),
      { output: [1, 14, 14, 1] },
    );
    assert.deepEqual(
      keras(
        'Conv2DTranspose',
        { filters: 1, kernel_size: 4, strides: 2, padding: 'same', output_padding: [1, 0] },
        [1, 7, 7, 1],
      ),
      { output: [1, 13, 12, 1] },
    );
  });
  it('output_padding must be smaller than strides, and the message says what is valid', () => {
    assert.match(
      errorOf(
        keras('Conv2DTranspose', { filters: 1, kernel_size: 3, strides: 2, output_padding: 2 }, [1, 7, 7, 1]),
      ),
      /output_padding \(2, 2\) must be smaller than strides \(2, 2\).*with stride 2 it can be 0 or 1/,
    );
  });
  it('refuses strides > 1 together with dilation_rate > 1', () => {
    assert.match(
      errorOf(
        keras('Conv2DTranspose', { filters: 1, kernel_size: 3, strides: 2, dilation_rate: 2 }, [1, 7, 7, 1]),
      ),
      /cannot be combined with dilation_rate/,
    );
  });
  it('channels_first, kernel (k..., filters, C_in), checkerboard note', () => {
    const shape = shapeOf(
      'keras.layers.Conv2DTranspose',
      { filters: 8, kernel_size: 3, strides: 2, padding: 'same', data_format: 'channels_first' },
      [1, 16, 7, 7],
    );
    assert.deepEqual(shape.output, [1, 8, 14, 14]);
    assert.deepEqual(shape.weightShape, [3, 3, 8, 16]);
    assert.equal(shape.params, 3 * 3 * 8 * 16 + 8);
    assert.equal(shape.macs, 7 * 7 * 16 * 8 * 9);
    assert.ok(shape.notes.some((note) => /checkerboard/.test(note)));
    assert.equal(shape.dims[0]!.kind, 'transposed-same');
  });
  it('refuses an output that would be empty (same, even kernel, output_padding 0, input 1)', () => {
    // (1 − 1)·2 + 4 % 2 + 0 = 0.
    assert.match(
      errorOf(
        keras(
          'Conv1DTranspose',
          { filters: 1, kernel_size: 4, strides: 2, padding: 'same', output_padding: 0 },
          [1, 1, 1],
        ),
      ),
      /empty along L/,
    );
  });
  it("has no groups and no 'causal' padding", () => {
    assert.match(
      errorOf(keras('Conv1DTranspose', { filters: 1, kernel_size: 3, groups: 1 }, [1, 5, 1])),
      /no parameter 'groups'/,
    );
    assert.match(
      errorOf(keras('Conv1DTranspose', { filters: 1, kernel_size: 3, padding: 'causal' }, [1, 5, 1])),
      /'valid' or 'same'/,
    );
  });
});

describe('keras.layers.DepthwiseConv2D and SeparableConv2D', () => {
  it('DepthwiseConv2D: C_in·depth_multiplier outputs, kernel (k..., C_in, depth_multiplier)', () => {
    // Keras docstring example: DepthwiseConv2D(3, 3) on (4, 10, 10, 12) → (4, 8, 8, 36).
    const shape = shapeOf(
      'keras.layers.DepthwiseConv2D',
      { kernel_size: 3, strides: 1, depth_multiplier: 3 },
      [4, 10, 10, 12],
    );
    assert.deepEqual(shape.output, [4, 8, 8, 36]);
    assert.deepEqual(shape.weightShape, [3, 3, 12, 3]);
    assert.equal(shape.params, 3 * 3 * 12 * 3 + 36);
  });
  it('SeparableConv2D: depthwise then pointwise to filters; params count both kernels', () => {
    // kernel 4, strides 3, padding 'valid': floor((10 − 4)/3) + 1 = 3; pointwise kernel (1, 1, 12·2, 5).
    const shape = shapeOf(
      'keras.layers.SeparableConv2D',
      { filters: 5, kernel_size: 4, strides: 3, depth_multiplier: 2 },
      [4, 10, 10, 12],
    );
    assert.deepEqual(shape.output, [4, 3, 3, 5]);
    assert.deepEqual(shape.weightShape, [4, 4, 12, 2]);
    assert.equal(shape.params, 4 * 4 * 12 * 2 + 24 * 5 + 5);
  });
});

describe('keras.layers.{Max,Average}Pooling{1,2,3}D', () => {
  // compute_pooling_output_shape: valid floor((in − pool)/s) + 1, same floor((in − 1)/s) + 1; strides default to pool_size.
  it('strides default to pool_size', () => {
    assert.deepEqual(keras('MaxPooling2D', {}, [1, 15, 16, 3]), { output: [1, 7, 8, 3] });
    assert.deepEqual(keras('AveragePooling1D', { pool_size: 3 }, [2, 10, 5]), { output: [2, 3, 5] });
  });
  it("'same': ceil(in / s); channels_first", () => {
    assert.deepEqual(
      keras(
        'MaxPooling3D',
        { pool_size: 3, strides: 2, padding: 'same', data_format: 'channels_first' },
        [1, 4, 9, 8, 7],
      ),
      { output: [1, 4, 5, 4, 4] },
    );
  });
  it('no weights, no MACs; a DimRule per spatial axis', () => {
    const shape = shapeOf('keras.layers.AveragePooling2D', { pool_size: [2, 3], strides: 1 }, [1, 6, 6, 2]);
    assert.deepEqual(shape.output, [1, 5, 4, 2]);
    assert.equal(shape.weightShape, null);
    assert.equal(shape.params, 0);
    assert.equal(shape.macs, 0);
    assert.deepEqual(shape.dims[1], {
      kind: 'window',
      kernel: 3,
      dilation: 1,
      stride: 1,
      padBegin: 0,
      padEnd: 0,
      ceilMode: false,
    });
  });
  it('refuses a valid pool larger than the input, and a zero stride', () => {
    assert.match(
      errorOf(keras('MaxPooling2D', { pool_size: 4 }, [1, 3, 8, 1])),
      /size 0 along H: the input is 3 but pool_size is 4/,
    );
    assert.match(errorOf(keras('MaxPooling1D', { pool_size: 2, strides: 0 }, [1, 8, 1])), /contains 0/);
  });
});

describe('tf.nn.conv2d_transpose', () => {
  const tf = (args: Args, input: number[]) => evaluateCase({ op: 'tf.nn.conv2d_transpose', args, input });
  // SAME: o ∈ [(i − 1)s + 1, i·s]; VALID: o ∈ [(i − 1)s + kEff, (i − 1)s + kEff + s − 1].
  it('returns output_shape when it is reachable (SAME)', () => {
    assert.deepEqual(
      tf({ filters: [3, 3, 16, 32], output_shape: [1, 14, 13, 16], strides: 2 }, [1, 7, 7, 32]),
      {
        output: [1, 14, 13, 16],
      },
    );
  });
  it('refuses an unreachable output_shape and names the valid range', () => {
    // SAME from 7 with stride 2: 13 to 14.
    assert.match(
      errorOf(tf({ filters: [3, 3, 16, 32], output_shape: [1, 15, 14, 16], strides: 2 }, [1, 7, 7, 32])),
      /asks for 15 along H.*can only give 13 to 14/,
    );
    // VALID from 7 with stride 2 and k = 3: 15 to 16.
    assert.match(
      errorOf(
        tf(
          { filters: [3, 3, 16, 32], output_shape: [1, 14, 15, 16], strides: [1, 2, 2, 1], padding: 'VALID' },
          [1, 7, 7, 32],
        ),
      ),
      /asks for 14 along H.*can only give 15 to 16/,
    );
  });
  it('VALID range accepts both ends; NCHW layout; spatial-only output_shape', () => {
    assert.deepEqual(
      tf(
        { filters: [3, 3, 16, 32], output_shape: [1, 15, 16, 16], strides: 2, padding: 'VALID' },
        [1, 7, 7, 32],
      ),
      { output: [1, 15, 16, 16] },
    );
    assert.deepEqual(
      tf(
        { filters: [3, 3, 16, 32], output_shape: [1, 16, 14, 14], strides: 2, data_format: 'NCHW' },
        [1, 32, 7, 7],
      ),
      { output: [1, 16, 14, 14] },
    );
    assert.deepEqual(tf({ filters: [3, 3, 16, 32], output_shape: [14, 14], strides: 2 }, [1, 7, 7, 32]), {
      output: [1, 14, 14, 16],
    });
  });
  it('explicit padding pairs: o ∈ [(i − 1)s + kEff − pads, … + s − 1]', () => {
    // (7 − 1)·2 + 3 − 2 = 13 to 14.
    assert.deepEqual(
      tf(
        {
          filters: [3, 3, 16, 32],
          output_shape: [1, 13, 14, 16],
          strides: 2,
          padding: [
            [0, 0],
            [1, 1],
            [1, 1],
            [0, 0],
          ],
        },
        [1, 7, 7, 32],
      ),
      { output: [1, 13, 14, 16] },
    );
  });
  it('checks channels against the filter shape and the padding spelling', () => {
    assert.match(
      errorOf(tf({ filters: [3, 3, 16, 32], output_shape: [1, 14, 14, 16], strides: 2 }, [1, 7, 7, 8])),
      /input has 8 channels but filters \(3, 3, 16, 32\) expects 32/,
    );
    assert.match(
      errorOf(tf({ filters: [3, 3, 16, 32], output_shape: [1, 14, 14, 8], strides: 2 }, [1, 7, 7, 32])),
      /has 8 channels, but filters .* produces 16/,
    );
    assert.match(
      errorOf(
        tf(
          { filters: [3, 3, 16, 32], output_shape: [1, 14, 14, 16], strides: 2, padding: 'same' },
          [1, 7, 7, 32],
        ),
      ),
      /upper case: 'SAME'/,
    );
    assert.match(errorOf(tf({ filters: [3, 3, 16, 32], strides: 2 }, [1, 7, 7, 32])), /needs 'output_shape'/);
  });
  it('framework is tensorflow, and the 1-D / 3-D forms exist', () => {
    assert.equal(layerByQualifiedName('tf.nn.conv2d_transpose')?.framework, 'tensorflow');
    assert.deepEqual(
      evaluateCase({
        op: 'tf.nn.conv1d_transpose',
        args: { filters: [4, 2, 3], output_shape: [1, 20, 2], strides: 2 },
        input: [1, 10, 3],
      }),
      { output: [1, 20, 2] },
    );
  });
});

describe('Keras / TensorFlow bad input returns an error, never throws', () => {
  const bad: Array<[string, Args, number[]]> = [
    ['keras.layers.Conv2D', { filters: 0, kernel_size: 3 }, [1, 9, 9, 3]],
    ['keras.layers.Conv2D', { filters: 4, kernel_size: 0 }, [1, 9, 9, 3]],
    ['keras.layers.Conv2D', { filters: 4, kernel_size: [3, 3, 3] }, [1, 9, 9, 3]],
    ['keras.layers.Conv2D', { filters: 4, kernel_size: 'x' }, [1, 9, 9, 3]],
    ['keras.layers.Conv2D', { filters: 4, kernel_size: 3, strides: -1 }, [1, 9, 9, 3]],
    ['keras.layers.Conv2D', { filters: 4, kernel_size: 3, padding: 'full' }, [1, 9, 9, 3]],
    ['keras.layers.Conv2D', { filters: 4, kernel_size: 3, groups: 0 }, [1, 9, 9, 3]],
    ['keras.layers.Conv2D', { filters: 4, kernel_size: 3 }, [1, 9, 9, 0]],
    ['keras.layers.Conv2D', { filters: 4, kernel_size: 3 }, [1, 2 ** 40, 9, 3]],
    ['keras.layers.Conv2D', { filters: 4.5, kernel_size: 3 }, [1, 9, 9, 3]],
    ['keras.layers.Conv2DTranspose', { filters: 4, kernel_size: 3, output_padding: -1 }, [1, 9, 9, 3]],
    ['keras.layers.Conv2DTranspose', { filters: 4, kernel_size: 3 }, [1, 0, 9, 3]],
    ['keras.layers.Conv2DTranspose', { filters: 4, kernel_size: 3 }, [9, 9, 3]],
    ['keras.layers.MaxPooling2D', { pool_size: [2, 2, 2] }, [1, 9, 9, 3]],
    ['keras.layers.MaxPooling2D', { padding: null }, [1, 9, 9, 3]],
    ['keras.layers.DepthwiseConv2D', { kernel_size: 3, depth_multiplier: 0 }, [1, 9, 9, 3]],
    ['keras.layers.SeparableConv2D', { filters: 2, kernel_size: 3, padding: 'causal' }, [1, 9, 9, 3]],
    [
      'tf.nn.conv2d_transpose',
      { filters: [3, 3, 16], output_shape: [1, 14, 14, 16], strides: 2 },
      [1, 7, 7, 32],
    ],
    [
      'tf.nn.conv2d_transpose',
      { filters: [3, 3, 16, 32], output_shape: [2, 14, 14, 16], strides: 2 },
      [1, 7, 7, 32],
    ],
    [
      'tf.nn.conv2d_transpose',
      { filters: [3, 3, 16, 32], output_shape: [1, 14, 14, 16], strides: [2, 2, 2] },
      [1, 7, 7, 32],
    ],
    [
      'tf.nn.conv2d_transpose',
      { filters: [3, 3, 16, 32], output_shape: [1, 14, 14, 16], strides: [2, 2, 2, 2] },
      [1, 7, 7, 32],
    ],
    [
      'tf.nn.conv2d_transpose',
      { filters: [3, 3, 16, 32], output_shape: [1, 14, 14, 16], strides: 2, data_format: 'NWC' },
      [1, 7, 7, 32],
    ],
    [
      'tf.nn.conv2d_transpose',
      { filters: [3, 3, 16, 32], output_shape: [1, 14, 14, 16], strides: 2 },
      [1, 0, 7, 32],
    ],
  ];
  for (const [op, args, input] of bad) {
    it(`${op} ${JSON.stringify(args)} on ${JSON.stringify(input)}`, () => {
      let answer: ReturnType<typeof evaluateCase> | undefined;
      assert.doesNotThrow(() => (answer = evaluateCase({ op, args, input })));
      assert.ok(answer && 'error' in answer && answer.error.length > 0, JSON.stringify(answer));
    });
  }
});
