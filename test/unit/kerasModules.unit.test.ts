/**
 * Keras 3 layers around the convs (src/core/arithmetic/kerasModules.ts). Expected values follow each layer's
 * compute_output_shape and build in keras/src/layers (dense.py, reshaping/*.py, normalization/*.py,
 * pooling/base_global_pooling.py, merging/*.py) and compute_reshape_output_shape in
 * keras/src/ops/operation_utils.py. The batch dimension is usually None; it stays None.
 */
import * as assert from 'node:assert/strict';
import { bindArguments } from '../../src/core/arithmetic/args';
import { kerasModuleLayers, kerasPassThroughFunctions } from '../../src/core/arithmetic/kerasModules';
import { layerByQualifiedName, resolveLayerName } from '../../src/core/arithmetic/registry';
import type { PyValue } from '../../src/core/arithmetic/types';
import { type Dim, isMultiInputLayer, isTensorLayer, type TensorLayerShape } from '../../src/core/tensor/ops';

type Args = Record<string, PyValue>;

function run(name: string, args: Args, input: Dim[], positional: PyValue[] = []) {
  const def = layerByQualifiedName(`keras.layers.${name}`);
  assert.ok(def && isTensorLayer(def), `keras.layers.${name} is registered`);
  const bound = bindArguments(def.name, def.params, positional, args);
  if (!bound.ok) return bound;
  return def.inferTensor(bound.value, input);
}

function shape(name: string, args: Args, input: Dim[], positional: PyValue[] = []): TensorLayerShape {
  const answer = run(name, args, input, positional);
  assert.ok(answer.ok, answer.ok ? '' : answer.error);
  return answer.value as TensorLayerShape;
}

const out = (name: string, args: Args, input: Dim[], positional: PyValue[] = []) =>
  shape(name, args, input, positional).output;

function error(name: string, args: Args, input: Dim[], positional: PyValue[] = []): string {
  let answer: ReturnType<typeof run> | undefined;
  assert.doesNotThrow(() => {
    answer = run(name, args, input, positional);
  });
  assert.ok(answer && !answer.ok, `expected an error, got ${JSON.stringify(answer)}`);
  return answer.error;
}

function many(name: string, args: Args, inputs: Dim[][]) {
  const def = layerByQualifiedName(`keras.layers.${name}`);
  assert.ok(def && isMultiInputLayer(def), `keras.layers.${name} takes several inputs`);
  const bound = bindArguments(def.name, def.params, [], args);
  assert.ok(bound.ok);
  return def.inferMany(bound.value, inputs);
}

function manyOut(name: string, args: Args, inputs: Dim[][]): Dim[] {
  const answer = many(name, args, inputs);
  assert.ok(answer.ok, answer.ok ? '' : answer.error);
  return answer.value.output;
}

function manyError(name: string, args: Args, inputs: Dim[][]): string {
  const answer = many(name, args, inputs);
  assert.ok(!answer.ok, `expected an error, got ${JSON.stringify(answer)}`);
  return answer.error;
}

describe('keras.layers.Dense (kernel (input_dim, units), InputSpec(min_ndim=2))', () => {
  it('maps the last axis and counts weights', () => {
    const s = shape('Dense', {}, [null, 3136], [10]);
    assert.deepEqual(s.output, [null, 10]);
    assert.deepEqual(s.weightShape, [3136, 10]);
    assert.equal(s.params, 31370);
    assert.equal(s.macs, null);
    assert.equal(shape('Dense', { units: 10 }, [4, 3136]).macs, 4 * 3136 * 10);
    assert.deepEqual(out('Dense', { units: 8, use_bias: false }, [null, 5, 16]), [null, 5, 8]);
    assert.equal(shape('Dense', { units: 8, use_bias: false }, [null, 16]).params, 128);
  });

  it('refuses bad units, a 1-D input and an undefined last axis', () => {
    assert.match(error('Dense', { units: 0 }, [null, 4]), /units must be a positive integer, got 0/);
    assert.match(error('Dense', { units: 4 }, [null]), /at least 2-D input/);
    assert.match(error('Dense', { units: 4 }, [null, null]), /last dimension of its input must be defined/);
  });

  it('notes a Dense on an unflattened feature map', () => {
    assert.match(shape('Dense', { units: 4 }, [null, 7, 7, 64]).notes.join(' '), /Flatten\(\)/);
  });
});

describe('reshaping layers', () => {
  it('Flatten: (batch, …) → (batch, product)', () => {
    assert.deepEqual(out('Flatten', {}, [null, 7, 7, 64]), [null, 3136]);
    assert.deepEqual(out('Flatten', {}, [null, null, 64]), [null, null]);
    assert.deepEqual(out('Flatten', {}, [null]), [null, 1]);
  });

  // compute_reshape_output_shape over the non-batch axes.
  it('Reshape infers -1 from the non-batch elements', () => {
    assert.deepEqual(out('Reshape', { target_shape: [7, 7, 64] }, [null, 3136]), [null, 7, 7, 64]);
    assert.deepEqual(out('Reshape', { target_shape: [-1, 64] }, [null, 7, 7, 64]), [null, 49, 64]);
    assert.deepEqual(out('Reshape', { target_shape: [-1, 64] }, [null, null, 64]), [null, null, 64]);
    assert.match(
      error('Reshape', { target_shape: [7, 7, 32] }, [null, 3136]),
      /3136 elements per sample.*1568 elements/,
    );
    assert.match(error('Reshape', { target_shape: [-1, 100] }, [null, 3136]), /not divisible by 100/);
    assert.match(error('Reshape', { target_shape: [-1, -1] }, [null, 4]), /at most one can be inferred/);
    assert.match(error('Reshape', { target_shape: [-2] }, [null, 4]), /non-negative integer, or -1/);
  });

  it('Permute is 1-indexed and keeps the batch axis', () => {
    assert.deepEqual(out('Permute', { dims: [2, 1] }, [null, 10, 64]), [null, 64, 10]);
    assert.deepEqual(out('Permute', { dims: [3, 1, 2] }, [null, 28, 28, 3]), [null, 3, 28, 28]);
    assert.match(error('Permute', { dims: [0, 1] }, [null, 10, 64]), /permutation of 1…n/);
    assert.match(error('Permute', { dims: [2, 1] }, [null, 10, 64, 3]), /3-D input/);
  });

  it('RepeatVector: (batch, features) → (batch, n, features)', () => {
    assert.deepEqual(out('RepeatVector', { n: 3 }, [null, 32]), [null, 3, 32]);
    assert.match(error('RepeatVector', { n: 3 }, [null, 4, 32]), /2-D input/);
  });

  it('UpSampling{1,2,3}D multiply the spatial sizes', () => {
    assert.deepEqual(out('UpSampling1D', { size: 3 }, [null, 10, 4]), [null, 30, 4]);
    assert.deepEqual(out('UpSampling2D', {}, [null, 14, 14, 8]), [null, 28, 28, 8]);
    assert.deepEqual(
      out('UpSampling2D', { size: [2, 3], data_format: 'channels_first' }, [null, 8, 14, 14]),
      [null, 8, 28, 42],
    );
    assert.deepEqual(out('UpSampling3D', {}, [2, 2, 3, 4, 1]), [2, 4, 6, 8, 1]);
    assert.deepEqual(out('UpSampling2D', {}, [null, null, 14, 8]), [null, null, 28, 8]);
    assert.match(error('UpSampling2D', { size: [2, 0] }, [null, 4, 4, 1]), /size must be > 0/);
    assert.match(
      error('UpSampling2D', { interpolation: 'cubic' }, [null, 4, 4, 1]),
      /interpolation must be one of/,
    );
    assert.match(error('UpSampling2D', {}, [null, 4, 4]), /4-D input/);
  });

  it('ZeroPadding and Cropping accept an int, per-axis ints or (begin, end) pairs', () => {
    assert.deepEqual(out('ZeroPadding2D', {}, [null, 28, 28, 1]), [null, 30, 30, 1]);
    assert.deepEqual(
      out(
        'ZeroPadding2D',
        {
          padding: [
            [1, 2],
            [3, 4],
          ],
        },
        [null, 28, 28, 1],
      ),
      [null, 31, 35, 1],
    );
    assert.deepEqual(out('ZeroPadding2D', { padding: [2, 1] }, [null, 28, 28, 1]), [null, 32, 30, 1]);
    assert.deepEqual(out('ZeroPadding1D', { padding: [1, 2] }, [null, 10, 3]), [null, 13, 3]);
    assert.deepEqual(out('ZeroPadding3D', { padding: 1 }, [null, 4, 4, 4, 2]), [null, 6, 6, 6, 2]);
    assert.deepEqual(
      out(
        'Cropping2D',
        {
          cropping: [
            [2, 2],
            [4, 4],
          ],
        },
        [2, 28, 28, 3],
      ),
      [2, 24, 20, 3],
    );
    assert.deepEqual(out('Cropping1D', {}, [null, 10, 3]), [null, 8, 3]);
    assert.deepEqual(out('Cropping2D', { cropping: 1, data_format: 'channels_first' }, [null, 3, 8, 8]), [
      null,
      3,
      6,
      6,
    ]);
    assert.match(
      error(
        'Cropping2D',
        {
          cropping: [
            [14, 14],
            [0, 0],
          ],
        },
        [null, 28, 28, 3],
      ),
      /must leave something of the input size 28/,
    );
    assert.match(error('ZeroPadding2D', { padding: -1 }, [null, 4, 4, 1]), /cannot be negative/);
    assert.match(error('ZeroPadding2D', { padding: [1, 2, 3] }, [null, 4, 4, 1]), /tuple of 2/);
  });

  it('global pooling drops the spatial axes (or keeps them as 1)', () => {
    assert.deepEqual(out('GlobalAveragePooling2D', {}, [null, 7, 7, 512]), [null, 512]);
    assert.deepEqual(out('GlobalMaxPool2D', { keepdims: true }, [null, 7, 7, 512]), [null, 1, 1, 512]);
    assert.deepEqual(out('GlobalAvgPool1D', { data_format: 'channels_first' }, [null, 64, 10]), [null, 64]);
    assert.deepEqual(out('GlobalMaxPooling3D', {}, [2, 3, 3, 3, 8]), [2, 8]);
    assert.match(error('GlobalAveragePooling2D', {}, [null, 512]), /4-D input/);
  });
});

describe('activations and regularisation', () => {
  it('keep the shape and validate their arguments', () => {
    assert.deepEqual(out('ReLU', {}, [null, 4]), [null, 4]);
    assert.deepEqual(out('Activation', { activation: 'relu' }, [null, 4]), [null, 4]);
    assert.deepEqual(out('LeakyReLU', { alpha: 0.2 }, [null, 4]), [null, 4]);
    assert.match(error('ReLU', { max_value: -1 }, [null, 4]), /max_value must be at least 0/);
    assert.match(
      error('LeakyReLU', { negative_slope: -0.1 }, [null, 4]),
      /negative_slope must be at least 0/,
    );
    assert.match(error('Softmax', { axis: 3 }, [null, 4]), /axis 3 is out of range for a 2-D tensor/);
    assert.deepEqual(out('Softmax', { axis: [1, 2] }, [null, 4, 5]), [null, 4, 5]);
  });

  it('PReLU learns one slope per element unless axes are shared', () => {
    assert.equal(shape('PReLU', {}, [null, 8, 8, 16]).params, 1024);
    assert.equal(shape('PReLU', { shared_axes: [1, 2] }, [null, 8, 8, 16]).params, 16);
    assert.deepEqual(shape('PReLU', { shared_axes: [1, 2] }, [null, 8, 8, 16]).weightShape, [1, 1, 16]);
    assert.equal(shape('PReLU', {}, [null, null, 16]).params, null);
    assert.match(error('PReLU', { shared_axes: [0] }, [null, 4]), /batch axis 0 cannot be shared/);
  });

  it('dropout rates lie in [0, 1]; SpatialDropout checks the rank', () => {
    assert.deepEqual(out('Dropout', { rate: 0.5 }, [null, 4]), [null, 4]);
    assert.match(error('Dropout', { rate: 1.5 }, [null, 4]), /rate must be a float between 0 and 1, got 1.5/);
    assert.deepEqual(out('SpatialDropout2D', { rate: 0.2 }, [null, 8, 8, 3]), [null, 8, 8, 3]);
    assert.match(error('SpatialDropout1D', { rate: 0.2 }, [null, 8, 8, 3]), /3-D input/);
    assert.match(error('Dropout', {}, [null, 4]), /needs 'rate'/);
  });
});

describe('normalisation layers', () => {
  it('BatchNormalization: gamma and beta trainable, moving statistics noted', () => {
    const s = shape('BatchNormalization', {}, [null, 28, 28, 64]);
    assert.equal(s.params, 128);
    assert.deepEqual(s.weightShape, [64]);
    assert.match(s.notes.join(' '), /model.summary\(\) counts 256/);
    assert.equal(shape('BatchNormalization', { axis: 1 }, [null, 32, 8, 8]).params, 64);
    assert.equal(shape('BatchNormalization', { center: false }, [null, 10]).params, 10);
    assert.match(
      error('BatchNormalization', {}, [null, 4, null]),
      /axis 2 of the input must have a defined size/,
    );
    assert.match(error('BatchNormalization', { axis: 4 }, [null, 4, 4]), /axis 4 is out of range/);
  });

  it('LayerNormalization over one or several axes', () => {
    assert.equal(shape('LayerNormalization', {}, [null, 10, 64]).params, 128);
    assert.equal(shape('LayerNormalization', { axis: [1, 2] }, [null, 10, 64]).params, 1280);
    assert.equal(shape('LayerNormalization', { rms_scaling: true }, [null, 10, 64]).params, 64);
  });

  it('GroupNormalization: groups must divide the channels', () => {
    assert.equal(shape('GroupNormalization', { groups: 8 }, [null, 8, 8, 64]).params, 128);
    assert.equal(shape('GroupNormalization', { groups: -1 }, [null, 8, 8, 6]).params, 12);
    assert.match(
      error('GroupNormalization', {}, [null, 8, 8, 16]),
      /groups \(32\) cannot be more than the number of channels \(16\)/,
    );
    assert.match(
      error('GroupNormalization', { groups: 5 }, [null, 8, 8, 64]),
      /channels \(64\) must be divisible by groups \(5\)\. Valid groups: 1, 2, 4, 8, 16, 32, 64/,
    );
  });
});

describe('Embedding', () => {
  it('appends output_dim; embeddings (input_dim, output_dim)', () => {
    const s = shape('Embedding', { input_dim: 1000, output_dim: 64 }, [null, 10]);
    assert.deepEqual(s.output, [null, 10, 64]);
    assert.equal(s.params, 64000);
    assert.match(
      error('Embedding', { input_dim: 0, output_dim: 4 }, [null, 10]),
      /input_dim must be at least 1/,
    );
  });
});

describe('merge layers (inferMany)', () => {
  it('Concatenate adds sizes along axis; the other axes must match', () => {
    assert.deepEqual(
      manyOut('Concatenate', {}, [
        [null, 8, 8, 32],
        [null, 8, 8, 64],
      ]),
      [null, 8, 8, 96],
    );
    assert.deepEqual(
      manyOut('Concatenate', { axis: 1 }, [
        [null, 2, 5],
        [null, 3, 5],
        [null, 4, 5],
      ]),
      [null, 9, 5],
    );
    assert.deepEqual(
      manyOut('Concatenate', {}, [
        [null, 8, 8, 32],
        [null, 8, 8, null],
      ]),
      [null, 8, 8, null],
    );
    assert.match(
      manyError('Concatenate', {}, [
        [null, 8, 8, 32],
        [null, 4, 4, 64],
      ]),
      /matching shapes except for the concatenation axis 3.*differ on axis 1 \(8 vs 4\)/,
    );
    assert.match(
      manyError('Concatenate', {}, [
        [null, 8],
        [null, 8, 1],
      ]),
      /same rank/,
    );
    assert.match(manyError('Concatenate', {}, []), /at least 1 input/);
  });

  it('Add / Multiply / Average / Maximum broadcast like _Merge', () => {
    assert.deepEqual(
      manyOut('Add', {}, [
        [null, 8, 8, 32],
        [null, 8, 8, 32],
      ]),
      [null, 8, 8, 32],
    );
    assert.deepEqual(
      manyOut('Multiply', {}, [
        [null, 8, 8, 32],
        [null, 1, 1, 32],
      ]),
      [null, 8, 8, 32],
    );
    assert.deepEqual(
      manyOut('Add', {}, [
        [4, 8],
        [null, 8],
      ]),
      [4, 8],
    );
    assert.deepEqual(
      manyOut('Average', {}, [
        [null, 8],
        [null, null],
      ]),
      [null, null],
    );
    assert.deepEqual(
      manyOut('Maximum', {}, [
        [null, 5, 8],
        [null, 8],
      ]),
      [null, 5, 8],
    );
    assert.match(
      manyError('Add', {}, [
        [null, 8, 8, 32],
        [null, 8, 8, 64],
      ]),
      /cannot add inputs of shapes \(None, 8, 8, 32\) and \(None, 8, 8, 64\): 32 vs 64/,
    );
    assert.match(
      manyError('Add', {}, [
        [2, 8],
        [3, 8],
      ]),
      /different batch sizes/,
    );
  });

  it('Subtract and Dot take exactly two inputs', () => {
    assert.deepEqual(
      manyOut('Subtract', {}, [
        [null, 4],
        [null, 4],
      ]),
      [null, 4],
    );
    assert.match(
      manyError('Subtract', {}, [
        [null, 4],
        [null, 4],
        [null, 4],
      ]),
      /exactly 2 inputs, got 3/,
    );
    assert.deepEqual(
      manyOut('Dot', { axes: 1 }, [
        [null, 5],
        [null, 5],
      ]),
      [null, 1],
    );
    assert.deepEqual(
      manyOut('Dot', { axes: [2, 1] }, [
        [null, 3, 5],
        [null, 5, 4],
      ]),
      [null, 3, 4],
    );
    assert.match(
      manyError('Dot', { axes: 1 }, [
        [null, 5],
        [null, 6],
      ]),
      /same size/,
    );
  });

  it('a single tensor is refused with a hint to pass a list', () => {
    const def = layerByQualifiedName('keras.layers.Concatenate')!;
    const answer = def.infer({ axis: -1 }, [1, 4]);
    assert.ok(!answer.ok && /list of inputs.*Concatenate\(\)\(\[a, b\]\)/.test(answer.error));
  });
});

describe('registry and robustness', () => {
  it('short names resolve to Keras', () => {
    assert.equal(resolveLayerName('layers.Dense')[0]?.name, 'keras.layers.Dense');
    assert.equal(
      resolveLayerName('tf.keras.layers.BatchNormalization')[0]?.name,
      'keras.layers.BatchNormalization',
    );
    assert.ok(kerasPassThroughFunctions.includes('keras.activations.relu'));
  });

  it('every layer refuses absurd input without throwing', () => {
    for (const def of kerasModuleLayers) {
      assert.ok(isTensorLayer(def));
      const args = Object.fromEntries(
        def.params.map((p) => [p.name, p.default === undefined ? 2 : p.default]),
      );
      for (const input of [[-1, 3], [1.5], ['a'], 'x', [2 ** 60, 2]] as unknown[]) {
        assert.doesNotThrow(() => {
          const answer = def.inferTensor(args, input as Dim[]);
          assert.ok(!answer.ok, `${def.name} accepted ${JSON.stringify(input)}`);
        }, def.name);
        if (isMultiInputLayer(def)) {
          assert.doesNotThrow(() => assert.ok(!def.inferMany(args, [input as Dim[], [2, 2]]).ok));
          assert.doesNotThrow(() => assert.ok(!def.inferMany(args, 'x' as unknown as Dim[][]).ok));
        }
      }
      for (const p of def.params.filter((q) => !q.keywordOnly)) {
        for (const bad of [-5, 'x', [1, 'a'], 1e300, null, [[[]]]]) {
          assert.doesNotThrow(
            () => def.inferTensor({ ...args, [p.name]: bad }, [2, 4, 4, 4]),
            `${def.name} ${p.name}`,
          );
        }
      }
    }
  });
});
